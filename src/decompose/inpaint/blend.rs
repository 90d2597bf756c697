//! Gradient-domain blend of the voted fill (Pérez, Gangnet & Blake, "Poisson Image Editing",
//! SIGGRAPH 2003), written from the paper.
//!
//! Voting averages colours, so where the matched patches disagree about the overall level
//! (a slightly darker plank, a brighter patch of sky) the fill meets its border with a step
//! and carries blotches inside. Gradients do not suffer from that: each matched source patch
//! says what the differences between neighbouring pixels should be wherever it lies. The
//! blend solves for the hole's pixels whose differences best match the voted differences,
//! with the known pixels around the hole as the fixed boundary (Dirichlet), so the fill
//! joins its border without a seam while keeping the copied texture.
//!
//! The system is the Poisson equation on the hole's pixels, screened (see [`SCREEN_LENGTH`])
//! so that the correction fades with the distance from the border rather than drifting
//! across a wide hole; it is symmetric positive definite and solved by conjugate gradients,
//! one colour channel at a time, for the correction to the voted fill (which is already
//! close, so the solve starts near its answer). Guidance is
//! computed band by band of rows, so no per-patch weight for the whole hole is held.

use rayon::prelude::*;

use super::canvas::{Canvas, INV, Mask, Px, load, store};
use super::patchmatch::{Field, NONE, RADIUS};
use super::poisson::Grid;
use super::span::Span;
use crate::decompose::DecomposeError;

/// Most conjugate-gradient iterations per channel and pyramid level of the solve (see
/// `poisson`). Plain CG from zero ran into its limit of 100 on every object-sized hole;
/// started from the coarser levels, 50 a level gave bench inpaint (640×480, 12 photos,
/// seed 1) 20.20 dB against 20.15, and 30 a level 20.08: the fill is not better the closer
/// the solve gets to exact, as the voted gradients disagree among themselves.
const MAX_ITERATIONS: usize = 50;
/// The solve stops once the residual's norm falls below this share of its start.
const TOLERANCE: f32 = 1e-3;

/// Mean source gradient magnitude (0..1 a step, over the RGB channels and the patches
/// voting on an edge) from which that edge's guidance is the best-weighted source's own
/// difference rather than the vote's mean; weaker edges mix the two in proportion. The mean
/// of disagreeing sources averages texture away (bench inpaint, 640×480, seed 1: texture
/// ratio 0.80); the best source keeps it (0.84 with the high pass below).
const TEXTURED_STRENGTH: f32 = 0.01;
/// Box radius of the high pass on the best source's share of the correction: the copied
/// gradients of one source per edge integrate into level drift over a big smooth hole
/// (storm#2's sky went 27.66 → 21.95 dB without it, 27.58 with it), so that share keeps
/// only the detail finer than this, and the mean vote sets the levels. 8 gave
/// 21.53 dB / texture 0.84 against 21.56 / 0.84 for 4.
const HIGH_PASS_RADIUS: usize = 4;

/// Most hole pixels for which the blend's solves run two at a time (see [`poisson_blend`]).
/// A second solve's vectors come on top of the fill's peak: on a 640×480 picture with a
/// hole of a quarter of it, pairs held 0.7 pictures more, so only small holes pair.
const PAIRED_CELLS: usize = 1 << 15;

/// Pixels over which a correction fades from where the border asks for it (the screened
/// equation's length, see [`Grid::screened`]). A poster's bottom bar over a storm photo
/// (a hole across the picture's width, its far side the picture's edge) drifted to purple
/// under the plain equation: hole PSNR 15.6 dB, 19.1 with this (19.2 with 32). Object-sized
/// holes barely notice: bench inpaint (640×480, seed 1) 21.55 → 21.58 dB, texture 0.84 →
/// 0.83; 32 gave 21.49 dB.
const SCREEN_LENGTH: f32 = 64.0;

/// Rows of the field whose guidance is computed per step, so that only their patches'
/// weights are held at a time.
const BAND_ROWS: usize = 16;

