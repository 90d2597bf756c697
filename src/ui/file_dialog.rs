//! Strata's own file dialog, drawn in the window, for when the desktop's cannot be shown
//! (no XDG desktop portal and no zenity; see [`super::picker`]).
//!
//! Why our own rather than a crate: `egui-file-dialog`, which has everything wanted, needs
//! egui 0.36 in its latest release (0.15) and cannot be used with egui 0.37; `egui_file`
//! (0.29) works with egui 0.37 but has no recent folders, no choice of format filter, and
//! text fields without accessible names, which the GUI tests (and screen readers) need. What
//! is needed is small: one folder listing, a path field, a filter, recent folders.
//!
//! The dialog is only state plus a drawing function ([`ui`]); it never touches the document.
//! Its answer leaves the frame as [`super::Command::FileDialogAnswered`], which
//! [`super::StrataApp::apply`] carries out like the native dialog's answer.
//!
//! What it offers: recent folders (the folders of File › Open Recent and the folders last
//! used), a format filter, a path field (Enter on a folder goes there, on a file picks it; a
//! relative path is taken from the folder shown, `~` is the home folder), a file-name field
//! when saving, folders first and then files sorted by name (names starting with a dot are
//! left out, as desktop dialogs do; typing them still works), double-click to open a folder
//! or pick a file, Up, Cancel and Escape. Saving adds the format's extension and asks before
//! replacing a file. A folder that cannot be read says why in the dialog.

use std::path::{Path, PathBuf};

use super::picker::{OPEN_EXTENSIONS, with_extension};
use crate::io::ExportFormat;

mod ui;

pub use ui::ui;

/// What a dialog is for, which decides what it shows and what its answer does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// A picture to open.
    Open,
    /// Where to export in this format.
    Export(ExportFormat),
    /// A folder to export one PNG per layer into.
    ExportLayers,
    /// The Qwen-Image-Layered model folder.
    QwenWeights,
}

impl Purpose {
    /// True when the answer is a folder.
    pub fn wants_folder(self) -> bool {
        matches!(self, Self::ExportLayers | Self::QwenWeights)
    }

    /// The dialog's heading, e.g. "Open picture".
    pub fn title(self) -> String {
        match self {
            Self::Open => "Open picture".into(),
            Self::Export(format) => format!("Export {}", format_name(format)),
            Self::ExportLayers => "Export layers into folder".into(),
            Self::QwenWeights => "Choose the Qwen-Image-Layered model folder".into(),
        }
    }
}

/// The extension (no dot) that an export in `format` gets.
pub fn extension(format: ExportFormat) -> &'static str {
    match format {
        ExportFormat::Psd => "psd",
        ExportFormat::Ora => "ora",
        ExportFormat::FlatPng => "png",
    }
}

fn format_name(format: ExportFormat) -> &'static str {
    match format {
        ExportFormat::Psd => "PSD",
        ExportFormat::Ora => "OpenRaster",
        ExportFormat::FlatPng => "PNG",
    }
}

/// A choice of the format combo: a name and the extensions it shows (none: all files).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Filter {
    /// What the combo shows.
    pub name: &'static str,
    /// Extensions without the dot, lower case; empty for every file.
    pub extensions: &'static [&'static str],
}

impl Filter {
    fn matches(&self, path: &Path) -> bool {
        self.extensions.is_empty()
            || path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| self.extensions.iter().any(|x| e.eq_ignore_ascii_case(x)))
    }
}

const ALL_FILES: Filter = Filter {
    name: "All files",
    extensions: &[],
};

/// The filters offered for `purpose`, the default first.
pub fn filters(purpose: Purpose) -> Vec<Filter> {
    let one = |name, extensions| Filter { name, extensions };
    match purpose {
        Purpose::Open => vec![
            one("Pictures and layered files", &OPEN_EXTENSIONS),
            one("PSD", &["psd", "psb"]),
            one("OpenRaster", &["ora"]),
            one("PNG", &["png"]),
            one("JPEG", &["jpg", "jpeg"]),
            one("WebP", &["webp"]),
            one("TIFF", &["tiff", "tif"]),
            one("BMP", &["bmp"]),
            one("GIF", &["gif"]),
            ALL_FILES,
        ],
        Purpose::Export(ExportFormat::Psd) => vec![one("PSD", &["psd", "psb"])],
        Purpose::Export(ExportFormat::Ora) => vec![one("OpenRaster", &["ora"])],
        Purpose::Export(ExportFormat::FlatPng) => vec![one("PNG", &["png"])],
        Purpose::ExportLayers | Purpose::QwenWeights => Vec::new(),
    }
}

