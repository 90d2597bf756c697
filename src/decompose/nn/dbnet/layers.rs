//! CPU building blocks of the detector: full convolutions (im2col + candle's `matmul`),
//! depthwise convolutions (a direct loop), squeeze-and-excitation, the 2×2 transposed
//! convolution of the head, and nearest upsampling.
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

/// Most bytes of one im2col tile (a few MB keeps GEMM efficient and memory reused).
const TILE_BYTES: usize = 4 << 20;

/// A single-image feature map, `c × h × w`, planar (NCHW with N = 1).
#[derive(Clone, Debug)]
pub struct Fmap {
    pub c: usize,
    pub h: usize,
    pub w: usize,
    /// `c` planes of `h · w` values, row by row.
    pub data: Vec<f32>,
}

impl Fmap {
    /// A map of zeros.
    pub fn zeros(c: usize, h: usize, w: usize) -> Self {
        Self {
            c,
            h,
            w,
            data: vec![0.0; c * h * w],
        }
    }

    /// Pixels per plane.
    pub fn hw(&self) -> usize {
        self.h * self.w
    }
}

/// The activation applied as a layer's output is written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Act {
    /// None.
    Linear,
    /// `max(x, 0)`.
    Relu,
    /// PPLCNetV3's `Act`: hard-swish `x · clamp(x + 3, 0, 6) / 6`, then the learnable scalar
    /// affine `scale · y + bias`.
    HardSwish { scale: f32, bias: f32 },
}

impl Act {
    /// Loads the hard-swish affine stored as `act.scale` / `act.bias` under `vb`.
    pub fn hard_swish(vb: &VarBuilder) -> Result<Self> {
        let scalar = |name: &str| -> Result<f32> {
            let v = vb.get(1, name)?.to_vec1::<f32>()?;
            Ok(v[0])
        };
        Ok(Act::HardSwish {
            scale: scalar("act.scale")?,
            bias: scalar("act.bias")?,
        })
    }

    #[inline]
    fn apply(self, v: f32) -> f32 {
        match self {
            Act::Linear => v,
            Act::Relu => v.max(0.0),
            // Same operation order as the ONNX graph: (x · clip(x + 3)) / 6.
            Act::HardSwish { scale, bias } => scale * (v * (v + 3.0).clamp(0.0, 6.0) / 6.0) + bias,
        }
    }
}

/// Output size of a `kernel`-wide window with padding `kernel / 2`.
fn out_len(len: usize, kernel: usize, stride: usize) -> usize {
    (len + 2 * (kernel / 2) - kernel) / stride + 1
}

