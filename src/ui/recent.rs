//! The File › Open Recent list: up to [`MAX_RECENT`] files, newest first, kept in the user's
//! config folder between runs.
//!
//! The list is stored as `recent-files.txt`, one path per line, replaced atomically so that a
//! crash never leaves half a list. Where it lives is injected ([`RecentFiles::load`] takes the
//! folder), so tests never touch the real home folder; [`RecentFiles::in_memory`] keeps the
//! list for this run only.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

/// How many files the list keeps.
pub const MAX_RECENT: usize = 10;
/// The list's file name inside the config folder.
pub const FILE_NAME: &str = "recent-files.txt";
/// Environment variable that moves the config folder (for scripts and tests of the binary).
pub const CONFIG_DIR_ENV: &str = "STRATA_CONFIG_DIR";

/// The user's config folder for Strata (e.g. `~/.config/strata`), or `None` if the platform
/// has no home folder. `STRATA_CONFIG_DIR` overrides it when set and not empty.
pub fn config_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(CONFIG_DIR_ENV).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "strata").map(|dirs| dirs.config_dir().to_path_buf())
}

/// Recently opened or exported files, newest first, without duplicates.
#[derive(Debug, Default)]
pub struct RecentFiles {
    paths: Vec<PathBuf>,
    /// The file the list is saved to; `None` keeps it in memory only.
    store: Option<PathBuf>,
}

impl RecentFiles {
    /// An empty list that is never saved (what [`super::StrataApp::new`] uses).
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// Reads the list saved in `dir`, dropping files that no longer exist. A missing list is
    /// an empty one; an unreadable one is logged and treated as empty (it is only a
    /// convenience, and the next save replaces it).
    pub fn load(dir: &Path) -> Self {
        let store = dir.join(FILE_NAME);
        let paths = match std::fs::read(&store) {
            Ok(bytes) => parse(&bytes),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(err) => {
                tracing::warn!(
                    "cannot read the recent files list {}: {err}",
                    store.display()
                );
                Vec::new()
            }
        };
        let mut list = Self {
            paths: Vec::new(),
            store: Some(store),
        };
        // Oldest first, so each `push_front` leaves the newest on top.
        for path in paths.into_iter().rev() {
            list.push_front(path);
        }
        list.prune();
        list
    }

    /// The files, newest first.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// Where the list is saved, if anywhere.
    pub fn store(&self) -> Option<&Path> {
        self.store.as_deref()
    }

    /// Puts `path` at the top (moving it there if already listed) and saves the list.
    pub fn add(&mut self, path: &Path) {
        self.push_front(normalise(path));
        self.save();
    }

    /// Takes `path` off the list (a file that could not be opened because it is gone).
    pub fn remove(&mut self, path: &Path) {
        let path = normalise(path);
        let before = self.paths.len();
        self.paths.retain(|p| *p != path);
        if self.paths.len() != before {
            self.save();
        }
    }

    /// Empties the list and saves that.
    pub fn clear(&mut self) {
        self.paths.clear();
        self.save();
    }

    /// Drops files that no longer exist. Returns true if any was dropped (and saves then).
    pub fn prune(&mut self) -> bool {
        let before = self.paths.len();
        self.paths.retain(|p| p.is_file());
        let dropped = self.paths.len() != before;
        if dropped {
            self.save();
        }
        dropped
    }

    fn push_front(&mut self, path: PathBuf) {
        self.paths.retain(|p| *p != path);
        self.paths.insert(0, path);
        self.paths.truncate(MAX_RECENT);
    }

    /// Writes the list atomically. Failing to is logged, not shown: the list is a convenience
    /// and the file the person asked for was opened or written all the same.
    fn save(&self) {
        let Some(store) = &self.store else {
            return;
        };
        let result = store
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| {
                crate::io::atomic::write_atomic_private(store, |w| {
                    for path in &self.paths {
                        if let Some(line) = to_line(path) {
                            w.write_all(&line)?;
                            w.write_all(b"\n")?;
                        }
                    }
                    Ok::<(), std::io::Error>(())
                })
            });
        if let Err(err) = result {
            tracing::warn!(
                "cannot save the recent files list {}: {err}",
                store.display()
            );
        }
    }
}

/// File › Open Recent: one entry per file that still exists (named by its file name, with
/// the folder where two share a name; the full path on hover), then "Clear recent files".
///
/// Files that have gone since the list was loaded are left out here; opening one that goes
/// between drawing and clicking fails with an error and drops it from the list.
pub fn recent_menu(ui: &mut egui::Ui, recent: &[PathBuf], out: &mut Vec<super::Command>) {
    ui.menu_button("Open Recent", |ui| {
        // Only while this submenu is open: a few `stat`s a frame.
        let existing: Vec<&PathBuf> = recent.iter().filter(|p| p.is_file()).collect();
        if existing.is_empty() {
            ui.add_enabled(false, egui::Button::new("No recent files"));
        }
        for path in &existing {
            let name = file_name(path);
            let shared = existing.iter().filter(|p| file_name(p) == name).count() > 1;
            let label = match path.parent().and_then(Path::file_name) {
                Some(folder) if shared => format!("{name} — {}", folder.to_string_lossy()),
                _ => name,
            };
            let button = ui.button(label).on_hover_text(path.display().to_string());
            if button.clicked() {
                out.push(super::Command::Open(path.to_path_buf()));
            }
        }
        ui.separator();
        let clear = ui.add_enabled(!recent.is_empty(), egui::Button::new("Clear recent files"));
        if clear.clicked() {
            out.push(super::Command::ClearRecentFiles);
        }
    });
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// An absolute path, with symlinks and `..` resolved where the file exists, so that one file
/// reached two ways is listed once.
fn normalise(path: &Path) -> PathBuf {
    if let Ok(path) = std::fs::canonicalize(path) {
        return path;
    }
    // A file that is gone: resolve its folder, so it still matches how it was listed.
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match (absolute.parent(), absolute.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir)
            .map(|dir| dir.join(name))
            .unwrap_or(absolute.clone()),
        _ => absolute,
    }
}

