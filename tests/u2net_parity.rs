//! The native candle U²-Net-P against the onnxruntime reference
//! (`scripts/u2netp_reference.py` wrote `tests/data/u2netp_reference.safetensors`), plus a
//! saliency sanity check on a synthetic photo and an (ignored) timing run.
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

use std::time::Instant;

use candle_core::{Device, Tensor};
use image::{Rgba, RgbaImage};
use strata::decompose::nn::u2net::{self, INPUT_SIZE};

/// ImageNet statistics as the f64 literals numpy uses (the crate's constants are f32).
const MEAN: [f64; 3] = [0.485, 0.456, 0.406];
const STD: [f64; 3] = [0.229, 0.224, 0.225];

const REFERENCE: &[u8] = include_bytes!("data/u2netp_reference.safetensors");

/// The closed-form input of `scripts/u2netp_reference.py` (`reference_input`), computed in
/// f64 and rounded to f32 once, like numpy does there.
fn reference_input() -> (Vec<f32>, [f64; 3]) {
    let size = INPUT_SIZE as usize;
    let plane = size * size;
    let mut data = vec![0f32; 3 * plane];
    for y in 0..size {
        for x in 0..size {
            let (xf, yf) = (x as f64, y as f64);
            let disc = (xf - 150.0).powi(2) + (yf - 170.0).powi(2) < 70.0f64.powi(2);
            let rgb = if disc {
                [0.9, 0.2, 0.1]
            } else {
                [
                    0.5 + 0.5 * (0.031 * xf + 0.017 * yf).sin(),
                    0.5 + 0.5 * (0.023 * yf - 0.011 * xf).cos(),
                    ((x * 7 + y * 13) % 64) as f64 / 63.0,
                ]
            };
            for c in 0..3 {
                let v = (rgb[c] - MEAN[c]) / STD[c];
                data[c * plane + y * size + x] = v as f32;
            }
        }
    }
    let mut sums = [0f64; 3];
    for (c, sum) in sums.iter_mut().enumerate() {
        *sum = data[c * plane..(c + 1) * plane]
            .iter()
            .map(|&v| f64::from(v))
            .sum();
    }
    (data, sums)
}

fn reference_output() -> (Vec<f32>, Vec<f64>) {
    let tensors = candle_core::safetensors::load_buffer(REFERENCE, &Device::Cpu).unwrap();
    let d0 = tensors["d0"]
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let sums = tensors["input_sums"].to_vec1::<f64>().unwrap();
    (d0, sums)
}

#[test]
fn matches_onnxruntime_within_1e_4() {
    let (input, sums) = reference_input();
    let (expected, expected_sums) = reference_output();
    for c in 0..3 {
        let rel = (sums[c] - expected_sums[c]).abs() / expected_sums[c].abs().max(1.0);
        assert!(
            rel < 1e-9,
            "input channel {c}: sum {} vs {}",
            sums[c],
            expected_sums[c]
        );
    }
    let size = INPUT_SIZE as usize;
    let x = Tensor::from_vec(input, (1, 3, size, size), &Device::Cpu).unwrap();
    let net = u2net::model().unwrap();
    let got = u2net::run(net, &x).unwrap();
    assert_eq!((got.width, got.height), (INPUT_SIZE, INPUT_SIZE));
    let (mut max_abs, mut sum_abs) = (0f32, 0f64);
    for (a, b) in got.values.iter().zip(&expected) {
        let d = (a - b).abs();
        max_abs = max_abs.max(d);
        sum_abs += f64::from(d);
    }
    let mean_abs = sum_abs / expected.len() as f64;
    eprintln!("U²-Net-P vs onnxruntime: max abs diff {max_abs:.3e}, mean {mean_abs:.3e}");
    assert!(max_abs < 1e-4, "max abs diff {max_abs}");
}

/// A photo-like scene: a bright orange ball on a plain grey-blue backdrop with a little noise.
fn ball_scene(w: u32, h: u32) -> RgbaImage {
    let (cx, cy, r) = (w as f32 * 0.5, h as f32 * 0.55, h as f32 * 0.28);
    RgbaImage::from_fn(w, h, |x, y| {
        let noise = ((x * 31 + y * 17) % 7) as f32 - 3.0;
        let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
        let shade = |c: f32| (c + noise).clamp(0.0, 255.0) as u8;
        if d < r {
            let light = 1.0 - 0.35 * (d / r);
            Rgba([
                shade(250.0 * light),
                shade(140.0 * light),
                shade(30.0 * light),
                255,
            ])
        } else {
            Rgba([shade(120.0), shade(130.0), shade(145.0), 255])
        }
    })
}

#[test]
fn a_bright_ball_on_a_plain_backdrop_is_salient() {
    let (w, h) = (480, 360);
    let img = ball_scene(w, h);
    let matte = u2net::saliency(&img).unwrap().resized(w, h);
    let (cx, cy, r) = (w as f32 * 0.5, h as f32 * 0.55, h as f32 * 0.28);
    let (mut inside, mut n_in, mut outside, mut n_out) = (0f32, 0, 0f32, 0);
    for y in 0..h {
        for x in 0..w {
            let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
            let v = matte.at(x, y);
            if d < r * 0.8 {
                inside += v;
                n_in += 1;
            } else if d > r * 1.25 {
                outside += v;
                n_out += 1;
            }
        }
    }
    let (inside, outside) = (inside / n_in as f32, outside / n_out as f32);
    eprintln!("mean saliency: ball {inside:.3}, backdrop {outside:.3}");
    assert!(inside > 0.8, "ball saliency {inside}");
    assert!(outside < 0.1, "backdrop saliency {outside}");
}

#[test]
#[ignore = "timing; run with --release -- --ignored --nocapture"]
fn perf_network_320() {
    let (input, _) = reference_input();
    let size = INPUT_SIZE as usize;
    let x = Tensor::from_vec(input, (1, 3, size, size), &Device::Cpu).unwrap();
    let t = Instant::now();
    let net = u2net::model().unwrap();
    eprintln!("load weights: {:.3} s", t.elapsed().as_secs_f64());
    for i in 0..3 {
        let t = Instant::now();
        u2net::run(net, &x).unwrap();
        eprintln!(
            "U²-Net-P 320×320 run {i}: {:.3} s",
            t.elapsed().as_secs_f64()
        );
    }
    let img = ball_scene(4000, 3000);
    let t = Instant::now();
    let pre = u2net::preprocess(&img).unwrap();
    eprintln!("preprocess 12 Mpx: {:.3} s", t.elapsed().as_secs_f64());
    drop(pre);
}
