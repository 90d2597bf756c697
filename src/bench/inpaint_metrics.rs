//! Scores of one fill against the truth, inside the hole only (outside, every method returns
//! the input).

use image::{GrayImage, RgbaImage};

/// Window radius of the local SSIM statistics: 7×7 boxes.
const SSIM_RADIUS: usize = 3;

/// One fill's scores.
#[derive(Clone, Copy, Debug)]
pub struct Scores {
    /// PSNR of RGB inside the hole, dB.
    pub psnr: f64,
    /// Mean SSIM (Wang et al. 2004, luma, 7×7 box windows) over the hole's pixels.
    pub ssim: f64,
    /// Mean gradient magnitude of the filled hole over the truth's (1 = same texture).
    pub texture: f64,
    pub seconds_per_mpx: f64,
}

/// Scores `filled` against `truth` inside `hole` (above 127).
pub fn score(
    truth: &RgbaImage,
    filled: &RgbaImage,
    hole: &GrayImage,
    seconds_per_mpx: f64,
) -> Scores {
    let inside: Vec<bool> = hole.as_raw().iter().map(|&v| v > 127).collect();
    let (mut sq, mut n) = (0.0f64, 0usize);
    for ((a, b), &m) in truth.pixels().zip(filled.pixels()).zip(&inside) {
        if m {
            for c in 0..3 {
                sq += (f64::from(a.0[c]) - f64::from(b.0[c])).powi(2);
            }
            n += 3;
        }
    }
    let mse = sq / n.max(1) as f64;
    let psnr = 10.0 * (255.0f64 * 255.0 / mse.max(1e-10)).log10();
    let (w, h) = (truth.width() as usize, truth.height() as usize);
    let (t, f) = (luma(truth), luma(filled));
    Scores {
        psnr,
        ssim: ssim_inside(&t, &f, &inside, w, h),
        texture: gradient_inside(&f, &inside, w, h) / gradient_inside(&t, &inside, w, h).max(1e-9),
        seconds_per_mpx,
    }
}

fn luma(image: &RgbaImage) -> Vec<f64> {
    image
        .pixels()
        .map(|p| {
            0.2126 * f64::from(p.0[0]) + 0.7152 * f64::from(p.0[1]) + 0.0722 * f64::from(p.0[2])
        })
        .collect()
}

/// Mean central-difference gradient magnitude over the `inside` pixels.
fn gradient_inside(v: &[f64], inside: &[bool], w: usize, h: usize) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for y in 0..h {
        for x in 0..w {
            if !inside[y * w + x] {
                continue;
            }
            let at = |x: usize, y: usize| v[y * w + x];
            let gx = (at((x + 1).min(w - 1), y) - at(x.saturating_sub(1), y)) / 2.0;
            let gy = (at(x, (y + 1).min(h - 1)) - at(x, y.saturating_sub(1))) / 2.0;
            sum += (gx * gx + gy * gy).sqrt();
            n += 1;
        }
    }
    sum / n.max(1) as f64
}

/// Mean SSIM over the `inside` pixels, each from the 7×7 window around it (clipped).
fn ssim_inside(a: &[f64], b: &[f64], inside: &[bool], w: usize, h: usize) -> f64 {
    let c1 = (0.01f64 * 255.0).powi(2);
    let c2 = (0.03f64 * 255.0).powi(2);
    let planes: [Vec<f64>; 5] = [
        a.to_vec(),
        b.to_vec(),
        a.iter().map(|v| v * v).collect(),
        b.iter().map(|v| v * v).collect(),
        a.iter().zip(b).map(|(x, y)| x * y).collect(),
    ];
    let sats: Vec<Vec<f64>> = planes.iter().map(|p| summed(p, w, h)).collect();
    let r = SSIM_RADIUS;
    let (mut sum, mut n) = (0.0, 0usize);
    for y in 0..h {
        for x in 0..w {
            if !inside[y * w + x] {
                continue;
            }
            let (x0, y0) = (x.saturating_sub(r), y.saturating_sub(r));
            let (x1, y1) = ((x + r + 1).min(w), (y + r + 1).min(h));
            let count = ((x1 - x0) * (y1 - y0)) as f64;
            let mean = |s: &[f64]| {
                (s[y1 * (w + 1) + x1] + s[y0 * (w + 1) + x0]
                    - s[y0 * (w + 1) + x1]
                    - s[y1 * (w + 1) + x0])
                    / count
            };
            let (ma, mb) = (mean(&sats[0]), mean(&sats[1]));
            let va = mean(&sats[2]) - ma * ma;
            let vb = mean(&sats[3]) - mb * mb;
            let cov = mean(&sats[4]) - ma * mb;
            sum += ((2.0 * ma * mb + c1) * (2.0 * cov + c2))
                / ((ma * ma + mb * mb + c1) * (va + vb + c2));
            n += 1;
        }
    }
    sum / n.max(1) as f64
}

/// Summed-area table with a zero first row and column, `(w+1)×(h+1)`.
fn summed(v: &[f64], w: usize, h: usize) -> Vec<f64> {
    let mut s = vec![0.0; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0.0;
        for x in 0..w {
            row += v[y * w + x];
            s[(y + 1) * (w + 1) + x + 1] = s[y * (w + 1) + x + 1] + row;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_perfect_fill_scores_perfectly_and_a_flat_one_loses_texture() {
        let truth = RgbaImage::from_fn(40, 30, |x, y| {
            image::Rgba([
                ((x * 37 + y * 11) % 255) as u8,
                (x * 5) as u8,
                (y * 7) as u8,
                255,
            ])
        });
        let hole = GrayImage::from_fn(40, 30, |x, y| {
            image::Luma([if (10..30).contains(&x) && (8..22).contains(&y) {
                255
            } else {
                0
            }])
        });
        let same = score(&truth, &truth, &hole, 1.0);
        assert!(same.psnr > 90.0 && (same.ssim - 1.0).abs() < 1e-9);
        assert!((same.texture - 1.0).abs() < 1e-9);
        let mut flat = truth.clone();
        for (x, y, p) in flat.enumerate_pixels_mut() {
            if hole.get_pixel(x, y).0[0] > 127 {
                *p = image::Rgba([128, 100, 100, 255]);
            }
        }
        let blurred = score(&truth, &flat, &hole, 1.0);
        assert!(blurred.texture < 0.3 && blurred.ssim < 0.5, "{blurred:?}");
    }
}
