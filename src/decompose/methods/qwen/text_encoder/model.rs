//! The Qwen2.5-VL language model (transformers `Qwen2_5_VLTextModel`), text-only forward.

use candle::{D, DType, Device, Module, Result, Tensor};
use candle_core as candle;
use candle_nn::{Embedding, Linear, VarBuilder};

use super::TextEncoderConfig;

/// Weight prefixes of the language model inside a `Qwen2_5_VLForConditionalGeneration`
/// checkpoint, newest layout first: transformers ≥ 4.52 nests it as `model.language_model`,
/// older saves put it at `model` (beside `visual` and `lm_head`); a bare language model has no
/// prefix.
const PREFIXES: [&str; 3] = ["model.language_model", "model", ""];

/// The value masked attention scores get before the softmax: `torch.finfo(float32).min`, as
/// transformers' masks use. Finite (unlike −∞) so a row with nothing to attend to (a left-padded
/// query) softmaxes to a uniform average instead of NaN, as in transformers.
const MASKED: f32 = f32::MIN;

/// RMSNorm as transformers computes it: statistics in f32, the normalised value cast back to the
/// input dtype, then scaled by the weight in that dtype.
#[derive(Debug, Clone)]
struct RmsNorm {
    weight: Tensor,
    eps: f64,
}

impl RmsNorm {
    fn new(size: usize, eps: f64, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            weight: vb.get(size, "weight")?,
            eps,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let dtype = x.dtype();
        let xf = x.to_dtype(DType::F32)?;
        let variance = xf.sqr()?.mean_keepdim(D::Minus1)?;
        // x * rsqrt(var + eps), the order torch uses.
        let inv = (variance + self.eps)?.sqrt()?.recip()?;
        xf.broadcast_mul(&inv)?
            .to_dtype(dtype)?
            .broadcast_mul(&self.weight)
    }
}

/// The rotary tables for one forward: `cos`/`sin` of shape `[B, 1, L, head_dim]` in the model
/// dtype (transformers computes them in f32 and casts them, and so does this).
struct Rotary {
    cos: Tensor,
    sin: Tensor,
}

impl Rotary {
    /// Multimodal RoPE: every position axis (temporal, height, width) gets its own angles
    /// `pos · inv_freq`; the `head_dim / 2` frequencies are then cut into `mrope_section` chunks
    /// and chunk `i` takes its angles from axis `i % 3`; the halves are duplicated
    /// (`cat(freq, freq)`) to the full head width, matching `rotate_half`.
    fn new(cfg: &TextEncoderConfig, positions: &Tensor, dtype: DType) -> Result<Self> {
        let head_dim = cfg.head_dim();
        let half = head_dim / 2;
        // 1 / theta^(2i / d), computed in f64 and rounded once, which is what torch's f32
        // `base ** (arange(0, d, 2) / d)` gives up to an ulp.
        let inv_freq: Vec<f32> = (0..half)
            .map(|i| (1.0 / cfg.rope_theta.powf((2 * i) as f64 / head_dim as f64)) as f32)
            .collect();
        let inv_freq = Tensor::from_vec(inv_freq, (1, 1, 1, half), positions.device())?;
        // [3, B, L, half] in f32, as transformers multiplies `position_ids.float() * inv_freq`.
        let angles = positions
            .to_dtype(DType::F32)?
            .unsqueeze(D::Minus1)?
            .broadcast_mul(&inv_freq)?;
        let mut chunks = Vec::with_capacity(cfg.mrope_section.len());
        let mut start = 0;
        for (i, &len) in cfg.mrope_section.iter().enumerate() {
            chunks.push(angles.get(i % 3)?.narrow(D::Minus1, start, len)?);
            start += len;
        }
        let freqs = Tensor::cat(&chunks, D::Minus1)?; // [B, L, half]
        let freqs = Tensor::cat(&[&freqs, &freqs], D::Minus1)?.unsqueeze(1)?; // [B, 1, L, d]
        Ok(Self {
            cos: freqs.cos()?.to_dtype(dtype)?,
            sin: freqs.sin()?.to_dtype(dtype)?,
        })
    }

