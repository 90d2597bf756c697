//! The widgets layer rows and group rows share: the row's frame, eye, name (with renaming),
//! lock, opacity slider and blend menu.

use egui::{Frame, Margin, RichText, Sense, UiBuilder};

use super::{Amount, BLEND_WIDTH, LayersPanel, VALUE_BOX_WIDTH, VALUE_WIDTH};
use crate::model::{BlendMode, Kept, LayerId, Undrawn, kept};
use crate::ui::{Command, Gesture, icons};

/// The properties of the layer or group a row shows, as the shared widgets need them.
pub(super) struct Shown<'a> {
    pub(super) id: LayerId,
    pub(super) name: &'a str,
    /// "layer" or "group", for accessible names and hints.
    pub(super) kind: &'static str,
    pub(super) visible: bool,
    /// Hidden by a group around it: its name is greyed like a hidden layer's, as in
    /// Photoshop, while its eye keeps its own state.
    pub(super) hidden_by_group: bool,
    /// Its own lock (what the padlock shows and toggles).
    pub(super) locked: bool,
    pub(super) blend: BlendMode,
    /// `Some` for a group: whether it passes through.
    pub(super) pass_through: Option<bool>,
    /// Underlined: clipped layers clip to it.
    pub(super) is_base: bool,
}

/// A clickable row with the selection's background; `add` draws its contents.
pub(super) fn row_frame(
    ui: &mut egui::Ui,
    id: LayerId,
    is_selected: bool,
    add: impl FnOnce(&mut egui::Ui),
) -> egui::Response {
    let fill = if is_selected {
        ui.visuals().selection.bg_fill.gamma_multiply(0.45)
    } else {
        ui.visuals().faint_bg_color
    };
    let builder = UiBuilder::new()
        .id_salt(("layer-row", id.0))
        .sense(Sense::click());
    ui.scope_builder(builder, |ui| {
        Frame::new()
            .fill(fill)
            .corner_radius(4)
            .inner_margin(Margin::symmetric(6, 4))
            .show(ui, |ui| {
                ui.set_width(ui.available_width());
                add(ui);
            });
    })
    .response
}

/// The visibility toggle. Alt-click on a layer's eye shows that layer alone (or undoes that).
pub(super) fn eye(ui: &mut egui::Ui, shown: &Shown<'_>, out: &mut Vec<Command>) {
    let label = format!("Show {} {}", shown.kind, shown.name);
    let hint = if shown.pass_through.is_some() {
        "Show or hide the group and everything in it"
    } else {
        "Show or hide (Alt-click: show only this layer)"
    };
    let eye = icons::eye_toggle(ui, shown.visible, &label).on_hover_text(hint);
    if eye.clicked() {
        if ui.input(|i| i.modifiers.alt) && shown.pass_through.is_none() {
            out.push(Command::Solo(shown.id));
        } else {
            out.push(Command::SetVisible(shown.id, !shown.visible));
        }
    }
}

/// The lock toggle at the right end of a row.
pub(super) fn lock(ui: &mut egui::Ui, shown: &Shown<'_>, out: &mut Vec<Command>) {
    let hint = match (shown.locked, shown.pass_through.is_some()) {
        (true, false) => "Locked: cannot be moved, restyled, merged or deleted. Click to unlock.",
        (true, true) => "Locked: its layers cannot be moved, restyled or deleted. Click to unlock.",
        (false, false) => "Lock the layer against changes",
        (false, true) => "Lock the group and everything in it against changes",
    };
    let label = format!("Lock {} {}", shown.kind, shown.name);
    if icons::lock_toggle(ui, shown.locked, &label)
        .on_hover_text(hint)
        .clicked()
    {
        out.push(Command::SetLocked(shown.id, !shown.locked));
    }
}

/// The badge of a layer or group that holds what the canvas does not draw (effects,
/// adjustment or fill settings, editable text, a smart object, a vector mask), as
/// Photoshop marks effects with "fx": one short tag per kind, and a hover text saying
/// that the data is kept and written back when saved as PSD. Nothing when there is none.
pub(super) fn kept_badge(ui: &mut egui::Ui, shown: &Shown<'_>, kept: &Kept) {
    let kinds = kept::undrawn(kept);
    if kinds.is_empty() {
        return;
    }
    let tags: Vec<&str> = kinds.iter().map(|k| badge_tag(*k)).collect();
    let what: Vec<&str> = kinds.iter().map(|k| k.label()).collect();
    let hint = format!(
        "This {} has {} from the file that Strata does not draw, so the canvas can differ \
         from Photoshop's. It is kept and written back when you save as PSD \
         (OpenRaster and PNG cannot hold it).",
        shown.kind,
        what.join(", ")
    );
    let text = RichText::new(tags.join(" ")).small().italics().strong();
    let badge = ui.add(egui::Label::new(text).selectable(false));
    let name = format!("{} of {} {}", what.join(", "), shown.kind, shown.name);
    badge.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &name));
    badge.on_hover_text(hint);
}