/// The hole pixels of `canvas` (every pixel of `hole`, in scan order) replaced by the
/// solution of the Poisson equation whose guidance field is the voted gradients of the
/// matched source patches of `field` (each patch weighted as `weights` says for a range of
/// field entries) and whose boundary is the known pixels.
///
/// The canvas, the field and the weights are taken, and dropped once the guidance is worked
/// out: the solve's vectors come on top of everything held at that point, and this makes
/// the fill's peak memory on big holes, so nothing the solve does not read is kept through
/// it. Of the canvas only the voted hole pixels are kept, which become the result.
pub(crate) fn poisson_blend<W>(
    canvas: Canvas,
    hole: &Mask,
    field: Field,
    weights: W,
    span: &Span<'_>,
) -> Result<Vec<Px>, DecomposeError>
where
    W: Fn(&Field, std::ops::Range<usize>) -> Vec<f32>,
{
    let (w, h) = (canvas.width, canvas.height);
    let rect = field.rect;
    // Hole pixels, numbered in scan order (the cells). Every hole pixel lies in the
    // field's rectangle. Each band lists its own: a list of them all, held through the
    // guidance, would come on top of the fill's peak.
    let count = hole.count();
    debug_assert_eq!(
        count,
        hole_pixels(hole, rect, w, 0..rect.height).len(),
        "a hole pixel outside the field"
    );
    if count == 0 {
        return Ok(Vec::new());
    }
    // Right-hand side of the normal equations on the correction c = f − g (g the voted
    // fill): Σ_q (c_p − c_q) = Σ_q (g_q − g_p − guidance(p→q)), over the 4-neighbours q inside
    // the canvas, with c = 0 on known pixels. Band by band of field rows, like the vote.
    // One vector per channel, so each can be handed to its solve and replaced by its
    // solution without a copy, and a channel needing no correction can be freed.
    // Room for the solve's zero slot too, so appending it moves nothing.
    let mut rhs: [Lazy; 4] = std::array::from_fn(|_| Lazy::new(count + 1));
    // The same for the guidance leaning on each edge's best source (see TEXTURED_STRENGTH),
    // less the mean vote's: its solution is the detail the best sources add. Colour only:
    // alpha keeps the mean vote's.
    let mut rhs_d: [Lazy; 3] = std::array::from_fn(|_| Lazy::new(count + 1));
    for y0 in (0..rect.height).step_by(BAND_ROWS) {
        span.check()?;
        let y1 = (y0 + BAND_ROWS).min(rect.height);
        // Edges reach one row below the band, and patches `RADIUS` rows beyond that.
        let wy0 = y0.saturating_sub(RADIUS + 1);
        let wy1 = (y1 + RADIUS + 1).min(rect.height);
        let guide = Guide {
            canvas: &canvas,
            field: &field,
            weights: &weights(&field, wy0 * rect.width..wy1 * rect.width),
            weights_from: wy0 * rect.width,
        };
        let band = hole_pixels(hole, rect, w, y0..y1);
        if band.is_empty() {
            continue;
        }
        let edges = Edges::of_band(&guide, hole, y0, y1);
        let values: Vec<[[f32; 4]; 2]> = band
            .par_iter()
            .map(|&p| edges.rhs(&canvas, p as usize))
            .collect();
        for [v, m] in values {
            for (channel, x) in rhs.iter_mut().zip(v) {
                channel.push(x);
            }
            for ((channel, x), y) in rhs_d.iter_mut().zip(m).zip(v) {
                channel.push(x - y);
            }
        }
    }
    span.check()?;
    // The guidance is done: the field and its weights are not read again, and of the
    // canvas only the voted hole pixels are, to be corrected.
    drop(weights);
    drop(field);
    let cells = hole_pixels(hole, rect, w, 0..rect.height);
    let mut filled: Vec<Px> = cells.iter().map(|&p| canvas.px[p as usize]).collect();
    drop(canvas);
    let grid = Grid::new(&cells, w, h).screened(1.0 / (SCREEN_LENGTH * SCREEN_LENGTH));
    // The hole's pixels are listed again at the end, rather than held through the solve,
    // whose buffers make the fill's peak.
    drop(cells);
    // An opaque fill's alpha needs no correction: its all-zero right-hand side is dropped
    // rather than solved or held. The best sources' share of the correction is solved on
    // its own so that only its detail is kept (see HIGH_PASS_RADIUS); alpha keeps the mean
    // vote's.
    let mut jobs: Vec<(Part, Vec<f32>)> = Vec::with_capacity(7);
    for (c, b) in rhs.into_iter().enumerate() {
        jobs.extend(b.into_nonzero().map(|b| (Part::Mean(c), b)));
    }
    for (c, b) in rhs_d.into_iter().enumerate() {
        jobs.extend(b.into_nonzero().map(|b| (Part::Detail(c), b)));
    }
    let count = jobs.len();
    let mut corrections: [Option<Vec<f32>>; 4] = [None, None, None, None];
    let mut cells: Option<Vec<u32>> = None;
    let solve = |(part, b): (Part, Vec<f32>)| (part, grid.solve(b, MAX_ITERATIONS, TOLERANCE));
    let mut jobs = jobs.into_iter();
    let mut done = 0;
    // Small solves run two side by side: each is a chain of short iterations whose
    // parallel sweeps, on a hole of a few ten thousand pixels, cost about as much to hand
    // out to another core as to do, while two solves keep two cores busy with few
    // hand-overs. Bigger ones split their sweeps well, and one at a time holds only one
    // solve's vectors (on a 2048×1536 picture, pairs held 0.4 pictures more). Mean parts
    // come first, so a channel's detail is added to its solved mean.
    let paired = grid.cell_count() <= PAIRED_CELLS;
    while let Some(first) = jobs.next() {
        span.check()?;
        let second = if paired { jobs.next() } else { None };
        let (first, second) = rayon::join(|| solve(first), || second.map(solve));
        for (part, x) in std::iter::once(first).chain(second) {
            match part {
                Part::Mean(c) => corrections[c] = Some(x),
                Part::Detail(c) => {
                    let cells =
                        cells.get_or_insert_with(|| hole_pixels(hole, rect, w, 0..rect.height));
                    let high = high_pass(&x, cells, w, rect, HIGH_PASS_RADIUS);
                    drop(x);
                    let base = corrections[c].get_or_insert_with(|| vec![0.0; cells.len() + 1]);
                    for (b, v) in base.iter_mut().zip(high) {
                        *b += v;
                    }
                }
            }
            done += 1;
            span.set(done as f32 / count as f32, "blending the fill");
        }
    }
    drop(cells);
    drop(grid);
    let correction = |c: usize, k: usize| corrections[c].as_ref().map_or(0.0, |x| x[k]);
    for (k, px) in filled.iter_mut().enumerate() {
        let g = load(*px);
        *px = store([
            g[0] + correction(0, k),
            g[1] + correction(1, k),
            g[2] + correction(2, k),
            g[3] + correction(3, k),
        ]);
    }
    Ok(filled)
}

