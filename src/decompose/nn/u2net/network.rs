//! The U²-Net-P network (`U2NETP` in xuebinqin/U-2-Net): six RSU encoder stages, five
//! decoder stages, six side outputs and a 1×1 fusion convolution.

use candle::{Result, Tensor};
use candle_core as candle;
use candle_nn::VarBuilder;

use super::conv::Conv;

use super::rsu::{ResidualBlock as _, Rsu, Rsu4F, pool_ceil, upsample_like};

/// Channels inside every RSU block of U²-Net-P.
const MID: usize = 16;
/// Channels between the RSU stages of U²-Net-P.
const OUT: usize = 64;

/// An encoder or decoder stage: a deep RSU block or a flat RSU-4F.
#[derive(Debug, Clone)]
enum Stage {
    Deep(Rsu),
    Flat(Box<Rsu4F>),
}

impl Stage {
    fn new(height: Option<usize>, inp: usize, vb: VarBuilder) -> Result<Self> {
        Ok(match height {
            Some(h) => Stage::Deep(Rsu::new(h, inp, MID, OUT, vb)?),
            None => Stage::Flat(Box::new(Rsu4F::new(inp, MID, OUT, vb)?)),
        })
    }

    /// The stage applied to the channel-wise concatenation of `xs`, which it consumes.
    fn forward(&self, xs: Vec<Tensor>) -> Result<Tensor> {
        match self {
            Stage::Deep(rsu) => rsu.forward(xs),
            Stage::Flat(rsu) => rsu.forward(xs),
        }
    }

    /// A decoder stage: the stage applied to `deeper` upsampled to the size of `skip`,
    /// concatenated with `skip`; both are consumed.
    fn forward_up(&self, deeper: Tensor, skip: Tensor) -> Result<Tensor> {
        match self {
            Stage::Deep(rsu) => rsu.forward_up(deeper, skip),
            Stage::Flat(rsu) => rsu.forward_up(deeper, skip),
        }
    }
}

/// U²-Net-P with loaded weights. Input: `N×3×H×W` ImageNet-normalised RGB (the pretrained
/// weights expect 320×320); output of [`U2Netp::forward`]: `N×1×H×W` saliency in `0..1`.
#[derive(Debug, Clone)]
pub struct U2Netp {
    /// `stage1` … `stage6`.
    encoder: Vec<Stage>,
    /// `stage5d` … `stage1d`.
    decoder: Vec<Stage>,
    /// `side1` … `side6`: 3×3 convs from each decoder output (and stage 6) to one channel.
    sides: Vec<Conv>,
    /// 1×1 conv fusing the six side outputs.
    outconv: Conv,
}

impl U2Netp {
    /// Builds the network from tensors named as `scripts/convert_u2netp.py` writes them.
    pub fn new(vb: VarBuilder) -> Result<Self> {
        let heights = [Some(7), Some(6), Some(5), Some(4), None, None];
        let mut encoder = Vec::with_capacity(6);
        for (i, h) in heights.iter().enumerate() {
            let inp = if i == 0 { 3 } else { OUT };
            encoder.push(Stage::new(*h, inp, vb.pp(format!("stage{}", i + 1)))?);
        }
        // stage5d is flat, stage4d … stage1d are RSU4 … RSU7.
        let mut decoder = Vec::with_capacity(5);
        for (level, h) in [
            (5, None),
            (4, Some(4)),
            (3, Some(5)),
            (2, Some(6)),
            (1, Some(7)),
        ] {
            decoder.push(Stage::new(h, 2 * OUT, vb.pp(format!("stage{level}d")))?);
        }
        let mut sides = Vec::with_capacity(6);
        for i in 1..=6 {
            sides.push(Conv::new(OUT, 1, 3, 1, vb.pp(format!("side{i}")))?);
        }
        let outconv = Conv::new(6, 1, 1, 1, vb.pp("outconv"))?;
        Ok(Self {
            encoder,
            decoder,
            sides,
            outconv,
        })
    }

    /// The fused saliency map `sigmoid(d0)`. The side outputs `d1…d6` are computed only as
    /// inputs to the fusion, as rembg uses only `d0`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let logits = self.forward_logits(x)?;
        candle_nn::ops::sigmoid(&logits)
    }

    /// `d0` before the sigmoid.
    ///
    /// Each stage's inputs are handed over and dropped once read, a decoder stage reads the
    /// deeper output upsampled on the fly, and each decoder output is reduced to its
    /// one-channel side output as soon as it exists, so at most two full-size 64-channel
    /// tensors (26 MB each at 320×320) are alive at once, rather than five.
    pub fn forward_logits(&self, x: &Tensor) -> Result<Tensor> {
        // Encoder: stage, pool, stage, pool, …, stage6 (no pool after it).
        let mut skips: Vec<Tensor> = Vec::with_capacity(6);
        let mut hx = x.clone();
        for (i, stage) in self.encoder.iter().enumerate() {
            if i > 0 {
                hx = pool_ceil(&hx)?;
            }
            hx = stage.forward(vec![hx])?;
            skips.push(hx.clone());
        }
        drop(hx);
        let missing = || candle::Error::Msg("U2Netp: stage output missing".into());
        // Decoder, deepest first: hx6, hx5d, hx4d, …, hx1d, each turned into its side
        // output (`side6` … `side1`) at the input's size.
        let mut deeper = skips.pop().ok_or_else(missing)?;
        let mut sides = Vec::with_capacity(6);
        for (stage, conv) in self.decoder.iter().zip(self.sides.iter().rev()) {
            sides.push(upsample_like(&conv.forward(&deeper, false)?, x)?);
            let skip = skips.pop().ok_or_else(missing)?;
            deeper = stage.forward_up(deeper, skip)?;
        }
        sides.push(self.sides[0].forward(&deeper, false)?);
        drop(deeper);
        sides.reverse(); // d1, d2, …, d6
        let sides: Vec<&Tensor> = sides.iter().collect();
        self.outconv.forward_cat(&sides, false)
    }
}
