//! The flow-matching schedule and Euler step against diffusers' `FlowMatchEulerDiscreteScheduler`
//! (reference values from `scripts/qwen_parity_scheduler.py`, committed in
//! `tests/data/qwen/scheduler.json`; regenerated here when Python has torch and diffusers).
#![cfg(feature = "qwen")]
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

mod qwen_reference;

use candle_core::{Device, Tensor};
use strata::decompose::methods::qwen::scheduler::{SchedulerConfig, layered_mu};

#[derive(serde::Deserialize)]
struct Case {
    config: serde_json::Value,
    steps: usize,
    condition_tokens: usize,
    sigmas: Vec<f32>,
    timesteps: Vec<f32>,
    sample: Vec<f32>,
    velocity: Vec<f32>,
    stepped: Vec<f32>,
}

fn check(path: &std::path::Path) {
    let cases: Vec<Case> = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    assert!(cases.len() >= 20, "{} cases", cases.len());
    let mut worst = 0.0f32;
    let mut compared = 0;
    for case in &cases {
        let config: SchedulerConfig = serde_json::from_value(case.config.clone()).unwrap();
        let mu = layered_mu(case.condition_tokens);
        let schedule = config.schedule(case.steps, mu).unwrap();
        let what = format!(
            "{} steps, {} tokens, {}",
            case.steps, case.condition_tokens, case.config
        );
        assert_eq!(schedule.sigmas.len(), case.sigmas.len(), "{what}");
        for (a, b) in schedule.sigmas.iter().zip(&case.sigmas) {
            worst = worst.max((a - b).abs());
        }
        for (a, b) in schedule.timesteps.iter().zip(&case.timesteps) {
            assert!((a - b).abs() <= 1e-3, "{what}: timestep {a} vs {b}");
        }
        let device = Device::Cpu;
        let sample = Tensor::new(case.sample.as_slice(), &device).unwrap();
        let velocity = Tensor::new(case.velocity.as_slice(), &device).unwrap();
        let stepped = schedule.step(0, &velocity, &sample).unwrap();
        for (a, b) in stepped.to_vec1::<f32>().unwrap().iter().zip(&case.stepped) {
            worst = worst.max((a - b).abs());
        }
        compared += 1;
    }
    println!("{compared} schedules, max |Δ| = {worst:e}");
    assert!(compared >= 20);
    assert!(worst <= 1e-6, "max |Δ| {worst}");
}

#[test]
fn schedules_and_steps_match_diffusers() {
    check(&qwen_reference::committed("scheduler.json"));
    if let Some(fresh) = qwen_reference::regenerate("scheduler", "scheduler.json") {
        check(&fresh);
    }
}
