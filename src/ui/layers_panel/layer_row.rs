//! One layer's row: eye, drag grip, indent, clip arrow, thumbnail, mask thumbnail, name,
//! lock; opacity and blend mode below, and the fill slider under them.

use egui::{Align, Layout};

use super::common::{self, Shown};
use super::{Amount, Context, DEPTH_INDENT, INDENT, LayersPanel};
use crate::model::Layer;
use crate::ui::{Command, icons};

/// How a row's pieces are told apart by screen readers and tests.
pub(super) const GRIP_HINT: &str = "Drag to reorder";

impl LayersPanel {
    /// Draws one layer row and returns its response (for selection, the menu and drops).
    pub(super) fn layer_row(
        &mut self,
        ui: &mut egui::Ui,
        cx: &Context<'_>,
        layer: &Layer,
        depth: usize,
        out: &mut Vec<Command>,
    ) -> egui::Response {
        let shown = Shown {
            id: layer.id,
            name: &layer.name,
            kind: "layer",
            visible: layer.visible,
            hidden_by_group: layer.visible && !cx.doc.is_shown(layer.id),
            locked: layer.locked,
            blend: layer.blend,
            pass_through: None,
            is_base: cx.bases.contains(&layer.id),
        };
        // "Lock all", or a locked group around it: its style cannot change either.
        let editable = !cx.doc.is_locked(layer.id);
        let indent = depth as f32 * DEPTH_INDENT;
        let is_selected = cx.selected == Some(layer.id);
        let row = common::row_frame(ui, layer.id, is_selected, |ui| {
            ui.horizontal(|ui| {
                common::eye(ui, &shown, out);
                grip(ui, layer.id);
                if indent > 0.0 {
                    ui.add_space(indent);
                }
                if layer.clipped {
                    icons::clip_arrow(ui)
                        .on_hover_text("Clipped: shows only where the layer below does");
                }
                self.thumbnails.show(ui, cx.doc, layer);
                if let Some(mask) = &layer.mask {
                    self.masks
                        .show(ui, cx.doc, layer.id, &layer.name, mask, editable, out);
                }
                ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                    common::lock(ui, &shown, out);
                    common::kept_badge(ui, &shown, &layer.kept);
                    ui.with_layout(Layout::left_to_right(Align::Center), |ui| {
                        self.name(ui, &shown, out);
                    });
                });
            });
            ui.horizontal(|ui| {
                ui.add_space(INDENT + indent);
                ui.add_enabled_ui(editable, |ui| {
                    self.slider(ui, layer.id, layer.opacity, Amount::Opacity, out);
                    common::blend_combo(ui, &shown, out);
                });
            });
            ui.horizontal(|ui| {
                ui.add_space(INDENT + indent);
                ui.add_enabled_ui(editable, |ui| {
                    self.slider(ui, layer.id, layer.fill_opacity, Amount::Fill, out);
                    ui.label("Fill");
                });
            });
        });
        row.context_menu(|ui| self.layer_menu(ui, cx.doc, layer, out));
        row
    }
}

/// The drag handle of a row; its payload is the row's layer or group id.
pub(super) fn grip(ui: &mut egui::Ui, id: crate::model::LayerId) {
    let handle_id = egui::Id::unique(("layer-drag", id.0));
    ui.dnd_drag_source(handle_id, id, icons::grip)
        .response
        .on_hover_text(GRIP_HINT);
}
