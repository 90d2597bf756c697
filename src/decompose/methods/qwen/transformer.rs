//! `QwenImageTransformer2DModel` (diffusers), the Qwen-Image MMDiT, with the Qwen-Image-Layered
//! options: Layer3D RoPE (`use_layer3d_rope`, the condition image at layer index −1) and the
//! 2-row additional timestep embedding (`use_additional_t_cond`).
//!
//! Weight names are diffusers' state-dict keys, so a [`VarBuilder`] over the checkpoint's
//! `transformer/diffusion_pytorch_model-*.safetensors` loads it as is. Checked against diffusers
//! on a tiny random configuration by `tests/qwen_transformer_parity.rs`
//! (`scripts/qwen_parity_transformer.py`).
//!
//! Precision: weights and activations run in the [`VarBuilder`]'s dtype (F32 or BF16; F16 also
//! works and is clipped like diffusers does); normalisation statistics, RoPE, GELU, SiLU and the
//! attention softmax are computed in f32.

mod block;
mod embed;
mod rope;

use candle_core::{DType, Device, Result, Tensor, bail};
use candle_nn::{Linear, Module, VarBuilder};

use block::{Block, RmsNorm, layer_norm, modulate};
use embed::{TimestepEmbedding, silu_f32};
use rope::Rope;

/// One entry of `img_shapes`: `(frames, patch rows, patch columns)` of a run of image tokens.
pub type FrameShape = (usize, usize, usize);

/// diffusers' `transformer/config.json` of `QwenImageTransformer2DModel`. Missing fields take
/// diffusers' defaults (those of Qwen-Image); unknown ones (`_class_name`, …) are ignored.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default)]
pub struct TransformerConfig {
    /// Side of the square latent patch packed into one token (2).
    pub patch_size: usize,
    /// Channels of a packed token: latent channels × `patch_size²` (64 = 16 × 4).
    pub in_channels: usize,
    /// Latent channels predicted per patch position (16); `None` (JSON null) means
    /// `in_channels`. The output token has `patch_size² × out_channels` values.
    pub out_channels: Option<usize>,
    /// Number of double-stream blocks (60).
    pub num_layers: usize,
    /// Channels per attention head (128).
    pub attention_head_dim: usize,
    /// Attention heads (24); hidden width = heads × head dim.
    pub num_attention_heads: usize,
    /// Width of the text encoder's hidden states (3584, Qwen2.5-VL-7B).
    pub joint_attention_dim: usize,
    /// Guidance-distilled variant; unsupported (diffusers cannot run it with this embedding
    /// either), must be false.
    pub guidance_embeds: bool,
    /// RoPE channels per axis (frame/layer, row, column), halved into rotation pairs;
    /// must sum to `attention_head_dim`.
    pub axes_dims_rope: [usize; 3],
    /// Qwen-Image-Edit-2511's zero-timestep modulation of the condition tokens; unsupported,
    /// must be false.
    pub zero_cond_t: bool,
    /// Adds `time_text_embed.addition_t_embedding` (2 rows) to the timestep embedding.
    pub use_additional_t_cond: bool,
    /// Layer3D RoPE: the last `img_shapes` entry is the condition image, at layer index −1.
    pub use_layer3d_rope: bool,
}

impl Default for TransformerConfig {
    /// diffusers' constructor defaults.
    fn default() -> Self {
        Self {
            patch_size: 2,
            in_channels: 64,
            out_channels: Some(16),
            num_layers: 60,
            attention_head_dim: 128,
            num_attention_heads: 24,
            joint_attention_dim: 3584,
            guidance_embeds: false,
            axes_dims_rope: [16, 56, 56],
            zero_cond_t: false,
            use_additional_t_cond: false,
            use_layer3d_rope: false,
        }
    }
}

impl TransformerConfig {
    /// Hidden width: heads × head dim (3072).
    pub fn inner_dim(&self) -> usize {
        self.num_attention_heads * self.attention_head_dim
    }

