//! The detector's convolutions on the CPU: dense ones as im2col + candle's `matmul`,
//! depthwise ones as a direct loop (the one in [`crate::decompose::nn::depthwise`]).
//!
//! Why not `candle_nn::Conv2d`: candle 0.11's CPU conv runs a grouped convolution as one
//! convolution per group, which for PPLCNetV3's depthwise layers (up to 384 groups) costs far
//! more than the arithmetic; and its dense conv transposes to NHWC and runs small GEMM tiles
//! (see `nn::u2net`'s conv). A depthwise 3×3 or 5×5 kernel is a handful of multiply-adds per
//! output, which a plain loop over contiguous rows does at memory speed. The dense layers
//! still run on candle's GEMM.

use candle::{Device, Result, Tensor};
use candle_core as candle;
use candle_nn::VarBuilder;
use rayon::prelude::*;

use super::layers::{Act, Fmap};
use crate::decompose::nn::depthwise;

/// Most bytes of one im2col tile (a few MB keeps GEMM efficient and memory reused).
const TILE_BYTES: usize = 4 << 20;

/// Output size of a `kernel`-wide window with padding `kernel / 2`.
fn out_len(len: usize, kernel: usize, stride: usize) -> usize {
    (len + 2 * (kernel / 2) - kernel) / stride + 1
}

/// `weight · data` for a `m × k` weight tensor and a `k × n` row-major matrix.
pub(super) fn gemm(weight: &Tensor, data: Vec<f32>, k: usize, n: usize) -> Result<Vec<f32>> {
    let cols = Tensor::from_vec(data, (k, n), &Device::Cpu)?;
    weight.matmul(&cols)?.flatten_all()?.to_vec1::<f32>()
}

/// A dense 2-D convolution (groups = 1) with square kernel, padding `kernel / 2` and
/// stride 1 or 2, kept as a `C_out × (C_in·k·k)` matrix.
#[derive(Debug, Clone)]
pub struct Conv {
    weight: Tensor,
    bias: Vec<f32>,
    c_in: usize,
    c_out: usize,
    kernel: usize,
    stride: usize,
}

impl Conv {
    /// Loads `weight` (`c_out × c_in × k × k`) and, when `bias` is set, `bias` (`c_out`).
    pub fn new(
        c_in: usize,
        c_out: usize,
        kernel: usize,
        stride: usize,
        bias: bool,
        vb: VarBuilder,
    ) -> Result<Self> {
        let weight = vb
            .get((c_out, c_in, kernel, kernel), "weight")?
            .reshape((c_out, c_in * kernel * kernel))?
            .contiguous()?;
        let bias = if bias {
            vb.get(c_out, "bias")?.to_vec1::<f32>()?
        } else {
            vec![0.0; c_out]
        };
        Ok(Self {
            weight,
            bias,
            c_in,
            c_out,
            kernel,
            stride,
        })
    }

    /// Convolves `x`, adds the bias and applies `act`.
    pub fn forward(&self, x: &Fmap, act: Act) -> Result<Fmap> {
        if x.c != self.c_in {
            candle::bail!("conv expects {} channels, got {}", self.c_in, x.c);
        }
        let (oh, ow) = (
            out_len(x.h, self.kernel, self.stride),
            out_len(x.w, self.kernel, self.stride),
        );
        let mut out = Fmap::zeros(self.c_out, oh, ow);
        let k_rows = self.c_in * self.kernel * self.kernel;
        // A 1×1 conv needs no im2col: the map itself is the matrix.
        let direct = self.kernel == 1 && self.stride == 1;
        let tile_rows = if direct {
            oh
        } else {
            (TILE_BYTES / (4 * k_rows * ow)).clamp(1, oh)
        };
        let mut y0 = 0;
        while y0 < oh {
            let rows = tile_rows.min(oh - y0);
            let n_pix = rows * ow;
            let cols = if direct {
                x.data.clone()
            } else {
                self.im2col(x, ow, y0, rows)
            };
            let res = gemm(&self.weight, cols, k_rows, n_pix)?;
            out.data
                .par_chunks_mut(oh * ow)
                .zip(res.par_chunks(n_pix))
                .zip(&self.bias)
                .for_each(|((plane, src), &b)| {
                    let dst = &mut plane[y0 * ow..y0 * ow + n_pix];
                    for (d, &s) in dst.iter_mut().zip(src) {
                        *d = act.apply(s + b);
                    }
                });
            y0 += rows;
        }
        Ok(out)
    }

