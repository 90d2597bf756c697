//! The PSD writer: 8-bit RGB, every layer with its own transparency channel, RLE
//! throughout, and a composite matted over white. PSD (version 1) up to 30000 px per side,
//! PSB (version 2, "large document format") beyond, or when asked: PSB differs only in
//! the widths of lengths (`u64` for the layer and mask section, the layer info and channel
//! lengths; `u32` RLE row counts) and in its larger limits.
//!
//! Sections whose length comes first are built in a `Vec` and written with their length in
//! front, so the destination never has to seek (it may be a pipe or a `BufWriter`).

use std::io::Write;

use rayon::prelude::*;

use super::{MAX_SIDE, MAX_SIDE_PSB, PsdError, composite, packbits};
use crate::io::LimitError;
use crate::model::{BBox, Document, Layer};

/// Channel ids in the order Photoshop writes them: transparency first, then R, G, B.
const CHANNEL_IDS: [i16; 4] = [-1, 0, 1, 2];
/// Where each of [`CHANNEL_IDS`] sits in an RGBA pixel.
const RGBA_INDEX: [usize; 4] = [3, 0, 1, 2];
/// Layer flags bit 3: "bit 4 is meaningful" (Photoshop 5+), always set.
const FLAG_PS5: u8 = 0x08;
/// Layer flags bit 1, called "visible" by the spec but meaning HIDDEN when set.
const FLAG_HIDDEN: u8 = 0x02;
/// `lspf` value for Photoshop's "lock all", our edit lock.
const LOCK_ALL: u32 = 0x8000_0000;
/// Longest Pascal name we write. `luni` carries the whole name anyway, and the `psd` crate
/// (0.3.5, used by viewers) computes `length + 1` in a `u8`, which panics on 255 in debug
/// builds.
const MAX_PASCAL_NAME: usize = 254;
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
            .chain(doc.layers.iter().flat_map(|l| [l.width(), l.height()]));
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

    fn large(self) -> bool {
        self == Self::Psb
    }

    /// A section or channel length in this version's width; PSD refuses what needs more
    /// than a `u32`.
    fn length(self, len: usize, what: &'static str) -> Result<Vec<u8>, PsdError> {
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
    let channels: Vec<[Vec<u8>; 4]> = doc
        .layers
        .par_iter()
        .map(|layer| encode_layer_channels(layer, version))
        .collect();
    let layer_info = layer_info(doc, &channels, version)?;
    drop(channels);
    let info_len = version.length(layer_info.len(), "layer info")?;
    // Layer and mask section: the layer info, then an empty global layer mask info.
    let section_len = version.length(
        info_len.len() + layer_info.len() + 4,
        "layer and mask section",
    )?;

    w.write_all(&header(doc, version))?;
    w.write_all(&0u32.to_be_bytes())?; // colour mode data: only indexed/duotone have any
    w.write_all(&length_prefixed(&image_resources(), "image resources")?)?;
    w.write_all(&section_len)?;
    w.write_all(&info_len)?;
    w.write_all(&layer_info)?;
    w.write_all(&0u32.to_be_bytes())?; // global layer mask info (a u32 in PSB too)
    drop(layer_info);
    let flat = crate::model::composite(doc);
    w.write_all(&composite::encode_matted(&flat, version.large()))?;
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
    if doc.layers.len() > i16::MAX as usize {
        return Err(PsdError::TooManyLayers(doc.layers.len()));
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
fn unicode_string(out: &mut Vec<u8>, text: &str) {
    let units: Vec<u16> = text.encode_utf16().collect();
    out.extend_from_slice(&(units.len() as u32).to_be_bytes());
    for unit in units {
        out.extend_from_slice(&unit.to_be_bytes());
    }
}

/// Layer info: negative layer count (the composite's 4th channel is its transparency),
/// all records bottom-first, then all channel data in the same order, padded to 4.
fn layer_info(
    doc: &Document,
    channels: &[[Vec<u8>; 4]],
    version: Version,
) -> Result<Vec<u8>, PsdError> {
    let mut out = Vec::new();
    let count =
        i16::try_from(doc.layers.len()).map_err(|_| PsdError::TooManyLayers(doc.layers.len()))?;
    out.extend_from_slice(&(-count).to_be_bytes());
    for (layer, blobs) in doc.layers.iter().zip(channels) {
        layer_record(&mut out, layer, blobs, version)?;
    }
    for blob in channels.iter().flatten() {
        out.extend_from_slice(blob);
    }
    out.resize(out.len().next_multiple_of(4), 0);
    Ok(out)
}

/// One layer record (Adobe: "Layer records").
fn layer_record(
    out: &mut Vec<u8>,
    layer: &Layer,
    blobs: &[Vec<u8>; 4],
    version: Version,
) -> Result<(), PsdError> {
    let BBox {
        x0: left,
        y0: top,
        x1: right,
        y1: bottom,
    } = layer.bounds();
    for edge in [top, left, bottom, right] {
        // check_document made sure every edge fits.
        out.extend_from_slice(&(edge as i32).to_be_bytes());
    }
    out.extend_from_slice(&(CHANNEL_IDS.len() as u16).to_be_bytes());
    for (id, blob) in CHANNEL_IDS.iter().zip(blobs) {
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(&version.length(blob.len(), "layer channel")?);
    }
    out.extend_from_slice(b"8BIM");
    out.extend_from_slice(&layer.blend.psd_key());
    out.push(layer.opacity_u8());
    out.push(0); // clipping: base
    out.push(FLAG_PS5 | if layer.visible { 0 } else { FLAG_HIDDEN });
    out.push(0); // filler

    let extra = extra_data(layer);
    out.extend_from_slice(&(extra.len() as u32).to_be_bytes());
    out.extend_from_slice(&extra);
    Ok(())
}

/// The record's extra data: no mask, no blending ranges, the Pascal name, then `luni`
/// (the real, Unicode name), `iOpa` when fill opacity is below 100 %, and `lspf` for locked
/// layers.
fn extra_data(layer: &Layer) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0u32.to_be_bytes()); // layer mask data
    out.extend_from_slice(&0u32.to_be_bytes()); // layer blending ranges
    pascal_name(&mut out, &layer.name);

    let mut luni = Vec::new();
    unicode_string(&mut luni, &layer.name);
    tagged_block(&mut out, b"luni", &luni);
    if layer.fill_opacity_u8() < u8::MAX {
        tagged_block(&mut out, b"iOpa", &[layer.fill_opacity_u8()]);
    }
    if layer.locked {
        tagged_block(&mut out, b"lspf", &LOCK_ALL.to_be_bytes());
    }
    out
}

