//! Choosing the `n` palette colours of a picture.
//!
//! * At most `n` distinct colours: the palette is those colours.
//! * Otherwise the convex hull of the colours is simplified to at most `n` vertices that
//!   still enclose them (`simplify.rs`), rounded to 8 bits *away* from the palette's centre
//!   so the rounding grows the polytope rather than shrinking it.
//! * When `n` is too small for the colours' dimension (fewer than 4 colours for a solid
//!   set, 3 for a flat one, 2 for a line) no polytope can enclose them; the palette is then
//!   the extreme colours: the darkest, the one farthest from it, the one farthest from their
//!   line — or the mean colour when `n = 1`.
//! * If the polytope ends with fewer than `n` vertices, [`fill`] adds picture colours inside
//!   it by farthest-point sampling (candidates drawn with the seed), which subdivides the
//!   tessellation; layer count stays exactly `n`.

use super::geom::{SplitMix, V3, cross, dist2, luma, norm2, normalize, sub};
use super::hull::{Check, Hull, convex_hull};
use super::planar::simplify_polygon;
use super::simplify::simplify_solid;
use super::tessellate::Complex;
use crate::decompose::DecomposeError;

/// Candidates examined when filling the palette with inner colours.
const FILL_CANDIDATES: usize = 4096;

/// At most `n` palette colours (`0..=255` units, integral) for the distinct `colours`;
/// `sample` holds the colours of randomly drawn pixels (see [`simplify_solid`]).
pub fn choose(
    colours: &[[u8; 3]],
    sample: &[V3],
    n: usize,
    check: Check<'_>,
) -> Result<Vec<V3>, DecomposeError> {
    let points: Vec<V3> = colours.iter().map(|c| c.map(f64::from)).collect();
    if points.len() <= n {
        return Ok(points);
    }
    let hull = convex_hull(&points, check)?;
    let rank = match &hull {
        Hull::Empty | Hull::Point(_) => 0,
        Hull::Segment(..) => 1,
        Hull::Polygon(_) => 2,
        Hull::Polytope(_) => 3,
    };
    if n <= rank {
        return Ok(extremes(&points, n));
    }
    let corners = match hull {
        Hull::Polytope(faces) => simplify_solid(&points, &faces, sample, n, check)?,
        Hull::Polygon(ring) => {
            let ring: Vec<V3> = ring.into_iter().map(|i| points[i]).collect();
            let normal = plane_normal(&ring);
            simplify_polygon(ring, normal, n, check)?
        }
        other => other.vertices().into_iter().map(|i| points[i]).collect(),
    };
    Ok(round_outward(&corners))
}

/// The unit normal of a planar ring (Newell's method).
fn plane_normal(ring: &[V3]) -> V3 {
    let mut n = [0.0; 3];
    for (i, a) in ring.iter().enumerate() {
        let b = ring[(i + 1) % ring.len()];
        n = super::geom::add(n, cross(*a, b));
    }
    normalize(n).unwrap_or([0.0, 0.0, 1.0])
}

