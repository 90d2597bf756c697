//! Asking the person for a path: the desktop's dialog through the [`FilePicker`], and when
//! that cannot be shown, Strata's own in-window dialog ([`super::file_dialog`]).
//!
//! The native dialog blocks and answers at once; the in-window one is drawn frame after
//! frame and answers later, as [`Command::FileDialogAnswered`], which `apply` carries out
//! exactly as it would the native answer. So each dialog command asks with
//! [`StrataApp::ask`] and goes on only on [`Asked::Path`]; [`Asked::InWindow`] means the
//! answer comes later, as that command.
//!
//! [`FilePicker`]: super::picker::FilePicker

use std::path::{Path, PathBuf};

use super::file_dialog::{self, FileDialog, Outcome, Purpose, extension, recent_folders};
use super::picker::Picked;
use super::{Command, StrataApp};

/// What the status line says (once) when the in-window dialog stands in for the desktop's.
pub const FALLBACK_NOTE: &str =
    "No system file dialog (install xdg-desktop-portal or zenity); using Strata's own";

/// How many folders used in dialogs are remembered for the in-window dialog.
const USED_FOLDERS: usize = 8;

/// The in-window dialog, if one is up, and what the next one should offer.
#[derive(Debug, Default)]
pub struct Dialogs {
    pub(super) open: Option<FileDialog>,
    /// Folders of the paths chosen in any dialog, newest first.
    used: Vec<PathBuf>,
    /// The status line already said why the in-window dialog is used.
    explained: bool,
}

impl Dialogs {
    /// Remembers the folder of a chosen path (the path itself for a folder).
    fn used(&mut self, path: &Path, is_dir: bool) {
        let dir = if is_dir { Some(path) } else { path.parent() };
        if let Some(dir) = dir {
            self.used.retain(|d| d != dir);
            self.used.insert(0, dir.to_path_buf());
            self.used.truncate(USED_FOLDERS);
        }
    }
}

/// The answer of [`StrataApp::ask`].
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Asked {
    /// The native dialog's choice.
    Path(PathBuf),
    /// Cancelled, or no dialog could be shown at all (the error banner says so).
    Cancelled,
    /// The in-window dialog is up; its answer arrives as [`Command::FileDialogAnswered`].
    InWindow,
}

impl StrataApp {
    /// Asks for a path for `purpose` (see the module docs).
    pub(super) fn ask(&mut self, purpose: Purpose) -> Asked {
        let default_name = self.default_export_name(purpose);
        let picked = match purpose {
            Purpose::Open => self.picker.open(),
            Purpose::Export(format) => self.picker.save(&default_name, extension(format)),
            Purpose::ExportLayers | Purpose::QwenWeights => self.picker.folder(),
        };
        match picked {
            Picked::Path(path) => {
                self.dialogs.used(&path, purpose.wants_folder());
                Asked::Path(path)
            }
            Picked::Cancelled => Asked::Cancelled,
            Picked::Unavailable(why) => self.open_in_window(purpose, &why, &default_name),
        }
    }

    /// The in-window dialog, if one is up (tests look at it).
    pub fn file_dialog(&self) -> Option<&FileDialog> {
        self.dialogs.open.as_ref()
    }

    /// The suggested file name for an export: the document's name, "-flat" for a PNG.
    fn default_export_name(&self, purpose: Purpose) -> String {
        let Purpose::Export(format) = purpose else {
            return String::new();
        };
        let stem = self
            .path
            .as_ref()
            .and_then(|p| p.file_stem())
            .map_or("untitled".to_string(), |s| s.to_string_lossy().into_owned());
        let suffix = if format == crate::io::ExportFormat::FlatPng {
            "-flat"
        } else {
            ""
        };
        format!("{stem}{suffix}.{}", extension(format))
    }

    /// Puts up the in-window dialog because the native one could not be shown (`why`).
    fn open_in_window(&mut self, purpose: Purpose, why: &str, default_name: &str) -> Asked {
        tracing::warn!("no native file dialog: {why}");
        if let Some(open) = &self.dialogs.open {
            // Only reachable from a prompt over a dialog that is still up: never drop the
            // request silently, and leave the open dialog alone.
            let open = open.purpose().title();
            self.messages.error(format!(
                "Cannot show a file dialog: {why}, and Strata's own is already open \
                 (\"{open}\"); finish that one first."
            ));
            return Asked::Cancelled;
        }
        if !std::mem::replace(&mut self.dialogs.explained, true) {
            self.messages.info(FALLBACK_NOTE);
        }
        let recent = recent_folders(self.recent.paths(), &self.dialogs.used);
        let dir = self.start_folder();
        self.dialogs.open = Some(FileDialog::new(purpose, dir, recent, default_name));
        Asked::InWindow
    }

    /// Where the in-window dialog starts: the folder last used, the document's folder, the
    /// home folder, the working folder, or the root, whichever exists first.
    fn start_folder(&self) -> PathBuf {
        let document = self.path.as_deref().and_then(Path::parent);
        let home = std::env::var_os("HOME").map(PathBuf::from);
        self.dialogs
            .used
            .first()
            .cloned()
            .into_iter()
            .chain(document.map(Path::to_path_buf))
            .chain(home)
            .chain(std::env::current_dir().ok())
            .find(|dir| dir.is_dir())
            .unwrap_or_else(|| PathBuf::from("/"))
    }

    /// Takes in the in-window dialog's answer ([`Command::FileDialogAnswered`]): closes it
    /// and returns the command that carries the choice out (`None` after a cancel).
    pub(super) fn take_dialog_answer(
        &mut self,
        purpose: Purpose,
        answer: Option<PathBuf>,
    ) -> Option<Command> {
        self.dialogs.open = None;
        let path = answer?;
        self.dialogs.used(&path, purpose.wants_folder());
        Some(match purpose {
            Purpose::Open => Command::Open(path),
            Purpose::Export(_) => Command::ExportAs(path),
            Purpose::ExportLayers => Command::ExportLayers(path),
            Purpose::QwenWeights => Command::SetQwenWeights(path),
        })
    }

    /// Draws the in-window dialog, if one is up, and pushes its answer.
    pub(super) fn file_dialog_ui(&mut self, ctx: &egui::Context, out: &mut Vec<Command>) {
        let Some(dialog) = &mut self.dialogs.open else {
            return;
        };
        if let Some(outcome) = file_dialog::ui(dialog, ctx) {
            let answer = match outcome {
                Outcome::Picked(path) => Some(path),
                Outcome::Cancelled => None,
            };
            out.push(Command::FileDialogAnswered(dialog.purpose(), answer));
        }
    }
}
