//! Multi-scale exemplar-based fill: PatchMatch inside the EM iteration of Wexler, Shechtman &
//! Irani ("Space-Time Completion of Video", IEEE TPAMI 29(3), 2007), written from the papers.
//!
//! The patch distance also compares Newson et al.'s texture features (see `texture`), so a
//! grainy hole is filled with grain rather than with the smooth colour of its first guess.
//!
//! The hole is filled coarse to fine on an image pyramid. At each level the fill alternates
//! between finding, for every patch overlapping the hole, its most similar fully known patch
//! (the nearest-neighbour field, by PatchMatch) and re-estimating every hole pixel as the
//! similarity-weighted average of what all overlapping matched patches say it should be
//! ("voting"). The coarsest level starts from Telea's smooth fill; finer levels start from
//! the coarser field, doubled.
//!
//! Cost grows with the number of patches touching the hole, so levels with more of them than
//! [`SEARCH_TARGETS`] get only a cheap, local polish of the inherited field and one vote.
//! That copies real full-resolution texture from the matched places (sharper than upsampling
//! the coarse fill) at a cost linear in the hole's area, which is what keeps 12-megapixel
//! photos tractable.

use rayon::prelude::*;

use super::canvas::{Canvas, Mask, add, scale};
use super::patchmatch::{self, Effort, Field, NONE, PATCH_PIXELS, Patches, RADIUS, bias};
use super::span::Span;
use super::telea::telea_from_sources;
use crate::decompose::DecomposeError;
use crate::model::pixels::clamp_premul;

/// Most target patches a level may have and still be searched.
const SEARCH_TARGETS: usize = 80_000;
/// The pyramid stops once no hole pixel is farther than this from known pixels, at which
/// point Telea's smooth fill is a fair start.
const COARSE_HOLE_RADIUS: u32 = 4;
/// Wexler et al.'s confidence decay: a target patch `d` pixels inside the hole votes with
/// weight `BORDER_DECAY^-d` on top of its similarity, so the well-constrained patches at the
/// border (mostly known context) lead and the fill grows inwards from them.
const BORDER_DECAY: f32 = 1.3;
/// Distances beyond this count as this far, so deep votes keep representable weights.
const BORDER_DECAY_CAP: u32 = 30;
/// Smallest side of a pyramid level; smaller ones have too few source patches.
const MIN_LEVEL_SIDE: usize = 24;
/// EM iterations at the coarsest level (cheap, and where the structure is decided) and at
/// the other searched levels.
const COARSEST_ITERATIONS: usize = 8;
const ITERATIONS: usize = 3;
/// Search effort at the coarsest level, which starts from random matches: full-image random
/// search and two passes per iteration.
const COARSEST_EFFORT: Effort = Effort {
    passes: 2,
    radius: usize::MAX,
    global: true,
};
/// Finer levels start from the coarser field, already good: one pass per iteration and a
/// local random search that repairs what upsampling got wrong.
const REFINE_EFFORT: Effort = Effort {
    passes: 1,
    radius: 32,
    global: false,
};
/// Levels with too many targets for real search get one pass of propagation and a very
/// local random search: cheap, and enough to stop fine detail the coarse level could not
/// see (text, sharp edges) from being copied into plain areas.
const POLISH_EFFORT: Effort = Effort {
    passes: 1,
    radius: 4,
    global: false,
};

/// One pyramid level.
struct Level {
    canvas: Canvas,
    hole: Mask,
    /// Known pixels no patch may be copied from.
    excluded: Option<Mask>,
    patches: Patches,
    /// Indices of the hole pixels, the only ones voting writes.
    holes: Vec<u32>,
    /// Voting confidence of the target patch centred on each pixel ([`BORDER_DECAY`]).
    confidence: Vec<f32>,
    targets: usize,
}

impl Level {
    fn new(canvas: Canvas, hole: Mask, excluded: Option<Mask>) -> Self {
        let patches = Patches::new(&hole, excluded.as_ref());
        let holes = (0..hole.bits.len())
            .filter(|&i| hole.bits[i])
            .map(|i| i as u32)
            .collect();
        let targets = patches.is_target.iter().filter(|&&t| t).count();
        let confidence = hole
            .distance_to_known()
            .into_iter()
            .map(|d| BORDER_DECAY.powi(-(d.min(BORDER_DECAY_CAP) as i32)))
            .collect();
        Self {
            canvas,
            hole,
            excluded,
            patches,
            holes,
            confidence,
            targets,
        }
    }
}

