//! Putting decomposed layers into a document.

use super::LayerSpec;
use crate::model::{BlendMode, Document, Layer, LayerId, Offset};

/// Replaces every layer of `doc` with `specs` (bottom first). The canvas keeps its size.
/// Returns the new layers' ids, bottom first.
pub fn replace_document(doc: &mut Document, specs: Vec<LayerSpec>) -> Vec<LayerId> {
    doc.layers.clear();
    specs
        .into_iter()
        .map(|spec| push(doc, doc.layers.len(), spec, None))
        .collect()
}

/// Replaces layer `id` with `specs` decomposed from its pixels: the sub-layers take its place
/// in the stack, positioned relative to its offset, and inherit its visibility, opacity and
/// (for normal sub-layers) its blend mode. Returns `None` if no layer has that id.
pub fn replace_layer(
    doc: &mut Document,
    id: LayerId,
    specs: Vec<LayerSpec>,
) -> Option<Vec<LayerId>> {
    let index = doc.index_of(id)?;
    let parent = doc.layers.remove(index);
    let ids = specs
        .into_iter()
        .enumerate()
        .map(|(i, spec)| push(doc, index + i, spec, Some(&parent)))
        .collect();
    Some(ids)
}

fn push(doc: &mut Document, index: usize, spec: LayerSpec, parent: Option<&Layer>) -> LayerId {
    let id = doc.allocate_id();
    let mut layer = Layer::new(id, spec.name, spec.pixels);
    layer.offset = spec.offset;
    layer.blend = spec.blend;
    layer.opacity = spec.opacity;
    if let Some(parent) = parent {
        layer.name = format!("{} › {}", parent.name, layer.name);
        layer.offset = Offset::new(
            parent.offset.x + spec.offset.x,
            parent.offset.y + spec.offset.y,
        );
        layer.visible = parent.visible;
        layer.opacity *= parent.opacity;
        if layer.blend == BlendMode::Normal {
            layer.blend = parent.blend;
        }
    }
    doc.insert_layer(index, layer);
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RgbaImage;

    #[test]
    fn layer_is_replaced_in_place() {
        let mut doc = Document::new(10, 10);
        doc.push_layer("bottom", RgbaImage::new(10, 10));
        let middle = doc.push_layer("middle", RgbaImage::new(4, 4));
        middle.offset = Offset::new(3, 2);
        middle.opacity = 0.5;
        let middle = middle.id;
        doc.push_layer("top", RgbaImage::new(1, 1));
        let specs = vec![
            LayerSpec::new("a", RgbaImage::new(2, 2), Offset::new(0, 0)),
            LayerSpec::new("b", RgbaImage::new(1, 1), Offset::new(1, 1)),
        ];
        let ids = replace_layer(&mut doc, middle, specs).expect("replaced");
        let names: Vec<&str> = doc.layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["bottom", "middle › a", "middle › b", "top"]);
        let b = doc.layer(ids[1]).expect("b");
        assert_eq!(b.offset, Offset::new(4, 3));
        assert_eq!(b.opacity, 0.5);
        assert!(doc.layer(middle).is_none());
    }

    #[test]
    fn document_is_replaced() {
        let mut doc = Document::new(3, 3);
        doc.push_layer("old", RgbaImage::new(3, 3));
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
    }
}
