//! The native candle PP-OCRv4 detector against the onnxruntime reference
//! (`scripts/ppocr_det_reference.py` drew `tests/data/dbnet_text.png` and wrote
//! `tests/data/dbnet_reference.safetensors`), DB post-processing on the drawn lines, and an
//! (ignored) timing run.
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

use std::time::Instant;

use candle_core::Device;
use image::RgbaImage;
use strata::decompose::nn::dbnet::{self, TextLine};
use strata::model::pixels::BBox;

const PICTURE: &[u8] = include_bytes!("data/dbnet_text.png");
const REFERENCE: &[u8] = include_bytes!("data/dbnet_reference.safetensors");

fn picture() -> RgbaImage {
    image::load_from_memory(PICTURE).unwrap().to_rgba8()
}

/// The onnxruntime probability map (row-major, 160 × 256) and the drawn lines' boxes.
fn reference() -> (Vec<f32>, Vec<BBox>) {
    let t = candle_core::safetensors::load_buffer(REFERENCE, &Device::Cpu).unwrap();
    let prob = t["prob"]
        .to_dtype(candle_core::DType::F32)
        .and_then(|p| p.flatten_all())
        .and_then(|p| p.to_vec1::<f32>())
        .unwrap();
    let boxes = t["text_boxes"].to_vec2::<u32>().unwrap();
    let boxes = boxes
        .iter()
        .map(|b| BBox::new(b[0], b[1], b[2], b[3]))
        .collect();
    (prob, boxes)
}

fn iou(a: &BBox, b: &BBox) -> f32 {
    let i = a.intersect(*b);
    let area = |r: &BBox| (r.width() * r.height()) as f32;
    area(&i) / (area(a) + area(b) - area(&i))
}

/// The picture is 256 × 160, a multiple of 32 below the limit: the map is the network output
/// on the picture itself, the same input onnxruntime saw.
///
/// Tolerance 1e-3: the reference is stored as f16, whose rounding alone is up to 2.44e-4 for
/// probabilities in 0.5..1 (half an f16 step, 2⁻¹²); the rest is room for f32 sums taken in
/// another order than onnxruntime's (GEMM kernels differ between CPUs). Measured here
/// (x86-64 with AVX-512): max 2.4e-4, i.e. the f16 rounding; mean 7e-7. (With f16 weights the max
/// was 1.9e-2 at a few stroke edges, which is why the weights stay f32.)
#[test]
fn matches_onnxruntime() {
    let img = picture();
    let map = dbnet::text_map(&img, 960).unwrap();
    assert_eq!((map.width, map.height, map.scale), (256, 160, 1.0));
    let (expected, _) = reference();
    assert_eq!(map.values.len(), expected.len());
    let (mut max_abs, mut sum_abs) = (0f32, 0f64);
    let mut flips = 0;
    for (a, b) in map.values.iter().zip(&expected) {
        let d = (a - b).abs();
        max_abs = max_abs.max(d);
        sum_abs += f64::from(d);
        flips += usize::from((*a > dbnet::BINARY_THRESHOLD) != (*b > dbnet::BINARY_THRESHOLD));
    }
    let mean_abs = sum_abs / expected.len() as f64;
    eprintln!(
        "PP-OCRv4 det vs onnxruntime: max abs diff {max_abs:.3e}, mean {mean_abs:.3e}, \
         {flips} pixels binarise differently"
    );
    assert!(max_abs < 1e-3, "max abs diff {max_abs}");
}

#[test]
fn finds_the_drawn_lines() {
    let img = picture();
    let map = dbnet::text_map(&img, 960).unwrap();
    let lines = dbnet::text_lines(&map, img.dimensions());
    let (_, drawn) = reference();
    eprintln!("lines: {lines:?}\ndrawn: {drawn:?}");
    assert_eq!(lines.len(), drawn.len(), "{lines:?}");
    for want in &drawn {
        let best = lines
            .iter()
            .map(|l: &TextLine| iou(&l.bbox, want))
            .fold(0f32, f32::max);
        assert!(best > 0.5, "drawn line {want:?}: best IoU {best}");
    }
    assert!(lines.iter().all(|l| l.score > dbnet::BOX_THRESHOLD));
}

/// The same picture at twice the size, analysed at max side 256: the map is downscaled by 2
/// and the boxes come back in picture pixels.
#[test]
fn boxes_scale_back_to_the_picture() {
    let small = picture();
    let img = image::imageops::resize(&small, 512, 320, image::imageops::FilterType::Triangle);
    let map = dbnet::text_map(&img, 256).unwrap();
    assert_eq!((map.width, map.height, map.scale), (256, 160, 2.0));
    let lines = dbnet::text_lines(&map, img.dimensions());
    let (_, drawn) = reference();
    assert_eq!(lines.len(), drawn.len(), "{lines:?}");
    for want in &drawn {
        let want = BBox::new(want.x0 * 2, want.y0 * 2, want.x1 * 2, want.y1 * 2);
        let best = lines
            .iter()
            .map(|l| iou(&l.bbox, &want))
            .fold(0f32, f32::max);
        assert!(best > 0.5, "drawn line {want:?}: best IoU {best}");
    }
}

/// A 1155 × 866 (1 Mpx) picture tiled with the fixture, analysed at max side 960.
#[test]
#[ignore = "timing; run with -- --ignored --nocapture"]
fn perf_text_map_1mpx() {
    let (w, h) = (1155, 866);
    let tile = picture();
    let img = RgbaImage::from_fn(w, h, |x, y| {
        *tile.get_pixel(x % tile.width(), y % tile.height())
    });
    let t = Instant::now();
    dbnet::model().unwrap();
    eprintln!("load weights: {:.3} s", t.elapsed().as_secs_f64());
    for i in 0..3 {
        let t = Instant::now();
        let map = dbnet::text_map(&img, 960).unwrap();
        let dt = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let lines = dbnet::text_lines(&map, (w, h));
        eprintln!(
            "run {i}: text_map {}×{} {dt:.3} s, text_lines {:.4} s ({} lines)",
            map.width,
            map.height,
            t.elapsed().as_secs_f64(),
            lines.len()
        );
    }
}