/// The legacy Pascal name: UTF-8 (as GIMP writes it, which ImageMagick then shows right),
/// cut on a character boundary, padded so that the length byte plus the text fill a
/// multiple of 4. The format allows 255 bytes, but we stop at [`MAX_PASCAL_NAME`].
fn pascal_name(out: &mut Vec<u8>, name: &str) {
    let mut end = name.len().min(MAX_PASCAL_NAME);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    let start = out.len();
    out.push(end as u8);
    out.extend_from_slice(&name.as_bytes()[..end]);
    out.resize(start + (1 + end).next_multiple_of(4), 0);
}

/// A layer tagged block; Photoshop pads the data to 4 and counts the padding in the length.
fn tagged_block(out: &mut Vec<u8>, key: &[u8; 4], data: &[u8]) {
    let padded = data.len().next_multiple_of(4);
    out.extend_from_slice(b"8BIM");
    out.extend_from_slice(key);
    out.extend_from_slice(&(padded as u32).to_be_bytes());
    out.extend_from_slice(data);
    out.resize(out.len() + padded - data.len(), 0);
}

/// The four channel blobs of a layer, in [`CHANNEL_IDS`] order, each starting with its
/// compression word.
fn encode_layer_channels(layer: &Layer, version: Version) -> [Vec<u8>; 4] {
    let (width, height) = (layer.width() as usize, layer.height() as usize);
    let raw = layer.pixels.as_raw();
    RGBA_INDEX.map(|index| {
        let plane: Vec<u8> = raw.iter().skip(index).step_by(4).copied().collect();
        encode_channel(&plane, width, height, version.large())
    })
}

