//! From parsed layer records to model layers: groups folded into their children, limits
//! checked, then every layer's channels decoded in parallel.

use rayon::prelude::*;

use super::PsdError;
use super::channels::{check_plausible, decode_layer_channel};
use super::color::{self, ColorMode, Plane};
use super::reader::Header;
use super::records::{Kind, Record};
use crate::io::Limits;
use crate::model::pixels::unit;
use crate::model::{BlendMode, Document, Offset, RgbaImage};

/// Turns the planned pixel records into a document. Sizes are checked against `limits` and
/// channel lengths against the layer rectangles for all layers before any is decoded.
pub fn build(
    header: &Header,
    records: &[Record<'_>],
    planned: &[Planned],
    limits: &Limits,
) -> Result<Document, PsdError> {
    let mut total = 0u64;
    for plan in planned {
        let record = &records[plan.index];
        let (w, h) = (u64::from(record.width), u64::from(record.height));
        limits.check_size("layer", w, h)?;
        total += w * h * 4;
        limits.check_total(total)?;
        check_channels(record, header, &format!("layer record {}", plan.index))?;
    }
    let images: Vec<RgbaImage> = planned
        .par_iter()
        .map(|plan| {
            let record = &records[plan.index];
            let context = format!("layer record {} ('{}')", plan.index, record.name);
            decode_pixels(record, header, &context)
        })
        .collect::<Result<_, _>>()?;

    let mut doc = Document::new(header.width, header.height);
    for (plan, image) in planned.iter().zip(images) {
        let record = &records[plan.index];
        let layer = doc.push_layer(record.name.clone(), image);
        layer.offset = Offset::new(record.left, record.top);
        layer.visible = plan.visible;
        layer.opacity = plan.opacity;
        layer.fill_opacity = unit(record.fill_opacity);
        layer.locked = record.locked;
        layer.blend = blend_mode(record);
        if layer.blend == BlendMode::HardMix && record.fill_opacity < u8::MAX {
            tracing::warn!(
                "layer '{}': hard mix at reduced fill is drawn as reduced opacity; \
                 Photoshop draws it differently",
                layer.name
            );
        }
    }
    Ok(doc)
}

/// A pixel layer to create, with visibility and opacity inherited from its groups.
pub struct Planned {
    index: usize,
    visible: bool,
    opacity: f32,
}

/// Keeps the pixel records (bottom first) and folds group properties into them. Records are
/// bottom-first and a group's folder record comes after its children, so we walk top-down:
/// a folder opens a group, its divider closes it.
pub fn flatten_groups(records: &[Record<'_>]) -> Vec<Planned> {
    let mut groups: Vec<(bool, f32)> = Vec::new();
    let mut planned = Vec::new();
    for (index, record) in records.iter().enumerate().rev() {
        let (parent_visible, parent_opacity) = groups.last().copied().unwrap_or((true, 1.0));
        let visible = parent_visible && !record.hidden;
        let opacity = parent_opacity * unit(record.opacity);
        match record.kind {
            Kind::Folder => groups.push((visible, opacity)),
            Kind::Divider => {
                if groups.pop().is_none() {
                    tracing::warn!("group end marker (record {index}) without a group; ignored");
                }
            }
            Kind::Pixels => planned.push(Planned {
                index,
                visible,
                opacity,
            }),
        }
    }
    planned.reverse();
    planned
}

fn blend_mode(record: &Record<'_>) -> BlendMode {
    BlendMode::from_psd_key(record.blend_key).unwrap_or_else(|| {
        let key = String::from_utf8_lossy(&record.blend_key);
        tracing::warn!(
            "layer '{}': blend mode '{key}' is not supported; using Normal",
            record.name
        );
        BlendMode::Normal
    })
}

/// Refuses, before allocating, a layer whose pixel channels are missing or too short to
/// hold its rectangle. `context` names the record in errors.
fn check_channels(record: &Record<'_>, header: &Header, context: &str) -> Result<(), PsdError> {
    let (w, h) = (u64::from(record.width), u64::from(record.height));
    if w * h == 0 {
        return Ok(());
    }
    let mut used = record
        .channels
        .iter()
        .filter(|c| channel_target(header.mode, c.id).is_some())
        .peekable();
    if used.peek().is_none() {
        let what = format!("{context}: {w}×{h} layer without colour or transparency channels");
        return Err(PsdError::corrupt(what));
    }
    for channel in used {
        check_plausible(&channel.data, w, h, header.layout())
            .map_err(|e| e.within(&format!("{context} channel {}", channel.id)))?;
    }
    Ok(())
}

/// Where a channel goes: colour channel `n` of the mode, or transparency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Color(usize),
    Alpha,
}

/// The target of a channel id, or `None` for channels we skip (user masks, spot colours).
fn channel_target(mode: ColorMode, id: i16) -> Option<Target> {
    match id {
        -1 => Some(Target::Alpha),
        0.. if (id as usize) < mode.color_channels() => Some(Target::Color(id as usize)),
        _ => None,
    }
}

/// Decodes a record's channels into straight RGBA, converted from the file's colour mode
/// and depth (see `color`). Layers without a transparency channel (-1) are opaque; user
/// masks (-2, -3) and spot channels are skipped by their lengths.
fn decode_pixels(
    record: &Record<'_>,
    header: &Header,
    context: &str,
) -> Result<RgbaImage, PsdError> {
    let (width, height) = (record.width, record.height);
    if width == 0 || height == 0 {
        return Ok(RgbaImage::new(width, height));
    }
    let (w, h) = (width as usize, height as usize);
    let layout = header.layout();
    let mut planes: Vec<Option<Vec<u8>>> = vec![None; header.mode.color_channels()];
    let mut alpha = None;
    for channel in &record.channels {
        let Some(target) = channel_target(header.mode, channel.id) else {
            continue;
        };
        let stored = decode_layer_channel(channel.data.clone(), w, h, layout)
            .map_err(|e| e.within(&format!("{context} channel {}", channel.id)))?;
        match target {
            Target::Color(c) => {
                planes[c] = Some(color::to_8bit(&stored, layout.depth, w, Plane::Color))
            }
            Target::Alpha => alpha = Some(color::to_8bit(&stored, layout.depth, w, Plane::Alpha)),
        }
    }
    Ok(color::assemble(
        header.mode,
        &planes,
        alpha.as_deref(),
        &header.palette,
        width,
        height,
    ))
}
