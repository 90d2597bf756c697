//! Layered Photoshop documents (`.psd`, and `.psb`, the large document format), read and
//! written by our own code: we write 8-bit RGB (PSB beyond 30000 px per side or when asked),
//! and read every depth (1, 8, 16, 32 bits) and every colour mode but Multichannel, converted
//! to 8-bit RGB (see `color` for each conversion) with one notice saying so.
//!
//! Why not a crate: none writes layered PSD properly, and the readers we tried get real files
//! wrong: `psd` 0.3.5 inverts the visibility flag, keeps Krita's NUL in layer names,
//! returns the stored composite still matted over white, and panics on the ZIP-compressed
//! channels ImageMagick writes. The subset we need is small and fully specified (Adobe's
//! "Photoshop File Formats Specification", October 2013), so we own it, and check it against
//! psd-tools and the `psd` crate as independent peers (see `tests/psd_*.rs` and
//! `shared/notes/psd-format.md`).
//!
//! What maps to what:
//! - Layers: name (`luni`, the Pascal name only as a fallback), visibility, opacity, fill
//!   opacity (`iOpa`), blend mode (all 27 keys), signed offsets, per-layer transparency, and
//!   edit lock (`lspf`).
//! - Groups: section dividers (`lsct`/`lsdk`) both ways: name, visibility, opacity, blend
//!   mode or pass-through, lock, collapsed state and mask. Empty groups, which the model
//!   does not keep, are left out with a notice.
//! - Masks: the user mask (channel -2, or -3 beside a vector mask) with its rectangle,
//!   default colour, disabled flag, density and feather (`mask_data`); a vector mask is
//!   drawn through the rasterised copy Photoshop stores, or else rasterised here
//!   (`vector_mask`, `path_fill`) and written back as such a copy beside the kept path.
//! - Clipping: the record's clipping byte, both ways.
//! - Effects: drop and inner shadows, outer and inner glows, satin, colour, gradient and
//!   pattern overlays, smooth bevels and embosses (`bevel`) and solid strokes are read from
//!   the `lmfx`/`lfx2` descriptor (`effects`, `descriptor`) and drawn (see
//!   `model::effects`); the blocks themselves are kept.
//! - Artboards: a group's `artb` block gives its rectangle and background (`artboard`),
//!   drawn as `model::Artboard`; the block itself is kept.
//! - Everything else a layer, group or the document holds in tagged blocks (other effects,
//!   adjustment and fill settings, text, smart objects and their embedded files, vector
//!   masks, newer keys) is kept byte for byte and written back (`kept`), and one notice says
//!   what of it is not drawn.
//! - The composite (Image Data) is written matted over white as Photoshop stores it; a flat
//!   PSD (no layer records) is read as one layer from it, with the matte undone (unless it is
//!   a straight composite as Krita writes, recognisable by non-white transparent pixels).
//! - Channels: we write PackBits (raw where that is smaller) and read raw, PackBits, ZIP and
//!   ZIP with prediction. Spot channels are skipped.
//! - PSB differs from PSD only in widths: `u64` lengths of the layer and mask section, the
//!   layer info, channels and some tagged blocks (`bytes::has_long_length`), `u32` RLE row
//!   counts.
//!
//! Reading never trusts a length: every declared size is checked against the bytes present
//! and against [`Limits`](super::Limits) before anything is allocated (see `bytes::Cursor`).

mod adjustments;
mod artboard;
mod bevel;
mod bytes;
mod channels;
mod color;
mod composite;
mod descriptor;
mod effects;
mod fill_layer;
mod gradient;
mod gradient_map;
mod kept;
mod layer_data;
mod layers;
mod mask_data;
pub mod packbits;
mod path_fill;
mod pattern;
mod reader;
mod records;
mod resources;
mod rows;
mod vector_mask;
mod write_records;
mod writer;

pub use composite::read_composite;
pub use reader::{read, read_with_notices, stores_real_composite};
pub use writer::{Version, write, write_version};

use super::LimitError;

/// Longest canvas side a PSD (version 1) may have; larger needs PSB.
pub const MAX_SIDE: u32 = 30_000;
/// Longest canvas side a PSB (version 2, large document format) may have.
pub const MAX_SIDE_PSB: u32 = 300_000;

/// What is wrong with a PSD file, or why a document cannot be written as one.
#[derive(Debug, thiserror::Error)]
pub enum PsdError {
    /// The file does not start with `8BPS`.
    #[error("not a PSD file (signature is {0:?}, expected \"8BPS\")")]
    NotPsd(String),
    /// A declared length reaches past the end of the file or of its section.
    #[error(
        "truncated: {what} needs {needed} bytes at offset {offset}, {scope} ends at offset {end}"
    )]
    Truncated {
        what: String,
        needed: u64,
        offset: u64,
        scope: &'static str,
        end: u64,
    },
    /// A valid file using something we do not read (Multichannel mode, …).
    #[error("unsupported {0}")]
    Unsupported(String),
    /// Contents that no valid file has (bad RLE, impossible sizes, unknown compression).
    #[error("corrupt {0}")]
    Corrupt(String),
    /// A size beyond the reader's [`Limits`](super::Limits).
    #[error("{0}")]
    Limit(#[from] LimitError),
    /// Writing: the canvas is too large even for PSB.
    #[error("canvas is {width}×{height} px, beyond the PSB maximum of {MAX_SIDE_PSB} px per side")]
    CanvasTooLarge { width: u32, height: u32 },
    /// Writing: a layer is too large even for PSB.
    #[error(
        "layer '{name}' is {width}×{height} px, beyond the PSB maximum of {MAX_SIDE_PSB} px per side"
    )]
    LayerTooLarge {
        name: String,
        width: u32,
        height: u32,
    },
    /// Writing: a layer's rectangle does not fit PSD's `i32` coordinates.
    #[error("layer '{name}' at offset ({x}, {y}) reaches past the coordinate range PSD can store")]
    LayerOutOfRange { name: String, x: i32, y: i32 },
    /// Writing: PSD counts layers in an `i16`.
    #[error("{0} layers are more than the 32767 a PSD file can hold")]
    TooManyLayers(usize),
    /// Writing: a section would need a length beyond `u32`.
    #[error("the {0} would exceed the 4 GiB a PSD section can hold")]
    SectionTooLarge(&'static str),
    /// Writing: the destination failed.
    #[error("write failed: {0}")]
    Io(#[from] std::io::Error),
}

impl PsdError {
    /// A [`PsdError::Corrupt`] with a formatted description.
    fn corrupt(what: impl std::fmt::Display) -> Self {
        PsdError::Corrupt(what.to_string())
    }

    /// Says where an error happened ("layer record 3"), for errors that describe a place.
    fn within(self, context: &str) -> Self {
        match self {
            PsdError::Truncated {
                what,
                needed,
                offset,
                scope,
                end,
            } => PsdError::Truncated {
                what: format!("{context} {what}"),
                needed,
                offset,
                scope,
                end,
            },
            PsdError::Corrupt(what) => PsdError::Corrupt(format!("{context}: {what}")),
            other => other,
        }
    }
}
