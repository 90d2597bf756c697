//! Offering the autosaves of crashed sessions back at startup.
//!
//! Each leftover slot (newest first) is offered in a modal: **Recover** opens it as the
//! document, dirty, titled "(recovered)", with the original file's name kept for export
//! defaults; **Discard** deletes it; **Later** keeps it for the next start. A recovered slot
//! becomes this session's own (its files are renamed, not copied), so the work is on disk
//! the whole time and a clean exit deletes it like any autosave.

use std::cell::Cell;
use std::time::SystemTime;

use egui::{Id, Key, Modifiers};

use super::slot::{self, Leftover, SlotInfo};
use crate::model::Document;
use crate::ui::app::Applying;
use crate::ui::file_jobs::display_name;
use crate::ui::{Command, StrataApp};

/// The answers to "Recover unsaved work?".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecoveryChoice {
    /// Open the autosave as the document.
    Recover,
    /// Delete the autosave.
    Discard,
    /// Keep the autosave and ask again at the next start.
    Later,
}

impl StrataApp {
    /// Looks for autosaves left by editors that did not close properly and offers the
    /// newest. Returns how many were found. Does nothing while autosave is off.
    pub fn look_for_recovery(&mut self) -> usize {
        let Some(dir) = self.autosave.dir.clone() else {
            return 0;
        };
        self.autosave.offers = slot::find_leftovers(&dir, &self.autosave.id).into();
        self.log_offer();
        self.autosave.offers.len()
    }

    /// True while the recovery question is on screen.
    pub fn is_offering_recovery(&self) -> bool {
        !self.autosave.offers.is_empty()
    }

    /// The recovery question being asked, if any.
    pub fn recovery_question(&self) -> Option<String> {
        let offer = self.autosave.offers.front()?;
        Some(format!(
            "Recover unsaved work from {}, {}?",
            source_name(&offer.info),
            autosaved_ago(&offer.info, SystemTime::now())
        ))
    }

    /// True if the document came from an autosave and has not been saved since.
    pub fn is_recovered(&self) -> bool {
        self.autosave.recovered
    }

    /// Carries out the answer to the recovery question ([`Command::AnswerRecovery`]).
    pub(in crate::ui) fn answer_recovery(&mut self, applying: &Applying, choice: RecoveryChoice) {
        let Some(offer) = self.autosave.offers.pop_front() else {
            return;
        };
        let name = source_name(&offer.info);
        match choice {
            RecoveryChoice::Recover => self.recover(applying, offer),
            RecoveryChoice::Discard => {
                offer.slot.remove(offer.lock);
                self.messages
                    .info(format!("Discarded the autosaved work from {name}"));
            }
            RecoveryChoice::Later => {
                // Dropping the offer releases its lock; the files stay.
                self.messages.info(format!(
                    "Kept the autosaved work from {name}; it will be offered again next time"
                ));
            }
        }
        self.log_offer();
    }

    fn log_offer(&self) {
        if let Some(offer) = self.autosave.offers.front() {
            tracing::info!(
                "recovery offered: {} ({} layers, {}) in {}",
                source_name(&offer.info),
                offer.info.layers.map_or("?".into(), |n| n.to_string()),
                autosaved_ago(&offer.info, SystemTime::now()),
                offer.slot.ora().display()
            );
        }
    }

    /// Opens the offered autosave as the document and makes its slot this session's.
    fn recover(&mut self, applying: &Applying, offer: Leftover) {
        let name = source_name(&offer.info);
        let doc = match crate::io::open(&offer.slot.ora()) {
            Ok(doc) => doc,
            Err(err) => {
                // Kept: a later version of Strata may read it, or the person may want it.
                self.messages
                    .error(format!("Cannot recover the work from {name}: {err}"));
                return;
            }
        };
        // A decomposition of the startup picture would land on top of the recovered work.
        self.cancel_decompose();
        self.selected = doc.layers.last().map(|l| l.id);
        // Nothing of it is in a file yet: dirty until saved, and undo cannot make it clean.
        self.mark_saved(Document::new(0, 0));
        self.autosave.recovered = true;
        *self.doc.edit(applying) = doc;
        self.history.clear();
        self.path = offer.info.file.clone();
        self.last_psd = None;
        self.solo = None;
        self.canvas.fit();
        self.messages.info(format!(
            "Recovered the work from {name}; export it to keep it"
        ));
        self.adopt(offer);
    }

