//! Operations on alpha fields, the building blocks of every effect: spread (dilation) and
//! choke (erosion) by an exact Euclidean distance, blur, and integer shifts.

use super::super::mask::{box_radius, gaussian_by_boxes};

/// Blur standard deviation per pixel of an effect's "size". Photoshop's size is the reach
/// of its blur, and a Gaussian fades out at about 2.5 σ: of 0.3, 0.4 and 0.5, 0.4 came
/// closest to the composites ag-psd's corpus files store for a 59 px outer glow
/// (`read-write/float-color`) and 5 px shadows and glows (`read/effects`).
const SIGMA_PER_SIZE: f32 = 0.4;

/// A rectangle of alpha values (`0.0..=1.0`), row-major.
#[derive(Clone, Debug)]
pub struct Field {
    pub width: usize,
    pub height: usize,
    pub values: Vec<f32>,
}

impl Field {
    /// A field of `width` × `height` filled with `value`.
    pub fn filled(width: usize, height: usize, value: f32) -> Self {
        Self {
            width,
            height,
            values: vec![value; width * height],
        }
    }

    /// `1 − a` everywhere: the outside of a shape.
    pub fn inverted(&self) -> Self {
        self.map(|a| 1.0 - a)
    }

    /// A field of `f` applied to every value.
    pub fn map(&self, f: impl Fn(f32) -> f32) -> Self {
        Self {
            width: self.width,
            height: self.height,
            values: self.values.iter().map(|&a| f(a)).collect(),
        }
    }

    /// A field of `f` applied to both fields' values, pixel by pixel.
    pub fn zip(&self, other: &Field, f: impl Fn(f32, f32) -> f32) -> Self {
        Self {
            width: self.width,
            height: self.height,
            values: self
                .values
                .iter()
                .zip(&other.values)
                .map(|(&a, &b)| f(a, b))
                .collect(),
        }
    }

    /// The field moved by (`dx`, `dy`) pixels; uncovered pixels take `fill`.
    pub fn shifted(&self, dx: i64, dy: i64, fill: f32) -> Self {
        let mut out = Field::filled(self.width, self.height, fill);
        let (w, h) = (self.width as i64, self.height as i64);
        for y in 0..h {
            let sy = y - dy;
            if sy < 0 || sy >= h {
                continue;
            }
            for x in 0..w {
                let sx = x - dx;
                if sx >= 0 && sx < w {
                    out.values[(y * w + x) as usize] = self.values[(sy * w + sx) as usize];
                }
            }
        }
        out
    }

    /// The shape grown by `radius` pixels: each pixel covered as far as it lies within
    /// `radius` of the shape's edge (the shape being the pixels at least half covered),
    /// with the edge's last pixel partly covered, and never less than before.
    pub fn spread(&self, radius: f32) -> Self {
        if radius <= 0.0 {
            return self.clone();
        }
        let distance = distance_to(self, |a| a >= 0.5);
        self.zip(&distance, |a, d| a.max((radius + 1.0 - d).clamp(0.0, 1.0)))
    }

    /// The shape shrunk by `radius` pixels (the inverse of [`Field::spread`]).
    pub fn choked(&self, radius: f32) -> Self {
        if radius <= 0.0 {
            return self.clone();
        }
        let distance = distance_to(self, |a| a < 0.5);
        self.zip(&distance, |a, d| a.min((d - radius).clamp(0.0, 1.0)))
    }

    /// The field blurred for an effect of `size` pixels; pixels beyond the rectangle read
    /// `outside`.
    pub fn blurred(&self, size: f32, outside: f32) -> Self {
        let radius = box_radius(f64::from(size * SIGMA_PER_SIZE));
        if radius == 0 {
            return self.clone();
        }
        let mut values = self.values.clone();
        let (w, h) = (self.width, self.height);
        gaussian_by_boxes(&mut values, w, h, radius, outside);
        Self {
            width: w,
            height: h,
            values,
        }
    }
}

