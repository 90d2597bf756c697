//! The wgpu compositor against the CPU reference, run headless (lavapipe in CI).
//!
//! In CI (`CI=true`) a missing adapter fails these tests; elsewhere they are skipped with a
//! message, so a laptop without Vulkan can still run the rest of the suite.

mod common;

use common::gpu::{compositor, max_diff};
use common::{Rng, patterned_image};
use image::{GrayImage, Luma, RgbaImage};
use strata::gpu::{Compositor, ViewTransform};
use strata::model::{BlendMode, Document, LayerId, Mask, Offset, composite};

/// A backdrop plus `count` random layers with partial alpha, offsets and `mode`.
fn random_document(seed: u64, mode: BlendMode, count: usize) -> Document {
    let mut rng = Rng::new(seed);
    let mut doc = Document::new(97, 61);
    doc.push_layer("backdrop", patterned_image(&mut rng, 97, 61));
    for i in 0..count {
        let (w, h) = (20 + rng.below(90), 10 + rng.below(60));
        let layer = doc.push_layer(format!("layer {i}"), patterned_image(&mut rng, w, h));
        layer.offset = Offset::new(rng.below(120) as i32 - 30, rng.below(80) as i32 - 20);
        layer.opacity = 0.3 + rng.below(70) as f32 / 100.0;
        layer.blend = mode;
    }
    doc
}

#[test]
fn every_blend_mode_matches_the_cpu_reference() {
    let Some(mut gpu) = compositor() else { return };
    for (seed, mode) in BlendMode::ALL.into_iter().enumerate() {
        let doc = random_document(seed as u64 + 1, mode, 3);
        gpu.render(&doc).expect("render");
        let diff = max_diff(&gpu.read_rgba().expect("read"), &composite(&doc));
        assert!(diff <= 1, "{mode:?}: GPU differs from CPU by {diff}/255");
    }
}

#[test]
fn half_float_canvas_fallback_stays_close() {
    let Some(full) = compositor() else { return };
    let (device, queue) = (full.device().clone(), full.queue().clone());
    let mut half = Compositor::with_canvas_format(device, queue, wgpu::TextureFormat::Rgba16Float);
    for (seed, mode) in BlendMode::ALL.into_iter().enumerate() {
        let doc = random_document(seed as u64 + 1, mode, 3);
        half.render(&doc).expect("render");
        let gpu = half.read_rgba().expect("read");
        let cpu = composite(&doc);
        // Dodge and burn (and vivid light, made of them) divide by the source colour,
        // magnifying the 11-bit mantissa of a half-float backdrop; every other mode stays
        // within 1/255.
        let bound = if matches!(
            mode,
            BlendMode::ColorDodge | BlendMode::ColorBurn | BlendMode::VividLight
        ) {
            4
        } else {
            1
        };
        // Hard mix and darker / lighter colour jump where two values are equal, so a
        // backdrop rounded to half floats may land a few pixels on the other side.
        let allowed = if matches!(
            mode,
            BlendMode::HardMix | BlendMode::DarkerColor | BlendMode::LighterColor
        ) {
            cpu.len() / 4 / 200
        } else {
            0
        };
        let off = pixels_over(&gpu, &cpu, bound);
        assert!(
            off <= allowed,
            "{mode:?}: half-float canvas differs by more than {bound}/255 at {off} pixels \
             (largest {}/255)",
            max_diff(&gpu, &cpu)
        );
    }
}

/// Pixels differing by more than `bound` in some channel (fully transparent pairs ignored).
fn pixels_over(a: &RgbaImage, b: &RgbaImage, bound: u8) -> usize {
    a.pixels()
        .zip(b.pixels())
        .filter(|(p, q)| p[3] != 0 || q[3] != 0)
        .filter(|(p, q)| (0..4).any(|c| p[c].abs_diff(q[c]) > bound))
        .count()
}

