//! Inpainting: known pixels stay exact, smooth and textured holes get plausible content,
//! edge cases give defined results.
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

use std::time::Instant;

use image::{GrayImage, Luma, Rgba, RgbaImage};
use strata::decompose::inpaint::{FillNotice, grow, inpaint, inpaint_excluding};
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

/// A sloped edge between two grainy regions, crossing a disc-shaped hole: the fill must
/// carry the edge through, not bend it or smear it. In every column of the hole the edge's
/// row (where the fill turns from dark to light) stays within a pixel or two of the line.
#[test]
fn a_straight_edge_continues_through_the_hole() {
    let (w, h) = (120u32, 100u32);
    let line = |x: f32| 30.0 + 0.4 * x;
    let grain = noise(w, h, 5);
    let image = RgbaImage::from_fn(w, h, |x, y| {
        let g = i32::from(grain.get_pixel(x, y).0[0] % 24) - 12;
        let base = if (y as f32 + 0.5) < line(x as f32 + 0.5) {
            60
        } else {
            190
        };
        let v = (base + g).clamp(0, 255) as u8;
        Rgba([v, v, v, 255])
    });
    let (cx, cy, r) = (60.0, line(60.0), 18.0);
    let hole = mask(w, h, disc(cx, cy, r));
    let out = run(&image, &hole, 3).unwrap();
    let (mut worst, mut sum, mut columns) = (0.0f32, 0.0f32, 0);
    for x in 0..w {
        let rows: Vec<u32> = (0..h)
            .filter(|&y| hole.get_pixel(x, y).0[0] > 127)
            .collect();
        let (Some(&top), Some(&bottom)) = (rows.first(), rows.last()) else {
            continue;
        };
        let truth = line(x as f32 + 0.5);
        // Only columns where the line really crosses the hole with room on both sides.
        if truth < top as f32 + 3.0 || truth > bottom as f32 - 2.0 {
            continue;
        }
        // The edge row: the hole's top plus its dark pixels in this column.
        let dark = rows
            .iter()
            .filter(|&&y| out.get_pixel(x, y).0[0] < 125)
            .count();
        let found = (top as usize + dark) as f32;
        let error = (found - truth).abs();
        worst = worst.max(error);
        sum += error;
        columns += 1;
    }
    assert!(columns > 20, "{columns} columns");
    let mean = sum / columns as f32;
    assert!(
        mean <= 1.0 && worst <= 2.5,
        "edge off by {mean:.2} on average, {worst:.2} at worst"
    );
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

fn run_excluding(
    image: &RgbaImage,
    hole: &GrayImage,
    exclude: Option<&GrayImage>,
    seed: u64,
) -> Result<strata::decompose::inpaint::Filled, DecomposeError> {
    let progress = Progress::new();
    inpaint_excluding(image, hole, exclude, &progress.scoped(0.0, 1.0), seed)
}

/// PSNR (dB, RGB) over the hole pixels.
fn hole_psnr(a: &RgbaImage, b: &RgbaImage, hole: &GrayImage) -> f64 {
    let (mut sum, mut n) = (0.0f64, 0usize);
    for (x, y, m) in hole.enumerate_pixels() {
        if m.0[0] > 127 {
            let (p, q) = (a.get_pixel(x, y).0, b.get_pixel(x, y).0);
            for c in 0..3 {
                sum += (f64::from(p[c]) - f64::from(q[c])).powi(2);
            }
            n += 3;
        }
    }
    10.0 * (255.0f64.powi(2) / (sum / n.max(1) as f64).max(1e-10)).log10()
}

/// Noise with one block of its excluded top part (y < 56) repeated 16 rows lower, and a
/// hole inside the repeat: the only exact match for the hole's surroundings is in the
/// excluded part, so a fill that may copy from there reproduces that block.
fn noise_with_a_repeat() -> (RgbaImage, GrayImage, GrayImage) {
    let mut image = noise(120, 100, 77);
    for y in 40..56 {
        for x in 36..84 {
            let p = *image.get_pixel(x, y);
            image.put_pixel(x, y + 16, p);
        }
    }
    let hole = mask(120, 100, |x, y| {
        (40..80).contains(&x) && (60..68).contains(&y)
    });
    let excluded = mask(120, 100, |_, y| y < 56);
    (image, hole, excluded)
}

/// Mean absolute RGB error over the hole between the fill and the excluded original of the
/// repeated block, 16 rows up in `image`.
fn error_to_excluded_copy(out: &RgbaImage, image: &RgbaImage, hole: &GrayImage) -> f64 {
    let original = RgbaImage::from_fn(out.width(), out.height(), |x, y| {
        *image.get_pixel(x, y.saturating_sub(16))
    });
    hole_error(out, &original, hole)
}

#[test]
fn it_never_samples_from_masked_sources() {
    let (image, hole, excluded) = noise_with_a_repeat();
    let free = run_excluding(&image, &hole, None, 4).unwrap().image;
    let free_error = error_to_excluded_copy(&free, &image, &hole);
    // Not exactly 0: the gradient-domain blend carries the gradients of the few patches at
    // the hole's ends that match something else into their neighbours (2.05 with it, under
    // 2 without); any other source of this noise would be about 85 off.
    assert!(
        free_error < 4.0,
        "unrestricted, the exact copy is found: {free_error}"
    );
    let fenced = run_excluding(&image, &hole, Some(&excluded), 4).unwrap();
    let fenced_error = error_to_excluded_copy(&fenced.image, &image, &hole);
    println!("error to the excluded copy: free {free_error:.1}, excluded {fenced_error:.1}");
    assert!(
        fenced_error > 40.0,
        "the excluded block was copied: {fenced_error}"
    );
    assert_eq!(fenced.notice, None);
    for (x, y, m) in hole.enumerate_pixels() {
        if m.0[0] <= 127 {
            assert_eq!(fenced.image.get_pixel(x, y), image.get_pixel(x, y));
        }
    }
}

/// Grey stripes with pure red squares on a grid.
fn stripes_with_red_squares() -> (RgbaImage, GrayImage) {
    let red = |x: u32, y: u32| (9..21).contains(&(x % 30)) && (9..21).contains(&(y % 30));
    let image = RgbaImage::from_fn(120, 120, |x, y| {
        if red(x, y) {
            Rgba([255, 0, 0, 255])
        } else if x % 8 < 4 {
            Rgba([60, 60, 60, 255])
        } else {
            Rgba([180, 180, 180, 255])
        }
    });
    (image, mask(120, 120, red))
}

#[test]
fn it_reproduces_a_hole_cut_into_a_periodic_texture() {
    let truth = stripes(128, 128);
    let hole = mask(128, 128, disc(64.0, 60.0, 14.0));
    let mut damaged = truth.clone();
    for (x, y, m) in hole.enumerate_pixels() {
        if m.0[0] > 127 {
            damaged.put_pixel(x, y, Rgba([0, 255, 0, 255]));
        }
    }
    let out = run(&damaged, &hole, 7).unwrap();
    let psnr = hole_psnr(&out, &truth, &hole);
    println!("periodic texture: hole PSNR {psnr:.1} dB");
    assert!(psnr > PERIODIC_PSNR_FLOOR, "hole PSNR {psnr:.1} dB");
}

/// Hole PSNR the periodic-texture test must beat (a smooth fill scores about 8 dB there).
const PERIODIC_PSNR_FLOOR: f64 = 20.0;

#[test]
fn it_is_deterministic_for_a_seed_with_exclusion() {
    let (image, objects) = stripes_with_red_squares();
    let hole = mask(120, 120, disc(50.0, 75.0, 12.0));
    let exclude = grow(&objects, 2);
    let a = run_excluding(&image, &hole, Some(&exclude), 21).unwrap();
    let b = run_excluding(&image, &hole, Some(&exclude), 21).unwrap();
    assert_eq!(a, b);
}

/// Hole PSNR the border holes must beat (16 dB measured). With context on two sides only, a
/// corner comes out partly as blurred stripes; the flat mean colour scores about 12 dB.
const BORDER_PSNR_FLOOR: f64 = 14.0;

#[test]
fn a_hole_touching_the_border_is_filled() {
    let truth = stripes(100, 90);
    let hole = mask(100, 90, |x, y| x < 18 && y < 22 || (x > 80 && y > 70));
    let out = run(&truth, &hole, 2).unwrap();
    let psnr = hole_psnr(&out, &truth, &hole);
    println!("border holes: hole PSNR {psnr:.1} dB");
    assert!(psnr > BORDER_PSNR_FLOOR, "hole PSNR {psnr:.1} dB");
    assert!(out.pixels().all(|p| p.0[3] == 255));
    for (x, y, m) in hole.enumerate_pixels() {
        if m.0[0] <= 127 {
            assert_eq!(out.get_pixel(x, y), truth.get_pixel(x, y));
        }
    }
}

#[test]
fn an_exclusion_mask_of_another_size_is_a_clear_error() {
    let image = noise(10, 10, 1);
    let hole = mask(10, 10, |x, _| x == 5);
    let err = run_excluding(&image, &hole, Some(&GrayImage::new(10, 11)), 0).unwrap_err();
    let DecomposeError::InvalidInput(message) = err else {
        panic!("expected invalid input, got {err:?}");
    };
    assert!(
        message.contains("10×11") && message.contains("10×10"),
        "{message}"
    );
    assert!(message.contains("exclusion"), "{message}");
}

#[test]
fn a_hole_covering_almost_everything_falls_back_to_a_smooth_fill_and_says_so() {
    let image = stripes(120, 100);
    // An 8-pixel frame is left; the exclusion takes all of it but the top 4 rows (4%).
    let hole = mask(120, 100, |x, y| x >= 8 && y >= 8 && x < 112 && y < 92);
    let exclude = mask(120, 100, |_, y| y >= 4);
    let filled = run_excluding(&image, &hole, Some(&exclude), 0).unwrap();
    let Some(FillNotice::AlmostEverything { source_share }) = filled.notice else {
        panic!("expected the smooth-fill notice, got {:?}", filled.notice);
    };
    assert!(source_share < 0.05, "{source_share}");
    assert!(
        filled
            .notice
            .is_some_and(|n| n.to_string().contains("smooth fill"))
    );
    assert!(filled.image.pixels().all(|p| p.0[3] == 255));
    // Without the exclusion the frame is enough for patches: no notice.
    assert_eq!(run_excluding(&image, &hole, None, 0).unwrap().notice, None);
}

/// Mean absolute luminance difference to the right and downward neighbours, over the hole
/// pixels whose neighbours are in the hole too.
fn hole_grain(image: &RgbaImage, hole: &GrayImage) -> f64 {
    let luma = |x: u32, y: u32| {
        let p = image.get_pixel(x, y).0;
        0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2])
    };
    let inside = |x: u32, y: u32| hole.get_pixel(x, y).0[0] > 127;
    let (mut sum, mut n) = (0.0, 0.0);
    for y in 0..hole.height() - 1 {
        for x in 0..hole.width() - 1 {
            if inside(x, y) && inside(x + 1, y) && inside(x, y + 1) {
                sum += (luma(x + 1, y) - luma(x, y)).abs() + (luma(x, y + 1) - luma(x, y)).abs();
                n += 1.0;
            }
        }
    }
    sum / f64::max(n, 1.0)
}

