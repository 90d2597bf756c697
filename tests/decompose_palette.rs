//! The palette method: exact reconstruction, layer count, names, opacities, cancellation,
//! determinism and degenerate pictures.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::Rng;
use image::{Rgba, RgbaImage};
use strata::decompose::methods::palette::PaletteDecomposer;
use strata::decompose::registry::{MethodSettings, decomposer_for};
use strata::decompose::{DecomposeError, Decomposer, LayerSpec, Method, Options, Progress};
use strata::model::{Document, composite};

fn options(layers: usize) -> Options {
    Options {
        method: Method::Palette,
        layers: layers.into(),
        seed: 1,
    }
}

fn decompose(image: &RgbaImage, layers: usize) -> Vec<LayerSpec> {
    PaletteDecomposer::default()
        .decompose(image, &options(layers), &Progress::new())
        .expect("decomposes")
}

/// The composite of `specs` through the reference compositor.
fn flatten(image: &RgbaImage, specs: &[LayerSpec]) -> RgbaImage {
    let mut doc = Document::new(image.width(), image.height());
    for spec in specs {
        let layer = doc.push_layer(spec.name.clone(), spec.pixels.clone());
        layer.offset = spec.offset;
        layer.opacity = spec.opacity;
        layer.blend = spec.blend;
    }
    composite(&doc)
}

/// RMSE on the 0..=1 scale over premultiplied RGB and alpha (straight RGB of opaque
/// pixels is the same thing; transparent pixels have no colour to compare).
fn rmse(a: &RgbaImage, b: &RgbaImage) -> f64 {
    let mut sum = 0.0;
    for (p, q) in a.pixels().zip(b.pixels()) {
        let (pa, qa) = (f64::from(p[3]) / 255.0, f64::from(q[3]) / 255.0);
        for k in 0..3 {
            let d = f64::from(p[k]) / 255.0 * pa - f64::from(q[k]) / 255.0 * qa;
            sum += d * d;
        }
        sum += (pa - qa) * (pa - qa);
    }
    (sum / (a.len() as f64)).sqrt()
}

/// Checks everything a decomposition must satisfy and returns the RMSE.
fn check_decomposition(image: &RgbaImage, layers: usize, distinct: usize) -> f64 {
    let specs = decompose(image, layers);
    assert_eq!(specs.len(), layers.min(distinct), "layer count");
    for (i, spec) in specs.iter().enumerate() {
        assert_eq!(spec.pixels.dimensions(), image.dimensions(), "full canvas");
        assert_eq!((spec.offset.x, spec.offset.y), (0, 0));
        assert_eq!(spec.opacity, 1.0);
        let prefix = format!("Palette {} (#", i + 1);
        assert!(
            spec.name.starts_with(&prefix) && spec.name.ends_with(')'),
            "{}",
            spec.name
        );
        let hex = &spec.name[prefix.len()..spec.name.len() - 1];
        assert_eq!(hex.len(), 6, "{}", spec.name);
        assert!(
            hex.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        );
    }
    // Opaque input: the bottom layer is opaque everywhere.
    if image.pixels().all(|p| p[3] == 255) {
        assert!(
            specs[0].pixels.pixels().all(|p| p[3] == 255),
            "bottom layer opaque"
        );
    }
    let error = rmse(image, &flatten(image, &specs));
    assert!(error < 1.0 / 255.0, "RMSE {:.3}/255", error * 255.0);
    error
}

fn distinct_colours(image: &RgbaImage) -> usize {
    let mut v: Vec<[u8; 3]> = image
        .pixels()
        .filter(|p| p[3] > 0)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    v.sort_unstable();
    v.dedup();
    v.len().max(1)
}