/// One row of the listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The file or folder name.
    pub name: String,
    /// Its full path.
    pub path: PathBuf,
    /// True for a folder.
    pub is_dir: bool,
}

/// How a dialog ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The person chose this path.
    Picked(PathBuf),
    /// The person closed the dialog without choosing.
    Cancelled,
}

/// An in-window dialog on screen.
#[derive(Debug)]
pub struct FileDialog {
    purpose: Purpose,
    dir: PathBuf,
    /// The folder's entries (unfiltered), or why it cannot be read.
    listing: Result<Vec<Entry>, String>,
    filter: usize,
    /// The path field.
    path_text: String,
    /// The file-name field (saving only).
    name_text: String,
    selected: Option<PathBuf>,
    recent: Vec<PathBuf>,
    /// Why the last typed path or choice did not work.
    error: Option<String>,
    /// A file that exists, waiting for "Replace?".
    overwrite: Option<PathBuf>,
    /// Put the keyboard focus in the path field on the next frame.
    focus_path: bool,
}

impl FileDialog {
    /// A dialog for `purpose` showing `dir`, offering `recent` folders; `default_name` fills
    /// the file-name field when saving.
    pub fn new(purpose: Purpose, dir: PathBuf, recent: Vec<PathBuf>, default_name: &str) -> Self {
        let mut dialog = Self {
            purpose,
            dir: PathBuf::new(),
            listing: Ok(Vec::new()),
            filter: 0,
            path_text: String::new(),
            name_text: default_name.to_string(),
            selected: None,
            recent,
            error: None,
            overwrite: None,
            focus_path: true,
        };
        dialog.go_to(dir);
        dialog
    }

