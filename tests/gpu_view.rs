//! The compositor's view path (only what a zoomed and panned viewport shows, at screen
//! resolution) against the CPU reference: exact enlargement at zoom ≥ 1, box-downsampling
//! zoomed out, and the drag caches against a plain view composite.

mod common;

use common::gpu::compositor;
use common::{Rng, patterned_image};
use image::{Rgba, RgbaImage};
use strata::gpu::{Compositor, ViewTransform};
use strata::model::{BlendMode, Document, Offset, composite};

fn view(size: (u32, u32), origin: (f32, f32), zoom: f32) -> ViewTransform {
    ViewTransform {
        viewport_size: [size.0 as f32, size.1 as f32],
        origin: [origin.0, origin.1],
        zoom,
        checker_size: 8.0,
    }
}

/// Largest channel difference between two straight pixels, 0 when both are transparent.
fn pixel_diff(a: Rgba<u8>, b: Rgba<u8>) -> u8 {
    if a[3] == 0 && b[3] == 0 {
        return 0;
    }
    (0..4).map(|c| a[c].abs_diff(b[c])).max().unwrap_or(0)
}

/// The document pixel under a screen pixel's centre, as the shaders compute it (f32).
fn cell(x: u32, origin: f32, zoom: f32) -> i64 {
    ((x as f32 + 0.5 - origin) / zoom).floor() as i64
}

/// Every screen pixel of `screen` against the reference pixel under its centre
/// (transparent outside the document); returns the largest difference and where.
fn diff_enlarged(screen: &RgbaImage, reference: &RgbaImage, v: &ViewTransform) -> (u8, u32, u32) {
    let mut worst = (0, 0, 0);
    for (x, y, shown) in screen.enumerate_pixels() {
        let cx = cell(x, v.origin[0], v.zoom);
        let cy = cell(y, v.origin[1], v.zoom);
        let inside = (0..i64::from(reference.width())).contains(&cx)
            && (0..i64::from(reference.height())).contains(&cy);
        let wanted = if inside {
            *reference.get_pixel(cx as u32, cy as u32)
        } else {
            Rgba([0, 0, 0, 0])
        };
        let diff = pixel_diff(*shown, wanted);
        if diff > worst.0 {
            worst = (diff, x, y);
        }
    }
    worst
}

/// A backdrop plus layers of `modes` with partial alpha, opacity, fill and offsets past the
/// edges.
fn document(seed: u64, modes: &[BlendMode]) -> Document {
    let mut rng = Rng::new(seed);
    let mut doc = Document::new(83, 57);
    doc.push_layer("backdrop", patterned_image(&mut rng, 83, 57));
    for (i, &mode) in modes.iter().enumerate() {
        let (w, h) = (20 + rng.below(70), 10 + rng.below(50));
        let layer = doc.push_layer(format!("layer {i}"), patterned_image(&mut rng, w, h));
        layer.offset = Offset::new(rng.below(100) as i32 - 20, rng.below(70) as i32 - 15);
        layer.opacity = 0.4 + rng.below(60) as f32 / 100.0;
        layer.blend = mode;
        // The middle layer at partial fill: the view path applies fill as the full path does.
        if i == 1 {
            layer.fill_opacity = 0.6;
        }
    }
    doc
}

