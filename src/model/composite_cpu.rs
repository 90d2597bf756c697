//! The reference compositor: the slow, obviously-correct path every other one is tested against.
//!
//! Files store straight alpha; blending happens on premultiplied `f32` values with the W3C
//! compositing formula (see [`blend_straight`]). The layer tree is first turned into a
//! [`render_plan`](super::render_plan) — the same program the GPU runs — and that program is
//! run one canvas row at a time: rows are independent (feathered masks are blurred once,
//! before), so they are composited in parallel, each thread holding one `f32` row per
//! canvas of the plan's stack.

use std::sync::Arc;

use rayon::prelude::*;

use super::blend_pixel::{blend_atop, merge_canvas};
pub use super::blend_pixel::{blend_pixel, blend_pixel_at, blend_straight};
use super::pixels::{AlphaStats, Premul, unit, unpremultiply};
use super::render_plan::{Step, flat_plan, render_plan, stack_depth};
use super::{BBox, BlendMode, Coverage, Document, Layer, Mask, Offset, RgbaImage};

/// Flattens every visible layer of `doc`, with its groups, masks and clipping, onto a
/// transparent canvas of the document's size.
pub fn composite(doc: &Document) -> RgbaImage {
    let mut out = RgbaImage::new(doc.width, doc.height);
    Program::new(render_plan(doc)).run(&mut out, (0, 0));
    out
}

/// [`composite`], without a copy where the document is one layer that already is its own
/// composite: opaque, shown at full opacity in normal mode, covering the canvas from its
/// origin, with no mask, effects or group. That is every photograph just opened, and the
/// editor decomposes it without holding a second full-size picture (48 MB at 12 megapixels).
pub fn composite_shared(doc: &Document) -> Arc<RgbaImage> {
    match doc.layers.as_slice() {
        [layer] if is_its_own_composite(doc, layer) => Arc::clone(&layer.pixels),
        _ => Arc::new(composite(doc)),
    }
}

/// True when `layer`, the only one of `doc`, composites to exactly its own pixels.
fn is_its_own_composite(doc: &Document, layer: &Layer) -> bool {
    doc.groups.is_empty()
        && layer.visible
        && layer.opacity == 1.0
        && layer.fill_opacity == 1.0
        && layer.blend == BlendMode::Normal
        && layer.offset == Offset::default()
        && !layer.clipped
        && layer.mask.is_none()
        && layer.effects.is_none()
        && layer.adjustment.is_none()
        && layer.pixels.dimensions() == (doc.width, doc.height)
        // Straight alpha: a transparent pixel's colour does not survive compositing.
        && AlphaStats::of(&layer.pixels).is_opaque()
}

/// Flattens `layers` (bottom first, taken as one flat stack: groups ignored, masks and
/// clipping applied) onto a transparent canvas the size of `out`, writing straight-alpha
/// 8-bit pixels.
pub fn composite_into(layers: &[Layer], out: &mut RgbaImage) {
    Program::new(flat_plan(layers)).run(out, (0, 0));
}

/// Runs `steps` (a program of [`super::render_plan`]) onto `out`, a transparent canvas
/// whose top-left pixel is the canvas origin.
pub(crate) fn composite_steps(steps: Vec<Step<'_>>, out: &mut RgbaImage) {
    Program::new(steps).run(out, (0, 0));
}

/// The composited colour of `doc` (straight alpha) at canvas point (`x`, `y`).
pub(crate) fn composite_pixel(doc: &Document, x: i64, y: i64) -> [u8; 4] {
    let program = Program::new(render_plan(doc));
    let mut stack = vec![vec![[0.0f32; 4]; 1]; program.depth];
    program.run_row(&mut stack, x, y);
    unpremultiply(stack[0][0])
}

/// A render plan with its masks made ready (feathered once, not per row).
struct Program<'a> {
    steps: Vec<Step<'a>>,
    coverage: Vec<Option<Coverage>>,
    depth: usize,
}

