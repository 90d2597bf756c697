//! The PSD reader: header, section boundaries, layers (groups flattened), and flat files.
//!
//! Sections are located by their declared lengths only, never by content, and each is read
//! through its own bounded [`Cursor`], so a wrong length inside one cannot make us read
//! another section's bytes.

use rayon::prelude::*;

use super::bytes::Cursor;
use super::channels::{check_plausible, decode_layer_channel};
use super::records::{Kind, Record, parse_layer_info};
use super::{PsdError, composite};
use crate::io::Limits;
use crate::model::{BlendMode, Document, Offset, RgbaImage};

/// Colour modes we can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorMode {
    Grayscale,
    Rgb,
}

impl ColorMode {
    /// Colour channels before any alpha or spot channels.
    pub fn color_channels(self) -> usize {
        match self {
            ColorMode::Grayscale => 1,
            ColorMode::Rgb => 3,
        }
    }
}

/// The file header, validated.
#[derive(Clone, Copy, Debug)]
pub struct Header {
    pub width: u32,
    pub height: u32,
    /// Channels of the composite, including alpha and spot channels.
    pub channels: u16,
    pub mode: ColorMode,
}

/// A file split into the parts we read.
pub struct Sections<'a> {
    pub header: Header,
    pub layers: Cursor<'a>,
    pub image_data: Cursor<'a>,
}

/// Checks the header (and the canvas against `limits`) and locates the sections.
pub fn split<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Sections<'a>, PsdError> {
    let mut c = Cursor::new(bytes);
    let header = parse_header(&mut c)?;
    limits.check_canvas(header.width, header.height)?;
    let color_len = c.u32("colour mode data length")?;
    c.skip(u64::from(color_len), "colour mode data")?;
    let resources_len = c.u32("image resources length")?;
    c.skip(u64::from(resources_len), "image resources")?;
    let layers_len = c.u32("layer and mask section length")?;
    let layers = c.section(u64::from(layers_len), "the layer and mask section")?;
    let image_data = c.section(c.remaining() as u64, "the image data")?;
    Ok(Sections {
        header,
        layers,
        image_data,
    })
}

fn parse_header(c: &mut Cursor<'_>) -> Result<Header, PsdError> {
    let signature = c.tag("signature")?;
    if &signature != b"8BPS" {
        return Err(PsdError::NotPsd(
            String::from_utf8_lossy(&signature).into_owned(),
        ));
    }
    match c.u16("version")? {
        1 => {}
        2 => {
            return Err(PsdError::Unsupported(
                "large document format (PSB, version 2)".into(),
            ));
        }
        other => {
            return Err(PsdError::corrupt(format!(
                "header: version {other}, expected 1"
            )));
        }
    }
    c.skip(6, "reserved header bytes")?;
    let channels = c.u16("channel count")?;
    let height = c.u32("height")?;
    let width = c.u32("width")?;
    let depth = c.u16("bit depth")?;
    let mode = c.u16("colour mode")?;
    match depth {
        8 => {}
        1 | 16 | 32 => {
            return Err(PsdError::Unsupported(format!(
                "bit depth {depth} (only 8-bit documents can be read)"
            )));
        }
        other => return Err(PsdError::corrupt(format!("header: bit depth {other}"))),
    }
    let mode = match mode {
        1 => ColorMode::Grayscale,
        3 => ColorMode::Rgb,
        other => {
            let name = match other {
                0 => "Bitmap",
                2 => "Indexed",
                4 => "CMYK",
                7 => "Multichannel",
                8 => "Duotone",
                9 => "Lab",
                _ => "unknown",
            };
            return Err(PsdError::Unsupported(format!(
                "colour mode {name} ({other}); only RGB and Grayscale can be read"
            )));
        }
    };
    if !(mode.color_channels()..=56).contains(&usize::from(channels)) {
        return Err(PsdError::corrupt(format!(
            "header: {channels} channels for {mode:?}"
        )));
    }
    Ok(Header {
        width,
        height,
        channels,
        mode,
    })
}

/// Reads a PSD into a document, bottom layer first. Groups are flattened into their pixel
/// layers (see the module documentation); a file without pixel layers becomes one layer,
/// "Background", from its composite. Never panics, and allocates only what `limits` allow.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Document, PsdError> {
    let sections = split(bytes, limits)?;
    let header = sections.header;
    let records = layer_records(sections.layers)?;
    let planned = flatten_groups(&records);
    if planned.is_empty() {
        let image = composite::decode(&header, sections.image_data, limits)?;
        return Ok(Document::from_flat("Background", image));
    }
    // A layered file must still be whole: a cut-off composite means a damaged file.
    composite::verify(&header, sections.image_data, limits)?;

    let mut total = 0u64;
    for plan in &planned {
        let record = &records[plan.index];
        let (w, h) = (u64::from(record.width), u64::from(record.height));
        limits.check_size("layer", w, h)?;
        total += w * h * 4;
        limits.check_total(total)?;
        check_channels(record, header.mode, &format!("layer record {}", plan.index))?;
    }
    let images: Vec<RgbaImage> = planned
        .par_iter()
        .map(|plan| {
            let record = &records[plan.index];
            let context = format!("layer record {} ('{}')", plan.index, record.name);
            decode_pixels(record, header.mode, &context)
        })
        .collect::<Result<_, _>>()?;

    let mut doc = Document::new(header.width, header.height);
    for (plan, image) in planned.iter().zip(images) {
        let record = &records[plan.index];
        let layer = doc.push_layer(record.name.clone(), image);
        layer.offset = Offset::new(record.left, record.top);
        layer.visible = plan.visible;
        layer.opacity = plan.opacity;
        layer.locked = record.locked;
        layer.blend = blend_mode(record);
    }
    Ok(doc)
}

