//! The layer-tree commands of [`StrataApp::apply`]: grouping, ungrouping, moving into and
//! out of groups, clipping, masks, folding, moving a whole group, and the property edits
//! that work alike on a layer and a group.
//!
//! None of them checks locks: `apply` has refused a command on a locked layer or group
//! before it gets here (see [`crate::ui::Command::layers_it_changes`]).

use super::app::Applying;
use super::{Gesture, StrataApp};
use crate::model::{BlendMode, Document, LayerId, Mask};

/// The properties a layer and a group share, borrowed from whichever `id` names, so one
/// edit serves both (visibility, opacity, mode, name, lock, mask).
pub(super) struct NodeProps<'a> {
    pub(super) visible: &'a mut bool,
    pub(super) opacity: &'a mut f32,
    pub(super) blend: &'a mut BlendMode,
    pub(super) name: &'a mut String,
    pub(super) locked: &'a mut bool,
    pub(super) mask: &'a mut Option<Mask>,
    /// A group's pass-through flag; `None` for a layer.
    pub(super) pass_through: Option<&'a mut bool>,
}

/// The shared properties of the layer or group `id`, to change.
pub(super) fn props(doc: &mut Document, id: LayerId) -> Option<NodeProps<'_>> {
    if let Some(index) = doc.index_of(id) {
        let l = &mut doc.layers[index];
        return Some(NodeProps {
            visible: &mut l.visible,
            opacity: &mut l.opacity,
            blend: &mut l.blend,
            name: &mut l.name,
            locked: &mut l.locked,
            mask: &mut l.mask,
            pass_through: None,
        });
    }
    let g = doc.group_mut(id)?;
    Some(NodeProps {
        visible: &mut g.visible,
        opacity: &mut g.opacity,
        blend: &mut g.blend,
        name: &mut g.name,
        locked: &mut g.locked,
        mask: &mut g.mask,
        pass_through: Some(&mut g.pass_through),
    })
}

/// "layer" or "group", for undo labels and messages.
pub(super) fn kind(doc: &Document, id: LayerId) -> &'static str {
    if doc.group(id).is_some() {
        "group"
    } else {
        "layer"
    }
}

/// The name of the layer or group `id` (empty if there is none).
pub(super) fn name_of(doc: &Document, id: LayerId) -> String {
    match doc.layer(id) {
        Some(layer) => layer.name.clone(),
        None => doc.group(id).map(|g| g.name.clone()).unwrap_or_default(),
    }
}

/// Which groups are folded in the panel: the view state that undo and "unsaved changes"
/// leave alone.
pub(super) fn folded(doc: &Document) -> Vec<(LayerId, bool)> {
    doc.groups.iter().map(|g| (g.id, g.collapsed)).collect()
}

/// Puts back the folding recorded by [`folded`] on the groups that still exist.
pub(super) fn refold(doc: &mut Document, folding: &[(LayerId, bool)]) {
    for &(id, collapsed) in folding {
        if let Some(group) = doc.group_mut(id) {
            group.collapsed = collapsed;
        }
    }
}

/// "1 layer", "3 layers".
fn layers(n: usize) -> String {
    if n == 1 {
        "1 layer".to_string()
    } else {
        format!("{n} layers")
    }
}

