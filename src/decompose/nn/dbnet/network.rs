//! PP-OCRv4's mobile text detector: PPLCNetV3 backbone (scale 0.75, reparameterised),
//! RSEFPN neck and the probability branch of the DB head, as the ONNX export lays it out
//! (`scripts/convert_ppocr_det.py` names the tensors after these modules).

use candle::Result;
use candle_core as candle;
use candle_nn::VarBuilder;

use super::conv::{Conv, Depthwise};
use super::layers::{Act, ConvT2, Fmap, Se, add_upsampled};

/// One depthwise-separable block: `(kernel, c_in, c_out, stride, has SE)`.
type BlockSpec = (usize, usize, usize, usize, bool);

/// The backbone's stages as the pretrained network has them (blocks2 … blocks6).
const STAGES: [(&str, &[BlockSpec]); 5] = [
    ("blocks2", &[(3, 16, 32, 1, false)]),
    ("blocks3", &[(3, 32, 48, 2, false), (3, 48, 48, 1, false)]),
    ("blocks4", &[(3, 48, 96, 2, false), (3, 96, 96, 1, false)]),
    (
        "blocks5",
        &[
            (3, 96, 192, 2, false),
            (5, 192, 192, 1, false),
            (5, 192, 192, 1, false),
            (5, 192, 192, 1, false),
            (5, 192, 192, 1, false),
        ],
    ),
    (
        "blocks6",
        &[
            (5, 192, 384, 2, true),
            (5, 384, 384, 1, true),
            (5, 384, 384, 1, false),
            (5, 384, 384, 1, false),
        ],
    ),
];

/// `layer_list`: channels of the stride-4/8/16/32 outputs and of their 1×1 reductions.
const REDUCTIONS: [(usize, usize); 4] = [(48, 12), (96, 18), (192, 42), (384, 360)];
/// Neck width.
const NECK: usize = 96;
/// Hard-sigmoid slopes: Paddle's `hardsigmoid(slope=1/6)` in the backbone's SE, the
/// default 0.2 in the neck's.
const BACKBONE_SE_SLOPE: f32 = 1.0 / 6.0;
const NECK_SE_SLOPE: f32 = 0.2;

/// A depthwise-separable PPLCNetV3 block.
#[derive(Debug, Clone)]
struct Block {
    dw: Depthwise,
    /// Hard-swish after the depthwise conv, absent after a strided one.
    dw_act: Act,
    se: Option<Se>,
    pw: Conv,
    pw_act: Act,
}

impl Block {
    fn new(&(k, c_in, c_out, stride, se): &BlockSpec, vb: VarBuilder) -> Result<Self> {
        let dw_vb = vb.pp("dw_conv");
        let dw = Depthwise::new(c_in, k, stride, dw_vb.pp("conv"))?;
        let dw_act = if stride == 2 {
            Act::Linear
        } else {
            Act::hard_swish(&dw_vb)?
        };
        let se = if se {
            Some(Se::new(c_in, BACKBONE_SE_SLOPE, vb.pp("se"))?)
        } else {
            None
        };
        let pw_vb = vb.pp("pw_conv");
        Ok(Self {
            dw,
            dw_act,
            se,
            pw: Conv::new(c_in, c_out, 1, 1, true, pw_vb.pp("conv"))?,
            pw_act: Act::hard_swish(&pw_vb)?,
        })
    }

    fn forward(&self, x: &Fmap) -> Result<Fmap> {
        let mut y = self.dw.forward(x, self.dw_act)?;
        if let Some(se) = &self.se {
            se.apply(&mut y, false)?;
        }
        self.pw.forward(&y, self.pw_act)
    }
}

/// RSEFPN's layer: a conv without bias, then `y + y · se(y)`.
#[derive(Debug, Clone)]
struct RseLayer {
    conv: Conv,
    se: Se,
}

impl RseLayer {
    fn new(c_in: usize, c_out: usize, kernel: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            conv: Conv::new(c_in, c_out, kernel, 1, false, vb.pp("in_conv"))?,
            se: Se::new(c_out, NECK_SE_SLOPE, vb.pp("se_block"))?,
        })
    }

    fn forward(&self, x: &Fmap) -> Result<Fmap> {
        let mut y = self.conv.forward(x, Act::Linear)?;
        self.se.apply(&mut y, true)?;
        Ok(y)
    }
}

