//! Telea's fast-marching inpainting (A. Telea, "An Image Inpainting Technique Based on the
//! Fast Marching Method", J. Graphics Tools 9(1), 2004), written from the paper.
//!
//! The hole is filled from its boundary inwards in order of distance `T` (found by solving the
//! eikonal equation |∇T| = 1 with a fast-marching front). Each newly reached pixel becomes a
//! weighted average of the already known pixels within `radius`, each extrapolated by its
//! local gradient, with Telea's three weights: direction (along the front normal), geometric
//! distance and level-set distance. It is smooth and fast: right for thin gaps, and as the
//! initial guess of the exemplar-based fill.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::canvas::{Canvas, Mask, add};
use super::masks::union;
use super::span::Span;
use crate::decompose::DecomposeError;
use crate::decompose::segment::components::four_neighbours;
use crate::model::pixels::clamp_premul;

/// What Telea's method fills: a grid of four-channel values, premultiplied colours or any
/// other signal (the texture features fill theirs in floats, which bytes would coarsen).
pub(crate) trait Plane: Clone {
    fn width(&self) -> usize;
    fn height(&self) -> usize;
    /// Value `i`, row-major.
    fn get(&self, i: usize) -> [f32; 4];
    /// Sets value `i` (a valid premultiplied colour: Telea clamps before it writes).
    fn set(&mut self, i: usize, v: [f32; 4]);
}

impl Plane for Canvas {
    fn width(&self) -> usize {
        self.width
    }

    fn height(&self) -> usize {
        self.height
    }

    fn get(&self, i: usize) -> [f32; 4] {
        Canvas::get(self, i)
    }

    fn set(&mut self, i: usize, v: [f32; 4]) {
        Canvas::set(self, i, v);
    }
}

/// Pixel state in the fast-marching method.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flag {
    /// Value and distance final.
    Known,
    /// On the front: value filled in, distance tentative.
    Band,
    /// Not reached yet.
    Inside,
}

/// A front entry: smallest `t` first, ties by index so the order is deterministic.
#[derive(PartialEq)]
struct Entry {
    t: f32,
    index: usize,
}

impl Eq for Entry {}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: `BinaryHeap` is a max-heap and we want the nearest pixel first.
        other
            .t
            .total_cmp(&self.t)
            .then_with(|| other.index.cmp(&self.index))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Fills every hole pixel of `canvas` in place; known pixels are not touched. Fails only when
/// there is no known pixel to start from.
pub(crate) fn telea<P: Plane>(
    canvas: &mut P,
    hole: &Mask,
    radius: usize,
    span: &Span<'_>,
) -> Result<(), DecomposeError> {
    let (w, h) = (canvas.width(), canvas.height());
    let total = hole.count();
    if total == 0 {
        return Ok(());
    }
    if total == w * h {
        return Err(DecomposeError::InvalidInput(
            "the hole covers the whole image; there is nothing to fill it from".into(),
        ));
    }
    let mut flags: Vec<Flag> = hole
        .bits
        .iter()
        .map(|&b| if b { Flag::Inside } else { Flag::Known })
        .collect();
    let mut t = vec![0.0f32; w * h];
    let mut heap = BinaryHeap::new();
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if hole.bits[i] {
                t[i] = f32::INFINITY;
            } else if neighbours4(x, y, w, h).any(|n| hole.bits[n]) {
                flags[i] = Flag::Band;
                heap.push(Entry { t: 0.0, index: i });
            }
        }
    }

    let mut filled = 0usize;
    while let Some(Entry { t: t_popped, index }) = heap.pop() {
        // Stale entry: the pixel was re-queued with a smaller distance or is already final.
        if flags[index] == Flag::Known || t_popped > t[index] {
            continue;
        }
        flags[index] = Flag::Known;
        let (x, y) = (index % w, index / w);
        for n in neighbours4(x, y, w, h) {
            if flags[n] == Flag::Known {
                continue;
            }
            let (nx, ny) = (n % w, n / w);
            let tn = arrival_time(&t, &flags, nx, ny, w, h);
            let was_inside = flags[n] == Flag::Inside;
            t[n] = t[n].min(tn);
            flags[n] = Flag::Band;
            if was_inside {
                let v = fill_value(canvas, &flags, &t, nx, ny, radius, index);
                canvas.set(n, v);
                filled += 1;
                if filled.is_multiple_of(4096) {
                    span.check()?;
                    span.set(filled as f32 / total as f32, "filling thin gaps");
                }
            }
            heap.push(Entry { t: t[n], index: n });
        }
    }
    Ok(())
}

