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

use super::canvas::{Canvas, Mask, Px, Rng};
use super::masks::{bounds_of, window_any};
pub(crate) use super::patch_distance::{PATCH_PIXELS, RADIUS, bias, distance};
use super::span::Span;
use crate::decompose::DecomposeError;

/// Weight of the texture features (see `texture`) against colour in the patch distance
/// where the fill's structure is decided (the coarsest level): a grainy target patch must not
/// prefer a smooth source of the right colour. Finer levels use less (see `exemplar`).
pub(crate) const TEXTURE_WEIGHT: f32 = 0.5;
/// Marks a pixel that is not a target.
pub(crate) const NONE: u32 = u32::MAX;

/// A rectangle of the canvas, in pixels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Rect {
    pub x0: usize,
    pub y0: usize,
    pub width: usize,
    pub height: usize,
}

/// Where patches may come from, and which patches need a match.
pub(crate) struct Patches {
    /// One bit per canvas pixel, set where the patch centred on it lies inside the image and
    /// has no hole (nor excluded) pixel: read with [`Patches::is_source`]. Bits rather than
    /// bools, as this is held through the search of the finest level, the fill's other peak.
    sources: Vec<u64>,
    /// The canvas's pixel count.
    len: usize,
    /// How many pixels are valid sources.
    pub source_count: usize,
    /// `true` where the patch centred on the pixel overlaps the hole, over the targets'
    /// rectangle only (row-major in it): outside it there are none by definition.
    pub is_target: Vec<bool>,
    /// The canvas's width.
    #[cfg(test)]
    width: usize,
    /// How many pixels are targets.
    pub target_count: usize,
    /// The bounding rectangle of the targets: the nearest-neighbour field covers only this,
    /// not the whole canvas, whose context part is far bigger than the hole.
    pub targets: Rect,
}

impl Patches {
    /// Classifies every patch centre of `hole` with summed-area tables. A patch touching an
    /// `excluded` pixel (one the caller forbids copying from: an object about to be lifted
    /// off) is never a source, though it may still be a target.
    pub fn new(hole: &Mask, excluded: Option<&Mask>) -> Self {
        let (w, h) = (hole.width, hole.height);
        let r = RADIUS;
        let is_target = window_any(|i| hole.bits[i], w, h, r);
        let forbidden = match excluded {
            Some(e) => window_any(|i| hole.bits[i] || e.bits[i], w, h, r),
            None => is_target.clone(),
        };
        let mut valid_source = forbidden;
        for y in 0..h {
            for x in 0..w {
                let v = &mut valid_source[y * w + x];
                *v = !*v && x >= r && y >= r && x + r < w && y + r < h;
            }
        }
        let source_count = valid_source.iter().filter(|&&v| v).count();
        let mut sources = vec![0u64; valid_source.len().div_ceil(64)];
        for (word, chunk) in sources.iter_mut().zip(valid_source.chunks(64)) {
            for (bit, _) in chunk.iter().enumerate().filter(|(_, v)| **v) {
                *word |= 1 << bit;
            }
        }
        let len = valid_source.len();
        drop(valid_source);
        let target_count = is_target.iter().filter(|&&t| t).count();
        let targets = bounds_of(&is_target, w).unwrap_or_default();
        let is_target = super::masks::window(
            &is_target,
            w,
            (targets.x0, targets.y0),
            (targets.width, targets.height),
        )
        .bits;
        Self {
            sources,
            len,
            source_count,
            is_target,
            #[cfg(test)]
            width: w,
            target_count,
            targets,
        }
    }

    /// Whether the patch centred on canvas pixel `i` may be copied from.
    #[inline]
    pub fn is_source(&self, i: usize) -> bool {
        self.sources[i / 64] & (1 << (i % 64)) != 0
    }

    /// Whether the patch centred on canvas pixel `i` overlaps the hole.
    #[cfg(test)]
    pub fn target(&self, i: usize) -> bool {
        let (x, y, r) = (i % self.width, i / self.width, self.targets);
        x >= r.x0
            && y >= r.y0
            && x < r.x0 + r.width
            && y < r.y0 + r.height
            && self.is_target[(y - r.y0) * r.width + x - r.x0]
    }

    /// A uniformly random valid source centre, or [`NONE`] when there is none. Drawn by
    /// rejection (sources are most of a canvas), then, should many draws miss, the first
    /// source after a random place: no list of every source is kept, which would cost four
    /// bytes a pixel.
    pub fn random_source(&self, rng: &mut Rng) -> u32 {
        let n = self.len;
        if self.source_count == 0 {
            return NONE;
        }
        for _ in 0..64 {
            let i = rng.below(n);
            if self.is_source(i) {
                return i as u32;
            }
        }
        let start = rng.below(n);
        (start..n)
            .chain(0..start)
            .find(|&i| self.is_source(i))
            .map_or(NONE, |i| i as u32)
    }
}

