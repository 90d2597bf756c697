//! Settings of the `qwen-layered` method that the other methods do not have: where the
//! model's weights are, the caption, and the sampling parameters. Unlike the networks next
//! to them they compile without the `qwen` feature, so the command line and the editor can
//! hold them (and say "built without the qwen feature") either way.

use std::path::PathBuf;

use crate::decompose::DecomposeError;

/// Environment variable naming the local copy of the Hugging Face repository
/// `Qwen/Qwen-Image-Layered`, used when no folder is given on the command line or in the
/// editor.
pub const WEIGHTS_ENV: &str = "STRATA_QWEN_WEIGHTS";

/// How to run Qwen-Image-Layered.
#[derive(Clone, Debug, PartialEq)]
pub struct QwenSettings {
    /// The model folder (with `transformer/`, `vae/`, `text_encoder/`, `tokenizer/`,
    /// `scheduler/`); `None` falls back to [`WEIGHTS_ENV`].
    pub weights: Option<PathBuf>,
    /// A description of the whole picture. The official pipeline writes one with the
    /// vision-language model when it is empty; Strata runs the text path only, so an empty
    /// caption stays empty (results are better with a short description).
    pub prompt: String,
    /// The unconditional prompt for classifier-free guidance (the official default is " ").
    pub negative_prompt: String,
    /// Denoising steps (official default 50).
    pub steps: usize,
    /// 640 or 1024: the area the picture is resized to before decomposition.
    pub resolution: u32,
    /// Classifier-free guidance scale; 1 or less turns guidance off (half the work).
    pub true_cfg_scale: f32,
    /// Rescale the guided prediction to the conditional one's norm (official: on).
    pub cfg_normalize: bool,
    /// Decode (and encode) with the VAE in overlapping tiles to save memory.
    pub vae_tiling: bool,
}

impl Default for QwenSettings {
    fn default() -> Self {
        Self {
            weights: None,
            prompt: String::new(),
            negative_prompt: " ".into(),
            steps: 50,
            resolution: 640,
            true_cfg_scale: 4.0,
            cfg_normalize: true,
            vae_tiling: false,
        }
    }
}

impl QwenSettings {
    /// The weights folder: the one set here, else [`WEIGHTS_ENV`]'s.
    pub fn weights_dir(&self) -> Option<PathBuf> {
        self.weights
            .clone()
            .or_else(|| std::env::var_os(WEIGHTS_ENV).map(PathBuf::from))
    }

    /// Checks the values a person can type, before any file is touched.
    pub fn validate(&self) -> Result<(), DecomposeError> {
        let bad = |text: String| Err(DecomposeError::InvalidInput(text));
        if ![640, 1024].contains(&self.resolution) {
            return bad(format!(
                "resolution {} is not supported (Qwen-Image-Layered works at 640 or 1024)",
                self.resolution
            ));
        }
        if self.steps == 0 || self.steps > 1000 {
            return bad(format!("{} denoising steps (use 1 to 1000)", self.steps));
        }
        if !self.true_cfg_scale.is_finite() || self.true_cfg_scale < 0.0 {
            return bad(format!("guidance scale {}", self.true_cfg_scale));
        }
        if self.weights_dir().is_none() {
            return bad(format!(
                "no model folder: give --weights DIR (or set {WEIGHTS_ENV}) pointing at a local \
                 copy of the Hugging Face repository Qwen/Qwen-Image-Layered"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_values_are_checked_with_clear_messages() {
        let ok = QwenSettings {
            weights: Some("/models/qil".into()),
            ..QwenSettings::default()
        };
        assert!(ok.validate().is_ok());
        let cases = [
            (
                QwenSettings {
                    resolution: 800,
                    ..ok.clone()
                },
                "resolution 800",
            ),
            (
                QwenSettings {
                    steps: 0,
                    ..ok.clone()
                },
                "0 denoising steps",
            ),
            (
                QwenSettings {
                    true_cfg_scale: f32::NAN,
                    ..ok.clone()
                },
                "guidance scale",
            ),
        ];
        for (settings, needle) in cases {
            let err = settings.validate().expect_err(needle).to_string();
            assert!(err.contains(needle), "{err}");
        }
    }
}
