//! `QwenImageTransformerBlock`: one double-stream (MMDiT) block. Image and text keep separate
//! weights (modulation, projections, MLP) but attend jointly over `[text, image]`.

use candle_core::{D, DType, Result, Tensor};
use candle_nn::{Linear, Module, VarBuilder};

use super::rope::{self, RopeTables};

/// diffusers' `eps=1e-6` for the block's LayerNorms and the q/k RMSNorms.
const EPS: f64 = 1e-6;

/// Upper bound on attention scores held at once (f32 elements, 512 MiB): queries are processed
/// in row chunks so that a 640² four-layer image (≈10k tokens × 24 heads) does not need the
/// full 9 GB score matrix. Chunking rows does not change the result.
const SCORE_BUDGET: usize = 1 << 27;

/// diffusers' `RMSNorm` with a weight: statistics in f32, normalised value cast to the weight's
/// dtype, then scaled.
#[derive(Debug, Clone)]
pub(super) struct RmsNorm {
    weight: Tensor,
    eps: f64,
}

impl RmsNorm {
    pub fn new(dim: usize, eps: f64, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            weight: vb.get(dim, "weight")?,
            eps,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let xf = x.to_dtype(DType::F32)?;
        let rstd = (xf.sqr()?.mean_keepdim(D::Minus1)? + self.eps)?
            .sqrt()?
            .recip()?;
        xf.broadcast_mul(&rstd)?
            .to_dtype(self.weight.dtype())?
            .broadcast_mul(&self.weight)
    }
}

/// `nn.LayerNorm(dim, elementwise_affine=False)`: mean and variance in f32.
pub(super) fn layer_norm(x: &Tensor, eps: f64) -> Result<Tensor> {
    let xf = x.to_dtype(DType::F32)?;
    let centred = xf.broadcast_sub(&xf.mean_keepdim(D::Minus1)?)?;
    let rstd = (centred.sqr()?.mean_keepdim(D::Minus1)? + eps)?
        .sqrt()?
        .recip()?;
    centred.broadcast_mul(&rstd)?.to_dtype(x.dtype())
}

/// `x * (1 + scale) + shift` with `scale`, `shift` of shape `[batch, dim]` (one per item).
pub(super) fn modulate(x: &Tensor, shift: &Tensor, scale: &Tensor) -> Result<Tensor> {
    x.broadcast_mul(&(scale.unsqueeze(1)? + 1.0)?)?
        .broadcast_add(&shift.unsqueeze(1)?)
}

/// `FeedForward(dim, activation_fn="gelu-approximate")`: `net.0.proj` (4× wider), tanh GELU,
/// `net.2`.
#[derive(Debug, Clone)]
struct FeedForward {
    proj_in: Linear,
    proj_out: Linear,
}

impl FeedForward {
    fn new(dim: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            proj_in: candle_nn::linear(dim, 4 * dim, vb.pp("net.0.proj"))?,
            proj_out: candle_nn::linear(4 * dim, dim, vb.pp("net.2"))?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.proj_in.forward(x)?;
        // candle's BF16 GELU evaluates the tanh formula in BF16 steps; torch does it in f32.
        let h = if h.dtype() == DType::F32 {
            h.gelu()?
        } else {
            h.to_dtype(DType::F32)?.gelu()?.to_dtype(h.dtype())?
        };
        self.proj_out.forward(&h)
    }
}

/// The block's `attn` (`Attention` with `QwenDoubleStreamAttnProcessor2_0`).
#[derive(Debug, Clone)]
struct JointAttention {
    to_q: Linear,
    to_k: Linear,
    to_v: Linear,
    add_q_proj: Linear,
    add_k_proj: Linear,
    add_v_proj: Linear,
    to_out: Linear,
    to_add_out: Linear,
    norm_q: RmsNorm,
    norm_k: RmsNorm,
    norm_added_q: RmsNorm,
    norm_added_k: RmsNorm,
    heads: usize,
    head_dim: usize,
}

impl JointAttention {
    fn new(dim: usize, heads: usize, head_dim: usize, vb: VarBuilder) -> Result<Self> {
        let inner = heads * head_dim;
        let lin = |i: usize, o: usize, name: &str| candle_nn::linear(i, o, vb.pp(name));
        let norm = |name: &str| RmsNorm::new(head_dim, EPS, vb.pp(name));
        Ok(Self {
            to_q: lin(dim, inner, "to_q")?,
            to_k: lin(dim, inner, "to_k")?,
            to_v: lin(dim, inner, "to_v")?,
            add_q_proj: lin(dim, inner, "add_q_proj")?,
            add_k_proj: lin(dim, inner, "add_k_proj")?,
            add_v_proj: lin(dim, inner, "add_v_proj")?,
            to_out: lin(inner, dim, "to_out.0")?,
            to_add_out: lin(inner, dim, "to_add_out")?,
            norm_q: norm("norm_q")?,
            norm_k: norm("norm_k")?,
            norm_added_q: norm("norm_added_q")?,
            norm_added_k: norm("norm_added_k")?,
            heads,
            head_dim,
        })
    }