    /// `x · cos + rotate_half(x) · sin` for `x` of shape `[B, heads, L, head_dim]`.
    fn apply(&self, x: &Tensor) -> Result<Tensor> {
        let half = x.dim(D::Minus1)? / 2;
        let x1 = x.narrow(D::Minus1, 0, half)?;
        let x2 = x.narrow(D::Minus1, half, half)?;
        let rotated = Tensor::cat(&[&x2.neg()?, &x1], D::Minus1)?;
        x.broadcast_mul(&self.cos)? + rotated.broadcast_mul(&self.sin)?
    }
}

/// Self-attention with q/k/v biases, grouped-query heads and mRoPE.
#[derive(Debug, Clone)]
struct Attention {
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    o_proj: Linear,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
}

impl Attention {
    fn new(cfg: &TextEncoderConfig, vb: VarBuilder) -> Result<Self> {
        let (h, d) = (cfg.hidden_size, cfg.head_dim());
        let kv = cfg.num_key_value_heads * d;
        Ok(Self {
            q_proj: candle_nn::linear_b(h, cfg.num_attention_heads * d, true, vb.pp("q_proj"))?,
            k_proj: candle_nn::linear_b(h, kv, true, vb.pp("k_proj"))?,
            v_proj: candle_nn::linear_b(h, kv, true, vb.pp("v_proj"))?,
            o_proj: candle_nn::linear_b(cfg.num_attention_heads * d, h, false, vb.pp("o_proj"))?,
            heads: cfg.num_attention_heads,
            kv_heads: cfg.num_key_value_heads,
            head_dim: d,
        })
    }

    /// `[B, L, heads·d]` → `[B, heads, L, d]`.
    fn split_heads(&self, x: &Tensor, heads: usize) -> Result<Tensor> {
        let (b, l, _) = x.dims3()?;
        x.reshape((b, l, heads, self.head_dim))?
            .transpose(1, 2)?
            .contiguous()
    }

    /// Repeats each key/value head for the query heads that share it: query head `h` reads kv
    /// head `h / (heads / kv_heads)`, as transformers' `repeat_kv`.
    fn repeat_kv(&self, x: Tensor) -> Result<Tensor> {
        let rep = self.heads / self.kv_heads;
        if rep == 1 {
            return Ok(x);
        }
        let (b, kv, l, d) = x.dims4()?;
        x.unsqueeze(2)?
            .expand((b, kv, rep, l, d))?
            .reshape((b, kv * rep, l, d))
    }

    fn forward(&self, x: &Tensor, rotary: &Rotary, mask: &Tensor) -> Result<Tensor> {
        let (b, l, _) = x.dims3()?;
        let q = self.split_heads(&self.q_proj.forward(x)?, self.heads)?;
        let k = self.split_heads(&self.k_proj.forward(x)?, self.kv_heads)?;
        let v = self.split_heads(&self.v_proj.forward(x)?, self.kv_heads)?;
        let q = rotary.apply(&q)?.contiguous()?;
        let k = self.repeat_kv(rotary.apply(&k)?)?;
        let v = self.repeat_kv(v)?;

        let scale = 1.0 / (self.head_dim as f64).sqrt();
        let scores = (q.matmul(&k.t()?.contiguous()?)? * scale)?;
        // Mask and softmax in f32 (transformers' eager softmax runs in f32 too): in bf16 the
        // mask value and the exponentials would lose the small weights.
        let probs =
            candle_nn::ops::softmax_last_dim(&scores.to_dtype(DType::F32)?.broadcast_add(mask)?)?
                .to_dtype(x.dtype())?;
        let out = probs.matmul(&v.contiguous()?)?; // [B, heads, L, d]
        let out = out
            .transpose(1, 2)?
            .reshape((b, l, self.heads * self.head_dim))?;
        self.o_proj.forward(&out)
    }
}