/// Fills the hole pixels of `canvas`. `radius` is the largest distance from a pixel of the
/// hole being filled to known pixels; it sets the pyramid's depth. No patch is copied from
/// a pixel of `excluded`, at any level. Gives the canvas back untouched as the inner `Err`
/// when the known part has no complete patch to copy from (the caller then falls back to
/// Telea).
pub(crate) fn exemplar_fill(
    mut canvas: Canvas,
    hole: &Mask,
    excluded: Option<&Mask>,
    radius: u32,
    seed: u64,
    span: &Span<'_>,
) -> Result<Result<Canvas, Canvas>, DecomposeError> {
    // Texture features steer the search away from smooth sources (see `texture`).
    canvas.tex = super::texture::features(&canvas, hole, excluded, span)?;
    let mut levels = vec![Level::new(canvas, hole.clone(), excluded.cloned())];
    if levels[0].patches.sources.is_empty() {
        return Ok(Err(levels.remove(0).canvas));
    }
    while let Some(last) = levels.last() {
        let level_radius = radius >> (levels.len() - 1);
        let wants_coarser = level_radius > COARSE_HOLE_RADIUS || last.targets > SEARCH_TARGETS;
        let side = last.canvas.width.min(last.canvas.height);
        if !wants_coarser || side / 2 < MIN_LEVEL_SIDE || levels.len() >= 12 {
            break;
        }
        span.check()?;
        // A coarse pixel is excluded when any of its children is, so a coarse source never
        // summarises an excluded pixel.
        let coarse = Level::new(
            last.canvas.downsample(&last.hole),
            last.hole.downsample(),
            last.excluded.as_ref().map(Mask::downsample),
        );
        if coarse.patches.sources.len() < 16 {
            break;
        }
        levels.push(coarse);
    }

    let plan: Vec<(usize, Effort)> = (0..levels.len()).map(|l| schedule(l, &levels)).collect();
    // Share of the progress bar per level, by estimated work.
    let work: Vec<f32> = (0..levels.len())
        .map(|l| levels[l].targets as f32 * (plan[l].0 as f32 + 0.2) + 1.0)
        .collect();
    let total: f32 = work.iter().sum();
    let mut done = 0.0f32;

    let coarsest = levels.len() - 1;
    let mut field: Option<Field> = None;
    let mut coarser: Option<Canvas> = None;
    for l in (0..levels.len()).rev() {
        let level_span = span.sub(done / total, (done + work[l]) / total);
        done += work[l];
        let stream = seed.wrapping_add((l as u64) << 40);
        let level = &mut levels[l];
        let width = level.canvas.width;
        let mut current = match field.take() {
            None => {
                telea_from_sources(
                    &mut level.canvas,
                    &level.hole,
                    level.excluded.as_ref(),
                    super::TELEA_RADIUS,
                    &level_span.sub(0.0, 0.1),
                )?;
                Field::random(&level.patches, width, stream)
            }
            Some(coarse) => {
                // Start from the smooth upsampled coarse fill: it gives the patch means that
                // bias-corrected voting keeps, while the inherited matches add detail.
                if let Some(coarse_canvas) = coarser.take() {
                    level.canvas.fill_from_coarse(&coarse_canvas, &level.hole);
                }
                level_span.check()?;
                let coarse_width = width.div_ceil(2);
                let f = Field::upsample(&coarse, coarse_width, &level.patches, width, stream);
                level_span.check()?;
                let means = level.canvas.box_mean(RADIUS);
                level_span.check()?;
                let ballot = (&level.holes[..], &level.confidence[..]);
                vote(&mut level.canvas, &means, &f, ballot, &level_span)?;
                f
            }
        };
        let (iters, effort) = plan[l];
        for it in 0..iters {
            let it_span = level_span.sub(
                0.1 + 0.9 * it as f32 / iters as f32,
                0.1 + 0.9 * (it + 1) as f32 / iters as f32,
            );
            level_span.check()?;
            let means = level.canvas.box_mean(RADIUS);
            patchmatch::search(
                &level.canvas,
                &means,
                &level.patches,
                &mut current,
                effort,
                it % 2 == 0,
                stream.wrapping_add(it as u64 * 7919),
                &it_span,
            )?;
            let ballot = (&level.holes[..], &level.confidence[..]);
            vote(&mut level.canvas, &means, &current, ballot, &it_span)?;
        }
        level_span.set(
            1.0,
            if l == coarsest {
                "filling"
            } else {
                "refining fill"
            },
        );
        field = Some(current);
        if l > 0 {
            // Keep only the filled canvas of this level; its masks and patches are done with.
            coarser = levels.pop().map(|level| level.canvas);
        }
    }
    match levels.pop() {
        Some(level) => Ok(Ok(level.canvas)),
        None => Err(DecomposeError::Compute {
            stage: "filling the background".into(),
            message: "the image pyramid came out empty".into(),
        }),
    }
}

