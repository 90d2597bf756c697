//! Measuring decomposition quality the way the field does (LayerD / Qwen-Image-Layered):
//! layered scenes with ground truth (procedural ones in [`scenes`], designs from real clip
//! art, fonts and photos in [`designs`]), the merge-tolerant layer scores
//! and the reconstruction error ([`metrics`]), and the glue that runs a [`Decomposer`] on a
//! scene and scores it ([`evaluate`], [`Summary`]). Used by `strata bench decompose` and by
//! `tests/decompose_quality.rs` and `tests/decompose_designs.rs`.

pub mod designs;
mod draw;
pub mod metrics;
pub mod scenes;

use std::time::Instant;

pub use metrics::{MAX_MERGES, MergeScore, Protocol, score_layers};
pub use scenes::{Scene, SceneKind, scene, suite};

use super::{DecomposeError, Decomposer, LayerCount, LayerSpec, Options, Progress};
use crate::model::pixels::premultiply;
use crate::model::{Document, RgbaImage, composite};

/// Why a scene could not be scored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    #[error("layer is {found:?}, expected {expected:?}")]
    SizeMismatch {
        expected: (u32, u32),
        found: (u32, u32),
    },
    #[error(transparent)]
    Decompose(#[from] DecomposeError),
}

/// A baseline "method" that returns the picture as one layer: exact, and the floor any
/// layering must beat. The benchmark reports it next to the methods; the quality tests hold
/// it below their floors.
pub struct SingleLayer;

impl Decomposer for SingleLayer {
    fn decompose(
        &self,
        image: &RgbaImage,
        _options: &Options,
        _progress: &Progress,
    ) -> Result<Vec<LayerSpec>, DecomposeError> {
        Ok(vec![LayerSpec::new(
            "flat",
            image.clone(),
            crate::model::Offset::default(),
        )])
    }
}

/// How far a composite is from the picture it should reproduce, on premultiplied RGBA in
/// `0..=1` (for opaque pictures: plain RGB, with alpha required to stay 1).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Reconstruction {
    /// Root mean square error over every channel of every pixel.
    pub rmse: f64,
    /// Largest absolute error of any channel.
    pub max_abs: f64,
}

/// Compares `output` with `input` (same size).
pub fn reconstruction(output: &RgbaImage, input: &RgbaImage) -> Result<Reconstruction, EvalError> {
    if output.dimensions() != input.dimensions() {
        return Err(EvalError::SizeMismatch {
            expected: input.dimensions(),
            found: output.dimensions(),
        });
    }
    let premul = |p: &[u8]| premultiply([p[0], p[1], p[2], p[3]]).map(f64::from);
    let (mut sum, mut max, mut n) = (0.0f64, 0.0f64, 0usize);
    for (o, i) in output
        .as_raw()
        .chunks_exact(4)
        .zip(input.as_raw().chunks_exact(4))
    {
        for (x, y) in premul(o).into_iter().zip(premul(i)) {
            let d = (x - y).abs();
            sum += d * d;
            max = max.max(d);
            n += 1;
        }
    }
    Ok(Reconstruction {
        rmse: if n == 0 { 0.0 } else { (sum / n as f64).sqrt() },
        max_abs: max,
    })
}

/// The method's layers as a document of the given canvas size, as [`super::apply`] would
/// build it (offsets, opacity and blend modes kept).
pub fn document_of(specs: &[LayerSpec], size: (u32, u32)) -> Document {
    let mut doc = Document::new(size.0, size.1);
    for spec in specs {
        let layer = doc.push_layer(spec.name.clone(), spec.pixels.clone());
        layer.offset = spec.offset;
        layer.opacity = spec.opacity;
        layer.blend = spec.blend;
    }
    doc
}

/// Each layer placed on a transparent full canvas, its opacity multiplied into alpha (what
/// the layer scores compare). Blend modes other than Normal cannot be expressed as a
/// straight-alpha layer and are scored as Normal; the reconstruction error still sees them.
pub fn canvas_layers(specs: &[LayerSpec], size: (u32, u32)) -> Vec<RgbaImage> {
    specs
        .iter()
        .map(|spec| {
            let mut doc = Document::new(size.0, size.1);
            let layer = doc.push_layer(spec.name.clone(), spec.pixels.clone());
            layer.offset = spec.offset;
            layer.opacity = spec.opacity;
            composite(&doc)
        })
        .collect()
}

/// One method on one scene.
#[derive(Clone, Debug, PartialEq)]
pub struct SceneResult {
    pub kind: SceneKind,
    pub seed: u64,
    pub gt_layers: usize,
    pub predicted_layers: usize,
    /// Layer scores for merge budgets `0..=protocol.max_merges`.
    pub merges: Vec<MergeScore>,
    /// The composite of the predicted layers against the flat input.
    pub reconstruction: Reconstruction,
    /// Wall-clock seconds of the `decompose` call alone.
    pub seconds: f64,
    /// Canvas size in megapixels.
    pub megapixels: f64,
}