#[test]
fn dissolve_pattern_is_the_cpus_across_tiles_and_drags() {
    let Some(gpu) = compositor() else { return };
    // 32-pixel tiles: the pattern must follow canvas pixels, not tile pixels.
    let mut gpu = gpu.with_max_tile_side(32);
    let mut doc = random_document(31, BlendMode::Dissolve, 3);
    doc.layers[2].blend = BlendMode::Multiply;
    gpu.render(&doc).expect("render");
    let diff = max_diff(&gpu.read_rgba().expect("read"), &composite(&doc));
    assert!(diff <= 1, "tiled dissolve differs by {diff}/255");
    let dragged = doc.layers[1].id;
    for step in 0..3 {
        doc.layers[1].offset = Offset::new(step * 13 - 7, step * 5 - 2);
        gpu.render_dragging(&doc, dragged).expect("drag render");
        let diff = max_diff(&gpu.read_rgba().expect("read"), &composite(&doc));
        assert!(diff <= 1, "dissolve drag step {step} differs by {diff}/255");
    }
}

#[test]
fn mixed_modes_hidden_layers_and_transparent_canvas() {
    let Some(mut gpu) = compositor() else { return };
    let mut rng = Rng::new(99);
    let mut doc = Document::new(64, 40);
    for (i, mode) in BlendMode::ALL.into_iter().enumerate() {
        let layer = doc.push_layer(format!("{mode:?}"), patterned_image(&mut rng, 30, 20));
        layer.offset = Offset::new((i as i32 * 7) % 50 - 5, (i as i32 * 5) % 30 - 4);
        layer.blend = mode;
        layer.visible = i % 4 != 3;
        // 0.5 up to 0.93 for the 27th mode: opacity stays within 0..=1.
        layer.opacity = 0.5 + (i as f32) / 60.0;
    }
    gpu.render(&doc).expect("render");
    let diff = max_diff(&gpu.read_rgba().expect("read"), &composite(&doc));
    assert!(diff <= 1, "differs by {diff}/255");
}

#[test]
fn property_changes_never_reupload_pixels() {
    let Some(mut gpu) = compositor() else { return };
    let mut doc = random_document(5, BlendMode::Normal, 4);
    gpu.render(&doc).expect("first render");
    let uploads = gpu.upload_count();
    assert_eq!(uploads, 5);
    doc.layers[1].visible = false;
    doc.layers[2].opacity = 0.2;
    doc.layers[3].blend = BlendMode::Screen;
    doc.layers[4].offset = Offset::new(3, 3);
    doc.layers.swap(1, 2);
    gpu.render(&doc).expect("second render");
    assert_eq!(gpu.upload_count(), uploads, "properties re-uploaded pixels");
    let diff = max_diff(&gpu.read_rgba().expect("read"), &composite(&doc));
    assert!(diff <= 1);
    doc.layers[0].pixels = std::sync::Arc::new(RgbaImage::new(4, 4));
    gpu.render(&doc).expect("third render");
    assert_eq!(
        gpu.upload_count(),
        uploads + 1,
        "new pixels must upload once"
    );
}

#[test]
fn drag_path_matches_the_full_path() {
    let Some(mut gpu) = compositor() else { return };
    for (name, above_mode) in [
        ("normal above", BlendMode::Normal),
        ("multiply above", BlendMode::Multiply),
    ] {
        let mut doc = random_document(11, BlendMode::Normal, 6);
        doc.layers[5].blend = above_mode;
        doc.layers[2].blend = BlendMode::Screen; // the dragged layer itself may blend
        let dragged = doc.layers[2].id;
        for step in 0..4 {
            doc.layers[2].offset = Offset::new(step * 9 - 10, step * 4 - 3);
            gpu.render_dragging(&doc, dragged).expect("drag render");
            let cached = gpu.read_rgba().expect("read");
            let diff = max_diff(&cached, &composite(&doc));
            assert!(
                diff <= 1,
                "{name}, step {step}: drag path differs by {diff}/255"
            );
        }
        // A change to another layer mid-drag must rebuild the caches.
        doc.layers[4].visible = false;
        gpu.render_dragging(&doc, dragged).expect("drag render");
        let diff = max_diff(&gpu.read_rgba().expect("read"), &composite(&doc));
        assert!(diff <= 1, "{name}: stale cache after a change ({diff}/255)");
    }
}

