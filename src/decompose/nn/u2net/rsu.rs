//! The building blocks of U²-Net: REBNCONV and the residual U-blocks RSU-L and RSU-4F.
//!
//! Mirrors `model/u2net.py` of xuebinqin/U-2-Net. BatchNorm is already folded into each
//! convolution's weight and bias (the ONNX export did that), so REBNCONV is conv + ReLU.

use candle::{D, Result, Tensor};
use candle_core as candle;
use candle_nn::VarBuilder;

use super::conv::Conv;

/// 3×3 convolution with dilation `d` and padding `d` (size preserving), then ReLU.
#[derive(Debug, Clone)]
pub struct RebnConv {
    conv: Conv,
}

impl RebnConv {
    /// Loads `<vb>.conv.weight` (`out × inp × 3 × 3`) and `<vb>.conv.bias`.
    pub fn new(inp: usize, out: usize, dilation: usize, vb: VarBuilder) -> Result<Self> {
        let conv = Conv::new(inp, out, 3, dilation, vb.pp("conv"))?;
        Ok(Self { conv })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.conv.forward(x, true)
    }

    /// The block applied to the channel-wise concatenation of `xs`.
    pub fn forward_cat(&self, xs: &[&Tensor]) -> Result<Tensor> {
        self.conv.forward_cat(xs, true)
    }

    /// [`RebnConv::forward_cat`] plus `residual`, summed in the output's buffer.
    pub fn forward_cat_plus(&self, xs: &[&Tensor], residual: &Tensor) -> Result<Tensor> {
        self.conv.forward_cat_plus(xs, residual)
    }

    /// The block applied to `deeper` upsampled to the size of `skip`, concatenated with
    /// `skip`; the upsampled tensor is never materialised (see [`Conv::forward_up_cat`]).
    pub fn forward_up(&self, deeper: &Tensor, skip: &Tensor) -> Result<Tensor> {
        self.conv.forward_up_cat(deeper, &[skip], true)
    }

    /// [`RebnConv::forward_up`] plus `residual`, summed in the output's buffer.
    pub fn forward_up_plus(
        &self,
        deeper: &Tensor,
        skip: &Tensor,
        residual: &Tensor,
    ) -> Result<Tensor> {
        self.conv.forward_up_cat_plus(deeper, &[skip], residual)
    }
}

/// The input convolution of a residual U-block over the concatenation of `xs`, which are
/// dropped as soon as it has read them: a decoder stage's inputs are two of the network's
/// widest tensors, and nothing after this convolution needs them.
fn conv_in(conv: &RebnConv, xs: Vec<Tensor>) -> Result<Tensor> {
    let refs: Vec<&Tensor> = xs.iter().collect();
    conv.forward_cat(&refs)
}

/// What both residual U-blocks do with their input: one convolution over it, dropping it
/// once read, then the block's own body.
pub trait ResidualBlock {
    /// The block's input convolution.
    fn input_conv(&self) -> &RebnConv;

    /// The block after its input convolution, whose output is `hx_in`.
    fn forward_from(&self, hx_in: Tensor) -> Result<Tensor>;

    /// The block applied to the channel-wise concatenation of `xs`, which it consumes.
    fn forward(&self, xs: Vec<Tensor>) -> Result<Tensor> {
        self.forward_from(conv_in(self.input_conv(), xs)?)
    }

    /// The block applied to `deeper` upsampled to the size of `skip`, concatenated with
    /// `skip` (a decoder stage's input), both dropped once read.
    fn forward_up(&self, deeper: Tensor, skip: Tensor) -> Result<Tensor> {
        let hx_in = self.input_conv().forward_up(&deeper, &skip)?;
        // Dropped before the block runs: the last stage's skip is 26 MB at 320×320.
        drop((deeper, skip));
        self.forward_from(hx_in)
    }
}

/// 2×2 max-pool with stride 2 and PyTorch's `ceil_mode=True`: an odd trailing row/column
/// forms a window of its own. Padding with a copy of the edge gives the same maximum.
pub fn pool_ceil(x: &Tensor) -> Result<Tensor> {
    let (_, _, h, w) = x.dims4()?;
    let x = x.pad_with_same(D::Minus2, 0, h % 2)?;
    let x = x.pad_with_same(D::Minus1, 0, w % 2)?;
    x.max_pool2d(2)
}

/// Bilinear resize of `x` to the spatial size of `like` (PyTorch `upsample(mode='bilinear')`,
/// `align_corners=False`; ONNX Resize `linear` + `pytorch_half_pixel`). Identity when equal.
pub fn upsample_like(x: &Tensor, like: &Tensor) -> Result<Tensor> {
    let (_, _, h, w) = x.dims4()?;
    let (_, _, th, tw) = like.dims4()?;
    if (h, w) == (th, tw) {
        Ok(x.clone())
    } else {
        x.upsample_bilinear2d(th, tw, false)
    }
}

