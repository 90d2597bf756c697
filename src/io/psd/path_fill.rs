//! Exact-area coverage of a filled path on a pixel grid, for rasterising vector masks.
//!
//! The path is flattened to line segments; each segment adds its signed area to the cells
//! it crosses (the accumulation scheme of font rasterisers: a piece of a segment rising
//! `dy` inside a cell covers `dy` times the part of the cell to its right, and all of `dy`
//! for every cell further right). A running sum along each row then gives every pixel's
//! mean winding number, which the even-odd rule folds into a coverage in `0..=1`. This is
//! the rule Photoshop fills paths with: a subpath inside another cuts a hole in it
//! whichever way either winds.
//!
//! Coverage is exact wherever a pixel holds one edge, and a close estimate where several
//! edges meet inside one pixel.

/// A point in pixels, x to the right, y down.
pub type Point = (f64, f64);

/// How far the chords of a flattened curve may stray from it, in pixels: well under the
/// 1/255 of a pixel's coverage that an 8-bit mask can show.
const FLATNESS: f64 = 0.01;
/// The most chords one cubic is cut into (far-flung control points would ask for more).
const MAX_STEPS: usize = 512;

/// Appends the polyline of the cubic Bezier `p0 c0 c1 p1` (without `p0`) to `out`.
pub fn flatten_cubic(p0: Point, c0: Point, c1: Point, p1: Point, out: &mut Vec<Point>) {
    // The second differences bound how far the curve bends from its chords: a chord of a
    // curve cut into n steps strays at most 3/4 · max|Δ²| / n² from it.
    let bend = |a: Point, b: Point, c: Point| {
        let (x, y) = (a.0 - 2.0 * b.0 + c.0, a.1 - 2.0 * b.1 + c.1);
        (x * x + y * y).sqrt()
    };
    let dd = bend(p0, c0, c1).max(bend(c0, c1, p1));
    let steps = ((0.75 * dd / FLATNESS).sqrt().ceil() as usize).clamp(1, MAX_STEPS);
    for i in 1..=steps {
        let t = i as f64 / steps as f64;
        let u = 1.0 - t;
        let (a, b, c, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
        out.push((
            a * p0.0 + b * c0.0 + c * c1.0 + d * p1.0,
            a * p0.1 + b * c0.1 + c * c1.1 + d * p1.1,
        ));
    }
}

/// Even-odd coverage (`0.0..=1.0`, row-major, `width × height`) of the closed polygons
/// `contours` (each implicitly closed), in pixel coordinates of the grid.
pub fn coverage(contours: &[Vec<Point>], width: usize, height: usize) -> Vec<f32> {
    let stride = width + 2;
    let mut acc = vec![0.0f32; stride * height];
    for contour in contours {
        let Some(&last) = contour.last() else {
            continue;
        };
        let mut from = last;
        for &to in contour {
            add_line(&mut acc, stride, width, height, from, to);
            from = to;
        }
    }
    let mut out = Vec::with_capacity(width * height);
    for row in acc.chunks_exact(stride) {
        let mut winding = 0.0f32;
        for &a in &row[..width] {
            winding += a;
            out.push(even_odd(winding));
        }
    }
    out
}

/// Folds a mean winding number into coverage: 0 and 2 are outside, 1 inside.
fn even_odd(winding: f32) -> f32 {
    let t = winding.abs() % 2.0;
    let folded = if t > 1.0 { 2.0 - t } else { t };
    folded.clamp(0.0, 1.0)
}

/// Adds one segment, cut where it crosses the grid's left and right edges so that each
/// piece can be clamped to the grid without changing the area it leaves to the right.
fn add_line(acc: &mut [f32], stride: usize, width: usize, height: usize, p: Point, q: Point) {
    let w = width as f64;
    let mut cuts = vec![0.0, 1.0];
    for edge in [0.0, w] {
        if (p.0 - edge) * (q.0 - edge) < 0.0 {
            cuts.push((edge - p.0) / (q.0 - p.0));
        }
    }
    cuts.sort_by(f64::total_cmp);
    let at = |t: f64| (p.0 + (q.0 - p.0) * t, p.1 + (q.1 - p.1) * t);
    for pair in cuts.windows(2) {
        let (a, b) = (at(pair[0]), at(pair[1]));
        let clamp = |pt: Point| (pt.0.clamp(0.0, w), pt.1);
        add_piece(acc, stride, height, clamp(a), clamp(b));
    }
}

/// Accumulates the signed area of a segment lying within `0..=width` horizontally.
fn add_piece(acc: &mut [f32], stride: usize, height: usize, p: Point, q: Point) {
    if p.1 == q.1 {
        return;
    }
    let (dir, top, bottom) = if p.1 < q.1 { (1.0, p, q) } else { (-1.0, q, p) };
    let dxdy = (bottom.0 - top.0) / (bottom.1 - top.1);
    let first = top.1.max(0.0);
    let last = bottom.1.min(height as f64);
    if first >= last {
        return;
    }
    let mut x = top.0 + (first - top.1) * dxdy;
    let max_index = stride - 1;
    let mut row = first.floor() as usize;
    while (row as f64) < last {
        let y0 = first.max(row as f64);
        let y1 = last.min(row as f64 + 1.0);
        let dy = y1 - y0;
        let x_next = x + dxdy * dy;
        let d = dy * dir;
        let line = &mut acc[row * stride..(row + 1) * stride];
        let (x0, x1) = if x < x_next { (x, x_next) } else { (x_next, x) };
        // Cell j's running sum must end at d times the mean part of the cell right of
        // the segment; add the differences, from the first cell it touches until the
        // sum reaches d (every cell further right is wholly right of it).
        let mut cell = (x0.floor() as usize).min(max_index);
        let mut prev = 0.0;
        loop {
            let edge = cell as f64 + 1.0;
            let sum = if edge >= x1 + 1.0 {
                1.0
            } else {
                mean_right(x0, x1, edge)
            };
            line[cell] += (d * (sum - prev)) as f32;
            prev = sum;
            if sum >= 1.0 || cell == max_index {
                break;
            }
            cell += 1;
        }
        x = x_next;
        row += 1;
    }
}

/// The mean, over `x` spread evenly on `x0..=x1`, of the part of the unit cell ending at
/// `edge` that lies right of `x`: clamp(edge − x, 0, 1).
fn mean_right(x0: f64, x1: f64, edge: f64) -> f64 {
    // R(u) = ∫ clamp(t, 0, 1) dt from −∞ to u.
    let ramp = |u: f64| {
        if u <= 0.0 {
            0.0
        } else if u <= 1.0 {
            0.5 * u * u
        } else {
            u - 0.5
        }
    };
    let span = x1 - x0;
    if span <= 1e-12 {
        return (edge - x0).clamp(0.0, 1.0);
    }
    ((ramp(edge - x0) - ramp(edge - x1)) / span).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Vec<Point> {
        vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    }

    fn at(cov: &[f32], width: usize, x: usize, y: usize) -> f32 {
        cov[y * width + x]
    }

    #[test]
    fn a_rectangle_covers_the_exact_area_of_each_pixel() {
        for contour in [rect(1.5, 1.25, 3.5, 3.25), rect(3.5, 3.25, 1.5, 1.25)] {
            let cov = coverage(&[contour], 5, 5);
            let close = |x, y, want: f32| {
                let got = at(&cov, 5, x, y);
                assert!((got - want).abs() < 1e-5, "({x}, {y}): {got} != {want}");
            };
            close(1, 1, 0.5 * 0.75);
            close(2, 1, 0.75);
            close(3, 1, 0.5 * 0.75);
            close(1, 2, 0.5);
            close(2, 2, 1.0);
            close(3, 3, 0.5 * 0.25);
            close(0, 0, 0.0);
            close(4, 2, 0.0);
        }
    }

    #[test]
    fn a_flattened_circle_has_the_area_of_the_circle() {
        // Four cubics with the usual 0.5523 handle approximate a circle of radius 20.
        let (cx, cy, r) = (25.3, 24.7, 20.0);
        let k = 0.552_284_75 * r;
        let mut points = vec![(cx + r, cy)];
        let arcs = [
            ((cx + r, cy + k), (cx + k, cy + r), (cx, cy + r)),
            ((cx - k, cy + r), (cx - r, cy + k), (cx - r, cy)),
            ((cx - r, cy - k), (cx - k, cy - r), (cx, cy - r)),
            ((cx + k, cy - r), (cx + r, cy - k), (cx + r, cy)),
        ];
        let mut from = (cx + r, cy);
        for (c0, c1, to) in arcs {
            flatten_cubic(from, c0, c1, to, &mut points);
            from = to;
        }
        let cov = coverage(&[points], 50, 50);
        let area: f64 = cov.iter().map(|&c| f64::from(c)).sum();
        let circle = std::f64::consts::PI * r * r;
        assert!((area - circle).abs() / circle < 2e-3, "{area} vs {circle}");
        assert!(cov.iter().all(|&c| (0.0..=1.0).contains(&c)));
    }

    #[test]
    fn an_inner_contour_cuts_a_hole_whichever_way_it_winds() {
        for inner in [rect(3.0, 3.0, 7.0, 7.0), rect(7.0, 7.0, 3.0, 3.0)] {
            let cov = coverage(&[rect(1.0, 1.0, 9.0, 9.0), inner], 10, 10);
            assert_eq!(at(&cov, 10, 2, 2), 1.0);
            assert_eq!(at(&cov, 10, 5, 5), 0.0);
        }
    }

    #[test]
    fn paths_beyond_the_grid_are_clipped_without_changing_what_lies_inside() {
        let cov = coverage(&[rect(-6.0, -3.5, 2.0, 2.5)], 4, 4);
        assert_eq!(at(&cov, 4, 0, 0), 1.0);
        assert_eq!(at(&cov, 4, 1, 1), 1.0);
        assert!((at(&cov, 4, 1, 2) - 0.5).abs() < 1e-6);
        assert_eq!(at(&cov, 4, 2, 0), 0.0);
        assert_eq!(at(&cov, 4, 3, 3), 0.0);
        // A slanted edge crossing the left border.
        let slant = vec![(-4.0, 0.0), (4.0, 0.0), (4.0, 4.0)];
        let cov = coverage(&[slant], 4, 4);
        let area: f32 = cov.iter().sum();
        // The triangle (area 16) less its part left of x = 0 (area 4).
        assert!((area - 12.0).abs() < 1e-4, "{area}");
    }
}
