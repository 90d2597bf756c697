//! Decomposition: one flat picture → RGBA layers whose composite reproduces it.
//!
//! Every method implements [`Decomposer`]. Methods run on a worker thread through
//! [`jobs::Jobs`], report progress and honour cancellation through [`Progress`], and return
//! [`LayerSpec`]s bottom first; [`apply`] turns them into document layers (replacing the whole
//! document, or one layer for recursive decomposition).
//!
//! The folders are split by role, so a new method touches only its own folder and the
//! registry:
//!
//! * [`methods`] — one folder per method, holding only what is specific to it;
//! * shared engines that several methods build on: [`nn`] (candle networks and their
//!   weights), [`inpaint`] (background filling), [`segment`] (classical segmentation);
//! * the runtime: [`jobs`], [`apply`], [`Progress`], [`rng`];
//! * [`eval`] — synthetic scenes and metrics for the benchmark and the quality tests.

pub mod apply;
pub mod eval;
pub mod inpaint;
pub mod jobs;
pub mod methods;
pub mod nn;
mod progress;
pub mod rng;
pub mod segment;

use std::fmt;
use std::str::FromStr;

pub use progress::Progress;

use crate::model::{BlendMode, Offset, RgbaImage};

/// The decomposition methods Strata offers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Method {
    /// Salient objects (U²-Net-P) with inpainted background; the default.
    #[default]
    Objects,
    /// Soft colour layers after Tan et al.: exact reconstruction, for recolouring.
    Palette,
    /// Classical colour/texture segmentation with inpainted background; needs no weights.
    Regions,
    /// Qwen-Image-Layered: semantic layers with generated background; needs the model's
    /// weights (tens of GB) and, in practice, a large GPU.
    QwenLayered,
}

impl Method {
    /// Every method, in menu order.
    pub const ALL: [Method; 4] = [
        Method::Objects,
        Method::Palette,
        Method::Regions,
        Method::QwenLayered,
    ];

    /// The name used on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            Method::Objects => "objects",
            Method::Palette => "palette",
            Method::Regions => "regions",
            Method::QwenLayered => "qwen-layered",
        }
    }

    /// A one-line description for menus and `--help`.
    pub fn description(self) -> &'static str {
        match self {
            Method::Objects => "salient objects on their own layers, background filled in",
            Method::Palette => "soft colour layers that add up exactly, for recolouring",
            Method::Regions => "colour regions with filled-in background (no model needed)",
            Method::QwenLayered => {
                "Qwen-Image-Layered: semantic layers, generated background (needs its weights)"
            }
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Method {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Method::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                format!("unknown method '{s}' (use objects, palette, regions or qwen-layered)")
            })
    }
}

/// What the user asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub method: Method,
    /// Number of layers wanted, including the background (methods may return fewer when the
    /// picture has less in it).
    pub layers: usize,
    /// Seed for every random choice, so a decomposition is reproducible.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            method: Method::default(),
            layers: 5,
            seed: 0,
        }
    }
}

/// Most layers a decomposition may ask for.
pub const MAX_LAYERS: usize = 64;

/// One layer produced by a method, before it gets an id in a document.
#[derive(Clone, Debug)]
pub struct LayerSpec {
    pub name: String,
    /// Straight-alpha pixels, usually cropped to the layer's content.
    pub pixels: RgbaImage,
    /// Position of `pixels` on the decomposed image.
    pub offset: Offset,
    pub blend: BlendMode,
    pub opacity: f32,
}

impl LayerSpec {
    /// A normal, fully opaque layer at `offset`.
    pub fn new(name: impl Into<String>, pixels: RgbaImage, offset: Offset) -> Self {
        Self {
            name: name.into(),
            pixels,
            offset,
            blend: BlendMode::Normal,
            opacity: 1.0,
        }
    }
}

/// Why a decomposition produced no layers.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecomposeError {
    #[error("cancelled")]
    Cancelled,
    #[error("{0}")]
    InvalidInput(String),
    #[error("model: {0}")]
    Model(String),
    #[error("computation failed: {0}")]
    Compute(String),
    #[error("the {method} method crashed: {message}")]
    Panicked { method: String, message: String },
    #[error(
        "this picture needs about {needed_mib} MiB of memory to decompose, more than the \
         {budget_mib} MiB budget; decompose a smaller picture or one layer"
    )]
    OverMemoryBudget { needed_mib: u64, budget_mib: u64 },
}

/// A conservative estimate of a method's peak memory for a `width`×`height` picture split
/// into `layers`, from peak RSS measured with `/usr/bin/time -v` (objects: 0.9 GB at
/// 12 Mpx; palette and regions: about 45 MB at 0.75 Mpx), rounded up: working buffers per
/// pixel, plus the output layers, plus the model and the process itself.
pub fn estimated_peak_bytes(method: Method, width: u32, height: u32, layers: usize) -> u64 {
    let pixels = u64::from(width) * u64::from(height);
    let per_pixel: u64 = match method {
        Method::Objects => 96,
        Method::Palette | Method::Regions => 64,
        // Latents and activations are small next to the weights, which are loaded one
        // safetensors shard at a time and counted by the device, not here.
        Method::QwenLayered => 64,
    };
    let output = 4 * pixels * layers.clamp(1, MAX_LAYERS) as u64;
    pixels * per_pixel + output + (96 << 20)
}

/// A decomposition method.
pub trait Decomposer: Send + Sync {
    /// Splits `image` into layers, bottom first. Implementations call `progress.set` as they
    /// go and `progress.check()?` often enough that Cancel answers within a fraction of a
    /// second.
    fn decompose(
        &self,
        image: &RgbaImage,
        options: &Options,
        progress: &Progress,
    ) -> Result<Vec<LayerSpec>, DecomposeError>;
}

/// Checks the request before any work starts.
pub fn validate(image: &RgbaImage, options: &Options) -> Result<(), DecomposeError> {
    if image.width() == 0 || image.height() == 0 {
        return Err(DecomposeError::InvalidInput(
            "the image has no pixels".into(),
        ));
    }
    if !(1..=MAX_LAYERS).contains(&options.layers) {
        return Err(DecomposeError::InvalidInput(format!(
            "layer count {} is outside 1..={MAX_LAYERS}",
            options.layers
        )));
    }
    Ok(())
}

/// The decomposer for `method`. Methods are added here as they are implemented.
pub fn decomposer_for(method: Method) -> Result<Box<dyn Decomposer>, DecomposeError> {
    match method {
        Method::Objects => Ok(Box::new(methods::objects::ObjectsDecomposer)),
        Method::Palette => Ok(Box::new(methods::palette::PaletteDecomposer::default())),
        Method::Regions => Ok(Box::new(methods::regions::RegionsDecomposer::default())),
        Method::QwenLayered => {
            methods::qwen::qwen_decomposer(methods::qwen::QwenSettings::default())
        }
    }
}