/// EM iterations and search effort for level `l`.
fn schedule(l: usize, levels: &[Level]) -> (usize, Effort) {
    if l == levels.len() - 1 {
        (COARSEST_ITERATIONS, COARSEST_EFFORT)
    } else if levels[l].targets <= SEARCH_TARGETS {
        (ITERATIONS, REFINE_EFFORT)
    } else {
        (1, POLISH_EFFORT)
    }
}

/// Re-estimates every hole pixel from the matches of all target patches covering it, each
/// weighted by its patch similarity `exp(−d / 2σ²)` with σ² the 75th percentile of the
/// per-pixel match errors, as Wexler et al. suggest, times the patch's `confidence` (its
/// distance to the hole's border). Source pixels are always known pixels, so the new values
/// of the `holes` pixels can be computed in parallel from the current canvas.
fn vote(
    canvas: &mut Canvas,
    means: &[[f32; 4]],
    field: &Field,
    (holes, confidence): (&[u32], &[f32]),
    span: &Span<'_>,
) -> Result<(), DecomposeError> {
    let sigma2 = weight_scale(field);
    // Weight of every target patch once, rather than once per covered pixel (an `exp` each).
    let weights: Vec<f32> = field
        .nnf
        .par_iter()
        .zip(&field.cost)
        .zip(confidence)
        .map(|((&m, &cost), &trust)| {
            if m == NONE {
                0.0
            } else {
                trust * (-cost / PATCH_PIXELS / (2.0 * sigma2)).exp()
            }
        })
        .collect();
    span.check()?;
    let ballot = Ballot {
        img: canvas,
        means,
        field,
        weights: &weights,
    };
    // Chunks so a cancel is noticed within one chunk's time even on huge holes.
    let values: Vec<Vec<[f32; 4]>> = holes
        .par_chunks(16 * 1024)
        .map(|chunk| {
            span.check()?;
            Ok(chunk.iter().map(|&p| ballot.count(p as usize)).collect())
        })
        .collect::<Result<_, DecomposeError>>()?;
    for (&p, v) in holes.iter().zip(values.into_iter().flatten()) {
        canvas.px[p as usize] = v;
    }
    Ok(())
}

/// What voting for one pixel reads.
struct Ballot<'a> {
    img: &'a Canvas,
    /// Patch means, for the colour shift of each match.
    means: &'a [[f32; 4]],
    field: &'a Field,
    /// Voting weight per target patch.
    weights: &'a [f32],
}

impl Ballot<'_> {
    /// The new value of hole pixel `p`.
    fn count(&self, p: usize) -> [f32; 4] {
        let w = self.img.width as i64;
        let h = self.img.height as i64;
        let r = RADIUS as i64;
        let (px, py) = (p as i64 % w, p as i64 / w);
        let mut weighted = [0.0f32; 4];
        let mut plain = [0.0f32; 4];
        let (mut weight_sum, mut count) = (0.0f32, 0.0f32);
        for dy in -r..=r {
            let qy = py - dy;
            if qy < 0 || qy >= h {
                continue;
            }
            for dx in -r..=r {
                let qx = px - dx;
                if qx < 0 || qx >= w {
                    continue;
                }
                let q = (qy * w + qx) as usize;
                let m = self.field.nnf[q];
                if m == NONE {
                    continue;
                }
                // The source patch lies wholly inside the image, so this stays in bounds.
                let s = ((m as i64 / w + dy) * w + m as i64 % w + dx) as usize;
                let (weight, delta) = (self.weights[q], bias(self.means, q, m as usize));
                let mut value = self.img.px[s];
                for c in 0..4 {
                    value[c] += delta[c];
                }
                add(&mut weighted, value, weight);
                add(&mut plain, value, 1.0);
                weight_sum += weight;
                count += 1.0;
            }
        }
        let v = if weight_sum > 1e-20 {
            scale(weighted, 1.0 / weight_sum)
        } else if count > 0.0 {
            scale(plain, 1.0 / count)
        } else {
            self.img.px[p]
        };
        // Colour shifts can leave the valid range; keep a valid premultiplied colour.
        clamp_premul(v)
    }
}

/// σ² of the voting weights: the 75th percentile of per-pixel match errors (finite ones).
fn weight_scale(field: &Field) -> f32 {
    let mut errors: Vec<f32> = field
        .nnf
        .iter()
        .zip(&field.cost)
        .filter(|&(&m, c)| m != NONE && c.is_finite())
        .map(|(_, &c)| c / PATCH_PIXELS)
        .collect();
    if errors.is_empty() {
        return 1.0;
    }
    let k = errors.len() * 3 / 4;
    let (_, nth, _) = errors.select_nth_unstable_by(k, f32::total_cmp);
    nth.max(1e-5)
}
