//! Layer groups: Photoshop's groups (PSD section dividers), OpenRaster's nested stacks.

use super::effects::GroupEffects;
use super::{Artboard, BlendMode, Kept, LayerId, Mask};

/// A group of layers and groups. Its members are the layers whose parent chain reaches it;
/// they sit next to each other in [`super::Document::layers`], so the document stays one
/// bottom-to-top list as in a PSD file (see [`super::tree`] for the rules).
#[derive(Clone, Debug)]
pub struct Group {
    /// Drawn from the same id space as layers, so the panel can select either.
    pub id: LayerId,
    pub name: String,
    pub visible: bool,
    /// Opacity in `0.0..=1.0`, applied to the group's composite as a whole.
    pub opacity: f32,
    /// Photoshop's fill opacity of a group (`iOpa` on its folder record), in `0.0..=1.0`:
    /// it fades the members' composite like opacity but not the group's layer style.
    /// Below 1 it also stops a pass-through group from passing through: Photoshop then
    /// composites the members on their own and merges them in normal mode (so an
    /// adjustment inside maps only the members, and their modes blend among themselves).
    pub fill_opacity: f32,
    /// The mode the group's composite blends with what is below (ignored while passing
    /// through, but kept, as Krita and Photoshop keep it).
    pub blend: BlendMode,
    /// Photoshop's "Pass Through": the members blend straight into the backdrop as if not
    /// grouped, and opacity and mask fade that result. When false the group is isolated:
    /// its members composite over transparency first.
    pub pass_through: bool,
    /// Refuses moves and edits of every member (Photoshop's "lock all" on a group).
    pub locked: bool,
    /// Collapsed in the layer panel (members hidden from the list, not from the canvas).
    pub collapsed: bool,
    /// The enclosing group, `None` at the top level.
    pub parent: Option<LayerId>,
    pub mask: Option<Mask>,
    /// What the file held for this group that Strata does not draw (see [`super::kept`]).
    pub kept: Kept,
    /// The artboard this group stands for (read from the kept artboard block), drawn as
    /// its background and clip.
    pub artboard: Option<Artboard>,
    /// The group's drawn layer style (shadows and glows below it), from its members'
    /// composite; the file's own effects block stays in `kept`.
    pub effects: Option<GroupEffects>,
}

impl Group {
    /// A visible, expanded, pass-through group at full opacity, as Photoshop's Ctrl+G makes.
    pub fn new(id: LayerId, name: impl Into<String>) -> Self {
        Self {
            id,
            name: name.into(),
            visible: true,
            opacity: 1.0,
            fill_opacity: 1.0,
            blend: BlendMode::Normal,
            pass_through: true,
            locked: false,
            collapsed: false,
            parent: None,
            mask: None,
            kept: Kept::default(),
            artboard: None,
            effects: None,
        }
    }

    /// True when the group's members must be composited on their own before blending: any
    /// mode but pass-through. (A pass-through group with a mask or opacity below 1 is still
    /// not isolated: its members see the real backdrop, and the result is faded toward it.)
    pub fn is_isolated(&self) -> bool {
        !self.passes_through()
    }

    /// Whether the members blend straight into the backdrop: a pass-through group at full
    /// fill opacity (see [`Self::fill_opacity`]).
    pub fn passes_through(&self) -> bool {
        self.pass_through && self.fill_opacity >= 1.0
    }

    /// Opacity as the 0..=255 byte that PSD stores, rounded.
    pub fn opacity_u8(&self) -> u8 {
        super::pixels::to_u8(self.opacity)
    }

    /// True when both groups have equal properties (masks compared by buffer identity).
    pub fn is_same_state(&self, other: &Group) -> bool {
        self.id == other.id
            && self.name == other.name
            && self.visible == other.visible
            && self.opacity == other.opacity
            && self.fill_opacity == other.fill_opacity
            && self.blend == other.blend
            && self.pass_through == other.pass_through
            && self.locked == other.locked
            && self.collapsed == other.collapsed
            && self.parent == other.parent
            && same_mask(&self.mask, &other.mask)
            && super::kept::same_kept(&self.kept, &other.kept)
            && self.artboard.as_ref().map(|a| a.rect) == other.artboard.as_ref().map(|a| a.rect)
    }
}

/// True when two optional masks are both absent or the same state.
pub(crate) fn same_mask(a: &Option<Mask>, b: &Option<Mask>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.is_same_state(b),
        _ => false,
    }
}