/// Rounds each coordinate away from the centroid (to the nearest integer when already
/// within 1e-6 of one), clamps to the cube and drops duplicates.
fn round_outward(corners: &[V3]) -> Vec<V3> {
    let len = corners.len().max(1) as f64;
    let centroid = corners
        .iter()
        .fold([0.0; 3], |acc, c| super::geom::add(acc, *c))
        .map(|x| x / len);
    let mut out: Vec<V3> = Vec::with_capacity(corners.len());
    for c in corners {
        let r: V3 = std::array::from_fn(|k| {
            let x = c[k];
            let near = x.round();
            let v = if (x - near).abs() < 1e-6 {
                near
            } else if x > centroid[k] {
                x.ceil()
            } else {
                x.floor()
            };
            v.clamp(0.0, 255.0)
        });
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

/// `n` (1..=3) extreme colours, or the mean colour for `n = 1`.
fn extremes(points: &[V3], n: usize) -> Vec<V3> {
    if n <= 1 {
        let len = points.len().max(1) as f64;
        let sum = points
            .iter()
            .fold([0.0; 3], |acc, p| super::geom::add(acc, *p));
        return vec![sum.map(|x| (x / len).round())];
    }
    let pick = |score: &dyn Fn(V3) -> f64| {
        points.iter().copied().fold(
            points[0],
            |best, p| if score(p) > score(best) { p } else { best },
        )
    };
    let a = pick(&|p| -luma(p));
    let b = pick(&|p| dist2(p, a));
    if n == 2 {
        return vec![a, b];
    }
    let dir = sub(b, a);
    let c = pick(&|p| norm2(cross(sub(p, a), dir)));
    vec![a, b, c]
}

/// Adds palette points until the complex has `n`: picture colours inside the tiling,
/// farthest from the palette first; then midpoints of the longest edges; then, if the
/// palette spans too little to split further, unused colours (layers with no weight).
pub fn fill(
    complex: &mut Complex,
    colours: &[[u8; 3]],
    n: usize,
    seed: u64,
    check: Check<'_>,
) -> Result<(), DecomposeError> {
    if complex.points.len() >= n {
        return Ok(());
    }
    let mut rng = SplitMix::new(seed);
    let mut candidates: Vec<V3> = if colours.len() <= FILL_CANDIDATES {
        colours.iter().map(|c| c.map(f64::from)).collect()
    } else {
        (0..FILL_CANDIDATES)
            .map(|_| colours[rng.below(colours.len())].map(f64::from))
            .collect()
    };
    let nearest = |c: V3, pts: &[V3]| {
        pts.iter()
            .map(|p| dist2(*p, c))
            .fold(f64::INFINITY, f64::min)
    };
    let mut gap: Vec<f64> = candidates
        .iter()
        .map(|c| nearest(*c, &complex.points))
        .collect();
    while complex.points.len() < n {
        check()?;
        // The farthest candidate; those that fail to insert are dropped.
        let Some(i) = (0..candidates.len())
            .filter(|&i| gap[i] > 0.5)
            .max_by(|&a, &b| gap[a].total_cmp(&gap[b]))
        else {
            break;
        };
        let c = candidates.swap_remove(i);
        gap.swap_remove(i);
        if complex.insert(c) {
            for (g, cand) in gap.iter_mut().zip(&candidates) {
                *g = g.min(dist2(*cand, c));
            }
        }
    }
    while complex.points.len() < n {
        check()?;
        if !split_longest_edge(complex) {
            let unused = colours
                .iter()
                .map(|c| c.map(f64::from))
                .find(|c| !complex.points.contains(c));
            complex.push_unused(unused.unwrap_or([0.0; 3]));
        }
    }
    Ok(())
}

/// Inserts the rounded midpoint of the longest edge of the tiling that has one distinct
/// from its ends. False when no edge is long enough.
fn split_longest_edge(complex: &mut Complex) -> bool {
    let mut edges: Vec<(f64, V3)> = Vec::new();
    for s in &complex.simplices {
        for (j, &a) in s.iter().enumerate() {
            for &b in &s[j + 1..] {
                let (pa, pb) = (complex.points[a], complex.points[b]);
                let mid: V3 = std::array::from_fn(|k| ((pa[k] + pb[k]) / 2.0).round());
                if mid != pa && mid != pb {
                    edges.push((dist2(pa, pb), mid));
                }
            }
        }
    }
    edges.sort_by(|x, y| {
        y.0.total_cmp(&x.0)
            .then(x.1.partial_cmp(&y.1).unwrap_or(std::cmp::Ordering::Equal))
    });
    edges.into_iter().any(|(_, mid)| complex.insert(mid))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> Result<(), DecomposeError> {
        Ok(())
    }

    #[test]
    fn few_colours_are_the_palette() {
        let colours = [[1, 2, 3], [200, 100, 0]];
        assert_eq!(choose(&colours, &[], 5, &ok).unwrap().len(), 2);
    }

    #[test]
    fn gradient_gets_exactly_n_colours() {
        let colours: Vec<[u8; 3]> = (0..=255).map(|i| [i as u8, 255 - i as u8, 40]).collect();
        let palette = choose(&colours, &[], 5, &ok).unwrap();
        assert_eq!(palette.len(), 2);
        let mut complex = Complex::new(palette, &ok).unwrap();
        fill(&mut complex, &colours, 5, 1, &ok).unwrap();
        assert_eq!(complex.points.len(), 5);
        assert_eq!(complex.simplices.len(), 4);
    }

    #[test]
    fn rounding_grows_the_polytope() {
        let r = round_outward(&[[0.2, 0.2, 0.2], [254.5, 254.5, 254.5]]);
        assert_eq!(r, vec![[0.0; 3], [255.0; 3]]);
    }
}