/// A right-hand side being built: held as a count while all its values so far are (plus)
/// zero, so that an opaque fill's alpha, all zero, never takes a hole's worth of room.
struct Lazy {
    /// Values pushed, while `values` is still unallocated.
    zeros: usize,
    values: Vec<f32>,
    capacity: usize,
}

impl Lazy {
    fn new(capacity: usize) -> Self {
        Self {
            zeros: 0,
            values: Vec::new(),
            capacity,
        }
    }

    fn push(&mut self, v: f32) {
        if self.values.capacity() == 0 {
            // Only +0.0 is counted, so the zeros written out later are the same bits.
            if v.to_bits() == 0 {
                self.zeros += 1;
                return;
            }
            self.values.reserve_exact(self.capacity);
            self.values.resize(self.zeros, 0.0);
        }
        self.values.push(v);
    }

    /// The values, or none when they are all zero (of either sign): such a right-hand side
    /// has the zero solution and needs no solve.
    fn into_nonzero(self) -> Option<Vec<f32>> {
        (self.values.iter().any(|&v| v != 0.0)).then_some(self.values)
    }
}

/// What one Poisson solve of the blend is for: a colour channel's correction under the mean
/// guidance, or the share the best sources add to it.
#[derive(Clone, Copy)]
enum Part {
    Mean(usize),
    Detail(usize),
}

