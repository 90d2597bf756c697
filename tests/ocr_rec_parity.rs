//! The native candle PP-OCRv4 recogniser against onnxruntime
//! (`scripts/ppocr_rec_reference.py` wrote `tests/data/ocr_rec_reference.safetensors` from the
//! `tests/data/ocr_rec_*.png` lines), the weight-file error path, and an (ignored) timing run.
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

use std::collections::HashMap;
use std::time::Instant;

use candle_core::{Device, Tensor};
use image::RgbaImage;
use image::imageops::{self, FilterType};
use strata::decompose::DecomposeError;
use strata::decompose::nn::ocr_rec;

const REFERENCE: &[u8] = include_bytes!("data/ocr_rec_reference.safetensors");
const LINES: [(&str, &[u8]); 3] = [
    ("summer", include_bytes!("data/ocr_rec_summer.png")),
    ("price", include_bytes!("data/ocr_rec_price.png")),
    ("shipping", include_bytes!("data/ocr_rec_shipping.png")),
];
const WEIGHTS: &[u8] = include_bytes!("../assets/models/ppocrv4_rec.safetensors");
const KEYS: &str = include_str!("../assets/models/ppocrv4_rec_keys.txt");

/// Largest allowed difference of a sequence feature (values reach ±14). The weights are
/// stored in f16 while the reference ran the original f32 export: measured 0.16 at most
/// (with f32 weights, `convert_ppocr_rec.py --f32`, the same code is within 5e-5).
const FEATURE_TOL: f32 = 0.25;
/// Largest allowed difference of a class probability among onnxruntime's top 5 per column:
/// measured 6.1e-3 at most with f16 weights (1.2e-5 with f32 ones).
const PROB_TOL: f32 = 0.01;

fn reference() -> HashMap<String, Tensor> {
    candle_core::safetensors::load_buffer(REFERENCE, &Device::Cpu).unwrap()
}

fn string(t: &Tensor) -> String {
    t.to_vec1::<u32>()
        .unwrap()
        .into_iter()
        .map(|c| char::from_u32(c).unwrap())
        .collect()
}

