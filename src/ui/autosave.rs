//! Autosave and crash recovery.
//!
//! Every [`DEFAULT_INTERVAL`] (or `STRATA_AUTOSAVE_SECONDS`) after the document first differs
//! from both its file and the last autosave, an OpenRaster copy is written to this session's
//! slot in `<data dir>/autosave` (see `slot` for the files and how a live session is told
//! from a dead one). The copy is a `Document` clone, which is cheap (pixels are shared
//! `Arc`s), written on its own thread, atomically, so the window never waits for it and a
//! crash mid-write leaves the previous autosave whole. A document that becomes clean again
//! (saved, or undone back to its file) has its autosave deleted: there is nothing to recover.
//!
//! A clean exit ([`StrataApp::finish_session`], called from `eframe::App::on_exit`, so also
//! after "Don't Save") deletes the slot. A crash or `kill -9` leaves it, and the next editor
//! offers it back at startup (`recovery`).
//!
//! Autosave is off unless a data folder is given ([`StrataApp::with_data_dir`]), so editors
//! built by tests never touch the real one. Failures (a full disk) are said once on the status
//! line, never in a modal, and never touch the document.

mod recovery;
mod slot;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use recovery::RecoveryChoice;
use slot::{Leftover, Lock, Slot, SlotInfo};

use super::StrataApp;
use crate::io::{ErrorKind, IoError};
use crate::model::Document;
use crate::worker::{Failure, Worker};

/// How long after a change the document is autosaved, as Photoshop's default recovery
/// interval is a few minutes.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(2 * 60);
/// Environment variable that moves the data folder (scripts and tests of the binary).
pub const DATA_DIR_ENV: &str = "STRATA_DATA_DIR";
/// Environment variable with the autosave interval in seconds (0: after every change).
pub const INTERVAL_ENV: &str = "STRATA_AUTOSAVE_SECONDS";

/// The user's data folder for Strata (e.g. `~/.local/share/strata`), or `None` if the platform
/// has no home folder. `STRATA_DATA_DIR` overrides it when set and not empty.
pub fn data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "strata").map(|dirs| dirs.data_dir().to_path_buf())
}

/// The autosave interval: `STRATA_AUTOSAVE_SECONDS` if set to a whole number, else
/// [`DEFAULT_INTERVAL`].
pub fn interval_from_env() -> Duration {
    let Ok(text) = std::env::var(INTERVAL_ENV) else {
        return DEFAULT_INTERVAL;
    };
    match text.trim().parse() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            tracing::warn!("{INTERVAL_ENV}={text:?} is not a number of seconds; using the default");
            DEFAULT_INTERVAL
        }
    }
}

/// This session's slot and the lock that marks it as alive.
#[derive(Debug)]
struct Session {
    slot: Slot,
    lock: Option<std::fs::File>,
}

/// A write on the autosave thread.
#[derive(Debug)]
struct Writer {
    worker: Worker<Result<Document, IoError>>,
    cancel: Arc<AtomicBool>,
}

/// The editor's autosave state.
#[derive(Debug)]
pub struct Autosave {
    /// `<data dir>/autosave`; `None` turns autosave and recovery off.
    dir: Option<PathBuf>,
    interval: Duration,
    /// Names this session's slot: the process id and start time, unique per running editor.
    id: String,
    /// Created, and locked, before the first write.
    session: Option<Session>,
    /// The state in the slot, if the slot holds one.
    written: Option<Document>,
    /// When the pending change is to be written.
    due: Option<Instant>,
    writer: Option<Writer>,
    /// A failure was shown; later ones only go to the log until a write succeeds.
    error_shown: bool,
    /// Woken by the writer when it finishes.
    repaint: Option<egui::Context>,
    /// Slots left by crashed sessions, the one offered now first.
    offers: std::collections::VecDeque<Leftover>,
    /// The document came from an autosave and is in no file yet.
    pub(super) recovered: bool,
}

