//! The PSD reader: header, section boundaries, and the choice between layers and a flat file.
//!
//! Sections are located by their declared lengths only, never by content, and each is read
//! through its own bounded [`Cursor`], so a wrong length inside one cannot make us read
//! another section's bytes.

use super::bytes::Cursor;
use super::channels::Layout;
use super::color::{self, ColorMode, Depth};
use super::effects::Context;
use super::records::{Record, parse_layer_info};
use super::{PsdError, composite, kept, layers, resources};
use crate::io::{Limits, Notice};
use crate::model::Document;

/// The file header, validated, with what else decides how samples are read.
#[derive(Clone, Copy, Debug)]
pub struct Header {
    pub width: u32,
    pub height: u32,
    /// Channels of the composite, including alpha and spot channels.
    pub channels: u16,
    pub mode: ColorMode,
    pub depth: Depth,
    /// PSB (version 2): 8-byte section and channel lengths, 4-byte RLE row counts.
    pub large: bool,
    /// Indexed files: the palette from the colour mode data (black elsewhere).
    pub palette: [[u8; 3]; 256],
}

impl Header {
    /// How channel samples are laid out: the depth, and RLE row counts of 2 bytes in PSD
    /// and 4 in PSB.
    pub fn layout(&self) -> Layout {
        Layout {
            depth: self.depth,
            count_bytes: if self.large { 4 } else { 2 },
        }
    }

    /// What a person should be told about reading this file as 8-bit RGB, if anything:
    /// "converted from 16-bit CMYK to 8-bit RGB".
    pub fn conversion_notice(&self) -> Option<String> {
        if self.mode == ColorMode::Rgb && self.depth == Depth::Eight {
            return None;
        }
        let from = match self.mode {
            ColorMode::Bitmap => "Bitmap (1-bit)".to_owned(),
            ColorMode::Indexed => "Indexed Color".to_owned(),
            ColorMode::Duotone => format!(
                "{}-bit Duotone (read as Grayscale, ink colours ignored)",
                self.depth.bits()
            ),
            mode => format!("{}-bit {}", self.depth.bits(), mode.name()),
        };
        Some(format!("converted from {from} to 8-bit RGB"))
    }
}

/// A file split into the parts we read.
pub struct Sections<'a> {
    pub header: Header,
    pub resources: Cursor<'a>,
    pub layers: Cursor<'a>,
    pub image_data: Cursor<'a>,
}

/// Checks the header (and the canvas against `limits`) and locates the sections.
pub fn split<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Sections<'a>, PsdError> {
    let mut c = Cursor::new(bytes);
    let mut header = parse_header(&mut c)?;
    limits.check_canvas(header.width, header.height)?;
    let color_len = c.u32("colour mode data length")?;
    let color_data = c.section(u64::from(color_len), "the colour mode data")?;
    if header.mode == ColorMode::Indexed {
        header.palette =
            color::palette(color_data.peek(color_data.remaining()).unwrap_or_default())?;
    }
    let resources_len = c.u32("image resources length")?;
    let resources = c.section(u64::from(resources_len), "the image resources")?;
    let layers_len = c.length(header.large, "layer and mask section length")?;
    let layers = c.section(layers_len, "the layer and mask section")?;
    let image_data = c.section(c.remaining() as u64, "the image data")?;
    Ok(Sections {
        header,
        resources,
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
    let large = match c.u16("version")? {
        1 => false,
        2 => true,
        other => {
            return Err(PsdError::corrupt(format!(
                "header: version {other}, expected 1 (PSD) or 2 (PSB)"
            )));
        }
    };
    c.skip(6, "reserved header bytes")?;
    let channels = c.u16("channel count")?;
    let height = c.u32("height")?;
    let width = c.u32("width")?;
    let depth = Depth::from_word(c.u16("bit depth")?)?;
    let mode = ColorMode::from_word(c.u16("colour mode")?)?;
    if (mode == ColorMode::Bitmap) != (depth == Depth::One) {
        return Err(PsdError::corrupt(format!(
            "header: {}-bit {} (only Bitmap files are 1-bit)",
            depth.bits(),
            mode.name()
        )));
    }
    if !(mode.color_channels()..=56).contains(&usize::from(channels)) {
        return Err(PsdError::corrupt(format!(
            "header: {channels} channels for {}",
            mode.name()
        )));
    }
    Ok(Header {
        width,
        height,
        channels,
        mode,
        depth,
        large,
        palette: [[0; 3]; 256],
    })
}

/// Reads a PSD or PSB into a document, bottom layer first. Groups are flattened into their
/// pixel layers (see the module documentation); a file without pixel layers becomes one
/// layer, "Background", from its composite. Other depths and colour modes are converted to
/// 8-bit RGB (see `color`). Never panics, and allocates only what `limits` allow.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Document, PsdError> {
    read_with_notices(bytes, limits).map(|(doc, _)| doc)
}

