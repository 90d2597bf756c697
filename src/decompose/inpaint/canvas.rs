//! Working buffers for inpainting: a premultiplied float image, a hole mask, a tiny seeded
//! random generator and the pyramid/distance helpers both fill methods share.

use rayon::prelude::*;

use crate::model::RgbaImage;
use crate::model::pixels::{Premul, premultiply};

/// Premultiplied RGBA in `0..=1`, row-major.
///
/// Premultiplied so that averaging (pyramids, patch voting, Telea's weighted sums) treats
/// transparent pixels correctly: a transparent neighbour contributes transparency, not its
/// meaningless colour.
#[derive(Clone, Debug)]
pub(crate) struct Canvas {
    pub width: usize,
    pub height: usize,
    pub px: Vec<Premul>,
    /// Texture features per pixel (see `texture`), or empty where the distance ignores
    /// texture (Telea's fill, the features' own canvas).
    pub tex: Vec<[f32; 2]>,
}

impl Canvas {
    /// Copies the `width`×`height` window at (`x0`, `y0`) of `image`, premultiplying.
    pub fn from_window(image: &RgbaImage, x0: u32, y0: u32, width: u32, height: u32) -> Self {
        let (w, iw) = (width as usize, image.width() as usize);
        let raw = image.as_raw();
        let mut px = vec![[0.0f32; 4]; w * height as usize];
        px.par_chunks_mut(w.max(1))
            .enumerate()
            .for_each(|(row, out)| {
                let start = ((y0 as usize + row) * iw + x0 as usize) * 4;
                for (o, p) in out
                    .iter_mut()
                    .zip(raw[start..start + w * 4].chunks_exact(4))
                {
                    *o = premultiply([p[0], p[1], p[2], p[3]]);
                }
            });
        Self {
            width: width as usize,
            height: height as usize,
            px,
            tex: Vec::new(),
        }
    }

    /// Half the size in each direction (rounded up), averaging 2×2 blocks. Hole pixels do not
    /// contribute to the average when a block has any known pixel, so colours from inside the
    /// hole (still garbage at this point) never leak into the known part of a coarser level.
    pub fn downsample(&self, hole: &Mask) -> Canvas {
        let width = self.width.div_ceil(2);
        let height = self.height.div_ceil(2);
        let mut px = vec![[0.0f32; 4]; width * height];
        px.par_chunks_mut(width).enumerate().for_each(|(y, row)| {
            for (x, out) in row.iter_mut().enumerate() {
                let mut known = [0.0f32; 4];
                let mut any = [0.0f32; 4];
                let (mut n_known, mut n_any) = (0.0f32, 0.0f32);
                for (sx, sy) in block(x, y, self.width, self.height) {
                    let i = sy * self.width + sx;
                    add(&mut any, self.px[i], 1.0);
                    n_any += 1.0;
                    if !hole.bits[i] {
                        add(&mut known, self.px[i], 1.0);
                        n_known += 1.0;
                    }
                }
                *out = if n_known > 0.0 {
                    scale(known, 1.0 / n_known)
                } else {
                    scale(any, 1.0 / n_any)
                };
            }
        });
        Canvas {
            width,
            height,
            px,
            tex: self.downsample_texture(width, height),
        }
    }

    /// The texture features averaged over 2×2 blocks (they are known everywhere: the hole's
    /// were filled at full resolution).
    fn downsample_texture(&self, width: usize, height: usize) -> Vec<[f32; 2]> {
        if self.tex.is_empty() {
            return Vec::new();
        }
        (0..width * height)
            .map(|i| {
                let (x, y) = (i % width, i / width);
                let mut sum = [0.0f32; 2];
                let mut n = 0.0f32;
                for (sx, sy) in block(x, y, self.width, self.height) {
                    let t = self.tex[sy * self.width + sx];
                    sum = [sum[0] + t[0], sum[1] + t[1]];
                    n += 1.0;
                }
                [sum[0] / n, sum[1] / n]
            })
            .collect()
    }
}

