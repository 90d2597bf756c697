//! Tagged blocks kept byte for byte (see [`crate::model::kept`]): read with the layer
//! records and after the layer info, written back where Photoshop expects them, and the
//! one notice that says what of them Strata does not draw.
//!
//! Photoshop describes everything newer than plain pixel layers in tagged blocks: effects,
//! adjustment layers, editable text, smart objects with their embedded files (`lnk2`, a
//! document-level block the layer's `SoLd` points to), patterns. A reader that drops them
//! silently turns a designer's file into flat rasters on the next save; keeping them costs
//! only memory, and Photoshop re-renders from them when the file is opened there.

use super::PsdError;
use super::bytes::{Cursor, has_long_length};
use super::records::Record;
use super::writer::Version;
use crate::io::Notice;
use crate::model::{KeptBlock, KeptFormat, Undrawn};

/// Document-level blocks that describe the layers and composite we write ourselves, so a
/// kept copy would contradict them: the layer info of 16- and 32-bit files and the
/// composite's transparency and alpha channel names.
const REWRITTEN_GLOBAL_KEYS: [&[u8; 4]; 7] = [
    b"Layr", b"Lr16", b"Lr32", b"Mt16", b"Mt32", b"Mtrn", b"Alph",
];

/// What follows the layer info in the layer and mask section: the layer info that 16- and
/// 32-bit files keep in a `Lr16`/`Lr32`/`Layr` block instead, and every other
/// document-level tagged block, kept.
pub struct Trailer<'a> {
    pub layer_info: Option<Cursor<'a>>,
    pub kept: Vec<KeptBlock>,
}

/// Reads the global layer mask info (skipped) and the tagged blocks after it. Stops quietly
/// at anything that is not a block: GIMP writes no global mask info and ImageMagick cuts it
/// short, and a damaged trailer costs only the kept blocks. With `want_layer_info` (the
/// layer info held no records) the first `Layr`/`Lr16`/`Lr32` block is returned, and a
/// truncated one is the file's error.
pub fn read_trailer<'a>(
    section: &mut Cursor<'a>,
    large: bool,
    want_layer_info: bool,
) -> Result<Trailer<'a>, PsdError> {
    let mut trailer = Trailer {
        layer_info: None,
        kept: Vec::new(),
    };
    if let Ok(mask_len) = section.u32("global layer mask info length") {
        section.skip_lenient(mask_len as usize);
    }
    while section.remaining() >= 12 {
        let (Ok(signature), Ok(key)) = (section.tag("signature"), section.tag("key")) else {
            break;
        };
        if &signature != b"8BIM" && &signature != b"8B64" {
            break;
        }
        let Ok(len) = section.block_length(&key, large) else {
            break;
        };
        let is_layer_info = matches!(&key, b"Layr" | b"Lr16" | b"Lr32") && want_layer_info;
        let block = match section.section(len, "the tagged block") {
            Ok(block) => block,
            Err(e) if is_layer_info => return Err(e),
            Err(_) => break,
        };
        if is_layer_info {
            trailer.layer_info.get_or_insert(block);
        } else if !REWRITTEN_GLOBAL_KEYS.contains(&&key) {
            trailer.kept.push(KeptBlock {
                format: KeptFormat::Psd,
                key,
                data: block.rest().to_vec(),
                undrawn: None,
            });
        }
        section.skip_lenient(((4 - len % 4) % 4) as usize); // section-level blocks pad to 4
    }
    Ok(trailer)
}

/// How a tagged block's data is padded, which differs by where the block sits and who
/// wrote it.
#[derive(Clone, Copy)]
pub enum Padding {
    /// Inside layer records: to an even length, counted in the length field (the
    /// specification's "rounded up to an even byte count"); kept blocks are written so,
    /// which leaves Photoshop's own (already even) lengths as they were.
    CountedEven,
    /// To a multiple of 4, counted: how Photoshop pads the blocks it writes in layer
    /// records, and so our own (`luni`, `lsct`, …).
    CountedFour,
    /// At the end of the layer and mask section: to a multiple of 4 after the data, not
    /// counted, as Photoshop writes its document-level blocks (`cinf` of 502 bytes, then
    /// two zero bytes); the reader skips it the same way.
    UncountedFour,
}

