//! Writing `stack.xml`: layers as `<layer>`, groups as nested `<stack>`, top-most first.
//!
//! Groups are written as Krita writes and reads them: `isolation="isolate"` for an isolated
//! group and `isolation="auto"` for pass-through, with the group's own `composite-op` kept
//! either way (Krita keeps a pass-through group's mode too). GIMP reads nested stacks as
//! groups and ignores `isolation` (its groups always isolate), so a pass-through group of
//! normal layers draws the same there. What OpenRaster has no word for goes in Strata's
//! attributes ([`super::ora_attrs::names`]): clipping, collapsed groups, fill opacity and
//! masks. A mask is an extra greyscale PNG that other readers never look at, so they draw
//! the layer unmasked; that loss is theirs to have, and Strata reads it all back.

use std::collections::HashMap;
use std::fmt::Write as _;

use quick_xml::escape::escape;

use super::ora::{MAX_DEPTH, MAX_FEATHER, OraError, STRATA_NAMESPACE};
use super::ora_attrs::names;
use crate::model::{Document, Group, Layer, LayerId, Mask};

/// `stack.xml` and the archive entries it names.
pub struct Written<'a> {
    pub xml: String,
    /// Each layer's PNG entry, bottom layer first.
    pub layers: Vec<(String, &'a Layer)>,
    /// Each mask's PNG entry, in the order the XML names them.
    pub masks: Vec<(String, &'a Mask)>,
}

/// The source entry of the layer at stack position `index` (0 = bottom).
fn layer_src(index: usize) -> String {
    format!("data/layer{:03}.png", index + 1)
}

/// Builds `stack.xml` for `doc`. Refuses groups nested deeper than the reader accepts, so
/// Strata never writes a file it cannot open.
///
/// The stack is written from the flat list, top layer first, opening and closing `<stack>`s
/// as each layer's chain of groups changes: time linear in layers × depth, where walking
/// [`Document::tree`] would look every group up by search for every layer. Members of a
/// group stand together (the model's rule), so each group opens once.
pub fn stack_xml(doc: &Document) -> Result<Written<'_>, OraError> {
    let mut writer = Writer {
        xml: format!(
            "<?xml version='1.0' encoding='UTF-8'?>\n<image version=\"0.0.5\" w=\"{}\" h=\"{}\" xres=\"72\" yres=\"72\" xmlns:strata=\"{STRATA_NAMESPACE}\">\n <stack>\n",
            doc.width, doc.height
        ),
        masks: Vec::new(),
    };
    let groups: HashMap<LayerId, &Group> = doc.groups.iter().map(|g| (g.id, g)).collect();
    // The groups open around the layer being written, outermost first.
    let mut open: Vec<&Group> = Vec::new();
    for (index, layer) in doc.layers.iter().enumerate().rev() {
        let chain = chain_of(layer.parent, &groups);
        let keep = open
            .iter()
            .zip(&chain)
            .take_while(|(a, b)| a.id == b.id)
            .count();
        while open.len() > keep {
            open.pop();
            writer.close_group(open.len());
        }
        for group in &chain[keep..] {
            if open.len() >= MAX_DEPTH {
                return Err(OraError::Xml(format!(
                    "group '{}' is nested deeper than {MAX_DEPTH} groups, more than \
                     OpenRaster readers accept",
                    group.name
                )));
            }
            writer.open_group(group, open.len());
            open.push(group);
        }
        writer.layer(layer, index, open.len());
    }
    while !open.is_empty() {
        open.pop();
        writer.close_group(open.len());
    }
    writer.xml.push_str(" </stack>\n</image>\n");
    let layers = doc
        .layers
        .iter()
        .enumerate()
        .map(|(i, layer)| (layer_src(i), layer))
        .collect();
    Ok(Written {
        xml: writer.xml,
        layers,
        masks: writer.masks,
    })
}

/// The groups around a layer whose parent is `parent`, outermost first. A parent that is
/// not a group of the document ends the chain, and so does a cycle (the chain is cut at
/// as many links as there are groups), so even a broken tree writes a well-formed file.
fn chain_of<'a>(parent: Option<LayerId>, groups: &HashMap<LayerId, &'a Group>) -> Vec<&'a Group> {
    let mut chain = Vec::new();
    let mut next = parent;
    while let Some(group) = next.and_then(|id| groups.get(&id)) {
        if chain.len() >= groups.len() {
            break;
        }
        chain.push(*group);
        next = group.parent;
    }
    chain.reverse();
    chain
}