impl Canvas {
    /// Mean of the (2`r`+1)² window around every pixel, clipped at the edges: the patch means
    /// that bias-corrected matching compares. Two separable running-sum passes.
    pub fn box_mean(&self, r: usize) -> Vec<[f32; 4]> {
        let (w, h) = (self.width, self.height);
        let mut rows = vec![[0.0f32; 4]; w * h];
        rows.par_chunks_mut(w).enumerate().for_each(|(y, out)| {
            let src = &self.px[y * w..(y + 1) * w];
            window_sums(src, out, r);
        });
        // Vertical pass as a running sum of whole rows: sequential in y but linear and
        // cache-friendly, and it needs no transposed copy of a possibly huge canvas.
        let mut out = vec![[0.0f32; 4]; w * h];
        let mut acc = vec![[0.0f32; 4]; w];
        for y in 0..r.min(h) {
            for (a, v) in acc.iter_mut().zip(&rows[y * w..(y + 1) * w]) {
                add(a, *v, 1.0);
            }
        }
        for y in 0..h {
            if y + r < h {
                for (a, v) in acc.iter_mut().zip(&rows[(y + r) * w..(y + r + 1) * w]) {
                    add(a, *v, 1.0);
                }
            }
            if y > r {
                for (a, v) in acc.iter_mut().zip(&rows[(y - r - 1) * w..(y - r) * w]) {
                    add(a, *v, -1.0);
                }
            }
            let ny = (y + r + 1).min(h) - y.saturating_sub(r);
            for (x, (o, a)) in out[y * w..(y + 1) * w].iter_mut().zip(&acc).enumerate() {
                let nx = (x + r + 1).min(w) - x.saturating_sub(r);
                *o = scale(*a, 1.0 / (nx * ny) as f32);
            }
        }
        out
    }

    /// Bilinear resampling of `coarse` (half size, rounded up) into the hole pixels of `self`.
    pub fn fill_from_coarse(&mut self, coarse: &Canvas, hole: &Mask) {
        let (w, cw, ch) = (self.width, coarse.width, coarse.height);
        self.px.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
            let fy = ((y as f32 + 0.5) / 2.0 - 0.5).clamp(0.0, (ch - 1) as f32);
            let (y0, ty) = (fy.floor() as usize, fy.fract());
            let y1 = (y0 + 1).min(ch - 1);
            for (x, out) in row.iter_mut().enumerate() {
                if !hole.bits[y * w + x] {
                    continue;
                }
                let fx = ((x as f32 + 0.5) / 2.0 - 0.5).clamp(0.0, (cw - 1) as f32);
                let (x0, tx) = (fx.floor() as usize, fx.fract());
                let x1 = (x0 + 1).min(cw - 1);
                let mut v = [0.0f32; 4];
                add(&mut v, coarse.px[y0 * cw + x0], (1.0 - tx) * (1.0 - ty));
                add(&mut v, coarse.px[y0 * cw + x1], tx * (1.0 - ty));
                add(&mut v, coarse.px[y1 * cw + x0], (1.0 - tx) * ty);
                add(&mut v, coarse.px[y1 * cw + x1], tx * ty);
                *out = v;
            }
        });
    }
}

/// `out[i]` = sum of `src[i−r..=i+r]` (clipped), by a running sum.
fn window_sums(src: &[[f32; 4]], out: &mut [[f32; 4]], r: usize) {
    let n = src.len();
    let mut acc = [0.0f32; 4];
    for v in src.iter().take(r.min(n)) {
        add(&mut acc, *v, 1.0);
    }
    for i in 0..n {
        if i + r < n {
            add(&mut acc, src[i + r], 1.0);
        }
        if i > r {
            add(&mut acc, src[i - r - 1], -1.0);
        }
        out[i] = acc;
    }
}

/// Which pixels are unknown (`true`) and must be filled.
#[derive(Clone, Debug)]
pub(crate) struct Mask {
    pub width: usize,
    pub height: usize,
    pub bits: Vec<bool>,
}

impl Mask {
    /// Number of hole pixels.
    pub fn count(&self) -> usize {
        self.bits.iter().filter(|&&b| b).count()
    }

    /// Half the size (rounded up); a coarse pixel is a hole if any of its children is, so a
    /// coarse "known" pixel only ever summarises truly known pixels.
    pub fn downsample(&self) -> Mask {
        let width = self.width.div_ceil(2);
        let height = self.height.div_ceil(2);
        let mut bits = vec![false; width * height];
        bits.par_chunks_mut(width).enumerate().for_each(|(y, row)| {
            for (x, out) in row.iter_mut().enumerate() {
                *out = block(x, y, self.width, self.height)
                    .any(|(sx, sy)| self.bits[sy * self.width + sx]);
            }
        });
        Mask {
            width,
            height,
            bits,
        }
    }