    /// Values per output token: `patch_size² × out_channels`.
    pub fn out_token_channels(&self) -> usize {
        self.patch_size * self.patch_size * self.out_channels.unwrap_or(self.in_channels)
    }
}

/// `img_shapes` as `QwenImageLayeredPipeline` builds it: `layers + 1` noisy frames (the
/// composite first, then the layers) of `rows × cols` patches, then the condition image's frame
/// of `cond_rows × cond_cols` patches (latent size / 2, i.e. pixel size / 16).
pub fn layered_img_shapes(
    layers: usize,
    (rows, cols): (usize, usize),
    (cond_rows, cond_cols): (usize, usize),
) -> Vec<FrameShape> {
    let mut shapes = vec![(1, rows, cols); layers + 1];
    shapes.push((1, cond_rows, cond_cols));
    shapes
}

/// The transformer. Build with [`QwenImageTransformer::new`], run with
/// [`QwenImageTransformer::forward`].
#[derive(Debug, Clone)]
pub struct QwenImageTransformer {
    cfg: TransformerConfig,
    dtype: DType,
    rope: Rope,
    time_text_embed: TimestepEmbedding,
    txt_norm: RmsNorm,
    img_in: Linear,
    txt_in: Linear,
    blocks: Vec<Block>,
    /// `norm_out.linear` of `AdaLayerNormContinuous` (the norm itself has no weights).
    norm_out: Linear,
    proj_out: Linear,
}