/// Telea's fill of the hole pixels of `canvas`, started only from known pixels outside
/// `excluded`, so an object next to the hole does not bleed into it. Excluded pixels are
/// left as they are. When every known pixel is excluded, they are used after all: a smooth
/// fill from them beats none.
pub(crate) fn telea_from_sources<P: Plane>(
    canvas: &mut P,
    hole: &Mask,
    excluded: Option<&Mask>,
    radius: usize,
    span: &Span<'_>,
) -> Result<(), DecomposeError> {
    let Some(excluded) = excluded else {
        return telea(canvas, hole, radius, span);
    };
    let both = union(hole, excluded);
    let matters = excluded.bits.iter().zip(&hole.bits).any(|(&e, &h)| e && !h);
    if !matters || both.bits.iter().all(|&b| b) {
        return telea(canvas, hole, radius, span);
    }
    let mut scratch = canvas.clone();
    telea(&mut scratch, &both, radius, span)?;
    for (i, _) in hole.bits.iter().enumerate().filter(|(_, b)| **b) {
        canvas.set(i, scratch.get(i));
    }
    Ok(())
}

/// [`telea_from_sources`] on the part of `canvas` around the hole only: the hole's bounding
/// box grown by the averaging `radius` and a little more, which is all Telea's front ever
/// reads. Its buffers (distances, flags, a scratch copy) are then as big as that window
/// rather than the whole canvas, which matters when a small hole sits in a large crop.
pub(crate) fn telea_window(
    canvas: &mut Canvas,
    hole: &Mask,
    excluded: Option<&Mask>,
    radius: usize,
    span: &Span<'_>,
) -> Result<(), DecomposeError> {
    let Some((at, size)) = hole.bounds(radius + 2) else {
        return Ok(());
    };
    if size.0 * size.1 * 2 > canvas.width * canvas.height {
        return telea_from_sources(canvas, hole, excluded, radius, span);
    }
    let sub_hole = hole.window(at, size);
    if sub_hole.bits.iter().all(|&b| b) {
        // No known pixel around it inside the window: only the whole canvas has sources.
        return telea_from_sources(canvas, hole, excluded, radius, span);
    }
    let mut sub = canvas.window(at, size);
    let sub_excluded = excluded.map(|e| e.window(at, size));
    telea_from_sources(&mut sub, &sub_hole, sub_excluded.as_ref(), radius, span)?;
    for y in 0..size.1 {
        for x in 0..size.0 {
            if sub_hole.bits[y * size.0 + x] {
                canvas.px[(at.1 + y) * canvas.width + at.0 + x] = sub.px[y * size.0 + x];
            }
        }
    }
    Ok(())
}

/// Indices of the 4-neighbours of (`x`, `y`) inside the image.
fn neighbours4(x: usize, y: usize, w: usize, h: usize) -> impl Iterator<Item = usize> {
    four_neighbours(y * w + x, w, h)
}

/// First-order upwind solution of |∇T| = 1 at (`x`, `y`) from its four quadrants.
fn arrival_time(t: &[f32], flags: &[Flag], x: usize, y: usize, w: usize, h: usize) -> f32 {
    let at = |dx: i64, dy: i64| -> Option<f32> {
        let (nx, ny) = (x as i64 + dx, y as i64 + dy);
        if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
            return None;
        }
        let i = ny as usize * w + nx as usize;
        (flags[i] != Flag::Inside).then_some(t[i])
    };
    let mut best = f32::INFINITY;
    for (hx, vy) in [(-1, -1), (1, -1), (-1, 1), (1, 1)] {
        best = best.min(solve(at(hx, 0), at(0, vy)));
    }
    best
}

/// Telea's `solve`: the distance at a pixel from one horizontal and one vertical neighbour.
fn solve(a: Option<f32>, b: Option<f32>) -> f32 {
    match (a, b) {
        (Some(t1), Some(t2)) => {
            let r = 2.0 - (t1 - t2) * (t1 - t2);
            if r < 0.0 {
                // The neighbours disagree by more than a diagonal step: use the nearer one.
                return 1.0 + t1.min(t2);
            }
            let r = r.sqrt();
            let s = (t1 + t2 - r) / 2.0;
            if s >= t1 && s >= t2 {
                s
            } else {
                let s = s + r;
                if s >= t1 && s >= t2 {
                    s
                } else {
                    1.0 + t1.min(t2)
                }
            }
        }
        (Some(t1), None) => 1.0 + t1,
        (None, Some(t2)) => 1.0 + t2,
        (None, None) => f32::INFINITY,
    }
}

