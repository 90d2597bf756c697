//! The VAE's building blocks, specialised to a single frame.
//!
//! Everything here works on 4-D `[B, C, H, W]` tensors: with one frame per image the time axis
//! of diffusers' `[B, C, T, H, W]` activations is always 1 and is dropped at the VAE's
//! boundary (see the parent module for why each temporal operation reduces to a 2-D one).

use candle_core::{D, DType, Result, Tensor};
use candle_nn::VarBuilder;

/// A 2-D convolution with bias.
///
/// candle's CPU backend has no bf16 matrix product inside its convolution, so on the CPU a
/// bf16 conv widens input and kernel to f32, adds the bias there and rounds once at the end;
/// that is also what PyTorch's CPU bf16 conv computes (f32 accumulation, one rounding).
#[derive(Clone, Debug)]
pub(super) struct Conv {
    weight: Tensor,
    /// `[1, C_out, 1, 1]`.
    bias: Tensor,
    padding: usize,
    stride: usize,
}

impl Conv {
    pub(super) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let conv = |x: &Tensor, w: &Tensor, b: &Tensor| {
            x.conv2d(w, self.padding, self.stride, 1, 1)?
                .broadcast_add(b)
        };
        if x.device().is_cpu() && x.dtype() == DType::BF16 {
            let f32 = |t: &Tensor| t.to_dtype(DType::F32);
            conv(&f32(x)?, &f32(&self.weight)?, &f32(&self.bias)?)?.to_dtype(DType::BF16)
        } else {
            conv(x, &self.weight, &self.bias)
        }
    }
}

/// diffusers' `QwenImageCausalConv3d` on a single frame, as the 2-D convolution it reduces to.
///
/// The causal conv pads the time axis with `2·p_t` zero frames in front and none behind (its
/// `_padding` is `(p_w, p_w, p_h, p_h, 2·p_t, 0)`). On the first chunk the feature cache is
/// empty (`cache_x is None`), so a one-frame input becomes `2·p_t` zeros followed by the
/// frame, and with kernel depth `k_t = 2·p_t + 1` the single output frame is
/// `Σ_τ W[:, :, τ] ∗ x_padded[τ]`, in which only `τ = k_t − 1` meets the real frame: the
/// 3-D conv equals a 2-D conv with the *last* temporal kernel slice (and spatial padding
/// `p_h = p_w`). That covers the `3×3×3, padding 1` convs (slice 2) and the `1×1×1` ones
/// (shortcuts, `quant_conv`, `post_quant_conv`; slice 0).
pub(super) fn causal_conv(
    vb: &VarBuilder,
    in_dim: usize,
    out_dim: usize,
    kernel: usize,
    padding: usize,
) -> Result<Conv> {
    let depth = 2 * padding + 1;
    if kernel != depth {
        // Only the shapes the VAE uses; any other would output 0 or several frames.
        candle_core::bail!(
            "causal conv with kernel {kernel} and padding {padding} is not one frame"
        );
    }
    let weight = vb.get((out_dim, in_dim, kernel, kernel, kernel), "weight")?;
    Ok(Conv {
        weight: weight.narrow(2, kernel - 1, 1)?.squeeze(2)?.contiguous()?,
        bias: vb.get(out_dim, "bias")?.reshape((1, out_dim, 1, 1))?,
        padding,
        stride: 1,
    })
}

/// A plain `nn.Conv2d` with a square kernel (diffusers' resample and attention convs).
fn conv2d(
    vb: &VarBuilder,
    in_dim: usize,
    out_dim: usize,
    kernel: usize,
    padding: usize,
    stride: usize,
) -> Result<Conv> {
    Ok(Conv {
        weight: vb.get((out_dim, in_dim, kernel, kernel), "weight")?,
        bias: vb.get(out_dim, "bias")?.reshape((1, out_dim, 1, 1))?,
        padding,
        stride,
    })
}

/// diffusers' `QwenImageRMS_norm`: `F.normalize(x, dim=1) · √C · γ` (no bias: the VAE never
/// enables it).
#[derive(Clone, Debug)]
pub(super) struct RmsNorm {
    /// `γ` reshaped to `[1, C, 1, 1]`.
    gamma: Tensor,
    scale: f64,
}