    /// The im2col matrix of output rows `y0..y0 + rows`: row `(c·k + ky)·k + kx` holds input
    /// channel `c` at tap `(ky, kx)` for each output pixel, zero outside the picture.
    fn im2col(&self, x: &Fmap, ow: usize, y0: usize, rows: usize) -> Vec<f32> {
        let (k, s) = (self.kernel, self.stride);
        let pad = k / 2;
        let n_pix = rows * ow;
        let mut cols = vec![0f32; self.c_in * k * k * n_pix];
        cols.par_chunks_mut(k * k * n_pix)
            .zip(x.data.par_chunks(x.hw()))
            .for_each(|(chan_cols, plane)| {
                for (tap, col) in chan_cols.chunks_mut(n_pix).enumerate() {
                    let (ky, kx) = (tap / k, tap % k);
                    let (lo, hi) = valid_range(x.w, ow, kx, pad, s);
                    for r in 0..rows {
                        let Some(iy) = ((y0 + r) * s + ky).checked_sub(pad) else {
                            continue;
                        };
                        if iy >= x.h || lo >= hi {
                            continue;
                        }
                        let src = &plane[iy * x.w..][..x.w];
                        let dst = &mut col[r * ow..][..ow];
                        gather_row(&mut dst[lo..hi], src, lo * s + kx - pad, s);
                    }
                }
            });
        cols
    }
}

/// Output columns `lo..hi` whose input column `o·s + tap − pad` lies in `0..in_w`.
fn valid_range(in_w: usize, out_w: usize, tap: usize, pad: usize, s: usize) -> (usize, usize) {
    let lo = pad.saturating_sub(tap).div_ceil(s);
    // o·s + tap − pad ≤ in_w − 1  ⇔  o ≤ (in_w − 1 + pad − tap) / s
    let hi = ((in_w - 1 + pad).checked_sub(tap)).map_or(0, |m| (m / s + 1).min(out_w));
    (lo, hi.max(lo))
}

/// `dst[i] = src[first + i·stride]`.
#[inline]
fn gather_row(dst: &mut [f32], src: &[f32], first: usize, stride: usize) {
    if stride == 1 {
        dst.copy_from_slice(&src[first..first + dst.len()]);
    } else {
        for (i, d) in dst.iter_mut().enumerate() {
            *d = src[first + i * stride];
        }
    }
}

/// A depthwise convolution (one `k × k` filter per channel), padding `k / 2`, stride 1 or 2:
/// the shared [`depthwise::Depthwise`] on feature maps, with the layer's activation.
#[derive(Debug, Clone)]
pub struct Depthwise(depthwise::Depthwise);

impl Depthwise {
    /// Loads `weight` (`channels × 1 × k × k`) and `bias` (`channels`).
    pub fn new(channels: usize, kernel: usize, stride: usize, vb: VarBuilder) -> Result<Self> {
        depthwise::Depthwise::new(channels, kernel, (stride, stride), vb).map(Self)
    }

    /// Convolves each channel of `x` with its filter, adds the bias and applies `act`.
    pub fn forward(&self, x: &Fmap, act: Act) -> Result<Fmap> {
        let (data, (h, w)) = self.0.run(&x.data, (x.h, x.w), |v| act.apply(v))?;
        Ok(Fmap { c: x.c, h, w, data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_ranges_cover_the_in_picture_taps() {
        // Width 5, k = 3, pad 1, stride 1: tap 0 reads x − 1 (valid from output 1).
        assert_eq!(valid_range(5, 5, 0, 1, 1), (1, 5));
        assert_eq!(valid_range(5, 5, 1, 1, 1), (0, 5));
        assert_eq!(valid_range(5, 5, 2, 1, 1), (0, 4));
        // Width 6, k = 3, stride 2 → 3 outputs reading 2o − 1 + tap.
        assert_eq!(valid_range(6, 3, 0, 1, 2), (1, 3));
        assert_eq!(valid_range(6, 3, 2, 1, 2), (0, 3));
        // k = 5 on width 2: tap 4 reads o + 2, never inside.
        assert_eq!(valid_range(2, 2, 4, 2, 1), (0, 0));
    }
}
