//! Inpainting: known pixels stay exact, smooth and textured holes get plausible content,
//! edge cases give defined results.
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

use std::time::Instant;

use image::{GrayImage, Luma, Rgba, RgbaImage};
use strata::decompose::inpaint::inpaint;
use strata::decompose::{DecomposeError, Progress};

fn run(image: &RgbaImage, hole: &GrayImage, seed: u64) -> Result<RgbaImage, DecomposeError> {
    let progress = Progress::new();
    inpaint(image, hole, &progress.scoped(0.0, 1.0), seed)
}

/// A mask that is 255 where `inside(x, y)`.
fn mask(w: u32, h: u32, inside: impl Fn(u32, u32) -> bool) -> GrayImage {
    GrayImage::from_fn(w, h, |x, y| Luma([if inside(x, y) { 255 } else { 0 }]))
}

fn disc(cx: f32, cy: f32, r: f32) -> impl Fn(u32, u32) -> bool {
    move |x, y| (x as f32 - cx).powi(2) + (y as f32 - cy).powi(2) <= r * r
}

/// Mean absolute RGB error (0..255) over the hole pixels.
fn hole_error(a: &RgbaImage, b: &RgbaImage, hole: &GrayImage) -> f64 {
    let (mut sum, mut n) = (0.0f64, 0usize);
    for (x, y, m) in hole.enumerate_pixels() {
        if m.0[0] > 127 {
            let (p, q) = (a.get_pixel(x, y).0, b.get_pixel(x, y).0);
            for c in 0..3 {
                sum += (f64::from(p[c]) - f64::from(q[c])).abs();
            }
            n += 3;
        }
    }
    sum / n.max(1) as f64
}

fn noise(w: u32, h: u32, seed: u32) -> RgbaImage {
    let mut state = seed | 1;
    RgbaImage::from_fn(w, h, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let b = state.to_le_bytes();
        Rgba([b[0], b[1], b[2], 255])
    })
}

fn gradient(w: u32, h: u32) -> RgbaImage {
    RgbaImage::from_fn(w, h, |x, y| {
        Rgba([
            (x * 200 / w) as u8 + 20,
            (y * 180 / h) as u8 + 30,
            ((x + y) * 100 / (w + h)) as u8 + 60,
            255,
        ])
    })
}

/// Diagonal two-colour stripes, period 10 pixels, with a finer second pattern on top.
fn stripes(w: u32, h: u32) -> RgbaImage {
    RgbaImage::from_fn(w, h, |x, y| {
        let band = (x + y) % 10 < 5;
        let dot = x % 4 == 0 && y % 4 == 0;
        match (band, dot) {
            (true, false) => Rgba([220, 60, 40, 255]),
            (true, true) => Rgba([250, 200, 40, 255]),
            (false, false) => Rgba([30, 60, 160, 255]),
            (false, true) => Rgba([10, 10, 60, 255]),
        }
    })
}

#[test]
fn known_pixels_are_unchanged_and_filled_pixels_opaque() {
    let image = noise(90, 70, 9);
    let hole = mask(90, 70, disc(40.0, 30.0, 14.0));
    let out = run(&image, &hole, 1).unwrap();
    for (x, y, m) in hole.enumerate_pixels() {
        if m.0[0] <= 127 {
            assert_eq!(out.get_pixel(x, y), image.get_pixel(x, y), "({x}, {y})");
        } else {
            assert_eq!(out.get_pixel(x, y).0[3], 255, "({x}, {y})");
        }
    }
}

#[test]
fn smooth_gradient_hole_is_filled_closely() {
    let truth = gradient(160, 120);
    let hole = mask(160, 120, disc(80.0, 60.0, 22.0));
    let mut damaged = truth.clone();
    for (x, y, m) in hole.enumerate_pixels() {
        if m.0[0] > 127 {
            damaged.put_pixel(x, y, Rgba([255, 0, 255, 255]));
        }
    }
    let out = run(&damaged, &hole, 3).unwrap();
    let err = hole_error(&out, &truth, &hole);
    println!("gradient: mean abs error {err:.2}/255");
    assert!(err < 4.0, "mean abs error {err}");
}

#[test]
fn thin_scratch_is_filled_smoothly() {
    let truth = gradient(120, 80);
    let hole = mask(120, 80, |x, y| (y as i32 - 40 - (x as i32) / 8).abs() <= 1);
    let out = run(&truth, &hole, 0).unwrap();
    let err = hole_error(&out, &truth, &hole);
    assert!(err < 2.0, "mean abs error {err}");
}