impl QwenImageTransformer {
    /// Loads the weights under diffusers' key names from `vb` (the transformer's root: keys
    /// like `transformer_blocks.0.attn.to_q.weight`). The model computes in `vb.dtype()`.
    pub fn new(cfg: &TransformerConfig, vb: VarBuilder) -> Result<Self> {
        if cfg.guidance_embeds {
            bail!("guidance_embeds = true is not supported");
        }
        if cfg.zero_cond_t {
            bail!("zero_cond_t = true (Qwen-Image-Edit-2511) is not supported");
        }
        let head_dim = cfg.attention_head_dim;
        if cfg.axes_dims_rope.iter().sum::<usize>() != head_dim {
            bail!(
                "axes_dims_rope {:?} must sum to attention_head_dim {head_dim}",
                cfg.axes_dims_rope
            );
        }
        let dim = cfg.inner_dim();
        let blocks = (0..cfg.num_layers)
            .map(|i| {
                Block::new(
                    dim,
                    cfg.num_attention_heads,
                    head_dim,
                    vb.pp(format!("transformer_blocks.{i}")),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            dtype: vb.dtype(),
            rope: Rope::new(cfg.axes_dims_rope, cfg.use_layer3d_rope)?,
            time_text_embed: TimestepEmbedding::new(
                dim,
                cfg.use_additional_t_cond,
                vb.pp("time_text_embed"),
            )?,
            txt_norm: RmsNorm::new(cfg.joint_attention_dim, 1e-6, vb.pp("txt_norm"))?,
            img_in: candle_nn::linear(cfg.in_channels, dim, vb.pp("img_in"))?,
            txt_in: candle_nn::linear(cfg.joint_attention_dim, dim, vb.pp("txt_in"))?,
            blocks,
            norm_out: candle_nn::linear(dim, 2 * dim, vb.pp("norm_out.linear"))?,
            proj_out: candle_nn::linear(dim, cfg.out_token_channels(), vb.pp("proj_out"))?,
            cfg: cfg.clone(),
        })
    }

    /// The configuration the model was built with.
    pub fn config(&self) -> &TransformerConfig {
        &self.cfg
    }

    /// The dtype the model computes in (its weights' dtype).
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The device of the weights.
    pub fn device(&self) -> &Device {
        self.proj_out.weight().device()
    }

    /// Predicts the flow-matching velocity of every image token, as diffusers'
    /// `QwenImageTransformer2DModel.forward(..., return_dict=False)[0]`.
    ///
    /// * `hidden_states`: `[batch, img_tokens, in_channels]`, the packed latents: for the layered
    ///   pipeline the `layers + 1` noisy frames followed by the condition image's latent, each
    ///   frame's 2×2 patches in row-major order.
    /// * `encoder_hidden_states`: `[batch, txt_tokens, joint_attention_dim]`, the prompt
    ///   embedding.
    /// * `encoder_hidden_states_mask`: `[batch, txt_tokens]`, any dtype, non-zero = real token;
    ///   zero tokens are hidden from every query. `None` (the pipeline's choice when nothing is
    ///   padded) attends to all. RoPE positions use the full `txt_tokens` either way.
    /// * `timestep`: `[batch]`, the scheduler's timestep divided by 1000 (so in `[0, 1]`).
    /// * `img_shapes`: the token runs of `hidden_states`, shared by the whole batch; see
    ///   [`layered_img_shapes`]. With `use_layer3d_rope` the last entry is the condition image
    ///   (1 frame, layer index −1) and entry `i` otherwise is layer index `i`.
    /// * `additional_t_cond`: `[batch]` integer (u8/u32/i64), the pipeline's `is_rgb` (0 for
    ///   decomposition); required when `use_additional_t_cond`, ignored otherwise.
    ///
    /// Returns `[batch, img_tokens, patch_size² × out_channels]` in the model dtype, for all
    /// image tokens: the layered pipeline keeps the first `(layers + 1) × rows × cols` (drops
    /// the condition image's). Inputs in another float dtype are converted to the model's.
    pub fn forward(
        &self,
        hidden_states: &Tensor,
        encoder_hidden_states: &Tensor,
        encoder_hidden_states_mask: Option<&Tensor>,
        timestep: &Tensor,
        img_shapes: &[FrameShape],
        additional_t_cond: Option<&Tensor>,
    ) -> Result<Tensor> {
        let (b, s_img, _) = hidden_states.dims3()?;
        let (b_txt, s_txt, _) = encoder_hidden_states.dims3()?;
        if b_txt != b || timestep.dims1()? != b {
            bail!(
                "batch sizes differ: hidden_states {b}, encoder_hidden_states {b_txt}, timestep {}",
                timestep.dims1()?
            );
        }
        let tokens: usize = img_shapes.iter().map(|&(f, h, w)| f * h * w).sum();
        if tokens != s_img {
            bail!("img_shapes {img_shapes:?} cover {tokens} tokens, hidden_states has {s_img}");
        }
        let device = hidden_states.device();

        let mut img = self.img_in.forward(&hidden_states.to_dtype(self.dtype)?)?;
        let mut txt = self.txt_in.forward(
            &self
                .txt_norm
                .forward(&encoder_hidden_states.to_dtype(self.dtype)?)?,
        )?;
        let temb = self
            .time_text_embed
            .forward(timestep, additional_t_cond, self.dtype)?;
        let silu_temb = silu_f32(&temb)?;
        let rope = self.rope.tables(img_shapes, s_txt, device)?;
        let bias = match encoder_hidden_states_mask {
            Some(mask) => Some(attention_bias(mask, b, s_txt, s_img, device)?),
            None => None,
        };

        for block in &self.blocks {
            (img, txt) = block.forward(&img, &txt, &silu_temb, bias.as_ref(), &rope)?;
        }

        // AdaLayerNormContinuous: `linear(SiLU(temb))` chunks into scale first, then shift.
        let dim = self.cfg.inner_dim();
        let emb = self.norm_out.forward(&silu_temb)?;
        let (scale, shift) = (emb.narrow(1, 0, dim)?, emb.narrow(1, dim, dim)?);
        let img = modulate(&layer_norm(&img, 1e-6)?, &shift, &scale)?;
        self.proj_out.forward(&img)
    }
}

/// The additive attention mask over the joint `[text, image]` keys, `[b, 1, 1, txt + img]`
/// f32: 0 for real text tokens and all image tokens, −∞ for padding.
fn attention_bias(
    mask: &Tensor,
    b: usize,
    s_txt: usize,
    s_img: usize,
    device: &Device,
) -> Result<Tensor> {
    if mask.dims() != [b, s_txt] {
        bail!(
            "encoder_hidden_states_mask is {:?}, expected [{b}, {s_txt}]",
            mask.dims()
        );
    }
    let keep = Tensor::cat(
        &[
            &mask.ne(0f64)?.to_device(device)?,
            &Tensor::ones((b, s_img), DType::U8, device)?,
        ],
        1,
    )?;
    let zeros = Tensor::zeros((b, s_txt + s_img), DType::F32, device)?;
    let neg = Tensor::full(f32::NEG_INFINITY, (b, s_txt + s_img), device)?;
    keep.where_cond(&zeros, &neg)?
        .reshape((b, 1, 1, s_txt + s_img))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The shape of Qwen-Image-Layered's `transformer/config.json`: Qwen-Image's values plus
    /// the layered flags (`use_additional_t_cond`, `use_layer3d_rope`, `zero_cond_t: false`).
    /// Written from diffusers' defaults and a description of the file, not copied from it; the
    /// metadata values are placeholders (they are ignored).
    const LAYERED: &str = r#"{
        "_class_name": "QwenImageTransformer2DModel", "_diffusers_version": "0.36.0.dev0",
        "attention_head_dim": 128, "axes_dims_rope": [16, 56, 56], "guidance_embeds": false,
        "in_channels": 64, "joint_attention_dim": 3584, "num_attention_heads": 24,
        "num_layers": 60, "out_channels": 16, "patch_size": 2, "use_additional_t_cond": true,
        "use_layer3d_rope": true, "zero_cond_t": false}"#;