#[test]
fn grainy_hole_beside_a_smooth_area_gets_grain() {
    // A smooth sky over grainy ground of the same mean colour: against the smooth first
    // guess, the sky's patches match best unless the distance sees texture. Without the
    // texture features the hole came back flat (0.16 against 21.6); with them it holds
    // about half the truth's grain.
    let grain = noise(160, 120, 7);
    let truth = RgbaImage::from_fn(160, 120, |x, y| {
        if y < 50 {
            Rgba([120 + (x / 20) as u8, 126, 132, 255])
        } else {
            let g = grain.get_pixel(x, y).0[0] / 8;
            Rgba([108 + g, 114 + g, 120 + g, 255])
        }
    });
    let hole = mask(160, 120, disc(80.0, 88.0, 28.0));
    let out = run(&truth, &hole, 3).unwrap();
    let (filled, real) = (hole_grain(&out, &hole), hole_grain(&truth, &hole));
    println!("grain in the hole: filled {filled:.2}, truth {real:.2}");
    assert!(
        filled > 0.35 * real && filled < 1.4 * real,
        "{filled} vs {real}"
    );
}

/// A dark line three pixels wide between two grainy regions of different greys, crossing a
/// hole thirty times as wide: the structure guidance (filling in Criminisi et al.'s priority
/// order at the coarsest level) must carry the line through. Near the line (within three
/// pixels of its edge), 96–97% of the hole's pixels come out within 35/255 of the truth with
/// it, 87–91% without it (seeds 2–4): the line fades into Telea's smooth start and comes back
/// broken or bent. Away from the line each side keeps its own grey.
#[test]
fn a_line_crossing_the_hole_is_continued() {
    let (w, h) = (160u32, 120u32);
    let (a, b, half_width) = (36.0f32, 0.3f32, 1.5f32);
    // Signed distance to the line's centre, positive below it.
    let across = |x: u32, y: u32| {
        let (x, y) = (x as f32 + 0.5, y as f32 + 0.5);
        (y - (a + b * x)) / (1.0 + b * b).sqrt()
    };
    let grain = noise(w, h, 7);
    let image = RgbaImage::from_fn(w, h, |x, y| {
        let g = i32::from(grain.get_pixel(x, y).0[0]) % 20 - 10;
        let d = across(x, y);
        let base = if d.abs() <= half_width {
            30
        } else if d < 0.0 {
            200
        } else {
            90
        };
        let v = (base + g).clamp(0, 255) as u8;
        Rgba([v, v, v, 255])
    });
    let hole = mask(w, h, disc(80.0, a + b * 80.0, 45.0));
    for seed in 2..5 {
        let out = run(&image, &hole, seed).unwrap();
        let (mut near, mut near_right, mut side, mut side_right) = (0, 0, 0, 0);
        for (x, y, m) in hole.enumerate_pixels() {
            if m.0[0] <= 127 {
                continue;
            }
            let d = across(x, y).abs();
            let error =
                (i32::from(out.get_pixel(x, y).0[0]) - i32::from(image.get_pixel(x, y).0[0])).abs();
            if d <= half_width + 3.0 {
                near += 1;
                near_right += usize::from(error <= 35);
            } else if d >= half_width + 6.0 {
                side += 1;
                side_right += usize::from(error <= 35);
            }
        }
        assert!(near > 500 && side > 3000, "{near} near, {side} side pixels");
        let (on_line, on_sides) = (
            near_right as f32 / near as f32,
            side_right as f32 / side as f32,
        );
        assert!(
            on_line >= 0.94 && on_sides >= 0.98,
            "seed {seed}: {:.1}% near the line right, {:.1}% of the sides right",
            on_line * 100.0,
            on_sides * 100.0
        );
    }
}

