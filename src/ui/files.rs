//! Opening and exporting from the editor, through the file thread of [`super::file_jobs`].
//!
//! The UI thread only starts jobs and, once a frame, turns finished ones into
//! [`Command::FileJobFinished`], which [`StrataApp::apply`] takes in: an open replaces the
//! document and clears the history, an export remembers where it went. A failure names the
//! file in the error banner and leaves the document as it was.
//!
//! [`StrataApp::open`] (the file named on the command line) reads on the calling thread
//! instead: [`super::run`] wants the document before the window opens, to decompose it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::app::Applying;
use super::dialogs::Asked;
use super::file_dialog::Purpose;
use super::file_jobs::{FileJob, FileJobs, Finished, Outcome, display_name};
use super::unsaved::Then;
use super::{Command, StrataApp};
use crate::io::{self, ErrorKind, ExportFormat, IoError};
use crate::model::Document;

/// What became of [`StrataApp::export_dialog`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ExportStart {
    /// The export runs.
    Started,
    /// Cancelled or refused (a refusal is in the error banner).
    NotStarted,
    /// The in-window dialog is up; the export starts when it is answered.
    InWindow,
}

/// The editor's file-thread state.
#[derive(Default)]
pub struct FileState {
    pub(super) jobs: FileJobs,
    /// Woken by the file thread when it finishes, so the result shows without input events.
    repaint: Option<egui::Context>,
    /// The document when the running open started: if it changes before the file arrives,
    /// replacing it needs asking again.
    doc_at_open: Option<Document>,
    /// What the reader said about the file last opened, shown once it replaces the document.
    notices: Vec<io::Notice>,
}

impl FileState {
    /// True while an export (of any kind) is being written.
    pub fn is_exporting(&self) -> bool {
        matches!(
            self.jobs.running(),
            Some(FileJob::Export { .. } | FileJob::ExportLayers { .. })
        )
    }
}

impl StrataApp {
    /// Reads `path` here and now and shows it (startup; see the module docs).
    pub(super) fn open_now(&mut self, path: &Path) {
        let finished = Finished {
            job: FileJob::Open(path.to_path_buf()),
            outcome: Outcome::Opened(super::file_jobs::open(path)),
        };
        self.apply(Command::FileJobFinished(Box::new(finished)));
    }

    /// Starts reading `path` on the file thread; the document is replaced when it arrives.
    pub(super) fn start_open(&mut self, path: PathBuf) {
        let at_start = self.doc.clone();
        if self.start_file_job(FileJob::Open(path)) {
            self.files.doc_at_open = Some(at_start);
        }
    }

    /// Asks where to export in `format`, then starts the export.
    pub(super) fn export_dialog(&mut self, format: ExportFormat) -> ExportStart {
        match self.ask(Purpose::Export(format)) {
            Asked::Path(path) => {
                if self.start_export(path) {
                    ExportStart::Started
                } else {
                    ExportStart::NotStarted
                }
            }
            Asked::Cancelled => ExportStart::NotStarted,
            Asked::InWindow => ExportStart::InWindow,
        }
    }

    /// Starts writing the document, as it is now, to `path` (the extension picks the
    /// format). True if it started; an unknown extension is refused at once.
    pub(super) fn start_export(&mut self, path: PathBuf) -> bool {
        let Some(format) = ExportFormat::from_path(&path) else {
            let ext = path
                .extension()
                .map(|e| e.to_string_lossy().into_owned())
                .unwrap_or_default();
            let err = IoError::new(&path, ErrorKind::UnknownExportFormat(ext));
            self.messages.error(format!("Export failed: {err}"));
            return false;
        };
        let doc = self.doc.clone();
        self.start_file_job(FileJob::Export { doc, path, format })
    }

    /// Starts writing one PNG per layer into `dir`.
    pub(super) fn start_export_layers(&mut self, dir: PathBuf) {
        let doc = self.doc.clone();
        self.start_file_job(FileJob::ExportLayers { doc, dir });
    }

    /// The finished file job, if any, as the command that takes it in; changes nothing
    /// itself. Called once per frame (with the frame's context, which the file thread wakes
    /// when it finishes).
    pub(super) fn poll_files(&mut self, ctx: Option<&egui::Context>) -> Option<Command> {
        if let Some(ctx) = ctx {
            self.files.repaint = Some(ctx.clone());
        }
        let finished = self.files.jobs.poll()?;
        Some(Command::FileJobFinished(Box::new(finished)))
    }

    /// Blocks until the running open or export finishes and applies it (tests, scripts).
    /// Returns false if nothing finished within `timeout` (or nothing was running).
    pub fn wait_for_files(&mut self, timeout: Duration) -> bool {
        match self.files.jobs.wait(timeout) {
            Some(finished) => {
                self.apply(Command::FileJobFinished(Box::new(finished)));
                true
            }
            None => false,
        }
    }

