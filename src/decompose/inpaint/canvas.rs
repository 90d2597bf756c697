//! Working buffers for inpainting: a premultiplied 8-bit image, a hole mask, a tiny seeded
//! random generator and the pyramid/distance helpers both fill methods share.
//!
//! Pixels are stored as premultiplied bytes, not floats: a fill works on most of a picture
//! (the hole plus the context its patches come from) at every pyramid level, and at four
//! bytes a pixel its working set stays within a few times the picture itself (issue 15's
//! memory target), where float RGBA took four times that. The maths still runs in `f32`;
//! only storage rounds, to the precision the filled picture is written at anyway.

use rayon::prelude::*;

use crate::model::RgbaImage;
use crate::model::pixels::{Premul, to_u8};

/// One stored pixel: premultiplied RGBA, 0..=255 for 0..=1.
pub(crate) type Px = [u8; 4];

/// 1/255.
pub(crate) const INV: f32 = 1.0 / 255.0;

/// Largest texture feature value (a mean absolute luminance gradient by central
/// differences, so at most half the luminance range).
const TEX_MAX: f32 = 0.5;

/// A stored pixel as premultiplied floats in `0..=1`.
#[inline]
pub(crate) fn load(p: Px) -> Premul {
    [
        f32::from(p[0]) * INV,
        f32::from(p[1]) * INV,
        f32::from(p[2]) * INV,
        f32::from(p[3]) * INV,
    ]
}

/// A premultiplied float colour, clamped to a valid one and rounded to bytes. Rounding keeps
/// colour ≤ alpha because it is monotonic.
#[inline]
pub(crate) fn store(v: Premul) -> Px {
    let a = v[3].clamp(0.0, 1.0);
    // `x + 0.5` truncated is round-to-nearest for these non-negative values, without the
    // library call `f32::round` compiles to here (a few per cent of a whole fill).
    let byte = |c: f32| (c * 255.0 + 0.5) as u8;
    [
        byte(v[0].clamp(0.0, a)),
        byte(v[1].clamp(0.0, a)),
        byte(v[2].clamp(0.0, a)),
        byte(a),
    ]
}

/// A texture feature in `0..=TEX_MAX` as a byte, on a square-root scale: features of real
/// textures are small (a few hundredths), and the root spends the byte's steps there.
#[inline]
pub(crate) fn tex_code(f: f32) -> u8 {
    to_u8((f / TEX_MAX).max(0.0).sqrt())
}

/// Inverse of [`tex_code`].
#[inline]
pub(crate) fn tex_value(c: u8) -> f32 {
    TEX_VALUES[usize::from(c)]
}

/// [`tex_value`] of every byte, looked up in the patch distance's inner loop rather than
/// squared there.
pub(crate) static TEX_VALUES: [f32; 256] = tex_values();

const fn tex_values() -> [f32; 256] {
    let mut out = [0.0f32; 256];
    let mut c = 0;
    while c < 256 {
        let u = c as f32 / 255.0;
        out[c] = u * u * TEX_MAX;
        c += 1;
    }
    out
}

/// Premultiplied RGBA bytes, row-major.
///
/// Premultiplied so that averaging (pyramids, patch voting, Telea's weighted sums) treats
/// transparent pixels correctly: a transparent neighbour contributes transparency, not its
/// meaningless colour.
#[derive(Clone, Debug)]
pub(crate) struct Canvas {
    pub width: usize,
    pub height: usize,
    pub px: Vec<Px>,
    /// Texture features per pixel (see `texture`, coded by [`tex_code`]), or empty where the
    /// distance ignores texture (Telea's fill, the features' own canvas).
    pub tex: Vec<[u8; 2]>,
}

impl Canvas {
    /// A `width`×`height` canvas whose pixel `i` is `f(i)` (premultiplied floats).
    #[cfg(test)]
    pub fn from_fn(width: usize, height: usize, f: impl Fn(usize) -> Premul) -> Self {
        Self {
            width,
            height,
            px: (0..width * height).map(|i| store(f(i))).collect(),
            tex: Vec::new(),
        }
    }

    /// A 0×0 canvas: what moving a canvas out of a pyramid's rung leaves there.
    pub fn empty() -> Self {
        Self {
            width: 0,
            height: 0,
            px: Vec::new(),
            tex: Vec::new(),
        }
    }

    /// Copies the `width`×`height` window at (`x0`, `y0`) of `image`, premultiplying.
    pub fn from_window(image: &RgbaImage, x0: u32, y0: u32, width: u32, height: u32) -> Self {
        let (w, iw) = (width as usize, image.width() as usize);
        let raw = image.as_raw();
        let mut px = vec![[0u8; 4]; w * height as usize];
        px.par_chunks_mut(w.max(1))
            .enumerate()
            .for_each(|(row, out)| {
                let start = ((y0 as usize + row) * iw + x0 as usize) * 4;
                for (o, p) in out
                    .iter_mut()
                    .zip(raw[start..start + w * 4].chunks_exact(4))
                {
                    *o = premultiply8([p[0], p[1], p[2], p[3]]);
                }
            });
        Self {
            width: width as usize,
            height: height as usize,
            px,
            tex: Vec::new(),
        }
    }

