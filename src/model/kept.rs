//! Data a file held for a layer or group that Strata neither draws nor edits: layer
//! effects, adjustment and fill settings, editable text, smart objects, vector masks and
//! whatever else a newer Photoshop adds. It is kept byte for byte and written back when the
//! document is saved in the same format, so a round trip through Strata loses nothing, and
//! the panel and `strata info` say what a layer holds that the canvas does not show.

use std::sync::Arc;

/// What kept data makes Photoshop draw that Strata does not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Undrawn {
    /// Layer styles: shadows, strokes, glows, overlays.
    Effects,
    /// Adjustment and fill layers (levels, curves, solid colour, …).
    Adjustment,
    /// Editable text: shown as its stored pixels.
    Type,
    /// Smart objects: shown as their stored pixels.
    SmartObject,
    /// A vector mask that is not drawn: one beside a pixel mask (a layer holds one mask),
    /// or one that could not be rasterised.
    VectorMask,
}

impl Undrawn {
    /// A short name for badges and reports.
    pub fn label(self) -> &'static str {
        match self {
            Undrawn::Effects => "effects",
            Undrawn::Adjustment => "adjustment",
            Undrawn::Type => "text",
            Undrawn::SmartObject => "smart object",
            Undrawn::VectorMask => "vector mask",
        }
    }
}

/// One tagged block as the file stored it (PSD: key and data, padding included).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptBlock {
    /// The format the block belongs to, so that only its own writer writes it back.
    pub format: KeptFormat,
    pub key: [u8; 4],
    pub data: Vec<u8>,
    /// What the block makes Photoshop draw, if anything.
    pub undrawn: Option<Undrawn>,
}

/// What a kept block is, and so which writer writes it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeptFormat {
    /// A PSD tagged block: `key` and `data` as the file stored them.
    Psd,
    /// The PSD layer record's flag bits that Strata does not interpret, one byte in `data`
    /// (key `flag`): "transparency protected" and "pixel data irrelevant to the
    /// appearance", which tells Photoshop and psd-tools that a shape or fill layer is drawn
    /// from its vector data, not from its pixels.
    PsdRecordFlags,
}

/// The kept blocks of a layer or group, shared between history snapshots.
pub type Kept = Arc<Vec<KeptBlock>>;

/// What the kept blocks make Photoshop draw that Strata does not, each kind once, sorted.
pub fn undrawn(kept: &Kept) -> Vec<Undrawn> {
    let mut kinds: Vec<Undrawn> = kept.iter().filter_map(|b| b.undrawn).collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

/// The kept blocks a duplicated layer takes: all but the file's layer id (PSD `lyid`),
/// which must stay unique; Photoshop gives the copy a fresh one when it opens the file.
pub fn for_copy(kept: &Kept) -> Kept {
    if kept.iter().all(|b| &b.key != b"lyid") {
        return Arc::clone(kept);
    }
    Arc::new(kept.iter().filter(|b| &b.key != b"lyid").cloned().collect())
}

/// True when both hold the same blocks: the same buffer (the usual case, a snapshot and its
/// layer), or equal contents (two empty lists, made apart).
pub(crate) fn same_kept(a: &Kept, b: &Kept) -> bool {
    Arc::ptr_eq(a, b) || a == b
}

/// Moves a PSD layer's effects reference point (`fxrp`: two big-endian `f64`, where
/// Photoshop anchors the layer's effects, a linked pattern overlay's tiling among them)
/// by (`dx`, `dy`) along with its layer, as Photoshop does when a layer moves; without
/// this a saved file would tile the pattern from where the layer was. Nothing to do when
/// the block is absent or not two numbers.
pub(crate) fn move_reference_point(kept: &mut Kept, dx: i32, dy: i32) {
    let Some(index) = kept
        .iter()
        .position(|b| b.format == KeptFormat::Psd && &b.key == b"fxrp" && b.data.len() == 16)
    else {
        return;
    };
    if dx == 0 && dy == 0 {
        return;
    }
    let block = &mut Arc::make_mut(kept)[index];
    for (chunk, delta) in block.data.chunks_exact_mut(8).zip([dx, dy]) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        let moved = f64::from_be_bytes(bytes) + f64::from(delta);
        chunk.copy_from_slice(&moved.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_point_moves_by_whole_pixels() {
        let mut data = 10.5f64.to_be_bytes().to_vec();
        data.extend_from_slice(&(-2.0f64).to_be_bytes());
        let block = KeptBlock {
            format: KeptFormat::Psd,
            key: *b"fxrp",
            data,
            undrawn: None,
        };
        let mut kept: Kept = Arc::new(vec![block]);
        let shared = Arc::clone(&kept);
        move_reference_point(&mut kept, 3, -4);
        let at = |k: &Kept, i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&k[0].data[i * 8..i * 8 + 8]);
            f64::from_be_bytes(b)
        };
        assert_eq!((at(&kept, 0), at(&kept, 1)), (13.5, -6.0));
        assert_eq!(at(&shared, 0), 10.5, "a history snapshot keeps its own");
    }
}
