//! The files of one autosave slot, and finding the slots that ended sessions left behind.
//!
//! A slot is three files in the autosave folder, named after the session that owns it:
//! `strata-<id>.ora` (the document), `strata-<id>.txt` (a small key=value sidecar: process
//! id, time, layer count, original file) and `strata-<id>.lock`.
//!
//! **Is the owner still running?** A live editor holds an exclusive lock on its `.lock` file
//! ([`File::try_lock`]: `flock` on Unix, `LockFileEx` on Windows). The operating system
//! releases it when the process ends, however it ends (`kill -9`, a crash, a power cut), so a
//! slot whose lock can be taken belongs to nobody. Unlike checking `/proc/<pid>`, this works
//! on every platform and cannot be fooled by a reused process id. Taking the lock also keeps
//! two editors that start together from offering the same recovery. Where the file system
//! cannot lock at all (some network mounts), a slot counts as abandoned once its files are
//! [`STALE_WITHOUT_LOCKS`] old.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::io::{ErrorKind, IoError};
use crate::model::Document;
use crate::ui::recent::{from_line, to_line};

/// File names of slots start with this.
const PREFIX: &str = "strata-";
/// Without file locks, a slot this old is taken to be abandoned.
pub const STALE_WITHOUT_LOCKS: Duration = Duration::from_secs(12 * 60 * 60);
/// A slot with no document, or a half-written temporary file, is tidied away once this old
/// (younger ones may belong to an editor that is writing its first autosave right now).
const TIDY_AFTER: Duration = Duration::from_secs(60 * 60);

/// The files of one slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    dir: PathBuf,
    id: String,
}

impl Slot {
    /// The slot of session `id` in `dir`.
    pub fn new(dir: &Path, id: &str) -> Self {
        Self {
            dir: dir.to_path_buf(),
            id: id.to_string(),
        }
    }

    /// The autosaved document.
    pub fn ora(&self) -> PathBuf {
        self.file("ora")
    }

    /// The sidecar describing it.
    pub fn info(&self) -> PathBuf {
        self.file("txt")
    }

    /// The file the owning session keeps locked.
    pub fn lock_file(&self) -> PathBuf {
        self.file("lock")
    }

    fn file(&self, ext: &str) -> PathBuf {
        self.dir.join(format!("{PREFIX}{}.{ext}", self.id))
    }

    /// Deletes the document and its sidecar, keeping the lock.
    pub fn remove_document(&self) {
        remove_quietly(&self.ora());
        remove_quietly(&self.info());
    }

    /// Deletes all of the slot's files, releasing `lock` first (Windows cannot delete a file
    /// that is open).
    pub fn remove(&self, lock: Option<File>) {
        self.remove_document();
        drop(lock);
        remove_quietly(&self.lock_file());
    }

    /// The newest modification time of the slot's files.
    fn modified(&self) -> Option<SystemTime> {
        [self.ora(), self.info(), self.lock_file()]
            .iter()
            .filter_map(|p| p.metadata().and_then(|m| m.modified()).ok())
            .max()
    }
}

/// A failure is only logged: at worst a stray file is offered again or tidied later.
fn remove_quietly(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => tracing::warn!("cannot delete {}: {err}", path.display()),
    }
}

/// What trying to lock a slot found.
#[derive(Debug)]
pub enum Lock {
    /// Locked by us now: its owner, if any, is gone.
    Held(File),
    /// Locked by a live editor.
    Busy,
    /// The file system cannot lock files (the error says why).
    Unsupported(std::io::Error),
}

/// Opens (creating it if needed) and tries to lock `path` without waiting.
pub fn try_lock(path: &Path) -> std::io::Result<Lock> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    Ok(match file.try_lock() {
        Ok(()) => Lock::Held(file),
        Err(TryLockError::WouldBlock) => Lock::Busy,
        Err(TryLockError::Error(err)) => Lock::Unsupported(err),
    })
}

/// The sidecar: what the person needs to decide whether to recover.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SlotInfo {
    /// The process that wrote it.
    pub pid: Option<u32>,
    /// When the document was autosaved.
    pub saved: Option<SystemTime>,
    /// How many layers it has.
    pub layers: Option<usize>,
    /// The file the document was opened from, if any.
    pub file: Option<PathBuf>,
}