/// Mean gradient magnitude (RGB, 0..255 a step) over the hole pixels whose right and lower
/// neighbours are in the hole too.
fn hole_gradient(img: &RgbaImage, hole: &GrayImage) -> f64 {
    let (mut sum, mut n) = (0.0f64, 0usize);
    let inside = |x: u32, y: u32| hole.get_pixel(x, y).0[0] > 127;
    for (x, y, _) in hole.enumerate_pixels() {
        if x + 1 < img.width() && y + 1 < img.height() && inside(x, y) {
            if !(inside(x + 1, y) && inside(x, y + 1)) {
                continue;
            }
            let p = img.get_pixel(x, y).0;
            let (r, d) = (img.get_pixel(x + 1, y).0, img.get_pixel(x, y + 1).0);
            for c in 0..3 {
                let gx = f64::from(r[c]) - f64::from(p[c]);
                let gy = f64::from(d[c]) - f64::from(p[c]);
                sum += (gx * gx + gy * gy).sqrt();
            }
            n += 3;
        }
    }
    sum / n.max(1) as f64
}

/// A random texture no source patch matches exactly: the mean vote of disagreeing patches
/// averages it towards mush, so the blend's guidance leans on the best-weighted source's
/// gradients where the surroundings are textured, and the fill keeps the texture's contrast.
#[test]
fn a_random_texture_keeps_its_contrast_in_the_hole() {
    let truth = noise(128, 128, 7);
    let hole = mask(128, 128, disc(64.0, 64.0, 20.0));
    let out = run(&truth, &hole, 3).unwrap();
    let ratio = hole_gradient(&out, &hole) / hole_gradient(&truth, &hole);
    println!("random texture: gradient ratio {ratio:.2}");
    assert!(ratio >= RANDOM_TEXTURE_RATIO, "{ratio}");
}

