//! The palette's tessellation: simplices (tetrahedra, or triangles / segments for flat
//! palettes) that tile the palette polytope, on which the mixing weights are barycentric
//! coordinates.
//!
//! It starts as the *star* of the polytope from its darkest vertex `c` (Tan, Echevarria &
//! Gingold 2018, §3.3): one simplex `(c, face)` per boundary face not touching `c`. Palette
//! colours inside the polytope are then added by stellar subdivision: every simplex that
//! contains the new point `p` (on its boundary too, which keeps the tiling conforming) is
//! replaced by the simplices obtained by swapping `p` for each vertex whose barycentric
//! coordinate of `p` is positive.

use std::collections::HashMap;

use super::geom::{V3, dist2, dot, luma, pseudo_inverse, sub};
use super::hull::{Check, Hull, convex_hull};
use crate::decompose::DecomposeError;

/// Barycentric slack for "inside" when subdividing.
const INSIDE_EPS: f64 = 1e-9;

/// A tiling of the palette polytope by simplices over the palette points.
#[derive(Clone, Debug)]
pub struct Complex {
    /// Palette colours, `0..=255` units.
    pub points: Vec<V3>,
    /// Top-dimensional simplices, each `dim + 1` indices into `points`.
    pub simplices: Vec<Vec<usize>>,
    /// Affine dimension of the palette (0..=3).
    pub dim: usize,
    /// The star's centre: the darkest hull vertex, which becomes the bottom layer.
    pub centre: usize,
}

/// The darker of two colours by luma, ties broken by the RGB values (deterministic).
fn darker(a: V3, b: V3) -> bool {
    (luma(a), a).partial_cmp(&(luma(b), b)) == Some(std::cmp::Ordering::Less)
}

impl Complex {
    /// Tessellates the convex hull of `points` and inserts the points inside it.
    pub fn new(points: Vec<V3>, check: Check<'_>) -> Result<Self, DecomposeError> {
        let hull = convex_hull(&points, check)?;
        let vertices = hull.vertices();
        let centre = vertices
            .iter()
            .copied()
            .reduce(|a, b| if darker(points[b], points[a]) { b } else { a })
            .unwrap_or(0);
        let (dim, simplices) = match &hull {
            Hull::Empty => (0, Vec::new()),
            Hull::Point(a) => (0, vec![vec![*a]]),
            Hull::Segment(a, b) => (1, vec![vec![*a, *b]]),
            Hull::Polygon(ring) => {
                let len = ring.len();
                let fan = (0..len)
                    .map(|i| (ring[i], ring[(i + 1) % len]))
                    .filter(|(a, b)| *a != centre && *b != centre)
                    .map(|(a, b)| vec![centre, a, b])
                    .collect();
                (2, fan)
            }
            Hull::Polytope(faces) => {
                let star = faces
                    .iter()
                    .filter(|f| !f.contains(&centre))
                    .map(|f| vec![centre, f[0], f[1], f[2]])
                    .collect();
                (3, star)
            }
        };
        let mut complex = Self {
            points,
            simplices,
            dim,
            centre,
        };
        // Flat simplices (a face coplanar with the centre) cover nothing.
        let simplices = std::mem::take(&mut complex.simplices);
        complex.simplices = simplices
            .into_iter()
            .filter(|s| complex.coordinates_basis(s).is_some())
            .collect();
        for i in 0..complex.points.len() {
            if vertices.binary_search(&i).is_err() {
                complex.subdivide(i);
            }
        }
        Ok(complex)
    }

    /// Adds `p` as a palette point, subdividing the simplices that contain it. Returns false
    /// (and adds nothing) when `p` is outside the tiling or equal to a palette point.
    pub fn insert(&mut self, p: V3) -> bool {
        if self.points.iter().any(|q| dist2(*q, p) < 1e-12) {
            return false;
        }
        self.points.push(p);
        if self.subdivide(self.points.len() - 1) {
            true
        } else {
            self.points.pop();
            false
        }
    }

    /// Adds `p` as a palette point outside the tiling (it gets no weight); the last resort
    /// that keeps the layer count exact.
    pub fn push_unused(&mut self, p: V3) {
        self.points.push(p);
    }

    /// Stellar subdivision at point `i`. False when no simplex contains it.
    fn subdivide(&mut self, i: usize) -> bool {
        let p = self.points[i];
        let mut found = false;
        let mut out = Vec::with_capacity(self.simplices.len() + 4);
        for s in std::mem::take(&mut self.simplices) {
            match self.barycentric(&s, p) {
                Some(b) if b.iter().all(|&x| x >= -INSIDE_EPS) && !s.contains(&i) => {
                    found = true;
                    for (j, &bj) in b.iter().enumerate() {
                        if bj > INSIDE_EPS {
                            let mut t = s.clone();
                            t[j] = i;
                            out.push(t);
                        }
                    }
                }
                _ => out.push(s),
            }
        }
        self.simplices = out;
        found
    }

    /// The pseudo-inverse rows for simplex `s` (edges from its first vertex), if not flat.
    pub fn coordinates_basis(&self, s: &[usize]) -> Option<Vec<V3>> {
        let origin = self.points[*s.first()?];
        let cols: Vec<V3> = s[1..]
            .iter()
            .map(|&k| sub(self.points[k], origin))
            .collect();
        if cols.is_empty() {
            Some(Vec::new())
        } else {
            pseudo_inverse(&cols)
        }
    }

