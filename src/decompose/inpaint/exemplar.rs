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
//! ("voting"). The coarsest level starts from Telea's smooth fill, redone in Criminisi et
//! al.'s priority order so edges crossing the hole run through it (see `structure`); finer
//! levels start from the coarser field, doubled.
//!
//! After the finest level, the fill is re-solved in the gradient domain against its known
//! border (see `blend`): the voted patches' gradients are kept, their disagreement about
//! the overall level is not, so the fill meets its border without a seam.
//!
//! Cost grows with the number of patches touching the hole, so levels with more of them than
//! [`SEARCH_TARGETS`] get only a cheap, local polish of the inherited field and one vote.
//! That copies real full-resolution texture from the matched places (sharper than upsampling
//! the coarse fill) at a cost linear in the hole's area, which is what keeps 12-megapixel
//! photos tractable.

use std::borrow::Cow;

use super::blend::poisson_blend;
use super::canvas::{Canvas, Mask, Px};
use super::patchmatch::{self, Effort, Field, Patches, RADIUS, TEXTURE_WEIGHT};
use super::span::Span;
use super::structure;
use super::telea::telea_window;
use super::vote::{BORDER_DECAY_CAP, patch_weights, vote, weight_scale};
use crate::decompose::DecomposeError;

/// Most target patches a level may have and still be searched.
const SEARCH_TARGETS: usize = 80_000;
/// The pyramid stops once no hole pixel is farther than this from known pixels, at which
/// point Telea's smooth fill is a fair start.
const COARSE_HOLE_RADIUS: u32 = 4;
/// Smallest side of a pyramid level; smaller ones have too few source patches.
const MIN_LEVEL_SIDE: usize = 24;
/// EM iterations at the coarsest level (cheap, and where the structure is decided) and at
/// the other searched levels.
const COARSEST_ITERATIONS: usize = 8;
const ITERATIONS: usize = 3;
/// EM iterations at the finest level, when it is searched. It starts from a field refined
/// three times a level below, so its third iteration mostly repeats its second: with two,
/// bench inpaint (640×480, 12 photos, seed 1) gave 20.25 dB and texture 0.80 against 20.15
/// dB and 0.81, for about an eighth less time; with one, texture fell to 0.79.
const FINEST_ITERATIONS: usize = 2;
/// Search effort at the coarsest level, which starts from random matches: full-image random
/// search and two passes per iteration.
const COARSEST_EFFORT: Effort = Effort {
    passes: 2,
    radius: usize::MAX,
    global: true,
    texture: TEXTURE_WEIGHT,
    locality: 0.0,
};
/// Texture weight of the finer levels' patch distance. Once the coarsest level has decided
/// where grain goes, the full [`TEXTURE_WEIGHT`] made finer levels copy too much of it where
/// the truth is soft (out-of-focus wood came back with twice its gradients); half of it,
/// with the gradient-domain blend, gave bench inpaint (12 photos, seed 1) 20.22 dB at
/// 640×480 and 19.83 dB at 1600×1200 against 19.90 and 19.06 with the full weight. A quarter
/// everywhere lost the grain of a grainy hole next to a smooth sky.
const FINE_TEXTURE_WEIGHT: f32 = 0.25;
/// Finer levels start from the coarser field, already good: one pass per iteration and a
/// local random search that repairs what upsampling got wrong.
const REFINE_EFFORT: Effort = Effort {
    passes: 1,
    radius: 32,
    global: false,
    texture: FINE_TEXTURE_WEIGHT,
    locality: 0.0,
};
/// Levels with too many targets for real search get one pass of propagation and a very
/// local random search: cheap, and enough to stop fine detail the coarse level could not
/// see (text, sharp edges) from being copied into plain areas.
const POLISH_EFFORT: Effort = Effort {
    passes: 1,
    radius: 4,
    global: false,
    texture: FINE_TEXTURE_WEIGHT,
    locality: 0.0,
};