/// Gradient ratio the random-texture test must reach (the mean vote alone gave 0.84, the
/// best source's detail 0.95).
const RANDOM_TEXTURE_RATIO: f64 = 0.9;

/// A poster's elements over a storm photo (designs recipe 50: a bar across the bottom, two
/// icons and a title) cut out whole: the hole spans the picture's width and its far side is
/// the picture's edge. The blend's correction once drifted there, unanchored, to purple the
/// photo does not hold (hole PSNR 15.6 dB, blue over red by up to 152 where the truth never
/// exceeds 69); measured 19.1 dB and 73 with the screened blend.
#[test]
fn a_hole_across_a_posters_bottom_keeps_to_the_photos_colours() {
    use strata::decompose::eval::designs;
    let assets = designs::Assets::load_default().unwrap();
    let scene = designs::scene(&assets, 50, (768, 512)).unwrap();
    let picture = scene.composite();
    let truth = &scene.layers[0];
    let hole = mask(768, 512, |x, y| {
        scene.layers[1..].iter().any(|l| l.get_pixel(x, y).0[3] > 0)
    });
    let filled = run(&picture, &hole, 1).unwrap();
    let psnr = hole_psnr(&filled, truth, &hole);
    assert!(psnr >= 18.0, "hole PSNR {psnr:.2} dB");
    let blue_over_red = |p: &Rgba<u8>| i32::from(p.0[2]) - i32::from(p.0[0]);
    let truth_most = truth.pixels().map(blue_over_red).max().unwrap();
    let filled_most = filled
        .enumerate_pixels()
        .filter(|&(x, y, _)| hole.get_pixel(x, y).0[0] > 127)
        .map(|(_, _, p)| blue_over_red(p))
        .max()
        .unwrap();
    assert!(
        filled_most <= truth_most + 20,
        "the fill reaches blue over red {filled_most}, the photo {truth_most}"
    );
}
