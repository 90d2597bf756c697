//! The RGBA VAE of Qwen-Image-Layered: diffusers' `AutoencoderKLQwenImage` (a Wan-2.1-style
//! causal 3-D VAE) with `input_channels = 4`, for single-frame images.
//!
//! The pipeline gives the VAE one frame per image (`[B, C, 1, H, W]`; the layers of a
//! decomposition are decoded as a batch of one-frame latents), so only diffusers' first-chunk
//! path is ever taken, and on it every temporal operation reduces to a 2-D one:
//!
//! * a causal `k×k×k` conv on one zero-padded frame is a 2-D conv with the last temporal
//!   kernel slice ([`layers::causal_conv`]);
//! * `downsample3d`/`upsample3d` skip their `time_conv` on the first chunk (the feature cache
//!   is empty), so they equal `downsample2d`/`upsample2d` ([`layers::Resample`]);
//! * `_encode` feeds frame 0 alone as its first chunk and `_decode` decodes frame by frame, so
//!   with one frame there is one pass with a fresh cache in both.
//!
//! The network therefore runs on `[B, C, H, W]` tensors; the 5-D shape is checked and
//! dropped at the entry points. Weights load under diffusers' state-dict names (5-D conv3d
//! weights included) from `vae/diffusion_pytorch_model.safetensors`; the temporal convs are
//! not loaded. Checked against diffusers by `tests/qwen_vae_parity.rs`.

mod coder;
mod layers;
mod tiling;

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

pub use tiling::Tiling;

use coder::{Decoder, Encoder};
use tiling::{Plan, tiled};

/// The VAE's settings, read from `vae/config.json` (diffusers' field names, including its
/// `temperal` spelling; absent fields take diffusers' defaults, i.e. the RGB Qwen-Image VAE).
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(default)]
pub struct VaeConfig {
    /// Channels of the first level (96).
    pub base_dim: usize,
    /// Latent channels (16).
    pub z_dim: usize,
    /// Channel multiplier per level (`[1, 2, 4, 4]`).
    pub dim_mult: Vec<usize>,
    /// Residual blocks per encoder level (the decoder has one more).
    pub num_res_blocks: usize,
    /// Scales with attention in the encoder levels; must be empty (see [`VaeConfig::check`]).
    pub attn_scales: Vec<f64>,
    /// Per level but the last: whether the encoder also halves time there (the decoder
    /// mirrors it). Irrelevant for one frame except through its length, which sets the
    /// spatial compression ratio `2^len` (8).
    pub temperal_downsample: Vec<bool>,
    /// Training-only; ignored.
    pub dropout: f64,
    /// Image channels: 3 for Qwen-Image, 4 (RGBA) for Qwen-Image-Layered.
    pub input_channels: usize,
    /// Per-channel latent mean, used by [`QwenImageVae::normalize_latents`].
    pub latents_mean: Vec<f32>,
    /// Per-channel latent standard deviation, likewise.
    pub latents_std: Vec<f32>,
}

impl Default for VaeConfig {
    fn default() -> Self {
        Self {
            base_dim: 96,
            z_dim: 16,
            dim_mult: vec![1, 2, 4, 4],
            num_res_blocks: 2,
            attn_scales: Vec::new(),
            temperal_downsample: vec![false, true, true],
            dropout: 0.0,
            input_channels: 3,
            latents_mean: vec![
                -0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508, 0.4134,
                -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921,
            ],
            latents_std: vec![
                2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743, 3.2687, 2.1526,
                2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.9160,
            ],
        }
    }
}

impl VaeConfig {
    /// Parses `vae/config.json`.
    pub fn from_json(json: &[u8]) -> Result<Self> {
        serde_json::from_slice(json).map_err(candle_core::Error::wrap)
    }

    /// Spatial compression ratio, `2^len(temperal_downsample)` as diffusers computes it.
    pub fn spatial_compression_ratio(&self) -> usize {
        1 << self.temperal_downsample.len()
    }

    /// Refuses configurations the port does not (or diffusers cannot) run.
    pub fn check(&self) -> Result<()> {
        if self.dim_mult.is_empty() || self.base_dim == 0 || self.z_dim == 0 {
            candle_core::bail!("VAE config: empty dim_mult or zero base_dim/z_dim");
        }
        if self.temperal_downsample.len() + 1 != self.dim_mult.len() {
            // diffusers reads `temperal_downsample[level]` for every level but the last and
            // derives the compression ratio from its length; other lengths are inconsistent.
            candle_core::bail!(
                "VAE config: temperal_downsample has {} entries for {} levels",
                self.temperal_downsample.len(),
                self.dim_mult.len()
            );
        }
        if !self.attn_scales.is_empty() {
            // diffusers' encoder calls every down block as `layer(x, feat_cache, feat_idx)`,
            // which an attention block does not accept: such a model cannot encode there.
            candle_core::bail!("VAE config: attention in the encoder levels is not supported");
        }
        if self.latents_mean.len() != self.z_dim || self.latents_std.len() != self.z_dim {
            candle_core::bail!("VAE config: latents_mean/latents_std need z_dim entries");
        }
        Ok(())
    }
}

