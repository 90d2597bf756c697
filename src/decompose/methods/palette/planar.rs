//! Flat colour sets: the 2-D convex hull of colours lying in a plane, and its
//! simplification to a given number of corners.
//!
//! Duotones, two-ink prints and many logos have all their colours in one plane (mixes of
//! three colours). Their hull is a polygon; it is simplified like the solid hull in
//! `simplify.rs`, one dimension down: an edge `(a, b)` is replaced by the meeting point `q`
//! of its neighbouring edges' lines when that lies beyond the edge and inside the RGB cube,
//! adding the triangle `a q b` (least area first). When no edge can go that way, the corner
//! whose removal loses the least area (the triangle it makes with its neighbours) goes.

use super::geom::{V3, add, cross, dot, norm2, normalize, scale, sub};
use super::hull::Check;
use crate::decompose::DecomposeError;

/// Largest RGB value, in the `0..=255` units of the geometry.
const TOP: f64 = 255.0;
/// Slack when testing whether a point lies in the cube.
const TOL: f64 = 1e-7 * TOP;

/// The 2-D hull (Andrew's monotone chain) of points lying in the plane through `origin`
/// with normal `normal`; counter-clockwise around `normal`, collinear points dropped.
pub fn polygon(points: &[V3], origin: V3, dir: V3, normal: V3, eps: f64) -> Vec<usize> {
    let u = normalize(dir).unwrap_or([1.0, 0.0, 0.0]);
    let w = cross(normal, u);
    let xy: Vec<[f64; 2]> = points
        .iter()
        .map(|p| [dot(sub(*p, origin), u), dot(sub(*p, origin), w)])
        .collect();
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&i, &j| {
        xy[i][0]
            .total_cmp(&xy[j][0])
            .then(xy[i][1].total_cmp(&xy[j][1]))
    });
    order.dedup_by(|i, j| {
        (xy[*i][0] - xy[*j][0]).abs() <= eps && (xy[*i][1] - xy[*j][1]).abs() <= eps
    });
    // Left turn by more than `eps` (distance of `c` from line `ab`) keeps `b`.
    let left = |a: usize, b: usize, c: usize| {
        let (ab, ac) = (
            [xy[b][0] - xy[a][0], xy[b][1] - xy[a][1]],
            [xy[c][0] - xy[a][0], xy[c][1] - xy[a][1]],
        );
        ab[0] * ac[1] - ab[1] * ac[0] > eps * (ac[0].hypot(ac[1])).max(1e-300)
    };
    let mut hull: Vec<usize> = Vec::with_capacity(order.len() + 1);
    for pass in [order.clone(), order.iter().rev().copied().collect()] {
        let start = hull.len();
        for i in pass {
            while hull.len() >= start + 2 && !left(hull[hull.len() - 2], hull[hull.len() - 1], i) {
                hull.pop();
            }
            hull.push(i);
        }
        hull.pop();
    }
    hull
}

/// Simplifies a convex polygon (vertices in order, in a plane with unit `normal`) to at
/// most `target` (≥ 3) vertices.
pub fn simplify_polygon(
    mut poly: Vec<V3>,
    normal: V3,
    target: usize,
    check: Check<'_>,
) -> Result<Vec<V3>, DecomposeError> {
    let target = target.max(3);
    let cross2 = |x: V3, y: V3| dot(cross(x, y), normal);
    while poly.len() > target {
        check()?;
        let len = poly.len();
        let at = |i: usize| poly[i % len];
        // Best enclosing edge replacement: (cost, edge start, meeting point).
        let mut best: Option<(f64, usize, V3)> = None;
        for i in 0..len {
            let (prev, a, b, next) = (at(i + len - 1), at(i), at(i + 1), at(i + 2));
            let (d1, d2) = (sub(a, prev), sub(b, next));
            let den = cross2(d1, d2);
            if den.abs() <= 1e-12 * norm2(d1).sqrt() * norm2(d2).sqrt() {
                continue;
            }
            let s = cross2(sub(b, a), d2) / den;
            let t = cross2(sub(b, a), d1) / den;
            let q = add(a, scale(d1, s));
            let inside = q.iter().all(|&x| (-TOL..=TOP + TOL).contains(&x));
            if s < 0.0 || t < 0.0 || !inside {
                continue;
            }
            let cost = norm2(cross(sub(q, a), sub(b, a))).sqrt() / 2.0;
            if best.is_none_or(|(c, _, _)| cost < c) {
                best = Some((cost, i, q.map(|x| x.clamp(0.0, TOP))));
            }
        }
        if let Some((_, i, q)) = best {
            poly[i] = q;
            poly.remove((i + 1) % len);
        } else {
            // No enclosing step: drop the vertex whose removal loses the least area.
            let lost = |i: usize| {
                norm2(cross(
                    sub(at(i), at(i + len - 1)),
                    sub(at(i + 1), at(i + len - 1)),
                ))
            };
            let i = (0..len)
                .min_by(|&x, &y| lost(x).total_cmp(&lost(y)))
                .unwrap_or(0);
            poly.remove(i);
        }
    }
    Ok(poly)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> Result<(), DecomposeError> {
        Ok(())
    }

    #[test]
    fn polygon_simplifies_to_target() {
        let poly: Vec<V3> = (0..12)
            .map(|i| {
                let t = i as f64 / 12.0 * std::f64::consts::TAU;
                [128.0 + 50.0 * t.cos(), 128.0 + 50.0 * t.sin(), 100.0]
            })
            .collect();
        let out = simplify_polygon(poly, [0.0, 0.0, 1.0], 4, &ok).unwrap();
        assert_eq!(out.len(), 4);
    }

    #[test]
    fn square_lattice_has_four_corners() {
        let points: Vec<V3> = (0..25)
            .map(|i| [(i % 5) as f64, (i / 5) as f64, 7.0])
            .collect();
        let ring = polygon(&points, points[0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0], 1e-9);
        let mut corners = ring.clone();
        corners.sort_unstable();
        assert_eq!(corners, vec![0, 4, 20, 24]);
    }
}
