//! The RGBA VAE against diffusers' `AutoencoderKLQwenImage` on a tiny random configuration
//! (reference from `scripts/qwen_parity_vae.py`, committed as `tests/data/qwen/vae.safetensors`
//! and `vae_config.json`; regenerated here when Python has torch and diffusers): encode,
//! decode, the pipeline's latent (de)normalisation, tiled encode and decode, and bf16.
#![cfg(feature = "qwen")]
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

mod qwen_reference;

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use strata::decompose::methods::qwen::vae::{QwenImageVae, Tiling, VaeConfig};

struct Reference {
    config: VaeConfig,
    tiling: Tiling,
    weights: HashMap<String, Tensor>,
    io: HashMap<String, Tensor>,
}

fn load(path: &Path) -> Reference {
    let json = std::fs::read(path.with_file_name("vae_config.json")).unwrap();
    let config = VaeConfig::from_json(&json).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let tiling: Tiling = serde_json::from_value(value["tiling"].clone()).unwrap();
    let (mut weights, mut io) = (HashMap::new(), HashMap::new());
    for (name, tensor) in candle_core::safetensors::load(path, &Device::Cpu).unwrap() {
        match name.strip_prefix("io.") {
            Some(short) => io.insert(short.to_string(), tensor),
            None => weights.insert(name, tensor),
        };
    }
    Reference {
        config,
        tiling,
        weights,
        io,
    }
}

impl Reference {
    fn vae(&self, dtype: DType) -> QwenImageVae {
        let vb = VarBuilder::from_tensors(self.weights.clone(), dtype, &Device::Cpu);
        QwenImageVae::new(self.config.clone(), vb).unwrap()
    }

    fn io(&self, name: &str, dtype: DType) -> Tensor {
        self.io[name].to_dtype(dtype).unwrap()
    }
}

/// max |a − b| after checking the shapes agree.
fn max_diff(what: &str, got: &Tensor, want: &Tensor) -> f32 {
    assert_eq!(got.dims(), want.dims(), "{what}: shape");
    let d = (got.to_dtype(DType::F32).unwrap() - want.to_dtype(DType::F32).unwrap()).unwrap();
    let d = d.abs().unwrap().flatten_all().unwrap().max(0).unwrap();
    d.to_scalar::<f32>().unwrap()
}

fn check_f32(path: &Path) {
    let r = load(path);
    assert_eq!(r.config.input_channels, 4);
    let mut vae = r.vae(DType::F32);
    let x = r.io("input", DType::F32);
    let z = r.io("latent", DType::F32);
    let report = |what: &str, got: &Tensor, want: &str, bound: f32| {
        let d = max_diff(what, got, &r.io[want]);
        println!("{what}: max |Δ| = {d:e}");
        assert!(d <= bound, "{what}: max |Δ| {d} > {bound}");
    };

    let mean = vae.encode(&x).unwrap();
    report("encode", &mean, "latent_mean", 1e-4);
    report("decode", &vae.decode(&z).unwrap(), "decoded", 1e-4);
    report(
        "normalize_latents",
        &vae.normalize_latents(&mean).unwrap(),
        "normalized",
        1e-4,
    );
    report(
        "denormalize_latents",
        &vae.denormalize_latents(&z).unwrap(),
        "denormalized",
        1e-6,
    );

    vae.set_tiling(Some(r.tiling)).unwrap();
    report(
        "tiled encode",
        &vae.encode(&x).unwrap(),
        "tiled_latent_mean",
        1e-4,
    );
    report(
        "tiled decode",
        &vae.decode(&z).unwrap(),
        "tiled_decoded",
        1e-4,
    );

    // Tiles larger than the input: tiling is skipped, as in diffusers.
    vae.set_tiling(Some(Tiling::default())).unwrap();
    report(
        "encode, tiling on but one tile",
        &vae.encode(&x).unwrap(),
        "latent_mean",
        1e-4,
    );
    report(
        "decode, tiling on but one tile",
        &vae.decode(&z).unwrap(),
        "decoded",
        1e-4,
    );
}

#[test]
fn vae_matches_diffusers_in_f32() {
    check_f32(&qwen_reference::committed("vae.safetensors"));
    if let Some(fresh) = qwen_reference::regenerate("vae", "vae.safetensors") {
        check_f32(&fresh);
    }
}

/// bf16 weights and activations against diffusers run in bf16 (norm statistics and attention
/// are f32 in both; everything else rounds to bf16 at slightly different points, hence the
/// loose bound), and against the f32 reference, to show the bf16 error is of that size too.
#[test]
fn vae_runs_in_bf16() {
    let r = load(&qwen_reference::committed("vae.safetensors"));
    let vae = r.vae(DType::BF16);
    let mean = vae.encode(&r.io("input", DType::BF16)).unwrap();
    let decoded = vae.decode(&r.io("latent", DType::BF16)).unwrap();
    assert_eq!(mean.dtype(), DType::BF16);
    assert_eq!(decoded.dtype(), DType::BF16);
    for (what, got, torch_bf16, f32_ref, bound) in [
        (
            "bf16 encode",
            &mean,
            "latent_mean_bf16",
            "latent_mean",
            0.15,
        ),
        ("bf16 decode", &decoded, "decoded_bf16", "decoded", 0.3),
    ] {
        let vs_torch = max_diff(what, got, &r.io[torch_bf16]);
        let vs_f32 = max_diff(what, got, &r.io[f32_ref]);
        let torch_vs_f32 = max_diff(what, &r.io[torch_bf16], &r.io[f32_ref]);
        println!(
            "{what}: max |Δ| vs diffusers bf16 {vs_torch:e}, vs f32 {vs_f32:e} \
             (diffusers bf16 vs f32: {torch_vs_f32:e})"
        );
        assert!(vs_torch <= bound, "{what}: {vs_torch} > {bound}");
        assert!(vs_f32 <= bound, "{what}: {vs_f32} > {bound}");
    }
}

/// Inputs that are not one frame with the configured channels are refused, not misread.
#[test]
fn vae_refuses_video_and_wrong_channels() {
    let r = load(&qwen_reference::committed("vae.safetensors"));
    let vae = r.vae(DType::F32);
    let video = Tensor::zeros((1, 4, 2, 16, 16), DType::F32, &Device::Cpu).unwrap();
    assert!(vae.encode(&video).is_err());
    let rgb = Tensor::zeros((1, 3, 1, 16, 16), DType::F32, &Device::Cpu).unwrap();
    assert!(vae.encode(&rgb).is_err());
    let latent = Tensor::zeros((1, 16, 1, 4, 4), DType::F32, &Device::Cpu).unwrap();
    assert!(vae.decode(&latent).is_err());
}
