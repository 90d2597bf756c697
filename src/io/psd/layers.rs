//! From parsed layer records to the model: the group tree found, limits checked, then every
//! layer's channels and mask decoded in parallel.

use rayon::prelude::*;

use super::PsdError;
use super::channels::{check_plausible, decode_layer_channel};
use super::color::{self, ColorMode, Plane};
use super::effects::Context;
use super::reader::Header;
use super::records::{Kind, Record};
use crate::io::Limits;
use crate::model::pixels::unit;
use image::GrayImage;

use super::vector_mask;
use crate::model::effects::{GroupEffects, LayerEffects};
use crate::model::{BBox, BlendMode, Document, Group, Kept, LayerId, Mask, Offset, RgbaImage};

/// Deepest nesting of groups kept as groups. Photoshop itself allows 10 levels; deeper
/// folders in a file (a crafted one) are folded into their members as the reader did before
/// it had groups: a hidden one hides them, its opacity multiplies theirs.
pub const MAX_GROUP_DEPTH: usize = 64;

/// The records to create, found by [`plan_tree`]: pixel layers bottom-first and groups
/// parents-first, each with the group (an index into `groups`) it belongs to.
pub struct Tree {
    layers: Vec<Planned>,
    groups: Vec<Planned>,
    /// How many folders lay deeper than [`MAX_GROUP_DEPTH`] and were folded.
    pub folded: usize,
}

impl Tree {
    /// True when the file has no pixel layers (its composite is then the picture).
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }
}

/// One record to turn into a layer or a group, with what folded folders above it say.
struct Planned {
    index: usize,
    parent: Option<usize>,
    visible: bool,
    opacity: f32,
    /// An empty layer standing in for the members of an artboard that has none (`index`
    /// is then its folder's record): the model keeps no empty group, and Photoshop draws
    /// an empty artboard's background.
    placeholder: bool,
}

/// One open folder during the walk: the group its members join (itself, or for a folded
/// folder the group above it) and the visibility and opacity folded into them.
#[derive(Clone, Copy)]
struct Open {
    parent: Option<usize>,
    visible: bool,
    opacity: f32,
    real: bool,
    /// The folder's record, and how many layers were planned when it opened.
    folder: usize,
    layers_before: usize,
}

