//! The editor's state and [`StrataApp::apply`], the one place where the document changes.

use std::path::{Path, PathBuf};

use super::Command;
use super::canvas::CanvasView;
use super::layers_panel::LayersPanel;
use super::picker::{FilePicker, RfdPicker};
use super::screenshot::ScreenshotHook;
use super::status::Messages;
use crate::io::ExportFormat;
use crate::model::{Document, History, LayerId};

/// Visibility of every layer from before a solo, so a second Alt-click can bring it back.
#[derive(Debug)]
pub(super) struct SoloState {
    layer: LayerId,
    visible: Vec<(LayerId, bool)>,
}

/// The editor: one document, its undo history, the selection and the view.
///
/// Build it with [`StrataApp::new`] (no window needed, which is how the tests drive it);
/// [`super::run`] puts it in an eframe window.
pub struct StrataApp {
    pub(super) doc: Document,
    pub(super) history: History,
    pub(super) selected: Option<LayerId>,
    /// The file the document was opened from.
    pub(super) path: Option<PathBuf>,
    /// Where Ctrl+S exports to, once a PSD export has succeeded.
    pub(super) last_psd: Option<PathBuf>,
    /// Bumped whenever the document changes; the canvas recomposites when it moves.
    pub(super) revision: u64,
    pub(super) canvas: CanvasView,
    pub(super) layers_panel: LayersPanel,
    pub(super) messages: Messages,
    pub(super) picker: Box<dyn FilePicker>,
    pub(super) solo: Option<SoloState>,
    pub(super) quit_requested: bool,
    /// The window title last sent to the window.
    pub(super) shown_title: Option<String>,
    pub(super) screenshot: Option<ScreenshotHook>,
    pub(super) decompose: super::decompose::DecomposeState,
    /// Open and export jobs on the file thread.
    pub(super) files: super::files::FileState,
    /// File › Open Recent.
    pub(super) recent: super::recent::RecentFiles,
    /// The last saved state and the "Save changes?" prompt.
    pub(super) unsaved: super::unsaved::Unsaved,
    /// Autosave and crash recovery (off unless [`Self::with_data_dir`] names a folder).
    pub(super) autosave: super::autosave::Autosave,
}

impl StrataApp {
    /// An editor showing `doc`, with native file dialogs. `doc` counts as saved, and the
    /// recent files list lives in memory only (see [`Self::with_settings_dir`]).
    pub fn new(doc: Document) -> Self {
        let selected = doc.layers.last().map(|l| l.id);
        let unsaved = super::unsaved::Unsaved::new(&doc);
        Self {
            doc,
            history: History::default(),
            selected,
            path: None,
            last_psd: None,
            revision: 0,
            canvas: CanvasView::default(),
            layers_panel: LayersPanel::default(),
            messages: Messages::default(),
            picker: Box::new(RfdPicker::default()),
            solo: None,
            quit_requested: false,
            shown_title: None,
            screenshot: None,
            decompose: Default::default(),
            files: Default::default(),
            recent: super::recent::RecentFiles::in_memory(),
            unsaved,
            autosave: Default::default(),
        }
    }

    /// An editor showing the file at `path`; if it cannot be opened, an empty editor that
    /// says why.
    ///
    /// Reads on the calling thread (unlike [`Command::Open`]): the document is there when
    /// this returns, so startup can decompose it at once.
    pub fn open(path: &Path) -> Self {
        let mut app = Self::new(Document::new(0, 0));
        app.picker = Box::new(RfdPicker::starting_in(path.parent()));
        app.open_now(path);
        app
    }

