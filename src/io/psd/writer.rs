//! The PSD writer: 8-bit RGB, every layer with its own transparency channel, RLE
//! throughout, and a composite matted over white. PSD (version 1) up to 30000 px per side,
//! PSB (version 2, "large document format") beyond, or when asked: PSB differs only in
//! the widths of lengths (`u64` for the layer and mask section, the layer info and channel
//! lengths; `u32` RLE row counts) and in its larger limits.
//!
//! Sections whose length comes first are built in a `Vec` and written with their length in
//! front, so the destination never has to seek (it may be a pipe or a `BufWriter`).

use std::io::Write;

use super::kept::{self, Padding};
use super::{MAX_SIDE, MAX_SIDE_PSB, PsdError, composite, write_records};
use crate::io::LimitError;
use crate::model::{BBox, Document, Layer, Mask};

/// Name written into the version-info resource.
const APP_NAME: &str = "Strata";

/// Which of the two layouts to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// PSD, version 1: up to 30000 px per side, 4 GiB per section.
    Psd,
    /// PSB, version 2: up to 300000 px per side, 8-byte lengths.
    Psb,
}

impl Version {
    /// PSD where it can hold the document, PSB for canvases or layers beyond 30000 px.
    pub fn for_document(doc: &Document) -> Self {
        let sides = [doc.width, doc.height]
            .into_iter()
            .chain(doc.layers.iter().flat_map(|l| [l.width(), l.height()]))
            .chain(masks(doc).flat_map(|m| [m.pixels.width(), m.pixels.height()]));
        if sides.into_iter().any(|side| side > MAX_SIDE) {
            Self::Psb
        } else {
            Self::Psd
        }
    }

    fn max_side(self) -> u32 {
        match self {
            Self::Psd => MAX_SIDE,
            Self::Psb => MAX_SIDE_PSB,
        }
    }

    pub(super) fn large(self) -> bool {
        self == Self::Psb
    }

    /// A section or channel length in this version's width; PSD refuses what needs more
    /// than a `u32`.
    pub(super) fn length(self, len: usize, what: &'static str) -> Result<Vec<u8>, PsdError> {
        match self {
            Self::Psb => Ok((len as u64).to_be_bytes().to_vec()),
            Self::Psd => u32::try_from(len)
                .map(|n| n.to_be_bytes().to_vec())
                .map_err(|_| PsdError::SectionTooLarge(what)),
        }
    }
}

/// Writes `doc` as a layered PSD, or as PSB if it is too large for PSD (see
/// [`Version::for_document`]): layers bottom-first with names, visibility, opacity, blend
/// mode, offsets and transparency, then the composite of [`crate::model::composite`].
pub fn write<W: Write>(doc: &Document, w: W) -> Result<(), PsdError> {
    write_version(doc, w, Version::for_document(doc))
}

/// Writes `doc` in the given layout. Refuses canvases or layers over the version's maximum
/// side and more than 32767 layers, before writing anything.
pub fn write_version<W: Write>(doc: &Document, mut w: W, version: Version) -> Result<(), PsdError> {
    check_document(doc, version)?;
    let layer_info = write_records::layer_info(doc, version)?;
    let info_len = version.length(layer_info.byte_len(), "layer info")?;
    // Layer and mask section: the layer info, an empty global layer mask info, then the
    // document-level blocks kept from the file the document was read from.
    let mut trailer = 0u32.to_be_bytes().to_vec(); // global layer mask info (a u32 in PSB too)
    kept::write_blocks(
        &mut trailer,
        doc.kept.iter(),
        version,
        Padding::UncountedFour,
    );
    let section_len = version.length(
        info_len.len() + layer_info.byte_len() + trailer.len(),
        "layer and mask section",
    )?;

    w.write_all(&header(doc, version))?;
    w.write_all(&0u32.to_be_bytes())?; // colour mode data: only indexed/duotone have any
    w.write_all(&length_prefixed(&image_resources(), "image resources")?)?;
    w.write_all(&section_len)?;
    w.write_all(&info_len)?;
    layer_info.write_to(&mut w)?;
    w.write_all(&trailer)?;
    let flat = crate::model::composite(doc);
    composite::write_matted(&flat, version.large(), &mut w)?;
    w.flush()?;
    Ok(())
}

