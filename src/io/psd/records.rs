//! Parsing the layer info: layer records, then the channel data they describe.
//!
//! Records carry no markers, so one wrong length would shift everything after it. We
//! therefore read every part of a record inside the bounds its own length fields give
//! (the extra data, each tagged block), and channel data strictly by the declared channel
//! lengths, whatever the data inside claims.

use super::PsdError;
use super::bytes::{Cursor, padded};
use super::mask_data::{self, MaskData};
use crate::model::{KeptBlock, KeptFormat, Undrawn};

/// Smallest possible layer record: rectangle, channel count, blend signature and key,
/// opacity, clipping, flags, filler and the extra-data length.
const MIN_RECORD_LEN: u64 = 16 + 2 + 4 + 4 + 4 + 4;
/// Photoshop's maximum number of channels; more in one record means a corrupt count.
const MAX_CHANNELS: u16 = 56;
/// Layer flags bit 1: set means hidden (the spec's name "visible" is misleading).
const FLAG_HIDDEN: u8 = 0x02;
/// Layer flags bit 3: "bit 4 is meaningful", which every writer since Photoshop 5 sets.
const FLAG_PS5: u8 = 0x08;

/// What a record stands for in the group structure (`lsct`/`lsdk` section divider type).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A layer with pixels.
    Pixels,
    /// The record that carries a group's name and properties; it comes after the group's
    /// children (records are bottom-first).
    Folder,
    /// The hidden "</Layer group>" marker below a group's children.
    Divider,
}

/// One channel of a record: its id and, once the data has been located, its bytes.
#[derive(Clone, Debug)]
pub struct Channel<'a> {
    pub id: i16,
    pub len: u64,
    pub data: Cursor<'a>,
}

/// A parsed layer record, with its channel data attached.
#[derive(Clone, Debug)]
pub struct Record<'a> {
    pub top: i32,
    pub left: i32,
    pub width: u32,
    pub height: u32,
    pub channels: Vec<Channel<'a>>,
    pub blend_key: [u8; 4],
    pub opacity: u8,
    /// Fill opacity from the `iOpa` tagged block; 255 when there is none.
    pub fill_opacity: u8,
    pub hidden: bool,
    pub name: String,
    pub kind: Kind,
    /// A group shown closed in Photoshop's panel (section type 2).
    pub collapsed: bool,
    /// The blend mode key a group's section divider block carries (`pass` for pass-through),
    /// which wins over the record's own key.
    pub section_key: Option<[u8; 4]>,
    /// Clipped to the layer below (the record's clipping byte is 1).
    pub clipped: bool,
    /// The user mask's header, if the record has one.
    pub mask: Option<MaskData>,
    pub locked: bool,
    /// The tagged blocks we neither interpret nor rewrite ourselves (effects, adjustments,
    /// text, smart objects, vector masks, anything newer), kept byte for byte.
    pub kept: Vec<KeptBlock>,
}

impl Record<'_> {
    /// True when the record holds a kind of data that Photoshop draws and we do not.
    pub fn holds(&self, kind: Undrawn) -> bool {
        self.kept.iter().any(|b| b.undrawn == Some(kind))
    }
}

/// What a tagged block key makes Photoshop draw that Strata does not, if anything.
pub(super) fn undrawn_of_key(key: &[u8; 4]) -> Option<Undrawn> {
    match key {
        b"lfx2" | b"lrFX" | b"lmfx" | b"lfxs" => Some(Undrawn::Effects),
        b"levl" | b"curv" | b"brit" | b"blnc" | b"hue " | b"hue2" | b"selc" | b"mixr" | b"grdm"
        | b"thrs" | b"post" | b"nvrt" | b"vibA" | b"phfl" | b"expA" | b"clrL" | b"blwh"
        | b"CgEd" | b"SoCo" | b"GdFl" | b"PtFl" => Some(Undrawn::Adjustment),
        b"TySh" | b"tySh" => Some(Undrawn::Type),
        b"SoLd" | b"SoLE" | b"PlLd" | b"plLd" => Some(Undrawn::SmartObject),
        b"vmsk" | b"vsms" => Some(Undrawn::VectorMask),
        _ => None,
    }
}