#[test]
fn tiling_handles_canvases_and_layers_beyond_the_texture_limit() {
    let Some(gpu) = compositor() else { return };
    // Pretend the adapter allows only 32-pixel textures: a 97×61 canvas and 150-px layers
    // must be cut into tiles and chunks, with no seams.
    let mut gpu = gpu.with_max_tile_side(32);
    let mut doc = random_document(21, BlendMode::Overlay, 4);
    let mut rng = Rng::new(3);
    doc.push_layer("wide", patterned_image(&mut rng, 150, 9))
        .offset = Offset::new(-20, 30);
    gpu.render(&doc).expect("render");
    let diff = max_diff(&gpu.read_rgba().expect("read"), &composite(&doc));
    assert!(diff <= 1, "tiled composite differs by {diff}/255");
    let dragged = doc.layers[2].id;
    gpu.render_dragging(&doc, dragged).expect("tiled drag");
    let diff = max_diff(&gpu.read_rgba().expect("read"), &composite(&doc));
    assert!(diff <= 1, "tiled drag differs by {diff}/255");
}

#[test]
fn empty_canvas_is_an_error_not_a_panic() {
    let Some(mut gpu) = compositor() else { return };
    let doc = Document::new(0, 0);
    assert!(gpu.render(&doc).is_err());
}

#[test]
fn alpha_that_rounds_to_zero_is_transparent_black_on_both_paths() {
    let Some(mut gpu) = compositor() else { return };
    let mut doc = Document::new(3, 1);
    // 1/255 at 30 % opacity stores as 0.3/255: invisible, so no colour may survive. At
    // 100 % the same pixel is visible and keeps its colour.
    let faint = doc.push_layer(
        "faint",
        RgbaImage::from_pixel(2, 1, image::Rgba([200, 100, 50, 1])),
    );
    faint.opacity = 0.3;
    doc.push_layer(
        "visible",
        RgbaImage::from_pixel(1, 1, image::Rgba([200, 100, 50, 1])),
    )
    .offset = Offset::new(2, 0);
    gpu.render(&doc).expect("render");
    let expected = [[0, 0, 0, 0], [0, 0, 0, 0], [200, 100, 50, 1]];
    let cpu = composite(&doc);
    let gpu = gpu.read_rgba().expect("read");
    for (x, want) in expected.into_iter().enumerate() {
        assert_eq!(cpu.get_pixel(x as u32, 0).0, want, "CPU at {x}");
        assert_eq!(gpu.get_pixel(x as u32, 0).0, want, "GPU at {x}");
    }
}

#[test]
fn fill_opacity_matches_the_cpu_reference() {
    let Some(mut gpu) = compositor() else { return };
    // Normal (fixed-function "over"), a multiplying mode, dissolve, and the special-eight
    // modes whose fill moves the source colour to a neutral one.
    let modes = [
        BlendMode::Normal,
        BlendMode::Screen,
        BlendMode::Dissolve,
        BlendMode::LinearLight,
        BlendMode::VividLight,
        BlendMode::ColorBurn,
        BlendMode::Add,
        BlendMode::Difference,
        BlendMode::HardMix,
    ];
    for (seed, mode) in modes.into_iter().enumerate() {
        let mut doc = random_document(seed as u64 + 40, mode, 3);
        for (i, layer) in doc.layers.iter_mut().enumerate().skip(1) {
            layer.fill_opacity = [0.2, 0.55, 0.0][i % 3];
        }
        gpu.render(&doc).expect("render");
        let diff = max_diff(&gpu.read_rgba().expect("read"), &composite(&doc));
        assert!(
            diff <= 1,
            "{mode:?} with fill: GPU differs from CPU by {diff}/255"
        );
    }
}

// Groups, masks and clipping: the render plan run on the GPU against the CPU reference,
// on the full-resolution path (tiled and untiled) and the view path at 1:1.