    /// True while a file is being opened or exported.
    pub fn is_busy_with_files(&self) -> bool {
        self.files.jobs.running().is_some()
    }

    /// The recently opened and exported files, newest first.
    pub fn recent_files(&self) -> &[PathBuf] {
        self.recent.paths()
    }

    fn start_file_job(&mut self, job: FileJob) -> bool {
        let repaint = self.files.repaint.clone();
        let verb = match job {
            FileJob::Open(_) => "open",
            FileJob::Export { .. } | FileJob::ExportLayers { .. } => "export",
        };
        let name = display_name(job.path());
        let started = self.files.jobs.start(job, move || {
            if let Some(ctx) = &repaint {
                ctx.request_repaint();
            }
        });
        match started {
            Ok(()) => true,
            Err(busy) => {
                self.messages.error(format!("Cannot {verb} {name}: {busy}"));
                false
            }
        }
    }

    /// Takes a finished file job in ([`Command::FileJobFinished`]).
    pub(super) fn finish_file_job(&mut self, applying: &Applying, finished: Finished) {
        match (finished.job, finished.outcome) {
            (FileJob::Open(path), Outcome::Opened(result)) => {
                self.finish_open(applying, path, result);
            }
            (FileJob::Export { doc, path, format }, Outcome::Exported(result)) => {
                let ok = result.is_ok();
                match result {
                    Ok(()) => self.exported(doc, path, format),
                    Err(err) => self.messages.error(format!("Export failed: {err}")),
                }
                self.after_export(applying, ok);
            }
            (FileJob::ExportLayers { dir, .. }, Outcome::LayersExported(result)) => {
                let ok = result.is_ok();
                match result {
                    Ok(written) => self.messages.info(format!(
                        "Exported {} layer PNGs to {}",
                        written.len(),
                        dir.display()
                    )),
                    Err(err) => self.messages.error(format!("Export failed: {err}")),
                }
                self.after_export(applying, ok);
            }
            (job, outcome) => {
                // `FileJob::run` pairs each job with its own outcome; say so if it ever doesn't.
                tracing::error!("file job {job:?} came back as {outcome:?}");
                self.messages
                    .error(format!("{}: the file job went wrong", job.path().display()));
            }
        }
    }

    /// Shows an opened file, or, if the document was edited while it loaded, asks first.
    fn finish_open(
        &mut self,
        applying: &Applying,
        path: PathBuf,
        result: Result<io::Opened, IoError>,
    ) {
        let at_start = self.files.doc_at_open.take();
        match result {
            Ok(io::Opened {
                document: doc,
                notices,
            }) => {
                self.files.notices = notices;
                let edited = at_start.is_some_and(|before| !before.is_same_state(&self.doc));
                if edited && self.is_dirty() {
                    let doc = Box::new(doc);
                    self.request(applying, Then::Show { path, doc });
                } else {
                    self.show_opened(applying, path, doc);
                }
            }
            Err(err) => {
                // The document stays as it was. A file that is gone leaves Open Recent too.
                self.messages.error(format!("Cannot open {err}"));
                if !path.exists() {
                    self.recent.remove(&path);
                }
            }
        }
    }

    /// Replaces the document with an opened one: new history, nothing unsaved. What the
    /// reader said about the file (a conversion, what it could not draw) goes in the banner.
    pub(super) fn show_opened(&mut self, applying: &Applying, path: PathBuf, doc: Document) {
        self.messages.info(format!(
            "Opened {} ({} × {} px, {})",
            display_name(&path),
            doc.width,
            doc.height,
            super::status::layer_count(doc.layers.len())
        ));
        let notices = std::mem::take(&mut self.files.notices);
        if !notices.is_empty() {
            let said: Vec<String> = notices.iter().map(ToString::to_string).collect();
            self.messages
                .notice(format!("{}: {}", display_name(&path), said.join("; ")));
        }
        self.selected = doc.layers.last().map(|l| l.id);
        self.mark_saved(doc.clone());
        *self.doc.edit(applying) = doc;
        self.history.clear();
        self.recent.add(&path);
        self.path = Some(path);
        self.last_psd = None;
        self.solo = None;
        self.canvas.fit();
    }

    fn exported(&mut self, doc: Document, path: PathBuf, format: ExportFormat) {
        self.messages.info(format!("Exported {}", path.display()));
        if format == ExportFormat::Psd {
            self.last_psd = Some(path.clone());
        }
        // A flat PNG loses the layers, so only layered formats count as saving the document.
        if matches!(format, ExportFormat::Psd | ExportFormat::Ora) {
            self.mark_saved(doc);
            self.recent.add(&path);
        }
    }
}

/// The spinner and "Opening x…" / "Exporting x…" shown in the status bar while a job runs.
pub fn progress_ui(ui: &mut egui::Ui, state: &FileState) {
    if let Some(job) = state.jobs.running() {
        ui.add(egui::Spinner::new());
        ui.label(job.describe());
        ui.separator();
    }
}
