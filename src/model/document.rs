//! The document: a canvas size, a stack of layers and the groups they belong to.

use super::{Group, Kept, Layer, LayerId, RgbaImage};

/// A layered picture. `layers[0]` is the bottom of the stack, as in a PSD file; the layer
/// panel shows them reversed (top first), as Photoshop does. Groups are listed apart, in no
/// particular order: a layer names its group in [`Layer::parent`], and a group's members
/// are next to each other in `layers` (the rules are in [`super::tree`]).
#[derive(Clone, Debug)]
pub struct Document {
    pub width: u32,
    pub height: u32,
    pub layers: Vec<Layer>,
    pub groups: Vec<Group>,
    /// What the file held for the whole document that Strata does not use (a PSD's
    /// document-level tagged blocks: smart objects' embedded files, patterns, text engine
    /// data), written back on save (see [`super::kept`]).
    pub kept: Kept,
    next_id: u64,
}

impl Document {
    /// An empty document of the given canvas size.
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            layers: Vec::new(),
            groups: Vec::new(),
            kept: Kept::default(),
            next_id: 1,
        }
    }

    /// A document holding one layer, "Background", with the picture at the origin.
    pub fn from_flat(name: impl Into<String>, image: RgbaImage) -> Self {
        let mut doc = Self::new(image.width(), image.height());
        doc.push_layer(name, image);
        doc
    }

    /// Hands out a fresh id, never reused within this document.
    pub fn allocate_id(&mut self) -> LayerId {
        let id = LayerId(self.next_id);
        self.next_id += 1;
        id
    }

    /// Adds a new layer on top of the stack and returns it for further setup.
    pub fn push_layer(&mut self, name: impl Into<String>, pixels: RgbaImage) -> &mut Layer {
        let id = self.allocate_id();
        self.layers.push(Layer::new(id, name, pixels));
        let top = self.layers.len() - 1;
        &mut self.layers[top]
    }

    /// Inserts an already-built layer at `index` (0 = bottom), keeping id allocation ahead
    /// of any id it carries.
    pub fn insert_layer(&mut self, index: usize, layer: Layer) {
        self.next_id = self.next_id.max(layer.id.0 + 1);
        let index = index.min(self.layers.len());
        self.layers.insert(index, layer);
    }

    /// Adds an already-built group (its members name it as their parent), keeping id
    /// allocation ahead of its id.
    pub fn insert_group(&mut self, group: Group) {
        self.next_id = self.next_id.max(group.id.0 + 1);
        self.groups.push(group);
    }

    /// Stack position (0 = bottom) of the layer with this id.
    pub fn index_of(&self, id: LayerId) -> Option<usize> {
        self.layers.iter().position(|l| l.id == id)
    }

    pub fn layer(&self, id: LayerId) -> Option<&Layer> {
        self.layers.iter().find(|l| l.id == id)
    }

    pub fn layer_mut(&mut self, id: LayerId) -> Option<&mut Layer> {
        self.layers.iter_mut().find(|l| l.id == id)
    }

    /// Removes and returns the layer with this id. A group left without members goes too.
    pub fn remove_layer(&mut self, id: LayerId) -> Option<Layer> {
        let index = self.index_of(id)?;
        let layer = self.layers.remove(index);
        self.prune_empty_groups();
        Some(layer)
    }

    /// Moves a layer to stack position `to` (0 = bottom, clamped to the top). The layer
    /// joins the innermost group that holds both its new neighbours (the top level at
    /// either end of the stack), which keeps every group's members together. Returns false if no layer has
    /// this id. [`Document::move_node`] moves into a chosen group.
    pub fn move_layer(&mut self, id: LayerId, to: usize) -> bool {
        let Some(from) = self.index_of(id) else {
            return false;
        };
        let mut layer = self.layers.remove(from);
        let to = to.min(self.layers.len());
        layer.parent = self.group_between(to);
        self.layers.insert(to, layer);
        self.prune_empty_groups();
        true
    }

    /// True when both documents have the same size and layer stack, with pixels compared by
    /// buffer identity (see [`Layer::is_same_state`]).
    pub fn is_same_state(&self, other: &Document) -> bool {
        self.width == other.width
            && self.height == other.height
            && self.layers.len() == other.layers.len()
            && self.groups.len() == other.groups.len()
            && super::kept::same_kept(&self.kept, &other.kept)
            && self
                .groups
                .iter()
                .zip(&other.groups)
                .all(|(a, b)| a.is_same_state(b))
            && self
                .layers
                .iter()
                .zip(&other.layers)
                .all(|(a, b)| a.is_same_state(b))
    }

    /// Rasterises the effects of every layer whose effect planes are stale (its pixels,
    /// mask or position changed other than by [`Layer::translate`]); a stale layer's
    /// effects are not drawn until this runs; then the effects of every group whose members
    /// or mask changed. Returns how many layers and groups were redone.
    pub fn refresh_effects(&mut self) -> usize {
        let mut redone = 0;
        for layer in &mut self.layers {
            if let Some(mut effects) = layer.effects.take() {
                redone += usize::from(effects.refresh(layer));
                layer.effects = Some(effects);
            }
        }
        // Deepest first: an inner group's shadow is part of its outer group's composite.
        let mut styled: Vec<LayerId> = self
            .groups
            .iter()
            .filter(|g| g.effects.is_some())
            .map(|g| g.id)
            .collect();
        styled.sort_by_key(|&id| std::cmp::Reverse(self.depth(id)));
        for id in styled {
            redone += usize::from(super::effects::refresh_group(self, id));
        }
        redone
    }

    /// Every layer a compositor may draw: the document's layers, their effect planes, the
    /// groups' artboard backgrounds and the groups' effect planes.
    pub fn drawable_layers(&self) -> impl Iterator<Item = &Layer> {
        let fills = self
            .groups
            .iter()
            .filter_map(|g| g.artboard.as_ref()?.fill());
        self.layers
            .iter()
            .flat_map(|layer| {
                std::iter::once(layer).chain(layer.effects.iter().flat_map(|e| e.all_planes()))
            })
            .chain(fills)
            .chain(
                self.groups
                    .iter()
                    .filter_map(|g| g.effects.as_ref())
                    .flat_map(|e| e.all_planes()),
            )
    }

    /// Bytes of pixel storage held by all layers and masks.
    pub fn pixel_bytes(&self) -> usize {
        let masks = self.groups.iter().filter_map(|g| g.mask.as_ref());
        let boards = self.groups.iter().filter_map(|g| g.artboard.as_ref());
        self.layers.iter().map(Layer::pixel_bytes).sum::<usize>()
            + masks.map(super::Mask::pixel_bytes).sum::<usize>()
            + boards.map(super::Artboard::pixel_bytes).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_stay_unique_after_insert() {
        let mut doc = Document::new(4, 4);
        let a = doc.push_layer("a", RgbaImage::new(1, 1)).id;
        let foreign = Layer::new(LayerId(10), "b", RgbaImage::new(1, 1));
        doc.insert_layer(0, foreign);
        let c = doc.push_layer("c", RgbaImage::new(1, 1)).id;
        assert_eq!(a, LayerId(1));
        assert_eq!(c, LayerId(11));
        assert_eq!(doc.index_of(LayerId(10)), Some(0));
    }

    #[test]
    fn move_layer_clamps() {
        let mut doc = Document::new(4, 4);
        let a = doc.push_layer("a", RgbaImage::new(1, 1)).id;
        doc.push_layer("b", RgbaImage::new(1, 1));
        assert!(doc.move_layer(a, 99));
        assert_eq!(doc.index_of(a), Some(1));
        assert!(!doc.move_layer(LayerId(77), 0));
    }
}