    #[test]
    fn parses_the_layered_config() {
        let cfg: TransformerConfig = serde_json::from_str(LAYERED).unwrap();
        assert!(cfg.use_layer3d_rope && cfg.use_additional_t_cond);
        assert_eq!(cfg.inner_dim(), 3072);
        assert_eq!(cfg.out_token_channels(), 64);
        assert_eq!(
            cfg,
            TransformerConfig {
                use_additional_t_cond: true,
                use_layer3d_rope: true,
                ..TransformerConfig::default()
            }
        );
        let null_out: TransformerConfig =
            serde_json::from_str(r#"{"in_channels": 8, "out_channels": null}"#).unwrap();
        assert_eq!(null_out.out_token_channels(), 32);
    }

    #[test]
    fn rejects_unsupported_options_before_loading() {
        let vb = VarBuilder::zeros(DType::F32, &Device::Cpu);
        let tiny = TransformerConfig {
            num_layers: 1,
            attention_head_dim: 8,
            num_attention_heads: 1,
            joint_attention_dim: 4,
            axes_dims_rope: [2, 2, 4],
            in_channels: 4,
            ..TransformerConfig::default()
        };
        assert!(QwenImageTransformer::new(&tiny, vb.clone()).is_ok());
        for bad in [
            TransformerConfig {
                guidance_embeds: true,
                ..tiny.clone()
            },
            TransformerConfig {
                zero_cond_t: true,
                ..tiny.clone()
            },
            TransformerConfig {
                axes_dims_rope: [2, 2, 2],
                ..tiny.clone()
            },
        ] {
            assert!(QwenImageTransformer::new(&bad, vb.clone()).is_err());
        }
    }

    #[test]
    fn layered_img_shapes_like_the_pipeline() {
        assert_eq!(
            layered_img_shapes(2, (40, 30), (40, 30)),
            vec![(1, 40, 30), (1, 40, 30), (1, 40, 30), (1, 40, 30)]
        );
    }
}
