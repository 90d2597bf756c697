//! Unsaved changes: knowing when the document differs from the last file it was opened from
//! or saved to (PSD or ORA), and asking before closing the window or opening another file
//! would throw those changes away.
//!
//! The saved state is a `Document` clone (cheap: pixels are shared `Arc`s) compared with
//! [`Document::is_same_state`], so undoing back to it makes the document clean again.
//!
//! Closing is a two-step dance with the window: a close request (the title bar's ×, or
//! [`Command::Quit`]) is cancelled with `ViewportCommand::CancelClose` while the prompt is
//! up, and once the person has answered, the editor closes the window itself and lets that
//! request through.

use std::cell::Cell;
use std::path::PathBuf;

use egui::{Id, Key, Modifiers, ViewportCommand};

use super::app::Applying;
use super::file_jobs::display_name;
use super::files::ExportStart;
use super::{Command, StrataApp};
use crate::io::ExportFormat;
use crate::model::Document;

/// What waits on the answer to the unsaved-changes prompt.
#[derive(Debug)]
pub enum Then {
    /// Close the window.
    Close,
    /// Open this file (read it on the file thread).
    Open(PathBuf),
    /// Show this already-read file (it arrived after the document was edited).
    Show {
        /// Where it was read from.
        path: PathBuf,
        /// What was read.
        doc: Box<Document>,
    },
}

/// The answers to "Save changes to x before closing?".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveChoice {
    /// Export a PSD (to the last PSD path, or where the person picks), then go on if that
    /// worked.
    Export,
    /// Go on and lose the changes.
    Discard,
    /// Stay: keep the window and the document.
    Cancel,
}

/// The prompt on screen.
#[derive(Debug)]
struct Prompt {
    then: Then,
    /// An export is running: the prompt waits for it instead of offering choices.
    waiting: bool,
    /// Strata's in-window dialog is choosing where to export: the prompt hides until it is
    /// answered, then waits for the export (or asks again after a cancel).
    choosing: bool,
}

/// The saved state and the prompt.
#[derive(Debug)]
pub struct Unsaved {
    /// The document as last opened or saved.
    saved: Document,
    prompt: Option<Prompt>,
    /// The person agreed to close: let the window's next close request through.
    close_confirmed: bool,
}

impl Unsaved {
    /// Gives the saved state the folding of `doc`'s groups: folding a group in the panel
    /// is a view setting, not a change worth asking about.
    pub(super) fn take_folding(&mut self, doc: &Document) {
        super::group_edits::refold(&mut self.saved, &super::group_edits::folded(doc));
    }

    /// `doc` counts as saved (a new editor has nothing to lose yet).
    pub fn new(doc: &Document) -> Self {
        Self {
            saved: doc.clone(),
            prompt: None,
            close_confirmed: false,
        }
    }
}

impl StrataApp {
    /// True if the document has changes that are in no file opened or saved as PSD/ORA.
    pub fn is_dirty(&self) -> bool {
        !self.unsaved.saved.is_same_state(&self.doc)
    }

    /// True while the unsaved-changes prompt is on screen.
    pub fn is_asking_to_save(&self) -> bool {
        self.unsaved.prompt.is_some()
    }

    /// Records `doc` as the saved state (it was just opened, or exported as PSD/ORA).
    pub(super) fn mark_saved(&mut self, doc: Document) {
        self.unsaved.saved = doc;
        self.autosave.recovered = false;
    }

    /// Does `then` now if nothing would be lost, or asks first.
    pub(super) fn request(&mut self, applying: &Applying, then: Then) {
        if let Some(prompt) = &mut self.unsaved.prompt {
            // Already asking. Closing wins over opening another file; otherwise the newer
            // request replaces the older one.
            if matches!(then, Then::Close) || !matches!(prompt.then, Then::Close) {
                prompt.then = then;
            }
            return;
        }
        if self.files.is_exporting() {
            // Going on now could kill the file being written or be refused as busy: wait for
            // the export, then decide again.
            self.unsaved.prompt = Some(Prompt {
                then,
                waiting: true,
                choosing: false,
            });
        } else if self.is_dirty() {
            self.unsaved.prompt = Some(Prompt {
                then,
                waiting: false,
                choosing: false,
            });
        } else {
            self.proceed(applying, then);
        }
    }

    /// Carries out the person's answer to the prompt.
    pub(super) fn answer(&mut self, applying: &Applying, choice: SaveChoice) {
        let Some(prompt) = self.unsaved.prompt.take() else {
            return;
        };
        match (choice, prompt.waiting) {
            (SaveChoice::Cancel, _) => {
                if matches!(prompt.then, Then::Show { .. }) {
                    self.messages
                        .info("Kept the current document; the opened file was not shown.");
                }
            }
            // While an export runs only Cancel is offered: the others wait for it.
            (_, true) => self.unsaved.prompt = Some(prompt),
            (SaveChoice::Discard, false) => self.proceed(applying, prompt.then),
            (SaveChoice::Export, false) => {
                let start = match self.last_psd.clone() {
                    Some(path) if self.start_export(path.clone()) => ExportStart::Started,
                    Some(_) => ExportStart::NotStarted,
                    None => self.export_dialog(ExportFormat::Psd),
                };
                // A cancelled dialog or a refused export keeps asking; the in-window dialog
                // answers later, through `dialog_closed`.
                self.unsaved.prompt = Some(Prompt {
                    then: prompt.then,
                    waiting: start == ExportStart::Started,
                    choosing: start == ExportStart::InWindow,
                });
            }
        }
    }