/// The SwiGLU MLP: `down(silu(gate(x)) · up(x))`, no biases.
#[derive(Debug, Clone)]
struct Mlp {
    gate_proj: Linear,
    up_proj: Linear,
    down_proj: Linear,
}

impl Mlp {
    fn new(cfg: &TextEncoderConfig, vb: VarBuilder) -> Result<Self> {
        let (h, i) = (cfg.hidden_size, cfg.intermediate_size);
        Ok(Self {
            gate_proj: candle_nn::linear_no_bias(h, i, vb.pp("gate_proj"))?,
            up_proj: candle_nn::linear_no_bias(h, i, vb.pp("up_proj"))?,
            down_proj: candle_nn::linear_no_bias(i, h, vb.pp("down_proj"))?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let gate = candle_nn::ops::silu(&self.gate_proj.forward(x)?)?;
        self.down_proj.forward(&(gate * self.up_proj.forward(x)?)?)
    }
}

/// One pre-norm decoder layer.
#[derive(Debug, Clone)]
struct DecoderLayer {
    input_layernorm: RmsNorm,
    self_attn: Attention,
    post_attention_layernorm: RmsNorm,
    mlp: Mlp,
}

impl DecoderLayer {
    fn new(cfg: &TextEncoderConfig, vb: VarBuilder) -> Result<Self> {
        let (h, eps) = (cfg.hidden_size, cfg.rms_norm_eps);
        Ok(Self {
            input_layernorm: RmsNorm::new(h, eps, vb.pp("input_layernorm"))?,
            self_attn: Attention::new(cfg, vb.pp("self_attn"))?,
            post_attention_layernorm: RmsNorm::new(h, eps, vb.pp("post_attention_layernorm"))?,
            mlp: Mlp::new(cfg, vb.pp("mlp"))?,
        })
    }

    fn forward(&self, x: &Tensor, rotary: &Rotary, mask: &Tensor) -> Result<Tensor> {
        let attn = self
            .self_attn
            .forward(&self.input_layernorm.forward(x)?, rotary, mask)?;
        let x = (x + attn)?;
        let mlp = self
            .mlp
            .forward(&self.post_attention_layernorm.forward(&x)?)?;
        x + mlp
    }
}

/// The Qwen2.5-VL language model run as a text encoder: token embedding, decoder layers, final
/// RMSNorm. Its output is what the pipeline reads as `hidden_states[-1]`.
///
/// Computes in the dtype of the `VarBuilder` it is built from (F32 or BF16); norm statistics,
/// attention masking and softmax run in f32 whatever that dtype.
#[derive(Debug, Clone)]
pub struct QwenTextEncoder {
    config: TextEncoderConfig,
    embed_tokens: Embedding,
    layers: Vec<DecoderLayer>,
    norm: RmsNorm,
    dtype: DType,
}

impl QwenTextEncoder {
    /// Builds the model from `vb`, which may hold a whole `Qwen2_5_VLForConditionalGeneration`
    /// checkpoint under either transformers layout (`model.language_model.*` or `model.*`) or a
    /// bare language model; the vision tower and `lm_head` are never read.
    pub fn new(cfg: &TextEncoderConfig, vb: VarBuilder) -> Result<Self> {
        cfg.validate()?;
        let root = PREFIXES
            .iter()
            .map(|p| if p.is_empty() { vb.clone() } else { vb.pp(p) })
            .find(|v| v.contains_tensor("embed_tokens.weight"))
            .ok_or_else(|| {
                candle::Error::Msg(
                    "text encoder weights: no `model.language_model.embed_tokens.weight`, \
                     `model.embed_tokens.weight` or `embed_tokens.weight`"
                        .into(),
                )
            })?;
        let embed_tokens =
            candle_nn::embedding(cfg.vocab_size, cfg.hidden_size, root.pp("embed_tokens"))?;
        let layers = (0..cfg.num_hidden_layers)
            .map(|i| DecoderLayer::new(cfg, root.pp(format!("layers.{i}"))))
            .collect::<Result<Vec<_>>>()?;
        let norm = RmsNorm::new(cfg.hidden_size, cfg.rms_norm_eps, root.pp("norm"))?;
        Ok(Self {
            config: cfg.clone(),
            embed_tokens,
            layers,
            norm,
            dtype: vb.dtype(),
        })
    }

    /// The configuration the model was built with.
    pub fn config(&self) -> &TextEncoderConfig {
        &self.config
    }

    /// The dtype the model computes in (and returns).
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        self.embed_tokens.embeddings().device()
    }

    /// The final-norm hidden states `[B, L, hidden]` of `input_ids` (`[B, L]`, u32) under
    /// `attention_mask` (`[B, L]`, 1 for a token, 0 for padding; any dtype).
    ///
    /// Text-only positions, as transformers derives them for a padded batch: the real tokens of
    /// each row count 0, 1, 2, … (so left and right padding give the same values), a padding
    /// slot takes its index (transformers 5's choice; its output is never read). All three mRoPE
    /// axes are equal for text.
    pub fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
        let mask = mask_rows(attention_mask)?;
        let (b, l) = input_ids.dims2()?;
        let mut positions = Vec::with_capacity(3 * b * l);
        for row in &mask {
            let mut next = 0u32;
            for (i, &keep) in row.iter().enumerate() {
                if keep {
                    positions.push(next);
                    next += 1;
                } else {
                    positions.push(i as u32);
                }
            }
        }
        let positions =
            Tensor::from_vec(positions, (1, b, l), input_ids.device())?.repeat((3, 1, 1))?;
        self.forward_with_positions(input_ids, attention_mask, &positions)
    }

