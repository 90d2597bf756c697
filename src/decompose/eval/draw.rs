//! Drawing primitives for the synthetic scenes: a seeded generator, value noise, signed
//! distance functions and coverage ramps. Distances are in pixels, negative inside.

pub use crate::decompose::rng::SplitMix64 as Rng;

/// The generator for scene `seed` (salted so scene seeds don't collide with method seeds).
pub fn scene_rng(seed: u64) -> Rng {
    Rng::new(seed ^ 0x5DEE_CE66_D1CE_4E5B)
}

/// A colour of random hue with saturation `sat` and value `value`.
pub fn colour(rng: &mut Rng, sat: f32, value: f32) -> [f32; 3] {
    hsv(rng.unit(), sat, value)
}

/// HSV (all `0..1`) to RGB `0..1`.
pub fn hsv(h: f32, s: f32, v: f32) -> [f32; 3] {
    let h6 = (h.rem_euclid(1.0)) * 6.0;
    let f = h6 - h6.floor();
    let (p, q, t) = (v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f)));
    match h6 as u32 {
        0 => [v, t, p],
        1 => [q, v, p],
        2 => [p, v, t],
        3 => [p, q, v],
        4 => [t, p, v],
        _ => [v, p, q],
    }
}

/// Linear interpolation of colours.
pub fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [0, 1, 2].map(|c| a[c] + (b[c] - a[c]) * t)
}

/// Smooth value noise in `0..1`: random values on a lattice of `cells` × `cells` over the
/// canvas, interpolated with a smoothstep, summed over `octaves` (each twice as fine, half
/// as strong).
#[derive(Clone, Debug)]
pub struct Noise {
    octaves: Vec<(Vec<f32>, usize, f32)>,
    scale: f32,
}

impl Noise {
    pub fn new(rng: &mut Rng, cells: usize, octaves: usize, size: (u32, u32)) -> Self {
        let mut layers = Vec::new();
        let mut n = cells.max(1);
        let mut weight = 1.0;
        for _ in 0..octaves.max(1) {
            let grid = (0..(n + 2) * (n + 2)).map(|_| rng.unit()).collect();
            layers.push((grid, n, weight));
            n *= 2;
            weight *= 0.5;
        }
        Self {
            octaves: layers,
            scale: size.0.max(size.1).max(1) as f32,
        }
    }

    /// The noise at canvas point `(x, y)`.
    pub fn at(&self, x: f32, y: f32) -> f32 {
        let (mut sum, mut total) = (0.0, 0.0);
        for (grid, n, weight) in &self.octaves {
            let (u, v) = (x / self.scale * *n as f32, y / self.scale * *n as f32);
            let (i, j) = (u.floor().max(0.0) as usize, v.floor().max(0.0) as usize);
            let (i, j) = (i.min(*n), j.min(*n));
            let (fx, fy) = (smooth(u - i as f32), smooth(v - j as f32));
            let g = |a: usize, b: usize| grid[b * (n + 2) + a];
            let top = g(i, j) + (g(i + 1, j) - g(i, j)) * fx;
            let bottom = g(i, j + 1) + (g(i + 1, j + 1) - g(i, j + 1)) * fx;
            sum += weight * (top + (bottom - top) * fy);
            total += weight;
        }
        sum / total
    }
}

