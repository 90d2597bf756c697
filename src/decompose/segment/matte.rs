//! Soft region edges that still re-composite exactly.
//!
//! A region layer's boundary pixels are usually mixtures of the region's colour and what lies
//! behind it (anti-aliasing, blur). Cutting them out at full opacity drags a fringe of the old
//! background along when the layer is moved (a halo); dropping them leaves a gap. Instead,
//! for each boundary pixel `I` with the filled-in background `B` underneath:
//!
//! 1. estimate coverage with the two-colour model `I ≈ α·F̄ + (1 − α)·B`, where `F̄` is the mean
//!    of the region's interior pixels within 2 px (the projection of `I − B` on `F̄ − B`);
//! 2. raise α as far as needed for an exact solution to exist, then solve the layer colour
//!    `F = (I − (1 − α)·B) / α`, so compositing the layer over `B` gives back `I`.
//!
//! Softness covers the region's own boundary pixels (α ≥ ½) and a one-pixel ring outside it
//! taken over from the background ([`ownership`]), so edges fade over about two pixels.

use rayon::prelude::*;

use super::NO_REGION;
use crate::model::pixels::{alpha_to_u8_up, min_unblend_alpha, to_u8, unblend, unit};
use crate::model::{BBox, RgbaImage};

/// Below this colour separation (per channel, 0..1) the two-colour model says nothing.
const MIN_SEPARATION: f32 = 10.0 / 255.0;

/// Which layer each pixel goes to: its region, except that background pixels touching
/// another region (8-neighbourhood) join the most frequent such region, to carry its soft
/// outer edge. [`NO_REGION`] stays as is.
pub fn ownership(labels: &[u8], width: usize, height: usize, background: u8) -> Vec<u8> {
    let mut owners = labels.to_vec();
    owners
        .par_chunks_mut(width)
        .enumerate()
        .for_each(|(y, row)| {
            for (x, owner) in row.iter_mut().enumerate() {
                if labels[y * width + x] != background {
                    continue;
                }
                let mut counts: Vec<(u8, u8)> = Vec::new();
                for (nx, ny) in neighbours8(x, y, width, height) {
                    let l = labels[ny * width + nx];
                    if l == background || l == NO_REGION {
                        continue;
                    }
                    match counts.iter_mut().find(|(label, _)| *label == l) {
                        Some((_, n)) => *n += 1,
                        None => counts.push((l, 1)),
                    }
                }
                if let Some(&(l, _)) = counts.iter().max_by_key(|&&(l, n)| (n, l)) {
                    *owner = l;
                }
            }
        });
    owners
}

/// The pixels of layer `layer`: every pixel `owners` gives it, cropped to their bounding box
/// (`None` when it owns nothing). Interior pixels are copied from `image`; boundary pixels
/// (region pixels next to another region, and ring pixels whose `labels` entry differs) get
/// soft alpha solved against `below`, the full-size layer under them, so that this layer
/// composited over `below` reproduces `image` up to 8-bit rounding.
///
/// Exactness needs `below` to be transparent wherever `image` is partly transparent under
/// this layer (or opaque `image` pixels): the regions method arranges that.
pub fn layer_pixels(
    image: &RgbaImage,
    labels: &[u8],
    owners: &[u8],
    layer: u8,
    below: &RgbaImage,
) -> Option<(RgbaImage, BBox)> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let bbox = BBox::enclosing(
        (owners.iter().enumerate())
            .filter(|&(_, &o)| o == layer)
            .map(|(i, _)| ((i % w) as u32, (i / w) as u32)),
    )?;
    let ctx = Context {
        image,
        labels,
        layer,
        below,
        w,
        h,
    };
    let mut out = RgbaImage::new(bbox.width(), bbox.height());
    let ow = bbox.width() as usize;
    out.par_chunks_mut(ow * 4)
        .enumerate()
        .for_each(|(row, px)| {
            let y = bbox.y0 as usize + row;
            for (col, dst) in px.chunks_exact_mut(4).enumerate() {
                let x = bbox.x0 as usize + col;
                let i = y * w + x;
                if owners[i] != layer {
                    continue;
                }
                let ring = labels[i] != layer;
                let value = if ring || ctx.is_edge(x, y) {
                    ctx.soft(x, y, ring)
                } else {
                    image.get_pixel(x as u32, y as u32).0
                };
                dst.copy_from_slice(&value);
            }
        });
    Some((out, bbox))
}

