//! The layer list, top layer first as in Photoshop: visibility eye, thumbnail, name, lock,
//! opacity, blend mode, fill; a toolbar below for new, duplicate, merge down and delete.
//!
//! The panel only reads the document and pushes [`Command`]s; the little state it keeps is
//! about widgets in progress (a rename being typed, an opacity slider being dragged).

use egui::{Align, Frame, Layout, Margin, RichText, Sense, Stroke, UiBuilder};

use super::thumbnails::Thumbnails;
use super::{Command, Gesture, icons};
use crate::decompose::jobs::Target;
use crate::model::{BlendMode, Document, Layer, LayerId};

/// Width of the blend-mode menu, in points.
const BLEND_WIDTH: f32 = 100.0;
/// Room for the slider's value box ("100 %"), the combo's arrow and the spacing between
/// widgets, in points (measured: less than this and the panel grows to fit the row).
const VALUE_WIDTH: f32 = 76.0;
/// Width of the slider's value box, wide enough for "100 %", in points.
const VALUE_BOX_WIDTH: f32 = 52.0;
/// Indent of a row's second line, so it starts under the name.
const INDENT: f32 = 26.0;

/// Which of a layer's two opacity sliders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Amount {
    /// Layer opacity: the pixels and (in Photoshop) the effects.
    Opacity,
    /// Fill opacity: the pixels only.
    Fill,
}

/// Widget state of the layers panel between frames.
#[derive(Debug, Default)]
pub struct LayersPanel {
    /// The layer being renamed and the text typed so far.
    renaming: Option<(LayerId, String)>,
    /// Give the rename field keyboard focus on the next frame it is shown.
    focus_rename: bool,
    /// The layer and slider held down (an open undo transaction).
    slider_drag: Option<(LayerId, Amount)>,
    /// Thumbnail textures, rebuilt when a layer's pixels change.
    thumbnails: Thumbnails,
}

