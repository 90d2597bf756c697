//! The layer info the writer emits: one record per layer, two per group (Photoshop's
//! section dividers), each with its channel data, in the bottom-first order of the file.
//!
//! A group is written as Photoshop writes it: below its members an end marker named
//! "</Layer group>" (section type 3), above them the folder record (type 1, or 2 when
//! collapsed) with the group's name and properties, whose blend key is `pass` for a
//! pass-through group. Both have an empty rectangle, so their channels hold nothing.

use std::io::{self, Write};

use super::PsdError;
use super::kept::Padding;
use super::layer_data::{Channel, LayerData};
use super::mask_data::{self, MaskHeader};
use super::writer::{Version, unicode_string};
use crate::model::{BBox, Document, Group, KeptBlock, KeptFormat, Layer, Mask, Node};

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
/// The name Photoshop gives a group's end marker.
const GROUP_END_NAME: &str = "</Layer group>";

/// One record to write, bottom-first.
#[derive(Clone, Copy)]
pub(super) enum Entry<'a> {
    Layer(&'a Layer),
    /// The end marker below a group's members.
    GroupEnd,
    /// The folder record above them.
    GroupStart(&'a Group),
}

impl<'a> Entry<'a> {
    /// The user mask of the layer or group the record stands for.
    pub(super) fn mask(self) -> Option<&'a Mask> {
        match self {
            Entry::Layer(layer) => layer.mask.as_ref(),
            Entry::GroupEnd => None,
            Entry::GroupStart(group) => group.mask.as_ref(),
        }
    }
}

/// The records of `doc` in file order: a group's end marker, its members, its folder.
fn entries(doc: &Document) -> Vec<Entry<'_>> {
    fn walk<'a>(nodes: &[Node<'a>], out: &mut Vec<Entry<'a>>) {
        for node in nodes {
            match node {
                Node::Layer(layer) => out.push(Entry::Layer(layer)),
                Node::Group(group, children) => {
                    out.push(Entry::GroupEnd);
                    walk(children, out);
                    out.push(Entry::GroupStart(group));
                }
            }
        }
    }
    let mut out = Vec::with_capacity(doc.layers.len() + 2 * doc.groups.len());
    walk(&doc.tree(), &mut out);
    out
}

/// The encoded layer info of a document: the layer count and records, then each record's
/// channel data, which [`LayerInfo::write_to`] encodes as it writes (see [`LayerData`]).
pub struct LayerInfo<'a> {
    head: Vec<u8>,
    data: LayerData<'a>,
}

impl LayerInfo<'_> {
    /// Bytes the section takes in the file, padding included.
    pub fn byte_len(&self) -> usize {
        self.unpadded_len().next_multiple_of(4)
    }

    fn unpadded_len(&self) -> usize {
        self.head.len() + self.data.byte_len()
    }

    /// Writes the section.
    pub fn write_to<W: Write>(&self, w: &mut W) -> io::Result<()> {
        let pad = self.byte_len() - self.unpadded_len();
        w.write_all(&self.head)?;
        self.data.write_to(w)?;
        w.write_all(&[0u8; 4][..pad])
    }
}

/// Layer info: negative layer count (the composite's 4th channel is its transparency),
/// all records bottom-first, then all channel data in the same order, padded to 4.
pub fn layer_info(doc: &Document, version: Version) -> Result<LayerInfo<'_>, PsdError> {
    let entries = entries(doc);
    let count = i16::try_from(entries.len()).map_err(|_| PsdError::TooManyLayers(entries.len()))?;
    let data = LayerData::size(&entries, version.large());
    let mut head = Vec::new();
    head.extend_from_slice(&(-count).to_be_bytes());
    for (entry, channels) in entries.iter().zip(data.channels()) {
        record(&mut head, &describe(*entry), channels, version)?;
    }
    Ok(LayerInfo { head, data })
}

/// What one record says, whatever it stands for.
struct Description<'a> {
    bounds: BBox<i64>,
    blend_key: [u8; 4],
    opacity: u8,
    fill_opacity: u8,
    clipped: bool,
    hidden: bool,
    locked: bool,
    name: &'a str,
    /// Section type and blend key for the `lsct` block of a group's records.
    section: Option<(u32, [u8; 4])>,
    mask: Option<MaskHeader>,
    /// Blocks read from a file and written back as they were (see [`super::kept`]).
    kept: &'a [KeptBlock],
}