/// [`read`], plus what the person should be told about the reading: a conversion to 8-bit
/// RGB, at most one notice of each kind per file.
pub fn read_with_notices(
    bytes: &[u8],
    limits: &Limits,
) -> Result<(Document, Vec<Notice>), PsdError> {
    let sections = split(bytes, limits)?;
    let header = sections.header;
    let mut notices: Vec<Notice> = header
        .conversion_notice()
        .map(Notice::new)
        .into_iter()
        .collect();
    let (mut records, document_blocks) = layer_records(sections.layers, header.large)?;
    let patterns = super::pattern::read_all(&document_blocks);
    let context = Context {
        global_angle: resources::global_angle(sections.resources.clone())
            .unwrap_or(super::effects::DEFAULT_GLOBAL_ANGLE),
        patterns: &patterns,
    };
    // Drawing one adjustment among others that are not drawn changes the canvas piecemeal,
    // further from Photoshop's than drawing none (three corpus files with a gradient map
    // among 15 other adjustments went from within 2/255 to 2.25): adjustments are drawn
    // only where no adjustment in the file that shows is left undrawn.
    // Records are bottom-first: a record is a clipping base when the one above is clipped.
    let bases: Vec<bool> = (0..records.len())
        .map(|i| records.get(i + 1).is_some_and(|r| r.clipped))
        .collect();
    let draw_adjustments = !records
        .iter()
        .zip(&bases)
        .any(|(record, &base)| super::adjustments::blocks_drawing(record, base));
    for (record, base) in records.iter_mut().zip(bases) {
        super::effects::mark_drawn(&mut record.kept, record.kind, &context);
        super::fill_layer::mark_drawn(record);
        if draw_adjustments && !base {
            super::adjustments::mark_drawn(&mut record.kept);
        }
    }
    notices.extend(kept::undrawn_notice(&records));
    let tree = layers::plan_tree(&records);
    if tree.is_empty() {
        let image = composite::decode(&header, sections.image_data, limits)?;
        return Ok((Document::from_flat("Background", image), notices));
    }
    // A layered file must still be whole: a cut-off composite means a damaged file.
    composite::verify(&header, sections.image_data, limits)?;
    let (mut doc, dropped) = layers::build(&header, &records, &tree, limits, &context)?;
    doc.kept = std::sync::Arc::new(document_blocks);
    if tree.folded > 0 {
        notices.push(Notice::new(format!(
            "{} groups nested deeper than {} levels were merged into their members",
            tree.folded,
            layers::MAX_GROUP_DEPTH
        )));
    }
    if dropped > 0 {
        let noun = if dropped == 1 { "group" } else { "groups" };
        notices.push(Notice::new(format!(
            "{dropped} empty {noun} left out (a group needs at least one layer)"
        )));
    }
    Ok((doc, notices))
}

/// Whether the file's Image Data section holds a real composite of its layers, per its
/// Version Info resource (see `resources`), rather than a blank placeholder.
pub fn stores_real_composite(bytes: &[u8], limits: &Limits) -> Result<bool, PsdError> {
    Ok(resources::has_real_composite(
        split(bytes, limits)?.resources,
    ))
}

/// Records of the layer info, and the document-level tagged blocks after it, kept. When
/// the layer info is empty, the records may sit in one of those blocks instead: `Lr16` in
/// Photoshop's 16-bit files, `Layr` in some others (the block holds the layer info without
/// its length).
fn layer_records<'a>(
    mut section: Cursor<'a>,
    large: bool,
) -> Result<(Vec<Record<'a>>, Vec<crate::model::KeptBlock>), PsdError> {
    if section.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let info_len = section.length(large, "layer info length")?;
    let mut info = section.section(info_len, "the layer info")?;
    let records = parse_layer_info(&mut info, large)?;
    let trailer = kept::read_trailer(&mut section, large, records.is_empty())?;
    let records = match trailer.layer_info {
        Some(mut info) if records.is_empty() => parse_layer_info(&mut info, large)?,
        _ => records,
    };
    Ok((records, trailer.kept))
}