/// A backdrop and five layers with partial alpha, offsets and opacities; returns their ids
/// (backdrop first).
fn tree_document(seed: u64) -> (Document, Vec<LayerId>) {
    let mut rng = Rng::new(seed);
    let mut doc = Document::new(61, 43);
    doc.push_layer("backdrop", patterned_image(&mut rng, 61, 43));
    for i in 0..5 {
        let (w, h) = (20 + rng.below(40), 12 + rng.below(30));
        let layer = doc.push_layer(format!("layer {i}"), patterned_image(&mut rng, w, h));
        layer.offset = Offset::new(rng.below(50) as i32 - 8, rng.below(35) as i32 - 6);
        layer.opacity = 0.5 + rng.below(50) as f32 / 100.0;
    }
    let ids = doc.layers.iter().map(|l| l.id).collect();
    (doc, ids)
}

/// Puts `members` (bottom first, adjacent) into a new group; returns its id.
fn grouped(doc: &mut Document, members: &[LayerId]) -> LayerId {
    let group = doc.group_node(members[0]).expect("group");
    for (i, id) in members.iter().enumerate().skip(1) {
        doc.move_node(*id, Some(group), i)
            .expect("move into the group");
    }
    doc.check_tree().expect("a valid tree");
    group
}

/// A mask with a diagonal ramp and a hard-edged hole, offset into the canvas.
fn ramp_mask(background: u8) -> Mask {
    let pixels = GrayImage::from_fn(40, 30, |x, y| {
        if (12..22).contains(&x) && (8..16).contains(&y) {
            Luma([0])
        } else {
            Luma([((x * 6 + y * 3) % 256) as u8])
        }
    });
    Mask::new(pixels, Offset::new(9, 5), background)
}

/// The documents of issue #16, by name.
fn tree_cases() -> Vec<(&'static str, Document)> {
    let mut cases = Vec::new();

    let (mut doc, ids) = tree_document(61);
    let g = grouped(&mut doc, &ids[1..3]);
    doc.layers[2].blend = BlendMode::Screen;
    let group = doc.group_mut(g).expect("group");
    group.pass_through = false;
    group.blend = BlendMode::Multiply;
    group.opacity = 0.6;
    cases.push(("isolated multiply group at 60%", doc));

    let (mut doc, ids) = tree_document(62);
    let g = grouped(&mut doc, &ids[2..4]);
    doc.layers[3].blend = BlendMode::Screen;
    doc.group_mut(g).expect("group").opacity = 0.5;
    cases.push(("pass-through group at 50% with a screen member", doc));

    let (mut doc, ids) = tree_document(63);
    let g = grouped(&mut doc, &ids[1..4]);
    doc.group_mut(g).expect("group").visible = false;
    cases.push(("hidden group", doc));

    let (mut doc, _) = tree_document(64);
    doc.layers[2].blend = BlendMode::Overlay;
    let mut mask = ramp_mask(0);
    mask.density = 0.5;
    mask.feather = 3.0;
    doc.layers[2].mask = Some(mask);
    let mut hard = ramp_mask(255);
    hard.offset = Offset::new(-7, 12);
    doc.layers[4].mask = Some(hard);
    cases.push((
        "layer masks: density 0.5 and feather 3, and a hard one",
        doc,
    ));

    let (mut doc, ids) = tree_document(65);
    let g = grouped(&mut doc, &ids[1..4]);
    doc.group_mut(g).expect("group").mask = Some(ramp_mask(255));
    cases.push(("pass-through group with a mask", doc.clone()));
    let group = doc.group_mut(g).expect("group");
    group.pass_through = false;
    group.blend = BlendMode::HardLight;
    group.opacity = 0.8;
    cases.push(("isolated hard-light group with a mask", doc));

    let (mut doc, _) = tree_document(66);
    doc.layers[1].opacity = 0.7;
    doc.layers[1].blend = BlendMode::Screen;
    doc.layers[2].clipped = true;
    doc.layers[3].clipped = true;
    doc.layers[3].blend = BlendMode::Multiply;
    doc.layers[3].fill_opacity = 0.6;
    cases.push(("clipped normal and multiply layers over a base at 70%", doc));

    let (mut doc, ids) = tree_document(67);
    let inner = grouped(&mut doc, &ids[4..6]);
    doc.layers[5].blend = BlendMode::Multiply;
    let middle = grouped(&mut doc, &[ids[3], inner]);
    let outer = grouped(&mut doc, &[ids[2], middle]);
    let group = doc.group_mut(inner).expect("inner");
    group.pass_through = false;
    group.blend = BlendMode::Screen;
    group.opacity = 0.8;
    doc.group_mut(middle).expect("middle").opacity = 0.7;
    let group = doc.group_mut(outer).expect("outer");
    group.pass_through = false;
    group.mask = Some(ramp_mask(255));
    // The top layer of the innermost group clips to the one below it.
    doc.layers[5].clipped = true;
    cases.push(("nested groups three deep with clipping inside", doc));

    cases
}