fn describe(entry: Entry<'_>) -> Description<'_> {
    let empty = BBox::new(0, 0, 0, 0);
    match entry {
        Entry::Layer(layer) => Description {
            bounds: layer.bounds(),
            blend_key: layer.blend.psd_key(),
            opacity: layer.opacity_u8(),
            fill_opacity: layer.fill_opacity_u8(),
            clipped: layer.clipped,
            hidden: !layer.visible,
            locked: layer.locked,
            name: &layer.name,
            section: None,
            mask: layer.mask.as_ref().map(|m| mask_header(m, &layer.kept)),
            kept: &layer.kept,
        },
        Entry::GroupEnd => Description {
            bounds: empty,
            blend_key: *b"norm",
            opacity: u8::MAX,
            fill_opacity: u8::MAX,
            clipped: false,
            hidden: false,
            locked: false,
            name: GROUP_END_NAME,
            section: Some((3, *b"norm")),
            mask: None,
            kept: &[],
        },
        Entry::GroupStart(group) => {
            let key = if group.pass_through {
                *b"pass"
            } else {
                group.blend.psd_key()
            };
            Description {
                bounds: empty,
                blend_key: key,
                opacity: group.opacity_u8(),
                fill_opacity: crate::model::pixels::to_u8(group.fill_opacity),
                clipped: false,
                hidden: !group.visible,
                locked: group.locked,
                name: &group.name,
                section: Some((if group.collapsed { 2 } else { 1 }, key)),
                mask: group.mask.as_ref().map(|m| mask_header(m, &group.kept)),
                kept: &group.kept,
            }
        }
    }
}

/// The header of `mask`, marked as a vector mask's raster copy only when the record also
/// writes back the vector mask it copies.
fn mask_header(mask: &Mask, kept: &[KeptBlock]) -> MaskHeader {
    let has_vector = super::vector_mask::block(kept).is_some();
    // check_document made sure every edge fits an i32.
    let BBox { x0, y0, x1, y1 } = mask.bounds();
    MaskHeader {
        top: y0 as i32,
        left: x0 as i32,
        bottom: y1 as i32,
        right: x1 as i32,
        background: mask.background,
        disabled: !mask.enabled,
        density: crate::model::pixels::to_u8(mask.density),
        feather: f64::from(mask.feather.max(0.0)),
        from_vector: mask.from_vector && has_vector,
    }
}

/// One layer record (Adobe: "Layer records").
fn record(
    out: &mut Vec<u8>,
    what: &Description<'_>,
    channels: &[Channel],
    version: Version,
) -> Result<(), PsdError> {
    let BBox { x0, y0, x1, y1 } = what.bounds;
    for edge in [y0, x0, y1, x1] {
        // check_document made sure every edge fits.
        out.extend_from_slice(&(edge as i32).to_be_bytes());
    }
    out.extend_from_slice(&(channels.len() as u16).to_be_bytes());
    for channel in channels {
        out.extend_from_slice(&channel.id.to_be_bytes());
        out.extend_from_slice(&version.length(channel.len, "layer channel")?);
    }
    out.extend_from_slice(b"8BIM");
    out.extend_from_slice(&what.blend_key);
    out.push(what.opacity);
    out.push(u8::from(what.clipped)); // clipping: 0 base, 1 clipped to the layer below
    // Flag bits read from a file and not interpreted (see `KeptFormat::PsdRecordFlags`).
    let kept_flags = what
        .kept
        .iter()
        .filter(|b| b.format == KeptFormat::PsdRecordFlags)
        .fold(0, |bits, b| bits | b.data.first().copied().unwrap_or(0));
    out.push(kept_flags | FLAG_PS5 | if what.hidden { FLAG_HIDDEN } else { 0 });
    out.push(0); // filler

    let extra = extra_data(what, version);
    out.extend_from_slice(&(extra.len() as u32).to_be_bytes());
    out.extend_from_slice(&extra);
    Ok(())
}

/// The record's extra data: the mask header (or none), no blending ranges, the Pascal name,
/// then `luni` (the real, Unicode name), `lsct` for a group's records, `iOpa` when fill
/// opacity is below 100 %, `lspf` for locked layers, and last the blocks kept from the
/// file the layer was read from.
fn extra_data(what: &Description<'_>, version: Version) -> Vec<u8> {
    let mut out = Vec::new();
    match &what.mask {
        Some(mask) => {
            let block = mask_data::write(mask);
            out.extend_from_slice(&(block.len() as u32).to_be_bytes());
            out.extend_from_slice(&block);
        }
        None => out.extend_from_slice(&0u32.to_be_bytes()),
    }
    out.extend_from_slice(&0u32.to_be_bytes()); // layer blending ranges
    pascal_name(&mut out, what.name);

    let mut luni = Vec::new();
    unicode_string(&mut luni, what.name);
    tagged_block(&mut out, b"luni", &luni);
    if let Some((kind, key)) = what.section {
        let mut lsct = kind.to_be_bytes().to_vec();
        lsct.extend_from_slice(b"8BIM");
        lsct.extend_from_slice(&key);
        tagged_block(&mut out, b"lsct", &lsct);
    }
    if what.fill_opacity < u8::MAX {
        tagged_block(&mut out, b"iOpa", &[what.fill_opacity]);
    }
    if what.locked {
        tagged_block(&mut out, b"lspf", &LOCK_ALL.to_be_bytes());
    }
    super::kept::write_blocks(&mut out, what.kept, version, Padding::CountedEven);
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

/// A layer tagged block of ours; Photoshop pads the data to 4 and counts the padding in
/// the length.
fn tagged_block(out: &mut Vec<u8>, key: &[u8; 4], data: &[u8]) {
    super::kept::write_tagged(out, key, data, false, Padding::CountedFour);
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
}