    /// Barycentric coordinates of `p` in simplex `s`, if `p` lies in its affine span.
    fn barycentric(&self, s: &[usize], p: V3) -> Option<Vec<f64>> {
        let rows = self.coordinates_basis(s)?;
        let origin = self.points[s[0]];
        let rel = sub(p, origin);
        let tail: Vec<f64> = rows.iter().map(|r| dot(*r, rel)).collect();
        // Off the span (a flat palette and a colour beside its plane): not contained.
        let mut q = origin;
        for (&k, &c) in s[1..].iter().zip(&tail) {
            q = super::geom::add(q, super::geom::scale(sub(self.points[k], origin), c));
        }
        if dist2(q, p) > 1e-12 {
            return None;
        }
        let mut b = vec![1.0 - tail.iter().sum::<f64>()];
        b.extend(tail);
        Some(b)
    }

    /// Whether some simplex contains `p`.
    #[cfg(test)]
    pub fn contains(&self, p: V3) -> bool {
        self.simplices.iter().any(|s| {
            self.barycentric(s, p)
                .is_some_and(|b| b.iter().all(|&x| x >= -INSIDE_EPS))
        })
    }

    /// Boundary faces of the tiling grouped by dimension `0..dim`: the faces a colour
    /// outside the polytope may be closest to.
    pub fn boundary(&self) -> Vec<Vec<Vec<usize>>> {
        if self.dim == 0 {
            return Vec::new();
        }
        // Facets (dimension dim − 1) used by exactly one simplex.
        let mut count: HashMap<Vec<usize>, usize> = HashMap::new();
        for s in &self.simplices {
            for skip in 0..s.len() {
                let mut f: Vec<usize> = s
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != skip)
                    .map(|(_, &v)| v)
                    .collect();
                f.sort_unstable();
                *count.entry(f).or_default() += 1;
            }
        }
        let mut groups: Vec<Vec<Vec<usize>>> = vec![Vec::new(); self.dim];
        let mut facets: Vec<Vec<usize>> = count
            .into_iter()
            .filter(|(_, c)| *c == 1)
            .map(|(f, _)| f)
            .collect();
        facets.sort_unstable();
        // All faces of the boundary facets, down to vertices.
        for f in &facets {
            let k = f.len();
            for mask in 1u32..(1 << k) {
                let sub: Vec<usize> = (0..k)
                    .filter(|j| mask & (1 << j) != 0)
                    .map(|j| f[j])
                    .collect();
                groups[sub.len() - 1].push(sub);
            }
        }
        for g in &mut groups {
            g.sort_unstable();
            g.dedup();
        }
        groups
    }

    /// Puts the layers in order: the centre first (bottom), then the others from dark to
    /// light. Returns the palette in that order; simplices are renumbered to match.
    pub fn order_layers(&mut self) {
        let mut order: Vec<usize> = (0..self.points.len())
            .filter(|&i| i != self.centre)
            .collect();
        order.sort_by(|&a, &b| {
            let (pa, pb) = (self.points[a], self.points[b]);
            (luma(pa), pa)
                .partial_cmp(&(luma(pb), pb))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        order.insert(0, self.centre);
        let mut new_of = vec![0; self.points.len()];
        for (new, &old) in order.iter().enumerate() {
            new_of[old] = new;
        }
        self.points = order.iter().map(|&i| self.points[i]).collect();
        for s in &mut self.simplices {
            for v in s.iter_mut() {
                *v = new_of[*v];
            }
        }
        self.centre = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> Result<(), DecomposeError> {
        Ok(())
    }

    #[test]
    fn cube_star_and_interior_point() {
        let mut pts = Vec::new();
        for i in 0..8 {
            pts.push([0, 1, 2].map(|k| if i & (1 << k) != 0 { 255.0 } else { 0.0 }));
        }
        let mut c = Complex::new(pts, &ok).unwrap();
        assert_eq!(c.dim, 3);
        assert_eq!(c.points[c.centre], [0.0, 0.0, 0.0]);
        // 12 hull triangles, 6 touch black: 6 tetrahedra.
        assert_eq!(c.simplices.len(), 6);
        assert!(c.insert([128.0, 100.0, 60.0]));
        assert!(!c.insert([128.0, 100.0, 60.0]));
        assert!(!c.insert([300.0, 0.0, 0.0]));
        assert!(c.contains([255.0, 255.0, 255.0]));
        assert_eq!(c.boundary().len(), 3);
        c.order_layers();
        assert_eq!(c.points[0], [0.0, 0.0, 0.0]);
        assert_eq!(c.points[8], [255.0, 255.0, 255.0]);
    }

    #[test]
    fn segment_subdivides() {
        let mut c = Complex::new(vec![[0.0; 3], [200.0; 3], [100.0; 3]], &ok).unwrap();
        assert_eq!(c.dim, 1);
        assert_eq!(c.simplices.len(), 2);
        assert!(c.insert([50.0; 3]));
        assert_eq!(c.simplices.len(), 3);
        assert!(!c.insert([50.0, 0.0, 0.0]));
    }
}