/// Non-empty lines of the stored list, as paths.
fn parse(bytes: &[u8]) -> Vec<PathBuf> {
    bytes
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter(|line| !line.is_empty())
        .filter_map(from_line)
        .collect()
}

/// A path as stored bytes; `None` for a path with a line break in it, which one path per line
/// cannot hold (such a file is simply not remembered).
pub(super) fn to_line(path: &Path) -> Option<Vec<u8>> {
    let bytes = os_bytes(path.as_os_str().to_owned())?;
    (!bytes.contains(&b'\n') && !bytes.contains(&b'\r')).then_some(bytes)
}

#[cfg(unix)]
fn os_bytes(s: OsString) -> Option<Vec<u8>> {
    // Unix paths are bytes: keep names that are not UTF-8 exactly as they are.
    Some(std::os::unix::ffi::OsStringExt::into_vec(s))
}

#[cfg(not(unix))]
fn os_bytes(s: OsString) -> Option<Vec<u8>> {
    s.into_string().ok().map(String::into_bytes)
}

#[cfg(unix)]
pub(super) fn from_line(line: &[u8]) -> Option<PathBuf> {
    Some(PathBuf::from(
        <OsString as std::os::unix::ffi::OsStringExt>::from_vec(line.to_vec()),
    ))
}

#[cfg(not(unix))]
pub(super) fn from_line(line: &[u8]) -> Option<PathBuf> {
    std::str::from_utf8(line).ok().map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

    use super::*;

    fn touch(dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, b"x").unwrap();
        std::fs::canonicalize(path).unwrap()
    }

    #[test]
    fn newest_first_without_duplicates_and_capped() {
        let dir = tempfile::tempdir().unwrap();
        let mut list = RecentFiles::in_memory();
        let files: Vec<PathBuf> = (0..12)
            .map(|i| touch(dir.path(), &format!("{i}.psd")))
            .collect();
        for file in &files {
            list.add(file);
        }
        assert_eq!(list.paths().len(), MAX_RECENT);
        assert_eq!(list.paths()[0], files[11]);
        assert_eq!(list.paths()[9], files[2]);
        // Re-adding moves to the top instead of listing twice, even when reached another way.
        let again = dir.path().join(".").join("5.psd");
        list.add(&again);
        assert_eq!(list.paths()[0], files[5]);
        assert_eq!(list.paths().len(), MAX_RECENT);
        assert_eq!(list.paths().iter().filter(|p| **p == files[5]).count(), 1);
        assert!(list.store().is_none(), "in-memory lists write nothing");
    }

    #[test]
    fn saved_list_survives_a_restart_and_drops_missing_files() {
        let config = tempfile::tempdir().unwrap();
        let files = tempfile::tempdir().unwrap();
        let a = touch(files.path(), "a.psd");
        let b = touch(files.path(), "b.ora");
        let gone = touch(files.path(), "gone.png");
        let mut list = RecentFiles::load(&config.path().join("nested"));
        assert!(list.paths().is_empty(), "no file yet is an empty list");
        list.add(&a);
        list.add(&gone);
        list.add(&b);
        std::fs::remove_file(&gone).unwrap();

        let text = std::fs::read_to_string(config.path().join("nested").join(FILE_NAME)).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
        let reloaded = RecentFiles::load(&config.path().join("nested"));
        assert_eq!(reloaded.paths(), [b.clone(), a.clone()]);
        // Loading pruned the file too, so the next run does not see it either.
        let text = std::fs::read_to_string(config.path().join("nested").join(FILE_NAME)).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");

        let mut reloaded = reloaded;
        reloaded.clear();
        assert!(
            RecentFiles::load(&config.path().join("nested"))
                .paths()
                .is_empty()
        );
    }

    #[test]
    fn odd_lines_and_unreadable_stores_do_not_fail() {
        let config = tempfile::tempdir().unwrap();
        let a = touch(config.path(), "a.png");
        let text = format!("\n{}\r\n\n{}\n", a.display(), a.display());
        std::fs::write(config.path().join(FILE_NAME), text).unwrap();
        assert_eq!(
            RecentFiles::load(config.path()).paths(),
            std::slice::from_ref(&a)
        );

        // The store is a folder: reading fails, the list is empty, saving is only logged.
        let odd = tempfile::tempdir().unwrap();
        std::fs::create_dir(odd.path().join(FILE_NAME)).unwrap();
        let mut list = RecentFiles::load(odd.path());
        assert!(list.paths().is_empty());
        list.add(&a);
        assert_eq!(list.paths(), std::slice::from_ref(&a));

        let mut list = RecentFiles::in_memory();
        list.add(&a);
        list.remove(&a);
        assert!(list.paths().is_empty());
        assert_eq!(to_line(Path::new("bad\nname.png")), None);
    }
}