    /// Like [`forward`](Self::forward) with explicit 3-axis positions `[3, B, L]` (temporal,
    /// height, width), as transformers accepts `position_ids`; for image tokens the axes differ.
    pub fn forward_with_positions(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
        positions: &Tensor,
    ) -> Result<Tensor> {
        let (b, l) = input_ids.dims2()?;
        if attention_mask.dims2()? != (b, l) || positions.dims3()? != (3, b, l) {
            return Err(candle::Error::Msg(format!(
                "text encoder: input_ids {:?}, attention_mask {:?} and positions {:?} disagree",
                input_ids.dims(),
                attention_mask.dims(),
                positions.dims()
            )));
        }
        let mask = additive_mask(&mask_rows(attention_mask)?, input_ids.device())?;
        let rotary = Rotary::new(&self.config, positions, self.dtype)?;
        let mut x = self.embed_tokens.forward(input_ids)?.to_dtype(self.dtype)?;
        for layer in &self.layers {
            x = layer.forward(&x, &rotary, &mask)?;
        }
        self.norm.forward(&x)
    }
}

/// The mask as booleans per row, read back to the host (it is small, `B × L`).
fn mask_rows(attention_mask: &Tensor) -> Result<Vec<Vec<bool>>> {
    let rows = attention_mask.to_dtype(DType::F32)?.to_vec2::<f32>()?;
    Ok(rows
        .into_iter()
        .map(|r| r.into_iter().map(|v| v != 0.0).collect())
        .collect())
}

/// The f32 additive attention mask `[B, 1, L, L]`: 0 where query `i` may read key `j` (`j ≤ i`
/// and `j` is not padding), [`MASKED`] elsewhere. One value for both reasons, never a sum, so a
/// doubly-masked score cannot overflow to −∞.
fn additive_mask(rows: &[Vec<bool>], device: &Device) -> Result<Tensor> {
    let b = rows.len();
    let l = rows.first().map_or(0, Vec::len);
    let mut data = Vec::with_capacity(b * l * l);
    for row in rows {
        for i in 0..l {
            data.extend((0..l).map(|j| if j <= i && row[j] { 0.0 } else { MASKED }));
        }
    }
    Tensor::from_vec(data, (b, 1, l, l), device)
}