/// The nearest-neighbour field over the targets' rectangle: for each of its pixels, the
/// centre of its best source patch (a canvas index, or [`NONE`]) and the sum of squared
/// differences to it.
#[derive(Clone, Debug)]
pub(crate) struct Field {
    pub rect: Rect,
    pub nnf: Vec<u32>,
    pub cost: Vec<f32>,
}

impl Field {
    /// The index into `nnf` of canvas pixel (`x`, `y`), if the field covers it.
    #[inline]
    pub fn local(&self, x: usize, y: usize) -> Option<usize> {
        let r = self.rect;
        (x >= r.x0 && y >= r.y0 && x < r.x0 + r.width && y < r.y0 + r.height)
            .then(|| (y - r.y0) * r.width + x - r.x0)
    }

    /// Every target points at a uniformly random source. `patches` must have sources.
    pub fn random(patches: &Patches, seed: u64) -> Field {
        let rect = patches.targets;
        let mut nnf = vec![NONE; rect.width * rect.height];
        nnf.par_chunks_mut(rect.width.max(1))
            .enumerate()
            .for_each(|(ly, row)| {
                let y = rect.y0 + ly;
                let mut rng = Rng::stream(seed, 0x1000_0000 + y as u64);
                for (lx, m) in row.iter_mut().enumerate() {
                    if patches.is_target[ly * rect.width + lx] {
                        *m = patches.random_source(&mut rng);
                    }
                }
            });
        let cost = vec![f32::INFINITY; nnf.len()];
        Field { rect, nnf, cost }
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
        let rect = fine.targets;
        let mut nnf = vec![NONE; rect.width * rect.height];
        let mut cost = vec![f32::INFINITY; nnf.len()];
        let height = fine.len / width.max(1);
        nnf.par_chunks_mut(rect.width.max(1))
            .zip(cost.par_chunks_mut(rect.width.max(1)))
            .enumerate()
            .for_each(|(ly, (row, row_cost))| {
                let y = rect.y0 + ly;
                let mut rng = Rng::stream(seed, 0x2000_0000 + y as u64);
                for (lx, m_out) in row.iter_mut().enumerate() {
                    let x = rect.x0 + lx;
                    if !fine.is_target[ly * rect.width + lx] {
                        continue;
                    }
                    let parent = coarse.local(x / 2, y / 2);
                    let m = parent.map_or(NONE, |k| coarse.nnf[k]);
                    let mut chosen = None;
                    if let (Some(k), true) = (parent, m != NONE) {
                        let sx = 2 * (m as usize % coarse_width) + x % 2;
                        let sy = 2 * (m as usize / coarse_width) + y % 2;
                        if sx < width && sy < height && fine.is_source(sy * width + sx) {
                            chosen = Some(sy * width + sx);
                            row_cost[lx] = coarse.cost[k];
                        }
                    }
                    *m_out = match chosen {
                        Some(s) => s as u32,
                        None => fine.random_source(&mut rng),
                    };
                }
            });
        Field { rect, nnf, cost }
    }
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
    /// Weight of the texture features against colour in the patch distance.
    pub texture: f32,
    /// Price of a source's distance from its target, per squared pixel of this level, in
    /// patch-distance units, added to the patch distance (0: any source is as good as any
    /// other). The fill sets it per level (see `exemplar`).
    pub locality: f32,
}

impl Effort {
    /// The locality price of copying the patch at `s` into the one at `t` on a canvas
    /// `width` pixels wide.
    #[inline]
    pub fn away(&self, t: usize, s: usize, width: usize) -> f32 {
        if self.locality == 0.0 {
            return 0.0;
        }
        let dx = (t % width) as f32 - (s % width) as f32;
        let dy = (t / width) as f32 - (s / width) as f32;
        self.locality * (dx * dx + dy * dy)
    }
}

