//! A single raster layer and its properties.

use std::sync::Arc;

use super::effects::LayerEffects;
use super::group::same_mask;
use super::{Adjustment, BBox, BlendMode, Kept, Mask, RgbaImage};

/// Stable identity of a layer within a document; survives reordering and undo.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LayerId(pub u64);

/// Position of a layer's top-left pixel on the canvas. May be negative or lie past the
/// canvas edge: a moved layer keeps all its pixels, as in Photoshop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Offset {
    pub x: i32,
    pub y: i32,
}

impl Offset {
    pub const fn new(x: i32, y: i32) -> Self {
        Self { x, y }
    }
}

/// One RGBA layer. Pixels are straight (non-premultiplied) alpha and shared through an
/// `Arc`, so history snapshots and the GPU uploader can hold them without copying.
#[derive(Clone, Debug)]
pub struct Layer {
    pub id: LayerId,
    pub name: String,
    pub visible: bool,
    /// Layer opacity in `0.0..=1.0`, multiplied into every pixel's alpha when compositing.
    pub opacity: f32,
    /// Photoshop's fill opacity in `0.0..=1.0`: the opacity of the layer's own pixels but
    /// not of its effects. Without effects, for most modes it multiplies with `opacity`;
    /// the "special eight" modes use it differently (see [`BlendMode::fill_neutral`]).
    pub fill_opacity: f32,
    pub blend: BlendMode,
    pub offset: Offset,
    /// A locked layer refuses moves and pixel edits in the editor (Photoshop's "lock all").
    pub locked: bool,
    /// The group this layer belongs to, `None` at the top level (see [`super::tree`]).
    pub parent: Option<LayerId>,
    /// Photoshop's clipping mask: the layer shows only where the nearest unclipped layer
    /// below it in the same group (its base) has alpha.
    pub clipped: bool,
    pub mask: Option<Mask>,
    /// What the file held for this layer that Strata does not draw, written back on save
    /// (see [`super::kept`]).
    pub kept: Kept,
    /// The layer effects Strata draws, with their rasterised planes (see
    /// [`super::effects`]); the file's own effect data stays in `kept`.
    pub effects: Option<LayerEffects>,
    /// What the layer does to its backdrop when it is an adjustment layer Strata draws
    /// (see [`super::adjustment`]); its pixels are then not drawn. The file's own block
    /// stays in `kept`.
    pub adjustment: Option<Adjustment>,
    pub pixels: Arc<RgbaImage>,
}

impl Layer {
    /// A visible, fully opaque, normal-blended layer at the canvas origin.
    pub fn new(id: LayerId, name: impl Into<String>, pixels: RgbaImage) -> Self {
        Self {
            id,
            name: name.into(),
            visible: true,
            opacity: 1.0,
            fill_opacity: 1.0,
            blend: BlendMode::Normal,
            offset: Offset::default(),
            locked: false,
            parent: None,
            clipped: false,
            mask: None,
            kept: Kept::default(),
            effects: None,
            adjustment: None,
            pixels: Arc::new(pixels),
        }
    }

    pub fn width(&self) -> u32 {
        self.pixels.width()
    }

    pub fn height(&self) -> u32 {
        self.pixels.height()
    }

    /// Opacity as the 0..=255 byte that PSD stores, rounded (not truncated: 0.749 → 191).
    pub fn opacity_u8(&self) -> u8 {
        super::pixels::to_u8(self.opacity)
    }

    /// Fill opacity as the 0..=255 byte that PSD stores (its `iOpa` block), rounded.
    pub fn fill_opacity_u8(&self) -> u8 {
        super::pixels::to_u8(self.fill_opacity)
    }

    /// True when both layers have equal properties and share the very same pixel buffer.
    /// Cheap: pixels are compared by pointer, which is what undo needs to detect a change.
    pub fn is_same_state(&self, other: &Layer) -> bool {
        self.id == other.id
            && self.name == other.name
            && self.visible == other.visible
            && self.opacity == other.opacity
            && self.fill_opacity == other.fill_opacity
            && self.blend == other.blend
            && self.offset == other.offset
            && self.locked == other.locked
            && self.parent == other.parent
            && self.clipped == other.clipped
            && same_mask(&self.mask, &other.mask)
            && super::kept::same_kept(&self.kept, &other.kept)
            && Arc::ptr_eq(&self.pixels, &other.pixels)
    }

    /// Bytes of pixel storage held by this layer and its mask.
    pub fn pixel_bytes(&self) -> usize {
        self.pixels.as_raw().len() + self.mask.as_ref().map_or(0, Mask::pixel_bytes)
    }

    /// Moves the layer by (`dx`, `dy`), and its mask with it when the two are linked.
    pub fn translate(&mut self, dx: i32, dy: i32) {
        if let Some(mut effects) = self.effects.take() {
            effects.translate(self, dx, dy, true);
            self.effects = Some(effects);
        }
        super::kept::move_reference_point(&mut self.kept, dx, dy);
        self.offset = Offset::new(
            self.offset.x.saturating_add(dx),
            self.offset.y.saturating_add(dy),
        );
        if let Some(mask) = self.mask.as_mut().filter(|m| m.linked) {
            mask.offset = Offset::new(
                mask.offset.x.saturating_add(dx),
                mask.offset.y.saturating_add(dy),
            );
        }
    }

    /// Puts the layer's top-left pixel at `offset`, leaving its mask where it is; its
    /// effect planes move with it.
    pub fn set_offset(&mut self, offset: Offset) {
        if let Some(mut effects) = self.effects.take() {
            let dx = offset.x.wrapping_sub(self.offset.x);
            let dy = offset.y.wrapping_sub(self.offset.y);
            effects.translate(self, dx, dy, false);
            self.effects = Some(effects);
        }
        super::kept::move_reference_point(
            &mut self.kept,
            offset.x.wrapping_sub(self.offset.x),
            offset.y.wrapping_sub(self.offset.y),
        );
        self.offset = offset;
    }

    /// The layer's rectangle on the canvas, right and bottom exclusive (it may reach past
    /// any edge of the canvas).
    pub fn bounds(&self) -> BBox<i64> {
        BBox::at(
            i64::from(self.offset.x),
            i64::from(self.offset.y),
            i64::from(self.width()),
            i64::from(self.height()),
        )
    }
}