/// Reads the layer count, all records and their channel data from the layer info.
/// `large`: a PSB file, whose channel lengths are `u64`.
pub fn parse_layer_info<'a>(
    info: &mut Cursor<'a>,
    large: bool,
) -> Result<Vec<Record<'a>>, PsdError> {
    if info.is_empty() {
        return Ok(Vec::new());
    }
    // Negative means the composite's first extra channel is its transparency; the count
    // is the magnitude either way.
    let count = u64::from(info.i16("layer count")?.unsigned_abs());
    if count * MIN_RECORD_LEN > info.remaining() as u64 {
        return Err(info.truncated(
            format!("the records of {count} layers"),
            count * MIN_RECORD_LEN,
        ));
    }
    let mut records = Vec::with_capacity(count as usize);
    for i in 0..count {
        records
            .push(parse_record(info, large).map_err(|e| e.within(&format!("layer record {i}")))?);
    }
    for (i, record) in records.iter_mut().enumerate() {
        for channel in &mut record.channels {
            if channel.len > info.remaining() as u64 {
                let what = format!("layer record {i} channel {} data", channel.id);
                return Err(info.truncated(what, channel.len));
            }
            channel.data = info.section(channel.len, "the channel data")?;
        }
    }
    Ok(records)
}

fn parse_record<'a>(c: &mut Cursor<'a>, large: bool) -> Result<Record<'a>, PsdError> {
    let [top, left, bottom, right] = [
        c.i32("top")?,
        c.i32("left")?,
        c.i32("bottom")?,
        c.i32("right")?,
    ];
    let width = u32::try_from(i64::from(right) - i64::from(left));
    let height = u32::try_from(i64::from(bottom) - i64::from(top));
    let (Ok(width), Ok(height)) = (width, height) else {
        return Err(PsdError::corrupt(format!(
            "rectangle (top {top}, left {left}, bottom {bottom}, right {right}) is inside out"
        )));
    };
    let channel_count = c.u16("channel count")?;
    if channel_count > MAX_CHANNELS {
        return Err(PsdError::corrupt(format!(
            "{channel_count} channels (at most {MAX_CHANNELS})"
        )));
    }
    let mut channels = Vec::with_capacity(usize::from(channel_count));
    for _ in 0..channel_count {
        let id = c.i16("channel id")?;
        let len = c.length(large, "channel length")?;
        channels.push(Channel {
            id,
            len,
            data: Cursor::new(&[]),
        });
    }
    let signature = c.tag("blend mode signature")?;
    if &signature != b"8BIM" {
        return Err(PsdError::corrupt(format!(
            "blend mode signature {:?}",
            String::from_utf8_lossy(&signature)
        )));
    }
    let blend_key = c.tag("blend mode key")?;
    let opacity = c.u8("opacity")?;
    let clipping = c.u8("clipping")?;
    let flags = c.u8("flags")?;
    let _filler = c.u8("filler")?;
    let extra_len = u64::from(c.u32("extra data length")?);
    let mut extra = c.section(extra_len, "the layer's extra data")?;
    let has_real_mask = channels.iter().any(|ch| ch.id == -3);
    let extra = parse_extra(&mut extra, large, has_real_mask)?;
    let mut kept = finish_kept(extra.kept, &channels);
    let other_flags = flags & !(FLAG_HIDDEN | FLAG_PS5);
    if other_flags != 0 {
        kept.insert(
            0,
            KeptBlock {
                format: KeptFormat::PsdRecordFlags,
                key: *b"flag",
                data: vec![other_flags],
                undrawn: None,
            },
        );
    }
    if super::vector_mask::pixels_show_vector_mask(&kept, width, height) {
        // A shape layer: its pixels are Photoshop's rendering of the vector mask.
        vector_mask_drawn(&mut kept);
    }
    Ok(Record {
        top,
        left,
        width,
        height,
        channels,
        blend_key,
        opacity,
        fill_opacity: extra.fill_opacity,
        hidden: flags & FLAG_HIDDEN != 0,
        name: extra.name,
        kind: extra.kind,
        collapsed: extra.collapsed,
        section_key: extra.section_key,
        clipped: clipping != 0,
        mask: extra.mask,
        locked: extra.locked,
        kept,
    })
}

/// What we use from a record's extra data.
struct Extra {
    name: String,
    kind: Kind,
    collapsed: bool,
    section_key: Option<[u8; 4]>,
    mask: Option<MaskData>,
    locked: bool,
    fill_opacity: u8,
    kept: Vec<KeptBlock>,
}