/// Smooth shading, a few objects, sensor-like noise: a stand-in for a photo.
fn photo_like(width: u32, height: u32, seed: u64) -> RgbaImage {
    let mut rng = Rng::new(seed);
    let blobs: Vec<(f32, f32, f32, [f32; 3])> = (0..6)
        .map(|_| {
            let c = [rng.byte(), rng.byte(), rng.byte()].map(f32::from);
            (
                rng.below(width) as f32,
                rng.below(height) as f32,
                10.0 + rng.below(width / 3 + 1) as f32,
                c,
            )
        })
        .collect();
    RgbaImage::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32 / width as f32, y as f32 / height as f32);
        let mut c = [
            40.0 + 150.0 * fy,
            90.0 + 100.0 * fx * fy,
            200.0 - 120.0 * fy,
        ];
        for &(bx, by, r, col) in &blobs {
            let d = ((x as f32 - bx).powi(2) + (y as f32 - by).powi(2)).sqrt();
            let t = (1.0 - (d - r).max(0.0) / 4.0).clamp(0.0, 1.0);
            let shade = 0.6 + 0.4 * (1.0 - d / r.max(1.0)).clamp(0.0, 1.0);
            for k in 0..3 {
                c[k] = c[k] * (1.0 - t) + col[k] * shade * t;
            }
        }
        let noise = |rng: &mut Rng| rng.below(13) as f32 - 6.0;
        Rgba([
            (c[0] + noise(&mut rng)).clamp(0.0, 255.0) as u8,
            (c[1] + noise(&mut rng)).clamp(0.0, 255.0) as u8,
            (c[2] + noise(&mut rng)).clamp(0.0, 255.0) as u8,
            255,
        ])
    })
}

#[test]
fn sample_picture_reconstructs() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/sample.png");
    let Ok(sample) = image::open(&path) else {
        eprintln!("no {}; skipped", path.display());
        return;
    };
    let image = sample.to_rgba8();
    let distinct = distinct_colours(&image);
    for layers in [5, 8] {
        let error = check_decomposition(&image, layers, distinct);
        eprintln!("sample.png, {layers} layers: RMSE {:.3}/255", error * 255.0);
    }
}

#[test]
fn synthetic_pictures_reconstruct() {
    let mut rng = Rng::new(5);
    let gradient = RgbaImage::from_fn(97, 61, |x, y| {
        Rgba([
            (x * 255 / 96) as u8,
            (y * 255 / 60) as u8,
            ((x + y) % 256) as u8,
            255,
        ])
    });
    let grey_ramp = RgbaImage::from_fn(256, 3, |x, _| Rgba([x as u8, x as u8, x as u8, 255]));
    let noise = RgbaImage::from_fn(80, 50, |_, _| {
        Rgba([rng.byte(), rng.byte(), rng.byte(), 255])
    });
    let duotone = RgbaImage::from_fn(64, 64, |x, y| {
        let t = ((x * 3 + y * 5) % 256) as u8;
        let s = ((x * y) % 256) as u8;
        // Mixes of three colours: the colours lie in a plane.
        Rgba([t / 2 + s / 2, 200 - t / 2, 30 + s / 2, 255])
    });
    let photo = photo_like(160, 120, 3);
    for (name, image) in [
        ("gradient", &gradient),
        ("grey ramp", &grey_ramp),
        ("noise", &noise),
        ("plane", &duotone),
        ("photo-like", &photo),
    ] {
        let distinct = distinct_colours(image);
        for layers in [1, 2, 3, 4, 6, 12, 64] {
            let error = check_decomposition(image, layers, distinct);
            eprintln!("{name}, {layers} layers: RMSE {:.3}/255", error * 255.0);
        }
    }
}