/// Records of the layer info, which may sit in a `Layr` block after the global mask info
/// when the layer info itself is empty (some Photoshop versions do this).
fn layer_records(mut section: Cursor<'_>) -> Result<Vec<Record<'_>>, PsdError> {
    if section.is_empty() {
        return Ok(Vec::new());
    }
    let info_len = section.u32("layer info length")?;
    let mut info = section.section(u64::from(info_len), "the layer info")?;
    let records = parse_layer_info(&mut info)?;
    if !records.is_empty() {
        return Ok(records);
    }
    // Global layer mask info, absent in GIMP's files and cut short in ImageMagick's.
    if let Ok(mask_len) = section.u32("global layer mask info length") {
        section.skip_lenient(mask_len as usize);
    }
    while section.remaining() >= 12 {
        let (Ok(signature), Ok(key), Ok(len)) = (
            section.tag("signature"),
            section.tag("key"),
            section.u32("length"),
        ) else {
            break;
        };
        if &signature != b"8BIM" && &signature != b"8B64" {
            break;
        }
        let mut block = section.section(u64::from(len), "the tagged block")?;
        if &key == b"Layr" {
            let info_len = block.u32("layer info length")?;
            let mut info = block.section(u64::from(info_len), "the layer info")?;
            return parse_layer_info(&mut info);
        }
        section.skip_lenient((4 - len as usize % 4) % 4); // section-level blocks pad to 4
    }
    Ok(Vec::new())
}

/// A pixel layer to create, with visibility and opacity inherited from its groups.
struct Planned {
    index: usize,
    visible: bool,
    opacity: f32,
}

/// Keeps the pixel records (bottom first) and folds group properties into them. Records are
/// bottom-first and a group's folder record comes after its children, so we walk top-down:
/// a folder opens a group, its divider closes it.
fn flatten_groups(records: &[Record<'_>]) -> Vec<Planned> {
    let mut groups: Vec<(bool, f32)> = Vec::new();
    let mut planned = Vec::new();
    for (index, record) in records.iter().enumerate().rev() {
        let (parent_visible, parent_opacity) = groups.last().copied().unwrap_or((true, 1.0));
        let visible = parent_visible && !record.hidden;
        let opacity = parent_opacity * f32::from(record.opacity) / 255.0;
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
fn check_channels(record: &Record<'_>, mode: ColorMode, context: &str) -> Result<(), PsdError> {
    let (w, h) = (u64::from(record.width), u64::from(record.height));
    if w * h == 0 {
        return Ok(());
    }
    let mut used = record
        .channels
        .iter()
        .filter(|c| channel_targets(mode, c.id).is_some())
        .peekable();
    if used.peek().is_none() {
        let what = format!("{context}: {w}×{h} layer without colour or transparency channels");
        return Err(PsdError::corrupt(what));
    }
    for channel in used {
        check_plausible(&channel.data, w, h)
            .map_err(|e| e.within(&format!("{context} channel {}", channel.id)))?;
    }
    Ok(())
}

/// Where a channel id goes in an RGBA pixel, or `None` for channels we skip.
fn channel_targets(mode: ColorMode, id: i16) -> Option<&'static [usize]> {
    match (mode, id) {
        (_, -1) => Some(&[3]),
        (ColorMode::Rgb, 0) => Some(&[0]),
        (ColorMode::Rgb, 1) => Some(&[1]),
        (ColorMode::Rgb, 2) => Some(&[2]),
        (ColorMode::Grayscale, 0) => Some(&[0, 1, 2]),
        _ => None,
    }
}

/// Decodes a record's channels into straight RGBA. Layers without a transparency channel
/// (-1) are opaque; user masks (-2, -3) and spot channels are skipped by their lengths.
fn decode_pixels(
    record: &Record<'_>,
    mode: ColorMode,
    context: &str,
) -> Result<RgbaImage, PsdError> {
    let (width, height) = (record.width, record.height);
    let mut image = RgbaImage::new(width, height);
    if width == 0 || height == 0 {
        return Ok(image);
    }
    if !record.channels.iter().any(|c| c.id == -1) {
        image.pixels_mut().for_each(|p| p[3] = 255);
    }
    for channel in &record.channels {
        let Some(targets) = channel_targets(mode, channel.id) else {
            continue;
        };
        let plane = decode_layer_channel(channel.data.clone(), width as usize, height as usize)
            .map_err(|e| e.within(&format!("{context} channel {}", channel.id)))?;
        for (pixel, value) in image.pixels_mut().zip(plane) {
            for &t in targets {
                pixel[t] = value;
            }
        }
    }
    Ok(image)
}