    /// Moves the recovered slot's document into this session's slot, so that it stays on
    /// disk until saved or closed cleanly, and deletes the old slot.
    fn adopt(&mut self, offer: Leftover) {
        let own = match self.session_slot() {
            Ok(slot) => slot,
            Err(err) => {
                // The old slot stays and is offered again after a crash; it is not lost.
                tracing::warn!("cannot take over the recovered autosave: {err}");
                return;
            }
        };
        if let Err(err) = std::fs::rename(offer.slot.ora(), own.ora()) {
            tracing::warn!(
                "cannot move {} to {}: {err}",
                offer.slot.ora().display(),
                own.ora().display()
            );
            return;
        }
        let info = SlotInfo {
            pid: Some(std::process::id()),
            ..offer.info.clone()
        };
        if let Err(err) = info.write(&own.info()) {
            tracing::warn!("{err}");
        }
        offer.slot.remove(offer.lock);
        self.autosave.written = Some(self.doc.clone());
    }

    /// Draws the recovery question, if one is up and no other prompt is, and pushes the
    /// answer. Escape answers Later.
    pub(in crate::ui) fn recovery_prompt_ui(&self, ctx: &egui::Context, out: &mut Vec<Command>) {
        let (Some(offer), Some(question)) =
            (self.autosave.offers.front(), self.recovery_question())
        else {
            return;
        };
        if self.is_asking_to_save() {
            return;
        }
        let choice = Cell::new(None);
        let modal = egui::Modal::new(Id::unique("recover-autosave")).show(ctx, |ui| {
            ui.set_max_width(460.0);
            ui.heading("Strata did not close properly.");
            ui.add_space(6.0);
            ui.label(question);
            if let Some(layers) = offer.info.layers {
                ui.weak(crate::ui::status::layer_count(layers));
            }
            ui.add_space(10.0);
            egui::Sides::new().show(
                ui,
                |ui| {
                    if ui.button("Discard").clicked() {
                        choice.set(Some(RecoveryChoice::Discard));
                    }
                },
                |ui| {
                    // Right to left: the default action sits in the corner.
                    let fill = ui.visuals().selection.bg_fill;
                    if ui.add(egui::Button::new("Recover").fill(fill)).clicked() {
                        choice.set(Some(RecoveryChoice::Recover));
                    }
                    if ui.button("Later").clicked() {
                        choice.set(Some(RecoveryChoice::Later));
                    }
                },
            );
        });
        let escape =
            modal.is_top_modal && ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Escape));
        if escape {
            choice.set(Some(RecoveryChoice::Later));
        }
        if let Some(choice) = choice.get() {
            out.push(Command::AnswerRecovery(choice));
        }
    }
}

/// The original file's name, or "an untitled document".
fn source_name(info: &SlotInfo) -> String {
    info.file
        .as_deref()
        .map_or_else(|| "an untitled document".to_string(), display_name)
}

/// "autosaved just now", "autosaved 5 minutes ago", "autosaved 2 days ago".
pub(super) fn autosaved_ago(info: &SlotInfo, now: SystemTime) -> String {
    let Some(secs) = info
        .saved
        .and_then(|t| now.duration_since(t).ok())
        .map(|d| d.as_secs())
    else {
        return "autosaved at an unknown time".to_string();
    };
    let (n, unit) = match secs {
        0..60 => return "autosaved just now".to_string(),
        60..3600 => (secs / 60, "minute"),
        3600..86400 => (secs / 3600, "hour"),
        _ => (secs / 86400, "day"),
    };
    let plural = if n == 1 { "" } else { "s" };
    format!("autosaved {n} {unit}{plural} ago")
}
