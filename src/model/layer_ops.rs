//! Stack edits of the layer panel: new, duplicate, merge down, and the questions the canvas
//! asks about a point (which layer is there, what colour is there).
//!
//! Each edit is a plain document change; the editor wraps it in a history step.

use std::sync::Arc;

use super::composite_cpu::{composite_into, composite_pixel};
use super::{BlendMode, Document, Kept, Layer, LayerId, Mask, Offset, RgbaImage};

/// Alpha at or above which a pixel counts as "opaque" for click-to-select. Photoshop's
/// auto-select ignores nearly invisible fringes (soft matte edges, faint shadows), so do we.
pub const SELECT_ALPHA_THRESHOLD: u8 = 26;

/// Why two layers could not be merged.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MergeError {
    /// No layer has this id.
    #[error("the layer no longer exists")]
    NoSuchLayer,
    /// The layer is the bottom of the stack or of its group: there is nothing to merge into.
    #[error("\"{0}\" is the bottom layer of its stack; there is no layer below to merge into")]
    NothingBelow(String),
    /// One of the two layers is locked.
    #[error("\"{0}\" is locked")]
    Locked(String),
    /// The merged layer would be too large to allocate.
    #[error("the merged layer would be {0} × {1} px, too large")]
    TooLarge(u64, u64),
}

/// Largest side a merged layer may have (the PSD limit; larger layers cannot be saved).
const MAX_MERGED_SIDE: u64 = 30_000;

impl Document {
    /// Inserts a new, fully transparent canvas-sized layer just above `above`, in its group
    /// (on top inside it when `above` is a group; on top of the stack when `above` is `None`
    /// or gone) and returns its id. Named "Layer N" with the first N not in use, like
    /// Photoshop.
    pub fn add_empty_layer(&mut self, above: Option<LayerId>) -> LayerId {
        let name = self.unused_layer_name();
        let id = self.allocate_id();
        let mut layer = Layer::new(id, name, RgbaImage::new(self.width, self.height));
        let (index, parent) = match above {
            Some(a) if self.group(a).is_some() => {
                let end = self.node_range(a).map_or(self.layers.len(), |r| r.end);
                (end, Some(a))
            }
            Some(a) => match self.index_of(a) {
                // Beside it, in its group, so the group's members stay together.
                Some(i) => (i + 1, self.layers[i].parent),
                None => (self.layers.len(), None),
            },
            None => (self.layers.len(), None),
        };
        layer.parent = parent;
        self.insert_layer(index, layer);
        id
    }

    /// Copies a layer (sharing its pixel buffer) just above itself, named "<name> copy".
    /// Returns the copy's id, or `None` if no layer has `id`.
    pub fn duplicate_layer(&mut self, id: LayerId) -> Option<LayerId> {
        let index = self.index_of(id)?;
        let mut copy = self.layers[index].clone();
        copy.id = self.allocate_id();
        copy.name = format!("{} copy", copy.name);
        copy.locked = false;
        copy.kept = super::kept::for_copy(&copy.kept);
        let copy_id = copy.id;
        self.insert_layer(index + 1, copy);
        Some(copy_id)
    }

    /// Merges a layer into the one below it, as Photoshop's Merge Down does: the result keeps
    /// the lower layer's id, name, visibility and blend mode; its pixels are the two layers
    /// composited (each with its own opacity and blend mode) over transparency, covering the
    /// union of both layers' bounds, so the picture looks the same wherever the lower layer
    /// blends normally. The lower layer's opacity and fill are baked into the pixels (result
    /// opacity and fill 100 %). Returns the merged layer's id.
    pub fn merge_down(&mut self, id: LayerId) -> Result<LayerId, MergeError> {
        let index = self.index_of(id).ok_or(MergeError::NoSuchLayer)?;
        let upper = &self.layers[index];
        if index == 0 {
            return Err(MergeError::NothingBelow(upper.name.clone()));
        }
        let lower = &self.layers[index - 1];
        if lower.parent != upper.parent {
            return Err(MergeError::NothingBelow(upper.name.clone()));
        }
        for layer in [upper, lower] {
            if layer.locked {
                return Err(MergeError::Locked(layer.name.clone()));
            }
        }
        let union = upper.bounds().union(lower.bounds());
        let (left, top) = (union.x0, union.y0);
        let (width, height) = (union.width() as u64, union.height() as u64);
        if width > MAX_MERGED_SIDE || height > MAX_MERGED_SIDE {
            return Err(MergeError::TooLarge(width, height));
        }
        // Composite both into a canvas the size of their union, each shifted so the union's
        // corner is the origin. The lower layer blends normally here: its own blend mode
        // applies to the merged result against whatever lies below.
        // Masks move with them and are baked in; the upper layer clips to the lower only
        // when the lower is its base (two layers clipped to one base merge as plain layers).
        let shift = |layer: &Layer, blend: BlendMode| {
            let mut layer = layer.clone();
            layer.visible = true;
            layer.blend = blend;
            let to_union = |o: Offset| Offset {
                x: (i64::from(o.x) - left) as i32,
                y: (i64::from(o.y) - top) as i32,
            };
            // Through set_offset, so that its effect planes move along and are merged too.
            layer.set_offset(to_union(layer.offset));
            if let Some(mask) = layer.mask.as_mut() {
                mask.offset = to_union(mask.offset);
            }
            layer
        };
        let stack = [
            Layer {
                clipped: false,
                ..shift(lower, BlendMode::Normal)
            },
            Layer {
                visible: upper.visible,
                clipped: upper.clipped && !lower.clipped,
                ..shift(upper, upper.blend)
            },
        ];
        let mut pixels = RgbaImage::new(width as u32, height as u32);
        composite_into(&stack, &mut pixels);
        let lower_id = lower.id;
        self.layers.remove(index);
        let merged = &mut self.layers[index - 1];
        merged.pixels = Arc::new(pixels);
        merged.offset = Offset {
            x: left as i32,
            y: top as i32,
        };
        merged.opacity = 1.0;
        merged.fill_opacity = 1.0;
        merged.mask = None;
        // Photoshop's merge rasterises: text, smart object, effects and the rest no longer
        // describe the merged pixels, so none of the lower layer's kept blocks stay.
        merged.kept = Kept::default();
        merged.effects = None;
        Ok(lower_id)
    }