impl<'a> Program<'a> {
    fn new(steps: Vec<Step<'a>>) -> Self {
        let coverage = steps
            .iter()
            .map(|step| match step {
                Step::Draw { layer, .. } => layer.mask.as_ref().and_then(Mask::coverage),
                Step::End(merge) => merge.mask.and_then(Mask::coverage),
                Step::Begin { .. } => None,
            })
            .collect();
        let depth = stack_depth(&steps);
        Self {
            steps,
            coverage,
            depth,
        }
    }

    /// Composites into `out`, whose top-left pixel is canvas point `origin`.
    fn run(&self, out: &mut RgbaImage, origin: (i64, i64)) {
        let width = out.width() as usize;
        if width == 0 {
            return;
        }
        out.par_chunks_mut(width * 4).enumerate().for_each_init(
            || vec![vec![[0.0f32; 4]; width]; self.depth],
            |stack, (y, row)| {
                self.run_row(stack, origin.0, origin.1 + y as i64);
                for (px, value) in row.chunks_exact_mut(4).zip(stack[0].iter()) {
                    px.copy_from_slice(&unpremultiply(*value));
                }
            },
        );
    }

    /// Runs the program over canvas row `y`, columns `x0..x0 + stack[0].len()`, leaving the
    /// result in `stack[0]`.
    fn run_row(&self, stack: &mut [Vec<Premul>], x0: i64, y: i64) {
        let mut top = 0;
        stack[0].fill([0.0; 4]);
        for (step, coverage) in self.steps.iter().zip(&self.coverage) {
            match *step {
                Step::Begin { backdrop } => {
                    top += 1;
                    let (below, above) = stack.split_at_mut(top);
                    if backdrop {
                        above[0].copy_from_slice(&below[top - 1]);
                    } else {
                        above[0].fill([0.0; 4]);
                    }
                }
                Step::Draw {
                    layer,
                    blend,
                    opacity,
                    clip,
                } => {
                    let how = DrawParams {
                        blend,
                        opacity,
                        fill: layer.fill_opacity,
                        clip,
                        coverage: coverage.as_ref(),
                    };
                    draw_row(&mut stack[top], x0, y, layer, &how);
                }
                Step::End(merge) => {
                    if top == 0 {
                        continue; // an unbalanced plan; render_plan never makes one
                    }
                    let (below, above) = stack.split_at_mut(top);
                    let dst = &mut below[top - 1];
                    for ((d, s), x) in dst.iter_mut().zip(above[0].iter()).zip(x0..) {
                        let mask = coverage.as_ref().map_or(1.0, |c| c.at(x, y));
                        let s = merge.map.map_or(*s, |adjustment| adjustment.apply(*s));
                        *d = merge_canvas(*d, s, merge.opacity * mask, merge.blend, (x, y));
                    }
                    top -= 1;
                }
            }
        }
    }
}

/// How one layer is drawn: a [`Step::Draw`] with its mask made ready.
struct DrawParams<'c> {
    blend: BlendMode,
    opacity: f32,
    fill: f32,
    clip: bool,
    coverage: Option<&'c Coverage>,
}