/// Writes one tagged block: `8BIM`, key, length (a `u64` when `long_length`, as PSB
/// files have for the keys the specification lists), data and padding.
pub fn write_tagged(
    out: &mut Vec<u8>,
    key: &[u8; 4],
    data: &[u8],
    long_length: bool,
    padding: Padding,
) {
    let (len, padded) = match padding {
        Padding::CountedEven => {
            let even = data.len().next_multiple_of(2);
            (even, even)
        }
        Padding::CountedFour => {
            let four = data.len().next_multiple_of(4);
            (four, four)
        }
        Padding::UncountedFour => (data.len(), data.len().next_multiple_of(4)),
    };
    out.extend_from_slice(b"8BIM");
    out.extend_from_slice(key);
    if long_length {
        out.extend_from_slice(&(len as u64).to_be_bytes());
    } else {
        // Our own blocks are small, and kept ones come from a file whose u32 held them.
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(data);
    out.resize(out.len() + padded - data.len(), 0);
}

/// Writes the kept PSD blocks among `blocks` (see [`write_tagged`]).
pub fn write_blocks<'b>(
    out: &mut Vec<u8>,
    blocks: impl IntoIterator<Item = &'b KeptBlock>,
    version: Version,
    padding: Padding,
) {
    for block in blocks.into_iter().filter(|b| b.format == KeptFormat::Psd) {
        let long = version.large() && has_long_length(&block.key);
        write_tagged(out, &block.key, &block.data, long, padding);
    }
}

/// One notice for everything the layers hold that Photoshop draws and we do not: "3 layers
/// have effects that are not drawn ('a', 'b', 'c'); …; the canvas differs from Photoshop's.
/// Saving as PSD keeps all of it …", naming up to three layers per kind.
pub fn undrawn_notice(records: &[Record<'_>]) -> Option<Notice> {
    let phrase = |kind: Undrawn| match kind {
        Undrawn::Effects => "effects that are not drawn",
        Undrawn::Adjustment => "adjustment or fill settings that are not applied",
        Undrawn::Type => "editable text, shown as its stored pixels",
        Undrawn::SmartObject => "smart objects, shown as their stored pixels",
        Undrawn::VectorMask => "vector masks that are not drawn",
    };
    let kinds = [
        Undrawn::Effects,
        Undrawn::Adjustment,
        Undrawn::VectorMask,
        Undrawn::Type,
        Undrawn::SmartObject,
    ];
    let parts: Vec<String> = kinds
        .into_iter()
        .filter_map(|kind| {
            let names: Vec<&str> = records
                .iter()
                .filter(|r| r.holds(kind))
                .map(|r| r.name.as_str())
                .collect();
            (!names.is_empty()).then(|| format!("{} {}", layers(&names), phrase(kind)))
        })
        .collect();
    if parts.is_empty() {
        return None;
    }
    let differs = records.iter().any(|r| {
        [Undrawn::Effects, Undrawn::Adjustment, Undrawn::VectorMask]
            .into_iter()
            .any(|k| r.holds(k))
    });
    let canvas = if differs {
        "; the canvas differs from Photoshop's"
    } else {
        ""
    };
    Some(Notice::new(format!(
        "{}{canvas}. Saving as PSD keeps all of it (OpenRaster and PNG cannot)",
        parts.join("; ")
    )))
}

/// "1 layer has ('a')" / "3 layers have ('a', 'b', 'c')" / "5 layers have ('a', 'b', 'c', …)".
fn layers(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().take(3).map(|n| format!("'{n}'")).collect();
    let more = if names.len() > 3 { ", …" } else { "" };
    let (noun, verb) = if names.len() == 1 {
        ("layer", "has")
    } else {
        ("layers", "have")
    };
    format!(
        "{} {noun} ({}{more}) {verb}",
        names.len(),
        quoted.join(", ")
    )
}
