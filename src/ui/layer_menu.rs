//! The Layer menu and the layer and tool shortcuts (Photoshop's keys): Ctrl+Shift+N new layer,
//! Ctrl+J duplicate, Ctrl+E merge down, Delete, Ctrl+/ lock, V move tool, H hand tool.

use egui::{Key, KeyboardShortcut, Modifiers};

use super::{Command, Tool};
use crate::model::{Document, LayerId};

/// Ctrl+Shift+N: new empty layer.
pub const NEW_LAYER: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::N);
/// Ctrl+J: duplicate the selected layer.
pub const DUPLICATE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::J);
/// Ctrl+E: merge the selected layer into the one below.
pub const MERGE_DOWN: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::E);
/// Delete: delete the selected layer.
pub const DELETE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::Delete);
/// Backspace: delete the selected layer (the Delete key of Mac keyboards).
pub const DELETE_BACKSPACE: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::NONE, Key::Backspace);
/// Ctrl+/: lock or unlock the selected layer.
pub const LOCK: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Slash);
/// V: the move tool.
pub const MOVE_TOOL: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::V);
/// H: the hand tool.
pub const HAND_TOOL: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::H);

/// What the layer commands need to know about the document and selection.
struct Target {
    id: Option<LayerId>,
    locked: bool,
    has_below: bool,
    /// The layer below is locked (nothing may refill it).
    below_locked: bool,
    has_picture: bool,
}

impl Target {
    fn new(doc: &Document, selected: Option<LayerId>) -> Self {
        let layer = selected.and_then(|id| doc.layer(id));
        Self {
            id: layer.map(|l| l.id),
            locked: layer.is_some_and(|l| l.locked),
            has_below: selected
                .and_then(|id| doc.index_of(id))
                .is_some_and(|i| i > 0),
            below_locked: selected
                .and_then(|id| super::fill_behind::layer_below(doc, id))
                .is_some_and(|l| l.locked),
            has_picture: doc.width > 0 && doc.height > 0,
        }
    }
}

/// Turns this frame's layer and tool shortcuts into commands (consuming the keys). Skipped
/// while a text field has focus, so Delete and letters edit the text there.
pub fn shortcuts(
    ctx: &egui::Context,
    doc: &Document,
    selected: Option<LayerId>,
    out: &mut Vec<Command>,
) {
    if ctx.egui_wants_keyboard_input() {
        return;
    }
    let target = Target::new(doc, selected);
    ctx.input_mut(|input| {
        if input.consume_shortcut(&NEW_LAYER) && target.has_picture {
            out.push(Command::NewLayer);
        }
        if input.consume_shortcut(&MOVE_TOOL) {
            out.push(Command::SetTool(Tool::Move));
        }
        if input.consume_shortcut(&HAND_TOOL) {
            out.push(Command::SetTool(Tool::Hand));
        }
        let Some(id) = target.id else {
            return;
        };
        if input.consume_shortcut(&DUPLICATE) {
            out.push(Command::DuplicateLayer(id));
        }
        if input.consume_shortcut(&MERGE_DOWN) {
            out.push(Command::MergeDown(id));
        }
        if input.consume_shortcut(&LOCK) {
            out.push(Command::SetLocked(id, !target.locked));
        }
        if input.consume_shortcut(&DELETE) || input.consume_shortcut(&DELETE_BACKSPACE) {
            out.push(Command::DeleteLayer(id));
        }
    });
}

/// The Layer menu: stack edits on the selected layer, and the canvas tools.
pub fn layer_menu(
    ui: &mut egui::Ui,
    doc: &Document,
    selected: Option<LayerId>,
    tool: Tool,
    out: &mut Vec<Command>,
) {
    let target = Target::new(doc, selected);
    ui.menu_button("Layer", |ui| {
        if item(ui, "New layer", &NEW_LAYER, target.has_picture) {
            out.push(Command::NewLayer);
        }
        let id = target.id;
        let editable = id.is_some() && !target.locked;
        if item(ui, "Duplicate layer", &DUPLICATE, id.is_some())
            && let Some(id) = id
        {
            out.push(Command::DuplicateLayer(id));
        }
        if item(ui, "Delete layer", &DELETE, editable)
            && let Some(id) = id
        {
            out.push(Command::DeleteLayer(id));
        }
        if item(ui, "Merge down", &MERGE_DOWN, editable && target.has_below)
            && let Some(id) = id
        {
            out.push(Command::MergeDown(id));
        }
        let fill = ui
            .add_enabled(
                id.is_some() && target.has_below && !target.below_locked,
                egui::Button::new("Fill behind this layer"),
            )
            .on_hover_text(
                "Refill the layer below where this layer covers it, with background continued \
                 from around it",
            )
            .on_disabled_hover_text(if target.below_locked {
                "The layer below is locked"
            } else {
                "There is no layer below this one to fill"
            });
        if fill.clicked()
            && let Some(id) = id
        {
            out.push(Command::FillBehind(id));
        }
        let lock_text = if target.locked {
            "Unlock layer"
        } else {
            "Lock layer"
        };
        if item(ui, lock_text, &LOCK, id.is_some())
            && let Some(id) = id
        {
            out.push(Command::SetLocked(id, !target.locked));
        }
        ui.separator();
        for (label, this, shortcut) in [
            ("Move tool", Tool::Move, &MOVE_TOOL),
            ("Hand tool", Tool::Hand, &HAND_TOOL),
        ] {
            let button = egui::Button::selectable(tool == this, label)
                .shortcut_text(ui.ctx().format_shortcut(shortcut));
            if ui.add(button).clicked() {
                out.push(Command::SetTool(this));
            }
        }
    });
}

fn item(ui: &mut egui::Ui, text: &str, shortcut: &KeyboardShortcut, enabled: bool) -> bool {
    let button = egui::Button::new(text).shortcut_text(ui.ctx().format_shortcut(shortcut));
    ui.add_enabled(enabled, button).clicked()
}