#[test]
fn semi_transparent_input_reconstructs() {
    let photo = photo_like(90, 70, 8);
    let image = RgbaImage::from_fn(90, 70, |x, y| {
        let mut p = *photo.get_pixel(x, y);
        p[3] = ((x * 255 / 89) as u8).saturating_add((y % 3) as u8 * 20);
        p
    });
    let error = check_decomposition(&image, 5, distinct_colours(&image));
    eprintln!("semi-transparent: RMSE {:.3}/255", error * 255.0);
    let specs = decompose(&image, 5);
    let flat = flatten(&image, &specs);
    let mut straight = [(0.0, 0usize); 2];
    for (p, q) in image.pixels().zip(flat.pixels()) {
        assert!(p[3].abs_diff(q[3]) <= 1, "alpha {} vs {}", p[3], q[3]);
        // Straight colour, split by alpha: rounding error divided by alpha.
        let bucket = usize::from(p[3] >= 128);
        for k in 0..3 {
            let d = (f64::from(p[k]) - f64::from(q[k])) / 255.0;
            straight[bucket].0 += d * d;
            straight[bucket].1 += 1;
        }
    }
    let [low, high] = straight.map(|(sum, count)| (sum / count.max(1) as f64).sqrt() * 255.0);
    eprintln!(
        "semi-transparent straight RGB RMSE: {low:.2}/255 (alpha < 128), {high:.2}/255 (alpha ≥ 128)"
    );
    assert!(
        high < 1.0,
        "straight RGB RMSE {high:.2}/255 where alpha ≥ 128"
    );
}

#[test]
fn opacities_follow_the_over_model() {
    // Two colours and their mixes: black bottom, white top, alpha = weight of white.
    let image = RgbaImage::from_fn(256, 1, |x, _| Rgba([x as u8, x as u8, x as u8, 255]));
    let specs = decompose(&image, 2);
    assert_eq!(specs[0].name, "Palette 1 (#000000)");
    assert_eq!(specs[1].name, "Palette 2 (#FFFFFF)");
    for x in 0..256 {
        assert_eq!(specs[0].pixels.get_pixel(x, 0).0, [0, 0, 0, 255]);
        let top = specs[1].pixels.get_pixel(x, 0).0;
        assert_eq!(&top[..3], &[255, 255, 255]);
        assert!(top[3].abs_diff(x as u8) <= 1, "x {x}: alpha {}", top[3]);
    }
}

#[test]
fn degenerate_pictures() {
    let one = RgbaImage::from_pixel(1, 1, Rgba([12, 34, 56, 255]));
    let specs = decompose(&one, 5);
    assert_eq!(specs.len(), 1);
    assert_eq!(specs[0].name, "Palette 1 (#0C2238)");
    assert_eq!(specs[0].pixels.get_pixel(0, 0).0, [12, 34, 56, 255]);

    let flat = RgbaImage::from_pixel(40, 30, Rgba([200, 100, 50, 255]));
    check_decomposition(&flat, 5, 1);

    let clear = RgbaImage::from_pixel(7, 5, Rgba([1, 2, 3, 0]));
    let specs = decompose(&clear, 5);
    assert_eq!(specs.len(), 1);
    assert!(specs[0].pixels.pixels().all(|p| p[3] == 0));

    let two = RgbaImage::from_fn(9, 9, |x, y| {
        if (x + y) % 2 == 0 {
            Rgba([255, 0, 0, 255])
        } else {
            Rgba([0, 0, 255, 128])
        }
    });
    check_decomposition(&two, 5, 2);
    check_decomposition(&two, 1, 2);

    let three_collinear =
        RgbaImage::from_fn(3, 1, |x, _| Rgba([x as u8 * 100, x as u8 * 50, 0, 255]));
    check_decomposition(&three_collinear, 2, 3);
    check_decomposition(&three_collinear, 3, 3);

    let four_coplanar =
        RgbaImage::from_fn(2, 2, |x, y| Rgba([x as u8 * 200, y as u8 * 200, 77, 255]));
    for layers in 1..=5 {
        check_decomposition(&four_coplanar, layers, 4);
    }
}

#[test]
fn same_seed_same_layers() {
    let image = photo_like(64, 48, 11);
    let a = decompose(&image, 7);
    let b = decompose(&image, 7);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.name, y.name);
        assert_eq!(x.pixels, y.pixels);
    }
}

#[test]
fn invalid_requests_are_refused() {
    let image = RgbaImage::new(4, 4);
    let err = PaletteDecomposer::default().decompose(&image, &options(0), &Progress::new());
    assert!(matches!(err, Err(DecomposeError::InvalidInput(_))));
    assert!(decomposer_for(Method::Palette, &MethodSettings::default()).is_ok());
}

