//! The voting step of the EM iteration (Wexler, Shechtman & Irani 2007, see `exemplar`):
//! every hole pixel becomes the weighted mean of what the matched source patches covering
//! it say it should be, each shifted in colour by its bias correction. Also the voting
//! weights, which the gradient-domain blend (`blend`) reuses for its guidance.

use rayon::prelude::*;

use super::canvas::{Canvas, INV, Mask, Px, scale, store};
use super::patchmatch::{Field, NONE, PATCH_PIXELS, RADIUS, bias};
use super::span::Span;
use crate::decompose::DecomposeError;

/// Wexler et al.'s confidence decay: a target patch `d` pixels inside the hole votes with
/// weight `BORDER_DECAY^-d` on top of its similarity, so the well-constrained patches at the
/// border (mostly known context) lead and the fill grows inwards from them.
pub(super) const BORDER_DECAY: f32 = 1.3;
/// Distances beyond this count as this far, so deep votes keep representable weights.
pub(super) const BORDER_DECAY_CAP: u32 = 30;

/// Rows of the field voted on per step (see [`vote`]).
const VOTE_ROWS: usize = 32;

/// Re-estimates every hole pixel from the matches of all target patches covering it, each
/// weighted by its patch similarity `exp(−d / 2σ²)` with σ² the 75th percentile of the
/// per-pixel match errors, as Wexler et al. suggest, times the patch's `confidence` (its
/// distance to the hole's border). Source pixels are always known pixels, which voting never
/// writes, so the `hole` pixels can be recomputed band by band in place.
pub(super) fn vote(
    canvas: &mut Canvas,
    means: &[Px],
    field: &Field,
    (hole, confidence): (&Mask, &[u8]),
    span: &Span<'_>,
) -> Result<(), DecomposeError> {
    let sigma2 = weight_scale(field);
    let (rect, w) = (field.rect, canvas.width);
    let r = RADIUS;
    // Band by band of the field's rows: the weights of the patches covering a band (its rows
    // and `RADIUS` more each side), then its hole pixels' new values, computed in parallel
    // from the known pixels (which voting never writes) and then written. No buffer of a
    // weight per target or a value per hole pixel for the whole hole is held.
    for y0 in (0..rect.height).step_by(VOTE_ROWS) {
        // A cancel is noticed within one band's time even on huge holes.
        span.check()?;
        let y1 = (y0 + VOTE_ROWS).min(rect.height);
        let (wy0, wy1) = (y0.saturating_sub(r), (y1 + r).min(rect.height));
        let covering = wy0 * rect.width..wy1 * rect.width;
        let weights = patch_weights(field, confidence, covering.clone(), sigma2);
        // Each target's colour shift is read by all the pixels its patch covers: worked out
        // once per band rather than once per covered pixel (it reads two patch means, one
        // at a random place).
        let shifts: Vec<[f32; 4]> = covering
            .into_par_iter()
            .map(|k| {
                let m = field.nnf[k];
                if m == NONE {
                    return [0.0; 4];
                }
                let q = (rect.y0 + k / rect.width) * w + rect.x0 + k % rect.width;
                bias(means, q, m as usize).map(|v| v * 255.0)
            })
            .collect();
        let pixels: Vec<usize> = (rect.y0 + y0..rect.y0 + y1)
            .flat_map(|y| (rect.x0..rect.x0 + rect.width).map(move |x| y * w + x))
            .filter(|&i| hole.bits[i])
            .collect();
        let ballot = Ballot {
            img: canvas,
            field,
            weights: &weights,
            shifts: &shifts,
            weights_from: wy0 * rect.width,
        };
        let values: Vec<Px> = pixels.par_iter().map(|&p| store(ballot.count(p))).collect();
        for (&p, v) in pixels.iter().zip(values) {
            canvas.px[p] = v;
        }
    }
    Ok(())
}

/// Voting weight of the target patches `range` of `field` (indices into it): similarity
/// `exp(−d / 2σ²)` times the border confidence `BORDER_DECAY^−depth`; 0 where there is no
/// match.
pub(super) fn patch_weights(
    field: &Field,
    confidence: &[u8],
    range: std::ops::Range<usize>,
    sigma2: f32,
) -> Vec<f32> {
    let decay: [f32; BORDER_DECAY_CAP as usize + 1] =
        std::array::from_fn(|d| BORDER_DECAY.powi(-(d as i32)));
    field.nnf[range.clone()]
        .par_iter()
        .zip(&field.cost[range.clone()])
        .zip(&confidence[range])
        .map(|((&m, &cost), &depth)| {
            if m == NONE {
                0.0
            } else {
                decay[usize::from(depth)] * (-cost / PATCH_PIXELS / (2.0 * sigma2)).exp()
            }
        })
        .collect()
}

/// What voting for one pixel reads.
struct Ballot<'a> {
    img: &'a Canvas,
    field: &'a Field,
    /// Voting weight per target patch, for the field's entries from `weights_from` on.
    weights: &'a [f32],
    /// The colour shift of each target's match ([`bias`], in byte units), likewise.
    shifts: &'a [[f32; 4]],
    weights_from: usize,
}