#[test]
fn zoomed_in_view_is_the_reference_enlarged() {
    let Some(gpu) = compositor() else { return };
    // Small chunks: layers are cut into several textures, which must join without seams.
    let mut gpu = gpu.with_max_tile_side(32);
    let modes = [
        [BlendMode::Normal, BlendMode::Multiply, BlendMode::Normal],
        [BlendMode::Screen, BlendMode::Overlay, BlendMode::Normal],
        [
            BlendMode::ColorDodge,
            BlendMode::Normal,
            BlendMode::SoftLight,
        ],
        [
            BlendMode::Difference,
            BlendMode::ColorBurn,
            BlendMode::HardLight,
        ],
        // Dissolve's pattern follows document pixels, whatever the zoom and pan.
        [BlendMode::Dissolve, BlendMode::VividLight, BlendMode::Hue],
        [
            BlendMode::DarkerColor,
            BlendMode::HardMix,
            BlendMode::Luminosity,
        ],
        [
            BlendMode::LinearLight,
            BlendMode::Divide,
            BlendMode::Saturation,
        ],
        [BlendMode::PinLight, BlendMode::Subtract, BlendMode::Color],
        [
            BlendMode::LinearBurn,
            BlendMode::LighterColor,
            BlendMode::Exclusion,
        ],
    ];
    let views = [
        view((90, 60), (0.0, 0.0), 1.0),
        view((70, 50), (-30.0, -12.0), 1.0),
        view((64, 48), (7.0, 3.0), 2.0),
        view((100, 80), (-120.0, -45.0), 3.0),
        view((61, 47), (-20.0, 5.0), 1.5),
    ];
    for (seed, modes) in modes.iter().enumerate() {
        let doc = document(seed as u64 + 1, modes);
        let reference = composite(&doc);
        for v in &views {
            gpu.render_view(&doc, v).expect("render view");
            let screen = gpu.read_view_rgba().expect("read view");
            assert_eq!(
                screen.dimensions(),
                (v.viewport_size[0] as u32, v.viewport_size[1] as u32)
            );
            let (diff, x, y) = diff_enlarged(&screen, &reference, v);
            assert!(
                diff <= 1,
                "{modes:?} at zoom {} origin {:?}: screen ({x}, {y}) differs by {diff}/255",
                v.zoom,
                v.origin
            );
        }
    }
}

/// Straight RGBA with every 4×4 block (aligned to multiples of 4) one colour.
fn blocky_image(rng: &mut Rng, width: u32, height: u32) -> RgbaImage {
    let colours: Vec<Rgba<u8>> = (0..(width / 4 + 1) * (height / 4 + 1))
        .map(|_| Rgba([rng.byte(), rng.byte(), rng.byte(), rng.byte().max(40)]))
        .collect();
    RgbaImage::from_fn(width, height, |x, y| {
        colours[((y / 4) * (width / 4 + 1) + x / 4) as usize]
    })
}

/// `image` averaged over `factor`×`factor` boxes, premultiplied (as a screen pixel that
/// covers those document pixels should show them).
fn box_downsample(image: &RgbaImage, factor: u32) -> RgbaImage {
    RgbaImage::from_fn(image.width() / factor, image.height() / factor, |x, y| {
        let mut sum = [0.0f32; 4];
        for dy in 0..factor {
            for dx in 0..factor {
                let p = image.get_pixel(x * factor + dx, y * factor + dy);
                let a = f32::from(p[3]) / 255.0;
                for c in 0..3 {
                    sum[c] += f32::from(p[c]) * a;
                }
                sum[3] += a;
            }
        }
        let n = (factor * factor) as f32;
        let a = sum[3] / n;
        if a <= 0.0 {
            return Rgba([0, 0, 0, 0]);
        }
        let c = |i: usize| (sum[i] / n / a).round().clamp(0.0, 255.0) as u8;
        Rgba([c(0), c(1), c(2), (a * 255.0).round() as u8])
    })
}

#[test]
fn zoomed_out_view_is_the_reference_box_downsampled() {
    let Some(mut gpu) = compositor() else { return };
    let mut rng = Rng::new(8);
    let mut doc = Document::new(128, 96);
    doc.push_layer("backdrop", blocky_image(&mut rng, 128, 96));
    for (i, mode) in [BlendMode::Normal, BlendMode::Multiply, BlendMode::Screen]
        .into_iter()
        .enumerate()
    {
        let layer = doc.push_layer(format!("blocks {i}"), blocky_image(&mut rng, 48, 40));
        layer.offset = Offset::new(16 + 24 * i as i32, 8 + 16 * i as i32);
        layer.opacity = 0.8;
        layer.blend = mode;
    }
    let reference = composite(&doc);
    for (factor, origin) in [(2, (3.0, 5.0)), (4, (0.0, 0.0)), (4, (-6.0, 2.0))] {
        let zoom = 1.0 / factor as f32;
        let v = view((70, 60), origin, zoom);
        gpu.render_view(&doc, &v).expect("render view");
        let screen = gpu.read_view_rgba().expect("read view");
        let expected = box_downsample(&reference, factor);
        let (ox, oy) = (origin.0 as i64, origin.1 as i64);
        let mut compared = 0;
        for (x, y, shown) in screen.enumerate_pixels() {
            let (bx, by) = (i64::from(x) - ox, i64::from(y) - oy);
            let inside = (0..i64::from(expected.width())).contains(&bx)
                && (0..i64::from(expected.height())).contains(&by);
            let wanted = if inside {
                *expected.get_pixel(bx as u32, by as u32)
            } else {
                Rgba([0, 0, 0, 0])
            };
            let diff = pixel_diff(*shown, wanted);
            assert!(
                diff <= 2,
                "1/{factor} at {origin:?}: screen ({x}, {y}) shows {shown:?}, not {wanted:?}"
            );
            compared += u32::from(inside);
        }
        assert!(compared > 100, "only {compared} pixels showed the document");
    }
}

