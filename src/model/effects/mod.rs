//! Layer styles (Photoshop's layer effects) that Strata draws: drop shadow, outer glow,
//! inner shadow, inner glow, satin, colour, gradient and pattern overlays, bevel and
//! emboss, and a solid-colour stroke.
//!
//! Effects are rasterised on the CPU, here in the model, into *planes*: ordinary layers of
//! one colour whose alpha is the effect's shape, positioned on the canvas. Both compositors
//! then draw them like any other layer through the render plan
//! ([`super::render_plan`]), so the GPU needs no effect shaders and GPU/CPU parity holds by
//! construction. The planes are a cache of the layer's pixels, offset and mask: a layer
//! that moves shifts its planes with it ([`super::Layer::translate`]); any other change
//! leaves them stale until [`super::Document::refresh_effects`] rebuilds them, and a stale
//! cache is simply not drawn (see [`LayerEffects::current`]).
//!
//! A group's effects are drawn the same way from its members' composite
//! ([`GroupEffects`]).
//!
//! The file's own effect data stays a kept block, written back byte for byte; the
//! [`Style`] is only our reading of it.

mod gradient;
mod group;
mod lighting;
mod pattern;
mod planes;
mod raster;

pub use gradient::{Gradient, GradientShape, Interpolation, Layout, Stop, TABLE_SIZE};
pub use group::GroupEffects;
pub(crate) use group::refresh_group;
pub use lighting::{Bevel, BevelStyle, Satin, contour};
pub use pattern::Pattern;

use std::sync::Arc;

use super::{BlendMode, Layer, LayerId, Mask, Offset, RgbaImage};

/// Where a stroke lies relative to the layer's edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrokePosition {
    Outside,
    Inside,
    Center,
}

/// What an effect draws, with its geometry in pixels.
#[derive(Clone, Debug, PartialEq)]
pub enum EffectKind {
    /// The layer's shape, spread, blurred and offset away from the light, under the layer.
    /// `angle` is the light's direction in degrees (Photoshop's: 90 is from above).
    DropShadow {
        angle: f32,
        distance: f32,
        spread: f32,
        size: f32,
        /// "Layer knocks out drop shadow": hidden under the layer's own pixels.
        knockout: bool,
    },
    /// The shape spread and blurred, under the layer.
    OuterGlow { spread: f32, size: f32 },
    /// The outside of the shape, offset toward the light and blurred, inside the shape.
    InnerShadow {
        angle: f32,
        distance: f32,
        choke: f32,
        size: f32,
    },
    /// A glow inside the shape, from its edge (`from_center` false) or its centre.
    InnerGlow {
        choke: f32,
        size: f32,
        from_center: bool,
    },
    /// The shape filled with one colour.
    ColorOverlay,
    /// The shape filled with a gradient across the layer's box (the effect's colour is
    /// not used).
    GradientOverlay(Arc<Gradient>),
    /// The shape filled with a repeated tile (the effect's colour is not used).
    PatternOverlay(Arc<Pattern>),
    /// Satin: the shape's interior shaded by two offset copies of itself.
    Satin(Satin),
    /// One half (highlight or shadow) of a bevel or emboss: the edge lit as a relief.
    Bevel(Bevel),
    /// A band of one colour along the edge.
    Stroke { position: StrokePosition, size: f32 },
}

/// One enabled effect: its kind, colour, blend mode and opacity.
#[derive(Clone, Debug, PartialEq)]
pub struct Effect {
    pub kind: EffectKind,
    pub color: [u8; 3],
    pub blend: BlendMode,
    /// `0.0..=1.0`.
    pub opacity: f32,
}

impl Effect {
    /// True for the effects drawn on the backdrop below the layer (shadow, glow): they blend
    /// with their own mode and are not part of the layer's own blend.
    pub fn is_below(&self) -> bool {
        matches!(
            self.kind,
            EffectKind::DropShadow { .. } | EffectKind::OuterGlow { .. }
        )
    }

    /// How far beyond the layer's rectangle the effect may reach, in whole pixels.
    fn reach(&self) -> u32 {
        let reach = match self.kind {
            EffectKind::DropShadow { distance, size, .. } => distance + 2.0 * size,
            EffectKind::OuterGlow { size, .. } => 2.0 * size,
            EffectKind::Stroke { size, .. } => size,
            EffectKind::Bevel(ref bevel) => bevel.reach(),
            _ => 0.0,
        };
        reach.max(0.0).ceil() as u32 + 2
    }
}