/// Residual U-block of height `L` (RSU7, RSU6, RSU5, RSU4): an `L`-level U-Net whose levels
/// are joined by 2×2 max-pooling (down) and bilinear upsampling (up), plus the input skip.
#[derive(Debug, Clone)]
pub struct Rsu {
    conv_in: RebnConv,
    /// `rebnconv1` … `rebnconv{L}`; the last one is dilated by 2 instead of pooled.
    encoder: Vec<RebnConv>,
    /// `rebnconv{L-1}d` … `rebnconv1d`, deepest first.
    decoder: Vec<RebnConv>,
}

impl Rsu {
    /// An RSU-`height` block (`height` ≥ 3) from `inp` to `out` channels with `mid` inside.
    pub fn new(height: usize, inp: usize, mid: usize, out: usize, vb: VarBuilder) -> Result<Self> {
        let conv_in = RebnConv::new(inp, out, 1, vb.pp("rebnconvin"))?;
        let mut encoder = vec![RebnConv::new(out, mid, 1, vb.pp("rebnconv1"))?];
        for i in 2..height {
            encoder.push(RebnConv::new(mid, mid, 1, vb.pp(format!("rebnconv{i}")))?);
        }
        encoder.push(RebnConv::new(
            mid,
            mid,
            2,
            vb.pp(format!("rebnconv{height}")),
        )?);
        let mut decoder = Vec::with_capacity(height - 1);
        for i in (2..height).rev() {
            decoder.push(RebnConv::new(
                2 * mid,
                mid,
                1,
                vb.pp(format!("rebnconv{i}d")),
            )?);
        }
        decoder.push(RebnConv::new(2 * mid, out, 1, vb.pp("rebnconv1d"))?);
        Ok(Self {
            conv_in,
            encoder,
            decoder,
        })
    }
}

impl ResidualBlock for Rsu {
    fn input_conv(&self) -> &RebnConv {
        &self.conv_in
    }

    fn forward_from(&self, hx_in: Tensor) -> Result<Tensor> {
        // Encoder: conv, pool, conv, pool, …; the last two convs run at the same size.
        let levels = self.encoder.len();
        let mut skips: Vec<Tensor> = Vec::with_capacity(levels);
        let mut hx = hx_in.clone();
        for (i, conv) in self.encoder.iter().enumerate() {
            if i > 0 && i < levels - 1 {
                hx = pool_ceil(&hx)?;
            }
            hx = conv.forward(&hx)?;
            skips.push(hx.clone());
        }
        // Decoder: concat (deeper, skip) → conv, upsampling to each skip's size on the way.
        let mut deeper = skips
            .pop()
            .ok_or_else(|| candle::Error::Msg("empty RSU".into()))?;
        let last = self.decoder.len() - 1;
        for (i, conv) in self.decoder.iter().enumerate() {
            let skip = skips
                .pop()
                .ok_or_else(|| candle::Error::Msg("RSU skip missing".into()))?;
            deeper = if i == last {
                conv.forward_up_plus(&deeper, &skip, &hx_in)?
            } else {
                conv.forward_up(&deeper, &skip)?
            };
        }
        Ok(deeper)
    }
}

/// RSU-4F: the "flat" RSU-4 used at the lowest resolutions, with dilations 1, 2, 4, 8
/// instead of pooling, so every level keeps the input size.
#[derive(Debug, Clone)]
pub struct Rsu4F {
    conv_in: RebnConv,
    encoder: [RebnConv; 4],
    decoder: [RebnConv; 3],
}

impl Rsu4F {
    pub fn new(inp: usize, mid: usize, out: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            conv_in: RebnConv::new(inp, out, 1, vb.pp("rebnconvin"))?,
            encoder: [
                RebnConv::new(out, mid, 1, vb.pp("rebnconv1"))?,
                RebnConv::new(mid, mid, 2, vb.pp("rebnconv2"))?,
                RebnConv::new(mid, mid, 4, vb.pp("rebnconv3"))?,
                RebnConv::new(mid, mid, 8, vb.pp("rebnconv4"))?,
            ],
            decoder: [
                RebnConv::new(2 * mid, mid, 4, vb.pp("rebnconv3d"))?,
                RebnConv::new(2 * mid, mid, 2, vb.pp("rebnconv2d"))?,
                RebnConv::new(2 * mid, out, 1, vb.pp("rebnconv1d"))?,
            ],
        })
    }
}

impl ResidualBlock for Rsu4F {
    fn input_conv(&self) -> &RebnConv {
        &self.conv_in
    }

    fn forward_from(&self, hx_in: Tensor) -> Result<Tensor> {
        let hx1 = self.encoder[0].forward(&hx_in)?;
        let hx2 = self.encoder[1].forward(&hx1)?;
        let hx3 = self.encoder[2].forward(&hx2)?;
        let hx4 = self.encoder[3].forward(&hx3)?;
        let hx3d = self.decoder[0].forward_cat(&[&hx4, &hx3])?;
        let hx2d = self.decoder[1].forward_cat(&[&hx3d, &hx2])?;
        self.decoder[2].forward_cat_plus(&[&hx2d, &hx1], &hx_in)
    }
}
