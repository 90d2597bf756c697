//! A backdrop's large-scale shape: a low-order polynomial surface per channel, fitted by
//! least squares to the pixels known to be backdrop, with [`push_pull`] carrying what the
//! surface misses.
//!
//! Push–pull alone continues a field into a hole with the average of the hole's rim, a
//! plateau: it cannot climb a slope. A radial gradient's bright heart, or any gradient under
//! a wide card, then stays far from the model, is never taken in as backdrop, and becomes an
//! element of its own (or bridges the elements around it into one). Designers' gradients
//! are linear or radial ramps; a cubic in `x` and `y` follows a linear ramp exactly and a
//! radial one closely over a whole picture, so the surface continues the slope into the
//! hole, and push–pull of the small residual keeps the model as close to the known pixels
//! as before.

use super::field::{Field, Rgb, push_pull};

/// Polynomial degree in `x` and `y` together.
const DEGREE: usize = 3;
/// Monomials `x^i y^j` with `i + j ≤ DEGREE`.
const TERMS: usize = (DEGREE + 1) * (DEGREE + 2) / 2;
/// Known pixels per coefficient below which the fit is not trusted (a few rim pixels of a
/// small panel say little about a surface).
const PIXELS_PER_TERM: usize = 40;
/// Ridge on the normal equations, relative to their diagonal: keeps a fit on pixels along
/// one line (a thin stretch of border) from blowing up across the rest.
const RIDGE: f64 = 1e-6;

/// The monomials of normalised coordinates `(u, v)` in `-1..=1`.
fn monomials(u: f64, v: f64) -> [f64; TERMS] {
    let mut out = [0.0; TERMS];
    let mut k = 0;
    let mut ui = 1.0;
    for i in 0..=DEGREE {
        let mut vj = 1.0;
        for _ in 0..=DEGREE - i {
            out[k] = ui * vj;
            k += 1;
            vj *= v;
        }
        ui *= u;
    }
    out
}

/// A fitted surface: coefficients per channel.
struct Surface {
    coefficients: [[f64; TERMS]; 3],
}

impl Surface {
    /// The least-squares surface through the `known` pixels of `field`, or `None` when too
    /// few are known or the system is singular.
    fn fit(field: &Field, known: &[bool]) -> Option<Self> {
        let (w, h) = (field.width, field.height);
        let count = known.iter().filter(|&&k| k).count();
        if count < PIXELS_PER_TERM * TERMS {
            return None;
        }
        let mut normal = [[0.0f64; TERMS]; TERMS];
        let mut rhs = [[0.0f64; TERMS]; 3];
        for y in 0..h {
            let v = normalise(y, h);
            for x in 0..w {
                let i = y * w + x;
                if !known[i] {
                    continue;
                }
                let m = monomials(normalise(x, w), v);
                for (row, ma) in normal.iter_mut().zip(m) {
                    for (cell, mb) in row.iter_mut().zip(m) {
                        *cell += ma * mb;
                    }
                }
                for (c, row) in rhs.iter_mut().enumerate() {
                    let value = f64::from(field.data[i][c]);
                    for (cell, ma) in row.iter_mut().zip(m) {
                        *cell += ma * value;
                    }
                }
            }
        }
        for (a, row) in normal.iter_mut().enumerate() {
            row[a] *= 1.0 + RIDGE;
        }
        let coefficients = [
            solve(normal, rhs[0])?,
            solve(normal, rhs[1])?,
            solve(normal, rhs[2])?,
        ];
        Some(Self { coefficients })
    }

    /// The surface sampled at every pixel of a `width`×`height` grid.
    fn render(&self, width: usize, height: usize) -> Field {
        Field::from_fn(width, height, |x, y| {
            let m = monomials(normalise(x, width), normalise(y, height));
            std::array::from_fn(|c| {
                let value: f64 = m
                    .iter()
                    .zip(&self.coefficients[c])
                    .map(|(a, b)| a * b)
                    .sum();
                value as f32
            })
        })
    }
}

/// Pixel `i` of `n` mapped to `-1..=1` (pixel centres), so the monomials stay well scaled.
fn normalise(i: usize, n: usize) -> f64 {
    if n <= 1 {
        return 0.0;
    }
    (i as f64 + 0.5) / n as f64 * 2.0 - 1.0
}

