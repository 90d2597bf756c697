//! Hull simplification: from the convex hull of the picture's colours to `target` palette
//! colours that still enclose them (Tan, Lien & Gingold 2016, §3.2, after the progressive
//! hulls of Sander et al. 2000).
//!
//! Solid hulls: every edge `(u, v)` may collapse into one new vertex `p`. `p` must lie on or
//! outside the plane of every face touching `u` or `v` — then the new hull contains the old
//! one — and inside the RGB cube, so the palette is made of real colours. Among those points
//! the one adding the least volume wins; that volume is linear in `p`,
//!
//! ```text
//! V(p) = Σ_f area_f · (n_f·p − d_f) / 3         over faces f touching u or v,
//! ```
//!
//! so each edge is a 3-variable linear program, solved exactly by visiting the vertices of
//! its feasible region (every triple of constraint planes; there are about 16 constraints).
//! Edges are collapsed cheapest first, several non-interfering ones per round while far from
//! the target, and the hull is recomputed after each round (a collapse may swallow
//! neighbours). Costs are cached per edge and recomputed only where faces changed.
//!
//! No edge may be able to collapse that way: the constraints around an edge can contradict
//! each other (no octahedron edge collapses without uncovering something), and a picture
//! whose colours fill the cube's corners cannot be enclosed by 4 colours inside it. Then a
//! non-enclosing collapse is taken: one of the shortest edges merges into a point along it
//! (an end, a quarter, the midpoint), whichever leaves the fewest of a random sample of the
//! picture's pixels outside the new hull, then the smallest sum of their squared distances
//! to it. Colours left outside the palette are handled by the weights (projection) and
//! the exactness fix in `opacity.rs`.
//!
//! Flat (planar) colour sets are simplified in 2-D by `planar.rs`.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash as _, Hasher as _};

use rayon::prelude::*;

use super::geom::{V3, add, cross, dist2, dot, norm2, normalize, scale, solve3, sub};
use super::hull::{Check, Hull, convex_hull};
use crate::decompose::DecomposeError;

/// Largest RGB value, in the `0..=255` units of the geometry.
const TOP: f64 = 255.0;
/// Slack when testing the feasibility of a collapse point.
const FEASIBLE_TOL: f64 = 1e-7 * TOP;
/// Edges (the shortest) tried by a non-enclosing collapse.
const FALLBACK_EDGES: usize = 48;
/// Distance (RGB units) beyond the palette at which a colour needs its layers moved.
const OUTSIDE: f64 = 0.5;
/// Original hull corners kept to score a non-enclosing collapse.
const FALLBACK_REFERENCE: usize = 512;

/// A half-space `n·p ≥ d`.
#[derive(Clone, Copy)]
struct Plane {
    n: V3,
    d: f64,
}

/// Sampled colours left outside a candidate hull: (count, sum of squared distances).
type Uncovered = (usize, f64);

/// The best collapse found for one edge.
#[derive(Clone, Copy, Debug)]
struct Collapse {
    point: V3,
    cost: f64,
}

