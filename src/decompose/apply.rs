//! Putting decomposed layers into a document.

use super::LayerSpec;
use crate::model::{Document, Group, Layer, LayerId, Offset};

/// Replaces every layer and group of `doc` with `specs` (bottom first). The canvas keeps
/// its size. Returns the new layers' ids, bottom first.
pub fn replace_document(doc: &mut Document, specs: Vec<LayerSpec>) -> Vec<LayerId> {
    doc.layers.clear();
    doc.groups.clear();
    specs
        .into_iter()
        .map(|spec| push(doc, doc.layers.len(), spec))
        .collect()
}

/// Replaces layer `id` with a group named after it that holds `specs`, decomposed from its
/// pixels (Photoshop users expect the pieces of a layer kept together under its name). The
/// group takes the layer's place in the stack and in its own group, its visibility, mode,
/// opacity (fill included) and mask; it is isolated, so the pieces composite together
/// first and the picture stays as it was. The sub-layers sit where their pixels were on the
/// layer. Returns the sub-layers' ids, bottom first, or `None` if no layer has that id.
///
/// A clipped layer's clipping is not carried over: a group cannot be clipped here.
pub fn replace_layer(
    doc: &mut Document,
    id: LayerId,
    specs: Vec<LayerSpec>,
) -> Option<Vec<LayerId>> {
    let index = doc.index_of(id)?;
    let original = doc.layers.remove(index);
    let group_id = doc.allocate_id();
    let mut group = Group::new(group_id, original.name.clone());
    group.parent = original.parent;
    group.visible = original.visible;
    group.blend = original.blend;
    group.opacity = original.opacity * original.fill_opacity;
    group.pass_through = false;
    group.mask = original.mask.clone();
    doc.insert_group(group);
    let ids = specs
        .into_iter()
        .enumerate()
        .map(|(i, mut spec)| {
            spec.offset = Offset::new(
                original.offset.x.saturating_add(spec.offset.x),
                original.offset.y.saturating_add(spec.offset.y),
            );
            let id = push(doc, index + i, spec);
            if let Some(layer) = doc.layer_mut(id) {
                layer.parent = Some(group_id);
            }
            id
        })
        .collect();
    // No pieces would leave the group empty; the tree allows no empty group.
    doc.prune_empty_groups();
    Some(ids)
}

fn push(doc: &mut Document, index: usize, spec: LayerSpec) -> LayerId {
    let id = doc.allocate_id();
    let mut layer = Layer::new(id, spec.name, spec.pixels);
    layer.offset = spec.offset;
    layer.blend = spec.blend;
    layer.opacity = spec.opacity;
    doc.insert_layer(index, layer);
    id
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

    use super::*;
    use crate::model::{BlendMode, RgbaImage, composite};

    #[test]
    fn layer_is_replaced_by_a_group_of_its_pieces_in_place() {
        let mut doc = Document::new(10, 10);
        doc.push_layer("bottom", RgbaImage::new(10, 10));
        let middle = doc.push_layer("middle", RgbaImage::new(4, 4));
        middle.offset = Offset::new(3, 2);
        middle.opacity = 0.5;
        middle.blend = BlendMode::Screen;
        middle.visible = false;
        let middle = middle.id;
        doc.push_layer("top", RgbaImage::new(1, 1));
        let specs = vec![
            LayerSpec::new("a", RgbaImage::new(2, 2), Offset::new(0, 0)),
            LayerSpec::new("b", RgbaImage::new(1, 1), Offset::new(1, 1)),
        ];
        let ids = replace_layer(&mut doc, middle, specs).expect("replaced");
        let names: Vec<&str> = doc.layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["bottom", "a", "b", "top"]);
        let b = doc.layer(ids[1]).expect("b");
        assert_eq!(b.offset, Offset::new(4, 3));
        assert_eq!(b.opacity, 1.0, "the group carries the opacity");
        let group = doc.group(b.parent.expect("in a group")).expect("group");
        assert_eq!(group.name, "middle");
        assert_eq!(
            (
                group.opacity,
                group.blend,
                group.visible,
                group.pass_through
            ),
            (0.5, BlendMode::Screen, false, false)
        );
        assert_eq!(doc.layer(ids[0]).unwrap().parent, Some(group.id));
        assert!(doc.layer(middle).is_none());
        doc.check_tree().unwrap();
    }

    #[test]
    fn a_layer_inside_a_group_is_decomposed_into_a_group_inside_that_group() {
        let mut doc = Document::new(4, 4);
        let solid = |rgba| RgbaImage::from_pixel(4, 4, image::Rgba(rgba));
        doc.push_layer("paper", solid([250, 250, 250, 255]));
        let art = doc.push_layer("art", solid([200, 20, 20, 160])).id;
        let outer = doc.group_node(art).unwrap();
        let before = composite(&doc);
        // Two pieces that composite back to the art layer: its left and right halves.
        let half = |x0| {
            RgbaImage::from_fn(4, 4, |x, _| {
                image::Rgba(if (x0..x0 + 2).contains(&x) {
                    [200, 20, 20, 160]
                } else {
                    [0, 0, 0, 0]
                })
            })
        };
        let specs = vec![
            LayerSpec::new("left", half(0), Offset::default()),
            LayerSpec::new("right", half(2), Offset::default()),
        ];
        let ids = replace_layer(&mut doc, art, specs).unwrap();
        let inner = doc.parent_of(ids[0]).unwrap();
        assert_eq!(doc.parent_of(inner), Some(outer));
        assert_eq!(doc.depth(ids[1]), 2);
        doc.check_tree().unwrap();
        assert_eq!(composite(&doc), before, "the picture is unchanged");
    }

    #[test]
    fn document_is_replaced() {
        let mut doc = Document::new(3, 3);
        let old = doc.push_layer("old", RgbaImage::new(3, 3)).id;
        doc.group_node(old).unwrap();
        let ids = replace_document(
            &mut doc,
            vec![LayerSpec::new(
                "bg",
                RgbaImage::new(3, 3),
                Offset::default(),
            )],
        );
        assert_eq!(doc.layers.len(), 1);
        assert_eq!(doc.layers[0].id, ids[0]);
        assert_eq!((doc.width, doc.height), (3, 3));
        assert!(doc.groups.is_empty(), "the old groups go with their layers");
        doc.check_tree().unwrap();
    }
}