/// Runs `effort.passes` PatchMatch passes over every target of `field` against `img`, starting in
/// forward scan order when `forward_first`. Costs are recomputed first because the image
/// changed since the field was last searched. `means` are `img`'s patch means.
#[allow(clippy::too_many_arguments)] // One call site; a parameter struct would only rename them.
pub(crate) fn search(
    img: &Canvas,
    means: &[Px],
    patches: &Patches,
    field: &mut Field,
    effort: Effort,
    forward_first: bool,
    seed: u64,
    span: &Span<'_>,
) -> Result<(), DecomposeError> {
    let (w, rect) = (img.width, field.rect);
    let rw = rect.width.max(1);
    // In chunks of rows, checking for cancellation: on a 12-megapixel canvas this alone is a
    // noticeable fraction of a second.
    let chunk = 16 * rw;
    field
        .nnf
        .par_chunks(chunk)
        .zip(field.cost.par_chunks_mut(chunk))
        .enumerate()
        .try_for_each(|(k, (nnf, cost))| {
            span.check()?;
            for (j, (&s, c)) in nnf.iter().zip(cost.iter_mut()).enumerate() {
                if s != NONE {
                    let local = k * chunk + j;
                    let t = (rect.y0 + local / rw) * w + rect.x0 + local % rw;
                    let s = s as usize;
                    *c = distance(img, means, (t, s), effort.texture, f32::INFINITY)
                        + effort.away(t, s, w);
                }
            }
            Ok(())
        })?;
    // Fixed band height (a function of the field only) keeps results thread-count independent.
    let band_rows = rect.height.div_ceil(16).max(16);
    let passes = effort.passes;
    for pass in 0..passes {
        span.check()?;
        let forward = forward_first == (pass % 2 == 0);
        // Bands read only the row just outside each of their ends from the others, so only
        // those rows are kept from before the pass.
        let snapshot = band_edges(&field.nnf, rw, rect.height, band_rows);
        let ctx = Pass {
            effort,
            img,
            means,
            patches,
            rect,
            snapshot: &snapshot,
            band_rows,
            forward,
            span,
        };
        field
            .nnf
            .par_chunks_mut(band_rows * rw)
            .zip(field.cost.par_chunks_mut(band_rows * rw))
            .enumerate()
            .try_for_each(|(band, (nnf, cost))| {
                let mut rng = Rng::stream(seed, ((pass as u64) << 32) | band as u64);
                ctx.band(band * band_rows, nnf, cost, &mut rng)
            })?;
        span.set((pass + 1) as f32 / passes as f32, "matching patches");
    }
    Ok(())
}

/// For every band of `band_rows` rows of a field `width` wide and `height` high, the row just
/// before it and the row just after it (NONE where there is none), in that order.
fn band_edges(nnf: &[u32], width: usize, height: usize, band_rows: usize) -> Vec<u32> {
    let bands = height.div_ceil(band_rows);
    let mut edges = vec![NONE; 2 * bands * width];
    for band in 0..bands {
        let (y0, y1) = (band * band_rows, ((band + 1) * band_rows).min(height));
        for (slot, row) in [(2 * band, y0.checked_sub(1)), (2 * band + 1, Some(y1))] {
            if let Some(row) = row.filter(|&r| r < height) {
                edges[slot * width..(slot + 1) * width]
                    .copy_from_slice(&nnf[row * width..(row + 1) * width]);
            }
        }
    }
    edges
}

/// What every band of one pass shares.
struct Pass<'a> {
    effort: Effort,
    img: &'a Canvas,
    means: &'a [Px],
    patches: &'a Patches,
    /// The field's rectangle of the canvas.
    rect: Rect,
    /// Per band, the field rows just before and just after it ([`band_edges`]).
    snapshot: &'a [u32],
    band_rows: usize,
    forward: bool,
    span: &'a Span<'a>,
}