impl LayersPanel {
    /// Draws the panel and pushes the commands the person asked for into `out`.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        doc: &Document,
        selected: Option<LayerId>,
        out: &mut Vec<Command>,
    ) {
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            ui.heading("Layers");
            ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                ui.weak(format!("{}", doc.layers.len()));
            });
        });
        ui.separator();
        self.thumbnails.retain(doc);
        egui::Panel::bottom("layer-toolbar")
            .show_separator_line(true)
            .show(ui, |ui| toolbar(ui, doc, selected, out));
        if doc.layers.is_empty() {
            ui.weak("No layers.");
            return;
        }
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                for (stack_index, layer) in doc.layers.iter().enumerate().rev() {
                    let is_selected = selected == Some(layer.id);
                    self.row(ui, doc, layer, stack_index, is_selected, out);
                }
            });
    }

    /// One layer row: eye, drag handle, name; opacity slider and blend mode below, and the
    /// fill slider under them.
    fn row(
        &mut self,
        ui: &mut egui::Ui,
        doc: &Document,
        layer: &Layer,
        stack_index: usize,
        is_selected: bool,
        out: &mut Vec<Command>,
    ) {
        let fill = if is_selected {
            ui.visuals().selection.bg_fill.gamma_multiply(0.45)
        } else {
            ui.visuals().faint_bg_color
        };
        let builder = UiBuilder::new()
            .id_salt(("layer-row", layer.id.0))
            .sense(Sense::click());
        let row = ui
            .scope_builder(builder, |ui| {
                Frame::new()
                    .fill(fill)
                    .corner_radius(4)
                    .inner_margin(Margin::symmetric(6, 4))
                    .show(ui, |ui| {
                        ui.set_width(ui.available_width());
                        ui.horizontal(|ui| {
                            self.eye(ui, layer, out);
                            let handle_id = egui::Id::unique(("layer-drag", layer.id.0));
                            ui.dnd_drag_source(handle_id, layer.id, icons::grip)
                                .response
                                .on_hover_text("Drag to reorder");
                            self.thumbnails.show(ui, doc, layer);
                            ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                                lock(ui, layer, out);
                                ui.with_layout(Layout::left_to_right(Align::Center), |ui| {
                                    self.name(ui, layer, out);
                                });
                            });
                        });
                        ui.horizontal(|ui| {
                            ui.add_space(INDENT);
                            // "Lock all": a locked layer's style cannot change either.
                            ui.add_enabled_ui(!layer.locked, |ui| {
                                self.slider(ui, layer, Amount::Opacity, out);
                                blend_combo(ui, layer, out);
                            });
                        });
                        ui.horizontal(|ui| {
                            ui.add_space(INDENT);
                            ui.add_enabled_ui(!layer.locked, |ui| {
                                self.slider(ui, layer, Amount::Fill, out);
                                ui.label("Fill");
                            });
                        });
                    });
            })
            .response;

        if row.clicked() {
            out.push(Command::Select(layer.id));
        }
        Self::drop_target(ui, &row, doc, stack_index, out);
        row.context_menu(|ui| self.context_menu(ui, layer, stack_index, doc.layers.len(), out));
        ui.add_space(2.0);
    }

    /// The visibility toggle. Alt-click shows this layer alone (or undoes that).
    fn eye(&mut self, ui: &mut egui::Ui, layer: &Layer, out: &mut Vec<Command>) {
        let eye = icons::eye_toggle(ui, layer.visible, &layer.name)
            .on_hover_text("Show or hide (Alt-click: show only this layer)");
        if eye.clicked() {
            if ui.input(|i| i.modifiers.alt) {
                out.push(Command::Solo(layer.id));
            } else {
                out.push(Command::SetVisible(layer.id, !layer.visible));
            }
        }
    }

    /// The name, or a text field while renaming (double-click to start, Enter or click
    /// elsewhere to finish, Escape to cancel).
    fn name(&mut self, ui: &mut egui::Ui, layer: &Layer, out: &mut Vec<Command>) {
        if let Some((id, text)) = &mut self.renaming
            && *id == layer.id
        {
            let mut output = egui::TextEdit::singleline(text)
                .hint_text("Layer name")
                .desired_width(f32::INFINITY)
                .show(ui);
            if std::mem::take(&mut self.focus_rename) {
                // As in Photoshop: the old name starts selected, so typing replaces it.
                output.response.request_focus();
                let all = egui::text::CCursorRange::select_all_str(text);
                output.state.cursor.set_char_range(Some(all));
                output.state.store(ui.ctx(), output.response.id);
            }
            let edit = output.response;
            if edit.lost_focus() {
                let cancelled = ui.input(|i| i.key_pressed(egui::Key::Escape));
                if !cancelled && text.trim() != layer.name {
                    out.push(Command::Rename(layer.id, text.trim().to_string()));
                }
                self.renaming = None;
            }
            return;
        }
        let mut name = RichText::new(&layer.name);
        if !layer.visible {
            name = name.weak();
        }
        let label = ui
            .add(egui::Label::new(name).truncate().sense(Sense::click()))
            .on_hover_text("Double-click to rename");
        if label.double_clicked() {
            self.renaming = Some((layer.id, layer.name.clone()));
            self.focus_rename = true;
        } else if label.clicked() {
            out.push(Command::Select(layer.id));
        }
    }

    /// The opacity or fill slider, in percent. Holding it down is one undo step however long
    /// the drag. Both are as wide, the fill slider under the opacity slider.
    fn slider(&mut self, ui: &mut egui::Ui, layer: &Layer, amount: Amount, out: &mut Vec<Command>) {
        let value = match amount {
            Amount::Opacity => layer.opacity,
            Amount::Fill => layer.fill_opacity,
        };
        let mut percent = value * 100.0;
        // The slider takes whatever the value box and blend menu leave.
        let room = ui.available_width() - BLEND_WIDTH - VALUE_WIDTH;
        ui.spacing_mut().slider_width = room.clamp(48.0, 400.0);
        // The value box is as wide for "5 %" as for "100 %", so the blend menu after it
        // stays put while the opacity changes.
        ui.spacing_mut().interact_size.x = VALUE_BOX_WIDTH;
        let slider = egui::Slider::new(&mut percent, 0.0..=100.0)
            .suffix(" %")
            .fixed_decimals(0)
            .update_while_editing(false);
        let hover = match amount {
            Amount::Opacity => "Layer opacity",
            Amount::Fill => "Fill opacity",
        };
        let response = ui.add(slider).on_hover_text(hover);
        let held = response.is_pointer_button_down_on() || response.dragged();
        let dragging_this = self.slider_drag == Some((layer.id, amount));
        let gesture = if response.changed() {
            match (held, dragging_this) {
                (true, false) => Some(Gesture::Begin),
                (true, true) => Some(Gesture::Update),
                (false, true) => Some(Gesture::End),
                (false, false) => Some(Gesture::Once),
            }
        } else if dragging_this && !held {
            Some(Gesture::End)
        } else {
            None
        };
        match gesture {
            Some(Gesture::Begin) => self.slider_drag = Some((layer.id, amount)),
            Some(Gesture::End) => self.slider_drag = None,
            _ => {}
        }
        let Some(gesture) = gesture else { return };
        let id = layer.id;
        out.push(match amount {
            Amount::Opacity => Command::SetOpacity {
                id,
                opacity: percent / 100.0,
                gesture,
            },
            Amount::Fill => Command::SetFillOpacity {
                id,
                fill: percent / 100.0,
                gesture,
            },
        });
    }

    /// Accepts a layer dragged by its handle onto this row; shows where it would land.
    fn drop_target(
        ui: &egui::Ui,
        row: &egui::Response,
        doc: &Document,
        stack_index: usize,
        out: &mut Vec<Command>,
    ) {
        // Dropping on the upper half puts the layer above this one, like Photoshop.
        let above = ui
            .input(|i| i.pointer.interact_pos())
            .is_some_and(|p| p.y < row.rect.center().y);
        if row.dnd_hover_payload::<LayerId>().is_some() {
            let y = if above {
                row.rect.top()
            } else {
                row.rect.bottom()
            };
            let stroke = Stroke::new(2.0, ui.visuals().selection.stroke.color);
            ui.painter().hline(row.rect.x_range(), y, stroke);
        }
        if let Some(dragged) = row.dnd_release_payload::<LayerId>()
            && let Some(from) = doc.index_of(*dragged)
        {
            let to_index = drop_index(from, stack_index, above);
            if to_index != from {
                out.push(Command::MoveLayer {
                    id: *dragged,
                    to_index,
                });
            }
        }
    }

    fn context_menu(
        &mut self,
        ui: &mut egui::Ui,
        layer: &Layer,
        stack_index: usize,
        count: usize,
        out: &mut Vec<Command>,
    ) {
        let id = layer.id;
        let top = count - 1;
        if ui
            .add_enabled(stack_index < top, egui::Button::new("Bring to front"))
            .clicked()
        {
            out.push(Command::MoveLayer { id, to_index: top });
        }
        if ui
            .add_enabled(stack_index < top, egui::Button::new("Move up"))
            .clicked()
        {
            out.push(Command::MoveLayer {
                id,
                to_index: stack_index + 1,
            });
        }
        if ui
            .add_enabled(stack_index > 0, egui::Button::new("Move down"))
            .clicked()
        {
            out.push(Command::MoveLayer {
                id,
                to_index: stack_index - 1,
            });
        }
        if ui
            .add_enabled(stack_index > 0, egui::Button::new("Send to back"))
            .clicked()
        {
            out.push(Command::MoveLayer { id, to_index: 0 });
        }
        ui.separator();
        if ui.button("Rename…").clicked() {
            self.renaming = Some((id, layer.name.clone()));
            self.focus_rename = true;
        }
        if ui.button("Show only this layer").clicked() {
            out.push(Command::Solo(id));
        }
        ui.separator();
        if ui.button("Duplicate").clicked() {
            out.push(Command::DuplicateLayer(id));
        }
        let editable = !layer.locked;
        if ui
            .add_enabled(editable && stack_index > 0, egui::Button::new("Merge down"))
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
        if ui
            .add_enabled(editable, egui::Button::new("Decompose this layer"))
            .on_hover_text("Split this layer into sub-layers with the Decompose menu's settings")
            .clicked()
        {
            out.push(Command::DecomposeWithMenuOptions(Target::Layer(id)));
        }
    }
}

