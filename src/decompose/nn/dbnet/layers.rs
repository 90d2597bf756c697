//! The detector's feature maps and its other building blocks: activations,
//! squeeze-and-excitation, the head's 2×2 transposed convolution and nearest upsampling.
//! The convolutions are in `conv`.

use candle::{Result, Tensor};
use candle_core as candle;
use candle_nn::VarBuilder;
use rayon::prelude::*;

use super::conv::gemm;
use crate::decompose::nn::depthwise::hard_swish;

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
    pub(super) fn apply(self, v: f32) -> f32 {
        match self {
            Act::Linear => v,
            Act::Relu => v.max(0.0),
            // Same operation order as the ONNX graph: (x · clip(x + 3)) / 6.
            Act::HardSwish { scale, bias } => scale * hard_swish(v) + bias,
        }
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
