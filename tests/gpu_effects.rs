//! Layer effects on the GPU against the CPU reference: both draw the same effect planes
//! through the same render plan, on the full-resolution path, in tiles, in the view and
//! while dragging. Headless (lavapipe in CI); skipped without an adapter outside CI.

mod common;

use std::sync::Arc;

use common::gpu::{assert_full_and_tiled_match, compositor, max_diff};
use common::{Rng, patterned_image};
use image::{Rgba, RgbaImage};
use strata::gpu::{Compositor, ViewTransform};
use strata::model::effects::{
    Bevel, BevelStyle, Effect, EffectKind, Gradient, GradientShape, GroupEffects, Interpolation,
    LayerEffects, Pattern, Satin, Stop, StrokePosition, Style,
};
use strata::model::{Artboard, BBox, BlendMode, Document, LayerId, Offset, composite};

fn effect(kind: EffectKind, color: [u8; 3], blend: BlendMode, opacity: f32) -> Effect {
    Effect {
        kind,
        color,
        blend,
        opacity,
    }
}

/// Every kind of effect Strata draws, each with a mode that needs the backdrop.
fn style() -> Style {
    let stop = |at, value| Stop {
        at,
        value,
        midpoint: 0.4,
    };
    let gradient = Gradient {
        colors: vec![stop(0.0, [1.0, 0.5, 0.0]), stop(1.0, [0.0, 0.3, 1.0])],
        opacities: vec![
            Stop {
                at: 0.0,
                value: 1.0,
                midpoint: 0.5,
            },
            Stop {
                at: 1.0,
                value: 0.5,
                midpoint: 0.5,
            },
        ],
        shape: GradientShape::Linear,
        angle: 30.0,
        scale: 1.0,
        reverse: false,
        interpolation: Interpolation::Perceptual,
        smoothness: 1.0,
    };
    let shadow = EffectKind::DropShadow {
        angle: 120.0,
        distance: 4.0,
        spread: 0.2,
        size: 5.0,
        knockout: true,
    };
    let inner = EffectKind::InnerShadow {
        angle: 60.0,
        distance: 3.0,
        choke: 0.0,
        size: 3.0,
    };
    let stroke = EffectKind::Stroke {
        position: StrokePosition::Outside,
        size: 2.0,
    };
    // A scaled tile with a transparent pixel, linked to the layer, from off its corner.
    let pattern = Pattern {
        tile: Arc::new(RgbaImage::from_fn(5, 4, |x, y| {
            Rgba([
                40 * x as u8,
                60 * y as u8,
                90,
                if (x, y) == (2, 1) { 0 } else { 255 },
            ])
        })),
        scale: 0.8,
        linked: true,
        origin: (1.5, -2.0),
    };
    let satin = EffectKind::Satin(Satin {
        angle: 19.0,
        distance: 5.0,
        size: 6.0,
        invert: true,
        contour: vec![(0.0, 0.0), (0.5, 0.65), (1.0, 1.0)],
    });
    // An emboss reaches both sides of the edge; softened, lit from the upper left.
    let bevel = |highlight| {
        EffectKind::Bevel(Bevel {
            style: BevelStyle::Emboss,
            depth: 1.5,
            up: true,
            size: 4.0,
            soften: 1.0,
            angle: 120.0,
            altitude: 30.0,
            highlight,
        })
    };
    Style {
        effects: vec![
            effect(shadow, [20, 10, 60], BlendMode::Multiply, 0.8),
            effect(
                EffectKind::OuterGlow {
                    spread: 0.0,
                    size: 6.0,
                },
                [250, 240, 120],
                BlendMode::Screen,
                0.7,
            ),
            effect(stroke, [0, 90, 40], BlendMode::Normal, 1.0),
            effect(inner, [0, 0, 0], BlendMode::Multiply, 0.6),
            effect(
                EffectKind::ColorOverlay,
                [200, 40, 90],
                BlendMode::Overlay,
                0.5,
            ),
            effect(
                EffectKind::GradientOverlay(Arc::new(gradient)),
                [0; 3],
                BlendMode::Normal,
                0.4,
            ),
            effect(satin, [204, 92, 92], BlendMode::Multiply, 0.5),
            effect(
                EffectKind::PatternOverlay(Arc::new(pattern)),
                [0; 3],
                BlendMode::Multiply,
                0.5,
            ),
            effect(bevel(false), [0, 0, 0], BlendMode::Multiply, 0.75),
            effect(bevel(true), [255, 255, 255], BlendMode::Screen, 0.75),
        ],
    }
}

