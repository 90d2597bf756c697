//! The nearest-neighbour field of PatchMatch (C. Barnes, E. Shechtman, A. Finkelstein,
//! D. B. Goldman, "PatchMatch: A Randomized Correspondence Algorithm for Structural Image
//! Editing", SIGGRAPH 2009), written from the paper.
//!
//! Every *target* patch (one that overlaps the hole) points at a *source* patch (one lying
//! wholly in the known part of the image). Passes alternate scan order; each pixel tries its
//! neighbours' matches shifted by one pixel (propagation: good matches spread along coherent
//! regions) and samples around its current match at exponentially shrinking radii (random
//! search), plus one uniformly random source so holes wider than the search window still
//! explore the whole picture.
//!
//! Matching is bias-corrected (after Darabi et al., "Image Melding", SIGGRAPH 2012, bias
//! only): a source patch may be shifted in colour towards the target patch's mean, at a
//! price. Without it a hole in a smooth gradient (sky, a lit wall) can only be filled with
//! colours that exist elsewhere, which shows as blotches; with it patches supply structure
//! and texture while the coarser levels supply the slowly varying colour.
//!
//! Rows are cut into a fixed number of bands searched in parallel; a band reads the rows of its
//! neighbours from a snapshot taken before the pass, so results depend on the seed only, never
//! on the number of threads.

use rayon::prelude::*;

use super::canvas::{Canvas, Mask, Rng};
use super::span::Span;
use crate::decompose::DecomposeError;

/// Patch radius: 7×7 patches, the usual size for photographs.
pub(crate) const RADIUS: usize = 3;
/// Pixels in a full patch.
pub(crate) const PATCH_PIXELS: f32 = ((2 * RADIUS + 1) * (2 * RADIUS + 1)) as f32;
/// Price λ of a colour shift δ, per patch pixel: the cost is Σ(t − s − δ)² + λ·n·|δ|²,
/// minimised by δ = (mean(t) − mean(s)) / (1 + λ). Small enough to follow gradients, large
/// enough that among equally good structures the one with the right colour wins.
const BIAS_PRICE: f32 = 0.05;
/// 1 / (1 + λ).
const BIAS_SHRINK: f32 = 1.0 / (1.0 + BIAS_PRICE);
/// Weight of the texture features (see `texture`) against colour in the patch distance:
/// a grainy target patch must not prefer a smooth source of the right colour.
const TEXTURE_WEIGHT: f32 = 0.5;
/// Marks a pixel that is not a target.
pub(crate) const NONE: u32 = u32::MAX;

/// Where patches may come from, and which patches need a match.
pub(crate) struct Patches {
    /// `true` where the patch centred on the pixel lies inside the image and has no hole pixel.
    pub valid_source: Vec<bool>,
    /// The valid source centres, for uniform sampling.
    pub sources: Vec<u32>,
    /// `true` where the patch centred on the pixel overlaps the hole.
    pub is_target: Vec<bool>,
}

impl Patches {
    /// Classifies every patch centre of `hole` with summed-area tables. A patch touching an
    /// `excluded` pixel (one the caller forbids copying from: an object about to be lifted
    /// off) is never a source, though it may still be a target.
    pub fn new(hole: &Mask, excluded: Option<&Mask>) -> Self {
        let (w, h) = (hole.width, hole.height);
        let r = RADIUS;
        let in_hole = window_counts(&hole.bits, w, h, r);
        let forbidden = excluded.map(|e| {
            let both: Vec<bool> = hole
                .bits
                .iter()
                .zip(&e.bits)
                .map(|(&a, &b)| a || b)
                .collect();
            window_counts(&both, w, h, r)
        });
        let forbidden = forbidden.as_ref().unwrap_or(&in_hole);
        let mut valid_source = vec![false; w * h];
        let mut is_target = vec![false; w * h];
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                is_target[i] = in_hole[i] > 0;
                valid_source[i] = forbidden[i] == 0 && x >= r && y >= r && x + r < w && y + r < h;
            }
        }
        let sources = (0..w * h)
            .filter(|&i| valid_source[i])
            .map(|i| i as u32)
            .collect();
        Self {
            valid_source,
            sources,
            is_target,
        }
    }
}