/// Finds the tree the records describe. Records are bottom-first and a group's folder
/// record comes after its children, so the walk goes top-down with an explicit stack (no
/// recursion, whatever the depth): a folder opens a group, its divider closes it. A
/// divider with no open group is ignored; a folder never closed holds everything below it.
pub fn plan_tree(records: &[Record<'_>]) -> Tree {
    let mut open: Vec<Open> = Vec::new();
    let mut depth = 0usize;
    let mut tree = Tree {
        layers: Vec::new(),
        groups: Vec::new(),
        folded: 0,
    };
    for (index, record) in records.iter().enumerate().rev() {
        let here = open.last().copied().unwrap_or(Open {
            parent: None,
            visible: true,
            opacity: 1.0,
            real: true,
            folder: index,
            layers_before: 0,
        });
        let planned = Planned {
            index,
            parent: here.parent,
            visible: here.visible,
            opacity: here.opacity,
            placeholder: false,
        };
        match record.kind {
            Kind::Folder if depth < MAX_GROUP_DEPTH => {
                tree.groups.push(planned);
                depth += 1;
                open.push(Open {
                    parent: Some(tree.groups.len() - 1),
                    real: true,
                    folder: index,
                    layers_before: tree.layers.len(),
                    ..here
                });
            }
            Kind::Folder => {
                tree.folded += 1;
                open.push(Open {
                    parent: here.parent,
                    visible: here.visible && !record.hidden,
                    opacity: here.opacity * unit(record.opacity),
                    real: false,
                    folder: index,
                    layers_before: tree.layers.len(),
                });
            }
            Kind::Divider => match open.pop() {
                Some(closed) => {
                    depth -= usize::from(closed.real);
                    let empty = tree.layers.len() == closed.layers_before;
                    if closed.real && empty && is_artboard(&records[closed.folder]) {
                        tree.layers.push(Planned {
                            index: closed.folder,
                            parent: closed.parent,
                            visible: true,
                            opacity: 1.0,
                            placeholder: true,
                        });
                    }
                }
                None => {
                    tracing::warn!("group end marker (record {index}) without a group; ignored")
                }
            },
            Kind::Pixels => tree.layers.push(planned),
        }
    }
    tree.layers.reverse();
    tree
}

/// True when the record holds an artboard block (see `super::artboard`).
fn is_artboard(record: &Record<'_>) -> bool {
    super::artboard::find(&record.kept).is_some()
}

/// Turns the planned records into a document, with its groups, masks and clipping. Sizes
/// are checked against `limits` and channel lengths against the layer and mask rectangles
/// for all records before any is decoded. Returns how many empty groups were dropped (the
/// model keeps none, see [`crate::model::tree`]).
pub fn build(
    header: &Header,
    records: &[Record<'_>],
    tree: &Tree,
    limits: &Limits,
    effects: &Context<'_>,
) -> Result<(Document, usize), PsdError> {
    let mut total = 0u64;
    for plan in &tree.layers {
        let record = &records[plan.index];
        let (w, h) = if super::fill_layer::fills_canvas(record) {
            // An empty fill layer is drawn over the whole canvas.
            (u64::from(header.width), u64::from(header.height))
        } else {
            (u64::from(record.width), u64::from(record.height))
        };
        limits.check_size("layer", w, h)?;
        total += w * h * 4;
        limits.check_total(total)?;
        check_channels(record, header, &format!("layer record {}", plan.index))?;
    }
    for plan in tree.layers.iter().chain(&tree.groups) {
        let record = &records[plan.index];
        if let Some((w, h)) = record.mask.and_then(|m| m.mask.size()) {
            limits.check_size("layer mask", u64::from(w), u64::from(h))?;
            total += u64::from(w) * u64::from(h);
            limits.check_total(total)?;
        }
    }
    let images: Vec<(RgbaImage, Option<Mask>)> = tree
        .layers
        .par_iter()
        .map(|plan| {
            let record = &records[plan.index];
            let context = format!("layer record {} ('{}')", plan.index, record.name);
            if plan.placeholder {
                return Ok((RgbaImage::new(0, 0), None));
            }
            let layer_area = BBox::at(
                i64::from(record.left),
                i64::from(record.top),
                i64::from(record.width),
                i64::from(record.height),
            );
            let mut pixels = decode_pixels(record, header, &context)?;
            if super::fill_layer::fills_canvas(record)
                && let Some(fill) =
                    super::fill_layer::render(&record.kept, header.width, header.height)
            {
                pixels = fill;
            }
            Ok((
                pixels,
                any_mask(record, header, layer_area, limits, &context)?,
            ))
        })
        .collect::<Result<_, PsdError>>()?;

    let mut doc = Document::new(header.width, header.height);
    let mut group_ids: Vec<LayerId> = Vec::with_capacity(tree.groups.len());
    for plan in &tree.groups {
        let record = &records[plan.index];
        let context = format!("group record {} ('{}')", plan.index, record.name);
        let mut group = Group::new(doc.allocate_id(), record.name.clone());
        group.visible = plan.visible && !record.hidden;
        group.opacity = plan.opacity * unit(record.opacity);
        group.fill_opacity = unit(record.fill_opacity);
        group.locked = record.locked;
        group.collapsed = record.collapsed;
        group.parent = plan.parent.map(|p| group_ids[p]);
        group.mask = any_mask(record, header, canvas_box(header), limits, &context)?;
        group.kept = kept_of(record, group.mask.as_ref());
        group.artboard =
            super::artboard::read(&record.kept, group.id, (header.width, header.height));
        let key = record.section_key.unwrap_or(record.blend_key);
        group.pass_through = &key == b"pass";
        if let Some(data) = super::effects::effects_block(&record.kept) {
            let read = super::effects::read(data, effects);
            // Drawn only whole (see `records::finish_kept`, which reports it otherwise).
            if !read.undrawn && !read.style.effects.is_empty() {
                group.effects = GroupEffects::new(read.style);
            }
        }
        if !group.pass_through {
            group.blend = blend_mode(key, &record.name);
        }
        group_ids.push(group.id);
        doc.insert_group(group);
    }
    for (plan, (image, mask)) in tree.layers.iter().zip(images) {
        let record = &records[plan.index];
        if plan.placeholder {
            // Empty and plain: the artboard group it stands in for holds the properties.
            let layer = doc.push_layer(format!("{} (empty)", record.name), image);
            layer.parent = plan.parent.map(|p| group_ids[p]);
            continue;
        }
        // An empty fill layer drawn from its block covers the canvas from its corner.
        let filled = super::fill_layer::fills_canvas(record);
        let layer = doc.push_layer(record.name.clone(), image);
        layer.offset = if filled {
            Offset::new(0, 0)
        } else {
            Offset::new(record.left, record.top)
        };
        layer.visible = plan.visible && !record.hidden;
        layer.opacity = plan.opacity * unit(record.opacity);
        layer.fill_opacity = unit(record.fill_opacity);
        layer.locked = record.locked;
        layer.blend = blend_mode(record.blend_key, &record.name);
        layer.parent = plan.parent.map(|p| group_ids[p]);
        layer.clipped = record.clipped;
        layer.mask = mask;
        layer.kept = kept_of(record, layer.mask.as_ref());
        layer.adjustment = super::adjustments::read(&record.kept);
        if let Some(data) = super::effects::effects_block(&record.kept) {
            let mut read = super::effects::read(data, effects);
            super::pattern::place(&mut read.style, &record.kept, (record.left, record.top));
            if !read.style.effects.is_empty() {
                layer.effects = Some(LayerEffects::new(read.style));
            }
        }
        if layer.blend == BlendMode::HardMix && record.fill_opacity < u8::MAX {
            tracing::warn!(
                "layer '{}': hard mix at reduced fill is drawn as reduced opacity; \
                 Photoshop draws it differently",
                layer.name
            );
        }
    }
    doc.refresh_effects();
    let before = doc.groups.len();
    doc.prune_empty_groups();
    let dropped = before - doc.groups.len();
    doc.check_tree()
        .map_err(|e| PsdError::corrupt(format!("layer groups: {e}")))?;
    Ok((doc, dropped))
}

/// The canvas as a box.
fn canvas_box(header: &Header) -> BBox<i64> {
    BBox::at(0, 0, i64::from(header.width), i64::from(header.height))
}

/// The record's user mask, or else its vector mask rasterised over the canvas and
/// `layer_area` (see [`vector_mask`]).
fn any_mask(
    record: &Record<'_>,
    header: &Header,
    layer_area: BBox<i64>,
    limits: &Limits,
    context: &str,
) -> Result<Option<Mask>, PsdError> {
    if let Some(mask) = decode_mask(record, header, context)? {
        return Ok(Some(mask));
    }
    let area = canvas_box(header).union(layer_area);
    let canvas = (header.width, header.height);
    Ok(vector_mask::rasterise(record, canvas, area, limits))
}

/// The record's kept blocks for its layer or group; a vector mask drawn through `mask`
/// (its raster copy, stored or made here) is no longer reported as undrawn.
fn kept_of(record: &Record<'_>, mask: Option<&Mask>) -> Kept {
    let mut kept = record.kept.clone();
    if mask.is_some_and(|m| m.from_vector) {
        super::records::vector_mask_drawn(&mut kept);
    }
    std::sync::Arc::new(kept)
}

/// The record's user mask, decoded to 8 bits, or `None` when it has none (or its header
/// names a channel the record lacks, which is logged: the layer is kept unmasked).
fn decode_mask(
    record: &Record<'_>,
    header: &Header,
    context: &str,
) -> Result<Option<Mask>, PsdError> {
    let Some(data) = record.mask else {
        return Ok(None);
    };
    let Some((width, height)) = data.mask.size() else {
        tracing::warn!("{context}: the layer mask's rectangle is inside out; mask ignored");
        return Ok(None);
    };
    let Some(channel) = record.channels.iter().find(|c| c.id == data.channel) else {
        tracing::warn!(
            "{context}: no channel {} for its layer mask; mask ignored",
            data.channel
        );
        return Ok(None);
    };
    let (w, h) = (width as usize, height as usize);
    let values = if w * h == 0 {
        Vec::new()
    } else {
        let layout = header.layout();
        let within = |e: PsdError| e.within(&format!("{context} mask channel {}", channel.id));
        check_plausible(&channel.data, u64::from(width), u64::from(height), layout)
            .map_err(within)?;
        let stored = decode_layer_channel(channel.data.clone(), w, h, layout).map_err(within)?;
        color::to_8bit(&stored, layout.depth, w, Plane::Alpha)
    };
    let pixels = GrayImage::from_raw(width, height, values)
        .ok_or_else(|| PsdError::corrupt(format!("{context}: layer mask size")))?;
    let mut mask = Mask::new(
        pixels,
        Offset::new(data.mask.left, data.mask.top),
        data.mask.background,
    );
    mask.enabled = !data.mask.disabled;
    mask.density = unit(data.mask.density);
    mask.feather = data.mask.feather.clamp(0.0, 1000.0) as f32;
    mask.from_vector = data.mask.from_vector;
    Ok(Some(mask))
}

fn blend_mode(key: [u8; 4], name: &str) -> BlendMode {
    BlendMode::from_psd_key(key).unwrap_or_else(|| {
        let key = String::from_utf8_lossy(&key);
        tracing::warn!("layer '{name}': blend mode '{key}' is not supported; using Normal");
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
