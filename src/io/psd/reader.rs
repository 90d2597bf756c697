//! The PSD reader: header, section boundaries, and the choice between layers and a flat file.
//!
//! Sections are located by their declared lengths only, never by content, and each is read
//! through its own bounded [`Cursor`], so a wrong length inside one cannot make us read
//! another section's bytes.

use super::bytes::Cursor;
use super::records::{Record, parse_layer_info};
use super::{PsdError, composite, layers, resources};
use crate::io::Limits;
use crate::model::Document;

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
    /// Bytes per stored sample: 1 for 8-bit files, 2 for 16-bit ones (read as 8-bit).
    pub sample_bytes: usize,
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
    let header = parse_header(&mut c)?;
    limits.check_canvas(header.width, header.height)?;
    let color_len = c.u32("colour mode data length")?;
    c.skip(u64::from(color_len), "colour mode data")?;
    let resources_len = c.u32("image resources length")?;
    let resources = c.section(u64::from(resources_len), "the image resources")?;
    let layers_len = c.u32("layer and mask section length")?;
    let layers = c.section(u64::from(layers_len), "the layer and mask section")?;
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
    let sample_bytes = match depth {
        8 => 1,
        16 => 2,
        1 | 32 => {
            let what = format!("bit depth {depth} (only 8- and 16-bit documents can be read)");
            return Err(PsdError::Unsupported(what));
        }
        other => return Err(PsdError::corrupt(format!("header: bit depth {other}"))),
    };
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
        sample_bytes,
    })
}

/// Reads a PSD into a document, bottom layer first. Groups are flattened into their pixel
/// layers (see the module documentation); a file without pixel layers becomes one layer,
/// "Background", from its composite. 16-bit files are read as 8-bit. Never panics, and
/// allocates only what `limits` allow.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Document, PsdError> {
    let sections = split(bytes, limits)?;
    let header = sections.header;
    let records = layer_records(sections.layers)?;
    let planned = layers::flatten_groups(&records);
    if planned.is_empty() {
        let image = composite::decode(&header, sections.image_data, limits)?;
        return Ok(Document::from_flat("Background", image));
    }
    // A layered file must still be whole: a cut-off composite means a damaged file.
    composite::verify(&header, sections.image_data, limits)?;
    layers::build(&header, &records, &planned, limits)
}

/// Whether the file's Image Data section holds a real composite of its layers, per its
/// Version Info resource (see `resources`), rather than a blank placeholder.
pub fn stores_real_composite(bytes: &[u8], limits: &Limits) -> Result<bool, PsdError> {
    Ok(resources::has_real_composite(
        split(bytes, limits)?.resources,
    ))
}

/// Records of the layer info. When the layer info is empty, they may sit in a tagged block
/// after the global mask info instead: `Lr16` in Photoshop's 16-bit files, `Layr` in some
/// others (the block holds the layer info without its length).
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
        if matches!(&key, b"Layr" | b"Lr16" | b"Lr32") {
            return parse_layer_info(&mut block);
        }
        section.skip_lenient((4 - len as usize % 4) % 4); // section-level blocks pad to 4
    }
    Ok(Vec::new())
}