    /// Chessboard distance from every pixel to the nearest known pixel (0 on known pixels),
    /// by the classic two-pass chamfer sweep. With no known pixel at all every entry stays at
    /// `u32::MAX / 2`.
    pub fn distance_to_known(&self) -> Vec<u32> {
        let (w, h) = (self.width, self.height);
        let far = u32::MAX / 2;
        let mut d: Vec<u32> = self.bits.iter().map(|&b| if b { far } else { 0 }).collect();
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                let mut best = d[i];
                if x > 0 {
                    best = best.min(d[i - 1] + 1);
                }
                if y > 0 {
                    best = best.min(d[i - w] + 1);
                    if x > 0 {
                        best = best.min(d[i - w - 1] + 1);
                    }
                    if x + 1 < w {
                        best = best.min(d[i - w + 1] + 1);
                    }
                }
                d[i] = best;
            }
        }
        for y in (0..h).rev() {
            for x in (0..w).rev() {
                let i = y * w + x;
                let mut best = d[i];
                if x + 1 < w {
                    best = best.min(d[i + 1] + 1);
                }
                if y + 1 < h {
                    best = best.min(d[i + w] + 1);
                    if x + 1 < w {
                        best = best.min(d[i + w + 1] + 1);
                    }
                    if x > 0 {
                        best = best.min(d[i + w - 1] + 1);
                    }
                }
                d[i] = best;
            }
        }
        d
    }
}

/// The up-to-four fine pixels under coarse pixel (`x`, `y`), clamped at odd edges.
fn block(x: usize, y: usize, w: usize, h: usize) -> impl Iterator<Item = (usize, usize)> {
    let xs = [2 * x, (2 * x + 1).min(w - 1)];
    let ys = [2 * y, (2 * y + 1).min(h - 1)];
    let x_count = if xs[0] == xs[1] { 1 } else { 2 };
    let y_count = if ys[0] == ys[1] { 1 } else { 2 };
    ys.into_iter()
        .take(y_count)
        .flat_map(move |sy| xs.into_iter().take(x_count).map(move |sx| (sx, sy)))
}

/// `acc += w · v`, per channel.
#[inline]
pub(crate) fn add(acc: &mut [f32; 4], v: [f32; 4], w: f32) {
    for c in 0..4 {
        acc[c] += w * v[c];
    }
}

/// `v · s`, per channel.
#[inline]
pub(crate) fn scale(v: [f32; 4], s: f32) -> [f32; 4] {
    [v[0] * s, v[1] * s, v[2] * s, v[3] * s]
}

pub(crate) use crate::decompose::rng::SplitMix64 as Rng;

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.
mod tests {
    use super::*;

    #[test]
    fn box_mean_matches_brute_force() {
        let (w, h) = (9usize, 6usize);
        let px: Vec<[f32; 4]> = (0..w * h)
            .map(|i| [i as f32, (i % 5) as f32, 1.0, 0.5])
            .collect();
        let c = Canvas {
            tex: Vec::new(),
            width: w,
            height: h,
            px: px.clone(),
        };
        let m = c.box_mean(2);
        for y in 0..h {
            for x in 0..w {
                let mut sum = [0.0f32; 4];
                let mut n = 0.0;
                for yy in y.saturating_sub(2)..(y + 3).min(h) {
                    for xx in x.saturating_sub(2)..(x + 3).min(w) {
                        add(&mut sum, px[yy * w + xx], 1.0);
                        n += 1.0;
                    }
                }
                for ch in 0..4 {
                    assert!((m[y * w + x][ch] - sum[ch] / n).abs() < 1e-3);
                }
            }
        }
    }

    #[test]
    fn mask_downsample_is_conservative() {
        let mut bits = vec![false; 9];
        bits[8] = true; // bottom-right corner of a 3×3
        let m = Mask {
            width: 3,
            height: 3,
            bits,
        };
        let c = m.downsample();
        assert_eq!((c.width, c.height), (2, 2));
        assert_eq!(c.bits, vec![false, false, false, true]);
    }

    #[test]
    fn distance_to_known_is_chessboard() {
        let w = 7;
        let mut bits = vec![true; w * w];
        bits[0] = false;
        let d = Mask {
            width: w,
            height: w,
            bits,
        }
        .distance_to_known();
        assert_eq!(d[0], 0);
        assert_eq!(d[w * w - 1], 6);
        assert_eq!(d[3 * w + 1], 3);
    }
}
