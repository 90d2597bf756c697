//! Structure guidance for the coarsest level: the hole is first filled in the order of
//! Criminisi, Pérez & Toyama ("Region Filling and Object Removal by Exemplar-Based Image
//! Inpainting", IEEE TIP 13(9), 2004), written from the paper.
//!
//! The EM iteration of `exemplar` improves whatever it starts from, but it cannot invent an
//! edge its start lacks: from Telea's smooth guess, a line crossing the hole fades towards
//! the hole's middle, the faded middle matches plain patches best, and the line comes back
//! broken. Criminisi et al. fill patch by patch from the hole's border inwards, and choose
//! which border patch goes next by its priority, confidence × data term:
//!
//! * the confidence `C(p)` is the mean confidence of the patch's pixels (1 for known ones,
//!   inherited from the patch that filled them otherwise), so well-supported patches lead;
//! * the data term `D(p) = |∇I⊥ · n|` is the strength of the isophote (the strongest edge in
//!   the patch's known part) across the front, whose normal is `n`: where an edge meets the
//!   hole, its patch is filled early, and the copied patch extends the edge by a few pixels,
//!   which makes the next patch along it the next one to fill. Edges so run through the hole
//!   before the flat areas around them close in.
//!
//! Each chosen patch is completed by copying the unknown part of the known patch most like
//! its known part (sum of squared differences). Greedy copying alone can pick a patch whose
//! few known pixels fit and whose rest is wildly off (on a photo of a splash it copied the
//! dark crown into a bright blur: 11.5 dB where Telea's start gave 18.4), so the unknown
//! pixels are also compared, at [`GUESS_WEIGHT`], with the smooth guess already there: the
//! known part decides the structure, the guess vetoes wrong colours. Run at the coarsest
//! level only, where the
//! hole is a few pixels deep and the search is cheap; finer levels inherit the structure
//! through the upsampled fill and matches.

use rayon::prelude::*;

use super::canvas::{Canvas, Mask};
use super::patchmatch::{Patches, RADIUS};
use super::span::Span;
use crate::decompose::DecomposeError;

/// Largest hole, in pixels, filled in priority order. The coarsest level of an object-sized
/// hole has a few hundred; a long thin hole can have far more, and there, with structure a
/// few pixels across at most, Telea's start is kept.
pub(crate) const MAX_HOLE: usize = 8_000;
/// Sources are searched this far around the patch being filled: the whole of a coarsest
/// level's canvas in the usual case, and a bound on the cost otherwise.
const SEARCH_RADIUS: usize = 48;
/// Added to the data term so that, where no edge meets the front, the fill still proceeds
/// by confidence (outside in) rather than in scan order. Small against a real edge's term
/// (a step of a tenth of the range gives 0.1).
const FLAT_DATA: f32 = 0.01;
/// Weight of a still unknown pixel of the patch being filled, compared with the smooth guess
/// there, against a known pixel's 4 (so a quarter): enough that a copy must roughly agree
/// with the guess's colour, too little for the guess's blur to outvote an edge the known
/// pixels show.
const GUESS_WEIGHT: i64 = 1;
const KNOWN_WEIGHT: i64 = 4;

/// Fills every `hole` pixel of `canvas` in Criminisi et al.'s priority order, copying from
/// the valid sources of `patches` only. Deterministic: ties go to the lowest index.
pub(crate) fn priority_fill(
    canvas: &mut Canvas,
    hole: &Mask,
    patches: &Patches,
    span: &Span<'_>,
) -> Result<(), DecomposeError> {
    let (w, h) = (canvas.width, canvas.height);
    let mut state = State {
        known: hole.bits.iter().map(|&b| !b).collect(),
        confidence: hole
            .bits
            .iter()
            .map(|&b| if b { 0.0 } else { 1.0 })
            .collect(),
        priority: vec![f32::NAN; w * h],
        width: w,
        height: h,
    };
    let mut pending: Vec<usize> = (0..w * h).filter(|&i| hole.bits[i]).collect();
    let total = pending.len().max(1);
    while !pending.is_empty() {
        span.check()?;
        let mut best: Option<(f32, usize)> = None;
        for &p in &pending {
            if !state.on_front(p) {
                continue;
            }
            if state.priority[p].is_nan() {
                state.priority[p] = state.priority_of(canvas, p);
            }
            let value = state.priority[p];
            if best.is_none_or(|(b, _)| value > b) {
                best = Some((value, p));
            }
        }
        // Every unknown region borders a known pixel while sources exist; should none
        // (a canvas with no known pixel), the caller's smooth start stays.
        let Some((_, p)) = best else { break };
        let Some(source) = best_source(canvas, &state.known, patches, p) else {
            break;
        };
        state.copy_patch(canvas, p, source);
        pending.retain(|&q| !state.known[q]);
        span.set(1.0 - pending.len() as f32 / total as f32, "following edges");
    }
    Ok(())
}

