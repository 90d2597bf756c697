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

use std::path::PathBuf;

use crate::model::{BlendMode, Offset, RgbaImage};

/// What the user asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub method: Method,
    /// How many layers, including the background: as many as the picture holds, or at most
    /// a number (methods return fewer when the picture has less in it).
    pub layers: LayerCount,
    /// Seed for every random choice, so a decomposition is reproducible.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            method: Method::default(),
            layers: LayerCount::Auto,
            seed: 0,
        }
    }
}

/// Most layers a decomposition may ask for.
pub const MAX_LAYERS: usize = 64;

/// How many layers a decomposition returns, background included.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LayerCount {
    /// As many as the picture holds: every element found, no empty layers.
    #[default]
    Auto,
    /// At most this many: the least significant layers are merged into their neighbours
    /// until the count fits; an object is never split to reach it.
    AtMost(usize),
}

impl LayerCount {
    /// The number for methods that need one: the bound, or `auto` (the method's own
    /// choice) when the count is automatic.
    pub fn or(self, auto: usize) -> usize {
        match self {
            LayerCount::Auto => auto,
            LayerCount::AtMost(n) => n,
        }
    }

    /// The bound, if there is one.
    pub fn limit(self) -> Option<usize> {
        match self {
            LayerCount::Auto => None,
            LayerCount::AtMost(n) => Some(n),
        }
    }
}

impl From<usize> for LayerCount {
    fn from(n: usize) -> Self {
        LayerCount::AtMost(n)
    }
}

impl std::fmt::Display for LayerCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LayerCount::Auto => f.write_str("auto"),
            LayerCount::AtMost(n) => write!(f, "{n}"),
        }
    }
}

impl std::str::FromStr for LayerCount {
    type Err = String;

    /// `auto` or a number in `1..=MAX_LAYERS`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("auto") {
            return Ok(LayerCount::Auto);
        }
        match s.parse::<usize>() {
            Ok(n) if (1..=MAX_LAYERS).contains(&n) => Ok(LayerCount::AtMost(n)),
            _ => Err(format!(
                "'{s}' is not a layer count: use auto or a number in 1..={MAX_LAYERS}"
            )),
        }
    }
}

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

/// Why a decomposition produced no layers, typed so that a caller can tell the cases apart:
/// a cancelled job is no failure, a broken weights file names the file to replace, a picture
/// too large for the memory budget asks for a smaller one. The messages are written for the
/// person: the editor's banner and the command line show them as they are.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecomposeError {
    /// The person cancelled the job.
    #[error("cancelled")]
    Cancelled,
    /// The picture or the request cannot be decomposed (no pixels, a layer count out of
    /// range, a mask of another size, a setting out of range).
    #[error("{0}")]
    InvalidInput(String),
    /// A model's weights or config file is missing, unreadable or does not fit the network.
    #[error("{}: {reason}", path.display())]
    WeightsFile {
        /// The file (or model folder) at fault.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// This build or this machine lacks what the method needs (a cargo feature, a GPU
    /// device, a worker thread).
    #[error("{0}")]
    Unavailable(String),
    /// The picture would need more memory than the budget allows; refused before any work.
    #[error(
        "this picture needs about {needed_mib} MiB of memory to decompose, more than the \
         {budget_mib} MiB budget; decompose a smaller picture or one layer"
    )]
    OverMemoryBudget {
        /// The estimated peak, in MiB.
        needed_mib: u64,
        /// The budget, in MiB.
        budget_mib: u64,
    },
    /// The device ran out of memory while computing.
    #[error("out of memory while {stage}; decompose a smaller picture or one layer")]
    OutOfMemory {
        /// What was being computed ("running U²-Net-P", "denoising").
        stage: String,
    },
    /// A network or tensor computation failed for another reason.
    #[error("{stage} failed: {message}")]
    Compute {
        /// What was being computed.
        stage: String,
        /// The tensor library's message.
        message: String,
    },
    /// The method panicked (a bug); caught on the worker thread.
    #[error("the {method} method crashed: {message}")]
    Panicked {
        /// The method's name.
        method: String,
        /// The panic message.
        message: String,
    },
}

impl DecomposeError {
    /// Maps a candle error raised while doing `stage` ("running U²-Net-P") to
    /// [`DecomposeError::OutOfMemory`] when the device ran out of memory (candle passes the
    /// backend's message through: CUDA's `CUDA_ERROR_OUT_OF_MEMORY`, Metal's failed
    /// allocations), and to [`DecomposeError::Compute`] otherwise.
    pub fn compute(stage: impl Into<String>, err: &candle_core::Error) -> Self {
        let message = err.to_string();
        let lower = message.to_ascii_lowercase();
        let stage = stage.into();
        if lower.contains("out of memory") || lower.contains("failed to allocate") {
            DecomposeError::OutOfMemory { stage }
        } else {
            DecomposeError::Compute { stage, message }
        }
    }

    /// A [`DecomposeError::WeightsFile`] for `path`.
    pub fn weights_file(path: impl Into<PathBuf>, reason: impl std::fmt::Display) -> Self {
        DecomposeError::WeightsFile {
            path: path.into(),
            reason: reason.to_string(),
        }
    }
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

    /// [`Decomposer::decompose`] for a caller that hands the picture over: a method that
    /// would copy it to work on (peeling layers off a full-size copy) can reuse its buffer
    /// instead, which on a 12-megapixel picture is 48 MB less at the peak.
    fn decompose_owned(
        &self,
        image: RgbaImage,
        options: &Options,
        progress: &Progress,
    ) -> Result<Vec<LayerSpec>, DecomposeError> {
        self.decompose(&image, options, progress)
    }
}

/// Checks the request before any work starts.
pub fn validate(image: &RgbaImage, options: &Options) -> Result<(), DecomposeError> {
    if image.width() == 0 || image.height() == 0 {
        return Err(DecomposeError::InvalidInput(
            "the image has no pixels".into(),
        ));
    }
    if let LayerCount::AtMost(n) = options.layers
        && !(1..=MAX_LAYERS).contains(&n)
    {
        return Err(DecomposeError::InvalidInput(format!(
            "layer count {n} is outside 1..={MAX_LAYERS}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_out_of_memory_is_told_apart_from_other_compute_failures() {
        let oom = candle_core::Error::Msg(
            "DriverError(CUDA_ERROR_OUT_OF_MEMORY, \"out of memory\")".into(),
        );
        assert_eq!(
            DecomposeError::compute("denoising", &oom),
            DecomposeError::OutOfMemory {
                stage: "denoising".into()
            }
        );
        let shape = candle_core::Error::Msg("shape mismatch in matmul".into());
        let err = DecomposeError::compute("running U²-Net-P", &shape);
        assert!(matches!(err, DecomposeError::Compute { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "running U²-Net-P failed: shape mismatch in matmul"
        );
    }

    #[test]
    fn a_weights_file_error_names_the_file() {
        let err = DecomposeError::weights_file("/models/dbnet.safetensors", "truncated header");
        assert_eq!(
            err.to_string(),
            "/models/dbnet.safetensors: truncated header"
        );
    }
}
