//! Rasterising a style into planes, after Photoshop's documented behaviour: a shadow is the
//! shape spread by `spread` % of its size, blurred by the rest and moved `distance` pixels
//! away from the light; a glow is the same without the move; the inner effects do the same
//! to the shape's outside and keep what falls inside the shape; a stroke is a band of
//! `size` pixels outside, inside or centred on the edge.

use std::sync::Arc;

use rayon::prelude::*;

use super::raster::Field;
use super::{Effect, EffectKind, Planes, StrokePosition, Style, TABLE_SIZE, plane_id};
use crate::model::pixels::{to_u8, unit};
use crate::model::{Layer, Offset, RgbaImage};

/// Rasterises every effect of `style` for `layer` as it is now.
pub(super) fn rasterise(style: &Style, layer: &Layer) -> Planes {
    let mut planes = Planes {
        owner: Some(layer.id),
        pixels: Some(Arc::clone(&layer.pixels)),
        offset: layer.offset,
        mask: layer.mask.clone(),
        ..Planes::default()
    };
    let margin = style.effects.iter().map(Effect::reach).max().unwrap_or(0);
    let shape = shape_of(layer, margin);
    let origin = Offset::new(
        layer.offset.x.saturating_sub(margin as i32),
        layer.offset.y.saturating_sub(margin as i32),
    );
    for (index, effect) in style.effects.iter().enumerate() {
        let alpha = effect_alpha(effect, &shape, layer.fill_opacity);
        let Some(plane) = plane(layer, index, effect, &alpha, origin) else {
            continue;
        };
        if effect.is_below() {
            planes.below.push(plane);
        } else if matches!(
            effect.kind,
            EffectKind::Stroke {
                position: StrokePosition::Outside,
                ..
            }
        ) {
            planes.under.push(plane);
        } else {
            planes.over.push(plane);
        }
    }
    planes
}

/// The layer's alpha with its mask applied, in a field `margin` pixels larger on every
/// side than the layer.
fn shape_of(layer: &Layer, margin: u32) -> Field {
    let m = margin as usize;
    let (w, h) = (layer.width() as usize, layer.height() as usize);
    let mut field = Field::filled(w + 2 * m, h + 2 * m, 0.0);
    let coverage = layer.mask.as_ref().and_then(|mask| mask.coverage());
    for (x, y, p) in layer.pixels.enumerate_pixels() {
        let mut a = unit(p.0[3]);
        if let Some(c) = &coverage {
            a *= c.at(
                i64::from(layer.offset.x) + i64::from(x),
                i64::from(layer.offset.y) + i64::from(y),
            );
        }
        field.values[(y as usize + m) * field.width + x as usize + m] = a;
    }
    field
}

/// The offset of a shadow `distance` pixels away from a light at `angle` degrees.
fn away_from_light(angle: f32, distance: f32) -> (i64, i64) {
    let radians = angle.to_radians();
    (
        (-distance * radians.cos()).round() as i64,
        (distance * radians.sin()).round() as i64,
    )
}

/// The alpha of one effect over the shape's field.
fn effect_alpha(effect: &Effect, shape: &Field, fill: f32) -> Field {
    match effect.kind {
        EffectKind::DropShadow {
            angle,
            distance,
            spread,
            size,
            knockout,
        } => {
            let spread_px = size * spread;
            let (dx, dy) = away_from_light(angle, distance);
            let shadow = shape
                .spread(spread_px)
                .blurred(size - spread_px, 0.0)
                .shifted(dx, dy, 0.0);
            if knockout && fill < 1.0 {
                // Only visible where the layer's own pixels are not opaque.
                shadow.zip(shape, |s, a| s * (1.0 - a))
            } else {
                shadow
            }
        }
        EffectKind::OuterGlow { spread, size } => {
            let spread_px = size * spread;
            shape.spread(spread_px).blurred(size - spread_px, 0.0)
        }
        EffectKind::InnerShadow {
            angle,
            distance,
            choke,
            size,
        } => {
            let choke_px = size * choke;
            let (dx, dy) = away_from_light(angle, distance);
            let outside = shape
                .inverted()
                .shifted(dx, dy, 1.0)
                .spread(choke_px)
                .blurred(size - choke_px, 1.0);
            outside.zip(shape, |o, a| o * a)
        }
        EffectKind::InnerGlow {
            choke,
            size,
            from_center,
        } => {
            let choke_px = size * choke;
            let edge = shape
                .inverted()
                .spread(choke_px)
                .blurred(size - choke_px, 1.0);
            edge.zip(
                shape,
                |e, a| if from_center { (1.0 - e) * a } else { e * a },
            )
        }
        EffectKind::Satin(ref satin) => satin.alpha(shape),
        EffectKind::Bevel(ref bevel) => bevel.alpha(shape),
        EffectKind::ColorOverlay
        | EffectKind::GradientOverlay(_)
        | EffectKind::PatternOverlay(_) => shape.clone(),
        EffectKind::Stroke { position, size } => match position {
            StrokePosition::Outside => shape.spread(size),
            StrokePosition::Inside => shape.zip(&shape.choked(size), |a, inner| a - inner),
            StrokePosition::Center => {
                let half = size / 2.0;
                shape
                    .spread(half)
                    .zip(&shape.choked(half), |outer, inner| outer - inner)
            }
        },
    }
}

