//! The compositing program: the layer tree turned into a flat list of steps that both
//! compositors (the CPU reference and the GPU) run, so that groups, clipping and masks mean
//! the same thing on both.
//!
//! The steps drive a stack of premultiplied canvases. The bottom canvas is the document's,
//! transparent at the start; [`Step::Begin`] pushes another, [`Step::Draw`] blends a layer
//! into the top one, [`Step::End`] merges the top canvas into the one below and drops it.
//!
//! The rules, after Photoshop's behaviour (checked against the composites ag-psd's test
//! files store):
//! - **Isolated groups** composite their members over transparency; the result blends with
//!   the group's mode, opacity and mask.
//! - **Pass-through groups** let their members blend straight into the backdrop; opacity and
//!   mask then fade that result back toward the backdrop. A pass-through group at full
//!   opacity without a mask emits no canvas at all: it is exactly as if ungrouped.
//! - **Clipping groups**: a layer with clipped layers above it (its base) is drawn on a
//!   transparent canvas with normal blending and its fill; the clipped layers are drawn
//!   "atop" it (only where it has alpha, never changing that alpha); the canvas then blends
//!   with the base's mode and opacity. This is Photoshop's default "Blend Clipped Layers as
//!   Group". A hidden base hides its clipped layers; a clipped layer with no base below it
//!   in its group draws as an ordinary layer. A clipped adjustment layer maps the clipping
//!   canvas (the base and the clipped layers below it), not the backdrop.
//! - **Layer effects** ([`super::effects`]) are planes drawn like layers, each with its own
//!   mode, in Photoshop's order: shadows and outer glows, an outside stroke, the layer's
//!   pixels (with its mode and fill), then overlays, inner effects and other strokes. The
//!   effects blend with what lies below, not into the layer first: Photoshop's default
//!   ("Blend Interior Effects as Group" off), which the stored composites confirm (a colour
//!   burn overlay on a colour burn layer burns the backdrop twice). Fill opacity fades the
//!   pixels, not the effects; below full opacity, the layer and its effects form a
//!   pass-through canvas that opacity fades. Clipped layers draw theirs atop the clipping
//!   canvas. Effects whose planes are stale (see
//!   [`super::effects::LayerEffects::current`]) are not drawn.
//! - **Group effects** ([`super::effects::GroupEffects`]): a group's shadows and outer
//!   glows, made from its members' composite, are drawn on the backdrop before the group,
//!   faded by its opacity, like a layer's.
//! - **Artboards** ([`super::Artboard`]): the group's members draw on a canvas of their
//!   own over the artboard's background, which merges through a mask of the artboard's
//!   rectangle; the group's own opacity, mask and mode then apply as for any group.
//! - Hidden layers and groups, and those at zero opacity, emit nothing.

use super::tree::Node;
use super::{Adjustment, Artboard, BlendMode, Document, Group, Layer, Mask};

/// One instruction of the compositing program.
#[derive(Clone, Copy, Debug)]
pub enum Step<'a> {
    /// Push a canvas: a copy of the current top canvas when `backdrop` is true (a
    /// pass-through group, whose members see what lies below), else a transparent one.
    Begin { backdrop: bool },
    /// Blend `layer` into the top canvas with `blend` and `opacity` (the layer's own values,
    /// except for a clipping base, which draws normally at full opacity inside its canvas),
    /// the layer's fill opacity and its mask. With `clip`, the layer is drawn atop: it
    /// shows only where the canvas has alpha and leaves that alpha as it is.
    Draw {
        layer: &'a Layer,
        blend: BlendMode,
        opacity: f32,
        clip: bool,
    },
    /// Merge the top canvas into the one below it and drop it.
    End(Merge<'a>),
}

/// How [`Step::End`] merges a canvas into the one below.
#[derive(Clone, Copy, Debug)]
pub struct Merge<'a> {
    /// `Some(mode)`: blend the canvas over the one below with `mode`. `None`: the canvas
    /// began as a copy of the one below (pass-through); interpolate from below toward it.
    pub blend: Option<BlendMode>,
    /// Scales the merge: the canvas's alpha when blending, the interpolation when not.
    pub opacity: f32,
    /// An enabled mask that scales the merge like `opacity`.
    pub mask: Option<&'a Mask>,
    /// An adjustment that maps the canvas (a copy of the one below) before the merge.
    pub map: Option<&'a Adjustment>,
}

