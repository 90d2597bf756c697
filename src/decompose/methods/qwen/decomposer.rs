//! The `qwen-layered` method: Qwen-Image-Layered's pipeline, one model part at a time.
//!
//! Stages, each loading its part of the model folder and dropping it when done, so that at
//! most one large part is in memory at once (the official pipeline's CPU offload order
//! `text_encoder → transformer → vae`, without needing a second device to offload to):
//!
//! 1. the text encoder embeds the caption (and the negative prompt for guidance);
//! 2. the VAE encodes the picture, resized to the working size, to the condition latent;
//! 3. the transformer denoises `layers + 1` seeded noise frames (the first is the composite)
//!    with the flow-matching Euler schedule and true classifier-free guidance, reporting each
//!    step and answering Cancel between steps;
//! 4. the VAE decodes each layer frame, which is resized back to the picture's own size and
//!    cropped to its visible pixels.

use candle_core::{DType, Device, Tensor};

use super::QwenSettings;
use super::pipeline::{
    guide, image_to_tensor, pack, resize_layer, seeded_noise, tensor_to_image, unpack, working_size,
};
use super::scheduler::{ScheduleError, SchedulerConfig, layered_mu};
use super::text_encoder::PromptEncoder;
use super::transformer::{QwenImageTransformer, TransformerConfig, layered_img_shapes};
use super::vae::{QwenImageVae, Tiling, VaeConfig};
use super::weights::{ModelFolder, WeightsError};
use crate::decompose::{DecomposeError, Decomposer, LayerSpec, Options, Progress};
use crate::model::pixels::visible_bounds;
use crate::model::{BBox, Offset, RgbaImage};

/// The pipeline's `max_sequence_length`: longer captions are cut to this many tokens.
const MAX_PROMPT_TOKENS: usize = 512;

/// Decomposes with Qwen-Image-Layered using `settings`.
pub struct QwenLayeredDecomposer {
    settings: QwenSettings,
}

impl QwenLayeredDecomposer {
    /// A decomposer for these settings; nothing is loaded until it runs.
    pub fn new(settings: QwenSettings) -> Self {
        Self { settings }
    }
}

/// The device the model runs on: the first CUDA or Metal GPU when Strata is built with that
/// feature (in bf16, as the model is published), else the CPU (in f32: candle's CPU kernels
/// are faster and exact in f32, and bf16 buys nothing there).
fn compute_device() -> Result<(Device, DType), DecomposeError> {
    #[cfg(feature = "cuda")]
    {
        let device = Device::new_cuda(0).map_err(|e| unavailable("CUDA device 0", e))?;
        return Ok((device, DType::BF16));
    }
    #[cfg(all(feature = "metal", not(feature = "cuda")))]
    {
        let device = Device::new_metal(0).map_err(|e| unavailable("Metal device 0", e))?;
        return Ok((device, DType::BF16));
    }
    #[allow(unreachable_code)]
    Ok((Device::Cpu, DType::F32))
}

#[cfg(any(feature = "cuda", feature = "metal"))]
fn unavailable(what: &str, err: impl std::fmt::Display) -> DecomposeError {
    DecomposeError::Unavailable(format!("{what}: {err}"))
}

/// A network part whose weights do not build the network (missing tensors, wrong shapes).
fn part_error(folder: &ModelFolder, part: &str, err: &candle_core::Error) -> DecomposeError {
    DecomposeError::weights_file(folder.part(part), err)
}

fn folder_error(err: WeightsError) -> DecomposeError {
    match err {
        WeightsError::Missing(path) => DecomposeError::weights_file(
            path,
            "missing; the model folder must be a local copy of the Hugging Face repository \
             Qwen/Qwen-Image-Layered",
        ),
        WeightsError::BadConfig { path, message } | WeightsError::BadWeights { path, message } => {
            DecomposeError::WeightsFile {
                path,
                reason: message,
            }
        }
    }
}

/// A text embedding and its mask (`None` when nothing is padded, as the pipeline passes it).
struct Prompt {
    embeds: Tensor,
    mask: Option<Tensor>,
}

