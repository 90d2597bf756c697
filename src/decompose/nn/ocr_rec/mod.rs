//! Text-line recognition with PP-OCRv4 (SVTR_LCNet, PaddleOCR), run natively with candle.
//!
//! The pretrained weights (Apache-2.0, see `assets/models/NOTICE`) and the character list are
//! embedded in the binary and parsed once, on first use. [`recognize_line`] reproduces
//! RapidOCR's recognition step: composite over white, scale to 48 px high ([`input`]), run
//! the PP-LCNetV3 backbone, the SVTR neck and the CTC head, and decode greedily ([`ctc`]).
//! It reads one line; finding the lines in a picture is the text detector's job.
//!
//! The weights are stored in f16 (5.4 MB instead of 10.8 MB) and computed in f32.

mod backbone;
mod ctc;
mod depthwise;
pub mod input;
mod neck;

use std::sync::OnceLock;

use candle::{DType, Device, Tensor};
use candle_core as candle;
use candle_nn::VarBuilder;

use crate::decompose::DecomposeError;
use crate::model::RgbaImage;
use backbone::Backbone;
use neck::{Head, Neck};

/// Where the embedded weights come from, for error messages.
pub const WEIGHTS_PATH: &str = "assets/models/ppocrv4_rec.safetensors (built into strata)";
/// Where the embedded character list comes from, for error messages.
pub const KEYS_PATH: &str = "assets/models/ppocrv4_rec_keys.txt (built into strata)";

/// The converted weights (`scripts/convert_ppocr_rec.py`), 5.4 MB.
static WEIGHTS: &[u8] = include_bytes!("../../../../assets/models/ppocrv4_rec.safetensors");
/// The character list, one character a line; class `i` (from 1) is line `i`.
static KEYS: &str = include_str!("../../../../assets/models/ppocrv4_rec_keys.txt");

/// Characters in the list the weights were trained with.
pub const NUM_KEYS: usize = 6623;

/// The network, built on first use; a load error is kept so every caller sees it.
static MODEL: OnceLock<Result<Recognizer, DecomposeError>> = OnceLock::new();

/// PP-OCRv4's recognition network with its character list.
#[derive(Debug, Clone)]
pub struct Recognizer {
    backbone: Backbone,
    neck: Neck,
    head: Head,
    keys: Vec<char>,
}

impl Recognizer {
    /// Sequence features `1×T×120` (what the CTC head reads) for a `1×3×48×W` input.
    pub fn features(&self, input: &Tensor) -> candle::Result<Tensor> {
        self.neck.forward(&self.backbone.forward(input)?)
    }

    /// Class probabilities `1×T×6625` for features from [`Recognizer::features`].
    pub fn probabilities(&self, features: &Tensor) -> candle::Result<Tensor> {
        self.head.forward(features)
    }

    /// Greedy CTC decoding of `1×T×6625` probabilities: text and mean confidence.
    pub fn decode(&self, probabilities: &Tensor) -> candle::Result<(String, f32)> {
        let classes = probabilities.dim(candle::D::Minus1)?;
        let probs = probabilities.flatten_all()?.to_vec1::<f32>()?;
        Ok(ctc::decode(&probs, classes, &self.keys))
    }
}

/// The embedded recogniser on the CPU, loaded once per process.
pub fn model() -> Result<&'static Recognizer, DecomposeError> {
    MODEL
        .get_or_init(|| load(WEIGHTS, KEYS))
        .as_ref()
        .map_err(Clone::clone)
}

/// Builds the recogniser from safetensors bytes and a character list (safe parsing, no
/// memory mapping). Faults are reported against the embedded files' names.
pub fn load(weights: &[u8], keys: &str) -> Result<Recognizer, DecomposeError> {
    let keys = ctc::parse_keys(keys).map_err(|e| DecomposeError::weights_file(KEYS_PATH, e))?;
    if keys.len() != NUM_KEYS {
        return Err(DecomposeError::weights_file(
            KEYS_PATH,
            format!("{} characters, want {NUM_KEYS}", keys.len()),
        ));
    }
    let build = || -> candle::Result<Recognizer> {
        let device = Device::Cpu;
        let tensors = candle::safetensors::load_buffer(weights, &device)?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        Ok(Recognizer {
            backbone: Backbone::new(vb.pp("backbone"))?,
            neck: Neck::new(vb.pp("neck"))?,
            // Blank, the list, and the space PaddleOCR appends.
            head: Head::new(NUM_KEYS + 2, vb.pp("head"))?,
            keys,
        })
    };
    build().map_err(|e| DecomposeError::weights_file(WEIGHTS_PATH, e))
}

/// The `1×3×48×W` network input for a non-empty crop (see [`input`]).
pub fn preprocess(crop: &RgbaImage) -> Result<Tensor, DecomposeError> {
    let (data, width) = input::planes(crop);
    Tensor::from_vec(data, (1, 3, input::HEIGHT, width), &Device::Cpu).map_err(compute_error)
}

/// Reads the text in a crop holding one line of text (straight-alpha RGBA, composited over
/// white); returns the decoded string and mean character confidence.
///
/// The string is trimmed of leading and trailing whitespace (the network may read the
/// margin as a space); the confidence is the mean over every decoded character, as RapidOCR
/// reports it. An empty crop reads as `("", 0.0)`.
pub fn recognize_line(crop: &RgbaImage) -> Result<(String, f32), DecomposeError> {
    if crop.width() == 0 || crop.height() == 0 {
        return Ok((String::new(), 0.0));
    }
    let net = model()?;
    let x = preprocess(crop)?;
    let run = || -> candle::Result<(String, f32)> {
        let probs = net.probabilities(&net.features(&x)?)?;
        net.decode(&probs)
    };
    let (text, confidence) = run().map_err(compute_error)?;
    Ok((text.trim().to_string(), confidence))
}

fn compute_error(e: candle::Error) -> DecomposeError {
    DecomposeError::compute("running PP-OCRv4 text recognition", &e)
}
