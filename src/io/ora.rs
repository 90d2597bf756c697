//! OpenRaster (`.ora`): a zip holding `mimetype`, `stack.xml`, one PNG per layer,
//! `mergedimage.png` and a thumbnail (OpenRaster baseline, layer stack spec 0.0.5), plus one
//! greyscale PNG per mask that only Strata reads.
//!
//! Groups are nested `<stack>`s. The work is split: `ora_stack` parses `stack.xml` into a
//! tree, `ora_attrs` reads each element's attributes, `ora_build` turns the tree into a
//! document and `ora_xml` writes `stack.xml` back.
//!
//! The zip container comes from the `zip` crate and XML parsing from `quick-xml`; the stack
//! logic is ours. Nothing is ever extracted to disk: `src` paths are only keys into the
//! archive, so hostile names ("../../x") cannot escape anywhere. Every entry is read through a
//! byte cap, so a zip bomb stops at the limit instead of filling memory.

use std::io::{Cursor, Read, Seek, Write};

use zip::ZipArchive;
use zip::write::SimpleFileOptions;

use super::{LimitError, Limits, Notice, raster};
use crate::model::{Document, Layer, Mask, composite};

const MIMETYPE: &str = "image/openraster";
/// `stack.xml` larger than this is not a real layer stack.
const MAX_STACK_XML: u64 = 16 << 20;
/// Groups nested deeper than this are refused, by the reader (a hostile file could nest
/// millions, and the tree is walked recursively) and by the writer (so Strata never writes
/// what it cannot read). Photoshop allows 10 levels, Krita has no limit; 64 is far past
/// any real document.
pub const MAX_DEPTH: usize = 64;
/// The largest mask feather radius, in pixels, read or written: Photoshop's own maximum.
/// Feathering allocates the mask grown by three radii on every side, so a hostile value
/// could otherwise ask for any amount of memory.
pub const MAX_FEATHER: f32 = 1000.0;
const THUMBNAIL_SIDE: u32 = 256;

