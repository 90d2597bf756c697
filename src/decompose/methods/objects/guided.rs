//! The colour guided filter (He, Sun & Tang, "Guided Image Filtering", ECCV 2010), in its
//! fast form (He & Sun 2015): the linear coefficients are fitted on a downscaled guide and
//! upsampled, then applied to the full-resolution picture, `q = A·I + b`.
//!
//! Used to snap U²-Net-P's coarse 320×320 matte to the picture's edges: inside each window
//! the refined matte is an affine function of the colour, so it follows colour edges while
//! staying soft where the colours blend (hair, blur, antialiasing).

use rayon::prelude::*;

use crate::decompose::nn::u2net::Matte;

/// An RGB plane in `0..=1`, row-major.
#[derive(Clone, Debug)]
pub struct RgbPlane {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<[f32; 3]>,
}

/// The box-averaged coefficients `Ā` (per colour channel) and `b̄` of the guided filter.
#[derive(Clone, Debug)]
pub struct GuidedCoeffs {
    pub width: u32,
    pub height: u32,
    a: Vec<[f32; 3]>,
    b: Vec<f32>,
}

impl GuidedCoeffs {
    /// Fits the filter of the input `p` (same size as `guide`) with window radius `radius`
    /// and regularisation `eps` (larger = smoother, less edge-following).
    pub fn fit(guide: &RgbPlane, p: &Matte, radius: usize, eps: f32) -> Self {
        let (w, h) = (guide.width as usize, guide.height as usize);
        let px = &guide.pixels;
        let pv = &p.values;
        // Covariance entries rr, rg, rb, gg, gb, bb.
        let pairs = [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)];
        // Planes to average: I (3), p, I·p (3), I·Iᵀ (6); box-filtered in parallel.
        let mut planes: Vec<Vec<f32>> = Vec::with_capacity(13);
        planes.extend((0..3).map(|c| px.iter().map(|q| q[c]).collect()));
        planes.push(pv.clone());
        planes.extend((0..3).map(|c| px.iter().zip(pv).map(|(q, v)| q[c] * v).collect()));
        planes.extend(
            pairs
                .iter()
                .map(|&(c, d)| px.iter().map(|q| q[c] * q[d]).collect()),
        );
        let means: Vec<Vec<f32>> = planes
            .into_par_iter()
            .map(|plane| box_mean(&plane, w, h, radius))
            .collect();
        let (mean_i, rest) = means.split_at(3);
        let (mean_p, rest) = rest.split_at(1);
        let (mean_ip, mean_ii) = rest.split_at(3);
        let mean_p = &mean_p[0];

        let (a, b): (Vec<[f32; 3]>, Vec<f32>) = (0..w * h)
            .into_par_iter()
            .map(|i| {
                let m = [mean_i[0][i], mean_i[1][i], mean_i[2][i]];
                let cov_ip = [0, 1, 2].map(|c| mean_ip[c][i] - m[c] * mean_p[i]);
                let var = |k: usize| {
                    let (c, d) = pairs[k];
                    mean_ii[k][i] - m[c] * m[d]
                };
                let sigma = [
                    [var(0) + eps, var(1), var(2)],
                    [var(1), var(3) + eps, var(4)],
                    [var(2), var(4), var(5) + eps],
                ];
                let ai = solve_sym3(sigma, cov_ip);
                (ai, mean_p[i] - ai[0] * m[0] - ai[1] * m[1] - ai[2] * m[2])
            })
            .unzip();
        drop(means);
        let mut coeff_planes: Vec<Vec<f32>> =
            (0..3).map(|c| a.iter().map(|v| v[c]).collect()).collect();
        coeff_planes.push(b);
        let mut smooth: Vec<Vec<f32>> = coeff_planes
            .into_par_iter()
            .map(|plane| box_mean(&plane, w, h, radius))
            .collect();
        let b = smooth.pop().unwrap_or_default();
        let a = (0..w * h)
            .map(|i| [smooth[0][i], smooth[1][i], smooth[2][i]])
            .collect();
        Self {
            width: guide.width,
            height: guide.height,
            a,
            b,
        }
    }

    /// The filter output on the guide it was fitted on.
    pub fn apply(&self, guide: &RgbPlane) -> Matte {
        let values = guide
            .pixels
            .iter()
            .zip(self.a.iter().zip(&self.b))
            .map(|(px, (a, b))| a[0] * px[0] + a[1] * px[1] + a[2] * px[2] + b)
            .collect();
        Matte {
            width: self.width,
            height: self.height,
            values,
        }
    }

    /// The coefficients bilinearly interpolated between the grid cells `(x0|x1, y0|y1)` with
    /// weights `fx`, `fy` (from [`crate::decompose::nn::u2net::taps`]).
    #[inline]
    pub fn sample(&self, xt: (usize, usize, f32), yt: (usize, usize, f32)) -> ([f32; 3], f32) {
        let w = self.width as usize;
        let (i00, i01) = (yt.0 * w + xt.0, yt.0 * w + xt.1);
        let (i10, i11) = (yt.1 * w + xt.0, yt.1 * w + xt.1);
        let lerp2 = |v00: f32, v01: f32, v10: f32, v11: f32| {
            let top = v00 + (v01 - v00) * xt.2;
            let bottom = v10 + (v11 - v10) * xt.2;
            top + (bottom - top) * yt.2
        };
        let a = [0, 1, 2].map(|c| {
            lerp2(
                self.a[i00][c],
                self.a[i01][c],
                self.a[i10][c],
                self.a[i11][c],
            )
        });
        let b = lerp2(self.b[i00], self.b[i01], self.b[i10], self.b[i11]);
        (a, b)
    }
}