/// What the per-pixel work of [`layer_pixels`] needs.
struct Context<'a> {
    image: &'a RgbaImage,
    labels: &'a [u8],
    layer: u8,
    below: &'a RgbaImage,
    w: usize,
    h: usize,
}

impl Context<'_> {
    /// A pixel of the region with a neighbour in another region (transparency is no edge:
    /// its softness is already in the input's alpha).
    fn is_edge(&self, x: usize, y: usize) -> bool {
        self.labels[y * self.w + x] == self.layer
            && neighbours8(x, y, self.w, self.h).any(|(nx, ny)| {
                let l = self.labels[ny * self.w + nx];
                l != self.layer && l != NO_REGION
            })
    }

    /// Soft value of boundary pixel (`x`, `y`); `ring` pixels belong to the region only by
    /// ownership, so their coverage may fall to zero.
    fn soft(&self, x: usize, y: usize, ring: bool) -> [u8; 4] {
        let i = self.image.get_pixel(x as u32, y as u32).0;
        let b = self.below.get_pixel(x as u32, y as u32).0;
        if b[3] == 0 || i[3] < 255 || b[3] < 255 {
            // Nothing (or not a plain opaque colour) underneath: the input pixel as it is is
            // the exact answer; the caller keeps `below` transparent under partial alpha.
            return i;
        }
        let hint = match self.interior_mean(x, y, ring) {
            Some(f) => coverage(to_unit(i), f, to_unit(b)),
            None => None,
        };
        let alpha = match (hint, ring) {
            (Some(a), true) => a,
            (Some(a), false) => a.max(0.5),
            (None, true) => 0.0,
            (None, false) => 1.0,
        };
        solve(i, b, alpha)
    }

    /// Mean colour (0..1) of the region's interior pixels within 2 px; for ring pixels, which
    /// may sit where the interior is out of reach, any region pixel will do.
    fn interior_mean(&self, x: usize, y: usize, ring: bool) -> Option<[f32; 3]> {
        let mut sum = [0.0f32; 3];
        let mut n = 0.0f32;
        let mut fallback = [0.0f32; 3];
        let mut n_fallback = 0.0f32;
        for qy in y.saturating_sub(2)..(y + 3).min(self.h) {
            for qx in x.saturating_sub(2)..(x + 3).min(self.w) {
                if self.labels[qy * self.w + qx] != self.layer {
                    continue;
                }
                let p = to_unit(self.image.get_pixel(qx as u32, qy as u32).0);
                if self.is_edge(qx, qy) {
                    for c in 0..3 {
                        fallback[c] += p[c];
                    }
                    n_fallback += 1.0;
                } else {
                    for c in 0..3 {
                        sum[c] += p[c];
                    }
                    n += 1.0;
                }
            }
        }
        if n > 0.0 {
            Some([sum[0] / n, sum[1] / n, sum[2] / n])
        } else if ring && n_fallback > 0.0 {
            Some([
                fallback[0] / n_fallback,
                fallback[1] / n_fallback,
                fallback[2] / n_fallback,
            ])
        } else {
            None
        }
    }
}

/// Coverage α of foreground `f` in `i = α·f + (1 − α)·b`, by projection; `None` when `f` and
/// `b` are too close to tell apart.
pub fn coverage(i: [f32; 3], f: [f32; 3], b: [f32; 3]) -> Option<f32> {
    let d = [f[0] - b[0], f[1] - b[1], f[2] - b[2]];
    let denom = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
    if denom < 3.0 * MIN_SEPARATION * MIN_SEPARATION {
        return None;
    }
    let num = (i[0] - b[0]) * d[0] + (i[1] - b[1]) * d[1] + (i[2] - b[2]) * d[2];
    Some((num / denom).clamp(0.0, 1.0))
}