impl Pass<'_> {
    /// Searches the field rows `y0..` held in `nnf`/`cost` (whole rows of the field).
    fn band(
        &self,
        y0: usize,
        nnf: &mut [u32],
        cost: &mut [f32],
        rng: &mut Rng,
    ) -> Result<(), DecomposeError> {
        let (w, h) = (self.img.width, self.img.height);
        let rw = self.rect.width;
        let rows = nnf.len() / rw;
        let step: i64 = if self.forward { 1 } else { -1 };
        for k in 0..rows {
            if k % 8 == 0 {
                self.span.check()?;
            }
            let ly = if self.forward { k } else { rows - 1 - k };
            for j in 0..rw {
                let lx = if self.forward { j } else { rw - 1 - j };
                let local = ly * rw + lx;
                if nnf[local] == NONE {
                    continue;
                }
                let t = (self.rect.y0 + y0 + ly) * w + self.rect.x0 + lx;
                let mut best = nnf[local];
                let mut best_cost = cost[local];
                let consider = |cand: usize, best: &mut u32, best_cost: &mut f32| {
                    if cand as u32 != *best && self.patches.is_source(cand) {
                        let away = self.effort.away(t, cand, w);
                        if away >= *best_cost {
                            return;
                        }
                        let d = distance(
                            self.img,
                            self.means,
                            (t, cand),
                            self.effort.texture,
                            *best_cost - away,
                        ) + away;
                        if d < *best_cost {
                            *best = cand as u32;
                            *best_cost = d;
                        }
                    }
                };
                // Propagation from the horizontal neighbour already visited in this pass.
                let nx = lx as i64 - step;
                if nx >= 0 && nx < rw as i64 {
                    let m = nnf[ly * rw + nx as usize];
                    if let Some(c) = shifted(m, step, 0, w, h) {
                        consider(c, &mut best, &mut best_cost);
                    }
                }
                // Propagation from the vertical neighbour (from the snapshot across bands).
                let ny = (y0 + ly) as i64 - step;
                if ny >= 0 && ny < self.rect.height as i64 {
                    let ny = ny as usize;
                    let m = if ny >= y0 && ny < y0 + rows {
                        nnf[(ny - y0) * rw + lx]
                    } else {
                        let edge = 2 * (y0 / self.band_rows) + usize::from(ny >= y0 + rows);
                        self.snapshot[edge * rw + lx]
                    };
                    if let Some(c) = shifted(m, 0, step, w, h) {
                        consider(c, &mut best, &mut best_cost);
                    }
                }
                // Random search around the current best, radius halving each time.
                let mut radius = self.effort.radius.min(w.max(h)) as i64;
                while radius >= 1 {
                    let bx = (best as usize % w) as i64 + rng.offset(radius);
                    let by = (best as usize / w) as i64 + rng.offset(radius);
                    if bx >= 0 && by >= 0 && bx < w as i64 && by < h as i64 {
                        consider(by as usize * w + bx as usize, &mut best, &mut best_cost);
                    }
                    radius /= 2;
                }
                if self.effort.global {
                    let global = self.patches.random_source(rng);
                    if global != NONE {
                        consider(global as usize, &mut best, &mut best_cost);
                    }
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
        assert!(p.target(10 * w + 13) && !p.target(10 * w + 14));
        assert!(!p.is_source(10 * w + 13) && p.is_source(10 * w + 14));
        assert!(!p.is_source(2 * w + 2) && p.is_source(3 * w + 3));
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
        assert!(!p.is_source(5 * w + 12) && !p.is_source(8 * w + 16));
        assert!(p.is_source(5 * w + 11) && p.is_source(9 * w + 15));
        assert_eq!(
            p.source_count,
            (0..w * h).filter(|&i| p.is_source(i)).count()
        );
        let mut rng = Rng::stream(3, 0);
        for _ in 0..200 {
            assert!(p.is_source(p.random_source(&mut rng) as usize));
        }
        assert!(p.target(10 * w + 13) && !p.target(5 * w + 15));
    }

    /// Diagonal stripes of period 10 (every patch has exact twins all over) with a hole of
    /// one pixel at `at`.
    fn stripes_with_a_one_pixel_hole(w: usize, h: usize, at: (usize, usize)) -> (Canvas, Patches) {
        let img = Canvas::from_fn(w, h, |i| {
            let v = ((i % w + 2 * (i / w)) % 10) as f32 / 10.0;
            [v, 1.0 - v, 0.5, 1.0]
        });
        let bits = (0..w * h).map(|i| i == at.1 * w + at.0).collect();
        let mask = Mask {
            width: w,
            height: h,
            bits,
        };
        (img, Patches::new(&mask, None))
    }

    #[test]
    fn search_finds_an_exact_copy() {
        // A periodic image: the patch over the hole has exact twins one period away.
        let (img, patches) = stripes_with_a_one_pixel_hole(40, 40, (20, 20));
        let mut field = Field::random(&patches, 1);
        let progress = Progress::new();
        let scoped = progress.scoped(0.0, 1.0);
        let means = img.box_mean(RADIUS);
        let span = Span::new(&scoped);
        let effort = Effort {
            passes: 6,
            radius: 40,
            global: true,
            texture: TEXTURE_WEIGHT,
            locality: 0.0,
        };
        search(&img, &means, &patches, &mut field, effort, true, 1, &span).unwrap();
        let at = field.local(20, 20).unwrap();
        assert!(field.cost[at] < 1e-6);
    }

    #[test]
    fn a_locality_price_picks_the_nearest_of_equal_twins() {
        // Diagonal stripes of period 10: every patch has exact twins all over the picture,
        // the nearest about 4.5 pixels from the hole (just clear of it).
        let w = 80usize;
        let (img, patches) = stripes_with_a_one_pixel_hole(w, 40, (60, 20));
        let means = img.box_mean(RADIUS);
        let progress = Progress::new();
        let scoped = progress.scoped(0.0, 1.0);
        let span = Span::new(&scoped);
        let away = |locality: f32| {
            let mut field = Field::random(&patches, 5);
            let effort = Effort {
                passes: 6,
                radius: 80,
                global: true,
                texture: TEXTURE_WEIGHT,
                locality,
            };
            search(&img, &means, &patches, &mut field, effort, true, 5, &span).unwrap();
            let m = field.nnf[field.local(60, 20).unwrap()] as usize;
            let (dx, dy) = (m as f32 % w as f32 - 60.0, (m / w) as f32 - 20.0);
            (dx * dx + dy * dy).sqrt()
        };
        // Without a price any twin will do (the premise: here a far one).
        assert!(away(0.0) > 8.0, "{}", away(0.0));
        assert!(away(0.1) < 6.0, "{}", away(0.1));
    }
}