/// `AutoencoderKLQwenImage` for single-frame images: [`QwenImageVae::encode`] and
/// [`QwenImageVae::decode`], optionally tiled ([`QwenImageVae::set_tiling`]).
#[derive(Clone, Debug)]
pub struct QwenImageVae {
    config: VaeConfig,
    encoder: Encoder,
    quant_conv: layers::Conv,
    post_quant_conv: layers::Conv,
    decoder: Decoder,
    tiling: Option<Tiling>,
}

impl QwenImageVae {
    /// Builds the model from weights under diffusers' names (`encoder.conv_in.weight`, …)
    /// in `vb`, which also sets the dtype (f32 or bf16) and device. Tiling starts off.
    pub fn new(config: VaeConfig, vb: VarBuilder) -> Result<Self> {
        config.check()?;
        let z2 = 2 * config.z_dim;
        Ok(Self {
            encoder: Encoder::new(&vb.pp("encoder"), &config)?,
            quant_conv: layers::causal_conv(&vb.pp("quant_conv"), z2, z2, 1, 0)?,
            post_quant_conv: layers::causal_conv(
                &vb.pp("post_quant_conv"),
                config.z_dim,
                config.z_dim,
                1,
                0,
            )?,
            decoder: Decoder::new(&vb.pp("decoder"), &config)?,
            tiling: None,
            config,
        })
    }

    /// The configuration the model was built from.
    pub fn config(&self) -> &VaeConfig {
        &self.config
    }

    /// Turns tiled coding on (diffusers' `enable_tiling`) or off (`None`). Tiling applies to
    /// inputs larger than one tile; smaller ones are coded whole either way.
    pub fn set_tiling(&mut self, tiling: Option<Tiling>) -> Result<()> {
        if let Some(t) = &tiling {
            t.check(self.config.spatial_compression_ratio())?;
        }
        self.tiling = tiling;
        Ok(())
    }

    /// The tiling in effect, if any.
    pub fn tiling(&self) -> Option<Tiling> {
        self.tiling
    }

    /// Encodes images `[B, input_channels, 1, H, W]` with values in −1..1 to the posterior's
    /// mean `[B, z_dim, 1, H/8, W/8]` (what the pipeline takes, `retrieve_latents(...,
    /// sample_mode="argmax")` = `latent_dist.mode()`), *before* the latents_mean/std
    /// normalisation (apply [`QwenImageVae::normalize_latents`] for the transformer).
    /// H and W should be multiples of 8 (the pipeline's are multiples of 16).
    pub fn encode(&self, x: &Tensor) -> Result<Tensor> {
        let x = one_frame(x, self.config.input_channels, "image")?;
        let (_, _, height, width) = x.dims4()?;
        let moments = match self.tiling {
            Some(t) if width > t.tile_sample_min_width || height > t.tile_sample_min_height => {
                self.tiled_encode(&x, &t)?
            }
            _ => self.quant_conv.forward(&self.encoder.forward(&x)?)?,
        };
        // DiagonalGaussianDistribution: mean = the first z_dim channels (the log-variance,
        // the rest, does not enter the mode).
        moments.narrow(1, 0, self.config.z_dim)?.unsqueeze(2)
    }

    /// Decodes latents `[B, z_dim, 1, h, w]` (denormalised, i.e. after
    /// [`QwenImageVae::denormalize_latents`]) to images `[B, input_channels, 1, 8h, 8w]` in
    /// −1..1. As in diffusers, the untiled result is clamped to −1..1 and the tiled one is not
    /// (`tiled_decode` skips the clamp); clamp when converting to pixels.
    pub fn decode(&self, z: &Tensor) -> Result<Tensor> {
        let z = one_frame(z, self.config.z_dim, "latent")?;
        let (_, _, height, width) = z.dims4()?;
        let ratio = self.config.spatial_compression_ratio();
        let image = match self.tiling {
            Some(t)
                if width > t.tile_sample_min_width / ratio
                    || height > t.tile_sample_min_height / ratio =>
            {
                self.tiled_decode(&z, &t)?
            }
            _ => self
                .decoder
                .forward(&self.post_quant_conv.forward(&z)?)?
                .clamp(-1f32, 1f32)?,
        };
        image.unsqueeze(2)
    }

