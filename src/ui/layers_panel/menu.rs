//! The right-click menus of layer and group rows.

use super::LayersPanel;
use super::masks::mask_menu;
use crate::decompose::jobs::Target;
use crate::model::{Document, Group, Layer, LayerId};
use crate::ui::Command;
use crate::ui::layer_menu::GROUP_NOT_YET;

impl LayersPanel {
    /// The menu of a layer row.
    pub(super) fn layer_menu(
        &mut self,
        ui: &mut egui::Ui,
        doc: &Document,
        layer: &Layer,
        out: &mut Vec<Command>,
    ) {
        let id = layer.id;
        order_items(ui, doc, id, out);
        ui.separator();
        if ui.button("Rename…").clicked() {
            self.start_rename(id, &layer.name);
        }
        if ui.button("Show only this layer").clicked() {
            out.push(Command::Solo(id));
        }
        ui.separator();
        if ui.button("Duplicate").clicked() {
            out.push(Command::DuplicateLayer(id));
        }
        let editable = !doc.is_locked(id);
        let below = doc
            .index_of(id)
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| doc.layers.get(i));
        let can_merge = below.is_some_and(|b| b.parent == layer.parent);
        if ui
            .add_enabled(editable && can_merge, egui::Button::new("Merge down"))
            .clicked()
        {
            out.push(Command::MergeDown(id));
        }
        if ui
            .add_enabled(editable, egui::Button::new("Delete"))
            .clicked()
        {
            out.push(Command::DeleteLayer(id));
        }
        let lock_text = if layer.locked { "Unlock" } else { "Lock" };
        if ui.button(lock_text).clicked() {
            out.push(Command::SetLocked(id, !layer.locked));
        }
        ui.separator();
        if ui.button("Group layers").clicked() {
            out.push(Command::GroupLayers(id));
        }
        let bottom = doc.children(layer.parent).first() == Some(&id);
        let (clip_text, can) = if layer.clipped {
            ("Release clipping mask", true)
        } else {
            ("Create clipping mask", !bottom)
        };
        if ui
            .add_enabled(editable && can, egui::Button::new(clip_text))
            .on_disabled_hover_text(
                "The bottom layer of a group or of the document has nothing below to clip to",
            )
            .clicked()
        {
            out.push(Command::SetClipped(id, !layer.clipped));
        }
        if let Some(mask) = &layer.mask {
            ui.separator();
            mask_menu(ui, id, mask.enabled, editable, out);
        }
        ui.separator();
        if ui
            .add_enabled(editable, egui::Button::new("Decompose this layer"))
            .on_hover_text(
                "Split this layer into sub-layers, gathered in a group named after it, with \
                 the Decompose menu's settings",
            )
            .clicked()
        {
            out.push(Command::DecomposeWithMenuOptions(Target::Layer(id)));
        }
    }

    /// The menu of a group row.
    pub(super) fn group_menu(
        &mut self,
        ui: &mut egui::Ui,
        doc: &Document,
        group: &Group,
        out: &mut Vec<Command>,
    ) {
        let id = group.id;
        let editable = !doc.is_locked(id);
        order_items(ui, doc, id, out);
        ui.separator();
        if ui.button("Rename…").clicked() {
            self.start_rename(id, &group.name);
        }
        let fold = if group.collapsed {
            "Expand group"
        } else {
            "Collapse group"
        };
        if ui.button(fold).clicked() {
            out.push(Command::SetCollapsed(id, !group.collapsed));
        }
        ui.separator();
        ui.add_enabled(false, egui::Button::new("Duplicate"))
            .on_disabled_hover_text(GROUP_NOT_YET);
        ui.add_enabled(false, egui::Button::new("Merge down"))
            .on_disabled_hover_text(GROUP_NOT_YET);
        if ui
            .add_enabled(editable, egui::Button::new("Delete group"))
            .on_hover_text("Delete the group and everything in it")
            .on_disabled_hover_text("The group, a group around it or a layer in it is locked")
            .clicked()
        {
            out.push(Command::DeleteLayer(id));
        }
        let lock_text = if group.locked { "Unlock" } else { "Lock" };
        if ui.button(lock_text).clicked() {
            out.push(Command::SetLocked(id, !group.locked));
        }
        ui.separator();
        if ui.button("Group layers").clicked() {
            out.push(Command::GroupLayers(id));
        }
        if ui
            .add_enabled(editable, egui::Button::new("Ungroup"))
            .on_hover_text("Move the group's layers out of it and remove the group")
            .clicked()
        {
            out.push(Command::Ungroup(id));
        }
        let pass = if group.pass_through {
            "Isolate (stop passing through)"
        } else {
            "Pass through"
        };
        if ui.add_enabled(editable, egui::Button::new(pass)).clicked() {
            out.push(Command::SetPassThrough(id, !group.pass_through));
        }
        if let Some(mask) = &group.mask {
            ui.separator();
            mask_menu(ui, id, mask.enabled, editable, out);
        }
    }
}

/// Bring to front, move up, move down, send to back: within the node's own group.
fn order_items(ui: &mut egui::Ui, doc: &Document, id: LayerId, out: &mut Vec<Command>) {
    let parent = doc.parent_of(id);
    let siblings = doc.children(parent);
    let Some(at) = siblings.iter().position(|s| *s == id) else {
        return;
    };
    let top = siblings.len() - 1;
    let items = [
        ("Bring to front", at < top, top),
        ("Move up", at < top, at + 1),
        ("Move down", at > 0, at.saturating_sub(1)),
        ("Send to back", at > 0, 0),
    ];
    for (text, enabled, position) in items {
        if ui.add_enabled(enabled, egui::Button::new(text)).clicked() {
            out.push(Command::MoveNode {
                id,
                parent,
                position,
            });
        }
    }
}