impl SlotInfo {
    /// The sidecar's text: `key=value` lines (the path as raw bytes, so that any file name
    /// survives; a path with a line break in it is left out).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = b"# Strata autosave\n".to_vec();
        if let Some(pid) = self.pid {
            out.extend_from_slice(format!("pid={pid}\n").as_bytes());
        }
        if let Some(secs) = self.saved.and_then(|t| t.duration_since(UNIX_EPOCH).ok()) {
            out.extend_from_slice(format!("saved={}\n", secs.as_secs()).as_bytes());
        }
        if let Some(layers) = self.layers {
            out.extend_from_slice(format!("layers={layers}\n").as_bytes());
        }
        if let Some(line) = self.file.as_deref().and_then(to_line) {
            out.extend_from_slice(b"file=");
            out.extend_from_slice(&line);
            out.push(b'\n');
        }
        out
    }

    /// Reads a sidecar leniently: unknown or malformed lines are skipped.
    pub fn parse(bytes: &[u8]) -> Self {
        let mut info = Self::default();
        for line in bytes.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let Some(eq) = line.iter().position(|&b| b == b'=') else {
                continue;
            };
            let (key, value) = (&line[..eq], &line[eq + 1..]);
            let text = || std::str::from_utf8(value).ok().map(str::trim);
            match key {
                b"pid" => info.pid = text().and_then(|t| t.parse().ok()),
                b"saved" => {
                    let secs = text().and_then(|t| t.parse().ok());
                    info.saved = secs.map(|s| UNIX_EPOCH + Duration::from_secs(s));
                }
                b"layers" => info.layers = text().and_then(|t| t.parse().ok()),
                b"file" if !value.is_empty() => info.file = from_line(value),
                _ => {}
            }
        }
        info
    }

    /// Writes the sidecar atomically.
    pub fn write(&self, path: &Path) -> Result<(), IoError> {
        crate::io::atomic::write_atomic_private(path, |w| w.write_all(&self.to_bytes()))
            .map_err(|err| IoError::new(path, ErrorKind::Write(err)))
    }
}

/// A slot whose editor is gone, with its lock held by us while the person decides.
#[derive(Debug)]
pub struct Leftover {
    /// Its files.
    pub slot: Slot,
    /// Its sidecar (the time falls back to the document's modification time).
    pub info: SlotInfo,
    /// The lock, held so that no other editor offers it at the same time.
    pub lock: Option<File>,
}

/// Slots in `dir` whose editors are gone, newest first, leaving out `own` (this session).
///
/// Slots without a document and half-written temporary files of dead sessions are tidied
/// away on the way.
pub fn find_leftovers(dir: &Path, own: &str) -> Vec<Leftover> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(err) => {
            tracing::warn!("cannot look for autosaves in {}: {err}", dir.display());
            return Vec::new();
        }
    };
    let now = SystemTime::now();
    let old = |modified: Option<SystemTime>, age: Duration| {
        modified.is_some_and(|m| now.duration_since(m).is_ok_and(|d| d >= age))
    };
    let mut ids = BTreeSet::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(".strata-") && name.ends_with(".part") {
            // `io::atomic`'s temporary file, left by a writer that was killed.
            if old(entry.metadata().and_then(|m| m.modified()).ok(), TIDY_AFTER) {
                remove_quietly(&entry.path());
            }
            continue;
        }
        let id = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.rsplit_once('.'))
            .filter(|(_, ext)| matches!(*ext, "ora" | "txt" | "lock"))
            .map(|(id, _)| id.to_string());
        ids.extend(id.filter(|id| id != own && !id.is_empty()));
    }
    let mut found = Vec::new();
    for id in ids {
        let slot = Slot::new(dir, &id);
        let lock = match try_lock(&slot.lock_file()) {
            Ok(Lock::Held(file)) => Some(file),
            Ok(Lock::Busy) => continue,
            Ok(Lock::Unsupported(err)) if old(slot.modified(), STALE_WITHOUT_LOCKS) => {
                tracing::debug!("no file locks ({err}); {id} is old enough to be abandoned");
                None
            }
            Ok(Lock::Unsupported(_)) => continue,
            Err(err) => {
                tracing::warn!("cannot check autosave {}: {err}", slot.ora().display());
                continue;
            }
        };
        if !slot.ora().is_file() {
            if old(slot.modified(), TIDY_AFTER) {
                slot.remove(lock);
            }
            continue;
        }
        let mut info = std::fs::read(slot.info())
            .map(|bytes| SlotInfo::parse(&bytes))
            .unwrap_or_default();
        if info.saved.is_none() {
            info.saved = slot.ora().metadata().and_then(|m| m.modified()).ok();
        }
        found.push(Leftover { slot, info, lock });
    }
    found.sort_by_key(|l| std::cmp::Reverse(l.info.saved));
    found
}

/// Writes `doc` as OpenRaster to `path`, atomically. Setting `cancel` makes the write fail
/// at its next write call (the temporary file is removed and `path` is left as it was).
pub fn write_ora(doc: &Document, path: &Path, cancel: &AtomicBool) -> Result<(), IoError> {
    crate::io::atomic::write_atomic_private(path, |w| -> Result<(), ErrorKind> {
        let writer = Cancellable { inner: w, cancel };
        crate::io::ora::write(doc, writer).map_err(ErrorKind::from)
    })
    .map_err(|kind| IoError::new(path, kind))
}

/// A writer that fails once `cancel` is set: a clean exit must not wait for a long write.
struct Cancellable<'a, W> {
    inner: W,
    cancel: &'a AtomicBool,
}

impl<W: Write> Write for Cancellable<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.cancel.load(Ordering::Relaxed) {
            // Not `Interrupted`: `write_all` would retry that forever.
            return Err(std::io::Error::other("autosave cancelled"));
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Seek> Seek for Cancellable<'_, W> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}
