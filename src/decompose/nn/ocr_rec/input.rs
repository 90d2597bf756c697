//! The network input for a line crop, built the way RapidOCR builds it.
//!
//! RapidOCR scales the crop to 48 px high keeping its aspect ratio, into a canvas at least
//! 320 px wide (narrower lines are right-padded with zeros, i.e. mid-grey after
//! normalisation); a line wider than 320/48 is squeezed to `floor(48·w/h)` columns. Pixels
//! are BGR, because RapidOCR reads pictures with OpenCV, scaled by `(x/255 − 0.5)/0.5`.
//! Scaling is bilinear with pixel-centre alignment and no prefilter, like OpenCV's
//! `INTER_LINEAR`, with results rounded to bytes as OpenCV does for 8-bit pictures; OpenCV's
//! 11-bit fixed-point weights put it within one grey level of this (checked on the test
//! lines and on noise, up and down).

use crate::model::RgbaImage;
use crate::model::pixels::matte_white;

/// Height of the network input.
pub const HEIGHT: usize = 48;
/// Narrowest network input; shorter lines are padded to it.
pub const MIN_WIDTH: usize = 320;

/// `(input width, width the crop is scaled to)` for a `w×h` crop (both non-zero).
pub fn widths(w: u32, h: u32) -> (usize, usize) {
    let ratio = f64::from(w) / f64::from(h);
    let scaled = HEIGHT as f64 * ratio;
    let width = MIN_WIDTH.max(scaled.floor() as usize);
    (width, (scaled.ceil() as usize).clamp(1, width))
}

/// The normalised `3×48×W` input (BGR planes, row-major) for a non-empty crop, and `W`.
pub fn planes(crop: &RgbaImage) -> (Vec<f32>, usize) {
    let (w, h) = crop.dimensions();
    let (width, scaled_w) = widths(w, h);
    let bgr: Vec<[u8; 3]> = crop
        .pixels()
        .map(|p| {
            let [r, g, b, _] = matte_white(p.0);
            [b, g, r]
        })
        .collect();
    let plane = HEIGHT * width;
    let mut data = vec![0f32; 3 * plane];
    let mut put = |x: usize, y: usize, px: [u8; 3]| {
        for (c, v) in px.into_iter().enumerate() {
            data[c * plane + y * width + x] = (f32::from(v) / 255.0 - 0.5) / 0.5;
        }
    };
    if (scaled_w, HEIGHT) == (w as usize, h as usize) {
        for (i, px) in bgr.iter().enumerate() {
            put(i % scaled_w, i / scaled_w, *px);
        }
    } else {
        let xs = taps(w as usize, scaled_w);
        let ys = taps(h as usize, HEIGHT);
        let src_w = w as usize;
        for (y, &(y0, y1, fy)) in ys.iter().enumerate() {
            for (x, &(x0, x1, fx)) in xs.iter().enumerate() {
                let at = |yy: usize, xx: usize| bgr[yy * src_w + xx];
                let (a, b, c, d) = (at(y0, x0), at(y0, x1), at(y1, x0), at(y1, x1));
                let mut px = [0u8; 3];
                for ch in 0..3 {
                    let top = f32::from(a[ch]) * (1.0 - fx) + f32::from(b[ch]) * fx;
                    let bottom = f32::from(c[ch]) * (1.0 - fx) + f32::from(d[ch]) * fx;
                    let v = top * (1.0 - fy) + bottom * fy;
                    px[ch] = v.round().clamp(0.0, 255.0) as u8;
                }
                put(x, y, px);
            }
        }
    }
    (data, width)
}

/// For each of `dst` samples over `src` pixels: the two source indices and the weight of
/// the second. Sample `i` sits at `(i + 0.5)·src/dst − 0.5`, clamped to the edge pixels.
fn taps(src: usize, dst: usize) -> Vec<(usize, usize, f32)> {
    let scale = src as f64 / dst as f64;
    (0..dst)
        .map(|i| {
            let pos = ((i as f64 + 0.5) * scale - 0.5).max(0.0);
            let i0 = (pos.floor() as usize).min(src - 1);
            let i1 = (i0 + 1).min(src - 1);
            let frac = if i1 == i0 { 0.0 } else { pos - i0 as f64 };
            (i0, i1, frac as f32)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_follow_the_max_width_rule() {
        // Short line: scaled to 48 px high, padded to 320.
        assert_eq!(widths(100, 48), (320, 100));
        assert_eq!(widths(100, 24), (320, 200));
        // Exactly 320/48: no padding.
        assert_eq!(widths(640, 96), (320, 320));
        // Long line: floor for the canvas, the scaled width capped to it.
        assert_eq!(widths(1001, 48), (1001, 1001));
        assert_eq!(widths(1000, 47), (1021, 1021));
    }

    #[test]
    fn taps_cover_the_source_evenly() {
        // Halving: each sample sits between two source pixels.
        assert_eq!(taps(4, 2), vec![(0, 1, 0.5), (2, 3, 0.5)]);
        // Identity maps every pixel to itself.
        assert_eq!(taps(3, 3), vec![(0, 1, 0.0), (1, 2, 0.0), (2, 2, 0.0)]);
    }
}
