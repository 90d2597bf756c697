//! The reference compositor: the slow, obviously-correct path every other one is tested against.
//!
//! Files store straight alpha; blending happens on premultiplied `f32` values with the W3C
//! compositing formula
//!
//! ```text
//! co = cs·(1 − ab) + cb·(1 − as) + as·ab·B(Cb, Cs)      (cs, cb premultiplied; Cs, Cb straight)
//! ao = as + ab·(1 − as)
//! ```
//!
//! where `as` already includes the layer opacity and fill opacity. The canvas starts fully transparent. Rows are
//! independent, so they are composited in parallel and only one `f32` row per thread is held.

use rayon::prelude::*;

use super::blend_math::dissolve_threshold;
use super::pixels::{Premul, unit, unpremultiply};
use super::{BBox, BlendMode, Document, Layer, RgbaImage};

/// Flattens every visible layer of `doc` onto a transparent canvas of the document's size.
pub fn composite(doc: &Document) -> RgbaImage {
    let mut out = RgbaImage::new(doc.width, doc.height);
    composite_into(&doc.layers, &mut out);
    out
}

/// Flattens `layers` (bottom first) onto a transparent canvas the size of `out`,
/// writing straight-alpha 8-bit pixels.
pub fn composite_into(layers: &[Layer], out: &mut RgbaImage) {
    let width = out.width() as usize;
    if width == 0 {
        return;
    }
    let visible: Vec<&Layer> = layers
        .iter()
        .filter(|l| l.visible && l.opacity > 0.0)
        .collect();
    out.par_chunks_mut(width * 4).enumerate().for_each_init(
        || vec![[0.0f32; 4]; width],
        |acc, (y, row)| {
            acc.fill([0.0; 4]);
            for layer in &visible {
                blend_layer_row(acc, layer, y as i64);
            }
            for (px, value) in row.chunks_exact_mut(4).zip(acc.iter()) {
                px.copy_from_slice(&unpremultiply(*value));
            }
        },
    );
}

/// Blends canvas row `y` of `layer` into `acc` (premultiplied, one entry per canvas column).
fn blend_layer_row(acc: &mut [Premul], layer: &Layer, y: i64) {
    let bounds = layer.bounds();
    let row = BBox::new(0, y, acc.len() as i64, y + 1).intersect(bounds);
    if row.is_empty() {
        return;
    }
    let (x0, x1) = (row.x0, row.x1);
    let row_in_layer = (y - bounds.y0) as usize;
    let layer_width = layer.width() as usize;
    let row_start = (row_in_layer * layer_width + (x0 - bounds.x0) as usize) * 4;
    let row_end = row_start + (x1 - x0) as usize * 4;
    let src_row = &layer.pixels.as_raw()[row_start..row_end];
    let dst = &mut acc[x0 as usize..x1 as usize];
    for ((d, s), x) in dst.iter_mut().zip(src_row.chunks_exact(4)).zip(x0..) {
        let src = [s[0], s[1], s[2], s[3]];
        *d = blend_pixel_at(
            *d,
            src,
            (layer.opacity, layer.fill_opacity),
            layer.blend,
            (x, y),
        );
    }
}

/// Composites one straight-alpha source pixel with layer `opacity` over the premultiplied
/// backdrop `below`, using `mode`. Dissolve depends on where the pixel is: this is
/// [`blend_pixel_at`] at the canvas origin and full fill, for callers that blend other modes.
#[inline]
pub fn blend_pixel(below: Premul, src: [u8; 4], opacity: f32, mode: BlendMode) -> Premul {
    blend_pixel_at(below, src, (opacity, 1.0), mode, (0, 0))
}

/// [`blend_pixel`] with the layer's `(opacity, fill opacity)`, for the pixel at canvas point
/// `at` (which only dissolve looks at).
///
/// Fill multiplies with opacity, except in the modes with a [`BlendMode::fill_neutral`]
/// colour `N`: there, with `α` the pixel's alpha times opacity and `φ` the fill,
///
/// ```text
/// co = α·φ·(1 − ab)·Cs + α·ab·B(Cb, N + φ·(Cs − N)) + (1 − α)·cb
/// ao = α·φ + ab·(1 − α·φ)
/// ```
#[inline]
pub fn blend_pixel_at(
    below: Premul,
    src: [u8; 4],
    (opacity, fill): (f32, f32),
    mode: BlendMode,
    at: (i64, i64),
) -> Premul {
    let alpha = unit(src[3]) * opacity;
    if alpha <= 0.0 {
        return below;
    }
    let a_s = alpha * fill;
    if mode == BlendMode::Dissolve {
        // Shown pixels are the layer's colour at full alpha; the others leave the backdrop.
        if a_s <= dissolve_threshold(at.0, at.1) {
            return below;
        }
        return [unit(src[0]), unit(src[1]), unit(src[2]), 1.0];
    }
    let a_b = below[3];
    let cs = [unit(src[0]), unit(src[1]), unit(src[2])];
    // Where the layer meets the backdrop: the colour the blend function sees, and at what
    // alpha its result covers the backdrop.
    let (blend_src, blend_alpha) = match mode.fill_neutral() {
        Some(neutral) if fill < 1.0 => (cs.map(|c| neutral + fill * (c - neutral)), alpha),
        _ => (cs, a_s),
    };
    let blended = if mode == BlendMode::Normal || a_b <= 0.0 {
        blend_src
    } else {
        mode.blend_rgb([below[0] / a_b, below[1] / a_b, below[2] / a_b], blend_src)
    };
    let mut out = [0.0; 4];
    for c in 0..3 {
        // The layer over transparency, the blend over the backdrop, the backdrop showing
        // through.
        out[c] = a_s * (1.0 - a_b) * cs[c]
            + blend_alpha * a_b * blended[c]
            + below[c] * (1.0 - blend_alpha);
    }
    out[3] = a_s + a_b * (1.0 - a_s);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Offset;
    use image::Rgba;

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