/// The hole's pixels in rows `rows` of the field's rectangle `rect` of a canvas `w` wide
/// (which holds them all), in scan order.
fn hole_pixels(
    hole: &Mask,
    rect: super::patchmatch::Rect,
    w: usize,
    rows: std::ops::Range<usize>,
) -> Vec<u32> {
    let pixels = || {
        rows.clone()
            .flat_map(move |ly| (0..rect.width).map(move |lx| (rect.y0 + ly) * w + rect.x0 + lx))
            .filter(|&p| hole.bits[p])
    };
    // Counted first: collected from a filter, the list would grow by doubling and could
    // hold up to twice the room it needs at the fill's peak.
    let mut cells = Vec::with_capacity(pixels().count());
    cells.extend(pixels().map(|p| p as u32));
    cells
}

/// The 4-neighbours of (`x`, `y`) inside a `w`×`h` canvas: (index, whether it lies after the
/// pixel, whether the link is horizontal).
fn neighbours(x: usize, y: usize, w: usize, h: usize) -> impl Iterator<Item = (usize, bool, bool)> {
    let p = y * w + x;
    [
        (x + 1 < w).then(|| (p + 1, true, true)),
        (x > 0).then(|| (p - 1, false, true)),
        (y + 1 < h).then(|| (p + w, true, false)),
        (y > 0).then(|| (p - w, false, false)),
    ]
    .into_iter()
    .flatten()
}

/// What the guidance field reads.
struct Guide<'a> {
    canvas: &'a Canvas,
    field: &'a Field,
    /// Voting weight per target patch, for the field's entries from `weights_from` on.
    weights: &'a [f32],
    weights_from: usize,
}

/// The voted edges one band of hole pixels reads, each worked out once: a pixel's right
/// and down edges are also its right and lower neighbours' left and up edges.
struct Edges {
    /// The field rectangle's row of the first row held (one above the band's first, where
    /// there is one).
    from: usize,
    /// Per pixel of the rows held, its edge to the right and its edge down, each as the
    /// vote's mean and as leaning on the best sources ([`Guide::edge`]); zero where no hole
    /// pixel reads it.
    right: Vec<[[f32; 4]; 2]>,
    down: Vec<[[f32; 4]; 2]>,
    rect: super::patchmatch::Rect,
    width: usize,
}

impl Edges {
    /// The edges the hole pixels of field rows `y0..y1` read.
    fn of_band(guide: &Guide<'_>, hole: &Mask, y0: usize, y1: usize) -> Self {
        let (w, h) = (guide.canvas.width, guide.canvas.height);
        let rect = guide.field.rect;
        let from = y0.saturating_sub(1);
        let len = (y1 - from) * rect.width;
        let (mut right, mut down) = (vec![[[0.0f32; 4]; 2]; len], vec![[[0.0f32; 4]; 2]; len]);
        right
            .par_chunks_mut(rect.width.max(1))
            .zip(down.par_chunks_mut(rect.width.max(1)))
            .enumerate()
            .for_each(|(k, (right, down))| {
                let y = rect.y0 + from + k;
                for (lx, (er, ed)) in right.iter_mut().zip(down.iter_mut()).enumerate() {
                    let x = rect.x0 + lx;
                    let a = y * w + x;
                    if x + 1 < w && (hole.bits[a] || hole.bits[a + 1]) {
                        *er = guide.edge(a, true);
                    }
                    if y + 1 < h && (hole.bits[a] || hole.bits[a + w]) {
                        *ed = guide.edge(a, false);
                    }
                }
            });
        Self {
            from,
            right,
            down,
            rect,
            width: w,
        }
    }

    /// The edge from canvas pixel `a` (a row held) to the right or down.
    fn at(&self, a: usize, horizontal: bool) -> [[f32; 4]; 2] {
        let (x, y) = (a % self.width, a / self.width);
        let k = (y - self.rect.y0 - self.from) * self.rect.width + x - self.rect.x0;
        if horizontal {
            self.right[k]
        } else {
            self.down[k]
        }
    }