impl Merge<'_> {
    /// True when the merge is a plain over at full strength (the only kind a clipping
    /// group of normal layers needs).
    pub fn is_plain(&self) -> bool {
        self.blend == Some(BlendMode::Normal)
            && self.opacity >= 1.0
            && self.mask.is_none()
            && self.map.is_none()
    }
}

/// The program that composites the whole document.
pub fn render_plan(doc: &Document) -> Vec<Step<'_>> {
    let mut steps = Vec::new();
    emit_stack(&doc.tree(), &mut steps);
    steps
}

/// The program for a list of layers (bottom first) taken as one flat stack: their groups
/// are ignored, their masks and clipping are not. Used to merge layers into one.
pub fn flat_plan(layers: &[Layer]) -> Vec<Step<'_>> {
    let nodes: Vec<Node<'_>> = layers.iter().map(Node::Layer).collect();
    let mut steps = Vec::new();
    emit_stack(&nodes, &mut steps);
    steps
}

/// The program for a group's members (its children in the tree) on their own: what the
/// group would draw isolated, at full opacity, without its mask. A group's effects are
/// made from this composite ([`super::effects::GroupEffects`]).
pub(crate) fn members_plan<'a>(members: &[Node<'a>]) -> Vec<Step<'a>> {
    let mut steps = Vec::new();
    emit_stack(members, &mut steps);
    steps
}

/// The deepest canvas stack a program needs, counting the document's own canvas.
pub fn stack_depth(steps: &[Step<'_>]) -> usize {
    let mut depth = 1usize;
    let mut deepest = 1usize;
    for step in steps {
        match step {
            Step::Begin { .. } => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            Step::End(_) => depth = depth.saturating_sub(1).max(1),
            Step::Draw { .. } => {}
        }
    }
    deepest
}

fn is_clipped(node: &Node<'_>) -> bool {
    matches!(node, Node::Layer(layer) if layer.clipped)
}

fn draws(layer: &Layer) -> bool {
    layer.visible && layer.opacity > 0.0
}

fn enabled_mask(mask: Option<&Mask>) -> Option<&Mask> {
    mask.filter(|m| m.enabled)
}

/// Emits the members of one stack (a group's children or the top level), bottom first,
/// gathering each base with the clipped layers right above it.
fn emit_stack<'a>(nodes: &[Node<'a>], steps: &mut Vec<Step<'a>>) {
    let mut i = 0;
    while i < nodes.len() {
        let base = &nodes[i];
        let clipped_end = i + 1 + nodes[i + 1..].iter().take_while(|n| is_clipped(n)).count();
        let clipped: Vec<&'a Layer> = nodes[i + 1..clipped_end]
            .iter()
            .filter_map(|n| match n {
                Node::Layer(layer) if draws(layer) => Some(*layer),
                _ => None,
            })
            .collect();
        if clipped.is_empty() {
            emit_node(base, steps);
        } else {
            emit_clipping_group(base, &clipped, steps);
        }
        i = clipped_end;
    }
}

fn emit_node<'a>(node: &Node<'a>, steps: &mut Vec<Step<'a>>) {
    emit_node_with(node, true, steps);
}

/// [`emit_node`]; `shadows` false leaves out a group's shadows, for a caller that draws
/// them elsewhere.
fn emit_node_with<'a>(node: &Node<'a>, shadows: bool, steps: &mut Vec<Step<'a>>) {
    match node {
        Node::Layer(layer) => match &layer.adjustment {
            Some(adjustment) if draws(layer) => emit_adjustment(layer, adjustment, steps),
            _ if draws(layer) => emit_layer(layer, false, steps),
            _ => {}
        },
        Node::Group(group, children) => {
            if !group.visible || group.opacity <= 0.0 {
                return;
            }
            let mask = enabled_mask(group.mask.as_ref());
            let mut inner = Vec::new();
            emit_stack(children, &mut inner);
            if let Some(board) = &group.artboard {
                inner = artboard_canvas(board, inner);
            }
            if inner.is_empty() {
                return;
            }
            if shadows {
                steps.extend(group_shadows(group, children));
            }
            let passes = group.passes_through();
            if passes && group.opacity >= 1.0 && mask.is_none() {
                steps.extend(inner);
                return;
            }
            steps.push(Step::Begin { backdrop: passes });
            steps.extend(inner);
            // A pass-through group below full fill merges as normal (see `Group`).
            let blend = if group.pass_through {
                BlendMode::Normal
            } else {
                group.blend
            };
            steps.push(Step::End(Merge {
                blend: (!passes).then_some(blend),
                opacity: group.opacity * group.fill_opacity,
                mask,
                map: None,
            }));
        }
    }
}