/// The lock toggle at the right end of a row.
fn lock(ui: &mut egui::Ui, layer: &Layer, out: &mut Vec<Command>) {
    let hint = if layer.locked {
        "Locked: cannot be moved, restyled, merged or deleted. Click to unlock."
    } else {
        "Lock the layer against changes"
    };
    if icons::lock_toggle(ui, layer.locked, &layer.name)
        .on_hover_text(hint)
        .clicked()
    {
        out.push(Command::SetLocked(layer.id, !layer.locked));
    }
}

/// New / duplicate / merge down / delete buttons under the list, for the selected layer.
fn toolbar(ui: &mut egui::Ui, doc: &Document, selected: Option<LayerId>, out: &mut Vec<Command>) {
    let layer = selected.and_then(|id| doc.layer(id));
    let editable = layer.is_some_and(|l| !l.locked);
    let has_below = selected
        .and_then(|id| doc.index_of(id))
        .is_some_and(|i| i > 0);
    let has_picture = doc.width > 0 && doc.height > 0;
    ui.horizontal_wrapped(|ui| {
        let button = |ui: &mut egui::Ui, enabled: bool, text: &str, hint: &str| {
            ui.add_enabled(enabled, egui::Button::new(text).small())
                .on_hover_text(hint)
                .clicked()
        };
        if button(ui, has_picture, "New", "New empty layer (Ctrl+Shift+N)") {
            out.push(Command::NewLayer);
        }
        let id = layer.map(|l| l.id);
        if let Some(id) = id {
            if button(ui, true, "Duplicate", "Duplicate the layer (Ctrl+J)") {
                out.push(Command::DuplicateLayer(id));
            }
            if button(
                ui,
                editable && has_below,
                "Merge down",
                "Merge into the layer below (Ctrl+E)",
            ) {
                out.push(Command::MergeDown(id));
            }
            if button(ui, editable, "Delete", "Delete the layer (Delete)") {
                out.push(Command::DeleteLayer(id));
            }
        }
    });
}

