//! The regions method on synthetic scenes with known layers: a textured background with
//! solid and soft-edged shapes on it.
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

use std::time::Instant;

use image::{Rgba, RgbaImage};
use strata::decompose::methods::regions::RegionsDecomposer;
use strata::decompose::registry::{MethodSettings, decomposer_for};
use strata::decompose::{DecomposeError, Decomposer, LayerSpec, Method, Options, Progress, apply};
use strata::model::{Document, composite};

/// One shape of a scene: colour and per-pixel coverage.
struct Shape {
    colour: [u8; 3],
    coverage: Box<dyn Fn(f32, f32) -> f32>,
}

/// A scene with its ground truth.
struct Scene {
    image: RgbaImage,
    background: RgbaImage,
    /// Coverage > ½ per shape.
    masks: Vec<Vec<bool>>,
    colours: Vec<[u8; 3]>,
}

/// Coverage of a disc with an anti-aliased (or, with `soft`, blurred) rim.
fn disc(cx: f32, cy: f32, r: f32, soft: f32) -> Box<dyn Fn(f32, f32) -> f32> {
    Box::new(move |x, y| {
        let d = ((x - cx).powi(2) + (y - cy).powi(2)).sqrt();
        (0.5 + (r - d) / soft).clamp(0.0, 1.0)
    })
}

/// Coverage of an axis-aligned rectangle with hard edges.
fn rect(x0: f32, y0: f32, x1: f32, y1: f32) -> Box<dyn Fn(f32, f32) -> f32> {
    Box::new(move |x, y| {
        if x >= x0 && x < x1 && y >= y0 && y < y1 {
            1.0
        } else {
            0.0
        }
    })
}

/// Textured background: a slow gradient, diagonal stripes and noise.
fn textured_background(w: u32, h: u32) -> RgbaImage {
    let mut state = 0x2545_F491u32;
    RgbaImage::from_fn(w, h, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state % 21) as f32 - 10.0;
        let stripe = if (x + 2 * y) % 14 < 7 { 14.0 } else { -14.0 };
        let base = 110.0 + 40.0 * x as f32 / w as f32 + stripe + noise;
        Rgba([
            (base * 0.8) as u8,
            base.clamp(0.0, 255.0) as u8,
            (base * 0.6 + 30.0) as u8,
            255,
        ])
    })
}

fn scene(w: u32, h: u32) -> Scene {
    let (fw, fh) = (w as f32, h as f32);
    let shapes = [
        Shape {
            colour: [210, 40, 50],
            coverage: disc(0.3 * fw, 0.4 * fh, 0.15 * fh, 1.0),
        },
        Shape {
            colour: [40, 60, 200],
            coverage: rect(0.55 * fw, 0.55 * fh, 0.85 * fw, 0.85 * fh),
        },
        Shape {
            colour: [240, 210, 60],
            coverage: disc(0.75 * fw, 0.25 * fh, 0.12 * fh, 4.0),
        },
    ];
    let background = textured_background(w, h);
    let mut image = background.clone();
    let mut masks = vec![vec![false; (w * h) as usize]; shapes.len()];
    for (k, s) in shapes.iter().enumerate() {
        for (x, y, p) in image.enumerate_pixels_mut() {
            let a = (s.coverage)(x as f32 + 0.5, y as f32 + 0.5);
            for c in 0..3 {
                let v = a * f32::from(s.colour[c]) + (1.0 - a) * f32::from(p.0[c]);
                p.0[c] = v.round() as u8;
            }
            let i = (y * w + x) as usize;
            masks[k][i] = a > 0.5;
            if a > 0.5 {
                for m in masks.iter_mut().take(k) {
                    m[i] = false;
                }
            }
        }
    }
    Scene {
        image,
        background,
        masks,
        colours: shapes.iter().map(|s| s.colour).collect(),
    }
}

fn options(layers: usize, seed: u64) -> Options {
    Options {
        method: Method::Regions,
        layers: layers.into(),
        seed,
    }
}

fn decompose(image: &RgbaImage, layers: usize, seed: u64) -> Vec<LayerSpec> {
    RegionsDecomposer::default()
        .decompose(image, &options(layers, seed), &Progress::new())
        .unwrap()
}

fn recomposite(specs: &[LayerSpec], w: u32, h: u32) -> RgbaImage {
    let mut doc = Document::new(w, h);
    apply::replace_document(&mut doc, specs.to_vec());
    composite(&doc)
}

