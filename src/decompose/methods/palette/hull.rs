//! Convex hulls of colour sets: 3-D quickhull, with the lower-dimensional cases (all colours
//! equal, on a line, in a plane) detected up front and answered directly.
//!
//! Written here rather than taken from a crate: the hull crates on crates.io either work in
//! 2-D only, pull in a large geometry framework, or panic on the degenerate inputs pictures
//! produce all the time (a two-colour logo is a segment, a greyscale photo a line, a duotone
//! a plane). What the palette needs is small: the triangles of the hull with outward
//! orientation, the affine dimension of the input, and no panics.
//!
//! Algorithm (Barber, Dobkin & Huhdanpaa 1996): start from an extreme tetrahedron, give every
//! face the points in front of it, repeatedly take a face's farthest point, find the faces it
//! sees (breadth first over neighbours), replace them by a cone from the point to their
//! horizon, and hand their points to the new faces. A point within [`tolerance`] of a face
//! plane counts as on it, so coplanar and near-coplanar points never become vertices. A last
//! pass drops vertices whose incident faces are coplanar or meet along one line (points in
//! the middle of a flat facet or edge) and rebuilds, so a cube yields exactly its 8 corners.

use std::collections::HashMap;

use super::geom::{V3, cross, dot, norm2, normalize, sub, tolerance};
use super::planar;
use crate::decompose::DecomposeError;

/// The convex hull of a point set, by affine dimension.
#[derive(Clone, Debug, PartialEq)]
pub enum Hull {
    /// No points.
    Empty,
    /// All points coincide: the index of one of them.
    Point(usize),
    /// The points lie on a line: the indices of the two ends.
    Segment(usize, usize),
    /// The points lie in a plane: the polygon's vertices, in order around it.
    Polygon(Vec<usize>),
    /// A solid: triangles of point indices, counter-clockwise seen from outside.
    Polytope(Vec<[usize; 3]>),
}

