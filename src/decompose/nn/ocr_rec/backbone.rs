//! PP-LCNetV3, the convolutional backbone of PP-OCRv4 recognition, in its inference form.
//!
//! PaddleOCR trains each layer as several parallel branches and re-parameterises them into
//! one conv for inference; the ONNX export is that inference form. Every layer is a conv
//! (the "learnable affine block" after it is folded into its weights by
//! `scripts/convert_ppocr_rec.py`), then hard-swish, then a learnable scalar affine. Blocks
//! are a depthwise conv and a 1×1 conv, two of them with squeeze-and-excitation between.
//! Heights shrink 48 → 3 while widths shrink only 4×, so each output column still sees one
//! narrow slice of the line: that is what lets the CTC head read left to right.

use candle::{D, Module, Result, Tensor};
use candle_core as candle;
use candle_nn::VarBuilder;

use super::depthwise::{Depthwise, hard_swish_affine};

/// Shape of one block after the stem.
struct BlockSpec {
    kernel: usize,
    cin: usize,
    cout: usize,
    /// `(h, w)`: recognition keeps width, so most downsampling is along the height only.
    stride: (usize, usize),
    /// Squeeze-and-excitation between the two convs.
    se: bool,
}

const fn spec(
    kernel: usize,
    cin: usize,
    cout: usize,
    stride: (usize, usize),
    se: bool,
) -> BlockSpec {
    BlockSpec {
        kernel,
        cin,
        cout,
        stride,
        se,
    }
}

/// The blocks after the stem: PP-LCNetV3 at scale 0.95 with recognition strides.
const BLOCKS: [BlockSpec; 14] = [
    spec(3, 16, 32, (1, 1), false),
    spec(3, 32, 64, (1, 1), false),
    spec(3, 64, 64, (1, 1), false),
    spec(3, 64, 128, (2, 1), false),
    spec(3, 128, 128, (1, 1), false),
    spec(3, 128, 240, (1, 2), false),
    spec(5, 240, 240, (1, 1), false),
    spec(5, 240, 240, (1, 1), false),
    spec(5, 240, 240, (1, 1), false),
    spec(5, 240, 240, (1, 1), false),
    spec(5, 240, 480, (2, 1), true),
    spec(5, 480, 480, (1, 1), true),
    spec(5, 480, 480, (2, 1), false),
    spec(5, 480, 480, (1, 1), false),
];

/// Channels the backbone hands to the neck.
pub const OUT_CHANNELS: usize = 480;

/// A scalar `y = scale·x + bias` after an activation, as stored by the converter.
#[derive(Debug, Clone, Copy)]
pub struct Affine {
    scale: f32,
    bias: f32,
}

impl Affine {
    fn new(vb: &VarBuilder) -> Result<Self> {
        let scalar = |name: &str| vb.get(1, name)?.squeeze(0)?.to_scalar::<f32>();
        Ok(Self {
            scale: scalar("scale")?,
            bias: scalar("bias")?,
        })
    }
}

/// A 1×1 conv as a matrix product, then hard-swish and its affine.
#[derive(Debug, Clone)]
struct Pointwise {
    /// `out × in`.
    weight: Tensor,
    /// `out × 1`, broadcast over positions.
    bias: Tensor,
    act: Affine,
}

impl Pointwise {
    fn new(cin: usize, cout: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            weight: vb.get((cout, cin, 1, 1), "weight")?.reshape((cout, cin))?,
            bias: vb.get(cout, "bias")?.reshape((cout, 1))?,
            act: Affine::new(&vb.pp("act"))?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (_, cin, h, w) = x.dims4()?;
        let y = self
            .weight
            .matmul(&x.reshape((cin, h * w))?)?
            .broadcast_add(&self.bias)?;
        let y = hard_swish_affine(y, self.act.scale, self.act.bias)?;
        y.reshape((1, (), h, w))
    }
}

/// Squeeze-and-excitation: channel weights from the mean of each channel.
#[derive(Debug, Clone)]
struct SqueezeExcite {
    conv1: (Tensor, Tensor),
    conv2: (Tensor, Tensor),
}

impl SqueezeExcite {
    fn new(channels: usize, vb: VarBuilder) -> Result<Self> {
        let mid = channels / 4;
        let conv = |cin: usize, cout: usize, vb: VarBuilder| -> Result<(Tensor, Tensor)> {
            Ok((
                vb.get((cout, cin, 1, 1), "weight")?.reshape((cout, cin))?,
                vb.get(cout, "bias")?.reshape((cout, 1))?,
            ))
        };
        Ok(Self {
            conv1: conv(channels, mid, vb.pp("conv1"))?,
            conv2: conv(mid, channels, vb.pp("conv2"))?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (_, c, h, w) = x.dims4()?;
        let mean = x.reshape((c, h * w))?.mean_keepdim(D::Minus1)?;
        let s = self
            .conv1
            .0
            .matmul(&mean)?
            .broadcast_add(&self.conv1.1)?
            .relu()?;
        let s = self.conv2.0.matmul(&s)?.broadcast_add(&self.conv2.1)?;
        // Hard-sigmoid: clip(x/6 + 1/2, 0, 1).
        let s = s.affine(1.0 / 6.0, 0.5)?.clamp(0f32, 1f32)?;
        x.broadcast_mul(&s.reshape((1, c, 1, 1))?)
    }
}

/// One depthwise-separable block.
#[derive(Debug, Clone)]
struct Block {
    dw: Depthwise,
    se: Option<SqueezeExcite>,
    pw: Pointwise,
}

/// The backbone: a stride-2 stem conv (BatchNorm folded, no activation) and 14 blocks.
#[derive(Debug, Clone)]
pub struct Backbone {
    stem: candle_nn::Conv2d,
    blocks: Vec<Block>,
}

impl Backbone {
    /// Reads the `backbone.*` tensors.
    pub fn new(vb: VarBuilder) -> Result<Self> {
        let cfg = candle_nn::Conv2dConfig {
            padding: 1,
            stride: 2,
            ..Default::default()
        };
        let stem = candle_nn::conv2d(3, 16, 3, cfg, vb.pp("stem"))?;
        let mut blocks = Vec::with_capacity(BLOCKS.len());
        for (i, b) in BLOCKS.iter().enumerate() {
            let (k, cin, cout, stride, se) = (b.kernel, b.cin, b.cout, b.stride, b.se);
            let vb = vb.pp(format!("blocks.{i}"));
            let se = if se {
                Some(SqueezeExcite::new(cin, vb.pp("se"))?)
            } else {
                None
            };
            let dw_vb = vb.pp("dw");
            let act = Affine::new(&dw_vb.pp("act"))?;
            blocks.push(Block {
                dw: Depthwise::new(cin, k, stride, act.scale, act.bias, dw_vb)?,
                se,
                pw: Pointwise::new(cin, cout, vb.pp("pw"))?,
            });
        }
        Ok(Self { stem, blocks })
    }

    /// `1×3×48×W` normalised BGR → `1×480×3×W/4` features.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut x = self.stem.forward(x)?;
        for block in &self.blocks {
            x = block.dw.forward(&x)?;
            if let Some(se) = &block.se {
                x = se.forward(&x)?;
            }
            x = block.pw.forward(&x)?;
        }
        Ok(x)
    }
}
