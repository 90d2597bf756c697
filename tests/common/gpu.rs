//! The GPU compositor in tests: a headless device (Mesa's lavapipe in CI) and the
//! comparison the parity tests make against the CPU reference.

use image::RgbaImage;
use strata::gpu::{Compositor, HeadlessGpu};
use strata::model::{Document, composite};

/// A compositor on a headless adapter; `None` (the test skips) where there is none, except
/// in CI (`CI=true`), where a missing adapter is a failure.
pub fn compositor() -> Option<Compositor> {
    match HeadlessGpu::new() {
        Ok(gpu) => Some(Compositor::new(gpu.device, gpu.queue)),
        Err(err) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI needs a GPU adapter: {err}")
        }
        Err(err) => {
            eprintln!("skipping GPU test: {err}");
            None
        }
    }
}

/// Largest per-channel difference, ignoring colour where both pixels are fully transparent.
pub fn max_diff(a: &RgbaImage, b: &RgbaImage) -> u8 {
    assert_eq!(a.dimensions(), b.dimensions());
    a.pixels()
        .zip(b.pixels())
        .filter(|(p, q)| p[3] != 0 || q[3] != 0)
        .map(|(p, q)| (0..4).map(|c| p[c].abs_diff(q[c])).max().unwrap_or(0))
        .max()
        .unwrap_or(0)
}

/// Renders `doc` on the full and the tiled path (`tiled`: a compositor with small tiles) and
/// holds both within 1/255 of the CPU reference, which it returns.
pub fn assert_full_and_tiled_match(
    gpu: &mut Compositor,
    tiled: &mut Compositor,
    doc: &Document,
    name: &str,
) -> RgbaImage {
    let reference = composite(doc);
    gpu.render(doc).expect("render");
    let diff = max_diff(&gpu.read_rgba().expect("read"), &reference);
    assert!(diff <= 1, "{name}: full path differs by {diff}/255");
    tiled.render(doc).expect("tiled render");
    let diff = max_diff(&tiled.read_rgba().expect("read"), &reference);
    assert!(diff <= 1, "{name}: tiled path differs by {diff}/255");
    reference
}
