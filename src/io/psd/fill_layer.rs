//! Fill layers that store no pixels of their own. Photoshop usually stores a fill layer's
//! rendered pixels beside its settings, and Strata shows those; some writers (and
//! Photoshop for small documents) store none, leaving an empty layer whose colour lives
//! only in its block. Such a layer without a vector mask is drawn from the block, over
//! the whole canvas (a painted mask shapes it), for two kinds:
//!
//! - `SoCo` (solid colour): version (`u32`, 16), then a descriptor whose `Clr ` is the
//!   colour.
//! - `GdFl` (gradient): version 16, then a descriptor with the gradient overlay's keys
//!   (`Grad`, `Type`, `Angl`, `Scl `, `Rvrs`; see [`super::gradient`]), laid over the
//!   canvas.
//!
//! Pattern fills, and fill layers that do store pixels, stay shown by their pixels and
//! reported as not drawn.

use super::bytes::Cursor;
use super::descriptor::{self, Descriptor};
use super::records::Record;
use crate::model::table_index;
use crate::model::{KeptBlock, RgbaImage};

/// The descriptor version fill blocks carry.
const DESCRIPTOR_VERSION: u32 = 16;

/// Whether the record is an empty layer whose fill block Strata draws: that block is then
/// taken off the undrawn list (the layer's pixels are made by [`render`]).
pub fn mark_drawn(record: &mut Record<'_>) {
    // A shape (a fill with a vector mask) whose writer stored no pixels is left as it
    // was: ag-psd writes such layers with a composite that does not show them.
    let shape = record
        .kept
        .iter()
        .any(|b| &b.key == b"vmsk" || &b.key == b"vsms");
    if (record.width > 0 && record.height > 0) || shape {
        return;
    }
    if let Some(block) = record
        .kept
        .iter_mut()
        .find(|b| fill(&b.key, &b.data).is_some())
    {
        block.undrawn = None;
    }
}

/// The pixels of an empty fill layer whose block [`mark_drawn`] took off the undrawn
/// list, over a `width`×`height` canvas; `None` for any other layer.
pub fn render(kept: &[KeptBlock], width: u32, height: u32) -> Option<RgbaImage> {
    kept.iter()
        .filter(|b| b.undrawn.is_none())
        .find_map(|b| fill(&b.key, &b.data))
        .map(|fill| fill.paint(width, height))
}

/// Whether [`render`] makes pixels for a layer with these kept blocks.
pub fn renders(kept: &[KeptBlock]) -> bool {
    kept.iter()
        .any(|b| b.undrawn.is_none() && fill(&b.key, &b.data).is_some())
}

/// Whether the record is an empty layer that [`render`] paints over the whole canvas: its
/// size, pixels and offset are then the canvas's.
pub fn fills_canvas(record: &Record<'_>) -> bool {
    (record.width == 0 || record.height == 0) && renders(&record.kept)
}

/// What a fill block paints.
enum Fill {
    Solid([u8; 3]),
    Gradient(crate::model::effects::Gradient),
}

fn fill(key: &[u8; 4], data: &[u8]) -> Option<Fill> {
    match key {
        b"SoCo" => super::effects::color(read_descriptor(data)?.object("Clr ")?).map(Fill::Solid),
        b"GdFl" => super::gradient::read_fill(&read_descriptor(data)?).map(Fill::Gradient),
        _ => None,
    }
}

fn read_descriptor(data: &[u8]) -> Option<Descriptor> {
    let mut c = Cursor::new(data);
    if c.u32("fill version").ok()? != DESCRIPTOR_VERSION {
        return None;
    }
    descriptor::read(&mut c).ok()
}

impl Fill {
    fn paint(&self, width: u32, height: u32) -> RgbaImage {
        match self {
            Self::Solid([r, g, b]) => {
                RgbaImage::from_pixel(width, height, image::Rgba([*r, *g, *b, 255]))
            }
            Self::Gradient(gradient) => {
                let layout = gradient.over((0.0, 0.0, width as f32, height as f32));
                let table = gradient.table();
                let byte = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
                RgbaImage::from_fn(width, height, |x, y| {
                    let t = layout.position(x as f32 + 0.5, y as f32 + 0.5);
                    let (rgb, opacity) = table[table_index(t, table.len())];
                    image::Rgba([byte(rgb[0]), byte(rgb[1]), byte(rgb[2]), byte(opacity)])
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::super::descriptor::tests::{adjustment_block as block, *};
    use super::*;

    /// A `SoCo` block: version 16, a `null` descriptor holding an RGB `Clr `.
    fn solid(rgb: [f64; 3]) -> Vec<u8> {
        let mut out = DESCRIPTOR_VERSION.to_be_bytes().to_vec();
        put_header(&mut out, "null", 1);
        put_object(&mut out, "Clr ", "RGBC", 3);
        put_double(&mut out, "Rd  ", rgb[0]);
        put_double(&mut out, "Grn ", rgb[1]);
        put_double(&mut out, "Bl  ", rgb[2]);
        out
    }

    #[test]
    fn an_unmarked_or_unreadable_fill_paints_nothing() {
        // Before marking (a layer with stored pixels keeps them), nothing is painted.
        let kept = vec![block(b"SoCo", solid([250.0, 20.0, 5.0]))];
        assert!(render(&kept, 4, 2).is_none());
        assert!(!renders(&kept));
        // A broken block or another version is never drawn.
        assert!(fill(b"SoCo", &[0, 0, 0, 16, 1]).is_none());
        let mut other = solid([1.0, 2.0, 3.0]);
        other[3] = 15;
        assert!(fill(b"SoCo", &other).is_none());
        assert!(fill(b"PtFl", &solid([1.0, 2.0, 3.0])).is_none());
    }

    #[test]
    fn a_marked_solid_fill_covers_the_canvas() {
        let mut kept = vec![block(b"SoCo", solid([250.0, 20.0, 5.0]))];
        kept[0].undrawn = None;
        assert!(renders(&kept));
        let image = render(&kept, 4, 2).unwrap();
        assert_eq!(image.dimensions(), (4, 2));
        assert!(image.pixels().all(|p| p.0 == [250, 20, 5, 255]));
    }
}
