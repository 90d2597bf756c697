//! The Layer menu and the layer and tool shortcuts (Photoshop's keys): Ctrl+Shift+N new layer,
//! Ctrl+J duplicate, Ctrl+E merge down, Delete, Ctrl+/ lock, Ctrl+G group, Ctrl+Shift+G
//! ungroup, Ctrl+Alt+G create or release a clipping mask, V move tool, H hand tool.

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
/// Ctrl+G: put the selected layer or group into a new group.
pub const GROUP: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::G);
/// Ctrl+Shift+G: dissolve the selected group.
pub const UNGROUP: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::G);
/// Ctrl+Alt+G: clip the selected layer to the one below, or release it.
pub const CLIP: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::ALT), Key::G);
/// V: the move tool.
pub const MOVE_TOOL: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::V);
/// H: the hand tool.
pub const HAND_TOOL: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::H);

/// What the layer commands need to know about the document and selection.
struct Target {
    /// The selected layer or group.
    id: Option<LayerId>,
    /// The selection is a group.
    group: bool,
    /// The selection's own lock (what Ctrl+/ toggles).
    locked: bool,
    /// The selection or a group around it is locked: it may not change.
    frozen: bool,
    has_below: bool,
    /// The selection is a layer with a layer below it in the same group to merge into.
    merges: bool,
    /// The layer below is locked (nothing may refill it).
    below_locked: bool,
    /// The selection is a layer with something below it in its group to clip to.
    can_clip: bool,
    /// The selection is a clipped layer.
    clipped: bool,
    has_picture: bool,
}

impl Target {
    fn new(doc: &Document, selected: Option<LayerId>) -> Self {
        let layer = selected.and_then(|id| doc.layer(id));
        let group = selected.and_then(|id| doc.group(id));
        let id = layer.map(|l| l.id).or(group.map(|g| g.id));
        let can_clip = layer.is_some_and(|l| {
            let bottom = doc.children(l.parent).first().copied();
            bottom.is_some_and(|b| b != l.id)
        });
        Self {
            id,
            group: group.is_some(),
            locked: layer.is_some_and(|l| l.locked) || group.is_some_and(|g| g.locked),
            frozen: id.is_some_and(|id| doc.is_locked(id)),
            can_clip,
            clipped: layer.is_some_and(|l| l.clipped),
            has_below: selected
                .and_then(|id| doc.index_of(id))
                .is_some_and(|i| i > 0),
            // Merge down stays within a group, as the model's merge does.
            merges: layer.is_some_and(|l| {
                super::fill_behind::layer_below(doc, l.id).is_some_and(|b| b.parent == l.parent)
            }),
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
        // Most specific first: Ctrl+G would also match Ctrl+Shift+G and Ctrl+Alt+G.
        if input.consume_shortcut(&CLIP) {
            out.push(Command::SetClipped(id, !target.clipped));
        }
        if input.consume_shortcut(&UNGROUP) {
            out.push(Command::Ungroup(id));
        }
        if input.consume_shortcut(&GROUP) {
            out.push(Command::GroupLayers(id));
        }
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
        let editable = id.is_some() && !target.frozen;
        let is_layer = id.is_some() && !target.group;
        let duplicate = item_with(ui, "Duplicate layer", &DUPLICATE, is_layer)
            .on_disabled_hover_text(GROUP_NOT_YET);
        if duplicate.clicked()
            && let Some(id) = id
        {
            out.push(Command::DuplicateLayer(id));
        }
        let delete = if target.group {
            "Delete group"
        } else {
            "Delete layer"
        };
        if item(ui, delete, &DELETE, editable)
            && let Some(id) = id
        {
            out.push(Command::DeleteLayer(id));
        }
        let merge = item_with(
            ui,
            "Merge down",
            &MERGE_DOWN,
            is_layer && editable && target.merges,
        )
        .on_disabled_hover_text(if target.group {
            GROUP_NOT_YET
        } else {
            "Needs an unlocked layer with a layer below it in the same group"
        });
        if merge.clicked()
            && let Some(id) = id
        {
            out.push(Command::MergeDown(id));
        }
        ui.separator();
        group_items(ui, &target, out);
        ui.separator();
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
        let lock_text = match (target.locked, target.group) {
            (true, true) => "Unlock group",
            (true, false) => "Unlock layer",
            (false, true) => "Lock group",
            (false, false) => "Lock layer",
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

/// Why Duplicate and Merge Down are greyed out for a group.
pub const GROUP_NOT_YET: &str =
    "Works on layers only for now: select a layer inside the group, or ungroup first";

/// Group, Ungroup and the clipping mask entry for the selection.
fn group_items(ui: &mut egui::Ui, target: &Target, out: &mut Vec<Command>) {
    let Some(id) = target.id else {
        for (text, shortcut) in [
            ("Group layers", &GROUP),
            ("Ungroup", &UNGROUP),
            ("Create clipping mask", &CLIP),
        ] {
            item(ui, text, shortcut, false);
        }
        return;
    };
    if item(ui, "Group layers", &GROUP, true) {
        out.push(Command::GroupLayers(id));
    }
    let ungroup = item_with(ui, "Ungroup", &UNGROUP, target.group && !target.frozen)
        .on_disabled_hover_text("Select an unlocked group to ungroup");
    if ungroup.clicked() {
        out.push(Command::Ungroup(id));
    }
    let clip_text = if target.clipped {
        "Release clipping mask"
    } else {
        "Create clipping mask"
    };
    let clip = item_with(
        ui,
        clip_text,
        &CLIP,
        !target.frozen && (target.clipped || target.can_clip),
    )
    .on_disabled_hover_text(
        "Clips an unlocked layer to the layer or group below it; the bottom layer of a \
         group has nothing to clip to",
    );
    if clip.clicked() {
        out.push(Command::SetClipped(id, !target.clipped));
    }
}

fn item(ui: &mut egui::Ui, text: &str, shortcut: &KeyboardShortcut, enabled: bool) -> bool {
    item_with(ui, text, shortcut, enabled).clicked()
}

fn item_with(
    ui: &mut egui::Ui,
    text: &str,
    shortcut: &KeyboardShortcut,
    enabled: bool,
) -> egui::Response {
    let button = egui::Button::new(text).shortcut_text(ui.ctx().format_shortcut(shortcut));
    ui.add_enabled(enabled, button)
}