    /// Projects `x` `[b, s, dim]` to heads `[b, heads, s, head_dim]`, with the per-head RMSNorm
    /// and RoPE where given (queries and keys), in diffusers' order: norm, then rotate.
    fn project(
        &self,
        x: &Tensor,
        lin: &Linear,
        norm: Option<&RmsNorm>,
        rot: Option<(&Tensor, &Tensor)>,
    ) -> Result<Tensor> {
        let (b, s, _) = x.dims3()?;
        let mut h = lin.forward(x)?.reshape((b, s, self.heads, self.head_dim))?;
        if let Some(norm) = norm {
            h = norm.forward(&h)?;
        }
        let h = h.transpose(1, 2)?.contiguous()?;
        match rot {
            Some((cos, sin)) => rope::apply(&h, cos, sin),
            None => Ok(h),
        }
    }

    /// Returns `(img_out, txt_out)`. `bias`: `[b, 1, 1, txt + img]` f32 (0 or −∞), from the
    /// text mask.
    fn forward(
        &self,
        img: &Tensor,
        txt: &Tensor,
        bias: Option<&Tensor>,
        rope: &RopeTables,
    ) -> Result<(Tensor, Tensor)> {
        let (b, s_img, _) = img.dims3()?;
        let s_txt = txt.dim(1)?;
        let img_rot = Some((&rope.img_cos, &rope.img_sin));
        let txt_rot = Some((&rope.txt_cos, &rope.txt_sin));
        let iq = self.project(img, &self.to_q, Some(&self.norm_q), img_rot)?;
        let ik = self.project(img, &self.to_k, Some(&self.norm_k), img_rot)?;
        let iv = self.project(img, &self.to_v, None, None)?;
        let tq = self.project(txt, &self.add_q_proj, Some(&self.norm_added_q), txt_rot)?;
        let tk = self.project(txt, &self.add_k_proj, Some(&self.norm_added_k), txt_rot)?;
        let tv = self.project(txt, &self.add_v_proj, None, None)?;
        // Joint sequence order: text first, then image (diffusers: "Order: [text, image]").
        let q = Tensor::cat(&[&tq, &iq], 2)?;
        let k = Tensor::cat(&[&tk, &ik], 2)?;
        let v = Tensor::cat(&[&tv, &iv], 2)?;
        let out = attention(&q, &k, &v, bias, SCORE_BUDGET)?
            .transpose(1, 2)?
            .reshape((b, s_txt + s_img, self.heads * self.head_dim))?;
        let txt_out = self
            .to_add_out
            .forward(&out.narrow(1, 0, s_txt)?.contiguous()?)?;
        let img_out = self
            .to_out
            .forward(&out.narrow(1, s_txt, s_img)?.contiguous()?)?;
        Ok((img_out, txt_out))
    }
}

/// Scaled dot-product attention over `[b, heads, s, head_dim]`: `q·kᵀ` in the model dtype,
/// scale, mask and softmax in f32, probabilities back in the model dtype for `·v`. Rows of
/// queries are taken in chunks so that at most `budget` scores exist at once (see
/// [`SCORE_BUDGET`]).
fn attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    bias: Option<&Tensor>,
    budget: usize,
) -> Result<Tensor> {
    let (b, h, s, d) = q.dims4()?;
    let keys = k.dim(2)?;
    let scale = 1.0 / (d as f64).sqrt();
    let kt = k.t()?;
    let rows = (budget / (b * h * keys).max(1)).clamp(1, s.max(1));
    let mut outs = Vec::with_capacity(s.div_ceil(rows));
    let mut start = 0;
    while start < s {
        let len = rows.min(s - start);
        let qc = q.narrow(2, start, len)?.contiguous()?;
        let mut scores = (qc.matmul(&kt)?.to_dtype(DType::F32)? * scale)?;
        if let Some(bias) = bias {
            scores = scores.broadcast_add(bias)?;
        }
        let probs = candle_nn::ops::softmax_last_dim(&scores)?.to_dtype(v.dtype())?;
        outs.push(probs.matmul(v)?);
        start += len;
    }
    Tensor::cat(&outs, 2)
}

/// One `transformer_blocks.<i>`.
#[derive(Debug, Clone)]
pub(super) struct Block {
    img_mod: Linear,
    txt_mod: Linear,
    attn: JointAttention,
    img_mlp: FeedForward,
    txt_mlp: FeedForward,
    dim: usize,
}