/// The blend-mode menu of one layer.
fn blend_combo(ui: &mut egui::Ui, layer: &Layer, out: &mut Vec<Command>) {
    egui::ComboBox::from_id_salt(("blend", layer.id.0))
        .selected_text(layer.blend.label())
        .width(BLEND_WIDTH)
        // All 27 modes without scrolling where the screen allows, as in Photoshop.
        .height(640.0)
        .show_ui(ui, |ui| {
            // Grouped as Photoshop's menu is: normal, darken, lighten, contrast, inversion
            // and component modes, with a separator between groups.
            for (i, group) in BlendMode::MENU.iter().enumerate() {
                if i > 0 {
                    ui.separator();
                }
                for &mode in *group {
                    let chosen = ui
                        .selectable_label(mode == layer.blend, mode.label())
                        .clicked();
                    if chosen && mode != layer.blend {
                        out.push(Command::SetBlend(layer.id, mode));
                    }
                }
            }
        })
        // Also its accessible name (screen readers, GUI tests).
        .response
        .on_hover_text("Blend mode");
}

/// The stack index (for [`Document::move_layer`]) that puts the layer now at `from` just
/// above the layer at `onto` when `above`, or just below it otherwise.
pub fn drop_index(from: usize, onto: usize, above: bool) -> usize {
    if from == onto {
        return from;
    }
    let target = if above { onto + 1 } else { onto };
    // Taking the layer out first shifts every layer above `from` down by one.
    if from < onto { target - 1 } else { target }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RgbaImage;

    fn doc(n: usize) -> (Document, Vec<LayerId>) {
        let mut doc = Document::new(1, 1);
        let ids = (0..n)
            .map(|i| doc.push_layer(format!("{i}"), RgbaImage::new(1, 1)).id)
            .collect();
        (doc, ids)
    }

    #[test]
    fn drop_index_lands_next_to_the_target_row() {
        for n in 2..5 {
            for from in 0..n {
                for onto in 0..n {
                    for above in [false, true] {
                        let (mut d, ids) = doc(n);
                        let moved = ids[from];
                        d.move_layer(moved, drop_index(from, onto, above));
                        if from == onto {
                            assert_eq!(d.index_of(moved), Some(from));
                            continue;
                        }
                        let (m, t) = (d.index_of(moved), d.index_of(ids[onto]));
                        let (Some(m), Some(t)) = (m, t) else {
                            panic!("layer lost")
                        };
                        assert_eq!(
                            m,
                            if above { t + 1 } else { t - 1 },
                            "{from}->{onto} {above}"
                        );
                    }
                }
            }
        }
    }
}