fn rmse(a: &RgbaImage, b: &RgbaImage) -> f64 {
    let sum: f64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&p, &q)| (f64::from(p) - f64::from(q)).powi(2))
        .sum();
    (sum / a.as_raw().len() as f64).sqrt() / 255.0
}

/// A layer's alpha > ½ placed on the canvas.
fn layer_mask(spec: &LayerSpec, w: u32, h: u32) -> Vec<bool> {
    let mut mask = vec![false; (w * h) as usize];
    for (x, y, p) in spec.pixels.enumerate_pixels() {
        let (cx, cy) = (x as i32 + spec.offset.x, y as i32 + spec.offset.y);
        if p.0[3] > 127 && cx >= 0 && cy >= 0 && (cx as u32) < w && (cy as u32) < h {
            mask[(cy as u32 * w + cx as u32) as usize] = true;
        }
    }
    mask
}

fn iou(a: &[bool], b: &[bool]) -> f64 {
    let inter = a.iter().zip(b).filter(|&(&x, &y)| x && y).count();
    let union = a.iter().zip(b).filter(|&(&x, &y)| x || y).count();
    inter as f64 / union.max(1) as f64
}

#[test]
fn layers_reconstruct_and_capture_each_shape() {
    let (w, h) = (240, 180);
    let s = scene(w, h);
    let layers = decompose(&s.image, 4, 0);
    assert_eq!(layers.len(), 4);
    assert_eq!(layers[0].name, "Background");
    assert_eq!(layers[1].name, "Region 1");
    assert_eq!(layers[0].pixels.dimensions(), (w, h));

    let err = rmse(&recomposite(&layers, w, h), &s.image);
    println!("reconstruction RMSE {:.3}/255", err * 255.0);
    assert!(err < 2.0 / 255.0, "RMSE {err}");

    let masks: Vec<Vec<bool>> = layers[1..].iter().map(|l| layer_mask(l, w, h)).collect();
    for (k, truth) in s.masks.iter().enumerate() {
        let best = masks.iter().map(|m| iou(m, truth)).fold(0.0, f64::max);
        println!("shape {k}: best IoU {best:.3}");
        assert!(best > 0.7, "shape {k} IoU {best}");
    }
}

#[test]
fn background_behind_shapes_is_filled_in() {
    let (w, h) = (240, 180);
    let s = scene(w, h);
    let layers = decompose(&s.image, 4, 1);
    let bg = &layers[0].pixels;
    for (k, truth) in s.masks.iter().enumerate() {
        let (mut fill_err, mut shape_err, mut n) = (0.0f64, 0.0f64, 0.0f64);
        for (i, _) in truth.iter().enumerate().filter(|&(_, &m)| m) {
            let (x, y) = (i as u32 % w, i as u32 / w);
            let (got, want) = (bg.get_pixel(x, y).0, s.background.get_pixel(x, y).0);
            for c in 0..3 {
                fill_err += (f64::from(got[c]) - f64::from(want[c])).abs();
                shape_err += (f64::from(s.colours[k][c]) - f64::from(want[c])).abs();
            }
            assert_eq!(got[3], 255);
            n += 3.0;
        }
        let (fill_err, shape_err) = (fill_err / n, shape_err / n);
        println!("shape {k}: fill error {fill_err:.1}, shape-vs-background {shape_err:.1}");
        assert!(
            fill_err < 0.3 * shape_err,
            "shape {k}: {fill_err} vs {shape_err}"
        );
    }
}

#[test]
fn same_seed_gives_the_same_layers() {
    let s = scene(160, 120);
    let a = decompose(&s.image, 4, 9);
    let b = decompose(&s.image, 4, 9);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.pixels, y.pixels);
        assert_eq!(x.offset, y.offset);
        assert_eq!(x.name, y.name);
    }
}

#[test]
fn one_layer_is_the_input() {
    let s = scene(64, 48);
    let layers = decompose(&s.image, 1, 0);
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0].pixels, s.image);
}

#[test]
fn a_flat_picture_gives_fewer_layers() {
    let image = RgbaImage::from_pixel(50, 40, Rgba([90, 120, 30, 255]));
    let layers = decompose(&image, 6, 0);
    assert_eq!(layers.len(), 1);
    assert_eq!(recomposite(&layers, 50, 40), image);
}

