//! Text detection with PP-OCRv4's mobile detector (a DBNet: Liao et al. 2020, with
//! PaddleOCR's PPLCNetV3 backbone and RSEFPN neck), run natively with candle.
//!
//! The pretrained weights (Apache-2.0, see `assets/models/NOTICE`) are embedded in the binary
//! and parsed once, on first use. [`text_map`] prepares the picture as PP-OCR does (flatten
//! over white, BGR, `(v/255 − 0.5)/0.5`) at analysis resolution and returns the network's
//! text probability map; [`text_lines`] turns that map into line boxes in picture pixels.

mod conv;
mod layers;
mod network;
mod postprocess;

use std::sync::OnceLock;

use candle::{DType, Device};
use candle_core as candle;
use candle_nn::VarBuilder;
use image::imageops::{self, FilterType};

pub use network::DbNet;
pub use postprocess::{BINARY_THRESHOLD, BOX_THRESHOLD, TextLine, UNCLIP_RATIO, text_lines};

use crate::decompose::DecomposeError;
use crate::model::RgbaImage;
use crate::model::pixels::matte_white;
use layers::Fmap;

/// The network works on sizes that are multiples of this (its coarsest stride).
pub const STRIDE: u32 = 32;

/// Where the embedded weights come from, for error messages.
const WEIGHTS_PATH: &str = "assets/models/ppocrv4_det.safetensors (built into strata)";

/// The converted weights (`scripts/convert_ppocr_det.py`), f32, 4.7 MB.
static WEIGHTS: &[u8] = include_bytes!("../../../../assets/models/ppocrv4_det.safetensors");

/// The network, built on first use; a load error is kept so every caller sees it.
static MODEL: OnceLock<Result<DbNet, String>> = OnceLock::new();

/// Text probability map at analysis resolution.
#[derive(Clone, Debug, PartialEq)]
pub struct TextMap {
    /// Map width (a multiple of [`STRIDE`]); may extend past the picture, see [`text_map`].
    pub width: u32,
    /// Map height (a multiple of [`STRIDE`]).
    pub height: u32,
    /// Scale from map px to picture px: map pixel `x` covers picture `x·scale..(x+1)·scale`.
    pub scale: f32,
    /// `width · height` probabilities in `0..=1`, row by row.
    pub values: Vec<f32>,
}

impl TextMap {
    /// The probability at map pixel (`x`, `y`); callers keep the coordinates in range.
    #[inline]
    pub fn at(&self, x: u32, y: u32) -> f32 {
        self.values[y as usize * self.width as usize + x as usize]
    }
}

/// How a picture is laid onto the network input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnalysisSize {
    /// The picture resized (keeping its aspect ratio), in map pixels.
    pub content: (u32, u32),
    /// The network input: `content` padded right and down to multiples of [`STRIDE`].
    pub map: (u32, u32),
}

/// The analysis size of a `width × height` picture for `max_side`: scaled down (never up) so
/// its longer side is at most `max_side` rounded down to a multiple of 32 (at least 32), then
/// padded to multiples of 32. Padding instead of stretching keeps one scale for both axes.
pub fn analysis_size(width: u32, height: u32, max_side: u32) -> AnalysisSize {
    let limit = (max_side / STRIDE * STRIDE).max(STRIDE);
    let long = width.max(height).max(1);
    let content = if long <= limit {
        (width.max(1), height.max(1))
    } else {
        let s = f64::from(limit) / f64::from(long);
        let side = |v: u32| ((f64::from(v) * s).round() as u32).clamp(1, limit);
        (side(width), side(height))
    };
    let pad = |v: u32| v.div_ceil(STRIDE).max(1) * STRIDE;
    AnalysisSize {
        content,
        map: (pad(content.0), pad(content.1)),
    }
}

/// Runs the network on `image` (straight-alpha RGBA, transparent composited over white)
/// resized so its longer side is at most `max_side` (see [`analysis_size`]: multiples of 32,
/// never upscaled; the map's right and bottom edges past the picture are white padding, where
/// the probability is near zero).
pub fn text_map(image: &RgbaImage, max_side: u32) -> Result<TextMap, DecomposeError> {
    if image.width() == 0 || image.height() == 0 {
        return Err(DecomposeError::InvalidInput(
            "text detection needs a picture with pixels".into(),
        ));
    }
    let net = model()?;
    let size = analysis_size(image.width(), image.height(), max_side);
    let input = preprocess(image, size);
    let out = net.forward(&input).map_err(compute_error)?;
    let long = image.width().max(image.height());
    let content_long = size.content.0.max(size.content.1);
    Ok(TextMap {
        width: out.w as u32,
        height: out.h as u32,
        scale: long as f32 / content_long as f32,
        values: out.data,
    })
}

/// The embedded detector on the CPU, loaded once per process.
pub fn model() -> Result<&'static DbNet, DecomposeError> {
    MODEL
        .get_or_init(|| load(WEIGHTS, &Device::Cpu).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| DecomposeError::weights_file(WEIGHTS_PATH, e))
}