#[test]
fn zoomed_out_soft_edges_do_not_darken() {
    let Some(mut gpu) = compositor() else { return };
    // White texels between fully transparent black ones: averaged straight, they would turn
    // grey; premultiplied, they stay white at half coverage.
    let mut doc = Document::new(64, 64);
    doc.push_layer(
        "lace",
        RgbaImage::from_fn(64, 64, |x, y| {
            if (x + y) % 2 == 0 {
                Rgba([255, 255, 255, 255])
            } else {
                Rgba([0, 0, 0, 0])
            }
        }),
    );
    for factor in [2.0, 4.0, 8.0] {
        let v = view((40, 40), (4.0, 4.0), 1.0 / factor);
        gpu.render_view(&doc, &v).expect("render view");
        let screen = gpu.read_view_rgba().expect("read view");
        let p = *screen.get_pixel(5, 5);
        assert!(
            p[0] >= 254 && p[1] >= 254 && p[2] >= 254 && p[3].abs_diff(128) <= 1,
            "1/{factor}: {p:?}"
        );
    }
}

#[test]
fn view_drag_path_matches_the_plain_view_path() {
    let Some(mut dragging) = compositor() else {
        return;
    };
    let (device, queue) = (dragging.device().clone(), dragging.queue().clone());
    let mut plain = Compositor::new(device, queue);
    for (name, above_mode) in [
        ("normal above", BlendMode::Normal),
        ("multiply above", BlendMode::Multiply),
    ] {
        let modes = [
            BlendMode::Normal,
            BlendMode::Screen, // the dragged layer itself may blend
            BlendMode::Normal,
            above_mode,
        ];
        let mut doc = document(31, &modes);
        let dragged = doc.layers[2].id;
        let views = [
            view((80, 60), (2.0, 1.0), 1.0),
            view((80, 60), (-40.0, -10.0), 2.0),
            view((80, 60), (10.0, 8.0), 0.5),
        ];
        for (i, v) in views.iter().enumerate() {
            for step in 0..3 {
                doc.layers[2].offset = Offset::new(step * 9 - 10, step * 4 - 3);
                let uploads = dragging.upload_count();
                dragging
                    .render_view_dragging(&doc, v, dragged)
                    .expect("drag view");
                if i > 0 || step > 0 {
                    assert_eq!(dragging.upload_count(), uploads, "a drag re-uploaded");
                }
                plain.render_view(&doc, v).expect("plain view");
                let (a, b) = (
                    dragging.read_view_rgba().expect("read"),
                    plain.read_view_rgba().expect("read"),
                );
                let diff = a
                    .pixels()
                    .zip(b.pixels())
                    .map(|(p, q)| pixel_diff(*p, *q))
                    .max()
                    .unwrap_or(0);
                assert!(
                    diff <= 1,
                    "{name}, view {i}, step {step}: drag path differs by {diff}/255"
                );
            }
        }
        // At zoom ≥ 1 the drag path is also the reference, enlarged.
        let v = views[1];
        dragging
            .render_view_dragging(&doc, &v, dragged)
            .expect("drag view");
        let screen = dragging.read_view_rgba().expect("read");
        let (diff, x, y) = diff_enlarged(&screen, &composite(&doc), &v);
        assert!(diff <= 1, "{name}: ({x}, {y}) differs by {diff}/255");
    }
}

#[test]
fn export_path_is_unchanged_by_the_view_path() {
    let Some(mut gpu) = compositor() else { return };
    let doc = document(5, &[BlendMode::Overlay, BlendMode::Normal]);
    gpu.render_view(&doc, &view((50, 40), (0.0, 0.0), 0.5))
        .expect("render view");
    gpu.render(&doc).expect("render");
    let full = gpu.read_rgba().expect("read");
    let reference = composite(&doc);
    let diff = full
        .pixels()
        .zip(reference.pixels())
        .map(|(p, q)| pixel_diff(*p, *q))
        .max()
        .unwrap_or(0);
    assert!(diff <= 1, "full composite differs by {diff}/255");
    // An empty viewport composites nothing and is no error.
    gpu.render_view(&doc, &view((0, 0), (0.0, 0.0), 1.0))
        .expect("empty viewport");
}