    /// The right-hand sides of hole pixel `p` (see [`poisson_blend`]) under the mean
    /// guidance and under the guidance leaning on the best sources.
    fn rhs(&self, canvas: &Canvas, p: usize) -> [[f32; 4]; 2] {
        let (w, h) = (canvas.width, canvas.height);
        let g = canvas.get(p);
        let mut b = [[0.0f32; 4]; 2];
        for (q, forward, horizontal) in neighbours(p % w, p / w, w, h) {
            // guidance(p→q) is f(q) − f(p): the edge from p when q comes after it, the
            // negated edge from q otherwise.
            let v = if forward {
                self.at(p, horizontal)
            } else {
                self.at(q, horizontal).map(|e| e.map(|v| -v))
            };
            let gq = canvas.get(q);
            for (b, v) in b.iter_mut().zip(v) {
                for c in 0..4 {
                    b[c] += gq[c] - g[c] - v[c];
                }
            }
        }
        b
    }
}

/// `values` (one per hole pixel `cells` of a canvas `width` wide, all inside `rect`; zero
/// on the known pixels, the solve's boundary) less their box blur of `radius`, worked out
/// over `rect` only so that a small hole in a big picture holds little.
fn high_pass(
    values: &[f32],
    cells: &[u32],
    width: usize,
    rect: super::patchmatch::Rect,
    radius: usize,
) -> Vec<f32> {
    let (w, h) = (rect.width, rect.height);
    let local = |p: u32| {
        let p = p as usize;
        (p % width - rect.x0, p / width - rect.y0)
    };
    let mut full = vec![0.0f32; w * h];
    for (&p, &v) in cells.iter().zip(values) {
        let (x, y) = local(p);
        full[y * w + x] = v;
    }
    // Separable box blur with running sums, in place: each row, then each column, is read
    // into a line buffer and its blur written back, so only one rect-sized buffer is held.
    let scale = 1.0 / (2 * radius + 1) as f32;
    let blur_line = |line: &[f32], out: &mut dyn FnMut(usize, f32)| {
        let n = line.len();
        let mut sum: f32 = line[..=radius.min(n - 1)].iter().sum();
        for i in 0..n {
            out(i, sum * scale);
            if i + radius + 1 < n {
                sum += line[i + radius + 1];
            }
            if i >= radius {
                sum -= line[i - radius];
            }
        }
    };
    let mut line = vec![0.0f32; w.max(h)];
    for y in 0..h {
        line[..w].copy_from_slice(&full[y * w..(y + 1) * w]);
        blur_line(&line[..w], &mut |x, v| full[y * w + x] = v);
    }
    for x in 0..w {
        for y in 0..h {
            line[y] = full[y * w + x];
        }
        blur_line(&line[..h], &mut |y, v| full[y * w + x] = v);
    }
    cells
        .iter()
        .zip(values)
        .map(|(&p, &v)| {
            let (x, y) = local(p);
            v - full[y * w + x]
        })
        .collect()
}