/// One channel: RLE (`1`, row counts, rows), or raw (`0`, bytes) when RLE would be larger
/// (noise) or there are no pixels at all (a zero-size layer is just `00 00`). `large`: PSB,
/// whose row counts are `u32`.
pub(super) fn encode_channel(plane: &[u8], width: usize, height: usize, large: bool) -> Vec<u8> {
    if width == 0 || height == 0 {
        return vec![0, 0];
    }
    debug_assert_eq!(plane.len(), width * height);
    // Rows of at most 30000 px (check_document) code to at most 30235 bytes: PSD's u16
    // counts hold them; PSB rows of up to 300000 px need its u32 counts.
    let (counts, rows) = packbits::encode_plane(plane, width, large);
    if counts.len() + rows.len() > plane.len() {
        let mut out = Vec::with_capacity(2 + plane.len());
        out.extend_from_slice(&0u16.to_be_bytes());
        out.extend_from_slice(plane);
        return out;
    }
    let mut out = Vec::with_capacity(2 + counts.len() + rows.len());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&counts);
    out.extend_from_slice(&rows);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pascal_names_pad_to_four_and_cut_on_char_boundaries() {
        let mut out = Vec::new();
        pascal_name(&mut out, "Background");
        assert_eq!(out, b"\x0aBackground\0");
        out.clear();
        pascal_name(&mut out, "abc");
        assert_eq!(out, b"\x03abc");
        out.clear();
        pascal_name(&mut out, &"é".repeat(200)); // 400 bytes
        assert_eq!((out[0], out.len()), (254, 256));
        assert!(std::str::from_utf8(&out[1..255]).is_ok());
        out.clear();
        pascal_name(&mut out, &format!("x{}", "é".repeat(200))); // 401 bytes: 254 is mid-char
        assert_eq!((out[0], out.len()), (253, 256));
        assert!(std::str::from_utf8(&out[1..254]).is_ok());
    }

    #[test]
    fn luni_counts_code_units_and_pads_with_counted_padding() {
        let mut out = Vec::new();
        let mut luni = Vec::new();
        unicode_string(&mut luni, "a🎨"); // 1 + 2 code units
        tagged_block(&mut out, b"luni", &luni);
        assert_eq!(&out[..12], b"8BIMluni\0\0\0\x0c");
        assert_eq!(
            &out[12..],
            [0, 0, 0, 3, 0, b'a', 0xD8, 0x3C, 0xDF, 0xA8, 0, 0]
        );
    }

    #[test]
    fn channels_fall_back_to_raw_when_rle_is_larger() {
        let noise: Vec<u8> = (0..16u8).map(|i| i.wrapping_mul(37)).collect();
        assert_eq!(encode_channel(&noise, 4, 4, false)[..2], [0, 0]);
        assert_eq!(encode_channel(&noise, 4, 4, false).len(), 18);
        let flat = [9u8; 16];
        assert_eq!(
            encode_channel(&flat, 4, 4, false),
            [
                0, 1, 0, 2, 0, 2, 0, 2, 0, 2, 0xFD, 9, 0xFD, 9, 0xFD, 9, 0xFD, 9
            ]
        );
        assert_eq!(
            encode_channel(&flat, 8, 2, true),
            [0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0xF9, 9, 0xF9, 9]
        );
        assert_eq!(encode_channel(&[], 0, 7, false), [0, 0]);
    }
}
