//! The whole `qwen-layered` method on a tiny random Qwen-Image-Layered in the Hugging Face
//! layout (`tests/data/qwen/tiny-model`, made by `scripts/qwen_parity_tiny_model.py`): layers match
//! what diffusers' `QwenImageLayeredPipeline` makes from the same weights, picture, caption and
//! starting noise; the command line runs end to end; bad folders fail clearly; Cancel works.
#![cfg(feature = "qwen")]
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

mod qwen_reference;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use candle_core::{Device, safetensors};
use strata::decompose::jobs::{JobRequest, Jobs, Target};
use strata::decompose::methods::qwen::QwenSettings;
use strata::decompose::registry::{MethodSettings, decomposer_for};
use strata::decompose::{DecomposeError, Decomposer, LayerSpec, Method, Options, Progress};
use strata::model::{BBox, RgbaImage};

#[derive(serde::Deserialize)]
struct Reference {
    prompt: String,
    negative_prompt: String,
    true_cfg_scale: f32,
    layers: usize,
    steps: usize,
    seed: u64,
    resolution: u32,
    cfg_normalize: bool,
}

fn load_reference(dir: &Path) -> (Reference, QwenSettings, Options) {
    let json = std::fs::read(dir.join("reference.json")).unwrap();
    let r: Reference = serde_json::from_slice(&json).unwrap();
    let settings = QwenSettings {
        weights: Some(dir.to_path_buf()),
        prompt: r.prompt.clone(),
        negative_prompt: r.negative_prompt.clone(),
        steps: r.steps,
        resolution: r.resolution,
        true_cfg_scale: r.true_cfg_scale,
        cfg_normalize: r.cfg_normalize,
        vae_tiling: false,
    };
    let options = Options {
        method: Method::QwenLayered,
        layers: r.layers.into(),
        seed: r.seed,
    };
    (r, settings, options)
}

/// A cropped layer put back on a `w`×`h` transparent canvas.
fn full_layer(spec: &LayerSpec, w: u32, h: u32) -> RgbaImage {
    let mut canvas = RgbaImage::new(w, h);
    image::imageops::overlay(
        &mut canvas,
        &spec.pixels,
        i64::from(spec.offset.x),
        i64::from(spec.offset.y),
    );
    canvas
}

/// The qwen-layered decomposer with `qwen`, built through the registry as the editor and
/// the command line build it.
fn qwen_decomposer(qwen: QwenSettings) -> Result<Box<dyn Decomposer>, DecomposeError> {
    decomposer_for(Method::QwenLayered, &MethodSettings { qwen })
}

fn check_against_diffusers(dir: &Path) {
    let (reference, settings, options) = load_reference(dir);
    let picture = image::open(dir.join("picture.png")).unwrap().to_rgba8();
    let decomposer = qwen_decomposer(settings).unwrap();
    let layers = decomposer
        .decompose(&picture, &options, &Progress::new())
        .unwrap();
    assert_eq!(layers.len(), reference.layers);
    let tensors = safetensors::load(dir.join("reference.safetensors"), &Device::Cpu).unwrap();
    let sampled = tensors["layers_every_8th_pixel"]
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let dims = tensors["layers_every_8th_pixel"].dims().to_vec();
    let (rows, cols) = (dims[1], dims[2]);
    let (mut worst, mut total, mut count) = (0u8, 0u64, 0u64);
    for (l, spec) in layers.iter().enumerate() {
        let full = full_layer(spec, picture.width(), picture.height());
        for r in 0..rows {
            for c in 0..cols {
                let ours = full.get_pixel(c as u32 * 8, r as u32 * 8).0;
                let at = ((l * rows + r) * cols + c) * 4;
                for (value, expected) in ours.iter().zip(&sampled[at..at + 4]) {
                    let theirs = (expected * 255.0).round() as u8;
                    let d = value.abs_diff(theirs);
                    worst = worst.max(d);
                    total += u64::from(d);
                    count += 1;
                }
            }
        }
    }
    let mean = total as f64 / count as f64;
    println!("{count} samples: max |Δ| {worst}/255, mean {mean:.4}/255");
    assert!(worst <= 3, "max |Δ| {worst}/255");
    assert!(mean <= 0.25, "mean |Δ| {mean}/255");
}

#[test]
fn layers_match_diffusers_on_the_tiny_model() {
    check_against_diffusers(&qwen_reference::committed("tiny-model"));
    if let Some(fresh) = qwen_reference::regenerate("tiny_model", "tiny-model") {
        check_against_diffusers(&fresh);
    }
}

