//! The buttons under the list: new layer, new group, duplicate, merge down, delete, for the
//! selected layer or group.

use crate::model::{Document, LayerId};
use crate::ui::Command;
use crate::ui::layer_menu::GROUP_NOT_YET;

/// New / group / duplicate / merge down / delete buttons under the list.
pub(super) fn toolbar(
    ui: &mut egui::Ui,
    doc: &Document,
    selected: Option<LayerId>,
    out: &mut Vec<Command>,
) {
    let layer = selected.and_then(|id| doc.layer(id));
    let group = selected.and_then(|id| doc.group(id));
    let id = layer.map(|l| l.id).or(group.map(|g| g.id));
    let editable = id.is_some_and(|id| !doc.is_locked(id));
    let has_below = layer.is_some_and(|l| {
        doc.index_of(l.id)
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| doc.layers.get(i))
            .is_some_and(|below| below.parent == l.parent)
    });
    let has_picture = doc.width > 0 && doc.height > 0;
    ui.horizontal_wrapped(|ui| {
        let button = |ui: &mut egui::Ui, enabled: bool, text: &str, hint: &str| {
            ui.add_enabled(enabled, egui::Button::new(text).small())
                .on_hover_text(hint)
        };
        if button(ui, has_picture, "New", "New empty layer (Ctrl+Shift+N)").clicked() {
            out.push(Command::NewLayer);
        }
        let Some(id) = id else {
            return;
        };
        if button(ui, true, "Group", "Put it into a new group (Ctrl+G)").clicked() {
            out.push(Command::GroupLayers(id));
        }
        let is_layer = layer.is_some();
        if button(ui, is_layer, "Duplicate", "Duplicate the layer (Ctrl+J)")
            .on_disabled_hover_text(GROUP_NOT_YET)
            .clicked()
        {
            out.push(Command::DuplicateLayer(id));
        }
        let merge = button(
            ui,
            is_layer && editable && has_below,
            "Merge down",
            "Merge into the layer below (Ctrl+E)",
        );
        let merge = if is_layer {
            merge
        } else {
            merge.on_disabled_hover_text(GROUP_NOT_YET)
        };
        if merge.clicked() {
            out.push(Command::MergeDown(id));
        }
        let hint = if is_layer {
            "Delete the layer (Delete)"
        } else {
            "Delete the group and everything in it (Delete)"
        };
        if button(ui, editable, "Delete", hint).clicked() {
            out.push(Command::DeleteLayer(id));
        }
    });
}