fn parse_extra(c: &mut Cursor<'_>, large: bool, has_real_mask: bool) -> Result<Extra, PsdError> {
    let mask_len = c.u32("layer mask data length")?;
    let mask_block = c.take(u64::from(mask_len), "layer mask data")?;
    // A mask header we cannot read costs the mask, not the file (the layer stays).
    let mask = mask_data::parse(mask_block, has_real_mask).unwrap_or_else(|e| {
        tracing::warn!("unreadable layer mask header ({e}); the mask is ignored");
        None
    });
    let ranges_len = c.u32("blending ranges length")?;
    c.skip(u64::from(ranges_len), "blending ranges")?;
    let name_len = c.u8("name length")?;
    let pascal = c.take(u64::from(name_len), "name")?;
    skip_name_padding(c, 1 + usize::from(name_len));

    let mut extra = Extra {
        name: decode_pascal(pascal),
        kind: Kind::Pixels,
        collapsed: false,
        section_key: None,
        mask,
        locked: false,
        fill_opacity: u8::MAX,
        kept: Vec::new(),
    };
    while c.remaining() >= 12 {
        let Some(block) = next_tagged_block(c, large) else {
            tracing::warn!(
                "unreadable tagged block at offset {} in layer '{}', rest skipped",
                c.offset(),
                extra.name
            );
            break;
        };
        apply_block(&mut extra, block);
    }
    Ok(extra)
}

/// The name is padded so that length byte + text fill a multiple of 4, but some writers pad
/// to 2 or not at all: prefer the padding after which a tagged block signature follows.
fn skip_name_padding(c: &mut Cursor<'_>, used: usize) {
    let to_four = (padded(used as u64, 4) as usize) - used;
    let to_two = used % 2;
    for skip in [to_four, to_two, 0] {
        if c.peek(skip + 4).is_some_and(|b| is_signature(&b[skip..])) {
            c.skip_lenient(skip);
            return;
        }
    }
    c.skip_lenient(to_four);
}

fn is_signature(bytes: &[u8]) -> bool {
    bytes == b"8BIM" || bytes == b"8B64"
}

/// Reads one tagged block (`8BIM`, key, length, data), or `None` if what follows is not
/// one. The length is a `u32`, or a `u64` for some keys in PSB files (`large`). Photoshop
/// counts the padding in the length; zero padding that another writer left uncounted is
/// skipped.
fn next_tagged_block<'a>(c: &mut Cursor<'a>, large: bool) -> Option<([u8; 4], Cursor<'a>)> {
    let signature = c.tag("tagged block signature").ok()?;
    if !is_signature(&signature) {
        return None;
    }
    let key = c.tag("tagged block key").ok()?;
    let len = c.block_length(&key, large).ok()?;
    let data = c.section(len, "the tagged block").ok()?;
    for _ in 0..3 {
        let at_block = c.peek(4).is_some_and(is_signature);
        if at_block || c.peek(1) != Some(&[0]) {
            break;
        }
        c.skip_lenient(1);
    }
    Some((key, data))
}