/// For every pixel, how many `bits` are set in the (2`r`+1)² window around it (clipped at
/// the edges), by one summed-area table.
fn window_counts(bits: &[bool], w: usize, h: usize, r: usize) -> Vec<u32> {
    let mut sat = vec![0u32; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0u32;
        for x in 0..w {
            row += u32::from(bits[y * w + x]);
            sat[(y + 1) * (w + 1) + x + 1] = sat[y * (w + 1) + x + 1] + row;
        }
    }
    let mut counts = vec![0u32; w * h];
    for y in 0..h {
        for x in 0..w {
            let (x0, y0) = (x.saturating_sub(r), y.saturating_sub(r));
            let (x1, y1) = ((x + r + 1).min(w), (y + r + 1).min(h));
            counts[y * w + x] = sat[y1 * (w + 1) + x1] + sat[y0 * (w + 1) + x0]
                - sat[y0 * (w + 1) + x1]
                - sat[y1 * (w + 1) + x0];
        }
    }
    counts
}

/// The nearest-neighbour field: for each pixel, the centre of its best source patch (or
/// [`NONE`]) and the sum of squared differences to it.
#[derive(Clone, Debug)]
pub(crate) struct Field {
    pub nnf: Vec<u32>,
    pub cost: Vec<f32>,
}

impl Field {
    /// Every target points at a uniformly random source. `patches.sources` must not be empty.
    pub fn random(patches: &Patches, width: usize, seed: u64) -> Field {
        let mut nnf = vec![NONE; patches.is_target.len()];
        let n = patches.sources.len();
        nnf.par_chunks_mut(width).enumerate().for_each(|(y, row)| {
            let mut rng = Rng::stream(seed, 0x1000_0000 + y as u64);
            for (x, m) in row.iter_mut().enumerate() {
                if patches.is_target[y * width + x] {
                    *m = patches.sources[rng.below(n)];
                }
            }
        });
        let cost = vec![f32::INFINITY; nnf.len()];
        Field { nnf, cost }
    }

    /// Lifts a field one pyramid level up: each fine target inherits its parent's match,
    /// doubled and shifted by its position within the parent, and the parent's cost (used
    /// only as a relative voting weight until it is searched again).
    pub fn upsample(
        coarse: &Field,
        coarse_width: usize,
        fine: &Patches,
        width: usize,
        seed: u64,
    ) -> Field {
        let mut nnf = vec![NONE; fine.is_target.len()];
        let mut cost = vec![f32::INFINITY; nnf.len()];
        let height = nnf.len() / width.max(1);
        let n = fine.sources.len();
        nnf.par_chunks_mut(width)
            .zip(cost.par_chunks_mut(width))
            .enumerate()
            .for_each(|(y, (row, row_cost))| {
                let mut rng = Rng::stream(seed, 0x2000_0000 + y as u64);
                for x in 0..width {
                    if !fine.is_target[y * width + x] {
                        continue;
                    }
                    let parent = (y / 2) * coarse_width + x / 2;
                    let m = coarse.nnf.get(parent).copied().unwrap_or(NONE);
                    let mut chosen = None;
                    if m != NONE {
                        let sx = 2 * (m as usize % coarse_width) + x % 2;
                        let sy = 2 * (m as usize / coarse_width) + y % 2;
                        if sx < width && sy < height && fine.valid_source[sy * width + sx] {
                            chosen = Some(sy * width + sx);
                            row_cost[x] = coarse.cost[parent];
                        }
                    }
                    row[x] = match chosen {
                        Some(s) => s as u32,
                        None => fine.sources[rng.below(n)],
                    };
                }
            });
        Field { nnf, cost }
    }
}