/// Simplifies a solid hull (`faces` over `points`) until it has at most `target` vertices.
/// `sample` (colours of randomly drawn pixels) scores non-enclosing collapses, so they
/// uncover as few pixels as possible; the hull's own corners are used when it is empty.
pub fn simplify_solid(
    points: &[V3],
    faces: &[[usize; 3]],
    sample: &[V3],
    target: usize,
    check: Check<'_>,
) -> Result<Vec<V3>, DecomposeError> {
    let target = target.max(4);
    // Global ids: positions never move, collapses append new ones.
    let mut pos: Vec<V3> = Vec::new();
    let mut ids: Vec<usize> = Vec::new();
    let mut local_of: HashMap<usize, usize> = HashMap::new();
    for f in faces {
        for &v in f {
            local_of.entry(v).or_insert_with(|| {
                pos.push(points[v]);
                ids.push(pos.len() - 1);
                pos.len() - 1
            });
        }
    }
    let mut faces: Vec<[usize; 3]> = faces.iter().map(|f| f.map(|v| local_of[&v])).collect();
    let stride = pos.len().div_ceil(FALLBACK_REFERENCE).max(1);
    let corners: Vec<V3> = pos.iter().step_by(stride).copied().collect();
    let reference = if sample.is_empty() {
        corners.as_slice()
    } else {
        sample
    };
    let mut cache: HashMap<(usize, usize), (u64, u64, Option<Collapse>)> = HashMap::new();
    while ids.len() > target {
        check()?;
        let mut incident: HashMap<usize, Vec<usize>> = HashMap::new();
        for (i, f) in faces.iter().enumerate() {
            for &v in f {
                incident.entry(v).or_default().push(i);
            }
        }
        let signature = |v: usize| {
            let mut tris: Vec<[usize; 3]> = incident[&v]
                .iter()
                .map(|&i| {
                    let mut t = faces[i];
                    t.sort_unstable();
                    t
                })
                .collect();
            tris.sort_unstable();
            let mut h = DefaultHasher::new();
            tris.hash(&mut h);
            h.finish()
        };
        let mut edges: Vec<(usize, usize)> = faces
            .iter()
            .flat_map(|f| [(f[0], f[1]), (f[1], f[2]), (f[2], f[0])])
            .map(|(a, b)| (a.min(b), a.max(b)))
            .collect();
        edges.sort_unstable();
        edges.dedup();
        let sigs: HashMap<usize, u64> = ids.iter().map(|&v| (v, signature(v))).collect();
        let stale: Vec<(usize, usize)> = edges
            .iter()
            .copied()
            .filter(|e| {
                cache
                    .get(e)
                    .is_none_or(|c| (c.0, c.1) != (sigs[&e.0], sigs[&e.1]))
            })
            .collect();
        let fresh: Vec<Option<Collapse>> = stale
            .par_iter()
            .map(|&(u, v)| {
                let mut around: Vec<usize> = incident[&u].clone();
                around.extend(&incident[&v]);
                around.sort_unstable();
                around.dedup();
                let tris: Vec<[V3; 3]> = around.iter().map(|&i| faces[i].map(|k| pos[k])).collect();
                edge_collapse(&tris)
            })
            .collect();
        for (e, c) in stale.into_iter().zip(fresh) {
            cache.insert(e, (sigs[&e.0], sigs[&e.1], c));
        }
        let mut ranked: Vec<((usize, usize), Collapse)> = edges
            .iter()
            .filter_map(|e| cache[e].2.map(|c| (*e, c)))
            .collect();
        ranked.sort_by(|a, b| a.1.cost.total_cmp(&b.1.cost).then(a.0.cmp(&b.0)));
        // Far from the target, collapse several edges whose neighbourhoods do not overlap.
        let budget = ((ids.len() - target) / 3).max(1);
        let mut locked: HashSet<usize> = HashSet::new();
        let mut chosen = Vec::new();
        for ((u, v), c) in ranked {
            if chosen.len() == budget {
                break;
            }
            if locked.contains(&u) || locked.contains(&v) {
                continue;
            }
            for &i in incident[&u].iter().chain(&incident[&v]) {
                locked.extend(faces[i]);
            }
            chosen.push((u, v, c.point));
        }
        if chosen.is_empty() {
            match fallback_collapse(&pos, &ids, &edges, reference, check)? {
                Some(c) => chosen.push(c),
                None => break,
            }
        }
        for (u, v, p) in chosen {
            ids.retain(|&i| i != u && i != v);
            pos.push(p);
            ids.push(pos.len() - 1);
        }
        let local: Vec<V3> = ids.iter().map(|&i| pos[i]).collect();
        match convex_hull(&local, check)? {
            Hull::Polytope(f) => {
                faces = f.into_iter().map(|t| t.map(|k| ids[k])).collect();
                let mut kept: Vec<usize> = faces.iter().flatten().copied().collect();
                kept.sort_unstable();
                kept.dedup();
                ids = kept;
            }
            other => {
                return Ok(other.vertices().into_iter().map(|k| local[k]).collect());
            }
        }
    }
    Ok(ids.iter().map(|&i| pos[i]).collect())
}

/// The least-volume enclosing collapse point inside the cube for an edge whose endpoints
/// touch the triangles `tris`, if there is one.
fn edge_collapse(tris: &[[V3; 3]]) -> Option<Collapse> {
    let mut planes = Vec::with_capacity(tris.len() + 6);
    let (mut objective, mut constant) = ([0.0; 3], 0.0);
    for [a, b, c] in tris {
        let n2 = cross(sub(*b, *a), sub(*c, *a));
        let area = norm2(n2).sqrt() / 2.0;
        let Some(n) = normalize(n2) else { continue };
        let d = dot(n, *a);
        planes.push(Plane { n, d });
        objective = add(objective, scale(n, area));
        constant += area * d;
    }
    planes.extend(box_planes(0.0, TOP));
    let p = lp_min(objective, &planes)?;
    Some(Collapse {
        point: p.map(|x| x.clamp(0.0, TOP)),
        cost: (dot(objective, p) - constant) / 3.0,
    })
}