impl Prompt {
    fn new(embeds: Tensor, mask: Tensor) -> candle_core::Result<Self> {
        let tokens = embeds.dim(1)?.min(MAX_PROMPT_TOKENS);
        let embeds = embeds.narrow(1, 0, tokens)?;
        let mask = mask.narrow(1, 0, tokens)?;
        let padded = mask.to_dtype(DType::F32)?.min_all()?.to_scalar::<f32>()? == 0.0;
        Ok(Self {
            embeds,
            mask: padded.then_some(mask),
        })
    }
}

impl Decomposer for QwenLayeredDecomposer {
    fn decompose(
        &self,
        image: &RgbaImage,
        options: &Options,
        progress: &Progress,
    ) -> Result<Vec<LayerSpec>, DecomposeError> {
        let settings = &self.settings;
        settings.validate()?;
        let root = settings.weights_dir().ok_or_else(|| {
            DecomposeError::InvalidInput("no Qwen-Image-Layered model folder".into())
        })?;
        let folder = ModelFolder::open(&root).map_err(folder_error)?;
        // Read every config first: a mismatched folder fails before minutes of loading.
        let vae_config: VaeConfig = folder.config("vae", "config.json").map_err(folder_error)?;
        let transformer_config: TransformerConfig = folder
            .config("transformer", "config.json")
            .map_err(folder_error)?;
        let scheduler: SchedulerConfig = folder
            .config("scheduler", "scheduler_config.json")
            .map_err(folder_error)?;
        let z = vae_config.z_dim;
        if transformer_config.in_channels != 4 * z {
            return Err(DecomposeError::weights_file(
                folder.part("transformer"),
                format!(
                    "the transformer takes {} channels but the VAE's latents pack to {}; the \
                     parts come from different models",
                    transformer_config.in_channels,
                    4 * z
                ),
            ));
        }
        let (device, dtype) = compute_device()?;
        // The model card's usual request when the person leaves the count to Strata.
        let layers = options.layers.or(4);

        progress.set(0.0, "Loading the text encoder");
        let (prompt, negative) = encode_prompts(&folder, settings, dtype, &device)?;
        progress.check()?;

        progress.set(0.06, "Encoding the picture");
        let vae_weights = folder
            .var_builder("vae", dtype, &device)
            .map_err(folder_error)?;
        let mut vae = QwenImageVae::new(vae_config, vae_weights)
            .map_err(|e| part_error(&folder, "vae", &e))?;
        if settings.vae_tiling {
            vae.set_tiling(Some(Tiling::default()))
                .map_err(|e| DecomposeError::compute("setting up VAE tiling", &e))?;
        }
        let (width, height) = working_size(image.width(), image.height(), settings.resolution);
        let ratio = vae.config().spatial_compression_ratio();
        let (rows, cols) = (height as usize / ratio, width as usize / ratio);
        let compute =
            |e: candle_core::Error| DecomposeError::compute("running Qwen-Image-Layered", &e);
        let input = image_to_tensor(image, width, height, &device, dtype).map_err(compute)?;
        let condition = vae
            .encode(&input)
            .and_then(|latent| vae.normalize_latents(&latent))
            .and_then(|latent| pack(&latent.permute((0, 2, 1, 3, 4))?))
            .map_err(compute)?;
        progress.check()?;

        progress.set(0.1, "Loading the transformer");
        let transformer_weights = folder
            .var_builder("transformer", dtype, &device)
            .map_err(folder_error)?;
        let transformer = QwenImageTransformer::new(&transformer_config, transformer_weights)
            .map_err(|e| part_error(&folder, "transformer", &e))?;
        progress.check()?;

        let noise = seeded_noise(
            &[1, layers + 1, z, rows, cols],
            options.seed,
            &device,
            dtype,
        )
        .map_err(compute)?;
        let mut latents = pack(&noise).map_err(compute)?;
        let noisy_tokens = latents.dim(1).map_err(compute)?;
        let shapes = layered_img_shapes(layers, (rows / 2, cols / 2), (rows / 2, cols / 2));
        let condition_tokens = condition.dim(1).map_err(compute)?;
        let schedule = scheduler
            .schedule(settings.steps, layered_mu(condition_tokens))
            .map_err(|e| match e {
                ScheduleError::NoSteps => DecomposeError::InvalidInput(e.to_string()),
                ScheduleError::Unsupported(_) => DecomposeError::weights_file(
                    folder.part("scheduler").join("scheduler_config.json"),
                    e,
                ),
            })?;
        let is_rgb = Tensor::new(&[0u32], &device).map_err(compute)?;
        let steps = schedule.steps();
        for (step, t) in schedule.timesteps.iter().enumerate() {
            progress.set(
                0.12 + 0.8 * step as f32 / steps as f32,
                &format!("Denoising, step {} of {steps}", step + 1),
            );
            progress.check()?;
            let input = Tensor::cat(&[&latents, &condition], 1).map_err(compute)?;
            // The pipeline casts t to the latents' dtype, then divides by 1000.
            let timestep = Tensor::new(&[*t], &device)
                .and_then(|t| t.to_dtype(dtype))
                .and_then(|t| t / 1000.0)
                .map_err(compute)?;
            let predict = |p: &Prompt| {
                transformer
                    .forward(
                        &input,
                        &p.embeds,
                        p.mask.as_ref(),
                        &timestep,
                        &shapes,
                        Some(&is_rgb),
                    )
                    .and_then(|v| v.narrow(1, 0, noisy_tokens))
            };
            let cond = predict(&prompt).map_err(compute)?;
            let velocity = match &negative {
                Some(negative) => {
                    let uncond = predict(negative).map_err(compute)?;
                    let scale = f64::from(settings.true_cfg_scale);
                    guide(&cond, &uncond, scale, settings.cfg_normalize).map_err(compute)?
                }
                None => cond,
            };
            latents = schedule.step(step, &velocity, &latents).map_err(compute)?;
        }
        drop(transformer);

        let frames = unpack(&latents, layers + 1, rows, cols)
            .and_then(|l| vae.denormalize_latents(&l))
            .map_err(compute)?;
        let mut specs = Vec::with_capacity(layers);
        // Frame 0 is the model's composite of the picture; frames 1.. are the layers, bottom
        // first (the paper composites layer 1 first).
        for layer in 1..=layers {
            progress.set(
                0.92 + 0.08 * (layer - 1) as f32 / layers as f32,
                &format!("Decoding layer {layer} of {layers}"),
            );
            progress.check()?;
            let decoded = frames
                .narrow(2, layer, 1)
                .and_then(|z| vae.decode(&z))
                .and_then(|x| x.squeeze(2)?.squeeze(0))
                .and_then(|x| tensor_to_image(&x))
                .map_err(compute)?;
            let full = resize_layer(&decoded, image.width(), image.height());
            let name = if layer == 1 {
                "Background".to_string()
            } else {
                format!("Layer {layer}")
            };
            specs.push(crop_to_content(name, full));
        }
        progress.set(1.0, "Done");
        Ok(specs)
    }
}

