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

use super::canvas::{Canvas, Mask};
use super::patchmatch::RADIUS;
use super::span::Span;
use super::telea::telea_from_sources;
use crate::decompose::DecomposeError;

/// Known pixels within the smooth fill's averaging window for the features.
const FEATURE_TELEA_RADIUS: usize = 5;

/// The texture features of `canvas` (one `[∂x, ∂y]` pair per pixel), measured where the
/// window holds no hole pixel and filled smoothly elsewhere.
pub(crate) fn features(
    canvas: &Canvas,
    hole: &Mask,
    excluded: Option<&Mask>,
    span: &Span<'_>,
) -> Result<Vec<[f32; 2]>, DecomposeError> {
    let (w, h) = (canvas.width, canvas.height);
    let luma = |i: usize| {
        let p = canvas.px[i];
        0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]
    };
    // Central differences; a difference touching the hole is unknown (0 here, and the whole
    // window around it is re-filled below).
    let mut grads = Canvas {
        width: w,
        height: h,
        px: vec![[0.0; 4]; w * h],
        tex: Vec::new(),
    };
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
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
            grads.px[i] = [gx, gy, 0.0, 1.0];
        }
    }
    span.check()?;
    let mut averaged = Canvas {
        px: grads.box_mean(RADIUS),
        ..grads
    };
    // A window reaching into the hole measured garbage: fill it from the clean ones.
    let unknown = dilate(hole, RADIUS + 1);
    if unknown.bits.iter().all(|&b| b) {
        return Ok(vec![[0.0; 2]; w * h]);
    }
    telea_from_sources(
        &mut averaged,
        &unknown,
        excluded,
        FEATURE_TELEA_RADIUS,
        span,
    )?;
    Ok(averaged.px.iter().map(|p| [p[0], p[1]]).collect())
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
        let px = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                let v = if x < 20 {
                    0.5
                } else {
                    0.2 + 0.3 * ((x + 2 * y) % 3) as f32
                };
                [v, v, v, 1.0]
            })
            .collect();
        let canvas = Canvas {
            width: w,
            height: h,
            px,
            tex: Vec::new(),
        };
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
        let inside = tex[15 * w + 30];
        let flat = tex[15 * w + 5];
        let grain = tex[5 * w + 30]; // measured above the hole
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