/// Blends canvas row `y` of `layer` into `acc` (premultiplied, one entry per canvas column
/// from `x0`).
fn draw_row(acc: &mut [Premul], x0: i64, y: i64, layer: &Layer, how: &DrawParams<'_>) {
    let bounds = layer.bounds();
    let row = BBox::new(x0, y, x0 + acc.len() as i64, y + 1).intersect(bounds);
    if row.is_empty() {
        return;
    }
    let row_in_layer = (y - bounds.y0) as usize;
    let layer_width = layer.width() as usize;
    let row_start = (row_in_layer * layer_width + (row.x0 - bounds.x0) as usize) * 4;
    let row_end = row_start + (row.x1 - row.x0) as usize * 4;
    let src_row = &layer.pixels.as_raw()[row_start..row_end];
    let dst = &mut acc[(row.x0 - x0) as usize..(row.x1 - x0) as usize];
    let blend = if how.clip { blend_atop } else { blend_straight };
    for ((d, s), x) in dst.iter_mut().zip(src_row.chunks_exact(4)).zip(row.x0..) {
        let mask = how.coverage.map_or(1.0, |c| c.at(x, y));
        let cs = [unit(s[0]), unit(s[1]), unit(s[2])];
        let alpha = unit(s[3]) * how.opacity * mask;
        *d = blend(*d, cs, alpha, how.fill, how.blend, (x, y));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgba;

    #[test]
    fn a_photo_is_its_own_composite_and_anything_else_is_composited() {
        let photo = RgbaImage::from_fn(5, 4, |x, y| Rgba([x as u8 * 40, y as u8 * 50, 90, 255]));
        let doc = Document::from_flat("photo", photo);
        let shared = composite_shared(&doc);
        assert!(Arc::ptr_eq(&shared, &doc.layers[0].pixels), "no copy");
        assert_eq!(*shared, composite(&doc));

        let mut faded = doc.clone();
        faded.layers[0].opacity = 0.5;
        let mut moved = doc.clone();
        moved.layers[0].offset = Offset::new(1, 0);
        let mut holed = doc.clone();
        Arc::make_mut(&mut holed.layers[0].pixels).put_pixel(2, 2, Rgba([9, 9, 9, 0]));
        for other in [faded, moved, holed] {
            let flat = composite_shared(&other);
            assert!(!Arc::ptr_eq(&flat, &other.layers[0].pixels));
            assert_eq!(*flat, composite(&other));
        }
    }

    fn solid(w: u32, h: u32, px: [u8; 4]) -> RgbaImage {
        RgbaImage::from_pixel(w, h, Rgba(px))
    }

    #[test]
    fn opaque_normal_layer_covers() {
        let mut doc = Document::new(2, 2);
        doc.push_layer("bg", solid(2, 2, [10, 20, 30, 255]));
        doc.push_layer("top", solid(1, 1, [200, 100, 50, 255]))
            .offset = Offset::new(1, 1);
        let out = composite(&doc);
        assert_eq!(out.get_pixel(0, 0).0, [10, 20, 30, 255]);
        assert_eq!(out.get_pixel(1, 1).0, [200, 100, 50, 255]);
    }

    #[test]
    fn half_opacity_over_transparent_keeps_colour() {
        let mut doc = Document::new(1, 1);
        doc.push_layer("a", solid(1, 1, [255, 0, 0, 255])).opacity = 0.5;
        assert_eq!(composite(&doc).get_pixel(0, 0).0, [255, 0, 0, 128]);
    }

    #[test]
    fn hidden_and_offcanvas_layers_do_nothing() {
        let mut doc = Document::new(2, 2);
        doc.push_layer("hidden", solid(2, 2, [255, 255, 255, 255]))
            .visible = false;
        doc.push_layer("far", solid(2, 2, [255, 255, 255, 255]))
            .offset = Offset::new(-5, 9);
        assert_eq!(composite(&doc).get_pixel(1, 1).0, [0, 0, 0, 0]);
    }

    #[test]
    fn multiply_on_opaque_backdrop() {
        let mut doc = Document::new(1, 1);
        doc.push_layer("bg", solid(1, 1, [200, 100, 255, 255]));
        doc.push_layer("m", solid(1, 1, [128, 255, 0, 255])).blend = BlendMode::Multiply;
        // 200·128/255 = 100.4, 100·1 = 100, 255·0 = 0
        assert_eq!(composite(&doc).get_pixel(0, 0).0, [100, 100, 0, 255]);
    }

    #[test]
    fn blend_over_transparent_acts_as_normal() {
        // Dissolve is the exception: it draws whole pixels or none (tested below).
        for mode in BlendMode::ALL
            .into_iter()
            .filter(|m| *m != BlendMode::Dissolve)
        {
            let mut doc = Document::new(1, 1);
            doc.push_layer("x", solid(1, 1, [90, 160, 30, 200])).blend = mode;
            assert_eq!(
                composite(&doc).get_pixel(0, 0).0,
                [90, 160, 30, 200],
                "{mode:?}"
            );
        }
    }

    #[test]
    fn dissolve_shows_whole_pixels_in_proportion_to_alpha() {
        let (w, h) = (64, 64);
        let mut doc = Document::new(w, h);
        doc.push_layer("bg", solid(w, h, [0, 0, 255, 255]));
        let top = doc.push_layer("d", solid(w, h, [255, 0, 0, 255]));
        top.blend = BlendMode::Dissolve;
        top.opacity = 0.25;
        let out = composite(&doc);
        let red = out.pixels().filter(|p| p.0 == [255, 0, 0, 255]).count();
        let blue = out.pixels().filter(|p| p.0 == [0, 0, 255, 255]).count();
        assert_eq!(red + blue, (w * h) as usize, "only whole pixels");
        let share = red as f64 / f64::from(w * h);
        assert!((share - 0.25).abs() < 0.03, "{share}");
        // Over nothing, shown pixels are opaque and the rest stay transparent.
        doc.layers[0].visible = false;
        let alone = composite(&doc);
        assert!(
            alone
                .pixels()
                .all(|p| p.0 == [255, 0, 0, 255] || p.0 == [0, 0, 0, 0])
        );
    }

    #[test]
    fn fill_and_opacity_multiply_outside_the_special_eight() {
        let mut doc = Document::new(1, 1);
        doc.push_layer("bg", solid(1, 1, [0, 0, 255, 255]));
        let top = doc.push_layer("top", solid(1, 1, [255, 0, 0, 255]));
        top.blend = BlendMode::Screen;
        top.opacity = 0.5;
        top.fill_opacity = 0.5;
        let both = composite(&doc).get_pixel(0, 0).0;
        doc.layers[1].opacity = 0.25;
        doc.layers[1].fill_opacity = 1.0;
        assert_eq!(both, composite(&doc).get_pixel(0, 0).0);
        doc.layers[1].fill_opacity = 0.0;
        assert_eq!(composite(&doc).get_pixel(0, 0).0, [0, 0, 255, 255]);
    }

    /// ag-psd's `read/fill-opacity` test file (Photoshop): a 1×1 canvas with blue at 60 %,
    /// green in linear light at 40 % opacity, and red in linear light at 20 % fill. The stored
    /// composite is (63, 78, 66, 206); opacity × fill would give (63, 101, 91, 206).
    #[test]
    fn linear_light_fill_matches_photoshop() {
        let mut doc = Document::new(1, 1);
        doc.push_layer("blue", solid(1, 1, [0, 0, 255, 255]))
            .opacity = 153.0 / 255.0;
        let green = doc.push_layer("green", solid(1, 1, [0, 255, 0, 255]));
        green.blend = BlendMode::LinearLight;
        green.opacity = 102.0 / 255.0;
        let red = doc.push_layer("red", solid(1, 1, [255, 0, 0, 255]));
        red.blend = BlendMode::LinearLight;
        red.fill_opacity = 51.0 / 255.0;
        let out = composite(&doc).get_pixel(0, 0).0;
        let stored = [63, 78, 66, 206];
        for c in 0..4 {
            assert!(out[c].abs_diff(stored[c]) <= 1, "{out:?} vs {stored:?}");
        }
    }

    #[test]
    fn special_eight_at_zero_fill_leave_an_opaque_backdrop() {
        for mode in BlendMode::ALL
            .into_iter()
            .filter(|m| m.fill_neutral().is_some())
        {
            let mut doc = Document::new(1, 1);
            doc.push_layer("bg", solid(1, 1, [30, 140, 220, 255]));
            let top = doc.push_layer("top", solid(1, 1, [200, 10, 90, 255]));
            top.blend = mode;
            top.fill_opacity = 0.0;
            let out = composite(&doc).get_pixel(0, 0).0;
            assert!(
                out.iter()
                    .zip([30, 140, 220, 255])
                    .all(|(a, b)| a.abs_diff(b) <= 1),
                "{mode:?}: {out:?}"
            );
        }
    }
}