/// Solves the symmetric system `a x = b` by Gaussian elimination with partial pivoting;
/// `None` when it is singular.
fn solve(mut a: [[f64; TERMS]; TERMS], mut b: [f64; TERMS]) -> Option<[f64; TERMS]> {
    for col in 0..TERMS {
        let pivot = (col..TERMS).max_by(|&p, &q| a[p][col].abs().total_cmp(&a[q][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (pivot_row, pivot_b) = (a[col], b[col]);
        for (row, b_row) in a[col + 1..].iter_mut().zip(&mut b[col + 1..]) {
            let factor = row[col] / pivot_row[col];
            for (v, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *v -= factor * p;
            }
            *b_row -= factor * pivot_b;
        }
    }
    let mut x = [0.0; TERMS];
    for row in (0..TERMS).rev() {
        let tail: f64 = (row + 1..TERMS).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - tail) / a[row][row];
    }
    Some(x)
}

/// The smooth model of `field` from its `known` pixels: the fitted surface plus the
/// push–pull continuation of what the surface leaves over (see the module doc). Known
/// pixels are smoothed, not copied, as [`push_pull`] does with `keep_known` off. Falls back
/// to plain push–pull when too few pixels are known for a surface.
pub fn smooth_model(field: &Field, known: &[bool]) -> Field {
    match surface(field, known) {
        Some(surface) => over_surface(field, &surface, known),
        None => push_pull(field, known, false),
    }
}

/// The least-squares surface through the `known` pixels of `field`, sampled at every pixel;
/// `None` when too few are known for one.
fn surface(field: &Field, known: &[bool]) -> Option<Field> {
    Surface::fit(field, known).map(|s| s.render(field.width, field.height))
}

/// `surface` plus the push–pull continuation of what it leaves over at the `known` pixels.
fn over_surface(field: &Field, surface: &Field, known: &[bool]) -> Field {
    let residual = Field {
        width: field.width,
        height: field.height,
        data: field
            .data
            .iter()
            .zip(&surface.data)
            .map(|(p, s)| -> Rgb { std::array::from_fn(|c| p[c] - s[c]) })
            .collect(),
    };
    let mut model = push_pull(&residual, known, false);
    for (m, s) in model.data.iter_mut().zip(&surface.data) {
        *m = std::array::from_fn(|c| m[c] + s[c]);
    }
    model
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decompose::methods::elements::field::distance;

    /// A radial ramp, bright at `(cx, cy)`, falling linearly with distance (an SVG radial
    /// gradient with two stops).
    fn radial(w: usize, h: usize, cx: f32, cy: f32) -> Field {
        Field::from_fn(w, h, |x, y| {
            let r = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt() / w as f32;
            let t = (1.0 - r / 0.9).max(0.0);
            [0.45 + 0.4 * t, 0.3 + 0.2 * t, 0.8 - 0.1 * t]
        })
    }

    fn worst_in_hole(model: &Field, truth: &Field, known: &[bool]) -> f32 {
        model
            .data
            .iter()
            .zip(&truth.data)
            .zip(known)
            .filter(|(_, k)| !**k)
            .map(|((a, b), _)| distance(*a, *b))
            .fold(0.0, f32::max)
    }

    #[test]
    fn the_heart_of_a_radial_gradient_is_continued_up_its_slope() {
        let (w, h) = (160, 108);
        let truth = radial(w, h, 80.0, 50.0);
        // The heart hidden by a wide card.
        let known: Vec<bool> = (0..w * h)
            .map(|i| !((40..120).contains(&(i % w)) && (25..80).contains(&(i / w))))
            .collect();
        let plateau = worst_in_hole(&push_pull(&truth, &known, false), &truth, &known);
        let sloped = worst_in_hole(&smooth_model(&truth, &known), &truth, &known);
        assert!(plateau > 0.1, "push-pull alone: {plateau}");
        assert!(sloped < 0.7 * plateau, "{sloped} vs {plateau}");
    }

    #[test]
    fn a_linear_ramp_is_continued_exactly_and_a_flat_field_stays_flat() {
        let (w, h) = (96, 64);
        let ramp = Field::from_fn(w, h, |x, y| {
            [x as f32 / w as f32, 0.2 + y as f32 / h as f32 * 0.5, 0.7]
        });
        let known: Vec<bool> = (0..w * h)
            .map(|i| !((20..76).contains(&(i % w)) && (10..54).contains(&(i / w))))
            .collect();
        assert!(worst_in_hole(&smooth_model(&ramp, &known), &ramp, &known) < 0.005);
        let flat = Field::filled(w, h, [0.3, 0.6, 0.1]);
        let model = smooth_model(&flat, &known);
        assert!(
            model
                .data
                .iter()
                .all(|p| distance(*p, [0.3, 0.6, 0.1]) < 1e-4)
        );
    }

    #[test]
    fn too_few_known_pixels_fall_back_to_push_pull() {
        let f = radial(40, 30, 20.0, 15.0);
        let mut known = vec![false; 40 * 30];
        known[..100].iter_mut().for_each(|k| *k = true);
        assert_eq!(smooth_model(&f, &known), push_pull(&f, &known, false));
    }
}