/// Builds the network from safetensors bytes (f32, or f16 widened to f32).
pub fn load(bytes: &[u8], device: &Device) -> candle::Result<DbNet> {
    let tensors = candle::safetensors::load_buffer(bytes, device)?;
    let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
    DbNet::new(vb)
}

/// The network input for `image`: BGR planes of `(v/255 − 0.5)/0.5` at `size.content`,
/// white (1.0) in the padding. BGR because PaddleOCR trains on OpenCV-decoded pictures.
fn preprocess(image: &RgbaImage, size: AnalysisSize) -> Fmap {
    let rgb = image::RgbImage::from_fn(image.width(), image.height(), |x, y| {
        let [r, g, b, _] = matte_white(image.get_pixel(x, y).0);
        image::Rgb([r, g, b])
    });
    let (cw, ch) = size.content;
    let small = if (cw, ch) == rgb.dimensions() {
        rgb
    } else {
        // Triangle (area-weighted bilinear) rather than OpenCV's plain bilinear: it does not
        // alias thin strokes when shrinking by more than 2.
        imageops::resize(&rgb, cw, ch, FilterType::Triangle)
    };
    // The normalisation in f64 and rounded once, as numpy computes it in the reference.
    let lut: Vec<f32> = (0..=255u8)
        .map(|v| ((f64::from(v) / 255.0 - 0.5) / 0.5) as f32)
        .collect();
    let (mw, mh) = (size.map.0 as usize, size.map.1 as usize);
    let mut map = Fmap {
        c: 3,
        h: mh,
        w: mw,
        data: vec![1.0; 3 * mw * mh],
    };
    for (x, y, px) in small.enumerate_pixels() {
        let i = y as usize * mw + x as usize;
        for (plane, channel) in [2, 1, 0].into_iter().enumerate() {
            map.data[plane * mw * mh + i] = lut[usize::from(px.0[channel])];
        }
    }
    map
}

fn compute_error(e: candle::Error) -> DecomposeError {
    DecomposeError::compute("running PP-OCRv4 text detection", &e)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn load_error(bytes: &[u8]) -> DecomposeError {
        let err = load(bytes, &Device::Cpu).unwrap_err();
        DecomposeError::weights_file(WEIGHTS_PATH, err)
    }

    #[test]
    fn corrupt_weights_give_a_weights_file_error_naming_the_file() {
        let truncated = &WEIGHTS[..WEIGHTS.len() / 2];
        for bytes in [b"not a safetensors file".as_slice(), truncated] {
            match load_error(bytes) {
                DecomposeError::WeightsFile { path, reason } => {
                    assert!(path.to_string_lossy().contains("ppocrv4_det.safetensors"));
                    assert!(!reason.is_empty());
                }
                other => panic!("expected WeightsFile, got {other:?}"),
            }
        }
        // And the embedded file itself loads.
        assert!(model().is_ok());
    }

    #[test]
    fn analysis_sizes_keep_the_aspect_and_never_upscale() {
        let s = analysis_size(1155, 866, 960);
        assert_eq!(s.content, (960, 720));
        assert_eq!(s.map, (960, 736));
        // Small pictures keep their size and are padded, at least to 32.
        assert_eq!(analysis_size(256, 160, 960).map, (256, 160));
        let tiny = analysis_size(20, 5, 960);
        assert_eq!((tiny.content, tiny.map), ((20, 5), (32, 32)));
        // A limit that is not a multiple of 32 rounds down; the map never exceeds it.
        let s = analysis_size(4000, 1000, 1000);
        assert_eq!(s.content, (992, 248));
        assert_eq!(s.map, (992, 256));
        assert_eq!(analysis_size(3000, 3000, 10).map, (32, 32));
    }

    #[test]
    fn tiny_and_empty_pictures() {
        // 20 × 5 runs on a 32 × 32 input, whose stride-32 level is a single pixel.
        let img = RgbaImage::from_pixel(20, 5, image::Rgba([10, 10, 10, 255]));
        let map = text_map(&img, 960).unwrap();
        assert_eq!((map.width, map.height, map.scale), (32, 32, 1.0));
        assert!(map.values.iter().all(|v| (0.0..=1.0).contains(v)));
        let empty = RgbaImage::new(0, 0);
        assert!(matches!(
            text_map(&empty, 960),
            Err(DecomposeError::InvalidInput(_))
        ));
    }

    #[test]
    fn padding_is_white_and_channels_are_bgr() {
        let img = RgbaImage::from_pixel(40, 20, image::Rgba([255, 0, 0, 255]));
        let x = preprocess(&img, analysis_size(40, 20, 960));
        assert_eq!((x.c, x.h, x.w), (3, 32, 64));
        let hw = x.h * x.w;
        // Red is the third (R) plane: B = −1, G = −1, R = 1.
        assert_eq!([x.data[0], x.data[hw], x.data[2 * hw]], [-1.0, -1.0, 1.0]);
        // Past the picture: white.
        assert_eq!([x.data[50], x.data[hw + 25 * 64]], [1.0, 1.0]);
    }
}