impl Ballot<'_> {
    /// The new value of hole pixel `p`.
    fn count(&self, p: usize) -> [f32; 4] {
        let (weighted, weight_sum) = self.tally(p, false);
        let v = if weight_sum > 1e-20 {
            scale(weighted, INV / weight_sum)
        } else {
            // Rare (every covering match far worse than σ): count them alike.
            match self.tally(p, true) {
                (plain, count) if count > 0.0 => scale(plain, INV / count),
                _ => self.img.get(p),
            }
        };
        // Colour shifts can leave the valid range: `store` clamps to a valid premultiplied
        // colour when the caller writes it.
        v
    }

    /// The sum of the values the patches covering hole pixel `p` vote for, each weighted
    /// by its similarity weight (or 1 each when `uniform`), in byte units, and the weights'
    /// sum.
    fn tally(&self, p: usize, uniform: bool) -> ([f32; 4], f32) {
        let w = self.img.width as i64;
        let r = RADIUS as i64;
        let (px, py) = (p as i64 % w, p as i64 / w);
        // Every patch covering a hole pixel is a target, so it lies in the field's rectangle;
        // the clipping below only guards the canvas edges.
        let rect = self.field.rect;
        let (rx0, ry0) = (rect.x0 as i64, rect.y0 as i64);
        let (rx1, ry1) = (rx0 + rect.width as i64, ry0 + rect.height as i64);
        let mut sum = [0.0f32; 4];
        let mut total = 0.0f32;
        for dy in -r..=r {
            let qy = py - dy;
            if qy < ry0 || qy >= ry1 {
                continue;
            }
            let row = (qy - ry0) * rect.width as i64 - rx0;
            for dx in -r..=r {
                let qx = px - dx;
                if qx < rx0 || qx >= rx1 {
                    continue;
                }
                let k = (row + qx) as usize;
                let m = self.field.nnf[k];
                if m == NONE {
                    continue;
                }
                // The source patch lies wholly inside the image, so this stays in bounds.
                let s = ((m as i64 / w + dy) * w + m as i64 % w + dx) as usize;
                let at = k - self.weights_from;
                let weight = if uniform { 1.0 } else { self.weights[at] };
                let delta = self.shifts[at];
                let p = self.img.px[s];
                sum[0] += weight * (f32::from(p[0]) + delta[0]);
                sum[1] += weight * (f32::from(p[1]) + delta[1]);
                sum[2] += weight * (f32::from(p[2]) + delta[2]);
                sum[3] += weight * (f32::from(p[3]) + delta[3]);
                total += weight;
            }
        }
        (sum, total)
    }
}

/// σ² of the voting weights: the 75th percentile of per-pixel match errors (finite ones).
pub(super) fn weight_scale(field: &Field) -> f32 {
    let errors = || {
        field
            .nnf
            .iter()
            .zip(&field.cost)
            .filter(|&(&m, c)| m != NONE && c.is_finite())
            .map(|(_, &c)| c / PATCH_PIXELS)
    };
    let count = errors().count();
    if count == 0 {
        return 1.0;
    }
    kth_smallest(errors, count * 3 / 4).max(1e-5)
}

/// The `k`-th smallest (from 0) of the finite values `values()` yields, in the order of
/// [`f32::total_cmp`]; `k` must be below their count.
///
/// A radix selection over the values' bits, in two passes of 16 bits each, instead of a
/// selection in a copy: on a big hole the field holds millions of matches, and that copy
/// used to set the fill's peak memory.
fn kth_smallest<I: Iterator<Item = f32>>(values: impl Fn() -> I, k: usize) -> f32 {
    // The bits mapped so that unsigned order is total_cmp's order: negatives flipped
    // whole, positives with the sign bit set.
    let key = |v: f32| {
        let bits = v.to_bits();
        if bits & 0x8000_0000 != 0 {
            !bits
        } else {
            bits | 0x8000_0000
        }
    };
    let mut histogram = vec![0usize; 1 << 16];
    // Which bucket of 2^16 counts holds rank `rank`, and the rank within it.
    let find = |histogram: &[usize], mut rank: usize| {
        for (bucket, &n) in histogram.iter().enumerate() {
            if rank < n {
                return (bucket as u32, rank);
            }
            rank -= n;
        }
        (u32::from(u16::MAX), 0)
    };
    for v in values() {
        histogram[(key(v) >> 16) as usize] += 1;
    }
    let (high, rank) = find(&histogram, k);
    histogram.fill(0);
    for v in values().filter(|&v| key(v) >> 16 == high) {
        histogram[(key(v) & 0xffff) as usize] += 1;
    }
    let (low, _) = find(&histogram, rank);
    let key = (high << 16) | low;
    f32::from_bits(if key & 0x8000_0000 != 0 {
        key & 0x7fff_ffff
    } else {
        !key
    })
}

#[cfg(test)]
mod tests {
    use super::kth_smallest;
    use crate::decompose::rng::SplitMix64;

    #[test]
    fn the_radix_selection_agrees_with_sorting() {
        let mut rng = SplitMix64::new(7);
        for len in [1usize, 2, 3, 17, 1000, 5000] {
            let values: Vec<f32> = (0..len)
                .map(|i| match i % 7 {
                    0 => 0.0,
                    1 => -0.0,
                    2 => -rng.unit() * 3.0,
                    3 => 1e-30 * rng.unit(),
                    // Ties.
                    4 => 0.5,
                    _ => rng.unit() * 1000.0,
                })
                .collect();
            let mut sorted = values.clone();
            sorted.sort_by(f32::total_cmp);
            for k in [0, len / 4, len / 2, len * 3 / 4, len - 1] {
                let got = kth_smallest(|| values.iter().copied(), k);
                assert_eq!(got.to_bits(), sorted[k].to_bits(), "len {len} k {k}");
            }
        }
    }
}