/// Solves `S·x = v` for a symmetric positive-definite 3×3 `S` by the adjugate.
fn solve_sym3(s: [[f32; 3]; 3], v: [f32; 3]) -> [f32; 3] {
    let c00 = s[1][1] * s[2][2] - s[1][2] * s[2][1];
    let c01 = s[1][2] * s[2][0] - s[1][0] * s[2][2];
    let c02 = s[1][0] * s[2][1] - s[1][1] * s[2][0];
    let det = s[0][0] * c00 + s[0][1] * c01 + s[0][2] * c02;
    if det.abs() < 1e-12 {
        return [0.0; 3];
    }
    let c11 = s[0][0] * s[2][2] - s[0][2] * s[2][0];
    let c12 = s[0][2] * s[1][0] - s[0][0] * s[1][2];
    let c22 = s[0][0] * s[1][1] - s[0][1] * s[1][0];
    // The inverse is symmetric: adj = [[c00, c01, c02], [c01, c11, c12], [c02, c12, c22]].
    [
        (c00 * v[0] + c01 * v[1] + c02 * v[2]) / det,
        (c01 * v[0] + c11 * v[1] + c12 * v[2]) / det,
        (c02 * v[0] + c12 * v[1] + c22 * v[2]) / det,
    ]
}

/// Mean over the `(2r+1)²` window around each pixel, clipped at the borders (each output is
/// the mean of the pixels that exist), by running sums in O(1) per pixel: prefix sums along
/// each row, then a sliding window down the rows (row-contiguous, so it vectorises).
pub fn box_mean(src: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    let mut rows = vec![0f32; w * h];
    let mut prefix = vec![0f64; w + 1];
    for (src_row, dst_row) in src.chunks_exact(w).zip(rows.chunks_exact_mut(w)) {
        for (i, &v) in src_row.iter().enumerate() {
            prefix[i + 1] = prefix[i] + f64::from(v);
        }
        for (i, d) in dst_row.iter_mut().enumerate() {
            let (lo, hi) = (i.saturating_sub(r), (i + r + 1).min(w));
            *d = ((prefix[hi] - prefix[lo]) / (hi - lo) as f64) as f32;
        }
    }
    let mut out = vec![0f32; w * h];
    let mut acc = vec![0f64; w];
    // Rows lo..hi are in the window of output row y.
    let (mut lo, mut hi) = (0usize, 0usize);
    for y in 0..h {
        let (want_lo, want_hi) = (y.saturating_sub(r), (y + r + 1).min(h));
        while hi < want_hi {
            for (a, &v) in acc.iter_mut().zip(&rows[hi * w..(hi + 1) * w]) {
                *a += f64::from(v);
            }
            hi += 1;
        }
        while lo < want_lo {
            for (a, &v) in acc.iter_mut().zip(&rows[lo * w..(lo + 1) * w]) {
                *a -= f64::from(v);
            }
            lo += 1;
        }
        let inv = 1.0 / (hi - lo) as f64;
        for (o, &a) in out[y * w..(y + 1) * w].iter_mut().zip(&acc) {
            *o = (a * inv) as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_mean_of_a_constant_is_the_constant() {
        let out = box_mean(&[2.0; 35], 7, 5, 2);
        assert!(out.iter().all(|&v| (v - 2.0).abs() < 1e-6));
    }

    #[test]
    fn box_mean_matches_brute_force() {
        let (w, h, r) = (9usize, 7usize, 2usize);
        let src: Vec<f32> = (0..w * h).map(|i| ((i * 37) % 11) as f32).collect();
        let fast = box_mean(&src, w, h, r);
        for y in 0..h {
            for x in 0..w {
                let (mut sum, mut n) = (0.0, 0.0);
                for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
                    for xx in x.saturating_sub(r)..(x + r + 1).min(w) {
                        sum += src[yy * w + xx];
                        n += 1.0;
                    }
                }
                assert!((fast[y * w + x] - sum / n).abs() < 1e-5, "at {x},{y}");
            }
        }
    }

    #[test]
    fn solves_a_diagonal_system() {
        let x = solve_sym3(
            [[2.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 0.5]],
            [1.0; 3],
        );
        assert!((x[0] - 0.5).abs() < 1e-6 && (x[1] - 0.25).abs() < 1e-6);
        assert!((x[2] - 2.0).abs() < 1e-6);
    }

    #[test]
    fn a_blurry_step_snaps_to_the_colour_edge() {
        // Guide: sharp black/white edge at x = 8; input: the same edge smeared over 6 px.
        let (w, h) = (16u32, 4u32);
        let pixels = (0..w * h)
            .map(|i| if i % w < 8 { [0.0; 3] } else { [1.0; 3] })
            .collect();
        let guide = RgbPlane {
            width: w,
            height: h,
            pixels,
        };
        let values = (0..w * h)
            .map(|i| ((i % w) as f32 - 4.5).clamp(0.0, 6.0) / 6.0)
            .collect();
        let p = Matte {
            width: w,
            height: h,
            values,
        };
        let q = GuidedCoeffs::fit(&guide, &p, 3, 1e-4).apply(&guide);
        let step = q.at(8, 1) - q.at(7, 1);
        assert!(step > 0.5, "edge contrast {step}");
    }
}
