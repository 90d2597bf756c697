//! One group's header row: eye, drag grip, indent, disclosure triangle, folder, mask
//! thumbnail, name, lock; opacity and the blend menu (with "Pass Through") below.

use egui::{Align, Layout};

use super::common::{self, Shown};
use super::layer_row::grip;
use super::{Amount, Context, DEPTH_INDENT, INDENT, LayersPanel};
use crate::model::Group;
use crate::ui::{Command, icons};

impl LayersPanel {
    /// Draws one group's row and returns its response (for selection, the menu and drops).
    pub(super) fn group_row(
        &mut self,
        ui: &mut egui::Ui,
        cx: &Context<'_>,
        group: &Group,
        depth: usize,
        out: &mut Vec<Command>,
    ) -> egui::Response {
        let shown = Shown {
            id: group.id,
            name: &group.name,
            kind: "group",
            visible: group.visible,
            hidden_by_group: group.visible && !cx.doc.is_shown(group.id),
            locked: group.locked,
            blend: group.blend,
            pass_through: Some(group.pass_through),
            is_base: cx.bases.contains(&group.id),
        };
        let editable = !cx.doc.is_locked(group.id);
        let indent = depth as f32 * DEPTH_INDENT;
        let is_selected = cx.selected == Some(group.id);
        let row = common::row_frame(ui, group.id, is_selected, |ui| {
            ui.horizontal(|ui| {
                common::eye(ui, &shown, out);
                grip(ui, group.id);
                if indent > 0.0 {
                    ui.add_space(indent);
                }
                disclosure(ui, group, out);
                icons::folder(ui, !group.collapsed);
                if let Some(mask) = &group.mask {
                    self.masks
                        .show(ui, cx.doc, group.id, &group.name, mask, editable, out);
                }
                ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                    common::lock(ui, &shown, out);
                    common::kept_badge(ui, &shown, &group.kept);
                    ui.with_layout(Layout::left_to_right(Align::Center), |ui| {
                        self.name(ui, &shown, out);
                    });
                });
            });
            ui.horizontal(|ui| {
                ui.add_space(INDENT + indent);
                ui.add_enabled_ui(editable, |ui| {
                    self.slider(ui, group.id, group.opacity, Amount::Group, out);
                    common::blend_combo(ui, &shown, out);
                });
            });
        });
        row.context_menu(|ui| self.group_menu(ui, cx.doc, group, out));
        row
    }
}

/// The triangle that folds and unfolds the group's members.
fn disclosure(ui: &mut egui::Ui, group: &Group, out: &mut Vec<Command>) {
    let label = if group.collapsed {
        format!("Expand group {}", group.name)
    } else {
        format!("Collapse group {}", group.name)
    };
    let hint = if group.collapsed {
        "Show the layers in this group"
    } else {
        "Hide the layers in this group from the list"
    };
    if icons::disclosure(ui, group.collapsed, &label)
        .on_hover_text(hint)
        .clicked()
    {
        out.push(Command::SetCollapsed(group.id, !group.collapsed));
    }
}