impl RmsNorm {
    /// `images` is diffusers' flag: the residual blocks' norms (`images=False`) store `γ` as
    /// `[C, 1, 1, 1]` (for 5-D activations), the attention norm's (`images=True`) as `[C, 1, 1]`.
    pub(super) fn new(vb: &VarBuilder, dim: usize, images: bool) -> Result<Self> {
        let gamma = if images {
            vb.get((dim, 1, 1), "gamma")?
        } else {
            vb.get((dim, 1, 1, 1), "gamma")?
        };
        Ok(Self {
            gamma: gamma.reshape((1, dim, 1, 1))?,
            scale: (dim as f64).sqrt(),
        })
    }

    pub(super) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        // diffusers normalises half-precision inputs in f32 (a sum of squares over hundreds of
        // channels overflows or loses too much in bf16/f16), casts back, then scales in the
        // input's precision, as here. `F.normalize` divides by `max(‖x‖₂, 1e-12)`.
        let xf = x.to_dtype(DType::F32)?;
        let norm = xf.sqr()?.sum_keepdim(1)?.sqrt()?.maximum(1e-12)?;
        let normalized = xf.broadcast_div(&norm)?.to_dtype(x.dtype())?;
        (normalized * self.scale)?.broadcast_mul(&self.gamma)
    }
}

/// diffusers' `QwenImageResidualBlock`: `conv2(silu(norm2(conv1(silu(norm1(x)))))) + shortcut(x)`
/// (dropout is the identity at inference).
#[derive(Clone, Debug)]
pub(super) struct ResidualBlock {
    norm1: RmsNorm,
    conv1: Conv,
    norm2: RmsNorm,
    conv2: Conv,
    /// A `1×1×1` causal conv when the channel count changes.
    shortcut: Option<Conv>,
}

impl ResidualBlock {
    pub(super) fn new(vb: &VarBuilder, in_dim: usize, out_dim: usize) -> Result<Self> {
        Ok(Self {
            norm1: RmsNorm::new(&vb.pp("norm1"), in_dim, false)?,
            conv1: causal_conv(&vb.pp("conv1"), in_dim, out_dim, 3, 1)?,
            norm2: RmsNorm::new(&vb.pp("norm2"), out_dim, false)?,
            conv2: causal_conv(&vb.pp("conv2"), out_dim, out_dim, 3, 1)?,
            shortcut: if in_dim == out_dim {
                None
            } else {
                Some(causal_conv(&vb.pp("conv_shortcut"), in_dim, out_dim, 1, 0)?)
            },
        })
    }

    pub(super) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = match &self.shortcut {
            Some(conv) => conv.forward(x)?,
            None => x.clone(),
        };
        let x = self.conv1.forward(&self.norm1.forward(x)?.silu()?)?;
        let x = self.conv2.forward(&self.norm2.forward(&x)?.silu()?)?;
        x + h
    }
}

/// Queries per attention chunk are chosen so that one chunk's f32 score matrix holds at most
/// this many elements (64 MiB): softmax is row-wise, so splitting the queries changes nothing
/// numerically, and the full `HW × HW` matrix at 1024² (128² = 16 384 latent tokens) would be
/// 1 GiB per image.
const ATTENTION_SCORES_PER_CHUNK: usize = 1 << 24;

/// diffusers' `QwenImageAttentionBlock`: single-head self-attention over the `H·W` positions
/// of each frame, with a residual connection.
#[derive(Clone, Debug)]
pub(super) struct AttentionBlock {
    norm: RmsNorm,
    to_qkv: Conv,
    proj: Conv,
}

impl AttentionBlock {
    pub(super) fn new(vb: &VarBuilder, dim: usize) -> Result<Self> {
        Ok(Self {
            norm: RmsNorm::new(&vb.pp("norm"), dim, true)?,
            to_qkv: conv2d(&vb.pp("to_qkv"), dim, 3 * dim, 1, 0, 1)?,
            proj: conv2d(&vb.pp("proj"), dim, dim, 1, 0, 1)?,
        })
    }