    /// Keeps File › Open Recent in `dir` (read now, written on every change); `None` keeps
    /// it in memory only, which is what tests want.
    pub fn with_settings_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.recent = match dir {
            Some(dir) => super::recent::RecentFiles::load(&dir),
            None => super::recent::RecentFiles::in_memory(),
        };
        self
    }

    /// Puts the open document's file on the recent files list (the file named on the
    /// command line, once the list is loaded).
    pub fn remember_opened_file(&mut self) {
        if let Some(path) = self.path.clone() {
            self.recent.add(&path);
        }
    }

    /// Replaces the file dialogs (tests use a picker that answers without asking anyone).
    pub fn with_picker(mut self, picker: Box<dyn FilePicker>) -> Self {
        self.picker = picker;
        self
    }

    /// The document being edited.
    pub fn document(&self) -> &Document {
        &self.doc
    }

    /// The undo history.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The selected layer, if any.
    pub fn selected(&self) -> Option<LayerId> {
        self.selected
    }

    /// The canvas view: zoom, tool, where the canvas is on screen.
    pub fn canvas(&self) -> &CanvasView {
        &self.canvas
    }

    /// Messages for the person (status line and error banner).
    pub fn messages(&self) -> &Messages {
        &self.messages
    }

    /// The window title: "Strata — file name", with " *" after it while there are unsaved
    /// changes (as Photoshop marks them).
    pub fn title(&self) -> String {
        match (self.path.is_some(), self.is_dirty()) {
            (_, true) => format!("Strata — {} *", self.document_name()),
            (true, false) => format!("Strata — {}", self.document_name()),
            (false, false) => "Strata".to_string(),
        }
    }

    /// Carries out one command. Every document change goes through here, each as an undo
    /// step (a drag gesture as one step, through [`super::Gesture`]).
    pub fn apply(&mut self, command: Command) {
        // Cheap: layer pixels are shared `Arc`s. Comparing afterwards catches every change.
        let before = self.doc.clone();
        match command {
            Command::OpenDialog => {
                if let Some(path) = self.picker.open() {
                    self.apply(Command::Open(path));
                }
            }
            Command::Open(path) => self.request(super::unsaved::Then::Open(path)),
            Command::ExportDialog(format) => {
                self.export_dialog(format);
            }
            Command::QuickExport => match self.last_psd.clone() {
                Some(path) => self.apply(Command::ExportAs(path)),
                None => {
                    self.export_dialog(ExportFormat::Psd);
                }
            },
            Command::ExportAs(path) => {
                self.start_export(path);
            }
            Command::ExportLayersDialog => {
                if let Some(dir) = self.picker.folder() {
                    self.apply(Command::ExportLayers(dir));
                }
            }
            Command::ExportLayers(dir) => self.start_export_layers(dir),
            Command::SetVisible(id, visible) => {
                let label = if visible { "Show layer" } else { "Hide layer" };
                self.edit_layer(label, id, |layer| layer.visible = visible);
            }
            Command::Solo(id) => self.solo(id),
            Command::SetOpacity {
                id,
                opacity,
                gesture,
            } => self.set_opacity(id, opacity, gesture),
            Command::SetBlend(id, mode) => {
                if self.editable(id) {
                    self.edit_layer("Blend mode", id, |l| l.blend = mode);
                }
            }
            Command::Rename(id, name) => {
                let name = name.trim().to_string();
                if !name.is_empty() {
                    self.edit_layer("Rename layer", id, |layer| layer.name = name);
                }
            }
            Command::Select(id) => {
                if self.doc.layer(id).is_some() {
                    self.selected = Some(id);
                }
            }
            Command::MoveLayer { id, to_index } => {
                self.history.record("Move layer", &mut self.doc, |doc| {
                    doc.move_layer(id, to_index)
                });
            }
            Command::NewLayer => self.new_layer(),
            Command::DuplicateLayer(id) => self.duplicate_layer(id),
            Command::DeleteLayer(id) => self.delete_layer(id),
            Command::MergeDown(id) => self.merge_down(id),
            Command::SetLocked(id, locked) => self.set_locked(id, locked),
            Command::SetOffset {
                id,
                offset,
                gesture,
            } => self.set_offset(id, offset, gesture),
            Command::SetTool(tool) => self.canvas.set_tool(tool),
            Command::Undo => match self.history.undo(&mut self.doc) {
                Some(label) => self.messages.info(format!("Undid {label}")),
                None => self.messages.info("Nothing to undo"),
            },
            Command::Redo => match self.history.redo(&mut self.doc) {
                Some(label) => self.messages.info(format!("Redid {label}")),
                None => self.messages.info("Nothing to redo"),
            },
            Command::ZoomFit => self.canvas.fit(),
            Command::Zoom100 => self.canvas.zoom_100(),
            Command::ZoomBy(factor) => self.canvas.zoom_by(factor),
            Command::DismissError => self.messages.dismiss_banner(),
            Command::Decompose { target, options } => self.start_decompose(target, options),
            Command::DecomposeWithMenuOptions(target) => {
                let options = self.decompose.options.clone();
                self.start_decompose(target, options);
            }
            Command::CancelDecompose => self.cancel_decompose(),
            Command::ChooseQwenWeights => {
                if let Some(dir) = self.picker.folder() {
                    self.messages.info(format!(
                        "Qwen-Image-Layered model folder: {}",
                        dir.display()
                    ));
                    self.decompose.settings.qwen.weights = Some(dir);
                }
            }
            Command::Quit => self.request(super::unsaved::Then::Close),
            Command::AnswerSavePrompt(choice) => self.answer(choice),
            Command::ClearRecentFiles => {
                self.recent.clear();
                self.messages.info("Cleared the recent files list");
            }
            Command::AnswerRecovery(choice) => self.answer_recovery(choice),
        }
        if !before.is_same_state(&self.doc) {
            self.revision += 1;
            self.keep_selection_valid();
        }
    }

    /// Changes one layer as one undo step; does nothing if the layer is gone.
    fn edit_layer(
        &mut self,
        label: &str,
        id: LayerId,
        edit: impl FnOnce(&mut crate::model::Layer),
    ) {
        if self.doc.layer(id).is_none() {
            return;
        }
        self.history.record(label, &mut self.doc, |doc| {
            if let Some(layer) = doc.layer_mut(id) {
                edit(layer);
            }
        });
    }

    /// Shows only `id`; if it already is the only visible layer, restores the visibility
    /// from before the solo (or shows every layer).
    fn solo(&mut self, id: LayerId) {
        if self.doc.layer(id).is_none() {
            return;
        }
        let only_this = self.doc.layers.iter().all(|l| l.visible == (l.id == id));
        if only_this {
            let saved = self.solo.take().filter(|s| s.layer == id);
            self.history
                .record("Show all layers", &mut self.doc, |doc| {
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
            let visible = self.doc.layers.iter().map(|l| (l.id, l.visible)).collect();
            self.solo = Some(SoloState { layer: id, visible });
            self.history.record("Solo layer", &mut self.doc, |doc| {
                for layer in &mut doc.layers {
                    layer.visible = layer.id == id;
                }
            });
        }
    }

    /// After undo, redo or open, the selected layer may be gone: fall back to the top one.
    fn keep_selection_valid(&mut self) {
        let valid = self.selected.is_some_and(|id| self.doc.layer(id).is_some());
        if !valid {
            self.selected = self.doc.layers.last().map(|l| l.id);
        }
    }
}