/// The detector: picture (`3 × H × W`, BGR, `(v/255 − 0.5)/0.5`, H and W multiples of 32)
/// in, text probability (`1 × H × W`) out.
#[derive(Debug, Clone)]
pub struct DbNet {
    conv1: Conv,
    stages: Vec<Vec<Block>>,
    layer_list: Vec<Conv>,
    ins_conv: Vec<RseLayer>,
    inp_conv: Vec<RseLayer>,
    head_conv1: Conv,
    head_conv2: ConvT2,
    head_conv3: ConvT2,
}

impl DbNet {
    /// Builds the network from the tensors under `vb` (names as the converter writes them).
    pub fn new(vb: VarBuilder) -> Result<Self> {
        let bb = vb.pp("backbone");
        let conv1 = Conv::new(3, 16, 3, 2, true, bb.pp("conv1"))?;
        let stages = STAGES
            .iter()
            .map(|(name, specs)| {
                let st = bb.pp(*name);
                specs
                    .iter()
                    .enumerate()
                    .map(|(j, spec)| Block::new(spec, st.pp(j.to_string())))
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        let layer_list = REDUCTIONS
            .iter()
            .enumerate()
            .map(|(i, &(c_in, c_out))| {
                Conv::new(
                    c_in,
                    c_out,
                    1,
                    1,
                    true,
                    bb.pp("layer_list").pp(i.to_string()),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let neck = vb.pp("neck");
        let ins_conv = REDUCTIONS
            .iter()
            .enumerate()
            .map(|(i, &(_, c))| RseLayer::new(c, NECK, 1, neck.pp("ins_conv").pp(i.to_string())))
            .collect::<Result<Vec<_>>>()?;
        let inp_conv = (0..4)
            .map(|i| RseLayer::new(NECK, NECK / 4, 3, neck.pp("inp_conv").pp(i.to_string())))
            .collect::<Result<Vec<_>>>()?;
        let head = vb.pp("head").pp("binarize");
        Ok(Self {
            conv1,
            stages,
            layer_list,
            ins_conv,
            inp_conv,
            head_conv1: Conv::new(NECK, NECK / 4, 3, 1, true, head.pp("conv1"))?,
            head_conv2: ConvT2::new(NECK / 4, NECK / 4, head.pp("conv2"))?,
            head_conv3: ConvT2::new(NECK / 4, 1, head.pp("conv3"))?,
        })
    }

    /// Runs the network on a prepared input; returns the sigmoid probability map at the
    /// input's size.
    pub fn forward(&self, input: &Fmap) -> Result<Fmap> {
        if input.c != 3
            || !input.h.is_multiple_of(32)
            || !input.w.is_multiple_of(32)
            || input.h == 0
            || input.w == 0
        {
            candle::bail!(
                "the detector needs 3 × H × W with H, W multiples of 32, got {} × {} × {}",
                input.c,
                input.h,
                input.w
            );
        }
        // Backbone: the outputs of blocks3..blocks6 (strides 4, 8, 16, 32), reduced.
        let mut x = self.conv1.forward(input, Act::Linear)?;
        let mut reduced = Vec::with_capacity(4);
        for (i, stage) in self.stages.iter().enumerate() {
            for block in stage {
                x = block.forward(&x)?;
            }
            if i > 0 {
                reduced.push(self.layer_list[i - 1].forward(&x, Act::Linear)?);
            }
        }
        // Neck, top-down: in5, in4 + up(in5), in3 + up(…), in2 + up(…).
        let mut levels = Vec::with_capacity(4);
        for i in (0..4).rev() {
            let mut lvl = self.ins_conv[i].forward(&reduced[i])?;
            if let Some(coarser) = levels.last() {
                add_upsampled(&mut lvl, 0, coarser, 2, false);
            }
            levels.push(lvl);
        }
        // Each level to 24 channels, upsampled to stride 4 and stacked coarsest first.
        let (h4, w4) = (input.h / 4, input.w / 4);
        let mut fused = Fmap::zeros(NECK, h4, w4);
        for (i, lvl) in levels.iter().enumerate() {
            let p = self.inp_conv[i].forward(lvl)?;
            add_upsampled(&mut fused, i * NECK / 4, &p, 1 << (3 - i), true);
        }
        // Head: conv + BN + ReLU, two ×2 transposed convs, sigmoid.
        let y = self.head_conv1.forward(&fused, Act::Relu)?;
        let y = self.head_conv2.forward(&y, Act::Relu)?;
        let mut y = self.head_conv3.forward(&y, Act::Linear)?;
        y.data
            .iter_mut()
            .for_each(|v| *v = 1.0 / (1.0 + (-*v).exp()));
        Ok(y)
    }
}