    pub(super) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, c, h, w) = x.dims4()?;
        let qkv = self.to_qkv.forward(&self.norm.forward(x)?)?;
        // diffusers: reshape to [B, 1, 3C, HW], permute to [B, 1, HW, 3C], chunk the last axis
        // into q, k, v (channels [0, C), [C, 2C), [2C, 3C)). The scores and softmax are
        // computed in f32 whatever the model's dtype.
        let qkv = qkv
            .reshape((b, 3 * c, h * w))?
            .transpose(1, 2)?
            .to_dtype(DType::F32)?;
        let q = qkv.narrow(2, 0, c)?;
        let k_t = qkv.narrow(2, c, c)?.transpose(1, 2)?.contiguous()?;
        let v = qkv.narrow(2, 2 * c, c)?.contiguous()?;
        let scale = 1.0 / (c as f64).sqrt();
        let tokens = h * w;
        let chunk = (ATTENTION_SCORES_PER_CHUNK / (b * tokens).max(1)).clamp(1, tokens);
        let mut outs = Vec::with_capacity(tokens.div_ceil(chunk));
        for start in (0..tokens).step_by(chunk) {
            let len = chunk.min(tokens - start);
            let q = q.narrow(1, start, len)?.contiguous()?;
            let scores = (q.matmul(&k_t)? * scale)?;
            let probs = candle_nn::ops::softmax_last_dim(&scores)?;
            outs.push(probs.matmul(&v)?);
        }
        let out = Tensor::cat(&outs, 1)?.to_dtype(x.dtype())?;
        // [B, HW, C] -> [B, C, H, W]
        let out = out.transpose(1, 2)?.reshape((b, c, h, w))?;
        self.proj.forward(&out)? + x
    }
}

/// diffusers' `QwenImageResample` on the first (only) frame.
///
/// * `downsample2d`/`downsample3d`: zero-pad right and bottom by one, `3×3` conv with stride
///   2. In `downsample3d` the first chunk only *stores* the frame in the feature cache
///   (`feat_cache[idx] is None` → `feat_cache[idx] = x.clone()`) and skips `time_conv`, so on
///   one frame both modes are the same and `time_conv` is never loaded.
/// * `upsample2d`/`upsample3d`: nearest-exact ×2 (which for an integer factor of 2 is plain
///   pixel replication, `src = ⌊(dst + ½)/2⌋ = ⌊dst/2⌋`, what candle's nearest upsampling
///   does), then a `3×3` conv halving the channels. In `upsample3d` the first chunk marks the
///   cache `"Rep"` and skips `time_conv` (which would double the frame count), so again both
///   modes agree.
#[derive(Clone, Debug)]
pub(super) enum Resample {
    /// Stride-2 conv after `ZeroPad2d((0, 1, 0, 1))`.
    Down(Conv),
    /// ×2 nearest upsampling, then a conv from `dim` to `dim / 2` channels.
    Up(Conv),
}

impl Resample {
    pub(super) fn down(vb: &VarBuilder, dim: usize) -> Result<Self> {
        // `resample` is `nn.Sequential(ZeroPad2d, Conv2d)`: the conv is entry 1.
        Ok(Self::Down(conv2d(&vb.pp("resample.1"), dim, dim, 3, 0, 2)?))
    }

    pub(super) fn up(vb: &VarBuilder, dim: usize) -> Result<Self> {
        // `resample` is `nn.Sequential(QwenImageUpsample, Conv2d)`.
        Ok(Self::Up(conv2d(
            &vb.pp("resample.1"),
            dim,
            dim / 2,
            3,
            1,
            1,
        )?))
    }

    pub(super) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Self::Down(conv) => conv.forward(&x.pad_with_zeros(D::Minus1, 0, 1)?.pad_with_zeros(
                D::Minus2,
                0,
                1,
            )?),
            Self::Up(conv) => {
                let (_, _, h, w) = x.dims4()?;
                conv.forward(&x.upsample_nearest2d(2 * h, 2 * w)?)
            }
        }
    }
}