/// The plane of `effect`: its colour with `alpha`, cropped to where alpha is not zero and
/// placed on the canvas. `None` when the effect covers nothing.
fn plane(
    layer: &Layer,
    index: usize,
    effect: &Effect,
    alpha: &Field,
    origin: Offset,
) -> Option<Layer> {
    let (w, h) = (alpha.width, alpha.height);
    let covered = |v: &f32| to_u8(*v) > 0;
    let rows: Vec<usize> = (0..h)
        .filter(|&y| alpha.values[y * w..(y + 1) * w].iter().any(covered))
        .collect();
    let (&y0, &y1) = (rows.first()?, rows.last()?);
    let (mut x0, mut x1) = (w, 0);
    for y in y0..=y1 {
        let row = &alpha.values[y * w..(y + 1) * w];
        if let Some(first) = row.iter().position(covered) {
            x0 = x0.min(first);
            x1 = x1.max(row.iter().rposition(covered).unwrap_or(first));
        }
    }
    let bounds = layer.bounds();
    let layer_box = (
        bounds.x0 as f32,
        bounds.y0 as f32,
        bounds.x1 as f32,
        bounds.y1 as f32,
    );
    let corner = (layer_box.0, layer_box.1);
    let gradient = match &effect.kind {
        EffectKind::GradientOverlay(gradient) => Some((gradient.over(layer_box), gradient.table())),
        _ => None,
    };
    // The colour and opacity an overlay paints at a canvas point (a pixel's centre).
    let paint = |cx: f32, cy: f32| -> ([u8; 3], f32) {
        match (&effect.kind, &gradient) {
            (_, Some((layout, table))) => {
                let t = layout.position(cx, cy);
                let index = (t * (TABLE_SIZE - 1) as f32).round() as usize;
                let (rgb, opacity) = table.get(index).copied().unwrap_or(([0.0; 3], 0.0));
                (rgb.map(to_u8), opacity)
            }
            (EffectKind::PatternOverlay(pattern), None) => {
                let (rgb, opacity) = pattern.sample(cx, cy, corner);
                (rgb.map(to_u8), opacity)
            }
            _ => (effect.color, 1.0),
        }
    };
    let (pw, ph) = (x1 - x0 + 1, y1 - y0 + 1);
    let mut raw = vec![0u8; pw * ph * 4];
    // Rows are independent; a full-canvas overlay is millions of pixels.
    raw.par_chunks_mut(pw * 4).enumerate().for_each(|(y, row)| {
        let fy = y + y0;
        for (x, px) in row.chunks_exact_mut(4).enumerate() {
            let fx = x + x0;
            let a = alpha.values[fy * w + fx].clamp(0.0, 1.0);
            let cx = origin.x as f32 + fx as f32 + 0.5;
            let cy = origin.y as f32 + fy as f32 + 0.5;
            let ([r, g, b], opacity) = paint(cx, cy);
            px.copy_from_slice(&[r, g, b, to_u8(a * opacity)]);
        }
    });
    let pixels = RgbaImage::from_raw(pw as u32, ph as u32, raw)?;
    let mut plane = Layer::new(plane_id(layer.id, index), "effect", pixels);
    plane.blend = effect.blend;
    plane.opacity = effect.opacity;
    plane.offset = Offset::new(
        origin.x.saturating_add(x0 as i32),
        origin.y.saturating_add(y0 as i32),
    );
    Some(plane)
}