#[test]
fn cancel_answers_quickly() {
    let image = photo_like(1000, 1000, 4);
    for delay in [0u64, 5, 30, 120, 300, 600, 1000] {
        let progress = Progress::new();
        let worker = progress.clone();
        let image = image.clone();
        let handle = std::thread::spawn(move || {
            PaletteDecomposer::default().decompose(&image, &options(6), &worker)
        });
        std::thread::sleep(Duration::from_millis(delay));
        let asked = Instant::now();
        progress.cancel();
        let result = handle.join().expect("no panic");
        let waited = asked.elapsed();
        // It may legitimately finish before the cancel lands; otherwise it must say so.
        if let Err(e) = result {
            assert_eq!(e, DecomposeError::Cancelled);
        }
        eprintln!(
            "cancel after {delay} ms answered in {waited:?} (stage '{}')",
            progress.stage()
        );
        assert!(
            waited < Duration::from_millis(1500),
            "cancel took {waited:?}"
        );
    }
}

#[test]
fn progress_reaches_the_end() {
    let progress = Progress::new();
    let image = photo_like(50, 40, 2);
    PaletteDecomposer::default()
        .decompose(&image, &options(4), &progress)
        .expect("decomposes");
    assert_eq!(progress.fraction(), 1.0);
}

/// Share of pixels at which every layer shows exactly its palette colour (the rest are
/// colours outside the palette polytope, reproduced by moving layer colours there).
fn solid_share(image: &RgbaImage, specs: &[LayerSpec]) -> f64 {
    let palette: Vec<[u8; 3]> = specs
        .iter()
        .map(|s| {
            let hex = &s.name[s.name.len() - 7..s.name.len() - 1];
            let v = u32::from_str_radix(hex, 16).expect("hex");
            [(v >> 16) as u8, (v >> 8) as u8, v as u8]
        })
        .collect();
    let solid = (0..image.width() * image.height())
        .filter(|&i| {
            let (x, y) = (i % image.width(), i / image.width());
            specs
                .iter()
                .zip(&palette)
                .all(|(s, c)| s.pixels.get_pixel(x, y).0[..3] == c[..])
        })
        .count();
    solid as f64 / f64::from(image.width() * image.height())
}

/// CPU time (user + system) of this process so far, from `/proc` (Linux), in seconds.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Best of three runs (the machine may be busy with other work), plus CPU time.
fn probe(name: &str, image: &RgbaImage, layers: usize) {
    let megapixels = f64::from(image.width() * image.height()) / 1e6;
    let mut best = f64::INFINITY;
    let mut cpu = f64::INFINITY;
    let mut specs = Vec::new();
    for _ in 0..3 {
        let cpu_start = cpu_seconds();
        let start = Instant::now();
        specs = decompose(image, layers);
        best = best.min(start.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (cpu_start, cpu_seconds()) {
            cpu = cpu.min(b - a);
        }
    }
    let error = rmse(image, &flatten(image, &specs));
    eprintln!(
        "palette, {name}, {layers} layers: {:.3} s per megapixel (best of 3; CPU {:.2} s/MP), \
         RMSE {:.3}/255, solid layers at {:.1}% of pixels",
        best / megapixels,
        cpu / megapixels,
        error * 255.0,
        100.0 * solid_share(image, &specs)
    );
}

/// `cargo test --release --test decompose_palette -- --ignored --nocapture`
#[test]
#[ignore = "timing probe; run in release"]
fn perf_probe_one_megapixel() {
    let image = photo_like(1000, 1000, 6);
    for layers in [5, 8] {
        probe("1 MP photo-like", &image, layers);
    }
    let mut rng = Rng::new(1);
    let noise = RgbaImage::from_fn(1000, 1000, |_, _| {
        Rgba([rng.byte(), rng.byte(), rng.byte(), 255])
    });
    probe("1 MP uniform noise", &noise, 5);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/sample.png");
    if let Ok(sample) = image::open(&path) {
        let sample = sample.to_rgba8();
        for layers in [5, 8] {
            probe("sample.png", &sample, layers);
        }
    }
}