impl StrataApp {
    /// Changes one layer or group as one undo step; does nothing if neither has `id`.
    pub(super) fn edit_node(
        &mut self,
        applying: &Applying,
        label: &str,
        id: LayerId,
        edit: impl FnOnce(NodeProps<'_>),
    ) {
        if self.doc.layer(id).is_none() && self.doc.group(id).is_none() {
            return;
        }
        self.history.record(label, self.doc.edit(applying), |doc| {
            if let Some(node) = props(doc, id) {
                edit(node);
            }
        });
    }

    /// Wraps a layer or group in a new pass-through group and selects the group (Ctrl+G).
    pub(super) fn group_layers(&mut self, applying: &Applying, id: LayerId) {
        let count = self.doc.node_range(id).map_or(0, |r| r.len());
        if count == 0 {
            return self.messages.info("Select a layer or group to group.");
        }
        let grouped = self
            .history
            .record("Group layers", self.doc.edit(applying), |doc| {
                doc.group_node(id)
            });
        match grouped {
            Ok(group) => {
                self.selected = Some(group);
                let name = name_of(&self.doc, group);
                self.messages
                    .info(format!("Grouped {} into \"{name}\"", layers(count)));
            }
            Err(err) => self.messages.error(format!("Cannot group: {err}.")),
        }
    }

    /// Dissolves a group into its parent and selects its topmost former member.
    pub(super) fn ungroup(&mut self, applying: &Applying, id: LayerId) {
        let Some(group) = self.doc.group(id) else {
            return self.messages.info("Select a group to ungroup.");
        };
        let name = group.name.clone();
        let members = self.doc.children(Some(id));
        let count = self.doc.node_range(id).map_or(0, |r| r.len());
        let done = self
            .history
            .record("Ungroup", self.doc.edit(applying), |doc| doc.ungroup(id));
        match done {
            Ok(()) => {
                self.selected = members.last().copied();
                self.messages
                    .info(format!("Ungrouped \"{name}\" ({})", layers(count)));
            }
            Err(err) => self.messages.error(format!("Cannot ungroup: {err}.")),
        }
    }

    /// Moves a layer or group into `parent` at `position` (a drop in the layer panel).
    pub(super) fn move_node(
        &mut self,
        applying: &Applying,
        id: LayerId,
        parent: Option<LayerId>,
        position: usize,
    ) {
        let label = format!("Move {}", kind(&self.doc, id));
        let moved = self.history.record(label, self.doc.edit(applying), |doc| {
            doc.move_node(id, parent, position)
        });
        if let Err(err) = moved {
            self.messages.info(format!("Cannot move it there: {err}."));
        }
    }

    /// Clips a layer to the node below it, or releases it. Refused for a group and for the
    /// bottom layer of its group or of the document, which have nothing to clip to.
    pub(super) fn set_clipped(&mut self, applying: &Applying, id: LayerId, clipped: bool) {
        let Some(layer) = self.doc.layer(id) else {
            if self.doc.group(id).is_some() {
                self.messages
                    .info("Only layers can be clipped; a group can be the base of a clip.");
            }
            return;
        };
        let name = layer.name.clone();
        let siblings = self.doc.children(layer.parent);
        if clipped && siblings.first() == Some(&id) {
            let stack = if layer.parent.is_some() {
                "its group"
            } else {
                "the document"
            };
            return self.messages.info(format!(
                "\"{name}\" is the bottom layer of {stack}: there is nothing below to clip it to."
            ));
        }
        let label = if clipped {
            "Create clipping mask"
        } else {
            "Release clipping mask"
        };
        self.history.record(label, self.doc.edit(applying), |doc| {
            if let Some(layer) = doc.layer_mut(id) {
                layer.clipped = clipped;
            }
        });
        let text = match clip_base(&self.doc, id) {
            Some(base) if clipped => {
                format!("Clipped \"{name}\" to \"{}\"", name_of(&self.doc, base))
            }
            _ => format!("Released \"{name}\" from its clipping mask"),
        };
        self.messages.info(text);
    }

    /// Folds or unfolds a group's rows. Not an undo step and not an unsaved change: the
    /// last saved state takes the same folding, so the document stays as clean as it was.
    pub(super) fn set_collapsed(&mut self, applying: &Applying, id: LayerId, collapsed: bool) {
        if let Some(group) = self.doc.edit(applying).group_mut(id) {
            group.collapsed = collapsed;
        }
        self.unsaved.take_folding(&self.doc);
    }

    /// Unfolds the groups around `id`, so its row can be seen (after a canvas click).
    pub(super) fn reveal(&mut self, applying: &Applying, id: LayerId) {
        let folded: Vec<LayerId> = self
            .doc
            .ancestors(id)
            .into_iter()
            .filter(|g| self.doc.group(*g).is_some_and(|g| g.collapsed))
            .collect();
        for group in folded {
            self.set_collapsed(applying, group, false);
        }
    }

    /// Makes a group pass-through, or isolated with its own blend mode.
    pub(super) fn set_pass_through(&mut self, applying: &Applying, id: LayerId, on: bool) {
        if self.doc.group(id).is_none() {
            return;
        }
        let label = if on { "Pass through" } else { "Isolate group" };
        self.edit_node(applying, label, id, |node| {
            if let Some(pass) = node.pass_through {
                *pass = on;
            }
        });
    }

    /// Sets a layer's blend mode, or a group's (which then stops passing through, as
    /// picking a mode in Photoshop's menu does).
    pub(super) fn set_blend(&mut self, applying: &Applying, id: LayerId, mode: BlendMode) {
        self.edit_node(applying, "Blend mode", id, |node| {
            *node.blend = mode;
            if let Some(pass) = node.pass_through {
                *pass = false;
            }
        });
    }

    /// Turns a layer's or group's mask on or off.
    pub(super) fn set_mask_enabled(&mut self, applying: &Applying, id: LayerId, enabled: bool) {
        if self.doc.layer(id).and_then(|l| l.mask.as_ref()).is_none()
            && self.doc.group(id).and_then(|g| g.mask.as_ref()).is_none()
        {
            return self.messages.info("That layer has no mask.");
        }
        let label = if enabled {
            "Enable mask"
        } else {
            "Disable mask"
        };
        self.edit_node(applying, label, id, |node| {
            if let Some(mask) = node.mask.as_mut() {
                mask.enabled = enabled;
            }
        });
        let state = if enabled { "on" } else { "off" };
        let name = name_of(&self.doc, id);
        self.messages.info(format!("Mask of \"{name}\" {state}"));
    }

    /// Throws a layer's or group's mask away.
    pub(super) fn delete_mask(&mut self, applying: &Applying, id: LayerId) {
        let had = self.doc.layer(id).is_some_and(|l| l.mask.is_some())
            || self.doc.group(id).is_some_and(|g| g.mask.is_some());
        if !had {
            return;
        }
        self.edit_node(applying, "Delete mask", id, |node| *node.mask = None);
        let name = name_of(&self.doc, id);
        self.messages
            .info(format!("Deleted the mask of \"{name}\""));
    }

    /// Moves every layer of a group, and the linked masks of its layers and groups, by
    /// (`dx`, `dy`) as part of a move-tool drag.
    pub(super) fn translate_group(
        &mut self,
        applying: &Applying,
        id: LayerId,
        (dx, dy): (i32, i32),
        gesture: Gesture,
    ) {
        if self.doc.group(id).is_none() {
            return;
        }
        let label = if gesture == Gesture::Once {
            "Nudge group"
        } else {
            "Move group"
        };
        self.gesture_edit(applying, label, gesture, |doc| {
            let inner: Vec<LayerId> = doc
                .groups
                .iter()
                .map(|g| g.id)
                .filter(|g| doc.is_within(*g, id))
                .collect();
            let members: Vec<usize> = (0..doc.layers.len())
                .filter(|&i| doc.is_within(doc.layers[i].id, id))
                .collect();
            for index in members {
                doc.layers[index].translate(dx, dy);
            }
            for group in inner {
                if let Some(mask) = doc
                    .group_mut(group)
                    .and_then(|g| g.mask.as_mut())
                    .filter(|m| m.linked)
                {
                    mask.offset.x = mask.offset.x.saturating_add(dx);
                    mask.offset.y = mask.offset.y.saturating_add(dy);
                }
            }
        });
    }

    /// Deletes a group with everything in it as one step, and selects what was below it.
    pub(super) fn delete_group(&mut self, applying: &Applying, id: LayerId) {
        let Some(range) = self.doc.node_range(id) else {
            return;
        };
        let name = name_of(&self.doc, id);
        let removed = self
            .history
            .record("Delete group", self.doc.edit(applying), |doc| {
                doc.remove_group(id)
            });
        if removed.is_ok() {
            let below = range.start.saturating_sub(1);
            self.selected = self.doc.layers.get(below).map(|l| l.id);
            self.messages.info(format!(
                "Deleted group \"{name}\" and its {}",
                layers(range.len())
            ));
        }
    }
}

/// The node a clipped layer clips to: the nearest unclipped sibling below it (a layer or a
/// group), as the compositors find it. `None` when `id` is not clipped or has no base.
pub fn clip_base(doc: &Document, id: LayerId) -> Option<LayerId> {
    let layer = doc.layer(id).filter(|l| l.clipped)?;
    let siblings = doc.children(layer.parent);
    let at = siblings.iter().position(|s| *s == id)?;
    siblings[..at]
        .iter()
        .rev()
        .find(|s| doc.layer(**s).is_none_or(|l| !l.clipped))
        .copied()
}
