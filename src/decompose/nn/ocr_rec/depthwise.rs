//! The recogniser's depthwise layers: the shared depthwise convolution
//! ([`crate::decompose::nn::depthwise`]) on candle tensors, with the backbone's hard-swish
//! and scalar affine fused into the pass.

use candle::{Result, Tensor};
use candle_core as candle;
use candle_nn::VarBuilder;
use rayon::prelude::*;

use crate::decompose::nn::depthwise::{self, hard_swish};

/// A depthwise conv (one `k×k` filter per channel, zero padding `k/2`) with its bias,
/// followed by hard-swish and a scalar affine, fused into one pass.
#[derive(Debug, Clone)]
pub struct Depthwise {
    conv: depthwise::Depthwise,
    scale: f32,
    shift: f32,
}

impl Depthwise {
    /// Reads `weight` (`C×1×k×k`) and `bias`; `scale`/`shift` are the activation's affine.
    pub fn new(
        channels: usize,
        kernel: usize,
        stride: (usize, usize),
        scale: f32,
        shift: f32,
        vb: VarBuilder,
    ) -> Result<Self> {
        Ok(Self {
            conv: depthwise::Depthwise::new(channels, kernel, stride, vb)?,
            scale,
            shift,
        })
    }

    /// `1×C×H×W` → `1×C×H'×W'` with `H' = (H − 1)/sh + 1` (and likewise for W).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (n, c, h, w) = x.dims4()?;
        if n != 1 {
            candle::bail!("depthwise conv: input {:?}, want 1×C×H×W", x.dims());
        }
        let input = x.flatten_all()?.to_vec1::<f32>()?;
        let (out, (oh, ow)) = self
            .conv
            .run(&input, (h, w), |v| hard_swish(v) * self.scale + self.shift)?;
        Tensor::from_vec(out, (1, c, oh, ow), x.device())
    }
}

/// Hard-swish then `scale·y + shift` over a whole tensor.
pub fn hard_swish_affine(x: Tensor, scale: f32, shift: f32) -> Result<Tensor> {
    let shape = x.shape().clone();
    let mut v = x.flatten_all()?.to_vec1::<f32>()?;
    v.par_iter_mut()
        .for_each(|v| *v = hard_swish(*v) * scale + shift);
    Tensor::from_vec(v, shape, x.device())
}