/// Which pixels are known so far, their confidences and the cached priorities.
struct State {
    known: Vec<bool>,
    confidence: Vec<f32>,
    /// Priority of front pixels, NaN where not worked out since their patch last changed.
    priority: Vec<f32>,
    width: usize,
    height: usize,
}

impl State {
    /// Whether unknown pixel `p` touches a known one.
    fn on_front(&self, p: usize) -> bool {
        neighbours(p, self.width, self.height).any(|q| self.known[q])
    }

    /// `C(p) · (D(p) + FLAT_DATA)`.
    fn priority_of(&self, canvas: &Canvas, p: usize) -> f32 {
        let (w, h) = (self.width as i64, self.height as i64);
        let (px, py) = ((p % self.width) as i64, (p / self.width) as i64);
        let r = RADIUS as i64;
        let (mut confidence, mut area) = (0.0f32, 0.0f32);
        // The strongest gradient among the patch's known pixels whose own 3×3 is known, so
        // the hole's border itself never counts as an edge.
        let mut strongest = [0.0f32; 2];
        for y in (py - r).max(0)..=(py + r).min(h - 1) {
            for x in (px - r).max(0)..=(px + r).min(w - 1) {
                let q = (y * w + x) as usize;
                area += 1.0;
                if !self.known[q] {
                    continue;
                }
                confidence += self.confidence[q];
                if let Some(g) = self.gradient(canvas, x, y)
                    && g[0] * g[0] + g[1] * g[1] > strongest[0].powi(2) + strongest[1].powi(2)
                {
                    strongest = g;
                }
            }
        }
        // The front's normal: the direction in which the known pixels around `p` thin out.
        let normal = self.sobel(px, py, |q| if self.known[q] { 1.0 } else { 0.0 });
        let length = normal[0].hypot(normal[1]);
        // The isophote is the gradient turned a quarter: |∇I⊥ · n| = |gx·ny − gy·nx|.
        let data = if length > 0.0 {
            (strongest[0] * normal[1] - strongest[1] * normal[0]).abs() / length
        } else {
            strongest[0].hypot(strongest[1])
        };
        confidence / area * (data + FLAT_DATA)
    }

    /// Luminance gradient at (`x`, `y`) by Sobel's operator, scaled so a unit step gives 1;
    /// `None` unless all of its 3×3 is known.
    fn gradient(&self, canvas: &Canvas, x: i64, y: i64) -> Option<[f32; 2]> {
        let (w, h) = (self.width as i64, self.height as i64);
        if x < 1 || y < 1 || x + 1 >= w || y + 1 >= h {
            return None;
        }
        for dy in -1..=1 {
            for dx in -1..=1 {
                if !self.known[((y + dy) * w + x + dx) as usize] {
                    return None;
                }
            }
        }
        Some(self.sobel(x, y, |q| {
            let c = canvas.get(q);
            0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]
        }))
    }

    /// Sobel's derivatives of `value` at (`x`, `y`), scaled by 1/4 so a unit step gives 1;
    /// pixels beyond the canvas repeat its edge.
    fn sobel(&self, x: i64, y: i64, value: impl Fn(usize) -> f32) -> [f32; 2] {
        let (w, h) = (self.width as i64, self.height as i64);
        let at = |dx: i64, dy: i64| {
            let (qx, qy) = ((x + dx).clamp(0, w - 1), (y + dy).clamp(0, h - 1));
            value((qy * w + qx) as usize)
        };
        let gx = at(1, -1) + 2.0 * at(1, 0) + at(1, 1) - at(-1, -1) - 2.0 * at(-1, 0) - at(-1, 1);
        let gy = at(-1, 1) + 2.0 * at(0, 1) + at(1, 1) - at(-1, -1) - 2.0 * at(0, -1) - at(1, -1);
        [gx / 4.0, gy / 4.0]
    }

    /// Copies the unknown pixels of the patch at `p` from the patch at `source`, gives them
    /// `p`'s confidence, and forgets the priorities the change touches.
    fn copy_patch(&mut self, canvas: &mut Canvas, p: usize, source: usize) {
        let (w, h) = (self.width as i64, self.height as i64);
        let c = {
            let (px, py) = ((p % self.width) as i64, (p / self.width) as i64);
            let r = RADIUS as i64;
            let (mut sum, mut area) = (0.0f32, 0.0f32);
            for y in (py - r).max(0)..=(py + r).min(h - 1) {
                for x in (px - r).max(0)..=(px + r).min(w - 1) {
                    let q = (y * w + x) as usize;
                    area += 1.0;
                    if self.known[q] {
                        sum += self.confidence[q];
                    }
                }
            }
            sum / area
        };
        let (px, py) = ((p % self.width) as i64, (p / self.width) as i64);
        let (sx, sy) = ((source % self.width) as i64, (source / self.width) as i64);
        let r = RADIUS as i64;
        for dy in -r..=r {
            for dx in -r..=r {
                let (x, y) = (px + dx, py + dy);
                if x < 0 || y < 0 || x >= w || y >= h {
                    continue;
                }
                let q = (y * w + x) as usize;
                if self.known[q] {
                    continue;
                }
                // Valid sources lie wholly inside the canvas.
                canvas.px[q] = canvas.px[((sy + dy) * w + sx + dx) as usize];
                self.known[q] = true;
                self.confidence[q] = c;
            }
        }
        // A priority reads the patch around its pixel and the 3×3 around each of those.
        let reach = 2 * r + 2;
        for y in (py - reach).max(0)..=(py + reach).min(h - 1) {
            for x in (px - reach).max(0)..=(px + reach).min(w - 1) {
                self.priority[(y * w + x) as usize] = f32::NAN;
            }
        }
    }
}