/// Price, in patch-distance units, of a source one hole radius away from its target (it
/// grows with the squared distance). Photos change with distance: depth of field, light,
/// perspective. Without a price the search copied from wherever the colours matched: sharp
/// wood grain from the in-focus band into an out-of-focus hole (texture 1.3× the truth's).
/// Resynthesizer samples only a ring round the hole. Bench inpaint (640×480, 12 photos,
/// seed 1): 20.21 dB, texture 0.83 with no price; 20.58, 20.84, 21.26, 21.32, 21.09, 20.59
/// dB with 0.01, 0.02, 0.05, 0.1, 0.3, 1.5 (texture 0.74 at 0.1: less copied grain).
const LOCALITY: f32 = 0.1;

/// The search's locality price per squared pixel on a level whose hole reaches `radius`
/// pixels from its border: the same price per hole radius on every level.
fn locality(radius: u32) -> f32 {
    let r = radius.max(1) as f32;
    LOCALITY / (r * r)
}

/// One rung of the pyramid: what building it keeps for every level until that level's turn.
struct Rung<'a> {
    canvas: Canvas,
    hole: Cow<'a, Mask>,
    /// Known pixels no patch may be copied from.
    excluded: Option<Cow<'a, Mask>>,
    /// Patches overlapping the hole.
    targets: usize,
}

/// What filling one level needs besides its rung: built when the level's turn comes and
/// dropped when it is done, so only one level's worth is ever held.
struct Level {
    patches: Patches,
    /// Distance to the hole's border (capped at `BORDER_DECAY_CAP`) of the target patch
    /// centred on each pixel of the field's rectangle: its voting confidence is
    /// `BORDER_DECAY` (see `vote`) to the minus that. A byte rather than the float weight,
    /// as the rectangle can be a good part of the picture.
    confidence: Vec<u8>,
}

impl Level {
    fn new(hole: &Mask, excluded: Option<&Mask>) -> Self {
        let patches = Patches::new(hole, excluded);
        // Every pixel of the hole lies in the targets' rectangle with a frame of known
        // pixels around it (or the canvas edge), so distances measured inside it are exact.
        let rect = patches.targets;
        let confidence = hole
            .window((rect.x0, rect.y0), (rect.width, rect.height))
            .distance_to_known()
            .into_iter()
            .map(|d| d.min(BORDER_DECAY_CAP) as u8)
            .collect();
        Self {
            patches,
            confidence,
        }
    }
}

