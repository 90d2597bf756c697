//! File and folder dialogs behind a trait, so tests can answer them without a desktop.

use std::path::{Path, PathBuf};

/// Extensions the Open dialog offers (everything [`crate::io::open`] reads).
pub const OPEN_EXTENSIONS: [&str; 10] = [
    "png", "jpg", "jpeg", "webp", "tiff", "tif", "bmp", "gif", "psd", "ora",
];

/// Asks the person for paths. `None` means they cancelled.
pub trait FilePicker {
    /// A picture to open.
    fn open(&mut self) -> Option<PathBuf>;
    /// A file to write, suggesting `default_name`; `ext` (no dot) is the format's extension.
    fn save(&mut self, default_name: &str, ext: &str) -> Option<PathBuf>;
    /// A folder to write into.
    fn folder(&mut self) -> Option<PathBuf>;
}

/// Native dialogs through `rfd` (the XDG desktop portal on Linux, zenity as fallback).
///
/// Remembers the last folder used so that each dialog starts there.
#[derive(Debug, Default)]
pub struct RfdPicker {
    last_dir: Option<PathBuf>,
}

impl RfdPicker {
    /// A picker whose first dialog starts in `dir` (e.g. the opened file's folder).
    pub fn starting_in(dir: Option<&Path>) -> Self {
        Self {
            last_dir: dir.map(Path::to_path_buf),
        }
    }

    fn dialog(&self) -> rfd::FileDialog {
        let dialog = rfd::FileDialog::new();
        match &self.last_dir {
            Some(dir) => dialog.set_directory(dir),
            None => dialog,
        }
    }

    fn remember(&mut self, picked: Option<PathBuf>, is_dir: bool) -> Option<PathBuf> {
        if let Some(path) = &picked {
            let dir = if is_dir {
                Some(path.as_path())
            } else {
                path.parent()
            };
            self.last_dir = dir.map(Path::to_path_buf);
        }
        picked
    }
}

impl FilePicker for RfdPicker {
    fn open(&mut self) -> Option<PathBuf> {
        let picked = self
            .dialog()
            .set_title("Open picture")
            .add_filter("Pictures and layered files", &OPEN_EXTENSIONS)
            .add_filter("All files", &["*"])
            .pick_file();
        self.remember(picked, false)
    }

    fn save(&mut self, default_name: &str, ext: &str) -> Option<PathBuf> {
        let picked = self
            .dialog()
            .set_title(format!("Export {}", ext.to_ascii_uppercase()))
            .set_file_name(default_name)
            .add_filter(ext.to_ascii_uppercase(), &[ext])
            .save_file()
            .map(|path| with_extension(path, ext));
        self.remember(picked, false)
    }

    fn folder(&mut self) -> Option<PathBuf> {
        let picked = self
            .dialog()
            .set_title("Export layers into folder")
            .pick_folder();
        self.remember(picked, true)
    }
}

/// Adds `.ext` unless the path already ends with it (some dialogs drop the extension).
pub fn with_extension(path: PathBuf, ext: &str) -> PathBuf {
    let has_it = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case(ext));
    if has_it {
        path
    } else {
        let mut name = path.into_os_string();
        name.push(".");
        name.push(ext);
        PathBuf::from(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_is_added_once() {
        assert_eq!(
            with_extension("a/b".into(), "psd"),
            PathBuf::from("a/b.psd")
        );
        assert_eq!(
            with_extension("a/b.PSD".into(), "psd"),
            PathBuf::from("a/b.PSD")
        );
        assert_eq!(
            with_extension("a/b.png".into(), "ora"),
            PathBuf::from("a/b.png.ora")
        );
    }
}