#[test]
fn zoomed_out_layers_keep_the_column_an_odd_width_leaves_over() {
    let Some(mut gpu) = compositor() else { return };
    // Blue with a red last column, 5 wide: halving 5 → 2 → 1 must not drop the red column.
    let mut doc = Document::new(5, 5);
    doc.push_layer(
        "stripe",
        RgbaImage::from_fn(5, 5, |x, _| {
            if x == 4 {
                Rgba([255, 0, 0, 255])
            } else {
                Rgba([0, 0, 255, 255])
            }
        }),
    );
    gpu.render_view(&doc, &view((8, 8), (0.0, 0.0), 0.25))
        .expect("render view");
    let p = *gpu.read_view_rgba().expect("read view").get_pixel(0, 0);
    assert!(p[0] >= 30 && p[2] >= 180 && p[3] == 255, "{p:?}");
}

#[test]
fn panning_reuses_what_stays_on_screen_and_matches_a_fresh_composite() {
    let Some(mut panned) = compositor() else {
        return;
    };
    let (device, queue) = (panned.device().clone(), panned.queue().clone());
    // A new compositor each time: one that held an earlier view would pan too.
    let fresh = || Compositor::new(device.clone(), queue.clone());
    let mut doc = document(
        41,
        &[BlendMode::Normal, BlendMode::Multiply, BlendMode::Lighten],
    );
    let read_diff = |a: &mut Compositor, b: &mut Compositor| {
        let (a, b) = (
            a.read_view_rgba().expect("read"),
            b.read_view_rgba().expect("read"),
        );
        a.pixels()
            .zip(b.pixels())
            .map(|(p, q)| pixel_diff(*p, *q))
            .max()
            .unwrap_or(0)
    };
    for zoom in [2.0, 1.0, 0.5, 0.3] {
        let mut origin = (-15.0, -9.0);
        panned
            .render_view(&doc, &view((70, 50), origin, zoom))
            .expect("render view");
        // Pans by whole pixels in every direction, one past the viewport, and one by half a
        // pixel (which cannot reuse anything).
        for (step, (dx, dy)) in [
            (5.0, 0.0),
            (0.0, -7.0),
            (-3.0, 4.0),
            (80.0, 0.0),
            (0.5, 1.0),
        ]
        .into_iter()
        .enumerate()
        {
            origin = (origin.0 + dx, origin.1 + dy);
            let v = view((70, 50), origin, zoom);
            panned.render_view(&doc, &v).expect("pan");
            let mut fresh = fresh();
            fresh.render_view(&doc, &v).expect("fresh");
            let diff = read_diff(&mut panned, &mut fresh);
            assert!(diff <= 1, "zoom {zoom}, pan {step}: differs by {diff}/255");
        }
        // A pan together with a change of the picture must not reuse the old pixels.
        doc.layers[2].opacity *= 0.5;
        origin.0 += 2.0;
        let v = view((70, 50), origin, zoom);
        panned.render_view(&doc, &v).expect("pan and change");
        let mut fresh = fresh();
        fresh.render_view(&doc, &v).expect("fresh");
        let diff = read_diff(&mut panned, &mut fresh);
        assert!(
            diff <= 1,
            "zoom {zoom}: stale pixels after a change ({diff}/255)"
        );
    }
}

/// The reference pixel a screen pixel of view `v` shows (transparent outside the document
/// and outside the viewport).
fn shown_pixel(reference: &RgbaImage, v: &ViewTransform, x: i64, y: i64) -> Rgba<u8> {
    let inside_view =
        (0..v.viewport_size[0] as i64).contains(&x) && (0..v.viewport_size[1] as i64).contains(&y);
    let cx = ((x as f32 + 0.5 - v.origin[0]) / v.zoom).floor() as i64;
    let cy = ((y as f32 + 0.5 - v.origin[1]) / v.zoom).floor() as i64;
    let inside_doc = (0..i64::from(reference.width())).contains(&cx)
        && (0..i64::from(reference.height())).contains(&cy);
    if inside_view && inside_doc {
        *reference.get_pixel(cx as u32, cy as u32)
    } else {
        Rgba([0, 0, 0, 0])
    }
}