/// The short tag of a kind of undrawn data, as Photoshop users know them.
fn badge_tag(kind: Undrawn) -> &'static str {
    match kind {
        Undrawn::Effects => "fx",
        Undrawn::Adjustment => "adj",
        Undrawn::Type => "T",
        Undrawn::SmartObject => "SO",
        Undrawn::VectorMask => "vec",
    }
}

impl LayersPanel {
    /// Starts renaming the layer or group `id`, its old name selected.
    pub(super) fn start_rename(&mut self, id: LayerId, name: &str) {
        self.renaming = Some((id, name.to_string()));
        self.focus_rename = true;
    }

    /// The name, or a text field while renaming (double-click to start, Enter or click
    /// elsewhere to finish, Escape to cancel).
    pub(super) fn name(&mut self, ui: &mut egui::Ui, shown: &Shown<'_>, out: &mut Vec<Command>) {
        if let Some((id, text)) = &mut self.renaming
            && *id == shown.id
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
                if !cancelled && text.trim() != shown.name {
                    out.push(Command::Rename(shown.id, text.trim().to_string()));
                }
                self.renaming = None;
            }
            return;
        }
        let mut name = RichText::new(shown.name);
        if !shown.visible || shown.hidden_by_group {
            name = name.weak();
        }
        if shown.pass_through.is_some() {
            name = name.strong();
        }
        if shown.is_base {
            name = name.underline();
        }
        let hint = if shown.is_base {
            "Double-click to rename. Underlined: the layers clipped to it show only where it does."
        } else {
            "Double-click to rename"
        };
        let label = ui
            .add(egui::Label::new(name).truncate().sense(Sense::click()))
            .on_hover_text(hint);
        if label.double_clicked() {
            self.start_rename(shown.id, shown.name);
        } else if label.clicked() {
            out.push(Command::Select(shown.id));
        }
    }

    /// The opacity or fill slider, in percent. Holding it down is one undo step however long
    /// the drag. Both are as wide, the fill slider under the opacity slider.
    pub(super) fn slider(
        &mut self,
        ui: &mut egui::Ui,
        id: LayerId,
        value: f32,
        amount: Amount,
        out: &mut Vec<Command>,
    ) {
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
            Amount::Group => "Group opacity",
        };
        let response = ui.add(slider).on_hover_text(hover);
        let held = response.is_pointer_button_down_on() || response.dragged();
        let dragging_this = self.slider_drag == Some((id, amount));
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
            Some(Gesture::Begin) => self.slider_drag = Some((id, amount)),
            Some(Gesture::End) => self.slider_drag = None,
            _ => {}
        }
        let Some(gesture) = gesture else { return };
        out.push(match amount {
            Amount::Opacity | Amount::Group => Command::SetOpacity {
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
}

/// The blend-mode menu of a layer or group; a group's starts with "Pass Through".
pub(super) fn blend_combo(ui: &mut egui::Ui, shown: &Shown<'_>, out: &mut Vec<Command>) {
    let passing = shown.pass_through == Some(true);
    let current = if passing {
        "Pass Through"
    } else {
        shown.blend.label()
    };
    egui::ComboBox::from_id_salt(("blend", shown.id.0))
        .selected_text(current)
        .width(BLEND_WIDTH)
        // A long name ("Pass Through", "Linear Dodge (Add)") is cut short rather than
        // widening the row, which would widen the panel and shrink the canvas.
        .truncate()
        // All 27 modes without scrolling where the screen allows, as in Photoshop.
        .height(640.0)
        .show_ui(ui, |ui| {
            if shown.pass_through.is_some() {
                if ui.selectable_label(passing, "Pass Through").clicked() && !passing {
                    out.push(Command::SetPassThrough(shown.id, true));
                }
                ui.separator();
            }
            // Grouped as Photoshop's menu is: normal, darken, lighten, contrast, inversion
            // and component modes, with a separator between groups.
            for (i, group) in BlendMode::MENU.iter().enumerate() {
                if i > 0 {
                    ui.separator();
                }
                for &mode in *group {
                    let is_current = !passing && mode == shown.blend;
                    let chosen = ui.selectable_label(is_current, mode.label()).clicked();
                    if chosen && !is_current {
                        out.push(Command::SetBlend(shown.id, mode));
                    }
                }
            }
        })
        // Also its accessible name (screen readers, GUI tests).
        .response
        .on_hover_text("Blend mode");
}
