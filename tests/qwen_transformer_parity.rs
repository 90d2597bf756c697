//! The candle `QwenImageTransformer2DModel` (layered options) against diffusers on a tiny random
//! configuration. `scripts/qwen_parity_transformer.py` wrote the weights (diffusers' key names),
//! inputs and outputs to `tests/data/qwen/transformer.safetensors` and the config to
//! `tests/data/qwen/transformer_config.json`; when Python has torch and diffusers the script is
//! re-run into a temporary folder and that fresh reference is checked too.
#![cfg(feature = "qwen")]
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

mod qwen_reference;

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use strata::decompose::methods::qwen::transformer::{
    FrameShape, QwenImageTransformer, TransformerConfig,
};

/// The cases the script writes (`io.<case>.*`).
const CASES: [&str; 2] = ["a", "b"];

struct Reference {
    config: TransformerConfig,
    weights: HashMap<String, Tensor>,
    io: HashMap<String, Tensor>,
}

fn load(safetensors: &Path) -> Reference {
    let all = candle_core::safetensors::load(safetensors, &Device::Cpu).unwrap();
    let (io, weights): (HashMap<_, _>, HashMap<_, _>) =
        all.into_iter().partition(|(k, _)| k.starts_with("io."));
    let config_path = safetensors.with_file_name("transformer_config.json");
    let config = serde_json::from_slice(&std::fs::read(config_path).unwrap()).unwrap();
    Reference {
        config,
        weights,
        io,
    }
}

struct Case<'a> {
    hidden: &'a Tensor,
    text: &'a Tensor,
    mask: Option<&'a Tensor>,
    timestep: &'a Tensor,
    cond: &'a Tensor,
    shapes: Vec<FrameShape>,
    expected: &'a Tensor,
}

fn case<'a>(r: &'a Reference, name: &str) -> Case<'a> {
    let get = |k: &str| &r.io[&format!("io.{name}.{k}")];
    let shapes = get("img_shapes")
        .to_vec2::<i64>()
        .unwrap()
        .iter()
        .map(|s| (s[0] as usize, s[1] as usize, s[2] as usize))
        .collect();
    Case {
        hidden: get("hidden_states"),
        text: get("encoder_hidden_states"),
        mask: r.io.get(&format!("io.{name}.encoder_hidden_states_mask")),
        timestep: get("timestep"),
        cond: get("additional_t_cond"),
        shapes,
        expected: get("output"),
    }
}

fn model(r: &Reference, dtype: DType) -> QwenImageTransformer {
    let vb = VarBuilder::from_tensors(r.weights.clone(), dtype, &Device::Cpu);
    QwenImageTransformer::new(&r.config, vb).unwrap()
}

fn run(m: &QwenImageTransformer, c: &Case) -> Tensor {
    m.forward(
        c.hidden,
        c.text,
        c.mask,
        c.timestep,
        &c.shapes,
        Some(c.cond),
    )
    .unwrap()
    .to_dtype(DType::F32)
    .unwrap()
}

fn max_abs(t: &Tensor) -> f32 {
    t.abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

/// Runs every case in f32 and returns the worst |Δ| against diffusers.
fn check_f32(r: &Reference, what: &str) -> f32 {
    assert!(r.config.use_layer3d_rope && r.config.use_additional_t_cond);
    let m = model(r, DType::F32);
    let mut worst = 0f32;
    for name in CASES {
        let c = case(r, name);
        let got = run(&m, &c);
        assert_eq!(got.dims(), c.expected.dims(), "{what} case {name}");
        let delta = max_abs(&(got - c.expected).unwrap());
        println!(
            "{what} case {name}: output {:?}, max |Δ| = {delta:e} (max |ref| {:.3})",
            c.expected.dims(),
            max_abs(c.expected)
        );
        worst = worst.max(delta);
    }
    assert!(worst <= 1e-4, "{what}: max |Δ| {worst}");
    worst
}

#[test]
fn f32_matches_diffusers() {
    let committed = load(&qwen_reference::committed("transformer.safetensors"));
    check_f32(&committed, "committed");

    if let Some(fresh) = qwen_reference::regenerate("transformer", "transformer.safetensors") {
        let fresh = load(&fresh);
        assert_eq!(fresh.config, committed.config, "config changed");
        let mut keys: Vec<_> = committed.weights.keys().collect();
        keys.sort();
        let mut fresh_keys: Vec<_> = fresh.weights.keys().collect();
        fresh_keys.sort();
        assert_eq!(keys, fresh_keys, "state-dict keys changed");
        for (k, v) in &committed.weights {
            assert_eq!(v.dims(), fresh.weights[k].dims(), "{k}");
        }
        for (k, v) in &committed.io {
            assert_eq!(v.dims(), fresh.io[k].dims(), "{k}");
        }
        check_f32(&fresh, "regenerated");
    }
}

/// BF16 against diffusers in BF16 (`output_bf16`), loosely: the two round in different places.
/// Not against the f32 output: diffusers rounds the timestep to BF16 before its sinusoid
/// (t × 1000 moves by up to ~2 rad), which moves this tiny random model's output by ~30 % (the
/// script prints it).
#[test]
fn bf16_close_to_diffusers_bf16() {
    let r = load(&qwen_reference::committed("transformer.safetensors"));
    let m = model(&r, DType::BF16);
    assert_eq!(m.dtype(), DType::BF16);
    for name in CASES {
        let c = case(&r, name);
        let expected = &r.io[&format!("io.{name}.output_bf16")];
        // Inputs go in as f32; the model converts them to its dtype.
        let got = run(&m, &c);
        let rel = max_abs(&(&got - expected).unwrap()) / max_abs(expected);
        let rel_f32 = max_abs(&(&got - c.expected).unwrap()) / max_abs(c.expected);
        println!(
            "bf16 case {name}: max |Δ| / max |ref| = {rel:.4} against diffusers bf16 \
             ({rel_f32:.3} against f32)"
        );
        assert!(rel <= 5e-2, "bf16 case {name}: relative error {rel}");
    }
}

#[test]
fn rejects_inconsistent_inputs() {
    let r = load(&qwen_reference::committed("transformer.safetensors"));
    let m = model(&r, DType::F32);
    let c = case(&r, "a");
    // img_shapes that do not cover the tokens.
    let short = &c.shapes[1..];
    assert!(
        m.forward(c.hidden, c.text, c.mask, c.timestep, short, Some(c.cond))
            .is_err()
    );
    // The layered model needs is_rgb.
    assert!(
        m.forward(c.hidden, c.text, c.mask, c.timestep, &c.shapes, None)
            .is_err()
    );
    // A mask of the wrong length.
    let mask = c.mask.unwrap().narrow(1, 0, 3).unwrap();
    assert!(
        m.forward(
            c.hidden,
            c.text,
            Some(&mask),
            c.timestep,
            &c.shapes,
            Some(c.cond)
        )
        .is_err()
    );
}