impl Default for Autosave {
    fn default() -> Self {
        // Editors in one process (tests) are told apart by the counter.
        static EDITORS: AtomicU32 = AtomicU32::new(0);
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let n = EDITORS.fetch_add(1, Ordering::Relaxed);
        Self {
            dir: None,
            interval: DEFAULT_INTERVAL,
            id: format!("{}-{started}-{n}", std::process::id()),
            session: None,
            written: None,
            due: None,
            writer: None,
            error_shown: false,
            repaint: None,
            offers: Default::default(),
            recovered: false,
        }
    }
}

impl StrataApp {
    /// Autosaves into, and recovers from, `<dir>/autosave`; `None` (the default) turns both
    /// off, which is what tests of other things want.
    pub fn with_data_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.autosave.dir = dir.map(|d| d.join("autosave"));
        self
    }

    /// Sets how long after a change the document is autosaved (zero: at the next frame).
    pub fn with_autosave_interval(mut self, interval: Duration) -> Self {
        self.autosave.interval = interval;
        self
    }

    /// This session's autosaved document, if autosave is on (the file may not exist yet).
    pub fn autosave_file(&self) -> Option<PathBuf> {
        let dir = self.autosave.dir.as_deref()?;
        Some(Slot::new(dir, &self.autosave.id).ora())
    }

    /// Starts an autosave now if the document has changes that are in neither its file nor
    /// the last autosave. True if a write started.
    pub fn autosave_now(&mut self) -> bool {
        self.take_autosave_result();
        self.needs_autosave() && self.start_autosave()
    }

    /// True while an autosave is being written.
    pub fn is_autosaving(&self) -> bool {
        self.autosave.writer.is_some()
    }

    /// Blocks until the running autosave finishes (tests). False if none was running or it
    /// did not finish within `timeout`.
    pub fn wait_for_autosave(&mut self, timeout: Duration) -> bool {
        let Some(writer) = &self.autosave.writer else {
            return false;
        };
        match writer.worker.wait(timeout) {
            Some(delivered) => {
                self.finish_autosave(delivered);
                true
            }
            None => false,
        }
    }

    /// A clean exit: stops a running autosave and deletes this session's slot. Slots offered
    /// for recovery and not answered stay for the next start. Called when the window closes.
    pub fn finish_session(&mut self) {
        if let Some(writer) = self.autosave.writer.take() {
            writer.cancel.store(true, Ordering::Relaxed);
            // The write stops at its next chunk; without the wait it could rename the file
            // into place after the slot is deleted, and be offered as a crash next time.
            if !writer.worker.join() {
                tracing::warn!("the autosave thread panicked");
            }
        }
        if let Some(session) = self.autosave.session.take() {
            session.slot.remove(session.lock);
        }
        self.autosave.written = None;
        self.autosave.offers.clear();
    }

    /// Takes a finished write in and starts the next one when due. Called once per frame;
    /// asks `ctx` for a frame when the next write is due, as an idle window draws none.
    pub(super) fn poll_autosave(&mut self, ctx: Option<&egui::Context>) {
        if let Some(ctx) = ctx {
            self.autosave.repaint = Some(ctx.clone());
        }
        self.take_autosave_result();
        if self.autosave.dir.is_none() || self.autosave.writer.is_some() {
            return;
        }
        if !self.is_dirty() {
            // Saved, or undone back to the file: nothing to recover any more.
            if self.autosave.written.take().is_some()
                && let Some(session) = &self.autosave.session
            {
                session.slot.remove_document();
            }
            self.autosave.due = None;
            return;
        }
        if !self.needs_autosave() {
            self.autosave.due = None;
            return;
        }
        let now = Instant::now();
        let due = *self
            .autosave
            .due
            .get_or_insert(now + self.autosave.interval);
        if now >= due {
            self.autosave.due = None;
            self.start_autosave();
        } else if let Some(ctx) = ctx {
            ctx.request_repaint_after(due - now);
        }
    }

    /// The document differs from its file and from the slot, and has something to write.
    fn needs_autosave(&self) -> bool {
        self.autosave.dir.is_some()
            && self.autosave.writer.is_none()
            && !self.doc.layers.is_empty()
            && self.is_dirty()
            && !self
                .autosave
                .written
                .as_ref()
                .is_some_and(|w| w.is_same_state(&self.doc))
    }

    /// This session's slot, created and locked on first use.
    fn session_slot(&mut self) -> Result<Slot, IoError> {
        if let Some(session) = &self.autosave.session {
            return Ok(session.slot.clone());
        }
        let Some(dir) = self.autosave.dir.clone() else {
            return Err(write_error(Path::new("autosave"), "autosave is off"));
        };
        let io_err = |err| IoError::new(&dir, ErrorKind::Write(err));
        std::fs::create_dir_all(&dir).map_err(io_err)?;
        let slot = Slot::new(&dir, &self.autosave.id);
        let lock = match slot::try_lock(&slot.lock_file()).map_err(io_err)? {
            Lock::Held(file) => Some(file),
            // Only this session uses its id; should another hold it, writing is still safe.
            Lock::Busy => None,
            Lock::Unsupported(err) => {
                tracing::warn!("cannot lock {}: {err}", slot.lock_file().display());
                None
            }
        };
        self.autosave.session = Some(Session {
            slot: slot.clone(),
            lock,
        });
        Ok(slot)
    }

    /// Starts writing the document to the slot. True if the thread started.
    fn start_autosave(&mut self) -> bool {
        let slot = match self.session_slot() {
            Ok(slot) => slot,
            Err(err) => {
                self.autosave_failed(&err);
                return false;
            }
        };
        let doc = self.doc.clone();
        let info = SlotInfo {
            pid: Some(std::process::id()),
            saved: Some(SystemTime::now()),
            layers: Some(doc.layers.len()),
            file: self.path.clone(),
        };
        let cancel = Arc::new(AtomicBool::new(false));
        let wake = self.autosave.repaint.clone();
        let work = {
            let cancel = Arc::clone(&cancel);
            move || {
                slot::write_ora(&doc, &slot.ora(), &cancel)?;
                info.write(&slot.info())?;
                Ok(doc)
            }
        };
        let wake = move || {
            if let Some(ctx) = wake {
                ctx.request_repaint();
            }
        };
        match Worker::spawn("strata-autosave", work, wake) {
            Ok(worker) => {
                self.autosave.writer = Some(Writer { worker, cancel });
                true
            }
            Err(err) => {
                let path = self.autosave_file().unwrap_or_default();
                let err = write_error(&path, &format!("cannot start a thread: {err}"));
                self.autosave_failed(&err);
                false
            }
        }
    }

    /// Takes the running write's result in, if it has finished.
    fn take_autosave_result(&mut self) {
        let Some(delivered) = self.autosave.writer.as_ref().and_then(|w| w.worker.poll()) else {
            return;
        };
        self.finish_autosave(delivered);
    }

    fn finish_autosave(&mut self, delivered: Result<Result<Document, IoError>, Failure>) {
        if let Some(writer) = self.autosave.writer.take() {
            // It has sent its result, so this returns at once.
            writer.worker.join();
        }
        let path = self.autosave_file().unwrap_or_default();
        let result = delivered.unwrap_or_else(|failure| {
            Err(match failure {
                Failure::Panicked(_) => write_error(&path, "the writer crashed"),
                Failure::Stopped => write_error(&path, "the autosave thread stopped"),
            })
        });
        match result {
            Ok(doc) => {
                tracing::info!("autosaved {} layers", doc.layers.len());
                self.autosave.written = Some(doc);
                self.autosave.error_shown = false;
            }
            Err(err) => self.autosave_failed(&err),
        }
    }

    /// Says so once on the status line (not in the banner: the person asked for nothing);
    /// the next try waits a whole interval.
    fn autosave_failed(&mut self, err: &IoError) {
        if std::mem::replace(&mut self.autosave.error_shown, true) {
            tracing::warn!("autosave failed again: {err}");
        } else {
            self.messages.warn(format!("Autosave failed: {err}"));
        }
        // At least a few seconds, so that a zero interval does not retry every frame.
        let wait = self.autosave.interval.max(Duration::from_secs(10));
        self.autosave.due = Some(Instant::now() + wait);
    }
}

/// A write failure that has no `std::io::Error` of its own.
fn write_error(path: &Path, what: &str) -> IoError {
    IoError::new(
        path,
        ErrorKind::Write(std::io::Error::other(what.to_string())),
    )
}

#[cfg(test)]
mod tests;