struct Writer<'a> {
    xml: String,
    masks: Vec<(String, &'a Mask)>,
}

impl<'a> Writer<'a> {
    /// `<layer …/>` for the layer at stack position `index`, inside `depth` groups.
    fn layer(&mut self, layer: &'a Layer, index: usize, depth: usize) {
        let indent = " ".repeat(depth + 2);
        let _ = write!(
            self.xml,
            "{indent}<layer name=\"{}\" src=\"{}\" x=\"{}\" y=\"{}\" opacity=\"{}\" visibility=\"{}\" composite-op=\"{}\"",
            escape(layer.name.as_str()),
            layer_src(index),
            layer.offset.x,
            layer.offset.y,
            layer.opacity.clamp(0.0, 1.0),
            visibility(layer.visible),
            layer.blend.ora_op(),
        );
        if layer.locked {
            self.xml.push_str(" edit-locked=\"true\"");
        }
        let fill = layer.fill_opacity.clamp(0.0, 1.0);
        if fill < 1.0 {
            let _ = write!(self.xml, " {}=\"{fill}\"", names::FILL_OPACITY);
        }
        if layer.clipped {
            let _ = write!(self.xml, " {}=\"true\"", names::CLIPPED);
        }
        self.mask(layer.mask.as_ref());
        self.xml.push_str("/>\n");
    }

    /// The opening `<stack …>` of a group inside `depth` others.
    fn open_group(&mut self, group: &'a Group, depth: usize) {
        let indent = " ".repeat(depth + 2);
        let _ = write!(
            self.xml,
            "{indent}<stack name=\"{}\" opacity=\"{}\" visibility=\"{}\" composite-op=\"{}\" isolation=\"{}\"",
            escape(group.name.as_str()),
            group.opacity.clamp(0.0, 1.0),
            visibility(group.visible),
            group.blend.ora_op(),
            if group.pass_through {
                "auto"
            } else {
                "isolate"
            },
        );
        if group.locked {
            self.xml.push_str(" edit-locked=\"true\"");
        }
        if group.collapsed {
            let _ = write!(self.xml, " {}=\"true\"", names::COLLAPSED);
        }
        let fill = group.fill_opacity.clamp(0.0, 1.0);
        if fill < 1.0 {
            let _ = write!(self.xml, " {}=\"{fill}\"", names::FILL_OPACITY);
        }
        self.mask(group.mask.as_ref());
        self.xml.push_str(">\n");
    }

    /// The closing tag of a group inside `depth` others.
    fn close_group(&mut self, depth: usize) {
        let _ = writeln!(self.xml, "{}</stack>", " ".repeat(depth + 2));
    }

    /// Strata's mask attributes, and the mask queued for its own PNG. Positions are canvas
    /// positions: Strata writes no stack offsets, so the frame is the canvas.
    fn mask(&mut self, mask: Option<&'a Mask>) {
        let Some(mask) = mask else {
            return;
        };
        let src = format!("data/mask{:03}.png", self.masks.len() + 1);
        let _ = write!(
            self.xml,
            " {}=\"{src}\" {}=\"{}\" {}=\"{}\" {}=\"{}\" {}=\"{}\" {}=\"{}\" {}=\"{}\" {}=\"{}\"",
            names::MASK_SRC,
            names::MASK_X,
            mask.offset.x,
            names::MASK_Y,
            mask.offset.y,
            names::MASK_BACKGROUND,
            mask.background,
            names::MASK_DENSITY,
            finite_within(mask.density, 1.0),
            names::MASK_FEATHER,
            finite_within(mask.feather, MAX_FEATHER),
            names::MASK_ENABLED,
            mask.enabled,
            names::MASK_LINKED,
            mask.linked,
        );
        self.masks.push((src, mask));
    }
}

fn visibility(visible: bool) -> &'static str {
    if visible { "visible" } else { "hidden" }
}

/// `value` clamped to `0..=max`, 0 when not a number (the reader refuses NaN).
fn finite_within(value: f32, max: f32) -> f32 {
    if value.is_nan() {
        0.0
    } else {
        value.clamp(0.0, max)
    }
}
