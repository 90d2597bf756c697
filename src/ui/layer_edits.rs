//! The layer-stack and layer-property commands of [`StrataApp::apply`]: new, duplicate,
//! delete, merge down, lock, and the edits a drag spreads over many frames (opacity, fill,
//! position).
//!
//! None of them checks locks: `apply` has refused a command on a locked layer before it gets
//! here (see [`crate::ui::Command::layers_it_changes`]).

use super::app::Applying;
use super::{Gesture, StrataApp};
use crate::model::{Document, LayerId, Offset};

impl StrataApp {
    pub(super) fn new_layer(&mut self, applying: &Applying) {
        if self.doc.width == 0 || self.doc.height == 0 {
            return self.messages.info("Open a picture first.");
        }
        let above = self.selected;
        let id = self
            .history
            .record("New layer", self.doc.edit(applying), |doc| {
                doc.add_empty_layer(above)
            });
        self.selected = Some(id);
        // Inside a folded group, the new layer's row would not be seen.
        self.reveal(applying, id);
    }

    pub(super) fn duplicate_layer(&mut self, applying: &Applying, id: LayerId) {
        if self.doc.group(id).is_some() {
            return self
                .messages
                .info("Duplicating a group is not supported yet; duplicate its layers.");
        }
        let copy = self
            .history
            .record("Duplicate layer", self.doc.edit(applying), |doc| {
                doc.duplicate_layer(id)
            });
        if let Some(copy) = copy {
            self.selected = Some(copy);
        }
    }

    pub(super) fn delete_layer(&mut self, applying: &Applying, id: LayerId) {
        if self.doc.group(id).is_some() {
            return self.delete_group(applying, id);
        }
        let Some(index) = self.doc.index_of(id) else {
            return;
        };
        self.history
            .record("Delete layer", self.doc.edit(applying), |doc| {
                doc.remove_layer(id);
            });
        // Photoshop selects the layer that was below (or the new bottom one).
        let below = index.saturating_sub(1);
        self.selected = self.doc.layers.get(below).map(|l| l.id);
    }

    pub(super) fn merge_down(&mut self, applying: &Applying, id: LayerId) {
        if self.doc.group(id).is_some() {
            return self
                .messages
                .info("Merge down works on layers; a group cannot be merged yet.");
        }
        let mut outcome = None;
        self.history
            .record("Merge down", self.doc.edit(applying), |doc| {
                outcome = Some(doc.merge_down(id));
            });
        match outcome {
            Some(Ok(merged)) => self.selected = Some(merged),
            Some(Err(err)) => self.messages.error(format!("Cannot merge down: {err}.")),
            None => {}
        }
    }

    pub(super) fn set_locked(&mut self, applying: &Applying, id: LayerId, locked: bool) {
        let kind = super::group_edits::kind(&self.doc, id);
        let label = if locked {
            format!("Lock {kind}")
        } else {
            format!("Unlock {kind}")
        };
        self.edit_node(applying, &label, id, |node| *node.locked = locked);
    }

    pub(super) fn set_offset(
        &mut self,
        applying: &Applying,
        id: LayerId,
        offset: Offset,
        gesture: Gesture,
    ) {
        let label = if gesture == Gesture::Once {
            "Nudge layer"
        } else {
            "Move layer"
        };
        self.gesture_edit(applying, label, gesture, |doc| {
            if let Some(layer) = doc.layer_mut(id) {
                // A move, not a re-placing: by the step, so that a linked mask goes along
                // as Photoshop moves it (`set_offset` alone would leave it behind). The
                // `set_offset` after it only matters where the step saturated at i32's
                // ends, to land exactly on `offset`.
                let dx = offset.x.saturating_sub(layer.offset.x);
                let dy = offset.y.saturating_sub(layer.offset.y);
                layer.translate(dx, dy);
                layer.set_offset(offset);
            }
        });
    }

    pub(super) fn set_opacity(
        &mut self,
        applying: &Applying,
        id: LayerId,
        opacity: f32,
        gesture: Gesture,
    ) {
        let opacity = opacity.clamp(0.0, 1.0);
        let label = format!(
            "{} opacity",
            capitalised(super::group_edits::kind(&self.doc, id))
        );
        self.gesture_edit(applying, &label, gesture, |doc| {
            if let Some(node) = super::group_edits::props(doc, id) {
                *node.opacity = opacity;
            }
        });
    }

    pub(super) fn set_fill_opacity(
        &mut self,
        applying: &Applying,
        id: LayerId,
        fill: f32,
        gesture: Gesture,
    ) {
        let fill = fill.clamp(0.0, 1.0);
        self.gesture_edit(applying, "Layer fill", gesture, |doc| {
            if let Some(layer) = doc.layer_mut(id) {
                layer.fill_opacity = fill;
            }
        });
    }

    /// Applies `edit` as part of a drag gesture: `Begin` opens an undo transaction, `Update`
    /// changes the document inside it, `End` commits it (one undo step for the whole drag),
    /// and `Once` is a step by itself.
    pub(super) fn gesture_edit(
        &mut self,
        applying: &Applying,
        label: &str,
        gesture: Gesture,
        edit: impl FnOnce(&mut Document),
    ) {
        let doc = self.doc.edit(applying);
        match gesture {
            Gesture::Begin | Gesture::Update => {
                // An Update with no open transaction (an undo in mid-drag committed it)
                // starts a new one, so no change escapes the history.
                if !self.history.is_open() {
                    self.history.begin(label, doc);
                }
                edit(doc);
            }
            Gesture::End => {
                if self.history.is_open() {
                    edit(doc);
                    self.history.commit(doc);
                }
            }
            Gesture::Once => self.history.record(label, doc, edit),
        }
    }
}

/// "layer" → "Layer", for undo labels.
fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
