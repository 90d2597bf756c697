//! Texture features for the patch distance, after Newson, Almansa, Gousseau and Pérez
//! ("Video Inpainting of Complex Scenes", SIAM J. Imaging Sciences 7(4), 2014).
//!
//! A hole starts from a smooth guess, and against a smooth target the best match is a smooth
//! source: grain, bark or sand then never comes back, and the fill stays a blur. Newson et
//! al. add to every pixel the mean absolute luminance gradients over a patch-sized window,
//! `(mean |∂x L|, mean |∂y L|)`, and count their difference in the patch distance. Inside the
//! hole the features are filled smoothly from the surrounding ones, which keeps the *amount*
//! of texture the border has, so grainy sources win over smooth ones even while the colours
//! are still a blur. The coarse levels inherit the full-resolution features by averaging, so
//! they too can tell grain from flat paint they cannot resolve.

use super::canvas::{Canvas, Mask, box_filter, tex_code, tex_value};
use super::patchmatch::RADIUS;
use super::span::Span;
use super::telea::{Plane, telea_from_sources};
use crate::decompose::DecomposeError;

/// Known pixels within the smooth fill's averaging window for the features.
const FEATURE_TELEA_RADIUS: usize = 5;

/// The texture features of `canvas` (one `[∂x, ∂y]` pair per pixel, coded by
/// [`tex_code`]), measured where the window holds no hole pixel and filled smoothly
/// elsewhere. The gradients are box-filtered as they are computed and the smooth fill runs
/// on the hole's surroundings only, so the only picture-sized buffer is the result's two
/// bytes a pixel.
pub(crate) fn features(
    canvas: &Canvas,
    hole: &Mask,
    excluded: Option<&Mask>,
    span: &Span<'_>,
) -> Result<Vec<[u8; 2]>, DecomposeError> {
    let (w, h) = (canvas.width, canvas.height);
    let luma = |i: usize| {
        let p = canvas.get(i);
        0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]
    };
    // Central differences; a difference touching the hole is unknown (0 here, and the whole
    // window around it is re-filled below).
    let gradient = |i: usize| -> [f32; 2] {
        let (x, y) = (i % w, i / w);
        let known = |j: usize| !hole.bits[j];
        let gx = if x > 0 && x + 1 < w && known(i - 1) && known(i + 1) {
            (luma(i + 1) - luma(i - 1)).abs() * 0.5
        } else {
            0.0
        };
        let gy = if y > 0 && y + 1 < h && known(i - w) && known(i + w) {
            (luma(i + w) - luma(i - w)).abs() * 0.5
        } else {
            0.0
        };
        [gx, gy]
    };
    let mut tex = vec![[0u8; 2]; w * h];
    box_filter(w, h, RADIUS, gradient, &mut tex, |v| {
        [tex_code(v[0]), tex_code(v[1])]
    });
    span.check()?;
    // A window reaching into the hole measured garbage: fill it from the clean ones.
    let unknown = dilate(hole, RADIUS + 1);
    if unknown.bits.iter().all(|&b| b) {
        return Ok(vec![[0; 2]; w * h]);
    }
    let Some((at, size)) = unknown.bounds(FEATURE_TELEA_RADIUS + 2) else {
        return Ok(tex);
    };
    let sub_unknown = unknown.window(at, size);
    drop(unknown);
    // Filled in floats: Telea extrapolates gradients, so on the square-root code it
    // overshoots next to an edge between flat and grainy parts, and linear bytes would
    // round the small features of smooth areas away (both cost texture in the bench).
    let mut sub = Features {
        width: size.0,
        height: size.1,
        values: Vec::with_capacity(size.0 * size.1),
    };
    for y in at.1..at.1 + size.1 {
        sub.values.extend(
            tex[y * w + at.0..y * w + at.0 + size.0]
                .iter()
                .map(|t| [tex_value(t[0]), tex_value(t[1])]),
        );
    }
    let sub_excluded = excluded.map(|e| e.window(at, size));
    telea_from_sources(
        &mut sub,
        &sub_unknown,
        sub_excluded.as_ref(),
        FEATURE_TELEA_RADIUS,
        span,
    )?;
    for y in 0..size.1 {
        for x in 0..size.0 {
            let k = y * size.0 + x;
            if sub_unknown.bits[k] {
                let v = sub.values[k];
                tex[(at.1 + y) * w + at.0 + x] = [tex_code(v[0]), tex_code(v[1])];
            }
        }
    }
    Ok(tex)
}

/// Texture features in floats, as Telea's method fills them.
#[derive(Clone)]
struct Features {
    width: usize,
    height: usize,
    values: Vec<[f32; 2]>,
}

impl Plane for Features {
    fn width(&self) -> usize {
        self.width
    }

    fn height(&self) -> usize {
        self.height
    }

