//! [`StrataApp::apply`]: carrying out a [`Command`], the lock rule, the revision bump and the
//! selection fix-up, each in one place. The [`super`] module docs explain why the document
//! can change nowhere else, and how the compiler holds that.

use std::ops::Deref;

use crate::io::ExportFormat;
use crate::model::{Document, LayerId};
use crate::ui::dialogs::Asked;
use crate::ui::file_dialog::Purpose;
use crate::ui::group_edits;
use crate::ui::unsaved::Then;
use crate::ui::{Command, StrataApp};

/// The document being edited and its revision.
///
/// Every part of the editor reads it (it derefs to [`Document`]); changing it takes an
/// [`Applying`], which only [`StrataApp::apply`] makes. The revision is private to this
/// module, so only `apply` moves it, and only `StrataApp::new` may make one: replacing the
/// whole wrapper is no way around `apply` either.
#[derive(Debug)]
pub(in crate::ui) struct GuardedDocument {
    doc: Document,
    /// Bumped once by each `apply` that changed the document's state.
    revision: u64,
}

impl GuardedDocument {
    /// The document an editor starts with (revision 0).
    pub(in crate::ui::app) fn new(doc: Document) -> Self {
        Self { doc, revision: 0 }
    }

    /// Moves whenever the document's state changes; the canvas recomposites when it does.
    pub(in crate::ui) fn revision(&self) -> u64 {
        self.revision
    }

    /// The document, to change. Only code that `apply` called has an `Applying` to show.
    pub(in crate::ui) fn edit(&mut self, _applying: &Applying) -> &mut Document {
        &mut self.doc
    }
}

impl Deref for GuardedDocument {
    type Target = Document;

    fn deref(&self) -> &Document {
        &self.doc
    }
}

/// Visibility of every layer from before a solo, so a second Alt-click can bring it back.
#[derive(Debug)]
pub(in crate::ui) struct SoloState {
    layer: LayerId,
    visible: Vec<(LayerId, bool)>,
}

/// Proof that the code holding it runs inside [`StrataApp::apply`].
///
/// Its field is private to this module, so `apply` makes the only ones and lends them to the
/// helpers it calls; [`GuardedDocument::edit`] asks for one. A function that takes `&Applying`
/// may change the document, and one that does not cannot.
pub(in crate::ui) struct Applying(());

impl StrataApp {
    /// Carries out one command. Every change to the document happens in here, each as an
    /// undo step (a drag gesture as one step, through [`crate::ui::Gesture`]): the panels'
    /// requests, and the work of the file and decomposition threads, which arrives as
    /// commands too ([`Command::FileJobFinished`], [`Command::DecompositionFinished`]).
    pub fn apply(&mut self, command: Command) {
        // Cheap: layer pixels are shared `Arc`s. Comparing afterwards catches every change.
        let mut before = Document::clone(&self.doc);
        let recorded = self.messages.recorded();
        self.carry_out(&Applying(()), command);
        // Folding a group in the panel is a view setting: by itself it neither
        // recomposites the canvas nor clears the status line.
        group_edits::refold(&mut before, &group_edits::folded(&self.doc));
        if !before.is_same_state(&self.doc) {
            // Effect planes are a cache of pixels and positions; edits, undo and opened
            // files leave them stale, and stale planes are not drawn.
            self.doc.edit(&Applying(())).refresh_effects();
            self.doc.revision += 1;
            // After undo, redo, delete or open, the selected layer may be gone.
            self.keep_selection_valid();
            // An edit that said nothing leaves no older message standing for it.
            if self.messages.recorded() == recorded {
                self.messages.clear_status();
            }
        }
    }

    /// The revision of the document: it moves when, and only when, [`Self::apply`] changed
    /// the document's state.
    pub fn revision(&self) -> u64 {
        self.doc.revision()
    }