impl Block {
    pub fn new(dim: usize, heads: usize, head_dim: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            // `nn.Sequential(SiLU, Linear)`: the Linear is item 1.
            img_mod: candle_nn::linear(dim, 6 * dim, vb.pp("img_mod.1"))?,
            txt_mod: candle_nn::linear(dim, 6 * dim, vb.pp("txt_mod.1"))?,
            attn: JointAttention::new(dim, heads, head_dim, vb.pp("attn"))?,
            img_mlp: FeedForward::new(dim, vb.pp("img_mlp"))?,
            txt_mlp: FeedForward::new(dim, vb.pp("txt_mlp"))?,
            dim,
        })
    }

    /// `silu_temb` is `SiLU(temb)` (the same for every block, so the caller computes it once).
    /// Returns the updated `(img, txt)` streams.
    pub fn forward(
        &self,
        img: &Tensor,
        txt: &Tensor,
        silu_temb: &Tensor,
        bias: Option<&Tensor>,
        rope: &RopeTables,
    ) -> Result<(Tensor, Tensor)> {
        // Six chunks of `dim`: shift, scale, gate for the attention, then for the MLP.
        let chunks = |lin: &Linear| -> Result<Vec<Tensor>> {
            let m = lin.forward(silu_temb)?;
            (0..6)
                .map(|i| m.narrow(1, i * self.dim, self.dim))
                .collect()
        };
        let im = chunks(&self.img_mod)?;
        let tm = chunks(&self.txt_mod)?;
        let gated = |x: &Tensor, gate: &Tensor, y: &Tensor| -> Result<Tensor> {
            x + y.broadcast_mul(&gate.unsqueeze(1)?)?
        };

        let img_in = modulate(&layer_norm(img, EPS)?, &im[0], &im[1])?;
        let txt_in = modulate(&layer_norm(txt, EPS)?, &tm[0], &tm[1])?;
        let (img_attn, txt_attn) = self.attn.forward(&img_in, &txt_in, bias, rope)?;
        let img = gated(img, &im[2], &img_attn)?;
        let txt = gated(txt, &tm[2], &txt_attn)?;

        let img_mlp = self
            .img_mlp
            .forward(&modulate(&layer_norm(&img, EPS)?, &im[3], &im[4])?)?;
        let img = gated(&img, &im[5], &img_mlp)?;
        let txt_mlp = self
            .txt_mlp
            .forward(&modulate(&layer_norm(&txt, EPS)?, &tm[3], &tm[4])?)?;
        let txt = gated(&txt, &tm[5], &txt_mlp)?;
        if img.dtype() == DType::F16 {
            // diffusers clips F16 streams to the largest finite F16 so they cannot overflow.
            return Ok((
                img.clamp(-65504f32, 65504f32)?,
                txt.clamp(-65504f32, 65504f32)?,
            ));
        }
        Ok((img, txt))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use candle_core::Device;

    #[test]
    fn chunked_attention_matches_one_pass_and_masks_keys() {
        let dev = Device::Cpu;
        let q = Tensor::randn(0f32, 1.0, (2, 3, 7, 4), &dev).unwrap();
        let k = Tensor::randn(0f32, 1.0, (2, 3, 7, 4), &dev).unwrap();
        let v = Tensor::randn(0f32, 1.0, (2, 3, 7, 4), &dev).unwrap();
        // Item 0 hides keys 1 and 2, item 1 hides nothing.
        let mut bias = vec![0f32; 14];
        bias[1] = f32::NEG_INFINITY;
        bias[2] = f32::NEG_INFINITY;
        let bias = Tensor::from_vec(bias, (2, 1, 1, 7), &dev).unwrap();
        let whole = attention(&q, &k, &v, Some(&bias), usize::MAX).unwrap();
        // A budget of one score row per chunk, and one that splits 7 rows unevenly.
        for budget in [1, 2 * 3 * 7 * 3] {
            let chunked = attention(&q, &k, &v, Some(&bias), budget).unwrap();
            let d = (&chunked - &whole).unwrap().abs().unwrap();
            assert!(d.max_all().unwrap().to_scalar::<f32>().unwrap() < 1e-6);
        }
        // Changing a hidden key's value does not change item 0's output.
        let v2 = v
            .slice_assign(
                &[0..1, 0..3, 1..3, 0..4],
                &Tensor::ones((1, 3, 2, 4), DType::F32, &dev).unwrap(),
            )
            .unwrap();
        let moved = attention(&q, &k, &v2, Some(&bias), usize::MAX).unwrap();
        let d = (moved.narrow(0, 0, 1).unwrap() - whole.narrow(0, 0, 1).unwrap())
            .unwrap()
            .abs()
            .unwrap();
        assert_eq!(d.max_all().unwrap().to_scalar::<f32>().unwrap(), 0.0);
    }
}
