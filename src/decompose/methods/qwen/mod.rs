//! Qwen-Image-Layered (Yin et al., 2025) in candle: the `qwen-layered` decomposition method.
//!
//! The model turns a picture into N RGBA layers by denoising N+1 latent frames (the first is
//! the composite, discarded) with a Qwen-Image MMDiT conditioned on the picture's latent and a
//! text embedding. The pieces, each checked against diffusers/transformers on tiny random
//! configurations (`scripts/qwen_parity_*.py`, `tests/qwen_*_parity.rs`):
//!
//! * [`transformer`]: `QwenImageTransformer2DModel` with the layered additions (Layer3D RoPE
//!   with the condition image at layer index −1, the 2-row additional timestep embedding).
//! * [`vae`]: `AutoencoderKLQwenImage` with 4 (RGBA) image channels: encoder for the input,
//!   decoder for each layer.
//! * [`text_encoder`]: the Qwen2.5-VL language model, text-only path.
//! * [`scheduler`]: flow-matching Euler with the pipeline's dynamic shift.
//! * [`pipeline`]: working size, picture ↔ tensors, 2×2 patch packing, seeded noise, guidance.
//! * [`weights`]: the model folder, its configs and safetensors shards.
//! * [`QwenLayeredDecomposer`]: the stages (text → VAE encode → denoise → VAE decode), each
//!   part loaded when needed and dropped after, with progress per step and Cancel.
//!
//! The whole method is checked against diffusers' `QwenImageLayeredPipeline` on a tiny random
//! model in the repository layout (`tests/qwen_end_to_end.rs`): layers within 1/255.
//!
//! Weights are read from the user's local copy of the Hugging Face repository
//! `Qwen/Qwen-Image-Layered`; nothing is downloaded.
//!
//! Only [`QwenSettings`] (model folder, caption, sampling) compiles without the `qwen`
//! feature, so the command line and the editor can hold the settings either way and say
//! that the method is missing from the build when it is asked for.

#[cfg(feature = "qwen")]
mod decomposer;
#[cfg(feature = "qwen")]
pub mod pipeline;
#[cfg(feature = "qwen")]
pub mod scheduler;
mod settings;
#[cfg(feature = "qwen")]
pub mod text_encoder;
#[cfg(feature = "qwen")]
pub mod transformer;
#[cfg(feature = "qwen")]
pub mod vae;
#[cfg(feature = "qwen")]
pub mod weights;

#[cfg(feature = "qwen")]
pub use decomposer::QwenLayeredDecomposer;
pub use settings::{QwenSettings, WEIGHTS_ENV};

use crate::decompose::{DecomposeError, Decomposer};

/// The `qwen-layered` decomposer with these settings, for the registry's entry; a build
/// without the `qwen` feature says so here rather than lacking the method.
pub(in crate::decompose) fn decomposer(
    settings: &QwenSettings,
) -> Result<Box<dyn Decomposer>, DecomposeError> {
    #[cfg(feature = "qwen")]
    {
        Ok(Box::new(QwenLayeredDecomposer::new(settings.clone())))
    }
    #[cfg(not(feature = "qwen"))]
    {
        let _ = settings;
        Err(DecomposeError::Unavailable(
            "this Strata was built without the qwen feature (cargo build --features qwen)".into(),
        ))
    }
}