#[test]
fn textured_hole_gets_texture_not_mush() {
    let truth = stripes(128, 128);
    let hole = mask(128, 128, |x, y| {
        (50..80).contains(&x) && (48..78).contains(&y)
    });
    let mut damaged = truth.clone();
    let mut mean = [0.0f64; 3];
    let mut n = 0.0;
    for (x, y, m) in hole.enumerate_pixels() {
        if m.0[0] > 127 {
            damaged.put_pixel(x, y, Rgba([0, 0, 0, 255]));
        } else {
            for (m, &v) in mean.iter_mut().zip(&truth.get_pixel(x, y).0[..3]) {
                *m += f64::from(v);
            }
            n += 1.0;
        }
    }
    let flat = Rgba([
        (mean[0] / n) as u8,
        (mean[1] / n) as u8,
        (mean[2] / n) as u8,
        255,
    ]);
    let flat_fill = RgbaImage::from_fn(128, 128, |_, _| flat);
    let out = run(&damaged, &hole, 5).unwrap();
    let err = hole_error(&out, &truth, &hole);
    let flat_err = hole_error(&flat_fill, &truth, &hole);
    println!("stripes: patch fill error {err:.1}, flat mean fill error {flat_err:.1}");
    assert!(err < 0.35 * flat_err, "{err} vs flat {flat_err}");
}

#[test]
fn empty_hole_is_identity() {
    let image = noise(33, 17, 4);
    let hole = GrayImage::new(33, 17);
    assert_eq!(run(&image, &hole, 0).unwrap(), image);
}

#[test]
fn hole_covering_everything_is_a_clear_error() {
    let image = noise(20, 10, 2);
    let hole = mask(20, 10, |_, _| true);
    assert!(matches!(
        run(&image, &hole, 0),
        Err(DecomposeError::InvalidInput(_))
    ));
}

#[test]
fn one_pixel_images() {
    let image = RgbaImage::from_pixel(1, 1, Rgba([1, 2, 3, 4]));
    assert_eq!(run(&image, &GrayImage::new(1, 1), 0).unwrap(), image);
    assert!(run(&image, &mask(1, 1, |_, _| true), 0).is_err());
    // A 1-pixel-wide strip with one pixel missing is filled from its neighbours.
    let strip = RgbaImage::from_pixel(1, 9, Rgba([100, 150, 200, 255]));
    let out = run(&strip, &mask(1, 9, |_, y| y == 4), 0).unwrap();
    assert_eq!(out.get_pixel(0, 4).0, [100, 150, 200, 255]);
}

#[test]
fn mask_of_another_size_is_rejected() {
    let image = noise(10, 10, 1);
    assert!(matches!(
        run(&image, &GrayImage::new(10, 11), 0),
        Err(DecomposeError::InvalidInput(_))
    ));
}

#[test]
fn large_holes_in_small_images_still_get_filled() {
    // Too small for any 7×7 source patch: falls back to the smooth fill.
    let image = RgbaImage::from_pixel(12, 9, Rgba([10, 200, 30, 255]));
    let hole = mask(12, 9, |x, y| x > 1 && y > 1 && x < 10 && y < 7);
    let out = run(&image, &hole, 0).unwrap();
    assert_eq!(out, image);
}

#[test]
fn transparent_surroundings_give_transparent_fill() {
    let image = RgbaImage::new(40, 40);
    let hole = mask(40, 40, disc(20.0, 20.0, 8.0));
    let out = run(&image, &hole, 0).unwrap();
    assert!(out.pixels().all(|p| p.0[3] == 0));
}

#[test]
fn same_seed_same_result() {
    let image = stripes(96, 80);
    let hole = mask(96, 80, disc(50.0, 40.0, 15.0));
    assert_eq!(
        run(&image, &hole, 11).unwrap(),
        run(&image, &hole, 11).unwrap()
    );
}

#[test]
fn cancellation_stops_the_fill() {
    let image = stripes(300, 300);
    let hole = mask(300, 300, disc(150.0, 150.0, 80.0));
    let progress = Progress::new();
    progress.cancel();
    assert_eq!(
        inpaint(&image, &hole, &progress.scoped(0.0, 1.0), 0),
        Err(DecomposeError::Cancelled)
    );
}

#[test]
fn cancellation_is_prompt_while_running() {
    let image = stripes(1200, 900);
    let hole = mask(1200, 900, disc(600.0, 450.0, 300.0));
    let progress = Progress::new();
    let canceller = progress.clone();
    let handle = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(150));
        canceller.cancel();
        Instant::now()
    });
    let result = inpaint(&image, &hole, &progress.scoped(0.0, 1.0), 0);
    let stopped = Instant::now();
    let cancelled_at = handle.join().unwrap();
    if result == Err(DecomposeError::Cancelled) {
        let lag = stopped.saturating_duration_since(cancelled_at);
        println!("cancel answered after {lag:?}");
        assert!(lag.as_millis() < 1000, "cancel took {lag:?}");
    }
}

/// Speed probe: seconds for a 12-megapixel photo-sized image with an object-sized hole.
#[test]
#[ignore]
fn perf_probe_12_megapixels() {
    let image = stripes(4000, 3000);
    let hole = mask(4000, 3000, disc(2000.0, 1500.0, 700.0));
    let start = Instant::now();
    let out = run(&image, &hole, 0).unwrap();
    let secs = start.elapsed().as_secs_f64();
    let err = hole_error(&out, &image, &hole);
    println!("12 MP, hole of 1.5 MP: {secs:.2} s, mean abs error {err:.1}");
}