/// Checks a zoom-gesture frame for view `new`, resampled from the exact composite of view
/// `old`: bilinear interpolation of premultiplied pixels gives an alpha between the four
/// old pixels' alphas and a colour between the colours of those that are not transparent,
/// so each channel must lie in that range (give or take `tolerance`). Returns the largest
/// excess and where.
fn diff_resampled(
    screen: &RgbaImage,
    reference: &RgbaImage,
    (old, new): (&ViewTransform, &ViewTransform),
) -> (u8, u32, u32) {
    let ratio = old.zoom / new.zoom;
    let mut worst = (0, 0, 0);
    for (x, y, shown) in screen.enumerate_pixels() {
        let qx = (x as f32 + 0.5) * ratio + old.origin[0] - new.origin[0] * ratio - 0.5;
        let qy = (y as f32 + 0.5) * ratio + old.origin[1] - new.origin[1] * ratio - 0.5;
        let (bx, by) = (qx.floor() as i64, qy.floor() as i64);
        let corners: Vec<Rgba<u8>> = [(0, 0), (1, 0), (0, 1), (1, 1)]
            .iter()
            .map(|(i, j)| shown_pixel(reference, old, bx + i, by + j))
            .collect();
        let range = |c: usize, only_opaque: bool| {
            let values = corners
                .iter()
                .filter(|p| !only_opaque || p[3] > 0)
                .map(|p| p[c]);
            let low = values.clone().min().unwrap_or(0);
            (low, values.max().unwrap_or(255))
        };
        let outside = |value: u8, (low, high): (u8, u8)| {
            low.saturating_sub(value).max(value.saturating_sub(high))
        };
        let mut excess = outside(shown[3], range(3, false));
        if shown[3] > 0 {
            for c in 0..3 {
                excess = excess.max(outside(shown[c], range(c, true)));
            }
        }
        if excess > worst.0 {
            worst = (excess, x, y);
        }
    }
    worst
}

#[test]
fn zoom_gesture_frames_resample_the_last_composite_then_settle_exactly() {
    let Some(mut gpu) = compositor() else { return };
    let mut rng = Rng::new(23);
    let mut doc = Document::new(83, 57);
    // An opaque backdrop keeps every straight colour read back well defined.
    let backdrop = RgbaImage::from_fn(83, 57, |_, _| {
        Rgba([rng.byte(), rng.byte(), rng.byte(), 255])
    });
    doc.push_layer("backdrop", backdrop);
    let layer = doc.push_layer("multiply", patterned_image(&mut rng, 50, 40));
    layer.offset = Offset::new(20, 9);
    layer.blend = BlendMode::Multiply;
    layer.opacity = 0.8;
    let reference = composite(&doc);
    let start = view((100, 80), (-20.0, -10.0), 2.0);
    gpu.render_view(&doc, &start).expect("render view");
    // In, then out past the start: both frames resample `start`'s composite, which shows
    // document columns 10 to 59 only; the zoomed-out frame leaves columns left of that
    // transparent (the display shows the checkerboard there until the gesture settles).
    let frames = [
        view((100, 80), (-31.0, -17.5), 2.3),
        view((100, 80), (4.0, 6.0), 1.6),
    ];
    for v in &frames {
        gpu.render_view_scaled(&doc, v).expect("gesture frame");
        let screen = gpu.read_view_rgba().expect("read view");
        let (diff, x, y) = diff_resampled(&screen, &reference, (&start, v));
        assert!(
            diff <= 2,
            "gesture frame at zoom {}: screen ({x}, {y}) is {diff}/255 out of range",
            v.zoom
        );
    }
    let screen = gpu.read_view_rgba().expect("read view");
    assert_eq!(
        screen.get_pixel(8, 30)[3],
        0,
        "not covered by the old composite"
    );
    // The gesture settles: the next plain composite is exact again.
    let settled = frames[1];
    gpu.render_view(&doc, &settled).expect("settled view");
    let screen = gpu.read_view_rgba().expect("read view");
    let (diff, x, y) = diff_enlarged(&screen, &reference, &settled);
    assert!(
        diff <= 1,
        "settled frame: screen ({x}, {y}) differs by {diff}/255"
    );
    assert_ne!(screen.get_pixel(8, 30)[3], 0);
}