/// An adjustment layer: a copy of the backdrop, mapped, merged back through the layer's
/// opacity (times its fill: the layer has no pixels of its own to fill) and mask. In
/// normal mode the merge interpolates toward the mapped copy, which keeps the backdrop's
/// alpha; other modes blend the mapped colour over the backdrop.
fn emit_adjustment<'a>(layer: &'a Layer, adjustment: &'a Adjustment, steps: &mut Vec<Step<'a>>) {
    steps.push(Step::Begin { backdrop: true });
    steps.push(Step::End(Merge {
        blend: (layer.blend != BlendMode::Normal).then_some(layer.blend),
        opacity: layer.opacity * layer.fill_opacity,
        mask: enabled_mask(layer.mask.as_ref()),
        map: Some(adjustment),
    }));
}

/// An artboard's members (`inner`) on a canvas of their own over the artboard's
/// background, merged through the artboard's clip: nothing shows outside its rectangle.
fn artboard_canvas<'a>(board: &'a Artboard, inner: Vec<Step<'a>>) -> Vec<Step<'a>> {
    let fill = board.fill().map(|layer| Step::Draw {
        layer,
        blend: BlendMode::Normal,
        opacity: 1.0,
        clip: false,
    });
    if fill.is_none() && inner.is_empty() {
        return inner;
    }
    let mut steps = Vec::with_capacity(inner.len() + 3);
    steps.push(Step::Begin { backdrop: false });
    steps.extend(fill);
    steps.extend(inner);
    steps.push(Step::End(Merge {
        blend: Some(BlendMode::Normal),
        opacity: 1.0,
        mask: Some(board.clip()),
        map: None,
    }));
    steps
}

/// A base and its clipped layers on their own canvas, merged with the base's mode and
/// opacity. A group as base is drawn whole (pass-through taken as isolated, as Photoshop
/// does for a clipping base) and the canvas merges normally.
fn emit_clipping_group<'a>(base: &Node<'a>, clipped: &[&'a Layer], steps: &mut Vec<Step<'a>>) {
    let mut start = steps.len();
    steps.push(Step::Begin { backdrop: false });
    let merge = match base {
        Node::Layer(layer) => {
            if !draws(layer) {
                steps.truncate(start);
                return;
            }
            let planes = layer.effects.as_ref().and_then(|e| e.current(layer));
            if let Some(planes) = planes {
                // The base's shadows fall on the backdrop, outside the clipping canvas.
                steps.splice(
                    start..start,
                    draw_planes(planes.below, layer.opacity, false),
                );
            }
            let (under, over) = planes.map_or((&[][..], &[][..]), |p| (p.under, p.over));
            steps.extend(draw_planes(under, 1.0, false));
            steps.push(Step::Draw {
                layer,
                blend: BlendMode::Normal,
                opacity: 1.0,
                clip: false,
            });
            steps.extend(draw_planes(over, 1.0, false));
            Merge {
                blend: Some(layer.blend),
                opacity: layer.opacity,
                mask: None,
                map: None,
            }
        }
        Node::Group(group, children) => {
            emit_node_with(base, false, steps);
            if steps.len() > start + 1 {
                // Its shadows fall on the backdrop, outside the clipping canvas.
                let shadows: Vec<Step<'a>> = group_shadows(group, children).collect();
                let count = shadows.len();
                steps.splice(start..start, shadows);
                start += count;
            }
            Merge {
                blend: Some(BlendMode::Normal),
                opacity: 1.0,
                mask: None,
                map: None,
            }
        }
    };
    if steps.len() == start + 1 {
        // The base drew nothing: its clipped layers have nothing to show on.
        steps.truncate(start);
        return;
    }
    for layer in clipped {
        match &layer.adjustment {
            // It maps the clipping canvas, whose alpha the mapped copy keeps: clipped.
            Some(adjustment) => emit_adjustment(layer, adjustment, steps),
            None => emit_layer(layer, true, steps),
        }
    }
    steps.push(Step::End(merge));
}