fn smooth(t: f32) -> f32 {
    let t = t.clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Coverage of a pixel at signed distance `sd`: a linear ramp `width` pixels wide centred
/// on the edge (`width = 1` is plain anti-aliasing; larger feathers).
pub fn coverage(sd: f32, width: f32) -> f32 {
    (0.5 - sd / width.max(1.0)).clamp(0.0, 1.0)
}

/// `p` relative to `centre`, rotated by `-angle`: the shape's own frame.
pub fn local(p: (f32, f32), centre: (f32, f32), angle: f32) -> (f32, f32) {
    let (dx, dy) = (p.0 - centre.0, p.1 - centre.1);
    let (s, c) = angle.sin_cos();
    (c * dx + s * dy, -s * dx + c * dy)
}

/// Approximate distance to an axis-aligned ellipse with radii `r` (Quílez's estimate; exact
/// on the axes and within a fraction of a pixel near the edge for moderate eccentricity).
pub fn ellipse(p: (f32, f32), r: (f32, f32)) -> f32 {
    let k0 = ((p.0 / r.0).powi(2) + (p.1 / r.1).powi(2)).sqrt();
    let k1 = ((p.0 / (r.0 * r.0)).powi(2) + (p.1 / (r.1 * r.1)).powi(2)).sqrt();
    if k1 <= f32::EPSILON {
        -r.0.min(r.1)
    } else {
        k0 * (k0 - 1.0) / k1
    }
}

/// Exact distance to a rectangle with half sizes `half` and corner radius `radius`.
pub fn rounded_rect(p: (f32, f32), half: (f32, f32), radius: f32) -> f32 {
    let radius = radius.min(half.0).min(half.1).max(0.0);
    let qx = p.0.abs() - (half.0 - radius);
    let qy = p.1.abs() - (half.1 - radius);
    let outside = (qx.max(0.0).powi(2) + qy.max(0.0).powi(2)).sqrt();
    outside + qx.max(qy).min(0.0) - radius
}

/// Exact distance to a closed polygon (any simple polygon; sign by the even-odd rule).
pub fn polygon(p: (f32, f32), points: &[(f32, f32)]) -> f32 {
    let Some(&last) = points.last() else {
        return f32::INFINITY;
    };
    let mut best = f32::INFINITY;
    let mut inside = false;
    let mut prev = last;
    for &cur in points {
        best = best.min(segment(p, prev, cur));
        if (cur.1 > p.1) != (prev.1 > p.1)
            && p.0 < (prev.0 - cur.0) * (p.1 - cur.1) / (prev.1 - cur.1) + cur.0
        {
            inside = !inside;
        }
        prev = cur;
    }
    if inside { -best } else { best }
}

/// Unsigned distance from `p` to the segment `a`–`b`.
pub fn segment(p: (f32, f32), a: (f32, f32), b: (f32, f32)) -> f32 {
    let (abx, aby) = (b.0 - a.0, b.1 - a.1);
    let (apx, apy) = (p.0 - a.0, p.1 - a.1);
    let len2 = abx * abx + aby * aby;
    let t = if len2 > 0.0 {
        ((apx * abx + apy * aby) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    ((apx - t * abx).powi(2) + (apy - t * aby).powi(2)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic_and_in_range() {
        let (mut a, mut b) = (scene_rng(7), scene_rng(7));
        for _ in 0..1000 {
            let x = a.unit();
            assert_eq!(x, b.unit());
            assert!((0.0..1.0).contains(&x));
        }
        assert_ne!(scene_rng(1).next_u64(), scene_rng(2).next_u64());
    }

    #[test]
    fn distances_have_the_right_sign() {
        assert!(ellipse((0.0, 0.0), (10.0, 5.0)) < 0.0);
        assert!((ellipse((10.0, 0.0), (10.0, 5.0))).abs() < 1e-4);
        assert!((ellipse((12.0, 0.0), (10.0, 5.0)) - 2.0).abs() < 1e-3);
        assert!((rounded_rect((7.0, 0.0), (5.0, 5.0), 1.0) - 2.0).abs() < 1e-5);
        let square = [(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0)];
        assert!((polygon((2.0, 2.0), &square) + 2.0).abs() < 1e-5);
        assert!((polygon((6.0, 2.0), &square) - 2.0).abs() < 1e-5);
        assert_eq!(coverage(-3.0, 1.0), 1.0);
        assert_eq!(coverage(0.0, 1.0), 0.5);
    }

    #[test]
    fn noise_stays_in_unit_range() {
        let noise = Noise::new(&mut scene_rng(3), 4, 3, (64, 32));
        for y in 0..32 {
            for x in 0..64 {
                let v = noise.at(x as f32 + 0.5, y as f32 + 0.5);
                assert!((0.0..=1.0).contains(&v), "{v}");
            }
        }
    }
}