    /// Called when any export finishes: a prompt waiting for it decides again.
    pub(super) fn after_export(&mut self, applying: &Applying, ok: bool) {
        let Some(prompt) = self.unsaved.prompt.take_if(|p| p.waiting) else {
            return;
        };
        if ok {
            // Clean now if it was a PSD/ORA of the current state; otherwise ask.
            self.request(applying, prompt.then);
        } else {
            // The error is in the banner; offer the choices again.
            self.unsaved.prompt = Some(Prompt {
                then: prompt.then,
                waiting: false,
                choosing: false,
            });
        }
    }

    /// The in-window dialog was answered: a prompt that was choosing where to export waits
    /// for the export if it started, and otherwise (cancelled, refused) asks again.
    pub(super) fn dialog_closed(&mut self, export_started: bool) {
        if let Some(prompt) = self.unsaved.prompt.as_mut().filter(|p| p.choosing) {
            prompt.choosing = false;
            prompt.waiting = export_started;
        }
    }

    fn proceed(&mut self, applying: &Applying, then: Then) {
        match then {
            Then::Close => {
                self.quit_requested = true;
                self.unsaved.close_confirmed = true;
            }
            Then::Open(path) => self.start_open(path),
            Then::Show { path, doc } => self.show_opened(applying, path, *doc),
        }
    }

    /// Cancels the window's close request if closing now would lose work, and asks instead.
    pub(super) fn handle_close_request(&mut self, ctx: &egui::Context) {
        let requested = ctx.input(|i| i.viewport().close_requested());
        // The screenshot hook closes the window by itself when done: nobody is there to ask.
        if !requested || self.unsaved.close_confirmed || self.screenshot.is_some() {
            return;
        }
        if self.is_dirty() || self.files.is_exporting() || self.is_asking_to_save() {
            ctx.send_viewport_cmd(ViewportCommand::CancelClose);
            self.apply(Command::Quit);
        }
    }

    /// The document's name for the prompt and the title: its file name, or "Untitled",
    /// and "(recovered)" after it while recovered work is in no file.
    pub(super) fn document_name(&self) -> String {
        let name = self
            .path
            .as_deref()
            .map_or_else(|| "Untitled".to_string(), display_name);
        if self.autosave.recovered {
            format!("{name} (recovered)")
        } else {
            name
        }
    }

    /// Draws the prompt, if one is up, and pushes the answer. Escape answers Cancel.
    pub(super) fn unsaved_prompt_ui(&self, ctx: &egui::Context, out: &mut Vec<Command>) {
        // While the in-window dialog chooses where to export, it alone is on screen.
        let Some(prompt) = self.unsaved.prompt.as_ref().filter(|p| !p.choosing) else {
            return;
        };
        let name = self.document_name();
        let question = match &prompt.then {
            Then::Close => format!("Save changes to {name} before closing?"),
            Then::Open(path) | Then::Show { path, .. } => format!(
                "Save changes to {name} before opening {}?",
                display_name(path)
            ),
        };
        let export = match &self.last_psd {
            Some(path) => format!("Export {}", display_name(path)),
            None => "Export PSD…".to_string(),
        };
        // Both sides of the button row may answer, so they share a cell.
        let choice = Cell::new(None);
        let modal = egui::Modal::new(Id::unique("unsaved-changes")).show(ctx, |ui| {
            ui.set_max_width(440.0);
            ui.heading(question);
            ui.add_space(6.0);
            if prompt.waiting {
                ui.horizontal(|ui| {
                    ui.add(egui::Spinner::new());
                    let job = self.files.jobs.running().map(|j| j.describe());
                    ui.label(job.unwrap_or_else(|| "Exporting…".into()));
                });
                ui.label("Waiting for the export to finish.");
                ui.add_space(10.0);
                if ui.button("Cancel").clicked() {
                    choice.set(Some(SaveChoice::Cancel));
                }
                return;
            }
            ui.label("Your changes will be lost if you don't save them.");
            ui.add_space(10.0);
            egui::Sides::new().show(
                ui,
                |ui| {
                    if ui.button("Don't Save").clicked() {
                        choice.set(Some(SaveChoice::Discard));
                    }
                },
                |ui| {
                    // Right to left: the default action sits in the corner.
                    let fill = ui.visuals().selection.bg_fill;
                    if ui.add(egui::Button::new(export).fill(fill)).clicked() {
                        choice.set(Some(SaveChoice::Export));
                    }
                    if ui.button("Cancel").clicked() {
                        choice.set(Some(SaveChoice::Cancel));
                    }
                },
            );
        });
        let escape =
            modal.is_top_modal && ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Escape));
        if escape {
            choice.set(Some(SaveChoice::Cancel));
        }
        if let Some(choice) = choice.get() {
            out.push(Command::AnswerSavePrompt(choice));
        }
    }
}

#[cfg(test)]
#[path = "unsaved_tests.rs"]
mod tests;
