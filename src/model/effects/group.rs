//! Effects on a group: Photoshop draws a group's style from the group's composite, as if
//! its members were one layer. Strata draws the effects that fall below the group (drop
//! shadows and outer glows); a group style with any other effect is not drawn at all (the
//! reader leaves it reported as undrawn), so a half-drawn style never passes for a whole.
//!
//! The planes are made like a layer's (see [`super::planes`]) from a layer that holds the
//! members' composite over transparency and the group's mask. They are current while the
//! members and the mask are as they were: the render plan compares its own view of the
//! members with the snapshot kept here.

use std::sync::Arc;

use image::imageops;

use super::{DrawnPlanes, Planes, Style, planes};
use crate::model::composite_cpu::composite_steps;
use crate::model::group::same_mask;
use crate::model::pixels::visible_bounds;
use crate::model::render_plan::members_plan;
use crate::model::tree::Node;
use crate::model::{Document, Group, Layer, LayerId, Mask, Offset, RgbaImage};

/// A group's style with its rasterised planes.
#[derive(Clone, Debug)]
pub struct GroupEffects {
    pub style: Arc<Style>,
    planes: Arc<Planes>,
    /// What the planes were made from; `None` before the first rasterisation.
    source: Option<Arc<Source>>,
}

/// The members (in tree order, bottom first) and the group mask the planes were made from.
#[derive(Debug)]
struct Source {
    layers: Vec<Layer>,
    groups: Vec<Group>,
    mask: Option<Mask>,
}

impl GroupEffects {
    /// A style of below-the-group effects, without planes yet (see
    /// [`crate::model::Document::refresh_effects`]). `None` when some effect of `style`
    /// would draw over or inside the group, which groups do not draw.
    pub fn new(style: Style) -> Option<Self> {
        style
            .effects
            .iter()
            .all(super::Effect::is_below)
            .then(|| Self {
                style: Arc::new(style),
                planes: Arc::default(),
                source: None,
            })
    }