    /// Pixel `i` as premultiplied floats.
    #[inline]
    pub fn get(&self, i: usize) -> Premul {
        load(self.px[i])
    }

    /// Sets pixel `i` from premultiplied floats (clamped to a valid colour).
    #[inline]
    pub fn set(&mut self, i: usize, v: Premul) {
        self.px[i] = store(v);
    }

    /// The texture features of pixel `i`.
    #[inline]
    pub fn tex_at(&self, i: usize) -> [f32; 2] {
        let t = self.tex[i];
        [tex_value(t[0]), tex_value(t[1])]
    }

    /// The `width`×`height` window at (`x0`, `y0`), pixels only.
    pub fn window(&self, at: (usize, usize), (width, height): (usize, usize)) -> Canvas {
        Canvas {
            width,
            height,
            px: super::masks::rows_window(&self.px, self.width, at, (width, height)),
            tex: Vec::new(),
        }
    }

    /// Half the size in each direction (rounded up), averaging 2×2 blocks. Hole pixels do not
    /// contribute to the average when a block has any known pixel, so colours from inside the
    /// hole (still garbage at this point) never leak into the known part of a coarser level.
    pub fn downsample(&self, hole: &Mask) -> Canvas {
        let width = self.width.div_ceil(2);
        let height = self.height.div_ceil(2);
        let mut px = vec![[0u8; 4]; width * height];
        px.par_chunks_mut(width).enumerate().for_each(|(y, row)| {
            for (x, out) in row.iter_mut().enumerate() {
                let mut known = [0.0f32; 4];
                let mut any = [0.0f32; 4];
                let (mut n_known, mut n_any) = (0.0f32, 0.0f32);
                for (sx, sy) in block(x, y, self.width, self.height) {
                    let i = sy * self.width + sx;
                    let v = self.get(i);
                    add(&mut any, v, 1.0);
                    n_any += 1.0;
                    if !hole.bits[i] {
                        add(&mut known, v, 1.0);
                        n_known += 1.0;
                    }
                }
                *out = store(if n_known > 0.0 {
                    scale(known, 1.0 / n_known)
                } else {
                    scale(any, 1.0 / n_any)
                });
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
    fn downsample_texture(&self, width: usize, height: usize) -> Vec<[u8; 2]> {
        if self.tex.is_empty() {
            return Vec::new();
        }
        (0..width * height)
            .map(|i| {
                let (x, y) = (i % width, i / width);
                let mut sum = [0.0f32; 2];
                let mut n = 0.0f32;
                for (sx, sy) in block(x, y, self.width, self.height) {
                    let t = self.tex_at(sy * self.width + sx);
                    sum = [sum[0] + t[0], sum[1] + t[1]];
                    n += 1.0;
                }
                [tex_code(sum[0] / n), tex_code(sum[1] / n)]
            })
            .collect()
    }

    /// Mean of the (2`r`+1)² window around every pixel, clipped at the edges: the patch means
    /// that bias-corrected matching compares (read them with [`load`]).
    #[cfg(test)]
    pub fn box_mean(&self, r: usize) -> Vec<Px> {
        let mut out = vec![[0u8; 4]; self.px.len()];
        self.box_mean_into(r, &mut out);
        out
    }

    /// [`Canvas::box_mean`] into `out` (as long as the canvas), reusing its memory.
    pub fn box_mean_into(&self, r: usize, out: &mut [Px]) {
        box_filter(self.width, self.height, r, |i| self.get(i), out, store);
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
                add(&mut v, coarse.get(y0 * cw + x0), (1.0 - tx) * (1.0 - ty));
                add(&mut v, coarse.get(y0 * cw + x1), tx * (1.0 - ty));
                add(&mut v, coarse.get(y1 * cw + x0), (1.0 - tx) * ty);
                add(&mut v, coarse.get(y1 * cw + x1), tx * ty);
                *out = store(v);
            }
        });
    }
}

/// An 8-bit straight pixel premultiplied in bytes, rounding to nearest.
#[inline]
fn premultiply8(p: [u8; 4]) -> Px {
    let a = u32::from(p[3]);
    let m = |c: u8| ((u32::from(c) * a + 127) / 255) as u8;
    [m(p[0]), m(p[1]), m(p[2]), p[3]]
}

/// Rows per band of [`box_filter`]: fixed, so results never depend on the thread count.
const BOX_BAND: usize = 64;

/// Mean of the (2`r`+1)² window (clipped at the edges) of the `N`-channel signal `sample`
/// over a `w`×`h` grid, written through `pack` into `out`. Bands of rows run in parallel,
/// each keeping one row of running column sums, so no picture-sized float buffer is ever
/// held (the horizontal sums of a row are recomputed when it leaves the window instead).
pub(crate) fn box_filter<const N: usize, T: Send>(
    w: usize,
    h: usize,
    r: usize,
    sample: impl Fn(usize) -> [f32; N] + Sync,
    out: &mut [T],
    pack: impl Fn([f32; N]) -> T + Sync,
) {
    if w == 0 || h == 0 {
        return;
    }
    out.par_chunks_mut(BOX_BAND * w)
        .enumerate()
        .for_each(|(band, out)| {
            let y0 = band * BOX_BAND;
            let y1 = (y0 + BOX_BAND).min(h);
            let mut acc = vec![[0.0f32; N]; w];
            let mut row = vec![[0.0f32; N]; w];
            let mut accumulate = |y: usize, sign: f32, acc: &mut [[f32; N]]| {
                window_sums(|x| sample(y * w + x), &mut row, r);
                for (a, v) in acc.iter_mut().zip(&row) {
                    for c in 0..N {
                        a[c] += sign * v[c];
                    }
                }
            };
            for y in y0.saturating_sub(r)..(y0 + r + 1).min(h) {
                accumulate(y, 1.0, &mut acc);
            }
            for y in y0..y1 {
                if y > y0 {
                    if y + r < h {
                        accumulate(y + r, 1.0, &mut acc);
                    }
                    if y > r {
                        accumulate(y - r - 1, -1.0, &mut acc);
                    }
                }
                let ny = (y + r + 1).min(h) - y.saturating_sub(r);
                for (x, (o, a)) in out[(y - y0) * w..(y - y0 + 1) * w]
                    .iter_mut()
                    .zip(&acc)
                    .enumerate()
                {
                    let nx = (x + r + 1).min(w) - x.saturating_sub(r);
                    let inv = 1.0 / (nx * ny) as f32;
                    *o = pack(a.map(|v| v * inv));
                }
            }
        });
}

/// `out[i]` = sum of `src(i−r..=i+r)` (clipped), by a running sum.
fn window_sums<const N: usize>(src: impl Fn(usize) -> [f32; N], out: &mut [[f32; N]], r: usize) {
    let n = out.len();
    let mut acc = [0.0f32; N];
    let add_n = |acc: &mut [f32; N], v: [f32; N], s: f32| {
        for c in 0..N {
            acc[c] += s * v[c];
        }
    };
    for i in 0..r.min(n) {
        add_n(&mut acc, src(i), 1.0);
    }
    for (i, o) in out.iter_mut().enumerate() {
        if i + r < n {
            add_n(&mut acc, src(i + r), 1.0);
        }
        if i > r {
            add_n(&mut acc, src(i - r - 1), -1.0);
        }
        *o = acc;
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

    /// The smallest rectangle holding every set pixel, grown by `margin` (clipped), as
    /// ((x0, y0), (width, height)); `None` when no pixel is set.
    pub fn bounds(&self, margin: usize) -> Option<((usize, usize), (usize, usize))> {
        let (w, h) = (self.width, self.height);
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        for (i, _) in self.bits.iter().enumerate().filter(|(_, b)| **b) {
            let (x, y) = (i % w, i / w);
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
        if x0 == usize::MAX {
            return None;
        }
        let (x0, y0) = (x0.saturating_sub(margin), y0.saturating_sub(margin));
        let (x1, y1) = ((x1 + margin + 1).min(w), (y1 + margin + 1).min(h));
        Some(((x0, y0), (x1 - x0, y1 - y0)))
    }

    /// The `width`×`height` window at (`x0`, `y0`).
    pub fn window(&self, at: (usize, usize), size: (usize, usize)) -> Mask {
        super::masks::window(&self.bits, self.width, at, size)
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
        let (w, h) = (9usize, 70usize);
        let value = |i: usize| [(i % 17) as f32 / 17.0, (i % 5) as f32 / 5.0, 1.0, 1.0];
        let c = Canvas::from_fn(w, h, value);
        let m = c.box_mean(2);
        for y in 0..h {
            for x in 0..w {
                let mut sum = [0.0f32; 4];
                let mut n = 0.0;
                for yy in y.saturating_sub(2)..(y + 3).min(h) {
                    for xx in x.saturating_sub(2)..(x + 3).min(w) {
                        add(&mut sum, c.get(yy * w + xx), 1.0);
                        n += 1.0;
                    }
                }
                let mean = load(m[y * w + x]);
                for ch in 0..4 {
                    // Stored as bytes: within half a step of the exact mean.
                    assert!((mean[ch] - sum[ch] / n).abs() <= 0.5 / 255.0 + 1e-4);
                }
            }
        }
    }

    #[test]
    fn storage_rounds_to_the_nearest_byte_and_keeps_colour_within_alpha() {
        assert_eq!(store([0.5, 0.25, 0.0, 0.5]), [128, 64, 0, 128]);
        assert_eq!(store([0.9, 0.2, 0.1, 0.5]), [128, 51, 26, 128]);
        for c in [0u8, 1, 7, 40, 128, 255] {
            assert!(tex_code(tex_value(c)) == c, "{c}");
        }
        assert_eq!(premultiply8([255, 100, 0, 255]), [255, 100, 0, 255]);
        assert_eq!(premultiply8([255, 100, 0, 128]), [128, 50, 0, 128]);
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
        assert_eq!(m.bounds(1), Some(((1, 1), (2, 2))));
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