    /// The topmost visible layer whose pixel at canvas point (`x`, `y`) is at least
    /// [`SELECT_ALPHA_THRESHOLD`] opaque (after layer opacity), if any.
    pub fn layer_at(&self, x: i64, y: i64) -> Option<LayerId> {
        self.layers
            .iter()
            .rev()
            .filter(|l| self.is_shown(l.id))
            .find(|l| {
                let mask = l
                    .mask
                    .as_ref()
                    .filter(|m| m.enabled)
                    .and_then(Mask::coverage)
                    .map_or(1.0, |c| c.at(x, y));
                pixel_of(l, x, y).is_some_and(|p| {
                    f32::from(p[3]) * l.opacity * l.fill_opacity * mask
                        >= f32::from(SELECT_ALPHA_THRESHOLD)
                })
            })
            .map(|l| l.id)
    }

    /// The composited colour (straight alpha) at canvas point (`x`, `y`), or `None` outside
    /// the canvas. Computes just that pixel, so the status bar can follow the cursor.
    pub fn color_at(&self, x: i64, y: i64) -> Option<[u8; 4]> {
        if x < 0 || y < 0 || x >= i64::from(self.width) || y >= i64::from(self.height) {
            return None;
        }
        Some(composite_pixel(self, x, y))
    }

    /// "Layer N" with the smallest N ≥ 1 that no layer is called.
    fn unused_layer_name(&self) -> String {
        (1..)
            .map(|n| format!("Layer {n}"))
            .find(|name| self.layers.iter().all(|l| &l.name != name))
            .unwrap_or_else(|| "Layer".to_string())
    }
}

