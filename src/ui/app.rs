//! The editor's state, and the rule that keeps it simple: [`StrataApp::apply`] is the one
//! place where the document changes.
//!
//! Everything that changes the document arrives as a [`Command`]: the panels' requests of
//! each frame, and the results of the other threads. Polling a thread only turns its
//! finished job into a command ([`Command::FileJobFinished`] for an opened file or a written
//! export, [`Command::DecompositionFinished`] for new layers); the frame applies those before
//! it draws, and `wait_for_files` / `wait_for_decomposition` apply them at once. Recovering
//! an autosave is the answer to the recovery prompt ([`Command::AnswerRecovery`]). So undo
//! recording, the lock rule, the revision and the selection are each handled in one place,
//! in `ui::app::apply`:
//!
//! * The document lives in a `GuardedDocument`. It derefs to `&Document` for every reader,
//!   but `&mut Document` takes an `Applying`, a token that only `apply` can make (its field
//!   is private to `apply`) and lends to the helpers it calls. A helper that changes the
//!   document says so by taking `&Applying`, and code outside `apply` has none to give it:
//!   a change that bypasses `apply` does not compile.
//! * The revision, on which the canvas recomposites, is a private field of that wrapper:
//!   `apply` bumps it once at the end, when the document's state differs from before, and
//!   falls back to the top layer if the selected one is gone.
//! * The lock rule is checked once, before a command runs, from
//!   [`Command::layers_it_changes`]; panels only grey out what it would refuse.
//!
//! `apply_tests` drives opening, decomposition, recovery and edits through the real polling
//! paths and checks that the document and its revision stay put until `apply` takes the
//! command in.
//!
//! [`Command`]: super::Command
//! [`Command::FileJobFinished`]: super::Command::FileJobFinished
//! [`Command::DecompositionFinished`]: super::Command::DecompositionFinished
//! [`Command::AnswerRecovery`]: super::Command::AnswerRecovery
//! [`Command::layers_it_changes`]: super::Command::layers_it_changes

use std::path::{Path, PathBuf};

use super::canvas::CanvasView;
use super::layers_panel::LayersPanel;
use super::picker::{FilePicker, RfdPicker};
use super::screenshot::ScreenshotHook;
use super::status::Messages;
use crate::model::{Document, History, LayerId};

mod apply;

pub(super) use apply::Applying;
use apply::{GuardedDocument, SoloState};

/// The editor: one document, its undo history, the selection and the view.
///
/// Build it with [`StrataApp::new`] (no window needed, which is how the tests drive it);
/// [`super::run`] puts it in an eframe window.
pub struct StrataApp {
    /// The document; changed only inside [`Self::apply`] (see the module docs).
    pub(super) doc: GuardedDocument,
    pub(super) history: History,
    pub(super) selected: Option<LayerId>,
    /// The file the document was opened from.
    pub(super) path: Option<PathBuf>,
    /// Where Ctrl+S exports to, once a PSD export has succeeded.
    pub(super) last_psd: Option<PathBuf>,
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
    /// Strata's in-window file dialog, for when the desktop's cannot be shown.
    pub(super) dialogs: super::dialogs::Dialogs,
}

impl StrataApp {
    /// An editor showing `doc`, with native file dialogs. `doc` counts as saved, and the
    /// recent files list lives in memory only (see [`Self::with_settings_dir`]).
    pub fn new(doc: Document) -> Self {
        let selected = doc.layers.last().map(|l| l.id);
        let unsaved = super::unsaved::Unsaved::new(&doc);
        Self {
            doc: GuardedDocument::new(doc),
            history: History::default(),
            selected,
            path: None,
            last_psd: None,
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
            dialogs: Default::default(),
        }
    }

    /// An editor showing the file at `path`; if it cannot be opened, an empty editor that
    /// says why.
    ///
    /// Reads on the calling thread (unlike [`super::Command::Open`]): the document is there
    /// when this returns, so startup can decompose it at once.
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
}