#[test]
fn the_command_line_writes_the_layers_at_the_picture_size() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("poster.png");
    RgbaImage::from_fn(300, 200, |x, y| image::Rgba([x as u8, y as u8, 90, 255]))
        .save(&input)
        .unwrap();
    let output = dir.path().join("poster.ora");
    let weights = qwen_reference::committed("tiny-model");
    let status = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args([
            "decompose",
            "--method",
            "qwen-layered",
            "--layers",
            "3",
            "--steps",
            "2",
        ])
        .args(["--prompt", "a poster", "--weights"])
        .arg(&weights)
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let doc = strata::io::open(&output).unwrap();
    assert_eq!((doc.width, doc.height), (300, 200));
    assert_eq!(doc.layers.len(), 3);
    assert_eq!(doc.layers[0].name, "Background");
    for layer in &doc.layers {
        assert!(
            BBox::new(0, 0, 300, 200).encloses(&layer.bounds()),
            "{}: {:?}",
            layer.name,
            layer.bounds()
        );
    }
}

#[test]
fn missing_and_mismatched_model_folders_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let picture = RgbaImage::from_pixel(64, 64, image::Rgba([1, 2, 3, 255]));
    let options = Options {
        method: Method::QwenLayered,
        layers: 2.into(),
        seed: 0,
    };
    let run = |weights: PathBuf| {
        let settings = QwenSettings {
            weights: Some(weights),
            steps: 1,
            ..QwenSettings::default()
        };
        qwen_decomposer(settings)
            .unwrap()
            .decompose(&picture, &options, &Progress::new())
            .unwrap_err()
    };
    // Each failure is a typed weights-file error naming the file at fault.
    let weights_file = |err: &DecomposeError| match err {
        DecomposeError::WeightsFile { path, .. } => path.clone(),
        other => panic!("not a weights-file error: {other:?}"),
    };
    let missing = dir.path().join("nowhere");
    let err = run(missing.clone());
    assert_eq!(weights_file(&err), missing);
    let err = err.to_string();
    assert!(
        err.contains("nowhere") && err.contains("Qwen/Qwen-Image-Layered"),
        "{err}"
    );

    // A copy whose VAE latents do not fit the transformer.
    let copy = dir.path().join("copy");
    copy_dir(&qwen_reference::committed("tiny-model"), &copy);
    let config = copy.join("transformer/config.json");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("\"in_channels\": 32", "\"in_channels\": 64"),
    )
    .unwrap();
    let err = run(copy.clone());
    assert_eq!(weights_file(&err), copy.join("transformer"));
    let err = err.to_string();
    assert!(
        err.contains("transformer") && err.contains("different models"),
        "{err}"
    );

    // A shard that is not safetensors.
    std::fs::write(&config, text).unwrap();
    std::fs::write(
        copy.join("vae/diffusion_pytorch_model.safetensors"),
        b"junk",
    )
    .unwrap();
    let err = run(copy.clone());
    assert_eq!(
        weights_file(&err),
        copy.join("vae/diffusion_pytorch_model.safetensors")
    );
}

#[test]
fn progress_reports_each_step_and_cancel_stops_between_steps() {
    let dir = qwen_reference::committed("tiny-model");
    let (_, settings, options) = load_reference(&dir);
    let settings = QwenSettings {
        steps: 40,
        ..settings
    };
    let picture = image::open(dir.join("picture.png")).unwrap().to_rgba8();
    let mut jobs = Jobs::default();
    let request = JobRequest {
        image: Arc::new(picture),
        options,
        target: Target::Document,
    };
    jobs.start_with(request, qwen_decomposer(settings).unwrap(), || ());
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let mut seen = Vec::new();
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "no denoising step seen: {seen:?}"
        );
        if let Some((_, _, stage)) = jobs.running() {
            if stage.starts_with("Denoising, step 2 of 40") {
                break;
            }
            if seen.last() != Some(&stage) {
                seen.push(stage);
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let cancelled_at = std::time::Instant::now();
    jobs.cancel();
    assert!(jobs.running().is_none());
    // The worker stops at the next step boundary; the runner has already dropped the job.
    assert!(cancelled_at.elapsed() < Duration::from_secs(5));
    // Stages come in pipeline order (a fast one may pass between two polls unseen).
    let order = [
        "Loading the text encoder",
        "Encoding the picture",
        "Loading the transformer",
        "Denoising, step 1 of 40",
    ];
    let positions: Vec<usize> = seen
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| order.iter().position(|o| o == s).unwrap_or(usize::MAX))
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]) && !positions.contains(&usize::MAX),
        "{seen:?}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