/// Which layer count a scored decomposition is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerRequest {
    /// `options.layers` as given (`auto` by default: the method finds the count itself).
    AsGiven,
    /// At most the scene's ground-truth layer count, as the field's protocol does.
    GroundTruthCount,
}

/// Flattens `scene`, decomposes it with the layer count `request` says, and scores the
/// result.
pub fn evaluate(
    decomposer: &dyn Decomposer,
    scene: &Scene,
    options: &Options,
    request: LayerRequest,
    protocol: &Protocol,
) -> Result<SceneResult, EvalError> {
    let input = scene.composite();
    let options = match request {
        LayerRequest::AsGiven => options.clone(),
        LayerRequest::GroundTruthCount => Options {
            layers: LayerCount::AtMost(scene.layers.len()),
            ..options.clone()
        },
    };
    let start = Instant::now();
    let specs = decomposer.decompose(&input, &options, &Progress::new())?;
    let seconds = start.elapsed().as_secs_f64();
    let size = input.dimensions();
    let output = composite(&document_of(&specs, size));
    let predicted = canvas_layers(&specs, size);
    Ok(SceneResult {
        kind: scene.kind,
        seed: scene.seed,
        gt_layers: scene.layers.len(),
        predicted_layers: specs.len(),
        merges: score_layers(&predicted, &scene.layers, protocol)?,
        reconstruction: reconstruction(&output, &input)?,
        seconds,
        megapixels: f64::from(size.0) * f64::from(size.1) / 1e6,
    })
}

/// Means over scenes (LayerD aggregates per-sample means the same way).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Summary {
    pub scenes: usize,
    /// Mean RGB L1 for each merge budget.
    pub rgb_l1: Vec<f64>,
    /// Mean alpha soft IoU for each merge budget.
    pub alpha_iou: Vec<f64>,
    /// Mean and worst reconstruction RMSE.
    pub rmse_mean: f64,
    pub rmse_worst: f64,
    /// Worst max-abs reconstruction error.
    pub max_abs: f64,
    /// Total decompose seconds / total megapixels.
    pub seconds_per_megapixel: f64,
    pub mean_gt_layers: f64,
    pub mean_predicted_layers: f64,
}

impl Summary {
    /// Aggregates per-scene results (all scored with the same protocol).
    pub fn new(results: &[SceneResult]) -> Self {
        let n = results.len();
        if n == 0 {
            return Self::default();
        }
        let budgets = results.iter().map(|r| r.merges.len()).min().unwrap_or(0);
        let mean = |f: &dyn Fn(&SceneResult) -> f64| results.iter().map(f).sum::<f64>() / n as f64;
        let worst = |f: &dyn Fn(&SceneResult) -> f64| results.iter().map(f).fold(0.0, f64::max);
        let megapixels: f64 = results.iter().map(|r| r.megapixels).sum();
        Self {
            scenes: n,
            rgb_l1: (0..budgets)
                .map(|m| mean(&|r| r.merges[m].rgb_l1))
                .collect(),
            alpha_iou: (0..budgets)
                .map(|m| mean(&|r| r.merges[m].alpha_iou))
                .collect(),
            rmse_mean: mean(&|r| r.reconstruction.rmse),
            rmse_worst: worst(&|r| r.reconstruction.rmse),
            max_abs: worst(&|r| r.reconstruction.max_abs),
            seconds_per_megapixel: results.iter().map(|r| r.seconds).sum::<f64>()
                / megapixels.max(f64::MIN_POSITIVE),
            mean_gt_layers: mean(&|r| r.gt_layers as f64),
            mean_predicted_layers: mean(&|r| r.predicted_layers as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canvas_layers_place_offset_and_opacity() {
        let mut spec = LayerSpec::new(
            "x",
            RgbaImage::from_pixel(2, 2, image::Rgba([10, 20, 30, 255])),
            crate::model::Offset::new(3, 1),
        );
        spec.opacity = 0.5;
        let out = canvas_layers(&[spec], (6, 4));
        assert_eq!(out[0].dimensions(), (6, 4));
        assert_eq!(out[0].get_pixel(3, 1).0, [10, 20, 30, 128]);
        assert_eq!(out[0].get_pixel(0, 0).0, [0, 0, 0, 0]);
    }

    #[test]
    fn reconstruction_of_itself_is_exact() {
        let s = scene(SceneKind::Design, 3, (48, 32));
        let flat = s.composite();
        let r = reconstruction(&flat, &flat).expect("same size");
        assert_eq!(r, Reconstruction::default());
        let mut off = flat.clone();
        off.get_pixel_mut(0, 0).0[0] ^= 0x40;
        let r = reconstruction(&off, &flat).expect("same size");
        assert!(r.max_abs > 0.2 && r.rmse > 0.0 && r.rmse < 0.02, "{r:?}");
        assert!(reconstruction(&RgbaImage::new(1, 1), &flat).is_err());
    }
}
