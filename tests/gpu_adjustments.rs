//! Adjustment layers on the GPU against the CPU reference: a gradient map, a threshold
//! (tables looked up by luminosity), invert, posterize, levels, curves and exposure (one
//! entry per channel) and a channel mixer (a matrix) map what lies below them through the
//! same 8-bit table or the same matrix on both, with their opacity, mask and blend mode, at
//! the top level and inside a group (also a pass-through group below full fill), on the
//! full-resolution path, in tiles and in the view.
//! Headless (lavapipe in CI); skipped without an adapter outside CI.

mod common;

use common::gpu::{assert_full_and_tiled_match, compositor, max_diff};
use common::{Rng, patterned_image};
use image::{GrayImage, Luma, Rgba, RgbaImage};
use strata::gpu::{Compositor, ViewTransform};
use strata::model::effects::{Gradient, GradientShape, Interpolation, Stop};
use strata::model::{
    Adjustment, AdjustmentKind, BlendMode, CurvePoints, Document, LevelsRecord, Mask, MixerRow,
    Offset, composite,
};

fn stop<T>(at: f32, value: T) -> Stop<T> {
    Stop {
        at,
        value,
        midpoint: 0.4,
    }
}

fn gradient_map() -> Adjustment {
    Adjustment::gradient_map(Gradient {
        colors: vec![
            stop(0.0, [0.1, 0.0, 0.3]),
            stop(0.5, [1.0, 0.4, 0.0]),
            stop(1.0, [1.0, 1.0, 0.8]),
        ],
        opacities: vec![stop(0.0, 1.0), stop(1.0, 1.0)],
        shape: GradientShape::Linear,
        angle: 90.0,
        scale: 1.0,
        reverse: false,
        interpolation: Interpolation::Perceptual,
        smoothness: 1.0,
    })
}

/// A patterned backdrop, a half-transparent layer over part of it, and a gradient map at
/// 70 % through a mask above both.
fn mapped_document() -> Document {
    document_with(gradient_map())
}

/// [`mapped_document`] with `adjustment` in place of the gradient map.
fn document_with(adjustment: Adjustment) -> Document {
    let mut rng = Rng::new(11);
    let mut doc = Document::new(80, 60);
    doc.push_layer("backdrop", patterned_image(&mut rng, 80, 60));
    let disc = RgbaImage::from_fn(30, 24, |x, y| {
        Rgba([40 + 6 * x as u8, 180, 9 * y as u8, 150])
    });
    doc.push_layer("disc", disc).offset = Offset::new(20, 15);
    let map = doc.push_layer("gradient map", RgbaImage::new(0, 0));
    map.adjustment = Some(adjustment);
    map.opacity = 0.7;
    let mask = GrayImage::from_fn(40, 30, |x, _| Luma([(x * 6) as u8]));
    map.mask = Some(Mask::new(mask, Offset::new(10, 10), 255));
    doc
}

fn assert_paths_match(gpu: &mut Compositor, tiled: &mut Compositor, doc: &Document, name: &str) {
    let reference = assert_full_and_tiled_match(gpu, tiled, doc, name);
    let view = ViewTransform {
        viewport_size: [doc.width as f32, doc.height as f32],
        origin: [0.0, 0.0],
        zoom: 1.0,
        checker_size: 8.0,
    };
    gpu.render_view(doc, &view).expect("render view");
    let diff = max_diff(&gpu.read_view_rgba().expect("read view"), &reference);
    assert!(diff <= 1, "{name}: view path differs by {diff}/255");
}