/// `doc` without its groups, masks and clipping.
fn flattened(doc: &Document) -> Document {
    let mut flat = doc.clone();
    flat.groups.clear();
    for layer in &mut flat.layers {
        layer.parent = None;
        layer.mask = None;
        layer.clipped = false;
    }
    flat
}

/// The view path's composite of `doc` in a `size` viewport with document pixel (0, 0) at
/// `origin` and `zoom` (≥ 1) screen pixels per document pixel, against the reference pixel
/// under each screen pixel's centre; returns the largest difference.
fn view_diff(
    gpu: &mut Compositor,
    doc: &Document,
    size: (u32, u32),
    origin: [f32; 2],
    zoom: f32,
) -> u8 {
    let view = ViewTransform {
        viewport_size: [size.0 as f32, size.1 as f32],
        origin,
        zoom,
        checker_size: 8.0,
    };
    gpu.render_view(doc, &view).expect("render view");
    let screen = gpu.read_view_rgba().expect("read view");
    let reference = composite(doc);
    let cell = |x: u32, o: f32| ((x as f32 + 0.5 - o) / zoom).floor() as i64;
    let mut worst = 0;
    for (x, y, shown) in screen.enumerate_pixels() {
        let (cx, cy) = (cell(x, origin[0]), cell(y, origin[1]));
        let inside =
            (0..i64::from(doc.width)).contains(&cx) && (0..i64::from(doc.height)).contains(&cy);
        let wanted = if inside {
            *reference.get_pixel(cx as u32, cy as u32)
        } else {
            image::Rgba([0, 0, 0, 0])
        };
        if shown[3] != 0 || wanted[3] != 0 {
            let diff = (0..4)
                .map(|c| shown[c].abs_diff(wanted[c]))
                .max()
                .unwrap_or(0);
            worst = worst.max(diff);
        }
    }
    worst
}

#[test]
fn groups_masks_and_clipping_match_the_cpu_reference() {
    let Some(gpu) = compositor() else { return };
    let (device, queue) = (gpu.device().clone(), gpu.queue().clone());
    let mut gpu = gpu;
    // 24-pixel tiles: group canvases, masks and dissolve must follow canvas pixels.
    let mut tiled = Compositor::new(device, queue).with_max_tile_side(24);
    for (name, doc) in tree_cases() {
        // Each case must depend on its tree: drawn as a flat stack it would look otherwise.
        assert_ne!(
            composite(&doc),
            composite(&flattened(&doc)),
            "{name}: a flat case"
        );
        gpu.render(&doc).expect("render");
        let diff = max_diff(&gpu.read_rgba().expect("read"), &composite(&doc));
        assert!(diff <= 1, "{name}: full path differs by {diff}/255");
        tiled.render(&doc).expect("tiled render");
        let diff = max_diff(&tiled.read_rgba().expect("read"), &composite(&doc));
        assert!(diff <= 1, "{name}: tiled full path differs by {diff}/255");
        // 1:1, shifted by whole pixels in a larger viewport; then enlarged and panned, where
        // masks and dissolve must follow the document pixel under each screen pixel.
        let size = (doc.width + 6, doc.height + 4);
        let diff = view_diff(&mut gpu, &doc, size, [3.0, 2.0], 1.0);
        assert!(diff <= 1, "{name}: view path differs by {diff}/255");
        let diff = view_diff(&mut gpu, &doc, (70, 50), [-17.0, -9.0], 2.0);
        assert!(diff <= 1, "{name}: view path at 2x differs by {diff}/255");
    }
}