/// Everything that would make the file unreadable, checked before a byte is written.
fn check_document(doc: &Document, version: Version) -> Result<(), PsdError> {
    let (width, height) = (doc.width, doc.height);
    let max = version.max_side();
    if width == 0 || height == 0 {
        return Err(LimitError::Empty { width, height }.into());
    }
    if width > max || height > max {
        return Err(PsdError::CanvasTooLarge { width, height });
    }
    // A group takes two records: its folder and its end marker.
    let records = doc.layers.len() + 2 * doc.groups.len();
    if records > i16::MAX as usize {
        return Err(PsdError::TooManyLayers(records));
    }
    for mask in masks(doc) {
        let BBox { x0, y0, x1, y1 } = mask.bounds();
        let (width, height) = (mask.pixels.width(), mask.pixels.height());
        let fits = [x0, y0, x1, y1].iter().all(|&v| i32::try_from(v).is_ok());
        if width > max || height > max || !fits {
            return Err(PsdError::LayerTooLarge {
                name: "a layer mask".to_owned(),
                width,
                height,
            });
        }
    }
    for layer in &doc.layers {
        let (width, height) = (layer.width(), layer.height());
        if width > max || height > max {
            return Err(PsdError::LayerTooLarge {
                name: layer.name.clone(),
                width,
                height,
            });
        }
        let BBox { x0, y0, x1, y1 } = layer.bounds();
        if [x0, y0, x1, y1].iter().any(|&v| i32::try_from(v).is_err()) {
            let Layer { offset, .. } = layer;
            return Err(PsdError::LayerOutOfRange {
                name: layer.name.clone(),
                x: offset.x,
                y: offset.y,
            });
        }
    }
    Ok(())
}

/// Every mask of the document's layers and groups.
fn masks(doc: &Document) -> impl Iterator<Item = &Mask> {
    let layers = doc.layers.iter().filter_map(|l| l.mask.as_ref());
    layers.chain(doc.groups.iter().filter_map(|g| g.mask.as_ref()))
}

/// File header: signature, version (1 PSD, 2 PSB), reserved zeros, 4 channels (RGB +
/// merged alpha), height, width, depth 8, colour mode 3 (RGB).
fn header(doc: &Document, version: Version) -> Vec<u8> {
    let mut out = Vec::with_capacity(26);
    out.extend_from_slice(b"8BPS");
    out.extend_from_slice(&(if version.large() { 2u16 } else { 1 }).to_be_bytes());
    out.extend_from_slice(&[0; 6]);
    out.extend_from_slice(&4u16.to_be_bytes());
    out.extend_from_slice(&doc.height.to_be_bytes());
    out.extend_from_slice(&doc.width.to_be_bytes());
    out.extend_from_slice(&8u16.to_be_bytes());
    out.extend_from_slice(&3u16.to_be_bytes());
    out
}

/// `bytes` preceded by their length as `u32`.
fn length_prefixed(bytes: &[u8], what: &'static str) -> Result<Vec<u8>, PsdError> {
    let len = u32::try_from(bytes.len()).map_err(|_| PsdError::SectionTooLarge(what))?;
    let mut out = Vec::with_capacity(bytes.len() + 4);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(out)
}

/// Image resources: 1057 (version info) says the composite is real, so readers trust it;
/// 1005 (resolution) says 72 dpi, which some readers otherwise guess differently.
fn image_resources() -> Vec<u8> {
    let mut version = Vec::new();
    version.extend_from_slice(&1u32.to_be_bytes());
    version.push(1); // hasRealMergedData
    unicode_string(&mut version, APP_NAME); // writer name
    unicode_string(&mut version, APP_NAME); // reader name
    version.extend_from_slice(&1u32.to_be_bytes()); // file version

    let mut resolution = Vec::new();
    for _ in 0..2 {
        resolution.extend_from_slice(&(72u32 << 16).to_be_bytes()); // 16.16 fixed, pixels per inch
        resolution.extend_from_slice(&1u16.to_be_bytes()); // unit: pixels per inch
        resolution.extend_from_slice(&1u16.to_be_bytes()); // display unit: inches
    }

    let mut out = Vec::new();
    for (id, data) in [(1057u16, version), (1005, resolution)] {
        out.extend_from_slice(b"8BIM");
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(&[0, 0]); // empty Pascal name, padded to even
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(&data);
        if data.len() % 2 == 1 {
            out.push(0); // data is padded to even; the padding is not counted
        }
    }
    out
}

/// A Photoshop Unicode string: `u32` count of UTF-16 code units, then UTF-16BE, no NUL.
pub(super) fn unicode_string(out: &mut Vec<u8>, text: &str) {
    let units: Vec<u16> = text.encode_utf16().collect();
    out.extend_from_slice(&(units.len() as u32).to_be_bytes());
    for unit in units {
        out.extend_from_slice(&unit.to_be_bytes());
    }
}
