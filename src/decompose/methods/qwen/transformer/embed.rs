//! `QwenTimestepProjEmbeddings`: the sinusoidal timestep features, their MLP, and the layered
//! model's 2-row `addition_t_embedding`.

use candle_core::{D, DType, Result, Tensor, bail};
use candle_nn::{Embedding, Linear, Module, VarBuilder};

/// `Timesteps(num_channels=256, ...)`: the sinusoid width.
const FREQ_CHANNELS: usize = 256;
/// `Timesteps(..., scale=1000)`: the pipeline passes `t / 1000`, this undoes it.
const TIME_SCALE: f32 = 1000.0;
const MAX_PERIOD: f64 = 10000.0;

/// Timestep (plus optional RGB/layer flag) → the conditioning vector `temb`, `[batch, dim]`.
#[derive(Debug, Clone)]
pub(super) struct TimestepEmbedding {
    linear_1: Linear,
    linear_2: Linear,
    /// `addition_t_embedding`, `nn.Embedding(2, dim)`, when `use_additional_t_cond`.
    addition: Option<Embedding>,
}

impl TimestepEmbedding {
    /// `vb` at `time_text_embed`.
    pub fn new(dim: usize, use_additional_t_cond: bool, vb: VarBuilder) -> Result<Self> {
        let te = vb.pp("timestep_embedder");
        Ok(Self {
            linear_1: candle_nn::linear(FREQ_CHANNELS, dim, te.pp("linear_1"))?,
            linear_2: candle_nn::linear(dim, dim, te.pp("linear_2"))?,
            addition: if use_additional_t_cond {
                Some(candle_nn::embedding(2, dim, vb.pp("addition_t_embedding"))?)
            } else {
                None
            },
        })
    }

    /// `timestep`: `[batch]`, `t / 1000`; `additional_t_cond`: `[batch]` integer 0/1 (the
    /// pipeline's `is_rgb`, 0 for layered decomposition). Returns `[batch, dim]` in `dtype`.
    pub fn forward(
        &self,
        timestep: &Tensor,
        additional_t_cond: Option<&Tensor>,
        dtype: DType,
    ) -> Result<Tensor> {
        let device = timestep.device();
        // diffusers casts the timestep to the model dtype before anything else, so a BF16 model
        // sees a BF16-rounded timestep.
        let t = timestep.to_dtype(dtype)?.to_dtype(DType::F32)?;
        let half = FREQ_CHANNELS / 2;
        // embeddings.get_timestep_embedding: exp(-ln(max_period) * i / half) in f32
        // (downscale_freq_shift = 0). Unlike the unused copy in transformer_qwenimage.py, this one
        // keeps the frequencies in f32 whatever the model dtype.
        let neg_log = -(MAX_PERIOD.ln()) as f32;
        let freqs: Vec<f32> = (0..half)
            .map(|i| (f64::from(neg_log * i as f32 / half as f32)).exp() as f32)
            .collect();
        let freqs = Tensor::from_vec(freqs, (1, half), device)?;
        // `scale * (t * freq)`, in that order, like diffusers.
        let args = (t.unsqueeze(1)?.broadcast_mul(&freqs)? * f64::from(TIME_SCALE))?;
        // flip_sin_to_cos: [cos, sin].
        let proj = Tensor::cat(&[args.cos()?, args.sin()?], D::Minus1)?.to_dtype(dtype)?;
        let h = self.linear_1.forward(&proj)?;
        let h = silu_f32(&h)?;
        let mut temb = self.linear_2.forward(&h)?;
        if let Some(table) = &self.addition {
            let Some(cond) = additional_t_cond else {
                bail!("use_additional_t_cond is set: additional_t_cond (is_rgb) must be given");
            };
            temb = (temb + table.forward(cond)?.to_dtype(dtype)?)?;
        }
        Ok(temb)
    }
}

/// SiLU evaluated in f32 and rounded once to the input dtype (torch does the same for BF16).
pub(super) fn silu_f32(x: &Tensor) -> Result<Tensor> {
    x.to_dtype(DType::F32)?.silu()?.to_dtype(x.dtype())
}