fn line(png: &[u8]) -> RgbaImage {
    image::load_from_memory(png).unwrap().to_rgba8()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn matches_onnxruntime_on_rendered_lines() {
    let refs = reference();
    let net = ocr_rec::model().unwrap();
    for (name, png) in LINES {
        let get = |key: &str| &refs[&format!("{name}.{key}")];
        let crop = line(png);
        let x = ocr_rec::preprocess(&crop).unwrap();

        // The same input as the reference, before comparing outputs.
        let x64 = x.to_dtype(candle_core::DType::F64).unwrap();
        let sums = x64.sum((0, 2, 3)).unwrap().to_vec1::<f64>().unwrap();
        let want_sums = get("input_sums").to_vec1::<f64>().unwrap();
        for (c, (got, want)) in sums.iter().zip(&want_sums).enumerate() {
            let rel = (got - want).abs() / want.abs().max(1.0);
            assert!(rel < 1e-9, "{name}: input channel {c} sums {got} vs {want}");
        }

        let features = net.features(&x).unwrap();
        let want = get("features");
        assert_eq!(features.dims()[1..], *want.dims(), "{name}: feature shape");
        let got_f = features.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let want_f = want.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let feat_diff = max_abs_diff(&got_f, &want_f);

        let probs = net.probabilities(&features).unwrap();
        let probs2 = probs.squeeze(0).unwrap().to_vec2::<f32>().unwrap();
        let top_index = get("top_index").to_vec2::<i32>().unwrap();
        let top_prob = get("top_prob").to_vec2::<f32>().unwrap();
        let mut prob_diff = 0f32;
        for (t, (row, (idx, p))) in probs2
            .iter()
            .zip(top_index.iter().zip(&top_prob))
            .enumerate()
        {
            for (&i, &p) in idx.iter().zip(p) {
                prob_diff = prob_diff.max((row[i as usize] - p).abs());
            }
            let best = row
                .iter()
                .enumerate()
                .fold(
                    (0, f32::NEG_INFINITY),
                    |b, (i, &v)| if v > b.1 { (i, v) } else { b },
                );
            assert_eq!(
                best.0 as i32, idx[0],
                "{name}: column {t} reads another class"
            );
        }

        let (text, confidence) = net.decode(&probs).unwrap();
        let want_conf = get("confidence").to_vec1::<f32>().unwrap()[0];
        eprintln!(
            "{name}: features max abs diff {feat_diff:.2e}, top-5 probabilities {prob_diff:.2e}, \
             confidence {confidence:.4} vs {want_conf:.4}, read {text:?}"
        );
        assert!(
            feat_diff < FEATURE_TOL,
            "{name}: features differ by {feat_diff}"
        );
        assert!(
            prob_diff < PROB_TOL,
            "{name}: probabilities differ by {prob_diff}"
        );
        assert_eq!(text, string(get("text")), "{name}: decoded text");
        assert!(
            (confidence - want_conf).abs() < PROB_TOL,
            "{name}: confidence"
        );

        // The public entry point reads the words that were drawn.
        let (words, _) = ocr_rec::recognize_line(&crop).unwrap();
        assert_eq!(words, string(get("drawn")), "{name}: recognize_line");
    }
}

#[test]
fn reads_a_line_that_must_be_scaled() {
    // Twice the size and on transparency: the bilinear path and the white matte.
    let crop = line(LINES[0].1);
    let big = imageops::resize(
        &crop,
        crop.width() * 2,
        crop.height() * 2,
        FilterType::Triangle,
    );
    let (text, confidence) = ocr_rec::recognize_line(&big).unwrap();
    assert_eq!(text, "Summer sale");
    assert!(confidence > 0.9, "confidence {confidence}");
    // An empty crop reads as nothing rather than failing.
    assert_eq!(
        ocr_rec::recognize_line(&RgbaImage::new(0, 0)).unwrap(),
        (String::new(), 0.0)
    );
}

#[test]
fn corrupt_weights_are_reported_against_the_file() {
    let expect_weights_file =
        |result: Result<ocr_rec::Recognizer, DecomposeError>, file: &str| match result {
            Err(DecomposeError::WeightsFile { path, reason }) => {
                assert!(
                    path.to_string_lossy().contains(file),
                    "path {} does not name {file}",
                    path.display()
                );
                assert!(!reason.is_empty());
            }
            other => panic!("expected a WeightsFile error for {file}, got {other:?}"),
        };
    // Not safetensors at all.
    expect_weights_file(
        ocr_rec::load(b"not a safetensors file", KEYS),
        "ppocrv4_rec.safetensors",
    );
    // Cut short: the header promises tensors the bytes do not hold.
    let cut = &WEIGHTS[..WEIGHTS.len() / 2];
    expect_weights_file(ocr_rec::load(cut, KEYS), "ppocrv4_rec.safetensors");
    // A character list that does not fit the head.
    expect_weights_file(ocr_rec::load(WEIGHTS, "a\nb\n"), "ppocrv4_rec_keys.txt");
    // The intact pair loads.
    assert!(ocr_rec::load(WEIGHTS, KEYS).is_ok());
}

#[test]
#[ignore = "timing; run with -- --ignored --nocapture"]
fn perf_line_320() {
    let t = Instant::now();
    let net = ocr_rec::model().unwrap();
    eprintln!("load weights: {:.3} s", t.elapsed().as_secs_f64());
    let crop = line(LINES[0].1);
    let x = ocr_rec::preprocess(&crop).unwrap();
    assert_eq!(x.dims(), [1, 3, 48, 320]);
    for i in 0..5 {
        let t = Instant::now();
        let probs = net.probabilities(&net.features(&x).unwrap()).unwrap();
        net.decode(&probs).unwrap();
        eprintln!(
            "48×320 line, run {i}: {:.1} ms",
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    // For comparison: one of the fourteen depthwise layers (240 channels, 5×5, 12×80) as
    // candle's grouped conv, which the port replaces with its own loop.
    let x = Tensor::randn(0f32, 1.0, (1, 240, 12, 80), &Device::Cpu).unwrap();
    let w = Tensor::randn(0f32, 1.0, (240, 1, 5, 5), &Device::Cpu).unwrap();
    for i in 0..2 {
        let t = Instant::now();
        x.conv2d(&w, 2, 1, 1, 240).unwrap();
        eprintln!(
            "candle grouped conv, one 240-channel 5×5 layer, run {i}: {:.1} ms",
            t.elapsed().as_secs_f64() * 1e3
        );
    }
}