/// `weight · data` for a `m × k` weight tensor and a `k × n` row-major matrix.
fn gemm(weight: &Tensor, data: Vec<f32>, k: usize, n: usize) -> Result<Vec<f32>> {
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

/// A depthwise convolution (one `k × k` filter per channel), padding `k / 2`, stride 1 or 2.
#[derive(Debug, Clone)]
pub struct Depthwise {
    weight: Vec<f32>,
    bias: Vec<f32>,
    channels: usize,
    kernel: usize,
    stride: usize,
}

impl Depthwise {
    /// Loads `weight` (`channels × 1 × k × k`) and `bias` (`channels`).
    pub fn new(channels: usize, kernel: usize, stride: usize, vb: VarBuilder) -> Result<Self> {
        let weight = vb
            .get((channels, 1, kernel, kernel), "weight")?
            .flatten_all()?
            .to_vec1::<f32>()?;
        let bias = vb.get(channels, "bias")?.to_vec1::<f32>()?;
        Ok(Self {
            weight,
            bias,
            channels,
            kernel,
            stride,
        })
    }

    /// Convolves each channel of `x` with its filter, adds the bias and applies `act`.
    pub fn forward(&self, x: &Fmap, act: Act) -> Result<Fmap> {
        if x.c != self.channels {
            candle::bail!(
                "depthwise conv expects {} channels, got {}",
                self.channels,
                x.c
            );
        }
        let (k, s) = (self.kernel, self.stride);
        let pad = k / 2;
        let (oh, ow) = (out_len(x.h, k, s), out_len(x.w, k, s));
        let mut out = Fmap::zeros(x.c, oh, ow);
        let ranges: Vec<_> = (0..k).map(|kx| valid_range(x.w, ow, kx, pad, s)).collect();
        out.data
            .par_chunks_mut(oh * ow)
            .zip(x.data.par_chunks(x.hw()))
            .enumerate()
            .for_each(|(c, (dst, src))| {
                let filter = &self.weight[c * k * k..][..k * k];
                let mut row = vec![0f32; ow];
                for oy in 0..oh {
                    row.fill(self.bias[c]);
                    for ky in 0..k {
                        let Some(iy) = (oy * s + ky).checked_sub(pad) else {
                            continue;
                        };
                        if iy >= x.h {
                            continue;
                        }
                        let line = &src[iy * x.w..][..x.w];
                        for (kx, &(lo, hi)) in ranges.iter().enumerate() {
                            if lo >= hi {
                                continue;
                            }
                            let wv = filter[ky * k + kx];
                            let first = lo * s + kx - pad;
                            let acc = &mut row[lo..hi];
                            if s == 1 {
                                for (a, &v) in acc.iter_mut().zip(&line[first..]) {
                                    *a += wv * v;
                                }
                            } else {
                                for (i, a) in acc.iter_mut().enumerate() {
                                    *a += wv * line[first + i * s];
                                }
                            }
                        }
                    }
                    for (d, &v) in dst[oy * ow..][..ow].iter_mut().zip(&row) {
                        *d = act.apply(v);
                    }
                }
            });
        Ok(out)
    }
}

/// Squeeze-and-excitation: per-channel gains `hardsigmoid(W₂ relu(W₁ mean(x) + b₁) + b₂)`.
#[derive(Debug, Clone)]
pub struct Se {
    w1: Vec<f32>,
    b1: Vec<f32>,
    w2: Vec<f32>,
    b2: Vec<f32>,
    channels: usize,
    reduced: usize,
    /// Hard-sigmoid slope: `clamp(slope · x + 0.5, 0, 1)`.
    slope: f32,
}

impl Se {
    /// Loads `conv1` (`channels/4 × channels`) and `conv2` (`channels × channels/4`).
    pub fn new(channels: usize, slope: f32, vb: VarBuilder) -> Result<Self> {
        let reduced = channels / 4;
        let get = |name: &str, shape: (usize, usize, usize, usize)| -> Result<Vec<f32>> {
            vb.get(shape, name)?.flatten_all()?.to_vec1::<f32>()
        };
        Ok(Self {
            w1: get("conv1.weight", (reduced, channels, 1, 1))?,
            b1: vb.get(reduced, "conv1.bias")?.to_vec1::<f32>()?,
            w2: get("conv2.weight", (channels, reduced, 1, 1))?,
            b2: vb.get(channels, "conv2.bias")?.to_vec1::<f32>()?,
            channels,
            reduced,
            slope,
        })
    }

    /// Multiplies each channel of `x` by its gain; with `residual`, by `1 + gain`
    /// (RSEFPN's `x + x · se(x)`).
    pub fn apply(&self, x: &mut Fmap, residual: bool) -> Result<()> {
        if x.c != self.channels {
            candle::bail!("SE expects {} channels, got {}", self.channels, x.c);
        }
        let hw = x.hw();
        let means: Vec<f32> = x
            .data
            .par_chunks(hw)
            .map(|p| (p.iter().map(|&v| f64::from(v)).sum::<f64>() / hw as f64) as f32)
            .collect();
        let hidden: Vec<f32> = (0..self.reduced)
            .map(|r| {
                let w = &self.w1[r * self.channels..][..self.channels];
                let v: f32 = w.iter().zip(&means).map(|(a, b)| a * b).sum();
                (v + self.b1[r]).max(0.0)
            })
            .collect();
        x.data
            .par_chunks_mut(hw)
            .enumerate()
            .for_each(|(c, plane)| {
                let w = &self.w2[c * self.reduced..][..self.reduced];
                let v: f32 = w.iter().zip(&hidden).map(|(a, b)| a * b).sum::<f32>() + self.b2[c];
                let gain = (self.slope * v + 0.5).clamp(0.0, 1.0);
                if residual {
                    // x + x·g, in the graph's order (the product is rounded first).
                    plane.iter_mut().for_each(|p| *p += *p * gain);
                } else {
                    plane.iter_mut().for_each(|p| *p *= gain);
                }
            });
        Ok(())
    }
}

/// A transposed convolution with a 2×2 kernel and stride 2: each input pixel becomes a 2×2
/// block. Kept as a `(C_out·4) × C_in` matrix, one row per output channel and tap.
#[derive(Debug, Clone)]
pub struct ConvT2 {
    weight: Tensor,
    bias: Vec<f32>,
    c_in: usize,
    c_out: usize,
}

impl ConvT2 {
    /// Loads `weight` (`c_in × c_out × 2 × 2`, ONNX/Paddle layout) and `bias` (`c_out`).
    pub fn new(c_in: usize, c_out: usize, vb: VarBuilder) -> Result<Self> {
        let weight = vb
            .get((c_in, c_out, 2, 2), "weight")?
            .permute((1, 2, 3, 0))?
            .contiguous()?
            .reshape((c_out * 4, c_in))?;
        let bias = vb.get(c_out, "bias")?.to_vec1::<f32>()?;
        Ok(Self {
            weight,
            bias,
            c_in,
            c_out,
        })
    }

    /// Upsamples `x` ×2, adds the bias and applies `act`.
    pub fn forward(&self, x: &Fmap, act: Act) -> Result<Fmap> {
        if x.c != self.c_in {
            candle::bail!(
                "transposed conv expects {} channels, got {}",
                self.c_in,
                x.c
            );
        }
        let (h, w) = (x.h, x.w);
        let res = gemm(&self.weight, x.data.clone(), self.c_in, h * w)?;
        let mut out = Fmap::zeros(self.c_out, 2 * h, 2 * w);
        out.data
            .par_chunks_mut(4 * h * w)
            .zip(res.par_chunks(4 * h * w))
            .zip(&self.bias)
            .for_each(|((dst, taps), &b)| {
                for (tap, src) in taps.chunks_exact(h * w).enumerate() {
                    let (dy, dx) = (tap / 2, tap % 2);
                    for y in 0..h {
                        let row = &mut dst[(2 * y + dy) * 2 * w..][..2 * w];
                        for (x, &v) in src[y * w..][..w].iter().enumerate() {
                            row[2 * x + dx] = act.apply(v + b);
                        }
                    }
                }
            });
        Ok(out)
    }
}

/// Adds `small`, upsampled by `factor` with nearest-neighbour, into the planes of `big`
/// starting at channel `first`. With `replace`, writes instead of adding.
pub fn add_upsampled(big: &mut Fmap, first: usize, small: &Fmap, factor: usize, replace: bool) {
    let (h, w) = (big.h, big.w);
    let hw = big.hw();
    big.data[first * hw..][..small.c * hw]
        .par_chunks_mut(hw)
        .zip(small.data.par_chunks(small.hw()))
        .for_each(|(dst, src)| {
            for y in 0..h {
                let s_row = &src[(y / factor) * small.w..][..small.w];
                for (x, d) in dst[y * w..][..w].iter_mut().enumerate() {
                    let v = s_row[x / factor];
                    *d = if replace { v } else { *d + v };
                }
            }
        });
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