/// The Euclidean distance of every pixel to the nearest pixel whose value satisfies
/// `target`, by Felzenszwalb and Huttenlocher's separable squared-distance transform
/// (lower envelope of parabolas, per column then per row). Far away when none does.
fn distance_to(field: &Field, target: impl Fn(f32) -> bool) -> Field {
    const FAR: f64 = 1e20;
    let (w, h) = (field.width, field.height);
    let mut squared: Vec<f64> = field
        .values
        .iter()
        .map(|&a| if target(a) { 0.0 } else { FAR })
        .collect();
    let mut line = Vec::with_capacity(w.max(h));
    let mut scratch = Envelope::default();
    for x in 0..w {
        line.clear();
        line.extend((0..h).map(|y| squared[y * w + x]));
        scratch.transform(&mut line);
        for (y, v) in line.iter().enumerate() {
            squared[y * w + x] = *v;
        }
    }
    for row in squared.chunks_exact_mut(w.max(1)) {
        line.clear();
        line.extend_from_slice(row);
        scratch.transform(&mut line);
        row.copy_from_slice(&line);
    }
    Field {
        width: w,
        height: h,
        values: squared.iter().map(|&d| d.sqrt() as f32).collect(),
    }
}

/// Buffers of the 1-D transform, reused across lines.
#[derive(Default)]
struct Envelope {
    /// Positions of the parabolas in the lower envelope.
    vertex: Vec<usize>,
    /// Where each parabola starts to be the lowest.
    start: Vec<f64>,
}

impl Envelope {
    /// Replaces `f` by `min_q (p − q)² + f(q)` for every `p`.
    fn transform(&mut self, f: &mut [f64]) {
        let n = f.len();
        if n == 0 {
            return;
        }
        self.vertex.clear();
        self.vertex.resize(n, 0);
        self.start.clear();
        self.start.resize(n + 1, 0.0);
        let (v, z) = (&mut self.vertex, &mut self.start);
        let mut k = 0usize;
        z[0] = f64::NEG_INFINITY;
        z[1] = f64::INFINITY;
        for q in 1..n {
            loop {
                let p = v[k];
                let (qf, pf) = (q as f64, p as f64);
                let s = ((f[q] + qf * qf) - (f[p] + pf * pf)) / (2.0 * qf - 2.0 * pf);
                if s <= z[k] && k > 0 {
                    k -= 1;
                    continue;
                }
                if s <= z[k] {
                    // k == 0 with z[0] = −∞ cannot be passed; kept for clarity.
                    break;
                }
                k += 1;
                v[k] = q;
                z[k] = s;
                z[k + 1] = f64::INFINITY;
                break;
            }
        }
        let source: Vec<f64> = f.to_vec();
        let mut k = 0usize;
        for (q, out) in f.iter_mut().enumerate() {
            while z[k + 1] < q as f64 {
                k += 1;
            }
            let d = q as f64 - v[k] as f64;
            *out = d * d + source[v[k]];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(size: usize, inner: std::ops::Range<usize>) -> Field {
        let mut field = Field::filled(size, size, 0.0);
        for y in inner.clone() {
            for x in inner.clone() {
                field.values[y * size + x] = 1.0;
            }
        }
        field
    }

    #[test]
    fn distance_is_euclidean() {
        let mut field = Field::filled(7, 7, 0.0);
        field.values[3 * 7 + 3] = 1.0;
        let d = distance_to(&field, |a| a >= 0.5);
        assert_eq!(d.values[3 * 7 + 3], 0.0);
        assert!((d.values[3 * 7 + 6] - 3.0).abs() < 1e-6);
        assert!((d.values[0] - 18f32.sqrt()).abs() < 1e-5);
    }

    #[test]
    fn spread_and_choke_move_the_edge_by_whole_pixels() {
        let field = square(12, 4..8);
        let grown = field.spread(2.0);
        // Columns 2..10 of the middle row are covered, 1 and 10 are not.
        let row: Vec<f32> = grown.values[6 * 12..7 * 12].to_vec();
        assert_eq!(row[2], 1.0);
        assert_eq!(row[9], 1.0);
        assert_eq!(row[1], 0.0);
        assert_eq!(row[10], 0.0);
        let shrunk = field.choked(1.0);
        let row: Vec<f32> = shrunk.values[6 * 12..7 * 12].to_vec();
        assert_eq!((row[4], row[5], row[6], row[7]), (0.0, 1.0, 1.0, 0.0));
    }

    #[test]
    fn blur_keeps_mass_and_shift_moves() {
        let field = square(21, 8..13);
        let blurred = field.blurred(5.0, 0.0);
        let mass = |f: &Field| f.values.iter().sum::<f32>();
        assert!((mass(&blurred) - mass(&field)).abs() < 0.5);
        assert!(blurred.values[10 * 21 + 10] < 1.0);
        let moved = field.shifted(3, -2, 0.0);
        assert_eq!(moved.values[6 * 21 + 11], 1.0);
        assert_eq!(moved.values[6 * 21 + 10], 0.0);
    }
}