/// The colour shift δ applied to source patch `s` when it stands in for target patch `t`;
/// `means` holds every pixel's patch mean ([`Canvas::box_mean`]).
#[inline]
pub(crate) fn bias(means: &[[f32; 4]], t: usize, s: usize) -> [f32; 4] {
    let (a, b) = (means[t], means[s]);
    [
        (a[0] - b[0]) * BIAS_SHRINK,
        (a[1] - b[1]) * BIAS_SHRINK,
        (a[2] - b[2]) * BIAS_SHRINK,
        (a[3] - b[3]) * BIAS_SHRINK,
    ]
}

/// Bias-corrected sum of squared differences between the patches centred at `t` and `s`,
/// over the part of the target patch inside the image. Stops early once above `cutoff`.
#[inline]
pub(crate) fn distance(img: &Canvas, means: &[[f32; 4]], t: usize, s: usize, cutoff: f32) -> f32 {
    let w = img.width;
    let delta = bias(means, t, s);
    let r = RADIUS as i64;
    let (tx, ty) = ((t % w) as i64, (t / w) as i64);
    let (sx, sy) = ((s % w) as i64, (s / w) as i64);
    let dx0 = (-r).max(-tx);
    let dx1 = r.min(w as i64 - 1 - tx);
    let dy0 = (-r).max(-ty);
    let dy1 = r.min(img.height as i64 - 1 - ty);
    let len = (dx1 - dx0 + 1) as usize;
    let mut sum = BIAS_PRICE
        * PATCH_PIXELS
        * (delta[0] * delta[0] + delta[1] * delta[1] + delta[2] * delta[2] + delta[3] * delta[3]);
    for dy in dy0..=dy1 {
        let a = ((ty + dy) * w as i64 + tx + dx0) as usize;
        let b = ((sy + dy) * w as i64 + sx + dx0) as usize;
        for (p, q) in img.px[a..a + len].iter().zip(&img.px[b..b + len]) {
            let d0 = p[0] - q[0] - delta[0];
            let d1 = p[1] - q[1] - delta[1];
            let d2 = p[2] - q[2] - delta[2];
            let d3 = p[3] - q[3] - delta[3];
            sum += d0 * d0 + d1 * d1 + d2 * d2 + d3 * d3;
        }
        if !img.tex.is_empty() {
            for (p, q) in img.tex[a..a + len].iter().zip(&img.tex[b..b + len]) {
                let (e0, e1) = (p[0] - q[0], p[1] - q[1]);
                sum += TEXTURE_WEIGHT * (e0 * e0 + e1 * e1);
            }
        }
        if sum >= cutoff {
            return sum;
        }
    }
    sum
}

/// How hard one [`search`] tries.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Effort {
    /// Passes over the field, alternating scan direction.
    pub passes: usize,
    /// Largest random-search radius, in pixels; it halves down to 1.
    pub radius: usize,
    /// Also try one uniformly random source per pixel and pass (for random starts).
    pub global: bool,
}