    fn carry_out(&mut self, applying: &Applying, command: Command) {
        if self.refused_by_lock(&command) {
            return;
        }
        match command {
            Command::OpenDialog => {
                if let Asked::Path(path) = self.ask(Purpose::Open) {
                    self.carry_out(applying, Command::Open(path));
                }
            }
            Command::Open(path) => self.request(applying, Then::Open(path)),
            Command::ExportDialog(format) => {
                self.export_dialog(format);
            }
            Command::QuickExport => match self.last_psd.clone() {
                Some(path) => self.carry_out(applying, Command::ExportAs(path)),
                None => {
                    self.export_dialog(ExportFormat::Psd);
                }
            },
            Command::ExportAs(path) => {
                self.start_export(path);
            }
            Command::ExportLayersDialog => {
                if let Asked::Path(dir) = self.ask(Purpose::ExportLayers) {
                    self.carry_out(applying, Command::ExportLayers(dir));
                }
            }
            Command::ExportLayers(dir) => self.start_export_layers(dir),
            Command::FileJobFinished(finished) => self.finish_file_job(applying, *finished),
            Command::SetVisible(id, visible) => {
                let kind = group_edits::kind(&self.doc, id);
                let label = if visible {
                    format!("Show {kind}")
                } else {
                    format!("Hide {kind}")
                };
                self.edit_node(applying, &label, id, |node| *node.visible = visible);
            }
            Command::Solo(id) => self.solo(applying, id),
            Command::SetOpacity {
                id,
                opacity,
                gesture,
            } => self.set_opacity(applying, id, opacity, gesture),
            Command::SetFillOpacity { id, fill, gesture } => {
                self.set_fill_opacity(applying, id, fill, gesture);
            }
            Command::SetBlend(id, mode) => self.set_blend(applying, id, mode),
            Command::Rename(id, name) => {
                let name = name.trim().to_string();
                if !name.is_empty() {
                    let label = format!("Rename {}", group_edits::kind(&self.doc, id));
                    self.edit_node(applying, &label, id, |node| *node.name = name);
                }
            }
            Command::Select(id) => {
                if self.doc.layer(id).is_some() || self.doc.group(id).is_some() {
                    self.selected = Some(id);
                    self.reveal(applying, id);
                }
            }
            Command::MoveLayer { id, to_index } => {
                let doc = self.doc.edit(applying);
                self.history
                    .record("Move layer", doc, |doc| doc.move_layer(id, to_index));
            }
            Command::MoveNode {
                id,
                parent,
                position,
            } => self.move_node(applying, id, parent, position),
            Command::GroupLayers(id) => self.group_layers(applying, id),
            Command::Ungroup(id) => self.ungroup(applying, id),
            Command::SetClipped(id, clipped) => self.set_clipped(applying, id, clipped),
            Command::SetCollapsed(id, collapsed) => self.set_collapsed(applying, id, collapsed),
            Command::SetPassThrough(id, on) => self.set_pass_through(applying, id, on),
            Command::SetMaskEnabled(id, enabled) => self.set_mask_enabled(applying, id, enabled),
            Command::DeleteMask(id) => self.delete_mask(applying, id),
            Command::TranslateGroup {
                id,
                dx,
                dy,
                gesture,
            } => self.translate_group(applying, id, (dx, dy), gesture),
            Command::NewLayer => self.new_layer(applying),
            Command::DuplicateLayer(id) => self.duplicate_layer(applying, id),
            Command::DeleteLayer(id) => self.delete_layer(applying, id),
            Command::MergeDown(id) => self.merge_down(applying, id),
            Command::SetLocked(id, locked) => self.set_locked(applying, id, locked),
            Command::SetOffset {
                id,
                offset,
                gesture,
            } => self.set_offset(applying, id, offset, gesture),
            Command::SetTool(tool) => self.canvas.set_tool(tool),
            Command::Undo | Command::Redo => self.undo_or_redo(applying, &command),
            Command::ZoomFit => self.canvas.fit(),
            Command::Zoom100 => self.canvas.zoom_100(),
            Command::ZoomBy(factor) => self.canvas.zoom_by(factor),
            Command::DismissError => self.messages.dismiss_banner(),
            Command::Decompose { target, options } => self.start_decompose(target, options),
            Command::DecomposeWithMenuOptions(target) => {
                let options = self.decompose.options.clone();
                self.start_decompose(target, options);
            }
            Command::DecomposeWith {
                target,
                options,
                decomposer,
            } => self.start_custom_decompose(target, options, decomposer.0),
            Command::DecompositionFinished(finished) => {
                self.finish_decompose(applying, *finished);
            }
            Command::CancelDecompose => self.cancel_decompose(),
            Command::FillBehind(id) => self.start_fill_behind(id),
            Command::ChooseQwenWeights => {
                if let Asked::Path(dir) = self.ask(Purpose::QwenWeights) {
                    self.carry_out(applying, Command::SetQwenWeights(dir));
                }
            }
            Command::SetQwenWeights(dir) => {
                self.messages.info(format!(
                    "Qwen-Image-Layered model folder: {}",
                    dir.display()
                ));
                self.decompose.settings.qwen.weights = Some(dir);
            }
            Command::FileDialogAnswered(purpose, answer) => {
                // An export is started here rather than through `ExportAs`, so that a
                // "Save changes?" prompt waiting on this dialog learns whether it started.
                let started = match self.take_dialog_answer(purpose, answer) {
                    Some(Command::ExportAs(path)) => self.start_export(path),
                    Some(command) => {
                        self.carry_out(applying, command);
                        false
                    }
                    None => false,
                };
                self.dialog_closed(started);
            }
            Command::Quit => self.request(applying, Then::Close),
            Command::AnswerSavePrompt(choice) => self.answer(applying, choice),
            Command::ClearRecentFiles => {
                self.recent.clear();
                self.messages.info("Cleared the recent files list");
            }
            Command::AnswerRecovery(choice) => self.answer_recovery(applying, choice),
        }
    }

