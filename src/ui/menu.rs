//! The menu bar (File, Edit, View) and the keyboard shortcuts that mirror it.

use egui::{Key, KeyboardShortcut, Modifiers};

use super::Command;
use crate::io::ExportFormat;
use crate::model::{Document, History};

/// Ctrl+O (⌘O on macOS): open a picture.
pub const OPEN: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);
/// Ctrl+S: export PSD to the last path, or ask for one.
pub const QUICK_EXPORT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::S);
/// Ctrl+Z: undo.
pub const UNDO: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Z);
/// Ctrl+Shift+Z: redo.
pub const REDO: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::Z);
/// Ctrl+Y: redo, as on Windows.
pub const REDO_ALT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Y);
/// Ctrl+0: fit the canvas in the window.
pub const ZOOM_FIT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Num0);
/// Ctrl+1: 100 %.
pub const ZOOM_100: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Num1);
/// Ctrl+Plus: zoom in.
pub const ZOOM_IN: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Plus);
/// Ctrl+=: zoom in (the same key as Plus without Shift on most layouts).
pub const ZOOM_IN_EQUALS: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Equals);
/// Ctrl+Minus: zoom out.
pub const ZOOM_OUT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Minus);

/// Zoom step of the View menu and Ctrl+Plus/Minus.
pub(super) const ZOOM_STEP: f32 = 1.25;

/// Turns this frame's shortcut presses into commands (consuming the keys).
///
/// Skipped while a text field has focus, so that Ctrl+Z there edits the text.
pub fn shortcuts(ctx: &egui::Context, out: &mut Vec<Command>) {
    if ctx.egui_wants_keyboard_input() {
        return;
    }
    // Most specific first: Ctrl+Shift+Z must not be taken for Ctrl+Z.
    let table = [
        (REDO, Command::Redo),
        (UNDO, Command::Undo),
        (REDO_ALT, Command::Redo),
        (OPEN, Command::OpenDialog),
        (QUICK_EXPORT, Command::QuickExport),
        (ZOOM_FIT, Command::ZoomFit),
        (ZOOM_100, Command::Zoom100),
        (ZOOM_IN, Command::ZoomBy(ZOOM_STEP)),
        (ZOOM_IN_EQUALS, Command::ZoomBy(ZOOM_STEP)),
        (ZOOM_OUT, Command::ZoomBy(1.0 / ZOOM_STEP)),
    ];
    ctx.input_mut(|input| {
        for (shortcut, command) in table {
            if input.consume_shortcut(&shortcut) {
                out.push(command);
            }
        }
    });
}

/// Draws the menu bar and pushes the chosen commands into `out`; `recent` fills File › Open
/// Recent (newest first); `more_menus` adds the menus that own state of their own
/// (Decompose) after View.
pub fn menu_bar(
    ui: &mut egui::Ui,
    doc: &Document,
    history: &History,
    recent: &[std::path::PathBuf],
    out: &mut Vec<Command>,
    more_menus: impl FnOnce(&mut egui::Ui, &mut Vec<Command>),
) {
    let has_layers = !doc.layers.is_empty();
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            if item(ui, "Open…", Some(&OPEN), true) {
                out.push(Command::OpenDialog);
            }
            super::recent::recent_menu(ui, recent, out);
            ui.separator();
            if item(ui, "Export PSD…", Some(&QUICK_EXPORT), has_layers) {
                out.push(Command::ExportDialog(ExportFormat::Psd));
            }
            if item(ui, "Export OpenRaster…", None, has_layers) {
                out.push(Command::ExportDialog(ExportFormat::Ora));
            }
            if item(ui, "Export flattened PNG…", None, has_layers) {
                out.push(Command::ExportDialog(ExportFormat::FlatPng));
            }
            if item(ui, "Export layers as PNGs…", None, has_layers) {
                out.push(Command::ExportLayersDialog);
            }
            ui.separator();
            if item(ui, "Quit", None, true) {
                out.push(Command::Quit);
            }
        });
        ui.menu_button("Edit", |ui| {
            let undo = history
                .undo_label()
                .map_or("Undo".to_string(), |l| format!("Undo {l}"));
            if item(ui, &undo, Some(&UNDO), history.can_undo()) {
                out.push(Command::Undo);
            }
            let redo = history
                .redo_label()
                .map_or("Redo".to_string(), |l| format!("Redo {l}"));
            if item(ui, &redo, Some(&REDO), history.can_redo()) {
                out.push(Command::Redo);
            }
        });
        ui.menu_button("View", |ui| {
            if item(ui, "Fit on screen", Some(&ZOOM_FIT), has_layers) {
                out.push(Command::ZoomFit);
            }
            if item(ui, "100 %", Some(&ZOOM_100), has_layers) {
                out.push(Command::Zoom100);
            }
            if item(ui, "Zoom in", Some(&ZOOM_IN), has_layers) {
                out.push(Command::ZoomBy(ZOOM_STEP));
            }
            if item(ui, "Zoom out", Some(&ZOOM_OUT), has_layers) {
                out.push(Command::ZoomBy(1.0 / ZOOM_STEP));
            }
        });
        more_menus(ui, out);
    });
}

/// One menu entry with its shortcut shown on the right; true when clicked.
fn item(ui: &mut egui::Ui, text: &str, shortcut: Option<&KeyboardShortcut>, enabled: bool) -> bool {
    let mut button = egui::Button::new(text);
    if let Some(shortcut) = shortcut {
        button = button.shortcut_text(ui.ctx().format_shortcut(shortcut));
    }
    ui.add_enabled(enabled, button).clicked()
}