#[test]
fn tree_documents_drag_and_return_to_flat_correctly() {
    let Some(mut gpu) = compositor() else { return };
    let view = ViewTransform {
        viewport_size: [61.0, 43.0],
        origin: [0.0, 0.0],
        zoom: 1.0,
        checker_size: 8.0,
    };
    for (name, mut doc) in tree_cases() {
        let dragged = doc.layers[3].id;
        for step in 0..2 {
            doc.layers[3].offset = Offset::new(step * 7 - 3, step * 3 - 1);
            gpu.render_dragging(&doc, dragged).expect("drag");
            let diff = max_diff(&gpu.read_rgba().expect("read"), &composite(&doc));
            assert!(diff <= 1, "{name}, drag step {step}: differs by {diff}/255");
            gpu.render_view_dragging(&doc, &view, dragged)
                .expect("view drag");
            let diff = max_diff(&gpu.read_view_rgba().expect("read"), &composite(&doc));
            assert!(
                diff <= 1,
                "{name}, view drag step {step}: differs by {diff}/255"
            );
        }
    }
    // From a tree document back to a flat one (groups dissolved, masks and clipping
    // dropped): nothing cached from the tree frames may show.
    let (mut doc, ids) = tree_document(70);
    let g = grouped(&mut doc, &ids[1..3]);
    doc.group_mut(g).expect("group").visible = false;
    gpu.render_view(&doc, &view).expect("view");
    doc.group_mut(g).expect("group").visible = true;
    gpu.render_view(&doc, &view).expect("view");
    let diff = max_diff(&gpu.read_view_rgba().expect("read"), &composite(&doc));
    assert!(
        diff <= 1,
        "after showing the group again: differs by {diff}/255"
    );
}

#[test]
fn mask_property_changes_never_reupload_masks() {
    let Some(mut gpu) = compositor() else { return };
    let (mut doc, _) = tree_document(71);
    let mut mask = ramp_mask(0);
    mask.feather = 3.0;
    doc.layers[2].mask = Some(mask);
    gpu.render(&doc).expect("render");
    assert_eq!(gpu.mask_upload_count(), 1);
    doc.layers[2].opacity = 0.3;
    if let Some(mask) = doc.layers[2].mask.as_mut() {
        mask.density = 0.4;
    }
    gpu.render(&doc).expect("render");
    assert_eq!(gpu.mask_upload_count(), 1, "density re-uploaded the mask");
    let diff = max_diff(&gpu.read_rgba().expect("read"), &composite(&doc));
    assert!(diff <= 1, "density change differs by {diff}/255");
    if let Some(mask) = doc.layers[2].mask.as_mut() {
        mask.feather = 6.0;
    }
    gpu.render(&doc).expect("render");
    assert_eq!(gpu.mask_upload_count(), 2, "a new feather must upload once");
    let diff = max_diff(&gpu.read_rgba().expect("read"), &composite(&doc));
    assert!(diff <= 1, "feather change differs by {diff}/255");
}

#[test]
fn tree_documents_on_half_float_canvases_stay_close() {
    let Some(full) = compositor() else { return };
    let (device, queue) = (full.device().clone(), full.queue().clone());
    let mut half = Compositor::with_canvas_format(device, queue, wgpu::TextureFormat::Rgba16Float);
    for (name, doc) in tree_cases() {
        half.render(&doc).expect("render");
        let gpu = half.read_rgba().expect("read");
        let cpu = composite(&doc);
        // Group canvases are half floats too: one more rounding per merge than a flat
        // stack has, so a 2/255 bound (none of these cases dodges or burns).
        let diff = max_diff(&gpu, &cpu);
        assert!(diff <= 2, "{name}: half-float canvas differs by {diff}/255");
    }
}