    /// The lock rule, checked here and nowhere else: a command that would change a locked
    /// layer ([`Command::layers_it_changes`]) is refused, and the status line says why rather
    /// than nothing visibly happening. Panels only grey out what this would refuse.
    fn refused_by_lock(&mut self, command: &Command) -> bool {
        let doc: &Document = &self.doc;
        let locked = command
            .layers_it_changes(doc)
            .into_iter()
            .find_map(|id| locked_by(doc, id));
        let Some(name) = locked else {
            return false;
        };
        let what = match command {
            Command::FillBehind(_) => "fill it",
            Command::DecompositionFinished(finished)
                if matches!(finished.target, crate::decompose::jobs::Target::Refill(_)) =>
            {
                "fill it"
            }
            command if decomposes(command) => "decompose it",
            _ => "change it",
        };
        let text = format!("\"{name}\" is locked; unlock it to {what}.");
        // A move-tool drag on a locked layer is refused on every frame: say it once.
        if self.messages.last().is_none_or(|m| m.text != text) {
            self.messages.info(text);
        }
        true
    }

    /// Shows only `id`; if it already is the only visible layer, restores the visibility
    /// from before the solo (or shows every layer).
    fn solo(&mut self, applying: &Applying, id: LayerId) {
        if self.doc.layer(id).is_none() {
            return;
        }
        let only_this = self.doc.layers.iter().all(|l| l.visible == (l.id == id));
        if only_this {
            let saved = self.solo.take().filter(|s| s.layer == id);
            self.history
                .record("Show all layers", self.doc.edit(applying), |doc| {
                    for layer in &mut doc.layers {
                        let was = saved.as_ref().and_then(|s| {
                            s.visible
                                .iter()
                                .find(|(lid, _)| *lid == layer.id)
                                .map(|(_, v)| *v)
                        });
                        layer.visible = was.unwrap_or(true);
                    }
                });
        } else {
            // Alt-clicking another layer while one is soloed moves the solo to it (as in
            // Photoshop) and keeps the visibility from before the first solo, so the last
            // Alt-click brings that back rather than the intermediate "only A" state.
            let soloing = self.solo.take().filter(|s| {
                self.doc
                    .layers
                    .iter()
                    .all(|l| l.visible == (l.id == s.layer))
            });
            let visible = match soloing {
                Some(state) => state.visible,
                None => self.doc.layers.iter().map(|l| (l.id, l.visible)).collect(),
            };
            self.solo = Some(SoloState { layer: id, visible });
            self.history
                .record("Solo layer", self.doc.edit(applying), |doc| {
                    for layer in &mut doc.layers {
                        layer.visible = layer.id == id;
                    }
                });
        }
    }

    /// Undoes or redoes one step. The groups keep the folding they have now: folding is
    /// no step of its own, so going back through the steps must not fold or unfold them.
    fn undo_or_redo(&mut self, applying: &Applying, command: &Command) {
        let folding = group_edits::folded(&self.doc);
        let doc = self.doc.edit(applying);
        let (done, verb, nothing) = if matches!(command, Command::Undo) {
            (self.history.undo(doc), "Undid", "Nothing to undo")
        } else {
            (self.history.redo(doc), "Redid", "Nothing to redo")
        };
        group_edits::refold(self.doc.edit(applying), &folding);
        match done {
            Some(label) => self.messages.info(format!("{verb} {label}")),
            None => self.messages.info(nothing),
        }
    }

    /// The selected layer or group is gone: fall back to the top layer.
    fn keep_selection_valid(&mut self) {
        let valid = self
            .selected
            .is_some_and(|id| self.doc.layer(id).is_some() || self.doc.group(id).is_some());
        if !valid {
            self.selected = self.doc.layers.last().map(|l| l.id);
        }
    }
}

/// The name of what keeps `id` from changing: the layer or group itself when it is locked,
/// else the nearest locked group around it; `None` when nothing is locked.
fn locked_by(doc: &Document, id: LayerId) -> Option<String> {
    std::iter::once(id)
        .chain(doc.ancestors(id))
        .find_map(|node| match doc.layer(node) {
            Some(layer) => layer.locked.then(|| layer.name.clone()),
            None => doc.group(node).filter(|g| g.locked).map(|g| g.name.clone()),
        })
}

/// True for the commands that start or take in a decomposition (for the refusal's wording).
fn decomposes(command: &Command) -> bool {
    matches!(
        command,
        Command::Decompose { .. }
            | Command::DecomposeWithMenuOptions(_)
            | Command::DecomposeWith { .. }
            | Command::DecompositionFinished(_)
    )
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