/// Embeds the caption and, with guidance, the negative prompt; the text encoder is dropped
/// on return, before the transformer is loaded.
fn encode_prompts(
    folder: &ModelFolder,
    settings: &QwenSettings,
    dtype: DType,
    device: &Device,
) -> Result<(Prompt, Option<Prompt>), DecomposeError> {
    let encoder = PromptEncoder::load(folder.root(), dtype, device)
        .map_err(|e| part_error(folder, "text_encoder", &e))?;
    let embed = |text: &str| {
        encoder
            .encode(&[text])
            .and_then(|(embeds, mask)| Prompt::new(embeds, mask))
            .map_err(|e| DecomposeError::compute("encoding the caption", &e))
    };
    let prompt = embed(&settings.prompt)?;
    let negative = if settings.true_cfg_scale > 1.0 {
        Some(embed(&settings.negative_prompt)?)
    } else {
        None
    };
    Ok((prompt, negative))
}

/// The layer cropped to the bounding box of its visible pixels (all of it if none are), so
/// a small object does not carry a canvas-sized transparent buffer.
fn crop_to_content(name: String, image: RgbaImage) -> LayerSpec {
    let (w, h) = image.dimensions();
    let Some(b) = visible_bounds(&image).filter(|b| *b != BBox::new(0, 0, w, h)) else {
        return LayerSpec::new(name, image, Offset::default());
    };
    let cropped = image::imageops::crop_imm(&image, b.x0, b.y0, b.width(), b.height()).to_image();
    LayerSpec::new(name, cropped, Offset::new(b.x0 as i32, b.y0 as i32))
}