/// Interprets the blocks the writer rewrites from the document (name, section divider,
/// fill opacity, lock) and keeps every other block as it is.
fn apply_block(extra: &mut Extra, (key, mut data): ([u8; 4], Cursor<'_>)) {
    match &key {
        b"luni" => {
            if let Some(name) = decode_luni(&mut data) {
                extra.name = name;
            }
        }
        b"lsct" | b"lsdk" => {
            let kind = data.u32("section divider type");
            extra.kind = match kind {
                Ok(1 | 2) => Kind::Folder,
                Ok(3) => Kind::Divider,
                _ => Kind::Pixels,
            };
            extra.collapsed = matches!(kind, Ok(2));
            // Optionally `8BIM` and the group's blend mode key follow.
            if let (Ok(_), Ok(key)) = (data.tag("section signature"), data.tag("section key")) {
                extra.section_key = Some(key);
            }
        }
        b"iOpa" => {
            // One byte of fill opacity (Photoshop pads the block to 4).
            if let Ok(fill) = data.u8("fill opacity") {
                extra.fill_opacity = fill;
            }
        }
        b"lspf" => {
            // Bit 31 is "lock all"; composite (bit 1) plus position (bit 2) is the same
            // for our purposes (no pixel edits, no moves).
            let flags = data.u32("protection flags").unwrap_or(0);
            extra.locked = flags & 0x8000_0000 != 0 || flags & 0x06 == 0x06;
        }
        other => extra.kept.push(KeptBlock {
            format: KeptFormat::Psd,
            key: *other,
            data: data.rest().to_vec(),
            undrawn: undrawn_of_key(other),
        }),
    }
}

/// A vector mask that Photoshop also stored as pixels (the user mask channel, -2, when
/// the layer has no pixel mask of its own) is drawn from those pixels, so it is kept but
/// not reported as undrawn. Beside a pixel mask (then channel -3) it is not drawn. (Which
/// effects are drawn is decided once the document's patterns are read, see
/// `effects::mark_drawn`.)
fn finish_kept(mut kept: Vec<KeptBlock>, channels: &[Channel<'_>]) -> Vec<KeptBlock> {
    // With a real user mask (-3) beside it, channel -2 is the vector mask's copy, and
    // only the user mask is drawn (the model holds one mask a layer).
    let has_copy = channels.iter().any(|c| c.id == -2) && channels.iter().all(|c| c.id != -3);
    if has_copy {
        vector_mask_drawn(&mut kept);
    }
    kept
}

/// Marks the record's vector mask, if it has one, as drawn: it is kept, but no longer
/// reported as undrawn.
pub(super) fn vector_mask_drawn(kept: &mut [KeptBlock]) {
    for block in kept {
        if block.undrawn == Some(Undrawn::VectorMask) {
            block.undrawn = None;
        }
    }
}

/// The Unicode name: `u32` count of UTF-16 units, then UTF-16BE. Krita counts a trailing
/// NUL, which is not part of the name.
fn decode_luni(data: &mut Cursor<'_>) -> Option<String> {
    let count = data.u32("luni length").ok()?;
    let available = data.remaining() / 2;
    let units = (count as usize).min(available);
    let bytes = data.take(units as u64 * 2, "luni text").ok()?;
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .collect();
    Some(
        String::from_utf16_lossy(&units)
            .trim_end_matches('\0')
            .to_owned(),
    )
}

/// Pascal names are UTF-8 from GIMP and us, MacRoman from older Photoshop versions.
fn decode_pascal(bytes: &[u8]) -> String {
    let name = match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&b| mac_roman(b)).collect(),
    };
    name.trim_end_matches('\0').to_owned()
}

/// Mac OS Roman bytes 0x80..=0xFF.
const MAC_ROMAN_HIGH: [&str; 4] = [
    "ÄÅÇÉÑÖÜáàâäãåçéèêëíìîïñóòôöõúùûü",
    "†°¢£§•¶ß®©™´¨≠ÆØ∞±≤≥¥µ∂∑∏π∫ªºΩæø",
    "¿¡¬√ƒ≈∆«»…\u{A0}ÀÃÕŒœ–—“”‘’÷◊ÿŸ⁄€‹›ﬁﬂ",
    "‡·‚„‰ÂÊÁËÈÍÎÏÌÓÔ\u{F8FF}ÒÚÛÙıˆ˜¯˘˙˚¸˝˛ˇ",
];

fn mac_roman(byte: u8) -> char {
    if byte < 0x80 {
        return char::from(byte);
    }
    let index = usize::from(byte - 0x80);
    MAC_ROMAN_HIGH[index / 32]
        .chars()
        .nth(index % 32)
        .unwrap_or(char::REPLACEMENT_CHARACTER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_roman_table_is_complete() {
        assert!(MAC_ROMAN_HIGH.iter().all(|row| row.chars().count() == 32));
        assert_eq!(decode_pascal(b"Caf\x8e \xa5"), "Café •");
        assert_eq!(decode_pascal("Child ✓".as_bytes()), "Child ✓");
    }

    #[test]
    fn luni_drops_krita_nul_and_survives_short_counts() {
        let mut data = Cursor::new(b"\0\0\0\x03\0R\0e\0\0");
        assert_eq!(decode_luni(&mut data).as_deref(), Some("Re"));
        let mut short = Cursor::new(b"\0\0\x10\0\0A");
        assert_eq!(decode_luni(&mut short).as_deref(), Some("A"));
    }

    #[test]
    fn huge_layer_count_is_refused_before_reading_records() {
        let mut info = Cursor::new(b"\x7f\xff\0\0\0\0");
        let err = parse_layer_info(&mut info, false).expect_err("32767 records in 4 bytes");
        assert!(
            err.to_string()
                .contains("the records of 32767 layers needs 1114078 bytes"),
            "{err}"
        );
    }
}
