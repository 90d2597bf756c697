//! Keeping the stack honest: a layer with almost nothing in it is merged into the layer
//! beneath it, and a bounded count is met by merging the least significant layers into
//! their neighbours below. Merging two adjacent layers is exact (the upper composited over
//! the lower), so the stack still reproduces the picture.

use crate::decompose::LayerSpec;
use crate::model::composite_cpu::blend_pixel;
use crate::model::pixels::{BBox, Premul, unpremultiply};
use crate::model::{BlendMode, Offset, RgbaImage};

/// A layer needs at least this share of its pixels above half alpha (issue #14: "no layer
/// with fewer than 1% of its pixels above alpha 0.5").
pub const MIN_SOLID_SHARE: f64 = 0.01;
/// And at least this many such pixels: a smaller layer is a speck, not an element.
pub const MIN_SOLID_PIXELS: usize = 12;

/// Pixels above half alpha, and the layer's pixel count.
fn solid_pixels(spec: &LayerSpec) -> (usize, usize) {
    let raw = spec.pixels.as_raw();
    let solid = raw.chunks_exact(4).filter(|p| p[3] > 127).count();
    (solid, raw.len() / 4)
}

/// Whether `spec` carries real content (see [`MIN_SOLID_SHARE`]).
pub fn is_real(spec: &LayerSpec) -> bool {
    let (solid, total) = solid_pixels(spec);
    // A one-pixel sliver is a leftover edge of something else, not an element.
    let sliver = spec.pixels.width() < 2 || spec.pixels.height() < 2;
    !sliver && solid >= MIN_SOLID_PIXELS && solid as f64 >= MIN_SOLID_SHARE * total as f64
}

/// Total alpha of a layer, in pixels: how much of the picture it holds.
fn mass(spec: &LayerSpec) -> f64 {
    spec.pixels
        .as_raw()
        .chunks_exact(4)
        .map(|p| f64::from(p[3]) / 255.0)
        .sum()
}

/// Merges every layer above the bottom one that fails [`is_real`] into the layer beneath.
pub fn drop_ghosts(specs: &mut Vec<LayerSpec>) {
    let mut i = 1;
    while i < specs.len() {
        if is_real(&specs[i]) {
            i += 1;
        } else {
            merge_down(specs, i);
        }
    }
}

/// Merges the least significant layers (smallest alpha mass, never the bottom one) into
/// their neighbours below until at most `limit` remain.
pub fn limit(specs: &mut Vec<LayerSpec>, limit: usize) {
    while specs.len() > limit.max(1) {
        let Some(smallest) =
            (1..specs.len()).min_by(|&a, &b| mass(&specs[a]).total_cmp(&mass(&specs[b])))
        else {
            return;
        };
        merge_down(specs, smallest);
    }
}

/// Composites layer `i` over layer `i − 1` into one layer (the lower one's name, blend and
/// place in the stack; the union of their boxes).
pub fn merge_down(specs: &mut Vec<LayerSpec>, i: usize) {
    if i == 0 || i >= specs.len() {
        return;
    }
    let upper = specs.remove(i);
    let lower = &mut specs[i - 1];
    let bounds = |s: &LayerSpec| {
        BBox::at(
            s.offset.x,
            s.offset.y,
            s.pixels.width() as i32,
            s.pixels.height() as i32,
        )
    };
    let area = bounds(lower).union(bounds(&upper));
    let mut out = RgbaImage::new(area.width() as u32, area.height() as u32);
    for (spec, opacity) in [(&*lower, lower.opacity), (&upper, upper.opacity)] {
        let (dx, dy) = (spec.offset.x - area.x0, spec.offset.y - area.y0);
        for (x, y, p) in spec.pixels.enumerate_pixels() {
            let (ox, oy) = ((x as i32 + dx) as u32, (y as i32 + dy) as u32);
            let below = out.get_pixel(ox, oy).0;
            let acc: Premul = crate::model::pixels::premultiply(below);
            let blended = blend_pixel(acc, p.0, opacity, BlendMode::Normal);
            out.put_pixel(ox, oy, image::Rgba(unpremultiply(blended)));
        }
    }
    lower.pixels = out;
    lower.offset = Offset::new(area.x0, area.y0);
    lower.opacity = 1.0;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decompose::eval::{canvas_layers, document_of};
    use crate::model::composite;

    fn square(name: &str, at: (i32, i32), side: u32, colour: [u8; 4]) -> LayerSpec {
        LayerSpec::new(
            name,
            RgbaImage::from_pixel(side, side, image::Rgba(colour)),
            Offset::new(at.0, at.1),
        )
    }

    #[test]
    fn merging_keeps_the_composite() {
        let mut specs = vec![
            square("Background", (0, 0), 16, [10, 20, 30, 255]),
            square("a", (2, 2), 6, [200, 0, 0, 128]),
            square("b", (5, 5), 8, [0, 200, 0, 255]),
        ];
        let before = composite(&document_of(&specs, (16, 16)));
        limit(&mut specs, 2);
        assert_eq!(specs.len(), 2);
        assert_eq!(composite(&document_of(&specs, (16, 16))), before);
        assert_eq!(canvas_layers(&specs, (16, 16)).len(), 2);
    }

    #[test]
    fn a_faint_layer_is_merged_down() {
        let mut specs = vec![
            square("Background", (0, 0), 16, [10, 20, 30, 255]),
            square("faint", (0, 0), 16, [255, 255, 255, 20]),
        ];
        drop_ghosts(&mut specs);
        assert_eq!(specs.len(), 1);
    }
}
