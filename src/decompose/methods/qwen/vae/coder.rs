//! diffusers' `QwenImageEncoder3d` and `QwenImageDecoder3d` on a single frame (`[B, C, H, W]`).

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::VaeConfig;
use super::layers::{AttentionBlock, Conv, Resample, ResidualBlock, RmsNorm, causal_conv};

/// diffusers' `QwenImageMidBlock` with its one attention layer: resnet, attention, resnet.
#[derive(Clone, Debug)]
struct MidBlock {
    resnet0: ResidualBlock,
    attention: AttentionBlock,
    resnet1: ResidualBlock,
}

impl MidBlock {
    fn new(vb: &VarBuilder, dim: usize) -> Result<Self> {
        Ok(Self {
            resnet0: ResidualBlock::new(&vb.pp("resnets.0"), dim, dim)?,
            attention: AttentionBlock::new(&vb.pp("attentions.0"), dim)?,
            resnet1: ResidualBlock::new(&vb.pp("resnets.1"), dim, dim)?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let x = self.resnet0.forward(x)?;
        let x = self.attention.forward(&x)?;
        self.resnet1.forward(&x)
    }
}

/// One entry of the encoder's flat `down_blocks` list.
#[derive(Clone, Debug)]
enum DownLayer {
    Residual(ResidualBlock),
    Resample(Resample),
}

/// The encoder: image `[B, input_channels, H, W]` to the posterior's moments
/// `[B, 2·z_dim, H/r, W/r]` (before `quant_conv`), `r` the spatial compression ratio.
#[derive(Clone, Debug)]
pub(super) struct Encoder {
    conv_in: Conv,
    down: Vec<DownLayer>,
    mid: MidBlock,
    norm_out: RmsNorm,
    conv_out: Conv,
}

impl Encoder {
    pub(super) fn new(vb: &VarBuilder, cfg: &VaeConfig) -> Result<Self> {
        let dims: Vec<usize> = std::iter::once(1)
            .chain(cfg.dim_mult.iter().copied())
            .map(|m| cfg.base_dim * m)
            .collect();
        let conv_in = causal_conv(&vb.pp("conv_in"), cfg.input_channels, dims[0], 3, 1)?;
        // diffusers appends to one `nn.ModuleList`: per level `num_res_blocks` residual blocks
        // (attention blocks too where `scale ∈ attn_scales`; refused in `VaeConfig::check`),
        // then a resample except after the last level. The state-dict keys number that list.
        let vb_down = vb.pp("down_blocks");
        let mut down = Vec::new();
        let levels = cfg.dim_mult.len();
        for (level, pair) in dims.windows(2).enumerate() {
            let (mut in_dim, out_dim) = (pair[0], pair[1]);
            for _ in 0..cfg.num_res_blocks {
                let block = ResidualBlock::new(&vb_down.pp(down.len()), in_dim, out_dim)?;
                down.push(DownLayer::Residual(block));
                in_dim = out_dim;
            }
            if level + 1 != levels {
                // `downsample3d` and `downsample2d` agree on one frame (see `Resample`).
                let resample = Resample::down(&vb_down.pp(down.len()), out_dim)?;
                down.push(DownLayer::Resample(resample));
            }
        }
        let out_dim = dims[levels];
        Ok(Self {
            conv_in,
            down,
            mid: MidBlock::new(&vb.pp("mid_block"), out_dim)?,
            norm_out: RmsNorm::new(&vb.pp("norm_out"), out_dim, false)?,
            conv_out: causal_conv(&vb.pp("conv_out"), out_dim, 2 * cfg.z_dim, 3, 1)?,
        })
    }

    pub(super) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut x = self.conv_in.forward(x)?;
        for layer in &self.down {
            x = match layer {
                DownLayer::Residual(block) => block.forward(&x)?,
                DownLayer::Resample(resample) => resample.forward(&x)?,
            };
        }
        let x = self.mid.forward(&x)?;
        self.conv_out.forward(&self.norm_out.forward(&x)?.silu()?)
    }
}

/// diffusers' `QwenImageUpBlock`: `num_res_blocks + 1` residual blocks, then an optional
/// upsampler.
#[derive(Clone, Debug)]
struct UpBlock {
    resnets: Vec<ResidualBlock>,
    upsampler: Option<Resample>,
}

/// The decoder: latent `[B, z_dim, h, w]` (after `post_quant_conv`) to the image
/// `[B, input_channels, h·r, w·r]`, unclamped.
#[derive(Clone, Debug)]
pub(super) struct Decoder {
    conv_in: Conv,
    mid: MidBlock,
    up: Vec<UpBlock>,
    norm_out: RmsNorm,
    conv_out: Conv,
}

impl Decoder {
    pub(super) fn new(vb: &VarBuilder, cfg: &VaeConfig) -> Result<Self> {
        // diffusers: dims = base_dim · ([dim_mult[-1]] + dim_mult[::-1]).
        let last = cfg.dim_mult.last().copied().unwrap_or(1);
        let dims: Vec<usize> = std::iter::once(last)
            .chain(cfg.dim_mult.iter().rev().copied())
            .map(|m| cfg.base_dim * m)
            .collect();
        let conv_in = causal_conv(&vb.pp("conv_in"), cfg.z_dim, dims[0], 3, 1)?;
        let mid = MidBlock::new(&vb.pp("mid_block"), dims[0])?;
        let levels = cfg.dim_mult.len();
        let mut up = Vec::with_capacity(levels);
        for (level, pair) in dims.windows(2).enumerate() {
            let vb_up = vb.pp("up_blocks").pp(level);
            // Every block but the first follows an upsampler, whose conv halved the channels.
            let (mut in_dim, out_dim) = (pair[0], pair[1]);
            if level > 0 {
                in_dim /= 2;
            }
            let mut resnets = Vec::with_capacity(cfg.num_res_blocks + 1);
            for i in 0..=cfg.num_res_blocks {
                resnets.push(ResidualBlock::new(
                    &vb_up.pp("resnets").pp(i),
                    in_dim,
                    out_dim,
                )?);
                in_dim = out_dim;
            }
            // `upsample3d` (where `temperal_upsample`, the reversed `temperal_downsample`, is
            // true) and `upsample2d` agree on one frame (see `Resample`).
            let upsampler = if level + 1 != levels {
                Some(Resample::up(&vb_up.pp("upsamplers.0"), out_dim)?)
            } else {
                None
            };
            up.push(UpBlock { resnets, upsampler });
        }
        let out_dim = dims[levels];
        Ok(Self {
            conv_in,
            mid,
            up,
            norm_out: RmsNorm::new(&vb.pp("norm_out"), out_dim, false)?,
            conv_out: causal_conv(&vb.pp("conv_out"), out_dim, cfg.input_channels, 3, 1)?,
        })
    }

    pub(super) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut x = self.mid.forward(&self.conv_in.forward(x)?)?;
        for block in &self.up {
            for resnet in &block.resnets {
                x = resnet.forward(&x)?;
            }
            if let Some(upsampler) = &block.upsampler {
                x = upsampler.forward(&x)?;
            }
        }
        self.conv_out.forward(&self.norm_out.forward(&x)?.silu()?)
    }
}