/// What is wrong with an OpenRaster file.
#[derive(Debug, thiserror::Error)]
pub enum OraError {
    #[error("not a valid zip archive: {0}")]
    Zip(String),
    #[error("missing entry '{0}'")]
    MissingEntry(String),
    #[error("mimetype is '{0}', expected 'image/openraster'")]
    Mimetype(String),
    #[error("stack.xml: {0}")]
    Xml(String),
    #[error("entry '{name}' is larger than {max} bytes uncompressed")]
    EntryTooLarge { name: String, max: u64 },
    #[error("layer '{name}' ({src}): {reason}")]
    LayerImage {
        name: String,
        src: String,
        reason: String,
    },
    #[error("{0}")]
    Limit(#[from] LimitError),
    #[error("write failed: {0}")]
    Io(#[from] std::io::Error),
}

impl From<zip::result::ZipError> for OraError {
    fn from(e: zip::result::ZipError) -> Self {
        match e {
            zip::result::ZipError::Io(io) => OraError::Io(io),
            other => OraError::Zip(other.to_string()),
        }
    }
}

/// True if `head` is the start of a zip whose first entry is a `mimetype` of OpenRaster.
pub fn looks_like_ora(head: &[u8]) -> bool {
    const NAME: &[u8] = b"mimetype";
    if head.len() < 30 + NAME.len() || !head.starts_with(b"PK\x03\x04") {
        return false;
    }
    let name_len = usize::from(u16::from_le_bytes([head[26], head[27]]));
    let extra_len = usize::from(u16::from_le_bytes([head[28], head[29]]));
    if name_len != NAME.len() || &head[30..30 + NAME.len()] != NAME {
        return false;
    }
    let data = 30 + name_len + extra_len;
    match head.get(data..data + MIMETYPE.len()) {
        Some(content) => content == MIMETYPE.as_bytes(),
        None => true, // the header is cut short of the content; the name alone decides
    }
}

/// Reads an OpenRaster file: nested stacks become groups (see [`read_with_notices`]).
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Document, OraError> {
    read_with_notices(bytes, limits).map(|(doc, _)| doc)
}

/// Reads an OpenRaster file, with notices of what it could not keep. Nested `<stack>`s
/// become groups at any depth up to [`MAX_DEPTH`]; a stack's `x`/`y` moves everything inside
/// it; Strata's own attributes bring back clipping, collapsed groups, fill opacity and masks.
pub fn read_with_notices(
    bytes: &[u8],
    limits: &Limits,
) -> Result<(Document, Vec<Notice>), OraError> {
    let mut archive = ZipArchive::new(Cursor::new(bytes))?;
    let mimetype = read_entry(&mut archive, "mimetype", 256)?;
    let mimetype = String::from_utf8_lossy(&mimetype).trim().to_string();
    if mimetype != MIMETYPE {
        return Err(OraError::Mimetype(mimetype));
    }
    let xml = read_entry(&mut archive, "stack.xml", MAX_STACK_XML)?;
    let xml = String::from_utf8(xml).map_err(|_| OraError::Xml("not UTF-8".into()))?;
    let stack = super::ora_stack::parse(&xml)?;
    limits.check_canvas(stack.width, stack.height)?;
    super::ora_build::build(&stack, &mut archive, limits)
}

/// Reads one archive entry, refusing more than `max` uncompressed bytes whatever the
/// header claims.
pub(super) fn read_entry<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    name: &str,
    max: u64,
) -> Result<Vec<u8>, OraError> {
    let entry = match archive.by_name(name) {
        Ok(entry) => entry,
        Err(zip::result::ZipError::FileNotFound) => {
            return Err(OraError::MissingEntry(name.into()));
        }
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::with_capacity(entry.size().min(max).min(1 << 24) as usize);
    let read = entry.take(max + 1).read_to_end(&mut out);
    read.map_err(|e| OraError::Zip(format!("entry '{name}': {e}")))?;
    if out.len() as u64 > max {
        return Err(OraError::EntryTooLarge {
            name: name.into(),
            max,
        });
    }
    Ok(out)
}

/// Writes `doc` as OpenRaster: `mimetype` first and stored, as the spec requires.
pub fn write<W: Write + Seek>(doc: &Document, w: W) -> Result<(), OraError> {
    let mut zip = zip::ZipWriter::new(w);
    let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated =
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let png = |image: &image::RgbaImage| {
        raster::png_bytes(image).map_err(|e| OraError::Io(std::io::Error::other(e.to_string())))
    };

    zip.start_file("mimetype", stored)?;
    zip.write_all(MIMETYPE.as_bytes())?;

    let written = super::ora_xml::stack_xml(doc)?;
    zip.start_file("stack.xml", deflated)?;
    zip.write_all(written.xml.as_bytes())?;

    // PNG data is already deflated: storing it again compressed only costs time.
    for (src, layer) in &written.layers {
        zip.start_file(src.as_str(), stored)?;
        zip.write_all(&png(&layer_png_pixels(layer))?)?;
    }
    for (src, mask) in &written.masks {
        zip.start_file(src.as_str(), stored)?;
        zip.write_all(&mask_png(mask)?)?;
    }
    let merged = composite(doc);
    zip.start_file("mergedimage.png", stored)?;
    zip.write_all(&png(&merged)?)?;
    let thumb = thumbnail(&merged);
    zip.start_file("Thumbnails/thumbnail.png", stored)?;
    zip.write_all(&png(&thumb)?)?;
    zip.finish()?;
    Ok(())
}

/// A mask as an 8-bit greyscale PNG. PNG cannot hold a 0×0 image, so an empty mask is
/// written as one pixel of its background value, which masks exactly the same.
fn mask_png(mask: &Mask) -> Result<Vec<u8>, OraError> {
    let one;
    let pixels: &image::GrayImage = if mask.pixels.width() == 0 || mask.pixels.height() == 0 {
        one = image::GrayImage::from_pixel(1, 1, image::Luma([mask.background]));
        &one
    } else {
        &mask.pixels
    };
    raster::gray_png_bytes(pixels).map_err(|e| OraError::Io(std::io::Error::other(e.to_string())))
}

/// PNG cannot hold a 0×0 image: an empty layer is written as one transparent pixel.
fn layer_png_pixels(layer: &Layer) -> std::borrow::Cow<'_, image::RgbaImage> {
    if layer.width() == 0 || layer.height() == 0 {
        std::borrow::Cow::Owned(image::RgbaImage::new(1, 1))
    } else {
        std::borrow::Cow::Borrowed(&layer.pixels)
    }
}

fn thumbnail(merged: &image::RgbaImage) -> image::RgbaImage {
    let (w, h) = merged.dimensions();
    let scale = (f64::from(THUMBNAIL_SIDE) / f64::from(w.max(h))).min(1.0);
    let tw = ((f64::from(w) * scale).round() as u32).max(1);
    let th = ((f64::from(h) * scale).round() as u32).max(1);
    image::imageops::thumbnail(merged, tw, th)
}

/// Fill opacity has no OpenRaster attribute, so Strata keeps it in one of its own namespace
/// ([`STRATA_NAMESPACE`], declared on `<image>`), written only below 100 %. Other readers
/// ignore it and draw the layer at its opacity alone.
pub const FILL_OPACITY_ATTRIBUTE: &str = super::ora_attrs::names::FILL_OPACITY;

/// The XML namespace of Strata's own `stack.xml` attributes.
pub const STRATA_NAMESPACE: &str = "urn:strata:openraster";
