//! Drawing the in-window file dialog (the state and its rules are in [`super`]).
//!
//! Every widget has an accessible name: buttons by their text, text fields and the format
//! combo through the label in front of them (`labelled_by`), so screen readers and the GUI
//! tests find them by name.

use egui::{Id, Key, Modifiers, RichText, TextEdit};

use super::{FileDialog, Outcome, Purpose, filters};

/// Height of the folder listing, in points.
const LIST_HEIGHT: f32 = 260.0;

/// Draws `dialog` as a modal window; returns its answer once the person gave one.
pub fn ui(dialog: &mut FileDialog, ctx: &egui::Context) -> Option<Outcome> {
    let mut outcome = None;
    let modal = egui::Modal::new(Id::unique("strata-file-dialog")).show(ctx, |ui| {
        ui.set_width(620.0);
        ui.heading(dialog.purpose.title());
        ui.add_space(4.0);
        outcome = body(ui, dialog);
    });
    let escape =
        modal.is_top_modal && ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Escape));
    if escape {
        // Escape first answers "Replace it?", then closes the dialog.
        if dialog.overwrite.take().is_none() {
            outcome = Some(Outcome::Cancelled);
        }
    }
    outcome
}

fn body(ui: &mut egui::Ui, dialog: &mut FileDialog) -> Option<Outcome> {
    let mut outcome = None;
    ui.horizontal(|ui| {
        let up = ui.add_enabled(dialog.dir.parent().is_some(), egui::Button::new("Up"));
        if up.on_hover_text("The folder above").clicked() {
            dialog.go_up();
        }
        let label = ui.label("Folder:");
        ui.label(RichText::new(dialog.dir.display().to_string()).strong())
            .labelled_by(label.id);
    });
    ui.horizontal(|ui| {
        let label = ui.label("Path:");
        let field = ui
            .add(
                TextEdit::singleline(&mut dialog.path_text)
                    .hint_text("Type a path and press Enter")
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
        if std::mem::take(&mut dialog.focus_path) {
            field.request_focus();
        }
        if field.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter)) {
            outcome = dialog.submit_path();
            // Going on typing after a folder opened.
            dialog.focus_path = outcome.is_none();
        }
    });
    ui.add_space(4.0);
    ui.horizontal_top(|ui| {
        ui.vertical(|ui| {
            ui.set_width(150.0);
            ui.label(RichText::new("Recent folders").strong());
            let mut go = None;
            for dir in &dialog.recent {
                let name = dir
                    .file_name()
                    .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into());
                let button = ui.add(egui::Button::new(name).truncate());
                if button.on_hover_text(dir.display().to_string()).clicked() {
                    go = Some(dir.clone());
                }
            }
            if dialog.recent.is_empty() {
                ui.weak("None yet");
            }
            if let Some(dir) = go {
                dialog.go_to(dir);
            }
        });
        ui.separator();
        ui.vertical(|ui| {
            outcome = outcome.take().or_else(|| listing(ui, dialog));
        });
    });
    if let Some(error) = dialog.error() {
        let color = crate::ui::status::error_color(ui);
        ui.label(RichText::new(error).color(color));
    }
    ui.separator();
    if let Some(path) = dialog.overwrite.clone() {
        ui.label(format!("{} already exists. Replace it?", path.display()));
        ui.horizontal(|ui| {
            if ui.button("Replace").clicked() {
                outcome = dialog.answer_overwrite(true);
            }
            if ui.button("Don't replace").clicked() {
                dialog.answer_overwrite(false);
            }
        });
        return outcome;
    }
    if matches!(dialog.purpose, Purpose::Export(_)) {
        ui.horizontal(|ui| {
            let label = ui.label("File name:");
            let field = ui
                .add(TextEdit::singleline(&mut dialog.name_text).desired_width(f32::INFINITY))
                .labelled_by(label.id);
            if field.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter)) {
                outcome = dialog.submit_name();
            }
        });
    }
    ui.horizontal(|ui| {
        format_combo(ui, dialog);
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let action = match dialog.purpose {
                Purpose::Open => "Open",
                Purpose::Export(_) => "Export",
                Purpose::ExportLayers | Purpose::QwenWeights => "Choose folder",
            };
            let fill = ui.visuals().selection.bg_fill;
            if ui.add(egui::Button::new(action).fill(fill)).clicked() {
                outcome = dialog.confirm();
            }
            if ui.button("Cancel").clicked() {
                outcome = Some(Outcome::Cancelled);
            }
        });
    });
    outcome
}

/// The folder's rows; a click selects, a double-click opens a folder or picks a file.
fn listing(ui: &mut egui::Ui, dialog: &mut FileDialog) -> Option<Outcome> {
    let mut clicked = None;
    let mut activated = None;
    egui::ScrollArea::vertical()
        .max_height(LIST_HEIGHT)
        .min_scrolled_height(LIST_HEIGHT)
        .auto_shrink([false, false])
        .show(ui, |ui| {
            let entries = dialog.entries();
            if entries.is_empty() && dialog.listing.is_ok() {
                ui.weak("Nothing to show here");
            }
            for entry in entries {
                // A trailing slash marks folders: egui's fonts have no folder glyph.
                let text = if entry.is_dir {
                    format!("{}/", entry.name)
                } else {
                    entry.name.clone()
                };
                let selected = dialog.selected.as_ref() == Some(&entry.path);
                let row = ui.selectable_label(selected, text);
                if row.double_clicked() {
                    activated = Some(entry.clone());
                } else if row.clicked() {
                    clicked = Some(entry.clone());
                }
            }
        });
    if let Some(entry) = clicked {
        dialog.selected = Some(entry.path.clone());
        dialog.error = None;
        if matches!(dialog.purpose, Purpose::Export(_)) && !entry.is_dir {
            dialog.name_text = entry.name;
        }
    }
    activated.and_then(|entry| dialog.activate(&entry))
}

/// The "Format:" combo (none when choosing a folder).
fn format_combo(ui: &mut egui::Ui, dialog: &mut FileDialog) {
    let filters = filters(dialog.purpose);
    let Some(current) = filters.get(dialog.filter) else {
        return;
    };
    let label = ui.label("Format:");
    let mut chosen = dialog.filter;
    egui::ComboBox::from_id_salt("file-dialog-format")
        .selected_text(current.name)
        .show_ui(ui, |ui| {
            for (index, filter) in filters.iter().enumerate() {
                ui.selectable_value(&mut chosen, index, filter.name);
            }
        })
        .response
        .labelled_by(label.id);
    if chosen != dialog.filter {
        dialog.set_filter(chosen);
    }
}