    /// What the dialog is for.
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }

    /// The folder shown.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Why the folder cannot be listed, or why the last choice did not work.
    pub fn error(&self) -> Option<&str> {
        self.listing
            .as_ref()
            .err()
            .map(String::as_str)
            .or(self.error.as_deref())
    }

    /// Shows `dir` (even if it cannot be read: the error says so, and Up still works).
    pub fn go_to(&mut self, dir: PathBuf) {
        self.listing = list(&dir);
        self.dir = dir;
        self.selected = None;
        self.error = None;
        self.overwrite = None;
    }

    /// Shows the folder above, if there is one.
    pub fn go_up(&mut self) {
        if let Some(parent) = self.dir.parent() {
            self.go_to(parent.to_path_buf());
        }
    }

    /// Picks the filter at `index` of [`filters`].
    pub fn set_filter(&mut self, index: usize) {
        self.filter = index;
    }

    /// The rows shown: folders first, then the files the filter lets through (none when
    /// choosing a folder), each sorted by name.
    pub fn entries(&self) -> Vec<&Entry> {
        let Ok(listing) = &self.listing else {
            return Vec::new();
        };
        let filter = filters(self.purpose).get(self.filter).copied();
        let mut shown: Vec<&Entry> = listing
            .iter()
            .filter(|e| e.is_dir || filter.is_some_and(|f| f.matches(&e.path)))
            .collect();
        shown.sort_by_cached_key(|e| (!e.is_dir, e.name.to_lowercase()));
        shown
    }

    /// The recent folders offered (those that still exist).
    pub fn recent(&self) -> &[PathBuf] {
        &self.recent
    }

    /// Enter in the path field: a folder is shown, a file is picked (or, when saving, a new
    /// file in an existing folder).
    pub fn submit_path(&mut self) -> Option<Outcome> {
        let text = self.path_text.trim();
        if text.is_empty() {
            return None;
        }
        let path = self.resolve(text);
        if path.is_dir() {
            self.path_text.clear();
            self.go_to(path);
            return None;
        }
        self.choose(path)
    }

    /// Enter in the file-name field, or the Export button.
    pub fn submit_name(&mut self) -> Option<Outcome> {
        let name = self.name_text.trim();
        if name.is_empty() {
            self.error = Some("Type a file name.".into());
            return None;
        }
        let path = self.resolve(name);
        self.choose(path)
    }

    /// A double-click on a row.
    pub fn activate(&mut self, entry: &Entry) -> Option<Outcome> {
        if entry.is_dir {
            self.go_to(entry.path.clone());
            None
        } else {
            self.choose(entry.path.clone())
        }
    }

    /// The main button: Open the selected file or typed path, Export to the file name, or
    /// choose the selected (or shown) folder.
    pub fn confirm(&mut self) -> Option<Outcome> {
        match self.purpose {
            Purpose::Open => match self.selected.clone() {
                Some(path) => self.choose(path),
                None if !self.path_text.trim().is_empty() => self.submit_path(),
                None => {
                    self.error = Some("Choose a file to open.".into());
                    None
                }
            },
            Purpose::Export(_) => self.submit_name(),
            Purpose::ExportLayers | Purpose::QwenWeights => {
                let dir = self.selected.clone().unwrap_or_else(|| self.dir.clone());
                Some(Outcome::Picked(dir))
            }
        }
    }

    /// Answers "Replace it?": yes picks the file, no goes back to choosing.
    pub fn answer_overwrite(&mut self, replace: bool) -> Option<Outcome> {
        let path = self.overwrite.take()?;
        replace.then_some(Outcome::Picked(path))
    }

    /// A typed path: absolute, `~/…`, or relative to the folder shown.
    fn resolve(&self, text: &str) -> PathBuf {
        let home = || std::env::var_os("HOME").map(PathBuf::from);
        if text == "~"
            && let Some(home) = home()
        {
            return home;
        }
        if let Some(rest) = text.strip_prefix("~/")
            && let Some(home) = home()
        {
            return home.join(rest);
        }
        self.dir.join(text)
    }

    /// Checks `path` for the purpose and picks it, or says why not.
    fn choose(&mut self, path: PathBuf) -> Option<Outcome> {
        match self.purpose {
            Purpose::Open if path.is_file() => Some(Outcome::Picked(path)),
            Purpose::Open => {
                self.error = Some(format!("{} is not a file.", path.display()));
                None
            }
            Purpose::Export(format) => {
                let path = with_extension(path, extension(format));
                if path.is_dir() {
                    self.error = Some(format!("{} is a folder.", path.display()));
                    None
                } else if !path.parent().is_some_and(Path::is_dir) {
                    self.error = Some(format!("There is no folder for {}.", path.display()));
                    None
                } else if path.exists() {
                    self.overwrite = Some(path);
                    None
                } else {
                    Some(Outcome::Picked(path))
                }
            }
            Purpose::ExportLayers | Purpose::QwenWeights if path.is_dir() => {
                Some(Outcome::Picked(path))
            }
            Purpose::ExportLayers | Purpose::QwenWeights => {
                self.error = Some(format!("{} is not a folder.", path.display()));
                None
            }
        }
    }
}

/// The entries of `dir` without dot names, or why it cannot be read.
fn list(dir: &Path) -> Result<Vec<Entry>, String> {
    let read = std::fs::read_dir(dir)
        .map_err(|err| format!("Cannot read the folder {}: {err}", dir.display()))?;
    let mut entries = Vec::new();
    for item in read.flatten() {
        let name = item.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = item.path();
        // Follows symbolic links, so a link to a folder opens like one.
        let is_dir = path.is_dir();
        entries.push(Entry { name, path, is_dir });
    }
    Ok(entries)
}

/// The folders offered as recent: those of `recent_files` and `used` (newest first, each
/// once, only existing ones, at most eight).
pub fn recent_folders(recent_files: &[PathBuf], used: &[PathBuf]) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = Vec::new();
    let candidates = used.iter().cloned().chain(
        recent_files
            .iter()
            .filter_map(|f| f.parent().map(Path::to_path_buf)),
    );
    for dir in candidates {
        if folders.len() < 8 && !folders.contains(&dir) && dir.is_dir() {
            folders.push(dir);
        }
    }
    folders
}

#[cfg(test)]
#[path = "file_dialog/tests.rs"]
mod tests;
