//! Salient-object matting with U²-Net-P (Qin et al. 2020), run natively with candle.
//!
//! The pretrained weights (Apache-2.0, see `assets/models/NOTICE`) are embedded in the binary
//! and parsed once, on first use. [`saliency`] reproduces rembg's pipeline: flatten to RGB,
//! Lanczos-resize to 320×320, divide by the largest channel value, ImageNet mean/std, run the
//! network, keep the fused output `d0` and stretch it to `0..=1`. The caller resizes the
//! 320×320 result to the picture ([`Matte::resized`]) and refines it.

mod conv;
mod matte;
mod network;
mod rsu;

use std::sync::OnceLock;

use candle::{DType, Device, Tensor};
use candle_core as candle;
use candle_nn::VarBuilder;
use image::imageops::{self, FilterType};

pub use matte::{Matte, taps};
pub use network::U2Netp;

use crate::decompose::DecomposeError;
use crate::model::RgbaImage;
use crate::model::pixels::matte_white;

/// Side of the square the pretrained network expects.
pub const INPUT_SIZE: u32 = 320;
/// ImageNet channel means (RGB) used in training.
pub const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// ImageNet channel standard deviations (RGB) used in training.
pub const STD: [f32; 3] = [0.229, 0.224, 0.225];

/// Where the embedded weights come from, for error messages.
const WEIGHTS_PATH: &str = "assets/models/u2netp.safetensors (built into strata)";

/// The converted weights (`scripts/convert_u2netp.py`), 4.5 MB.
static WEIGHTS: &[u8] = include_bytes!("../../../../assets/models/u2netp.safetensors");

/// The network, built on first use; a load error is kept so every caller sees it.
static MODEL: OnceLock<Result<U2Netp, String>> = OnceLock::new();

/// The embedded U²-Net-P on the CPU, loaded once per process.
pub fn model() -> Result<&'static U2Netp, DecomposeError> {
    MODEL
        .get_or_init(|| load(WEIGHTS, &Device::Cpu).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| DecomposeError::weights_file(WEIGHTS_PATH, e))
}

/// Builds the network from safetensors bytes (safe parsing, no memory mapping).
pub fn load(bytes: &[u8], device: &Device) -> candle::Result<U2Netp> {
    let tensors = candle::safetensors::load_buffer(bytes, device)?;
    let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
    U2Netp::new(vb)
}

/// The network input for `image`: `1×3×320×320`, normalised as rembg does. Transparent
/// pixels are first composited over white, so a cut-out is seen on a plain backdrop.
pub fn preprocess(image: &RgbaImage) -> Result<Tensor, DecomposeError> {
    let rgb = image::RgbImage::from_fn(image.width(), image.height(), |x, y| {
        let [r, g, b, _] = matte_white(image.get_pixel(x, y).0);
        image::Rgb([r, g, b])
    });
    let small = imageops::resize(&rgb, INPUT_SIZE, INPUT_SIZE, FilterType::Lanczos3);
    let max = small.as_raw().iter().copied().max().unwrap_or(0).max(1);
    let scale = 1.0 / f32::from(max);
    let plane = (INPUT_SIZE * INPUT_SIZE) as usize;
    let mut data = vec![0f32; 3 * plane];
    for (i, px) in small.pixels().enumerate() {
        for c in 0..3 {
            data[c * plane + i] = (f32::from(px.0[c]) * scale - MEAN[c]) / STD[c];
        }
    }
    let size = INPUT_SIZE as usize;
    Tensor::from_vec(data, (1, 3, size, size), &Device::Cpu).map_err(compute_error)
}

/// Runs the network on a prepared input and returns `d0` as a plane (not normalised).
pub fn run(net: &U2Netp, input: &Tensor) -> Result<Matte, DecomposeError> {
    let out = net.forward(input).map_err(compute_error)?;
    let (_, _, h, w) = out.dims4().map_err(compute_error)?;
    let values = out
        .flatten_all()
        .and_then(|t| t.to_vec1::<f32>())
        .map_err(compute_error)?;
    Ok(Matte {
        width: w as u32,
        height: h as u32,
        values,
    })
}

/// Saliency of `image` at 320×320, stretched to `0..=1` (1 = salient object), as rembg
/// returns it.
pub fn saliency(image: &RgbaImage) -> Result<Matte, DecomposeError> {
    let mut matte = saliency_raw(image)?;
    matte.normalize_min_max();
    Ok(matte)
}

/// The network's own 320×320 output for `image`, before stretching. Its maximum says how
/// sure the network is that anything is salient at all (near 1 for a clear subject, near 0
/// for a plain or busy picture), which the stretched map no longer shows.
pub fn saliency_raw(image: &RgbaImage) -> Result<Matte, DecomposeError> {
    let net = model()?;
    let input = preprocess(image)?;
    run(net, &input)
}

fn compute_error(e: candle::Error) -> DecomposeError {
    DecomposeError::compute("running U²-Net-P", &e)
}