/// Fills the hole pixels of `canvas` and returns them: the filled values of the pixels of
/// `hole`, in scan order (the rest of the canvas is freed before the blend's solve, whose
/// buffers make the fill's peak). `radius` is the largest distance from a pixel of the
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
) -> Result<Result<Vec<Px>, Canvas>, DecomposeError> {
    let first = Patches::new(hole, excluded);
    if first.source_count == 0 {
        return Ok(Err(canvas));
    }
    let targets = first.target_count;
    drop(first);
    // Texture features steer the search away from smooth sources (see `texture`).
    canvas.tex = super::texture::features(&canvas, hole, excluded, span)?;
    let mut rungs = vec![Rung {
        canvas,
        hole: Cow::Borrowed(hole),
        excluded: excluded.map(Cow::Borrowed),
        targets,
    }];
    while let Some(last) = rungs.last() {
        let level_radius = radius >> (rungs.len() - 1);
        let wants_coarser = level_radius > COARSE_HOLE_RADIUS || last.targets > SEARCH_TARGETS;
        let side = last.canvas.width.min(last.canvas.height);
        if !wants_coarser || side / 2 < MIN_LEVEL_SIDE || rungs.len() >= 12 {
            break;
        }
        span.check()?;
        // A coarse pixel is excluded when any of its children is, so a coarse source never
        // summarises an excluded pixel.
        let hole = last.hole.downsample();
        let excluded = last.excluded.as_deref().map(Mask::downsample);
        let patches = Patches::new(&hole, excluded.as_ref());
        if patches.source_count < 16 {
            break;
        }
        let rung = Rung {
            canvas: last.canvas.downsample(&last.hole),
            hole: Cow::Owned(hole),
            excluded: excluded.map(Cow::Owned),
            targets: patches.target_count,
        };
        rungs.push(rung);
    }

    let plan: Vec<(usize, Effort)> = (0..rungs.len())
        .map(|l| schedule(l, rungs.len() - 1, rungs[l].targets))
        .collect();
    // Share of the progress bar per level, by estimated work.
    let work: Vec<f32> = (0..rungs.len())
        .map(|l| rungs[l].targets as f32 * (plan[l].0 as f32 + 0.2) + 1.0)
        .collect();
    let total: f32 = work.iter().sum();
    let mut done = 0.0f32;

    let coarsest = rungs.len() - 1;
    let mut field: Option<Field> = None;
    let mut coarser: Option<Canvas> = None;
    let mut blended: Option<Vec<Px>> = None;
    for l in (0..rungs.len()).rev() {
        let level_span = span.sub(done / total, (done + work[l]) / total);
        done += work[l];
        let stream = seed.wrapping_add((l as u64) << 40);
        let rung = &mut rungs[l];
        let mut level = Level::new(&rung.hole, rung.excluded.as_deref());
        let width = rung.canvas.width;
        let ballot = (&*rung.hole, &level.confidence[..]);
        // The patch means are allocated once the coarser level's canvas and field are
        // freed: at the finest level the three together made the fill's peak.
        let mut means: Vec<Px>;
        let mut current = match field.take() {
            None => {
                telea_window(
                    &mut rung.canvas,
                    &rung.hole,
                    rung.excluded.as_deref(),
                    super::TELEA_RADIUS,
                    &level_span.sub(0.0, 0.05),
                )?;
                // Telea's start is smooth: edges crossing the hole fade in it, and EM cannot
                // bring back what its start lacks. Filling in Criminisi et al.'s order
                // carries them through first (see `structure`).
                if rung.hole.count() <= structure::MAX_HOLE {
                    structure::priority_fill(
                        &mut rung.canvas,
                        &rung.hole,
                        &level.patches,
                        &level_span.sub(0.05, 0.1),
                    )?;
                }
                means = vec![[0u8; 4]; rung.canvas.px.len()];
                Field::random(&level.patches, stream)
            }
            Some(coarse) => {
                // Start from the smooth upsampled coarse fill: it gives the patch means that
                // bias-corrected voting keeps, while the inherited matches add detail.
                if let Some(coarse_canvas) = coarser.take() {
                    rung.canvas.fill_from_coarse(&coarse_canvas, &rung.hole);
                }
                level_span.check()?;
                let coarse_width = width.div_ceil(2);
                let f = Field::upsample(&coarse, coarse_width, &level.patches, width, stream);
                drop(coarse);
                level_span.check()?;
                means = vec![[0u8; 4]; rung.canvas.px.len()];
                rung.canvas.box_mean_into(RADIUS, &mut means);
                level_span.check()?;
                vote(&mut rung.canvas, &means, &f, ballot, &level_span)?;
                f
            }
        };
        // Which pixels are targets is in the field now (its entries other than NONE): the
        // search never reads the flags, so they are not held through it.
        level.patches.is_target = Vec::new();
        let (iters, mut effort) = plan[l];
        effort.locality = locality(radius >> l);
        for it in 0..iters {
            let it_span = level_span.sub(
                0.1 + 0.9 * it as f32 / iters as f32,
                0.1 + 0.9 * (it + 1) as f32 / iters as f32,
            );
            level_span.check()?;
            rung.canvas.box_mean_into(RADIUS, &mut means);
            patchmatch::search(
                &rung.canvas,
                &means,
                &level.patches,
                &mut current,
                effort,
                it % 2 == 0,
                stream.wrapping_add(it as u64 * 7919),
                &it_span,
            )?;
            if votes_after(l, it, iters) {
                vote(&mut rung.canvas, &means, &current, ballot, &it_span)?;
            }
        }
        let current = if l == 0 {
            // Seams and colour blotches of the voted fill are removed in the gradient
            // domain, against the known border (see `blend`). Patch means, texture
            // features and source classes are done with: freed first, as the blend's own
            // buffers would otherwise come on top of them at the fill's peak. The field
            // and the confidences go to the blend, which frees them before its solve.
            drop(means);
            drop(level.patches);
            rung.canvas.tex = Vec::new();
            let sigma2 = weight_scale(&current);
            let confidence = level.confidence;
            let weights =
                move |field: &Field, range| patch_weights(field, &confidence, range, sigma2);
            let canvas = std::mem::replace(&mut rung.canvas, Canvas::empty());
            blended = Some(poisson_blend(
                canvas,
                &rung.hole,
                current,
                weights,
                &level_span,
            )?);
            None
        } else {
            Some(current)
        };
        level_span.set(
            1.0,
            if l == coarsest {
                "filling"
            } else {
                "refining fill"
            },
        );
        field = current;
        if l > 0 {
            // Keep only the filled canvas of this level; its masks are done with.
            coarser = rungs.pop().map(|rung| rung.canvas);
        }
    }
    match blended {
        Some(filled) => Ok(Ok(filled)),
        None => Err(DecomposeError::Compute {
            stage: "filling the background".into(),
            message: "the image pyramid came out empty".into(),
        }),
    }
}