#[test]
fn gradient_maps_match_the_cpu_reference() {
    let Some(mut gpu) = compositor() else {
        return;
    };
    let (device, queue) = (gpu.device().clone(), gpu.queue().clone());
    let mut tiled = Compositor::new(device, queue).with_max_tile_side(24);

    let doc = mapped_document();
    let mut unmapped = doc.clone();
    unmapped.layers[2].adjustment = None;
    assert_ne!(
        composite(&doc),
        composite(&unmapped),
        "the map changes pixels"
    );
    assert_paths_match(&mut gpu, &mut tiled, &doc, "normal");

    let mut multiply = doc.clone();
    multiply.layers[2].blend = BlendMode::Multiply;
    assert_paths_match(&mut gpu, &mut tiled, &multiply, "multiply");

    // In a group with the disc: the map sees only the group's own canvas.
    let mut grouped = doc.clone();
    let group = grouped.group_node(grouped.layers[1].id).expect("group");
    grouped.layers[2].parent = Some(group);
    grouped.group_mut(group).expect("group").pass_through = false;
    grouped.check_tree().expect("a valid tree");
    assert_paths_match(&mut gpu, &mut tiled, &grouped, "grouped");

    // A pass-through group below full fill is isolated and faded by its fill.
    let mut filled = grouped.clone();
    let g = filled.group_mut(group).expect("group");
    g.pass_through = true;
    g.fill_opacity = 0.4;
    let mut passing = filled.clone();
    passing.group_mut(group).expect("group").fill_opacity = 1.0;
    assert_ne!(composite(&filled), composite(&passing), "the fill matters");
    assert_paths_match(
        &mut gpu,
        &mut tiled,
        &filled,
        "pass-through below full fill",
    );
}

#[test]
fn tone_adjustments_match_the_cpu_reference() {
    let Some(mut gpu) = compositor() else {
        return;
    };
    let (device, queue) = (gpu.device().clone(), gpu.queue().clone());
    let mut tiled = Compositor::new(device, queue).with_max_tile_side(24);

    let id = LevelsRecord::IDENTITY;
    let levels = LevelsRecord {
        input_floor: 20,
        input_ceiling: 230,
        gamma: 1.6,
        ..id
    };
    let blue = LevelsRecord {
        output_floor: 40,
        ..id
    };
    let s_curve = CurvePoints::new(vec![(0, 0), (60, 30), (190, 225), (255, 255)]);
    let red = CurvePoints::new(vec![(0, 40), (255, 200)]);
    let kinds = [
        ("invert", AdjustmentKind::Invert),
        ("posterize", AdjustmentKind::Posterize { levels: 5 }),
        ("threshold", AdjustmentKind::Threshold { level: 120 }),
        ("levels", AdjustmentKind::Levels([levels, id, id, blue])),
        ("curves", AdjustmentKind::Curves([s_curve, red, None, None])),
        ("mixer", mixer(false)),
        ("monochrome mixer", mixer(true)),
        (
            "exposure",
            AdjustmentKind::Exposure {
                exposure: 0.8,
                offset: 0.03,
                gamma: 1.3,
            },
        ),
    ];
    for (name, kind) in kinds {
        let doc = document_with(Adjustment::new(kind));
        let mut bare = doc.clone();
        bare.layers[2].adjustment = None;
        assert_ne!(composite(&doc), composite(&bare), "{name} changes pixels");
        assert_paths_match(&mut gpu, &mut tiled, &doc, name);
        let mut screen = doc.clone();
        screen.layers[2].blend = BlendMode::Screen;
        assert_paths_match(&mut gpu, &mut tiled, &screen, &format!("{name}, screen"));
        // Clipped to the disc: only the disc is mapped.
        let mut clipped = doc.clone();
        clipped.layers[2].clipped = true;
        assert_paths_match(&mut gpu, &mut tiled, &clipped, &format!("{name}, clipped"));
    }
}

/// A channel mixer that swaps red and blue through odd weights, with constants both ways.
fn mixer(monochrome: bool) -> AdjustmentKind {
    let row = |red, green, blue, constant| MixerRow {
        red,
        green,
        blue,
        constant,
    };
    AdjustmentKind::ChannelMixer {
        monochrome,
        rows: [
            row(-20, 37, 90, 10),
            row(15, 70, 15, 0),
            row(110, -33, 0, -7),
        ],
    }
}