/// The layer's own pixel at canvas point (`x`, `y`), if the layer covers it.
fn pixel_of(layer: &Layer, x: i64, y: i64) -> Option<[u8; 4]> {
    let bounds = layer.bounds();
    if !bounds.contains(x, y) {
        return None;
    }
    Some(
        layer
            .pixels
            .get_pixel((x - bounds.x0) as u32, (y - bounds.y0) as u32)
            .0,
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

    use super::*;
    use crate::model::{BBox, composite};

    fn solid(w: u32, h: u32, rgba: [u8; 4]) -> RgbaImage {
        RgbaImage::from_pixel(w, h, image::Rgba(rgba))
    }

    fn two_layers() -> (Document, LayerId, LayerId) {
        let mut doc = Document::new(8, 6);
        let low = doc.push_layer("low", solid(8, 6, [200, 40, 40, 255])).id;
        let up = doc.push_layer("up", solid(3, 2, [10, 200, 90, 180]));
        up.offset = Offset { x: 6, y: -1 };
        up.opacity = 0.6;
        up.blend = BlendMode::Multiply;
        let up = up.id;
        (doc, low, up)
    }

    #[test]
    fn merge_down_keeps_the_picture_and_the_lower_layer() {
        let (mut doc, low, up) = two_layers();
        let before = composite(&doc);
        let merged = doc.merge_down(up).unwrap();
        assert_eq!(merged, low);
        assert_eq!(doc.layers.len(), 1);
        let layer = &doc.layers[0];
        assert_eq!(layer.name, "low");
        // The union of (0,0)-(8,6) and (6,-1)-(9,1).
        assert_eq!(layer.bounds(), BBox::new(0, -1, 9, 6));
        assert_eq!(composite(&doc), before);
    }

    #[test]
    fn merge_down_bakes_lower_opacity_and_skips_a_hidden_upper_layer() {
        let (mut doc, low, up) = two_layers();
        doc.layer_mut(low).unwrap().opacity = 0.5;
        doc.layer_mut(up).unwrap().visible = false;
        let before = composite(&doc);
        doc.merge_down(up).unwrap();
        assert_eq!(doc.layers[0].opacity, 1.0);
        let after = composite(&doc);
        for (a, b) in before.pixels().zip(after.pixels()) {
            for c in 0..4 {
                assert!(a.0[c].abs_diff(b.0[c]) <= 1, "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn merge_down_refuses_bottom_and_locked_layers() {
        let (mut doc, low, up) = two_layers();
        assert!(matches!(
            doc.merge_down(low),
            Err(MergeError::NothingBelow(_))
        ));
        doc.layer_mut(low).unwrap().locked = true;
        assert_eq!(doc.merge_down(up), Err(MergeError::Locked("low".into())));
        assert_eq!(doc.layers.len(), 2);
        assert_eq!(doc.merge_down(LayerId(999)), Err(MergeError::NoSuchLayer));
    }

    #[test]
    fn duplicate_shares_pixels_and_sits_above() {
        let (mut doc, low, up) = two_layers();
        let copy = doc.duplicate_layer(low).unwrap();
        assert_eq!(doc.index_of(copy), Some(1));
        assert_eq!(doc.index_of(up), Some(2));
        let (a, b) = (doc.layer(low).unwrap(), doc.layer(copy).unwrap());
        assert!(Arc::ptr_eq(&a.pixels, &b.pixels));
        assert_eq!(b.name, "low copy");
        assert_ne!(a.id, b.id);
        assert!(doc.duplicate_layer(LayerId(999)).is_none());
    }

    #[test]
    fn new_layers_are_transparent_canvas_sized_and_uniquely_named() {
        let (mut doc, low, _) = two_layers();
        let before = composite(&doc);
        let first = doc.add_empty_layer(Some(low));
        let second = doc.add_empty_layer(None);
        assert_eq!(doc.index_of(first), Some(1));
        assert_eq!(doc.index_of(second), Some(3));
        assert_eq!(doc.layer(first).unwrap().name, "Layer 1");
        assert_eq!(doc.layer(second).unwrap().name, "Layer 2");
        assert_eq!(doc.layer(first).unwrap().bounds(), BBox::new(0, 0, 8, 6));
        assert_eq!(composite(&doc), before);
    }

    #[test]
    fn a_new_layer_joins_the_group_of_the_layer_below_it_or_the_chosen_group() {
        let (mut doc, low, up) = two_layers();
        let group = doc.group_node(low).unwrap();
        let beside = doc.add_empty_layer(Some(low));
        assert_eq!(doc.parent_of(beside), Some(group));
        assert_eq!(doc.index_of(beside), Some(1));
        let inside = doc.add_empty_layer(Some(group));
        assert_eq!(doc.parent_of(inside), Some(group));
        assert_eq!(doc.index_of(inside), Some(2), "on top inside the group");
        assert_eq!(doc.index_of(up), Some(3));
        doc.check_tree().unwrap();
    }

    #[test]
    fn layer_at_finds_the_topmost_opaque_visible_layer() {
        let (mut doc, low, up) = two_layers();
        assert_eq!(doc.layer_at(6, 0), Some(up));
        assert_eq!(doc.layer_at(2, 2), Some(low));
        assert_eq!(doc.layer_at(20, 2), None);
        doc.layer_mut(up).unwrap().visible = false;
        assert_eq!(doc.layer_at(6, 0), Some(low));
        // A nearly transparent layer on top does not catch the click.
        let faint = doc.push_layer("faint", solid(8, 6, [0, 0, 0, 10])).id;
        assert_eq!(doc.layer_at(2, 2), Some(low));
        doc.layer_mut(faint).unwrap().pixels = Arc::new(solid(8, 6, [0, 0, 0, 255]));
        assert_eq!(doc.layer_at(2, 2), Some(faint));
    }

    #[test]
    fn color_at_matches_the_full_composite() {
        let (doc, _, _) = two_layers();
        let flat = composite(&doc);
        for (x, y, p) in flat.enumerate_pixels() {
            assert_eq!(doc.color_at(x.into(), y.into()), Some(p.0), "({x}, {y})");
        }
        assert_eq!(doc.color_at(-1, 0), None);
        assert_eq!(doc.color_at(0, 6), None);
    }
}