/// Runs `effort.passes` PatchMatch passes over every target of `field` against `img`, starting in
/// forward scan order when `forward_first`. Costs are recomputed first because the image
/// changed since the field was last searched. `means` are `img`'s patch means.
#[allow(clippy::too_many_arguments)] // One call site; a parameter struct would only rename them.
pub(crate) fn search(
    img: &Canvas,
    means: &[[f32; 4]],
    patches: &Patches,
    field: &mut Field,
    effort: Effort,
    forward_first: bool,
    seed: u64,
    span: &Span<'_>,
) -> Result<(), DecomposeError> {
    let w = img.width;
    // In chunks of rows, checking for cancellation: on a 12-megapixel canvas this alone is a
    // noticeable fraction of a second.
    let chunk = 16 * w;
    field
        .nnf
        .par_chunks(chunk)
        .zip(field.cost.par_chunks_mut(chunk))
        .enumerate()
        .try_for_each(|(k, (nnf, cost))| {
            span.check()?;
            for (j, (&s, c)) in nnf.iter().zip(cost.iter_mut()).enumerate() {
                if s != NONE {
                    *c = distance(img, means, k * chunk + j, s as usize, f32::INFINITY);
                }
            }
            Ok(())
        })?;
    // Fixed band height (a function of the image only) keeps results thread-count independent.
    let band_rows = img.height.div_ceil(16).max(16);
    let passes = effort.passes;
    for pass in 0..passes {
        span.check()?;
        let forward = forward_first == (pass % 2 == 0);
        let snapshot = field.nnf.clone();
        let ctx = Pass {
            effort,
            img,
            means,
            patches,
            snapshot: &snapshot,
            forward,
            span,
        };
        field
            .nnf
            .par_chunks_mut(band_rows * w)
            .zip(field.cost.par_chunks_mut(band_rows * w))
            .enumerate()
            .try_for_each(|(band, (nnf, cost))| {
                let mut rng = Rng::stream(seed, ((pass as u64) << 32) | band as u64);
                ctx.band(band * band_rows, nnf, cost, &mut rng)
            })?;
        span.set((pass + 1) as f32 / passes as f32, "matching patches");
    }
    Ok(())
}

/// What every band of one pass shares.
struct Pass<'a> {
    effort: Effort,
    img: &'a Canvas,
    means: &'a [[f32; 4]],
    patches: &'a Patches,
    snapshot: &'a [u32],
    forward: bool,
    span: &'a Span<'a>,
}

impl Pass<'_> {
    /// Searches the rows `y0..` held in `nnf`/`cost` (whole rows of the field).
    fn band(
        &self,
        y0: usize,
        nnf: &mut [u32],
        cost: &mut [f32],
        rng: &mut Rng,
    ) -> Result<(), DecomposeError> {
        let w = self.img.width;
        let rows = nnf.len() / w;
        let step: i64 = if self.forward { 1 } else { -1 };
        for k in 0..rows {
            if k % 8 == 0 {
                self.span.check()?;
            }
            let ly = if self.forward { k } else { rows - 1 - k };
            for j in 0..w {
                let x = if self.forward { j } else { w - 1 - j };
                let local = ly * w + x;
                if nnf[local] == NONE {
                    continue;
                }
                let t = (y0 + ly) * w + x;
                let mut best = nnf[local];
                let mut best_cost = cost[local];
                let consider = |cand: usize, best: &mut u32, best_cost: &mut f32| {
                    if cand as u32 != *best && self.patches.valid_source[cand] {
                        let d = distance(self.img, self.means, t, cand, *best_cost);
                        if d < *best_cost {
                            *best = cand as u32;
                            *best_cost = d;
                        }
                    }
                };
                // Propagation from the horizontal neighbour already visited in this pass.
                let nx = x as i64 - step;
                if nx >= 0 && nx < w as i64 {
                    let m = nnf[ly * w + nx as usize];
                    if let Some(c) = shifted(m, step, 0, w, self.img.height) {
                        consider(c, &mut best, &mut best_cost);
                    }
                }
                // Propagation from the vertical neighbour (from the snapshot across bands).
                let ny = (y0 + ly) as i64 - step;
                if ny >= 0 && ny < self.img.height as i64 {
                    let ny = ny as usize;
                    let m = if ny >= y0 && ny < y0 + rows {
                        nnf[(ny - y0) * w + x]
                    } else {
                        self.snapshot[ny * w + x]
                    };
                    if let Some(c) = shifted(m, 0, step, w, self.img.height) {
                        consider(c, &mut best, &mut best_cost);
                    }
                }
                // Random search around the current best, radius halving each time.
                let mut radius = self.effort.radius.min(w.max(self.img.height)) as i64;
                while radius >= 1 {
                    let bx = (best as usize % w) as i64 + rng.offset(radius);
                    let by = (best as usize / w) as i64 + rng.offset(radius);
                    if bx >= 0 && by >= 0 && bx < w as i64 && by < self.img.height as i64 {
                        consider(by as usize * w + bx as usize, &mut best, &mut best_cost);
                    }
                    radius /= 2;
                }
                if self.effort.global {
                    let global = self.patches.sources[rng.below(self.patches.sources.len())];
                    consider(global as usize, &mut best, &mut best_cost);
                }
                nnf[local] = best;
                cost[local] = best_cost;
            }
        }
        Ok(())
    }
}