    fn get(&self, i: usize) -> [f32; 4] {
        let v = self.values[i];
        // Opaque, so Telea's clamp to a valid premultiplied colour leaves them be.
        [v[0], v[1], 0.0, 1.0]
    }

    fn set(&mut self, i: usize, v: [f32; 4]) {
        self.values[i] = [v[0], v[1]];
    }
}

/// The mask grown by `r` pixels (a square), by two separable passes.
fn dilate(mask: &Mask, r: usize) -> Mask {
    let (w, h) = (mask.width, mask.height);
    let mut rows = vec![false; w * h];
    for y in 0..h {
        let line = &mask.bits[y * w..(y + 1) * w];
        // The nearest set pixel at or right of x, then at or left of it.
        let mut next: Option<usize> = None;
        let mut last: Option<usize> = None;
        for x in (0..w).rev() {
            if line[x] {
                next = Some(x);
            }
            rows[y * w + x] = next.is_some_and(|n| n - x <= r);
        }
        for x in 0..w {
            if line[x] {
                last = Some(x);
            }
            rows[y * w + x] |= last.is_some_and(|l| x - l <= r);
        }
    }
    let mut bits = vec![false; w * h];
    for x in 0..w {
        let mut last: Option<usize> = None;
        let mut next: Option<usize> = None;
        for y in (0..h).rev() {
            if rows[y * w + x] {
                next = Some(y);
            }
            bits[y * w + x] = next.is_some_and(|n| n - y <= r);
        }
        for y in 0..h {
            if rows[y * w + x] {
                last = Some(y);
            }
            bits[y * w + x] |= last.is_some_and(|l| y - l <= r);
        }
    }
    Mask {
        width: w,
        height: h,
        bits,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decompose::Progress;

    #[test]
    fn features_carry_the_borders_grain_into_the_hole() {
        // Left half flat, right half a fine diagonal grain; a hole in the grainy half.
        let (w, h) = (40, 30);
        let canvas = Canvas::from_fn(w, h, |i| {
            let (x, y) = (i % w, i / w);
            let v = if x < 20 {
                0.5
            } else {
                0.2 + 0.3 * ((x + 2 * y) % 3) as f32
            };
            [v, v, v, 1.0]
        });
        let bits = (0..w * h)
            .map(|i| (26..34).contains(&(i % w)) && (10..20).contains(&(i / w)))
            .collect();
        let hole = Mask {
            width: w,
            height: h,
            bits,
        };
        let progress = Progress::new();
        let scoped = progress.scoped(0.0, 1.0);
        let span = Span::new(&scoped);
        let tex = features(&canvas, &hole, None, &span).expect("features");
        let value = |i: usize| tex[i].map(tex_value);
        let inside = value(15 * w + 30);
        let flat = value(15 * w + 5);
        let grain = value(5 * w + 30); // measured above the hole
        assert!(grain[0] > 0.1 && grain[1] > 0.1, "{grain:?}");
        for c in 0..2 {
            assert!(
                (inside[c] - grain[c]).abs() < 0.5 * grain[c],
                "{inside:?} vs {grain:?}"
            );
        }
        assert!(flat[0] < 0.01 && flat[1] < 0.01, "{flat:?}");
    }

    #[test]
    fn faint_grain_survives_the_fill_of_the_features() {
        // A one-step ripple every sixth column: features far below a byte's step on a
        // linear scale, which a fill in bytes would round to flat.
        let (w, h) = (40, 30);
        let canvas = Canvas::from_fn(w, h, |i| {
            let v = 0.5 + ((i % w) / 6 % 2) as f32 / 255.0;
            [v, v, v, 1.0]
        });
        let hole = Mask {
            width: w,
            height: h,
            bits: (0..w * h)
                .map(|i| (16..24).contains(&(i % w)) && (10..20).contains(&(i / w)))
                .collect(),
        };
        let progress = Progress::new();
        let scoped = progress.scoped(0.0, 1.0);
        let tex = features(&canvas, &hole, None, &Span::new(&scoped)).expect("features");
        let grain = tex_value(tex[3 * w + 20][0]);
        let inside = tex_value(tex[15 * w + 20][0]);
        assert!(grain > 0.0 && grain < 0.5 * 0.5 / 255.0, "{grain}");
        assert!((inside - grain).abs() < 0.5 * grain, "{inside} vs {grain}");
    }

    #[test]
    fn dilate_grows_by_r() {
        let mut bits = vec![false; 100];
        bits[55] = true;
        let grown = dilate(
            &Mask {
                width: 10,
                height: 10,
                bits,
            },
            2,
        );
        assert_eq!(grown.bits.iter().filter(|&&b| b).count(), 25);
        assert!(grown.bits[33] && grown.bits[77] && !grown.bits[32]);
    }
}