/// When no edge can collapse without uncovering colours: the merge of one of the shortest
/// edges into a point along it that leaves the fewest `reference` colours more than
/// [`OUTSIDE`] beyond the new hull's face planes, then the smallest sum of those squared
/// distances (a lower bound of the squared distance to the hull). Runs on small hulls,
/// where enclosing collapses run out.
fn fallback_collapse(
    pos: &[V3],
    ids: &[usize],
    edges: &[(usize, usize)],
    reference: &[V3],
    check: Check<'_>,
) -> Result<Option<(usize, usize, V3)>, DecomposeError> {
    let mut short: Vec<(usize, usize)> = edges.to_vec();
    short.sort_by(|a, b| {
        dist2(pos[a.0], pos[a.1])
            .total_cmp(&dist2(pos[b.0], pos[b.1]))
            .then(a.cmp(b))
    });
    short.truncate(FALLBACK_EDGES);
    let mut best: Option<(Uncovered, (usize, usize, V3))> = None;
    for (u, v) in short {
        check()?;
        for t in [0.0, 0.25, 0.5, 0.75, 1.0] {
            let p = add(pos[u], scale(sub(pos[v], pos[u]), t));
            let mut set: Vec<V3> = ids
                .iter()
                .filter(|&&i| i != u && i != v)
                .map(|&i| pos[i])
                .collect();
            set.push(p);
            let Hull::Polytope(faces) = convex_hull(&set, check)? else {
                continue;
            };
            let planes: Vec<Plane> = faces
                .iter()
                .filter_map(|f| {
                    let [a, b, c] = f.map(|i| set[i]);
                    normalize(cross(sub(b, a), sub(c, a))).map(|n| Plane { n, d: dot(n, a) })
                })
                .collect();
            // (pixels left outside, their squared distances): fewest uncovered pixels
            // first, then the smallest corrections.
            let mut error: Uncovered = (0, 0.0);
            for x in reference {
                let out = planes
                    .iter()
                    .map(|q| dot(q.n, *x) - q.d)
                    .fold(0.0f64, f64::max);
                if out > OUTSIDE {
                    error.0 += 1;
                    error.1 += out * out;
                }
            }
            if best
                .as_ref()
                .is_none_or(|(e, _)| error.0 < e.0 || (error.0 == e.0 && error.1 < e.1))
            {
                best = Some((error, (u, v, p)));
            }
        }
    }
    Ok(best.map(|(_, c)| c))
}

/// `lo ≤ p_k ≤ hi` as six half-spaces.
fn box_planes(lo: f64, hi: f64) -> [Plane; 6] {
    std::array::from_fn(|i| {
        let (k, sign) = (i % 3, if i < 3 { 1.0 } else { -1.0 });
        let mut n = [0.0; 3];
        n[k] = sign;
        Plane {
            n,
            d: if i < 3 { lo } else { -hi },
        }
    })
}

/// Minimises `objective · p` subject to `planes` by visiting every vertex of the feasible
/// region. Assumes the region is bounded (callers add a box). `None` when infeasible.
fn lp_min(objective: V3, planes: &[Plane]) -> Option<V3> {
    let m = planes.len();
    let mut best: Option<(f64, V3)> = None;
    for i in 0..m {
        for j in i + 1..m {
            for k in j + 1..m {
                let (a, b, c) = (planes[i], planes[j], planes[k]);
                let Some(p) = solve3([a.n, b.n, c.n], [a.d, b.d, c.d]) else {
                    continue;
                };
                if planes.iter().any(|q| dot(q.n, p) < q.d - FEASIBLE_TOL) {
                    continue;
                }
                let value = dot(objective, p);
                if best.is_none_or(|(bv, _)| value < bv) {
                    best = Some((value, p));
                }
            }
        }
    }
    best.map(|(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decompose::methods::palette::geom::SplitMix;

    fn ok() -> Result<(), DecomposeError> {
        Ok(())
    }

    #[test]
    fn lp_finds_the_corner() {
        let planes = [box_planes(0.0, 1.0).as_slice()].concat();
        let p = lp_min([1.0, 1.0, -1.0], &planes).unwrap();
        assert!(dist2(p, [0.0, 0.0, 1.0]) < 1e-12);
    }

    #[test]
    fn simplified_hull_encloses_the_colours() {
        let mut rng = SplitMix::new(9);
        // A blob of colours away from the cube's faces; enclosing collapses last to ~8 corners.
        let points: Vec<V3> = (0..3000)
            .map(|_| [0; 3].map(|_| 60.0 + rng.below(100) as f64 + (rng.below(7) as f64).powi(2)))
            .collect();
        let Hull::Polytope(faces) = convex_hull(&points, &ok).unwrap() else {
            panic!()
        };
        let palette = simplify_solid(&points, &faces, &[], 10, &ok).unwrap();
        assert!(
            palette.len() <= 10 && palette.len() >= 4,
            "{}",
            palette.len()
        );
        let Hull::Polytope(small) = convex_hull(&palette, &ok).unwrap() else {
            panic!()
        };
        for f in &small {
            let [a, b, c] = f.map(|i| palette[i]);
            let n = normalize(cross(sub(b, a), sub(c, a))).unwrap();
            for p in &points {
                assert!(dot(n, sub(*p, a)) <= 1e-6, "{p:?} escapes the palette");
            }
        }
    }
}
