//! Layer ▸ Fill behind this layer: refill the layer below the selected one where the
//! selected layer covers it, so moving or hiding the selected layer shows plausible
//! background instead of the object's old copy.
//!
//! The fill runs as a job of the decomposition runner ([`Target::Refill`]), so it gets the
//! same worker thread, progress bar, Cancel and failure handling, and arrives as one undo step.

use image::{GrayImage, Luma};

use super::StrataApp;
use crate::decompose::inpaint::{self, grow};
use crate::decompose::jobs::Target;
use crate::decompose::{
    DecomposeError, Decomposer, LayerCount, LayerSpec, Method, Options, Progress,
};
use crate::model::{Document, Layer, LayerId, Offset, RgbaImage};

/// Alpha (0..=255) from which a pixel of the upper layer counts as covering: faint shadows
/// and glows below it are left alone.
pub const COVER_ALPHA: u8 = 32;
/// Pixels the hole grows beyond the covered area, so the anti-aliased edge, where the old
/// object still shows through partly, is refilled too.
pub const EDGE_MARGIN: u32 = 2;

/// The hole in `lower`'s own pixels where `upper` covers it (alpha at least
/// [`COVER_ALPHA`], grown by [`EDGE_MARGIN`]); `None` when it covers none of it.
pub fn hole_under(upper: &Layer, lower: &Layer) -> Option<GrayImage> {
    let (w, h) = lower.pixels.dimensions();
    let (uw, uh) = upper.pixels.dimensions();
    // Upper-layer pixel = lower-layer pixel + shift.
    let dx = i64::from(lower.offset.x) - i64::from(upper.offset.x);
    let dy = i64::from(lower.offset.y) - i64::from(upper.offset.y);
    let mut any = false;
    let covered = GrayImage::from_fn(w, h, |x, y| {
        let (ux, uy) = (i64::from(x) + dx, i64::from(y) + dy);
        let inside = ux >= 0 && uy >= 0 && ux < i64::from(uw) && uy < i64::from(uh);
        let cover = inside && upper.pixels.get_pixel(ux as u32, uy as u32).0[3] >= COVER_ALPHA;
        any |= cover;
        Luma([if cover { 255 } else { 0 }])
    });
    any.then(|| grow(&covered, EDGE_MARGIN))
}

/// The "decomposition" that fills: one layer, the input with `hole` inpainted.
pub struct FillBehind {
    pub hole: GrayImage,
}

impl Decomposer for FillBehind {
    fn decompose(
        &self,
        image: &RgbaImage,
        options: &Options,
        progress: &Progress,
    ) -> Result<Vec<LayerSpec>, DecomposeError> {
        let scoped = progress.scoped(0.0, 1.0);
        let filled = inpaint::inpaint(image, &self.hole, &scoped, options.seed)?;
        Ok(vec![LayerSpec::new("filled", filled, Offset::default())])
    }
}

/// The layer directly below `id`, if any.
pub fn layer_below(doc: &Document, id: LayerId) -> Option<&Layer> {
    let index = doc.index_of(id)?;
    doc.layers.get(index.checked_sub(1)?)
}

/// Options of a fill job: the cheapest method for the memory estimate, one layer.
fn fill_options() -> Options {
    Options {
        method: Method::Regions,
        layers: LayerCount::AtMost(1),
        seed: 0,
    }
}

impl StrataApp {
    /// Starts refilling the layer below `upper` where `upper` covers it (`apply` has refused
    /// a locked layer below already).
    pub(super) fn start_fill_behind(&mut self, upper: LayerId) {
        let Some(top) = self.doc.layer(upper) else {
            return self.messages.error("That layer no longer exists.");
        };
        let Some(lower) = layer_below(&self.doc, upper) else {
            return self.messages.error("There is no layer below to fill.");
        };
        let Some(hole) = hole_under(top, lower) else {
            return self.messages.info(format!(
                "Nothing to fill: {} covers none of {}.",
                top.name, lower.name
            ));
        };
        let target = Target::Refill(lower.id);
        self.start_custom_decompose(target, fill_options(), Box::new(FillBehind { hole }));
    }
}

/// Puts `pixels` in place of layer `id`'s (same size, same place, same style); `None` if
/// the layer is gone.
pub fn refill(doc: &mut Document, id: LayerId, pixels: RgbaImage) -> Option<()> {
    let layer = doc.layer_mut(id)?;
    layer.pixels = std::sync::Arc::new(pixels);
    Some(())
}

#[cfg(test)]
#[path = "fill_behind_tests.rs"]
mod gui_tests;

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.
mod tests {
    use super::*;

    #[test]
    fn the_hole_follows_the_upper_layers_alpha_and_offset() {
        let mut doc = Document::new(20, 10);
        doc.push_layer(
            "bottom",
            RgbaImage::from_pixel(20, 10, image::Rgba([9, 9, 9, 255])),
        );
        let mut dot = RgbaImage::new(3, 3);
        dot.put_pixel(1, 1, image::Rgba([255, 0, 0, 255]));
        dot.put_pixel(0, 0, image::Rgba([255, 0, 0, COVER_ALPHA - 1]));
        let top = doc.push_layer("dot", dot);
        top.offset = Offset::new(10, 4);
        let hole = hole_under(&doc.layers[1], &doc.layers[0]).unwrap();
        let set: Vec<(u32, u32)> = hole
            .enumerate_pixels()
            .filter(|p| p.2.0[0] == 255)
            .map(|(x, y, _)| (x, y))
            .collect();
        let m = EDGE_MARGIN;
        assert_eq!(set.len(), ((2 * m + 1) * (2 * m + 1)) as usize, "{set:?}");
        assert!(set.contains(&(11, 5)) && set.contains(&(11 + m, 5 + m)));
        // Moved off the canvas layer entirely: nothing to fill.
        doc.layers[1].offset = Offset::new(40, 4);
        assert!(hole_under(&doc.layers[1], &doc.layers[0]).is_none());
    }
}