impl Hull {
    /// The hull's vertices, sorted.
    pub fn vertices(&self) -> Vec<usize> {
        let mut v = match self {
            Hull::Empty => Vec::new(),
            Hull::Point(a) => vec![*a],
            Hull::Segment(a, b) => vec![*a, *b],
            Hull::Polygon(p) => p.clone(),
            Hull::Polytope(faces) => faces.iter().flatten().copied().collect(),
        };
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// Cancellation hook called every few dozen steps.
pub type Check<'a> = &'a (dyn Fn() -> Result<(), DecomposeError> + Sync);

/// The convex hull of `points` (any count, duplicates allowed).
pub fn convex_hull(points: &[V3], check: Check<'_>) -> Result<Hull, DecomposeError> {
    let mut subset: Vec<usize> = (0..points.len()).collect();
    // Rebuild without non-extreme vertices until none is left (usually zero or one round).
    for _ in 0..4 {
        let local: Vec<V3> = subset.iter().map(|&i| points[i]).collect();
        let hull = hull_once(&local, check)?;
        let Hull::Polytope(faces) = &hull else {
            return Ok(remap(hull, &subset));
        };
        let keep = extreme_vertices(&local, faces);
        if keep.len() == hull.vertices().len() {
            return Ok(remap(hull, &subset));
        }
        subset = keep.iter().map(|&i| subset[i]).collect();
    }
    let local: Vec<V3> = subset.iter().map(|&i| points[i]).collect();
    Ok(remap(hull_once(&local, check)?, &subset))
}

fn remap(hull: Hull, subset: &[usize]) -> Hull {
    let m = |i: usize| subset[i];
    match hull {
        Hull::Empty => Hull::Empty,
        Hull::Point(a) => Hull::Point(m(a)),
        Hull::Segment(a, b) => Hull::Segment(m(a), m(b)),
        Hull::Polygon(p) => Hull::Polygon(p.into_iter().map(m).collect()),
        Hull::Polytope(f) => Hull::Polytope(f.into_iter().map(|t| t.map(m)).collect()),
    }
}

/// Vertices of `faces` whose incident face normals span 3-D (true corners).
fn extreme_vertices(points: &[V3], faces: &[[usize; 3]]) -> Vec<usize> {
    let mut normals: HashMap<usize, Vec<V3>> = HashMap::new();
    for f in faces {
        let n = cross(
            sub(points[f[1]], points[f[0]]),
            sub(points[f[2]], points[f[0]]),
        );
        if let Some(n) = normalize(n) {
            for &v in f {
                normals.entry(v).or_default().push(n);
            }
        }
    }
    let mut keep: Vec<usize> = normals
        .into_iter()
        .filter(|(_, ns)| normal_rank(ns) == 3)
        .map(|(v, _)| v)
        .collect();
    keep.sort_unstable();
    keep
}

/// Rank (0..=3) of a set of unit normals, ignoring near-parallel duplicates.
fn normal_rank(ns: &[V3]) -> usize {
    const TOL: f64 = 1e-9;
    let Some(&a) = ns.first() else { return 0 };
    let Some(b) = ns
        .iter()
        .copied()
        .max_by(|x, y| norm2(cross(a, *x)).total_cmp(&norm2(cross(a, *y))))
        .filter(|b| norm2(cross(a, *b)) > TOL * TOL)
    else {
        return 1;
    };
    let ab = cross(a, b);
    if ns.iter().any(|c| dot(ab, *c).abs() > TOL) {
        3
    } else {
        2
    }
}

/// One face of the growing hull.
struct Face {
    v: [usize; 3],
    normal: V3,
    offset: f64,
    outside: Vec<usize>,
    alive: bool,
}

impl Face {
    fn new(points: &[V3], v: [usize; 3], fallback: V3) -> Self {
        let [a, b, c] = v.map(|i| points[i]);
        let normal = normalize(cross(sub(b, a), sub(c, a))).unwrap_or(fallback);
        Self {
            v,
            normal,
            offset: dot(normal, a),
            outside: Vec::new(),
            alive: true,
        }
    }

    fn distance(&self, p: V3) -> f64 {
        dot(self.normal, p) - self.offset
    }
}

/// Quickhull without the vertex clean-up.
fn hull_once(points: &[V3], check: Check<'_>) -> Result<Hull, DecomposeError> {
    if points.is_empty() {
        return Ok(Hull::Empty);
    }
    let mut lo = points[0];
    let mut hi = points[0];
    for p in points {
        for k in 0..3 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    let eps = tolerance(norm2(sub(hi, lo)).sqrt());
    let argmax = |f: &dyn Fn(V3) -> f64| {
        (0..points.len()).fold(0, |best, i| {
            if f(points[i]) > f(points[best]) {
                i
            } else {
                best
            }
        })
    };
    // The farthest pair among the six axis extremes.
    let mut extremes = Vec::with_capacity(6);
    for k in 0..3 {
        extremes.push(argmax(&|p| -p[k]));
        extremes.push(argmax(&|p| p[k]));
    }
    let (mut a, mut b) = (extremes[0], extremes[0]);
    for &i in &extremes {
        for &j in &extremes {
            if norm2(sub(points[i], points[j])) > norm2(sub(points[a], points[b])) {
                (a, b) = (i, j);
            }
        }
    }
    let (pa, dir) = (points[a], sub(points[b], points[a]));
    if norm2(dir).sqrt() <= eps {
        return Ok(Hull::Point(a));
    }
    let c = argmax(&|p| norm2(cross(sub(p, pa), dir)));
    if (norm2(cross(sub(points[c], pa), dir)) / norm2(dir)).sqrt() <= eps {
        let ends = (
            argmax(&|p| -dot(sub(p, pa), dir)),
            argmax(&|p| dot(sub(p, pa), dir)),
        );
        return Ok(Hull::Segment(ends.0, ends.1));
    }
    let plane = normalize(cross(dir, sub(points[c], pa))).unwrap_or([0.0, 0.0, 1.0]);
    let d = argmax(&|p| dot(sub(p, pa), plane).abs());
    if dot(sub(points[d], pa), plane).abs() <= eps {
        return Ok(Hull::Polygon(planar::polygon(points, pa, dir, plane, eps)));
    }
    quickhull(points, [a, b, c, d], eps, check).map(Hull::Polytope)
}

/// The triangles of the hull, starting from the non-degenerate tetrahedron `start`.
fn quickhull(
    points: &[V3],
    start: [usize; 4],
    eps: f64,
    check: Check<'_>,
) -> Result<Vec<[usize; 3]>, DecomposeError> {
    let mut faces: Vec<Face> = Vec::new();
    let mut edges: HashMap<(usize, usize), usize> = HashMap::new();
    for (tri, opposite) in [
        ([0, 1, 2], 3),
        ([0, 1, 3], 2),
        ([0, 2, 3], 1),
        ([1, 2, 3], 0),
    ] {
        let mut v = tri.map(|k| start[k]);
        let f = Face::new(points, v, [0.0, 0.0, 1.0]);
        if f.distance(points[start[opposite]]) > 0.0 {
            v.swap(1, 2);
        }
        add_face(
            &mut faces,
            &mut edges,
            Face::new(points, v, [0.0, 0.0, 1.0]),
        );
    }
    for (i, &p) in points.iter().enumerate() {
        if !start.contains(&i) {
            assign(&mut faces, 0..4, i, p, eps);
        }
    }
    let mut stack: Vec<usize> = (0..4).collect();
    let mut visit: Vec<u32> = Vec::new();
    let mut round = 0u32;
    while let Some(f) = stack.pop() {
        if !faces[f].alive || faces[f].outside.is_empty() {
            continue;
        }
        round += 1;
        if round.is_multiple_of(32) {
            check()?;
        }
        let face = &faces[f];
        let apex = face
            .outside
            .iter()
            .copied()
            .fold(face.outside[0], |best, i| {
                if face.distance(points[i]) > face.distance(points[best]) {
                    i
                } else {
                    best
                }
            });
        // Faces the apex sees (visit = round) and the horizon edges with their outer face.
        visit.resize(faces.len(), 0);
        visit[f] = round;
        let mut visible = vec![f];
        let mut horizon: Vec<(usize, usize, usize)> = Vec::new();
        let mut next = 0;
        while next < visible.len() {
            let [x, y, z] = faces[visible[next]].v;
            next += 1;
            for (p, q) in [(x, y), (y, z), (z, x)] {
                let Some(&nb) = edges.get(&(q, p)) else {
                    continue;
                };
                if visit[nb] == round {
                    continue;
                }
                if faces[nb].distance(points[apex]) > eps {
                    visit[nb] = round;
                    visible.push(nb);
                } else {
                    horizon.push((p, q, nb));
                }
            }
        }
        let mut orphans = Vec::new();
        for &g in &visible {
            let face = &mut faces[g];
            face.alive = false;
            orphans.append(&mut face.outside);
            let [x, y, z] = face.v;
            for e in [(x, y), (y, z), (z, x)] {
                edges.remove(&e);
            }
        }
        let first = faces.len();
        for &(p, q, nb) in &horizon {
            let fallback = faces[nb].normal;
            add_face(
                &mut faces,
                &mut edges,
                Face::new(points, [p, q, apex], fallback),
            );
        }
        let last = faces.len();
        for i in orphans {
            if i != apex {
                assign(&mut faces, first..last, i, points[i], eps);
            }
        }
        stack.extend((first..faces.len()).filter(|&g| !faces[g].outside.is_empty()));
    }
    Ok(faces.into_iter().filter(|f| f.alive).map(|f| f.v).collect())
}

fn add_face(faces: &mut Vec<Face>, edges: &mut HashMap<(usize, usize), usize>, face: Face) {
    let id = faces.len();
    let [x, y, z] = face.v;
    for e in [(x, y), (y, z), (z, x)] {
        edges.insert(e, id);
    }
    faces.push(face);
}

/// Gives point `i` to the face in `range` it is farthest in front of, if any.
fn assign(faces: &mut [Face], range: std::ops::Range<usize>, i: usize, p: V3, eps: f64) {
    let mut best: Option<(usize, f64)> = None;
    for g in range {
        let d = faces[g].distance(p);
        if d > eps && best.is_none_or(|(_, bd)| d > bd) {
            best = Some((g, d));
        }
    }
    if let Some((g, _)) = best {
        faces[g].outside.push(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decompose::methods::palette::geom::SplitMix;

    fn ok() -> Result<(), DecomposeError> {
        Ok(())
    }

    /// Every point lies behind (or on) every face plane.
    fn assert_encloses(points: &[V3], faces: &[[usize; 3]]) {
        for f in faces {
            let face = Face::new(points, *f, [0.0; 3]);
            for p in points {
                assert!(face.distance(*p) <= 1e-6, "point {p:?} outside face {f:?}");
            }
        }
    }

    #[test]
    fn cube_lattice_has_eight_corners() {
        let mut points = Vec::new();
        for x in 0..4 {
            for y in 0..4 {
                for z in 0..4 {
                    points.push([x as f64 * 85.0, y as f64 * 85.0, z as f64 * 85.0]);
                }
            }
        }
        let hull = convex_hull(&points, &ok).unwrap();
        let Hull::Polytope(faces) = &hull else {
            panic!("{hull:?}")
        };
        assert_eq!(hull.vertices().len(), 8);
        assert_eq!(faces.len(), 12);
        assert_encloses(&points, faces);
    }

    #[test]
    fn random_points_are_enclosed() {
        let mut rng = SplitMix::new(3);
        for n in [5, 50, 2000] {
            let points: Vec<V3> = (0..n)
                .map(|_| [0, 0, 0].map(|_: i32| rng.below(256) as f64))
                .collect();
            let hull = convex_hull(&points, &ok).unwrap();
            let Hull::Polytope(faces) = &hull else {
                panic!("{hull:?}")
            };
            assert_encloses(&points, faces);
            // Euler: a triangulated sphere has 2V - 4 faces.
            assert_eq!(faces.len(), 2 * hull.vertices().len() - 4);
        }
    }

    #[test]
    fn degenerate_inputs() {
        assert_eq!(convex_hull(&[], &ok).unwrap(), Hull::Empty);
        assert_eq!(
            convex_hull(&[[1.0, 2.0, 3.0]; 5], &ok).unwrap(),
            Hull::Point(0)
        );
        let line: Vec<V3> = (0..10).map(|i| [i as f64, 2.0 * i as f64, 5.0]).collect();
        let hull = convex_hull(&line, &ok).unwrap();
        assert_eq!(hull.vertices(), vec![0, 9]);
        let plane: Vec<V3> = (0..25)
            .map(|i| [(i % 5) as f64, (i / 5) as f64, 7.0])
            .collect();
        let hull = convex_hull(&plane, &ok).unwrap();
        assert!(matches!(hull, Hull::Polygon(_)));
        assert_eq!(hull.vertices(), vec![0, 4, 20, 24]);
    }
}