/// Match `m` moved by (`dx`, `dy`), if it stays in the image.
fn shifted(m: u32, dx: i64, dy: i64, w: usize, h: usize) -> Option<usize> {
    if m == NONE {
        return None;
    }
    let x = (m as usize % w) as i64 + dx;
    let y = (m as usize / w) as i64 + dy;
    (x >= 0 && y >= 0 && x < w as i64 && y < h as i64).then(|| y as usize * w + x as usize)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.
mod tests {
    use super::*;
    use crate::decompose::Progress;

    #[test]
    fn patches_classify_sources_and_targets() {
        let (w, h) = (20, 20);
        let bits = (0..w * h).map(|i| i == 10 * w + 10).collect();
        let p = Patches::new(
            &Mask {
                width: w,
                height: h,
                bits,
            },
            None,
        );
        assert!(p.is_target[10 * w + 13] && !p.is_target[10 * w + 14]);
        assert!(!p.valid_source[10 * w + 13] && p.valid_source[10 * w + 14]);
        assert!(!p.valid_source[2 * w + 2] && p.valid_source[3 * w + 3]);
    }

    #[test]
    fn excluded_pixels_are_never_sources_but_stay_targets() {
        let (w, h) = (20, 20);
        let hole = Mask {
            width: w,
            height: h,
            bits: (0..w * h).map(|i| i == 10 * w + 10).collect(),
        };
        let excluded = Mask {
            width: w,
            height: h,
            bits: (0..w * h).map(|i| i == 5 * w + 15).collect(),
        };
        let p = Patches::new(&hole, Some(&excluded));
        assert!(!p.valid_source[5 * w + 12] && !p.valid_source[8 * w + 16]);
        assert!(p.valid_source[5 * w + 11] && p.valid_source[9 * w + 15]);
        assert!(p.sources.iter().all(|&s| p.valid_source[s as usize]));
        assert!(p.is_target[10 * w + 13] && !p.is_target[5 * w + 15]);
    }

    #[test]
    fn search_finds_an_exact_copy() {
        // A periodic image: the patch over the hole has exact twins one period away.
        let (w, h) = (40usize, 40usize);
        let px = (0..w * h)
            .map(|i| {
                let v = ((i % w + 2 * (i / w)) % 10) as f32 / 10.0;
                [v, 1.0 - v, 0.5, 1.0]
            })
            .collect();
        let img = Canvas {
            tex: Vec::new(),
            width: w,
            height: h,
            px,
        };
        let bits = (0..w * h).map(|i| i == 20 * w + 20).collect();
        let patches = Patches::new(
            &Mask {
                width: w,
                height: h,
                bits,
            },
            None,
        );
        let mut field = Field::random(&patches, w, 1);
        let progress = Progress::new();
        let scoped = progress.scoped(0.0, 1.0);
        let means = img.box_mean(RADIUS);
        let span = Span::new(&scoped);
        let effort = Effort {
            passes: 6,
            radius: 40,
            global: true,
        };
        search(&img, &means, &patches, &mut field, effort, true, 1, &span).unwrap();
        assert!(field.cost[20 * w + 20] < 1e-6);
    }
}