/// EM iterations and search effort for level `l` of a pyramid whose coarsest level is
/// `coarsest`, when the level has `targets` target patches.
fn schedule(l: usize, coarsest: usize, targets: usize) -> (usize, Effort) {
    if l == coarsest {
        (COARSEST_ITERATIONS, COARSEST_EFFORT)
    } else if targets <= SEARCH_TARGETS {
        let iterations = if l == 0 {
            FINEST_ITERATIONS
        } else {
            ITERATIONS
        };
        (iterations, REFINE_EFFORT)
    } else {
        (1, POLISH_EFFORT)
    }
}

/// Whether iteration `it` of `iters` on level `l` ends with a vote. The finest level's last
/// field goes straight to the gradient-domain blend instead, which re-solves every hole
/// pixel from that field's gradients and the known border: a vote there would only change
/// where the blend's solve starts. Skipping it gave bench inpaint (640×480, 12 photos, seed
/// 1) 21.58 dB, SSIM 0.653, texture 0.80 against 21.59, 0.653, 0.80, for about 6% less CPU.
fn votes_after(l: usize, it: usize, iters: usize) -> bool {
    l > 0 || it + 1 < iters
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_finest_level_gets_fewer_iterations_than_the_refined_ones_below() {
        let (coarsest, few) = (3, SEARCH_TARGETS / 2);
        assert_eq!(schedule(3, coarsest, few).0, COARSEST_ITERATIONS);
        assert_eq!(schedule(1, coarsest, few).0, ITERATIONS);
        assert_eq!(schedule(0, coarsest, few).0, FINEST_ITERATIONS);
        const { assert!(FINEST_ITERATIONS < ITERATIONS) };
        // Too many targets to search: one polish, at any level.
        assert_eq!(schedule(0, coarsest, 2 * SEARCH_TARGETS).0, 1);
        // A one-level pyramid's only level is the coarsest, searched in full.
        assert_eq!(schedule(0, 0, few).0, COARSEST_ITERATIONS);
    }

    #[test]
    fn only_the_finest_levels_last_iteration_leaves_the_vote_to_the_blend() {
        // Coarser levels vote after every iteration: the next level starts from their fill.
        assert!((0..ITERATIONS).all(|it| votes_after(1, it, ITERATIONS)));
        assert!(votes_after(3, COARSEST_ITERATIONS - 1, COARSEST_ITERATIONS));
        // The finest level votes between its iterations, so its second search sees the
        // first one's fill, but not after the last: the blend replaces that vote.
        assert!(votes_after(0, 0, FINEST_ITERATIONS));
        assert!(!votes_after(0, FINEST_ITERATIONS - 1, FINEST_ITERATIONS));
        // A finest level with a single polish iteration goes straight to the blend.
        assert!(!votes_after(0, 0, 1));
    }
}