/// The draws of a group's current shadow and glow planes, faded by the group's opacity.
fn group_shadows<'a>(
    group: &'a Group,
    children: &[Node<'a>],
) -> impl Iterator<Item = Step<'a>> + 'a {
    let below = group
        .effects
        .as_ref()
        .and_then(|e| e.current(group, children))
        .map_or(&[][..], |p| p.below);
    draw_planes(below, group.opacity, false)
}

/// Draws of `planes` at their own mode and opacity scaled by `opacity`.
fn draw_planes<'a>(
    planes: &'a [Layer],
    opacity: f32,
    clip: bool,
) -> impl Iterator<Item = Step<'a>> + 'a {
    planes.iter().map(move |plane| Step::Draw {
        layer: plane,
        blend: plane.blend,
        opacity: plane.opacity * opacity,
        clip,
    })
}

/// A visible layer with its effects (see the module's rules). `clip`: drawn atop the
/// clipping canvas.
fn emit_layer<'a>(layer: &'a Layer, clip: bool, steps: &mut Vec<Step<'a>>) {
    let own = |opacity: f32| Step::Draw {
        layer,
        blend: layer.blend,
        opacity,
        clip,
    };
    let Some(planes) = layer.effects.as_ref().and_then(|e| e.current(layer)) else {
        steps.push(own(layer.opacity));
        return;
    };
    steps.extend(draw_planes(planes.below, layer.opacity, clip));
    if planes.under.is_empty() && planes.over.is_empty() {
        steps.push(own(layer.opacity));
        return;
    }
    if clip || layer.opacity >= 1.0 {
        // A canvas of its own would lose the clipping; at full opacity it changes nothing.
        steps.extend(draw_planes(planes.under, layer.opacity, clip));
        steps.push(own(layer.opacity));
        steps.extend(draw_planes(planes.over, layer.opacity, clip));
        return;
    }
    // Opacity fades the layer and its effects together, as one pass-through group does.
    steps.push(Step::Begin { backdrop: true });
    steps.extend(draw_planes(planes.under, 1.0, false));
    steps.push(own(1.0));
    steps.extend(draw_planes(planes.over, 1.0, false));
    steps.push(Step::End(Merge {
        blend: None,
        opacity: layer.opacity,
        mask: None,
        map: None,
    }));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::model::RgbaImage;

    fn doc_with(names: &[&str]) -> Document {
        let mut doc = Document::new(2, 2);
        for name in names {
            doc.push_layer(*name, RgbaImage::new(2, 2));
        }
        doc
    }

    fn shape(steps: &[Step<'_>]) -> String {
        steps
            .iter()
            .map(|s| match s {
                Step::Begin { backdrop: true } => "[p".to_string(),
                Step::Begin { backdrop: false } => "[i".to_string(),
                Step::Draw { layer, clip, .. } => {
                    format!("{}{}", if *clip { "^" } else { "" }, layer.name)
                }
                Step::End(_) => "]".to_string(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn a_flat_document_is_one_draw_per_visible_layer() {
        let mut doc = doc_with(&["a", "b", "c"]);
        doc.layers[1].visible = false;
        let plan = render_plan(&doc);
        assert_eq!(shape(&plan), "a c");
        assert_eq!(stack_depth(&plan), 1);
    }

    #[test]
    fn groups_open_canvases_only_when_they_must() {
        let mut doc = doc_with(&["a", "b", "c"]);
        let g = doc.group_node(doc.layers[1].id).unwrap();
        assert_eq!(shape(&render_plan(&doc)), "a b c", "plain pass-through");
        doc.group_mut(g).unwrap().opacity = 0.5;
        assert_eq!(shape(&render_plan(&doc)), "a [p b ] c");
        doc.group_mut(g).unwrap().pass_through = false;
        let plan = render_plan(&doc);
        assert_eq!(shape(&plan), "a [i b ] c");
        assert_eq!(stack_depth(&plan), 2);
        doc.group_mut(g).unwrap().visible = false;
        assert_eq!(shape(&render_plan(&doc)), "a c");
    }

    #[test]
    fn clipped_layers_draw_atop_their_base() {
        let mut doc = doc_with(&["base", "x", "y", "free"]);
        doc.layers[1].clipped = true;
        doc.layers[2].clipped = true;
        assert_eq!(shape(&render_plan(&doc)), "[i base ^x ^y ] free");
        doc.layers[0].visible = false;
        assert_eq!(
            shape(&render_plan(&doc)),
            "free",
            "a hidden base hides them"
        );
    }

    #[test]
    fn a_clipped_layer_without_a_base_draws_normally() {
        let mut doc = doc_with(&["a"]);
        doc.layers[0].clipped = true;
        assert_eq!(shape(&render_plan(&doc)), "a");
        let mut doc = doc_with(&["bg", "g1"]);
        let g = doc.group_node(doc.layers[1].id).unwrap();
        doc.layers[1].clipped = true; // first in its group: no base there
        doc.group_mut(g).unwrap().pass_through = false;
        assert_eq!(shape(&render_plan(&doc)), "bg [i g1 ]");
    }

    #[test]
    fn effects_draw_around_their_layer_while_current() {
        use crate::model::effects::{Effect, EffectKind, LayerEffects, Style};
        let effect = |kind| Effect {
            kind,
            color: [0, 0, 0],
            blend: BlendMode::Multiply,
            opacity: 1.0,
        };
        let mut doc = doc_with(&["a"]);
        doc.layers[0].pixels =
            std::sync::Arc::new(RgbaImage::from_pixel(2, 2, image::Rgba([9, 9, 9, 255])));
        let shadow = EffectKind::OuterGlow {
            spread: 0.0,
            size: 1.0,
        };
        let style = Style {
            effects: vec![effect(shadow), effect(EffectKind::ColorOverlay)],
        };
        doc.layers[0].effects = Some(LayerEffects::new(style));
        assert_eq!(shape(&render_plan(&doc)), "a", "not rasterised yet");
        doc.refresh_effects();
        assert_eq!(shape(&render_plan(&doc)), "effect a effect");
        doc.layers[0].opacity = 0.5;
        assert_eq!(shape(&render_plan(&doc)), "effect [p a effect ]");
        doc.layers[0].translate(3, 1);
        assert_eq!(
            shape(&render_plan(&doc)),
            "effect [p a effect ]",
            "moved along"
        );
        doc.layers[0].pixels = std::sync::Arc::new(RgbaImage::new(2, 2));
        assert_eq!(shape(&render_plan(&doc)), "a", "stale after an edit");
    }

    #[test]
    fn an_artboard_draws_its_background_under_its_members_and_clips_them() {
        use crate::model::{Artboard, BBox};
        let mut doc = doc_with(&["a", "b"]);
        let g = doc.group_node(doc.layers[1].id).unwrap();
        let board = Artboard::new(g, BBox::new(0, 0, 1, 2), Some([9, 9, 9]), (2, 2));
        doc.group_mut(g).unwrap().artboard = Some(board);
        let plan = render_plan(&doc);
        assert_eq!(shape(&plan), "a [i artboard b ]");
        assert!(matches!(plan.last(), Some(Step::End(m)) if m.mask.is_some()));
        let clear = Artboard::new(g, BBox::new(0, 0, 1, 2), None, (2, 2));
        doc.group_mut(g).unwrap().artboard = Some(clear);
        assert_eq!(shape(&render_plan(&doc)), "a [i b ]");
    }

    #[test]
    fn a_group_can_be_a_clipping_base() {
        let mut doc = doc_with(&["a", "b"]);
        let g = doc.group_node(doc.layers[0].id).unwrap();
        doc.layers[1].clipped = true;
        assert!(doc.group(g).is_some());
        assert_eq!(shape(&render_plan(&doc)), "[i a ^b ]");
    }
}