    /// The planes, when they were made from `group` with `members` (its children in the
    /// document's tree) as they are now.
    pub fn current(&self, group: &Group, members: &[Node<'_>]) -> Option<DrawnPlanes<'_>> {
        let source = self.source.as_ref()?;
        if !same_mask(&source.mask, &group.mask) {
            return None;
        }
        let (mut layers, mut groups) = (source.layers.iter(), source.groups.iter());
        let mut same = true;
        walk(members, &mut |node| {
            same = same
                && match node {
                    Node::Layer(now) => layers.next().is_some_and(|was| was.is_same_state(now)),
                    Node::Group(now, _) => groups.next().is_some_and(|was| was.is_same_state(now)),
                };
        });
        (same && layers.next().is_none() && groups.next().is_none()).then(|| self.planes.drawn())
    }

    /// All planes, current or not (for uploading and memory accounting).
    pub fn all_planes(&self) -> impl Iterator<Item = &Layer> {
        self.planes.all()
    }

    /// Rasterises the planes from `shape`: a layer holding the members' composite, with
    /// the group's id and mask. `group` and `members` are recorded to tell when the planes
    /// go stale.
    pub(crate) fn refresh(&mut self, group: &Group, members: &[Node<'_>], shape: &Layer) {
        let mut source = Source {
            layers: Vec::new(),
            groups: Vec::new(),
            mask: group.mask.clone(),
        };
        walk(members, &mut |node| match node {
            Node::Layer(layer) => source.layers.push((*layer).clone()),
            Node::Group(group, _) => source.groups.push((*group).clone()),
        });
        self.planes = Arc::new(planes::rasterise(&self.style, shape));
        self.source = Some(Arc::new(source));
    }
}

/// Rasterises the planes of group `id` unless they are current. Returns true when it did.
pub(crate) fn refresh_group(doc: &mut Document, id: LayerId) -> bool {
    let tree = doc.tree();
    let Some((group, members)) = find(&tree, id) else {
        return false;
    };
    let Some(mut effects) = group.effects.clone() else {
        return false;
    };
    if effects.current(group, members).is_some() {
        return false;
    }
    let mut composite = RgbaImage::new(doc.width, doc.height);
    composite_steps(members_plan(members), &mut composite);
    // The field the effects are made in spans the shape, not the canvas.
    let (pixels, offset) = match visible_bounds(&composite) {
        Some(b) => (
            imageops::crop_imm(&composite, b.x0, b.y0, b.x1 - b.x0, b.y1 - b.y0).to_image(),
            Offset::new(b.x0 as i32, b.y0 as i32),
        ),
        None => (RgbaImage::new(1, 1), Offset::default()),
    };
    let mut shape = Layer::new(group.id, "group", pixels);
    shape.offset = offset;
    shape.mask = group.mask.clone();
    effects.refresh(group, members, &shape);
    match doc.group_mut(id) {
        Some(group) => {
            group.effects = Some(effects);
            true
        }
        None => false,
    }
}

/// The group `id` of `nodes` with its children, searched depth first.
fn find<'n, 'a>(nodes: &'n [Node<'a>], id: LayerId) -> Option<(&'a Group, &'n [Node<'a>])> {
    nodes.iter().find_map(|node| match node {
        Node::Group(group, children) if group.id == id => Some((*group, children.as_slice())),
        Node::Group(_, children) => find(children, id),
        Node::Layer(_) => None,
    })
}

/// Calls `visit` on every node under `nodes`, depth first, each group before its children.
fn walk<'a>(nodes: &[Node<'a>], visit: &mut impl FnMut(&Node<'a>)) {
    for node in nodes {
        visit(node);
        if let Node::Group(_, children) = node {
            walk(children, visit);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::model::BlendMode;
    use crate::model::effects::{Effect, EffectKind};

    fn effect(kind: EffectKind) -> Effect {
        Effect {
            kind,
            color: [0, 0, 0],
            blend: BlendMode::Multiply,
            opacity: 1.0,
        }
    }

    fn shadow() -> EffectKind {
        EffectKind::DropShadow {
            angle: 90.0,
            distance: 3.0,
            spread: 0.0,
            size: 0.0,
            knockout: true,
        }
    }

    #[test]
    fn only_styles_that_draw_below_the_group_are_taken() {
        let below = Style {
            effects: vec![effect(shadow())],
        };
        assert!(GroupEffects::new(below).is_some());
        let overlay = Style {
            effects: vec![effect(shadow()), effect(EffectKind::ColorOverlay)],
        };
        assert!(GroupEffects::new(overlay).is_none());
    }

    #[test]
    fn the_shadow_follows_the_members_composite_and_goes_stale_with_them() {
        let mut doc = Document::new(8, 8);
        let square = RgbaImage::from_pixel(2, 2, image::Rgba([255, 0, 0, 255]));
        let a = doc.push_layer("a", square.clone()).id;
        let b = doc.push_layer("b", square).id;
        doc.layers[1].offset = Offset::new(4, 0);
        let g = doc.group_node(a).unwrap();
        doc.move_node(b, Some(g), 1).unwrap();
        let style = Style {
            effects: vec![effect(shadow())],
        };
        doc.group_mut(g).unwrap().effects = GroupEffects::new(style);
        doc.refresh_effects();
        let out = crate::model::composite(&doc);
        // Light from above: the shadow of both members falls 3 px below them.
        assert_eq!(out.get_pixel(0, 3).0, [0, 0, 0, 255], "under a");
        assert_eq!(out.get_pixel(5, 4).0, [0, 0, 0, 255], "under b");
        assert_eq!(out.get_pixel(2, 3).0[3], 0, "between them");
        assert_eq!(out.get_pixel(0, 0).0, [255, 0, 0, 255], "the member on top");

        let i = doc.index_of(b).unwrap();
        doc.layers[i].offset = Offset::new(4, 4);
        let stale = crate::model::composite(&doc);
        assert_eq!(stale.get_pixel(5, 4).0[3], 255, "b itself, not its shadow");
        assert_eq!(stale.get_pixel(5, 7).0[3], 0, "stale planes are not drawn");
        doc.refresh_effects();
        let out = crate::model::composite(&doc);
        assert_eq!(out.get_pixel(5, 7).0, [0, 0, 0, 255], "redrawn under b");
    }
}