/// The straight-alpha pixel with alpha at least `alpha` that, composited (normal blend) over
/// the opaque pixel `below`, gives the opaque pixel `target` to within 8-bit rounding.
pub fn solve(target: [u8; 4], below: [u8; 4], alpha: f32) -> [u8; 4] {
    let i = to_unit(target);
    let b = to_unit(below);
    // At least the smallest α for which an exact F stays inside 0..=1 in every channel.
    let needed = alpha.clamp(0.0, 1.0).max(min_unblend_alpha(i, b));
    // Round α up so the exact F still fits, then solve F for the α actually stored.
    let a8 = alpha_to_u8_up(needed);
    if a8 == 0 {
        return [0, 0, 0, 0];
    }
    let [r, g, b] = unblend(i, b, unit(a8)).map(to_u8);
    [r, g, b, a8]
}

/// The colour of a pixel in `0..=1`, alpha ignored (callers look at opaque pixels).
fn to_unit(p: [u8; 4]) -> [f32; 3] {
    [unit(p[0]), unit(p[1]), unit(p[2])]
}

/// In-image 8-neighbours of (`x`, `y`).
fn neighbours8(x: usize, y: usize, w: usize, h: usize) -> impl Iterator<Item = (usize, usize)> {
    (-1i64..=1)
        .flat_map(|dy| (-1i64..=1).map(move |dx| (dx, dy)))
        .filter(|&(dx, dy)| dx != 0 || dy != 0)
        .filter_map(move |(dx, dy)| {
            let (nx, ny) = (x as i64 + dx, y as i64 + dy);
            (nx >= 0 && ny >= 0 && nx < w as i64 && ny < h as i64)
                .then_some((nx as usize, ny as usize))
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.
mod tests {
    use super::*;
    use crate::model::BlendMode;
    use crate::model::composite_cpu::blend_pixel;
    use crate::model::pixels::{premultiply, unpremultiply};

    fn over(top: [u8; 4], below: [u8; 4]) -> [u8; 4] {
        unpremultiply(blend_pixel(premultiply(below), top, 1.0, BlendMode::Normal))
    }

    #[test]
    fn solved_pixels_recomposite_exactly() {
        let mut state = 7u32;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        for _ in 0..5000 {
            let r = next().to_le_bytes();
            let s = next().to_le_bytes();
            let target = [r[0], r[1], r[2], 255];
            let below = [s[0], s[1], s[2], 255];
            let alpha = unit(r[3]);
            let top = solve(target, below, alpha);
            assert!(unit(top[3]) >= alpha - 1.0 / 255.0);
            let got = over(top, below);
            for c in 0..3 {
                assert!(
                    got[c].abs_diff(target[c]) <= 1,
                    "{target:?} over {below:?}: {got:?}"
                );
            }
        }
    }

    #[test]
    fn coverage_of_a_mixture() {
        let a = coverage([0.4, 0.4, 0.4], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]).unwrap_or(-1.0);
        assert!((a - 0.4).abs() < 1e-6);
        assert_eq!(coverage([0.5; 3], [0.5; 3], [0.51; 3]), None);
    }

    #[test]
    fn ring_goes_to_the_neighbouring_region() {
        // 0 = background, 1 = a 1-pixel region in the middle of a 3×3.
        let labels = vec![0, 0, 0, 0, 1, 0, 0, 0, 0];
        assert_eq!(ownership(&labels, 3, 3, 0), vec![1; 9]);
        let labels = vec![0, 0, 0, 0, 0, 1, 0, 0, NO_REGION, 0, 0, 0];
        let owners = ownership(&labels, 4, 3, 0);
        assert_eq!(owners[3], 0);
        assert_eq!(owners[1], 1);
        assert_eq!(owners[8], NO_REGION);
    }
}