impl Guide<'_> {
    /// The voted difference `f(a + e) − f(a)` for `e` one pixel right (`horizontal`) or
    /// down: the weighted mean, over the target patches holding both pixels, of that
    /// difference at their matched source; and that mean moved towards the best-weighted
    /// source's own difference as far as the sources' texture strength says. Both fall back
    /// to the current fill's own difference where no patch holds both.
    fn edge(&self, a: usize, horizontal: bool) -> [[f32; 4]; 2] {
        let img = self.canvas;
        let w = img.width as i64;
        let r = RADIUS as i64;
        let (ax, ay) = (a as i64 % w, a as i64 / w);
        let (ex, ey) = if horizontal { (1, 0) } else { (0, 1) };
        let step = if horizontal { 1 } else { img.width };
        let rect = self.field.rect;
        let (rx0, ry0) = (rect.x0 as i64, rect.y0 as i64);
        let (rx1, ry1) = (rx0 + rect.width as i64, ry0 + rect.height as i64);
        let mut sum = [0.0f32; 4];
        let mut abs = [0.0f32; 4];
        let mut total = 0.0f32;
        let mut best = (0.0f32, [0.0f32; 4]);
        // Offsets (ox, oy) of `a` within a patch such that `a + e` is in it too.
        for oy in -r..=r - ey {
            let qy = ay - oy;
            if qy < ry0 || qy >= ry1 {
                continue;
            }
            for ox in -r..=r - ex {
                let qx = ax - ox;
                if qx < rx0 || qx >= rx1 {
                    continue;
                }
                let k = ((qy - ry0) * rect.width as i64 + qx - rx0) as usize;
                let m = self.field.nnf[k];
                let weight = self.weights[k - self.weights_from];
                if m == NONE || weight <= 0.0 {
                    continue;
                }
                let s = ((m as i64 / w + oy) * w + m as i64 % w + ox) as usize;
                let (p, q) = (img.px[s], img.px[s + step]);
                let d: [f32; 4] = std::array::from_fn(|c| f32::from(q[c]) - f32::from(p[c]));
                for c in 0..4 {
                    sum[c] += weight * d[c];
                    abs[c] += weight * d[c].abs();
                }
                if weight > best.0 {
                    best = (weight, d);
                }
                total += weight;
            }
        }
        if total > 1e-20 {
            let mean = sum.map(|v| v * INV / total);
            let strength = (abs[0] + abs[1] + abs[2]) * INV / (3.0 * total);
            let mix = (strength / TEXTURED_STRENGTH).min(1.0);
            [
                mean,
                std::array::from_fn(|c| mean[c] + mix * (best.1[c] * INV - mean[c])),
            ]
        } else {
            let (p, q) = (img.get(a), img.get(a + step));
            [[q[0] - p[0], q[1] - p[1], q[2] - p[2], q[3] - p[3]]; 2]
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.
mod tests {
    use super::*;
    use crate::decompose::Progress;
    use crate::decompose::inpaint::patchmatch::Patches;

    /// A horizontal ramp whose hole was voted 0.3 too bright (patches that agree on the
    /// texture but not on the level): the blend must remove the step at the border and give
    /// back the ramp, since every source patch has the ramp's gradients.
    #[test]
    fn blend_leaves_no_step_at_the_border() {
        let (w, h) = (48usize, 40usize);
        let ramp = |i: usize| 0.2 + 0.01 * (i % w) as f32;
        let hole = Mask {
            width: w,
            height: h,
            bits: (0..w * h)
                .map(|i| (14..30).contains(&(i % w)) && (12..28).contains(&(i / w)))
                .collect(),
        };
        let mut canvas = Canvas::from_fn(w, h, |i| {
            let v = ramp(i) + if hole.bits[i] { 0.3 } else { 0.0 };
            [v, 0.5 * v, 0.4, 1.0]
        });
        let patches = Patches::new(&hole, None);
        // Every target matches one source patch in the top-left corner.
        let mut field = Field::random(&patches, 1);
        let source = (4 * w + 4) as u32;
        assert!(patches.is_source(source as usize));
        for m in field.nnf.iter_mut().filter(|m| **m != NONE) {
            *m = source;
        }
        let step = |c: &Canvas| {
            let mut worst = 0.0f32;
            for (i, _) in hole.bits.iter().enumerate().filter(|(_, b)| **b) {
                for q in [i - 1, i + 1, i - w, i + w] {
                    if !hole.bits[q] {
                        let d = (c.get(i)[0] - c.get(q)[0]).abs();
                        worst = worst.max(d);
                    }
                }
            }
            worst
        };
        assert!(step(&canvas) > 0.25);
        let progress = Progress::new();
        let scoped = progress.scoped(0.0, 1.0);
        let weights = |_: &Field, range: std::ops::Range<usize>| vec![1.0; range.len()];
        let filled =
            poisson_blend(canvas.clone(), &hole, field, weights, &Span::new(&scoped)).unwrap();
        let cells: Vec<usize> = (0..w * h).filter(|&i| hole.bits[i]).collect();
        assert_eq!(filled.len(), cells.len());
        for (&i, &v) in cells.iter().zip(&filled) {
            canvas.px[i] = v;
        }
        // Across the border, no more than the ramp's own step (0.01) and a byte's rounding.
        assert!(step(&canvas) <= 0.01 + 2.0 * INV, "step {}", step(&canvas));
        for (i, _) in hole.bits.iter().enumerate().filter(|(_, b)| **b) {
            let got = canvas.get(i);
            assert!((got[0] - ramp(i)).abs() <= 2.0 * INV, "{i}: {got:?}");
            assert!((got[1] - 0.5 * ramp(i)).abs() <= 2.0 * INV, "{i}: {got:?}");
            // Alpha's right-hand side is all zero here, so it is dropped, not solved: the
            // opaque fill must stay exactly opaque.
            assert_eq!(canvas.px[i][3], 255, "{i}");
        }
    }
}
