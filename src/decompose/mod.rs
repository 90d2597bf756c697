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
//! * [`registry`] — every method's name, description, memory estimate and settings, and the
//!   one place its decomposer is built ([`registry::decomposer_for`]);
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
pub mod registry;
pub mod rng;
pub mod segment;

pub use progress::Progress;
pub use registry::Method;

use crate::model::{BlendMode, Offset, RgbaImage};

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