/// The effects Strata draws for one layer, in Photoshop's drawing order (bottom first).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Style {
    pub effects: Vec<Effect>,
}

/// A layer's style with its rasterised planes.
#[derive(Clone, Debug)]
pub struct LayerEffects {
    pub style: Arc<Style>,
    planes: Arc<Planes>,
}

/// The planes of one style for one state of its layer.
#[derive(Clone, Debug, Default)]
struct Planes {
    /// What the planes were made from: the layer's id, pixels, offset and mask.
    owner: Option<LayerId>,
    pixels: Option<Arc<RgbaImage>>,
    offset: Offset,
    mask: Option<Mask>,
    /// Drawn on the backdrop before the layer, bottom first.
    below: Vec<Layer>,
    /// Drawn with the layer on its own canvas, under its pixels (an outside stroke).
    under: Vec<Layer>,
    /// Drawn with the layer on its own canvas, over its pixels, bottom first.
    over: Vec<Layer>,
}

impl Planes {
    /// The planes as a render plan draws them.
    fn drawn(&self) -> DrawnPlanes<'_> {
        DrawnPlanes {
            below: &self.below,
            under: &self.under,
            over: &self.over,
        }
    }

    /// Every plane, bottom first within each place.
    fn all(&self) -> impl Iterator<Item = &Layer> {
        self.below.iter().chain(&self.under).chain(&self.over)
    }
}

/// The planes a render plan draws for one layer.
#[derive(Clone, Copy, Debug)]
pub struct DrawnPlanes<'a> {
    pub below: &'a [Layer],
    pub under: &'a [Layer],
    pub over: &'a [Layer],
}

impl LayerEffects {
    /// A style without planes yet (see [`super::Document::refresh_effects`]).
    pub fn new(style: Style) -> Self {
        Self {
            style: Arc::new(style),
            planes: Arc::default(),
        }
    }

    /// The planes, when they were made from `layer` as it is now.
    pub fn current(&self, layer: &Layer) -> Option<DrawnPlanes<'_>> {
        let p = &*self.planes;
        let same_pixels = p
            .pixels
            .as_ref()
            .is_some_and(|px| Arc::ptr_eq(px, &layer.pixels));
        let same_mask = match (&p.mask, &layer.mask) {
            (None, None) => true,
            (Some(a), Some(b)) => a.is_same_state(b),
            _ => false,
        };
        (p.owner == Some(layer.id) && same_pixels && p.offset == layer.offset && same_mask)
            .then(|| p.drawn())
    }

    /// All planes, current or not (for uploading and memory accounting).
    pub fn all_planes(&self) -> impl Iterator<Item = &Layer> {
        self.planes.all()
    }

    /// Moves current planes by (`dx`, `dy`) along with their layer, so a drag keeps them
    /// current without rasterising again (and without new pixels to upload). `with_mask`:
    /// the layer's linked mask moves too.
    pub(super) fn translate(&mut self, layer: &Layer, dx: i32, dy: i32, with_mask: bool) {
        if self.current(layer).is_none() {
            return;
        }
        // Copies only the plane list when shared; the pixels stay shared.
        let planes = Arc::make_mut(&mut self.planes);
        planes.offset = Offset::new(
            planes.offset.x.saturating_add(dx),
            planes.offset.y.saturating_add(dy),
        );
        for plane in planes
            .below
            .iter_mut()
            .chain(&mut planes.under)
            .chain(&mut planes.over)
        {
            plane.offset = Offset::new(
                plane.offset.x.saturating_add(dx),
                plane.offset.y.saturating_add(dy),
            );
        }
        // A linked mask moves with its layer (`Layer::translate`); the planes' record of
        // it follows so that they stay current.
        if let Some(mask) = planes.mask.as_mut().filter(|m| m.linked && with_mask) {
            mask.offset = Offset::new(
                mask.offset.x.saturating_add(dx),
                mask.offset.y.saturating_add(dy),
            );
        }
    }

    /// Rasterises the planes for `layer` unless they are current. Returns true when it did.
    pub(super) fn refresh(&mut self, layer: &Layer) -> bool {
        if self.current(layer).is_some() {
            return false;
        }
        self.planes = Arc::new(planes::rasterise(&self.style, layer));
        true
    }
}

/// The id of plane `index` of `owner`: in the top of the id space, which documents never
/// reach, so that a plane's GPU texture is cached under its own key.
fn plane_id(owner: LayerId, index: usize) -> LayerId {
    LayerId((1 << 63) | (owner.0 << 8) | (index as u64 & 0xff))
}