    /// diffusers' `tiled_encode` on `[B, C, H, W]`: the moments `[B, 2·z_dim, H/8, W/8]`.
    fn tiled_encode(&self, x: &Tensor, t: &Tiling) -> Result<Tensor> {
        let (_, _, height, width) = x.dims4()?;
        let r = self.config.spatial_compression_ratio();
        let (min_h, min_w) = (t.tile_sample_min_height / r, t.tile_sample_min_width / r);
        let (stride_h, stride_w) = (
            t.tile_sample_stride_height / r,
            t.tile_sample_stride_width / r,
        );
        let plan = Plan {
            tile: (t.tile_sample_min_height, t.tile_sample_min_width),
            stride: (t.tile_sample_stride_height, t.tile_sample_stride_width),
            // Overlaps in latent pixels (diffusers rounds each size down first).
            blend: (
                min_h.saturating_sub(stride_h),
                min_w.saturating_sub(stride_w),
            ),
            keep: (stride_h, stride_w),
            out: (height / r, width / r),
        };
        tiled(x, &plan, |tile| {
            self.quant_conv.forward(&self.encoder.forward(tile)?)
        })
    }

    /// diffusers' `tiled_decode` on `[B, z_dim, h, w]`: unclamped images `[B, C, 8h, 8w]`.
    fn tiled_decode(&self, z: &Tensor, t: &Tiling) -> Result<Tensor> {
        let (_, _, height, width) = z.dims4()?;
        let r = self.config.spatial_compression_ratio();
        let plan = Plan {
            tile: (t.tile_sample_min_height / r, t.tile_sample_min_width / r),
            stride: (
                t.tile_sample_stride_height / r,
                t.tile_sample_stride_width / r,
            ),
            // Overlaps in image pixels.
            blend: (
                t.tile_sample_min_height
                    .saturating_sub(t.tile_sample_stride_height),
                t.tile_sample_min_width
                    .saturating_sub(t.tile_sample_stride_width),
            ),
            keep: (t.tile_sample_stride_height, t.tile_sample_stride_width),
            out: (height * r, width * r),
        };
        tiled(z, &plan, |tile| {
            self.decoder.forward(&self.post_quant_conv.forward(tile)?)
        })
    }

    /// The pipeline's `_encode_vae_image` normalisation, `(z − latents_mean) / latents_std`
    /// per channel, for `[B, z_dim, …]` latents (the statistics in the latents' dtype).
    pub fn normalize_latents(&self, z: &Tensor) -> Result<Tensor> {
        let mean = self.channel_stat(&self.config.latents_mean, z)?;
        let std = self.channel_stat(&self.config.latents_std, z)?;
        z.broadcast_sub(&mean)?.broadcast_div(&std)
    }

    /// The inverse, as the pipeline writes it before decoding: `z / (1 / latents_std) +
    /// latents_mean` (the reciprocal taken in f32, then cast, like diffusers).
    pub fn denormalize_latents(&self, z: &Tensor) -> Result<Tensor> {
        let inv_std: Vec<f32> = self.config.latents_std.iter().map(|s| 1.0 / s).collect();
        let inv_std = self.channel_stat(&inv_std, z)?;
        let mean = self.channel_stat(&self.config.latents_mean, z)?;
        z.broadcast_div(&inv_std)?.broadcast_add(&mean)
    }

    /// `values` as a `[1, z_dim, 1, …]` tensor broadcastable against `like`.
    fn channel_stat(&self, values: &[f32], like: &Tensor) -> Result<Tensor> {
        let mut shape = vec![1; like.rank()];
        if like.rank() < 2 || like.dim(1)? != values.len() {
            candle_core::bail!(
                "latents {:?} do not have {} channels",
                like.shape(),
                values.len()
            );
        }
        shape[1] = values.len();
        Tensor::from_slice(values, shape.as_slice(), like.device())?.to_dtype(like.dtype())
    }
}

/// Checks `x` is `[B, channels, 1, H, W]` and returns `[B, channels, H, W]`.
fn one_frame(x: &Tensor, channels: usize, what: &str) -> Result<Tensor> {
    let (_, c, t, _, _) = x.dims5()?;
    if c != channels || t != 1 {
        // More frames would need the causal feature cache (video); images never have them.
        candle_core::bail!(
            "VAE {what} must be [B, {channels}, 1, H, W], got {:?}",
            x.shape()
        );
    }
    // Contiguous: callers pass views such as one frame narrowed out of several.
    x.squeeze(2)?.contiguous()
}
