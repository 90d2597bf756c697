//! The SVTR neck and the CTC head of PP-OCRv4 recognition.
//!
//! The backbone's `480×3×W/4` map is pooled to one row of `W/8` columns; the neck mixes the
//! columns with two small transformer blocks (global attention over the whole line, so a
//! character can use its neighbours), concatenates the result with the pooled map, and the
//! head scores every column against the character list (blank first, space last).

use candle::{D, Module, Result, Tensor};
use candle_core as candle;
use candle_nn::{LayerNorm, Linear, VarBuilder};

use super::backbone::OUT_CHANNELS;

/// Width of the sequence features the head reads.
pub const DIMS: usize = 120;
/// Attention heads in each transformer block.
const HEADS: usize = 8;
/// Channels of the first neck conv and of the last but one.
const NARROW: usize = 60;
/// LayerNorm epsilon of the export.
const LN_EPS: f64 = 1e-5;

/// A conv with folded BatchNorm, then swish, over a one-row map held as `1×C×W`. The `1×3`
/// kernels pad one column each side; the `1×1` ones none.
#[derive(Debug, Clone)]
struct ConvSwish {
    /// `out × in × k` (the height-1 axis of the stored `out × in × 1 × k` dropped).
    weight: Tensor,
    bias: Tensor,
    kernel: usize,
}

impl ConvSwish {
    fn new(cin: usize, cout: usize, kernel: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            weight: vb
                .get((cout, cin, 1, kernel), "weight")?
                .reshape((cout, cin, kernel))?,
            bias: vb.get(cout, "bias")?.reshape((1, cout, 1))?,
            kernel,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = if self.kernel == 1 {
            let (cout, cin, _) = self.weight.dims3()?;
            let (_, _, w) = x.dims3()?;
            self.weight
                .reshape((cout, cin))?
                .matmul(&x.reshape((cin, w))?)?
                .reshape((1, cout, w))?
        } else {
            x.conv1d(&self.weight, self.kernel / 2, 1, 1, 1)?
        };
        y.broadcast_add(&self.bias)?.silu()
    }
}

/// Multi-head self-attention over the columns.
#[derive(Debug, Clone)]
struct Attention {
    qkv: Linear,
    proj: Linear,
}

impl Attention {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, t, c) = x.dims3()?;
        let head = c / HEADS;
        let qkv = self
            .qkv
            .forward(x)?
            .reshape((b, t, 3, HEADS, head))?
            .permute((2, 0, 3, 1, 4))?;
        let scale = (head as f64).powf(-0.5);
        let q = (qkv.get(0)?.contiguous()? * scale)?;
        let k = qkv.get(1)?.contiguous()?;
        let v = qkv.get(2)?.contiguous()?;
        let attn = candle_nn::ops::softmax_last_dim(&q.matmul(&k.t()?.contiguous()?)?)?;
        let y = attn.matmul(&v)?.transpose(1, 2)?.reshape((b, t, c))?;
        self.proj.forward(&y)
    }
}

/// A pre-norm transformer block: attention then a swish MLP, each with a residual.
#[derive(Debug, Clone)]
struct SvtrBlock {
    norm1: LayerNorm,
    attn: Attention,
    norm2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
}

impl SvtrBlock {
    fn new(vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            norm1: candle_nn::layer_norm(DIMS, LN_EPS, vb.pp("norm1"))?,
            attn: Attention {
                qkv: candle_nn::linear(DIMS, 3 * DIMS, vb.pp("attn.qkv"))?,
                proj: candle_nn::linear(DIMS, DIMS, vb.pp("attn.proj"))?,
            },
            norm2: candle_nn::layer_norm(DIMS, LN_EPS, vb.pp("norm2"))?,
            fc1: candle_nn::linear(DIMS, 2 * DIMS, vb.pp("mlp.fc1"))?,
            fc2: candle_nn::linear(2 * DIMS, DIMS, vb.pp("mlp.fc2"))?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let x = (x + self.attn.forward(&self.norm1.forward(x)?)?)?;
        let h = self.fc1.forward(&self.norm2.forward(&x)?)?.silu()?;
        x + self.fc2.forward(&h)?
    }
}

/// The SVTR neck (`EncoderWithSVTR`): `1×480×3×W/4` → `1×T×120`, `T = W/8`.
#[derive(Debug, Clone)]
pub struct Neck {
    conv1: ConvSwish,
    conv2: ConvSwish,
    blocks: [SvtrBlock; 2],
    norm: LayerNorm,
    conv3: ConvSwish,
    conv4: ConvSwish,
    conv1x1: ConvSwish,
}

impl Neck {
    /// Reads the `neck.*` tensors.
    pub fn new(vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            conv1: ConvSwish::new(OUT_CHANNELS, NARROW, 3, vb.pp("conv1"))?,
            conv2: ConvSwish::new(NARROW, DIMS, 1, vb.pp("conv2"))?,
            blocks: [
                SvtrBlock::new(vb.pp("svtr.0"))?,
                SvtrBlock::new(vb.pp("svtr.1"))?,
            ],
            norm: candle_nn::layer_norm(DIMS, LN_EPS, vb.pp("norm"))?,
            conv3: ConvSwish::new(DIMS, OUT_CHANNELS, 1, vb.pp("conv3"))?,
            conv4: ConvSwish::new(2 * OUT_CHANNELS, NARROW, 3, vb.pp("conv4"))?,
            conv1x1: ConvSwish::new(NARROW, DIMS, 1, vb.pp("conv1x1"))?,
        })
    }

    /// Backbone features → per-column sequence features `1×T×120`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        // Inference-time pooling of the backbone: 3×2 windows, so the 3 rows become one.
        let pooled = x.avg_pool2d_with_stride((3, 2), (3, 2))?;
        let (b, c, h, w) = pooled.dims4()?;
        if h != 1 {
            candle::bail!("text recognition: pooled height {h}, the input must be 48 px high");
        }
        let pooled = pooled.reshape((b, c, w))?;
        let z = self.conv2.forward(&self.conv1.forward(&pooled)?)?;
        let mut z = z.transpose(1, 2)?.contiguous()?;
        for block in &self.blocks {
            z = block.forward(&z)?;
        }
        let z = self.norm.forward(&z)?.transpose(1, 2)?.contiguous()?;
        let z = self.conv3.forward(&z)?;
        let z = Tensor::cat(&[&pooled, &z], 1)?;
        let z = self.conv1x1.forward(&self.conv4.forward(&z)?)?;
        z.transpose(1, 2)?.contiguous()
    }
}

/// The CTC head: per-column class probabilities.
#[derive(Debug, Clone)]
pub struct Head {
    fc: Linear,
}

impl Head {
    /// Reads `head.fc` for `classes` classes.
    pub fn new(classes: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            fc: candle_nn::linear(DIMS, classes, vb.pp("fc"))?,
        })
    }

    /// `1×T×120` → `1×T×classes` probabilities (softmax over classes).
    pub fn forward(&self, features: &Tensor) -> Result<Tensor> {
        let logits = self.fc.forward(features)?;
        candle_nn::ops::softmax(&logits, D::Minus1)
    }
}