#[test]
fn transparency_is_respected() {
    // Shapes on a transparent canvas with a half-transparent band.
    let (w, h) = (120u32, 90u32);
    let s = scene(w, h);
    let image = RgbaImage::from_fn(w, h, |x, y| {
        let mut p = *s.image.get_pixel(x, y);
        if x < 10 || y < 8 {
            p.0 = [0, 0, 0, 0];
        } else if x < 16 {
            p.0[3] = 128;
        }
        p
    });
    let layers = decompose(&image, 4, 0);
    assert!(layers.len() >= 2);
    let out = recomposite(&layers, w, h);
    let mut sum = 0.0f64;
    for (p, q) in out.pixels().zip(image.pixels()) {
        let (pa, qa) = (f64::from(p.0[3]), f64::from(q.0[3]));
        assert!((pa - qa).abs() <= 1.0, "alpha {pa} vs {qa}");
        for c in 0..3 {
            // Compare premultiplied: colour under zero alpha is meaningless.
            sum += (f64::from(p.0[c]) * pa / 255.0 - f64::from(q.0[c]) * qa / 255.0).powi(2);
        }
    }
    let err = (sum / f64::from(w * h * 3)).sqrt() / 255.0;
    assert!(err < 2.0 / 255.0, "premultiplied RMSE {err}");
    for spec in &layers {
        for (x, y, p) in spec.pixels.enumerate_pixels() {
            let (cx, cy) = (x as i32 + spec.offset.x, y as i32 + spec.offset.y);
            if image.get_pixel(cx as u32, cy as u32).0[3] == 0 {
                assert_eq!(p.0[3], 0, "{} has a pixel at ({cx}, {cy})", spec.name);
            }
        }
    }
}

#[test]
fn tiny_pictures_do_not_break_it() {
    for (w, h) in [(1, 1), (2, 3), (7, 1), (9, 9)] {
        let image =
            RgbaImage::from_fn(w, h, |x, y| Rgba([(x * 40) as u8, (y * 60) as u8, 90, 255]));
        let layers = decompose(&image, 5, 0);
        assert!(!layers.is_empty());
        assert!(rmse(&recomposite(&layers, w, h), &image) < 2.0 / 255.0);
    }
}

#[test]
fn cancelled_before_start() {
    let s = scene(120, 90);
    let progress = Progress::new();
    progress.cancel();
    let result = RegionsDecomposer::default().decompose(&s.image, &options(4, 0), &progress);
    assert!(matches!(result, Err(DecomposeError::Cancelled)));
}

#[test]
fn cancelled_while_running_stops_promptly() {
    let s = scene(1200, 900);
    let progress = Progress::new();
    let canceller = progress.clone();
    let handle = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(200));
        canceller.cancel();
        Instant::now()
    });
    let result = RegionsDecomposer::default().decompose(&s.image, &options(4, 0), &progress);
    let stopped = Instant::now();
    let cancelled_at = handle.join().unwrap();
    if matches!(result, Err(DecomposeError::Cancelled)) {
        let lag = stopped.saturating_duration_since(cancelled_at);
        println!("cancel answered after {lag:?}");
        assert!(lag.as_millis() < 1000, "cancel took {lag:?}");
    }
}

#[test]
fn regions_is_available_by_method() {
    let s = scene(80, 60);
    let d = decomposer_for(Method::Regions, &MethodSettings::default()).unwrap();
    let layers = d
        .decompose(&s.image, &options(3, 0), &Progress::new())
        .unwrap();
    assert!(!layers.is_empty() && layers.len() <= 3);
}

/// Speed probe: seconds per megapixel on a 2-megapixel scene. Prints, never asserts.
#[test]
#[ignore]
fn perf_probe_2_megapixels() {
    let (w, h) = (1632, 1224);
    let s = scene(w, h);
    let start = Instant::now();
    let layers = decompose(&s.image, 4, 0);
    let secs = start.elapsed().as_secs_f64();
    let mp = f64::from(w * h) / 1e6;
    let err = rmse(&recomposite(&layers, w, h), &s.image);
    println!(
        "regions: {:.2} s for {mp:.2} MP = {:.2} s/MP on {} threads, {} layers, RMSE {:.3}/255",
        secs,
        secs / mp,
        rayon::current_num_threads(),
        layers.len(),
        err * 255.0
    );
}
