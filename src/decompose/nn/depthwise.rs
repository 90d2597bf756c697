//! Depthwise convolution (one `k×k` filter per channel, zero padding `k/2`) written directly
//! for the CPU, and the hard-swish activation: shared by the text detector ([`super::dbnet`])
//! and the text recogniser ([`super::ocr_rec`]), whose PP-LCNet backbones are built of them.
//!
//! candle runs a grouped conv as one im2col + matmul per group, which for hundreds of
//! single-channel groups is hundreds of tiny products; it also takes one stride for both
//! axes, while PP-LCNetV3 downsamples with `(2, 1)` and `(1, 2)` strides. A depthwise conv
//! is a few multiply-adds per output, so a plain loop over rows is both simpler and faster.

use candle::Result;
use candle_core as candle;
use candle_nn::VarBuilder;
use rayon::prelude::*;

/// A depthwise conv with its bias; the activation is the caller's, fused into the pass.
#[derive(Debug, Clone)]
pub struct Depthwise {
    channels: usize,
    kernel: usize,
    /// `(rows, columns)`.
    stride: (usize, usize),
    /// `channels × k × k`, row-major.
    weight: Vec<f32>,
    bias: Vec<f32>,
}

impl Depthwise {
    /// Reads `weight` (`C×1×k×k`) and `bias` (`C`).
    pub fn new(
        channels: usize,
        kernel: usize,
        stride: (usize, usize),
        vb: VarBuilder,
    ) -> Result<Self> {
        let weight = vb
            .get((channels, 1, kernel, kernel), "weight")?
            .flatten_all()?
            .to_vec1::<f32>()?;
        let bias = vb.get(channels, "bias")?.to_vec1::<f32>()?;
        Ok(Self {
            channels,
            kernel,
            stride,
            weight,
            bias,
        })
    }

    /// Convolves `input` (`C` planes of `h×w`, row-major) and applies `act` to every output;
    /// returns the output planes and their `(height, width)`, `(h − 1)/s + 1` per axis.
    pub fn run(
        &self,
        input: &[f32],
        (h, w): (usize, usize),
        act: impl Fn(f32) -> f32 + Sync,
    ) -> Result<(Vec<f32>, (usize, usize))> {
        let c = self.channels;
        if input.len() != c * h * w {
            candle::bail!(
                "depthwise conv: {} values for {c} planes of {h}×{w}",
                input.len()
            );
        }
        let (k, pad) = (self.kernel, self.kernel / 2);
        let (sh, sw) = self.stride;
        let (oh, ow) = ((h + 2 * pad - k) / sh + 1, (w + 2 * pad - k) / sw + 1);
        let mut out = vec![0f32; c * oh * ow];
        out.par_chunks_mut(oh * ow)
            .zip(input.par_chunks(h * w))
            .enumerate()
            .for_each(|(ch, (plane_out, plane_in))| {
                let taps = &self.weight[ch * k * k..(ch + 1) * k * k];
                plane_out.fill(self.bias[ch]);
                for (oy, row_out) in plane_out.chunks_mut(ow).enumerate() {
                    for ky in 0..k {
                        // Input row oy·sh + ky − pad; rows outside the picture are zeros.
                        let Some(iy) = (oy * sh + ky).checked_sub(pad).filter(|&iy| iy < h) else {
                            continue;
                        };
                        let row_in = &plane_in[iy * w..(iy + 1) * w];
                        for kx in 0..k {
                            accumulate_row(row_out, row_in, taps[ky * k + kx], kx, pad, sw);
                        }
                    }
                }
                for v in plane_out.iter_mut() {
                    *v = act(*v);
                }
            });
        Ok((out, (oh, ow)))
    }
}

/// `out[ox] += tap · in[ox·sw + kx − pad]` for every `ox` whose input column exists.
#[inline]
fn accumulate_row(out: &mut [f32], input: &[f32], tap: f32, kx: usize, pad: usize, sw: usize) {
    let w = input.len();
    // First output column whose input column ox·sw + kx − pad is ≥ 0.
    let first = pad.saturating_sub(kx).div_ceil(sw);
    // One past the last one whose input column is < w.
    let end = (w + pad).saturating_sub(kx).div_ceil(sw).min(out.len());
    if first >= end {
        return;
    }
    let start_in = first * sw + kx - pad;
    if sw == 1 {
        // The common case: contiguous rows, which the compiler vectorises.
        let len = end - first;
        for (o, i) in out[first..end]
            .iter_mut()
            .zip(&input[start_in..start_in + len])
        {
            *o += tap * i;
        }
    } else {
        for (o, i) in out[first..end]
            .iter_mut()
            .zip(input[start_in..].iter().step_by(sw))
        {
            *o += tap * i;
        }
    }
}

/// `x · clip(x + 3, 0, 6) / 6`, in the order the ONNX graphs compute it.
#[inline]
pub fn hard_swish(x: f32) -> f32 {
    x * (x + 3.0).clamp(0.0, 6.0) / 6.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The row helper against a direct sum over taps, for both strides and every offset.
    #[test]
    fn accumulate_row_matches_direct_indexing() {
        let input: Vec<f32> = (0..11).map(|i| i as f32 + 1.0).collect();
        for (k, sw) in [(3, 1), (3, 2), (5, 1), (5, 2)] {
            let pad = k / 2;
            let ow = (input.len() + 2 * pad - k) / sw + 1;
            for kx in 0..k {
                let mut got = vec![0f32; ow];
                accumulate_row(&mut got, &input, 1.0, kx, pad, sw);
                for (ox, g) in got.iter().enumerate() {
                    let ix = (ox * sw + kx) as isize - pad as isize;
                    let want = if ix >= 0 && (ix as usize) < input.len() {
                        input[ix as usize]
                    } else {
                        0.0
                    };
                    assert_eq!(*g, want, "k {k} sw {sw} kx {kx} ox {ox}");
                }
            }
        }
    }
}