/// A backdrop and two styled layers with soft edges: one at full opacity, one faded
/// (drawn through a pass-through canvas) with reduced fill.
fn styled_document() -> Document {
    let mut rng = Rng::new(7);
    let mut doc = Document::new(90, 70);
    doc.push_layer("backdrop", patterned_image(&mut rng, 90, 70));
    for (i, (x, y, opacity)) in [(12, 10, 1.0), (45, 30, 0.6)].into_iter().enumerate() {
        let disc = RgbaImage::from_fn(30, 26, |px, py| {
            let (dx, dy) = (px as f32 - 14.5, py as f32 - 12.5);
            let edge = (11.0 - (dx * dx + dy * dy).sqrt()).clamp(0.0, 1.0);
            Rgba([
                60 + 5 * px as u8,
                120,
                200 - 4 * py as u8,
                (edge * 255.0) as u8,
            ])
        });
        let layer = doc.push_layer(format!("styled {i}"), disc);
        layer.offset = Offset::new(x, y);
        layer.opacity = opacity;
        layer.fill_opacity = if i == 1 { 0.5 } else { 1.0 };
        layer.effects = Some(LayerEffects::new(style()));
    }
    assert_eq!(doc.refresh_effects(), 2);
    doc
}

/// [`styled_document`] with its two styled layers in one group (neighbours, so the second
/// joins the group by its parent alone), and that group.
fn grouped_styled_document() -> (Document, LayerId) {
    let mut doc = styled_document();
    let group = doc.group_node(doc.layers[1].id).expect("group");
    doc.layers[2].parent = Some(group);
    doc.check_tree().expect("a valid tree");
    (doc, group)
}

/// The full-resolution compositor and one that renders in 24-pixel tiles, on the same
/// device; `None` without an adapter (outside CI).
fn full_and_tiled() -> Option<(Compositor, Compositor)> {
    let gpu = compositor()?;
    let (device, queue) = (gpu.device().clone(), gpu.queue().clone());
    let tiled = Compositor::new(device, queue).with_max_tile_side(24);
    Some((gpu, tiled))
}

#[test]
fn effect_layers_match_the_cpu_reference() {
    let Some((mut gpu, mut tiled)) = full_and_tiled() else {
        return;
    };
    let mut doc = styled_document();
    let mut bare = doc.clone();
    bare.layers.iter_mut().for_each(|l| l.effects = None);
    assert_ne!(
        composite(&doc),
        composite(&bare),
        "the effects draw something"
    );

    assert_full_and_tiled_match(&mut gpu, &mut tiled, &doc, "styled layers");

    let view = ViewTransform {
        viewport_size: [doc.width as f32, doc.height as f32],
        origin: [0.0, 0.0],
        zoom: 1.0,
        checker_size: 8.0,
    };
    gpu.render_view(&doc, &view).expect("render view");
    let diff = max_diff(&gpu.read_view_rgba().expect("read view"), &composite(&doc));
    assert!(diff <= 1, "view path differs by {diff}/255");

    // A drag moves the planes with the layer; every step matches the reference.
    let dragged = doc.layers[1].id;
    for step in 0..3 {
        doc.layers[1].translate(5, 2);
        gpu.render_dragging(&doc, dragged).expect("drag render");
        let diff = max_diff(&gpu.read_rgba().expect("read"), &composite(&doc));
        assert!(diff <= 1, "drag step {step} differs by {diff}/255");
    }
}

/// An artboard (background layer and clip mask made in the model) draws the same on the GPU:
/// the styled layers grouped into an artboard smaller than the canvas.
#[test]
fn artboards_match_the_cpu_reference() {
    let Some((mut gpu, mut tiled)) = full_and_tiled() else {
        return;
    };
    let (mut doc, group) = grouped_styled_document();
    let rect = BBox::new(8, 6, 70, 50);
    let board = Artboard::new(group, rect, Some([240, 230, 10]), (doc.width, doc.height));
    doc.group_mut(group).expect("group").artboard = Some(board);
    for (name, board_doc) in [
        ("coloured", doc.clone()),
        ("transparent", {
            let mut d = doc.clone();
            let clear = Artboard::new(group, rect, None, (d.width, d.height));
            d.group_mut(group).expect("group").artboard = Some(clear);
            d
        }),
    ] {
        assert_full_and_tiled_match(&mut gpu, &mut tiled, &board_doc, name);
    }
}

/// A group's shadow and glow (planes made in the model from the members' composite) draw
/// the same on the GPU, with the group faded and then as a clipping base.
#[test]
fn group_effects_match_the_cpu_reference() {
    let Some((mut gpu, mut tiled)) = full_and_tiled() else {
        return;
    };
    let (mut doc, group) = grouped_styled_document();
    let below: Vec<Effect> = style()
        .effects
        .into_iter()
        .filter(Effect::is_below)
        .collect();
    let effects = GroupEffects::new(Style { effects: below }).expect("below effects");
    doc.group_mut(group).expect("group").effects = Some(effects);
    let unmade = doc.clone();
    assert_eq!(doc.refresh_effects(), 1, "the group's planes are made");
    assert_ne!(composite(&doc), composite(&unmade), "the shadow draws");
    let faded = {
        let mut d = doc.clone();
        d.group_mut(group).expect("group").opacity = 0.5;
        d
    };
    let clipping = {
        let mut d = doc.clone();
        let top = d.push_layer(
            "clipped",
            RgbaImage::from_pixel(90, 70, Rgba([9, 200, 30, 255])),
        );
        top.clipped = true;
        d
    };
    for (name, d) in [("full", doc), ("faded", faded), ("clipping base", clipping)] {
        assert_full_and_tiled_match(&mut gpu, &mut tiled, &d, name);
    }
}