/// The value of newly reached pixel (`x`, `y`): Telea's weighted, gradient-extrapolated
/// average of the known pixels within `radius`. `fallback` is the pixel just frozen next to it.
fn fill_value<P: Plane>(
    canvas: &P,
    flags: &[Flag],
    t: &[f32],
    x: usize,
    y: usize,
    radius: usize,
    fallback: usize,
) -> [f32; 4] {
    let (w, h) = (canvas.width(), canvas.height());
    let i = y * w + x;
    let normal = level_set_normal(t, flags, x, y, w, h);
    let r2_max = (radius * radius) as i64;
    let mut acc = [0.0f32; 4];
    let mut weight_sum = 0.0f32;
    let (y0, y1) = (y.saturating_sub(radius), (y + radius).min(h - 1));
    let (x0, x1) = (x.saturating_sub(radius), (x + radius).min(w - 1));
    for qy in y0..=y1 {
        for qx in x0..=x1 {
            let q = qy * w + qx;
            if flags[q] != Flag::Known {
                continue;
            }
            let rx = x as f32 - qx as f32;
            let ry = y as f32 - qy as f32;
            let len2 = rx * rx + ry * ry;
            if len2 as i64 > r2_max {
                continue;
            }
            // Direction: pixels along the front normal matter most; never exactly zero so a
            // pixel whose only known neighbours lie sideways still gets a value.
            let dir = match normal {
                Some((nx, ny)) => ((rx * nx + ry * ny).abs() / len2.sqrt()).max(0.01),
                None => 1.0,
            };
            let dst = 1.0 / len2;
            let lev = 1.0 / (1.0 + (t[i] - t[q]).abs());
            let weight = dir * dst * lev;
            let (gx, gy) = image_gradient(canvas, flags, qx, qy);
            let mut value = canvas.get(q);
            for c in 0..4 {
                value[c] += gx[c] * rx + gy[c] * ry;
            }
            add(&mut acc, value, weight);
            weight_sum += weight;
        }
    }
    if weight_sum <= 0.0 {
        return canvas.get(fallback);
    }
    // The gradient extrapolation may overshoot; keep the result a valid premultiplied colour.
    clamp_premul(acc.map(|v| v / weight_sum))
}

/// Unit normal of the front (∇T) at (`x`, `y`), from the neighbours whose `T` is available.
fn level_set_normal(
    t: &[f32],
    flags: &[Flag],
    x: usize,
    y: usize,
    w: usize,
    h: usize,
) -> Option<(f32, f32)> {
    let i = y * w + x;
    let usable = |j: usize| flags[j] != Flag::Inside && t[j].is_finite();
    let derivative = |lo: Option<usize>, hi: Option<usize>| -> f32 {
        match (lo.filter(|&j| usable(j)), hi.filter(|&j| usable(j))) {
            (Some(a), Some(b)) => (t[b] - t[a]) / 2.0,
            (None, Some(b)) => t[b] - t[i],
            (Some(a), None) => t[i] - t[a],
            (None, None) => 0.0,
        }
    };
    let gx = derivative((x > 0).then(|| i - 1), (x + 1 < w).then(|| i + 1));
    let gy = derivative((y > 0).then(|| i - w), (y + 1 < h).then(|| i + w));
    let len = (gx * gx + gy * gy).sqrt();
    (len.is_finite() && len > 1e-6).then(|| (gx / len, gy / len))
}

/// Per-channel image gradient at known pixel (`x`, `y`), using only known neighbours.
fn image_gradient<P: Plane>(
    canvas: &P,
    flags: &[Flag],
    x: usize,
    y: usize,
) -> ([f32; 4], [f32; 4]) {
    let (w, h) = (canvas.width(), canvas.height());
    let i = y * w + x;
    let known = |j: usize| flags[j] == Flag::Known;
    let derivative = |lo: Option<usize>, hi: Option<usize>| -> [f32; 4] {
        let (lo, hi) = (lo.filter(|&j| known(j)), hi.filter(|&j| known(j)));
        let (a, b, div) = match (lo, hi) {
            (Some(a), Some(b)) => (a, b, 2.0),
            (None, Some(b)) => (i, b, 1.0),
            (Some(a), None) => (a, i, 1.0),
            (None, None) => return [0.0; 4],
        };
        let (pa, pb) = (canvas.get(a), canvas.get(b));
        [
            (pb[0] - pa[0]) / div,
            (pb[1] - pa[1]) / div,
            (pb[2] - pa[2]) / div,
            (pb[3] - pa[3]) / div,
        ]
    };
    (
        derivative((x > 0).then(|| i - 1), (x + 1 < w).then(|| i + 1)),
        derivative((y > 0).then(|| i - w), (y + 1 < h).then(|| i + w)),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.
mod tests {
    use super::*;
    use crate::decompose::Progress;

    #[test]
    fn fills_a_linear_ramp_almost_exactly() {
        let (w, h) = (32usize, 24usize);
        let value = |x: usize, y: usize| (x as f32 * 0.02 + y as f32 * 0.01).min(1.0);
        let mut canvas = Canvas::from_fn(w, h, |i| {
            let v = value(i % w, i / w);
            [v, v * 0.5, 0.2, 1.0]
        });
        let truth = canvas.clone();
        let bits = (0..w * h)
            .map(|i| (10..16).contains(&(i % w)) && (8..14).contains(&(i / w)))
            .collect();
        let hole = Mask {
            width: w,
            height: h,
            bits,
        };
        for i in 0..w * h {
            if hole.bits[i] {
                canvas.set(i, [0.0; 4]);
            }
        }
        let progress = Progress::new();
        let scoped = progress.scoped(0.0, 1.0);
        telea(&mut canvas, &hole, 4, &Span::new(&scoped)).unwrap();
        for i in 0..w * h {
            for c in 0..4 {
                assert!(
                    (canvas.get(i)[c] - truth.get(i)[c]).abs() < 0.02,
                    "pixel {i}"
                );
            }
        }
    }

    #[test]
    fn solve_matches_one_sided_and_diagonal_cases() {
        assert_eq!(solve(Some(0.0), None), 1.0);
        assert!((solve(Some(0.0), Some(0.0)) - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
    }
}