/// The 8-neighbours of `p` inside a `w`×`h` canvas.
fn neighbours(p: usize, w: usize, h: usize) -> impl Iterator<Item = usize> {
    let (x, y) = ((p % w) as i64, (p / w) as i64);
    (-1i64..=1)
        .flat_map(move |dy| (-1i64..=1).map(move |dx| (dx, dy)))
        .filter(|&d| d != (0, 0))
        .map(move |(dx, dy)| (x + dx, y + dy))
        .filter(move |&(qx, qy)| qx >= 0 && qy >= 0 && qx < w as i64 && qy < h as i64)
        .map(move |(qx, qy)| (qy * w as i64 + qx) as usize)
}

/// The valid source within [`SEARCH_RADIUS`] of `p` whose patch is most like `p`'s known
/// part, with its guessed part weighed in lightly (weighted sum of squared differences); ties
/// go to the lowest index.
fn best_source(canvas: &Canvas, known: &[bool], patches: &Patches, p: usize) -> Option<usize> {
    let (w, h) = (canvas.width, canvas.height);
    let (px, py) = (p % w, p / w);
    let r = RADIUS as i64;
    // The target patch's pixels as offsets with their values and weights: known ones, and
    // the hole's smooth guess (see `GUESS_WEIGHT`).
    let mut offsets: Vec<(i64, i64, [i32; 4], i64)> = Vec::with_capacity(49);
    for dy in -r..=r {
        for dx in -r..=r {
            let (x, y) = (px as i64 + dx, py as i64 + dy);
            if x < 0 || y < 0 || x >= w as i64 || y >= h as i64 {
                continue;
            }
            let q = (y * w as i64 + x) as usize;
            let weight = if known[q] { KNOWN_WEIGHT } else { GUESS_WEIGHT };
            offsets.push((dx, dy, canvas.px[q].map(i32::from), weight));
        }
    }
    let rows = py.saturating_sub(SEARCH_RADIUS)..(py + SEARCH_RADIUS + 1).min(h);
    let columns = px.saturating_sub(SEARCH_RADIUS)..(px + SEARCH_RADIUS + 1).min(w);
    rows.into_par_iter()
        .filter_map(|y| {
            let mut best: Option<(i64, usize)> = None;
            for x in columns.clone() {
                let s = y * w + x;
                if !patches.is_source(s) {
                    continue;
                }
                let cutoff = best.map_or(i64::MAX, |(c, _)| c);
                let mut cost = 0i64;
                for &(dx, dy, t, weight) in &offsets {
                    let q = canvas.px[((y as i64 + dy) * w as i64 + x as i64 + dx) as usize];
                    for c in 0..4 {
                        let d = i64::from(t[c] - i32::from(q[c]));
                        cost += weight * d * d;
                    }
                    if cost >= cutoff {
                        break;
                    }
                }
                if cost < cutoff {
                    best = Some((cost, s));
                }
            }
            best
        })
        .min()
        .map(|(_, s)| s)
}
