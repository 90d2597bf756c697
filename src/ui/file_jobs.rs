//! Reading and writing files on a worker thread, so that a big PSD never freezes the window.
//!
//! One file job runs at a time: a second request while one runs is refused with
//! [`Busy`] (the editor says so in the status bar), because two writes racing for one file,
//! or an open landing on top of a newer open, would be surprising. Exports take a `Document`
//! clone, which is cheap (pixels are shared `Arc`s), so the person keeps editing meanwhile.
//! A panic in a reader or writer comes back as an error naming the file instead of taking
//! the editor down.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::io::{self, ErrorKind, ExportFormat, IoError};
use crate::model::Document;
use crate::worker::{Failure, Worker};

/// Work for the file thread.
#[derive(Clone, Debug)]
pub enum FileJob {
    /// Read a picture or layered file.
    Open(PathBuf),
    /// Write `doc` to `path` as `format`.
    Export {
        /// The document as it was when the export was asked for.
        doc: Document,
        /// Where to write.
        path: PathBuf,
        /// PSD, ORA or flat PNG.
        format: ExportFormat,
    },
    /// Write one PNG per layer into the folder `dir`.
    ExportLayers {
        /// The document as it was when the export was asked for.
        doc: Document,
        /// The folder (created if missing).
        dir: PathBuf,
    },
}

impl FileJob {
    /// The file or folder the job reads or writes.
    pub fn path(&self) -> &Path {
        match self {
            Self::Open(path) | Self::Export { path, .. } => path,
            Self::ExportLayers { dir, .. } => dir,
        }
    }

    /// "Opening x…" / "Exporting x…", for the status bar.
    pub fn describe(&self) -> String {
        let name = display_name(self.path());
        match self {
            Self::Open(_) => format!("Opening {name}…"),
            Self::Export { .. } => format!("Exporting {name}…"),
            Self::ExportLayers { .. } => format!("Exporting layers to {name}…"),
        }
    }

    fn run(&self) -> Outcome {
        match self {
            Self::Open(path) => Outcome::Opened(open(path)),
            Self::Export { doc, path, format } => {
                Outcome::Exported(io::save_as(doc, path, *format))
            }
            Self::ExportLayers { doc, dir } => Outcome::LayersExported(io::export_layers(doc, dir)),
        }
    }
}

/// Reads `path` with the default limits, keeping the reader's notices.
pub(super) fn open(path: &std::path::Path) -> Result<io::Opened, IoError> {
    io::open_with_notices(path, &io::Limits::default())
}

/// What a job produced.
#[derive(Debug)]
pub enum Outcome {
    /// The document read with what the reader has to say about it, or why not.
    Opened(Result<io::Opened, IoError>),
    /// Whether the export was written.
    Exported(Result<(), IoError>),
    /// The layer PNGs written, or why not.
    LayersExported(Result<Vec<PathBuf>, IoError>),
}

/// A finished job: what was asked and what came of it.
#[derive(Debug)]
pub struct Finished {
    /// The job as it was started (an export keeps its document, the state that was saved).
    pub job: FileJob,
    /// Its result.
    pub outcome: Outcome,
}

/// A job was refused because another one is still running.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{running} is still in progress; try again when it has finished")]
pub struct Busy {
    /// What the running job is doing ("Opening x…").
    pub running: String,
}

/// The job in flight and its worker.
struct Running {
    job: FileJob,
    started: Instant,
    worker: Worker<Outcome>,
}

impl Running {
    /// The job's [`Finished`] for what its worker delivered.
    fn finish(self, delivered: Result<Outcome, Failure>) -> Finished {
        let outcome = delivered.unwrap_or_else(|failure| panicked(&self.job, &failure));
        Finished {
            job: self.job,
            outcome,
        }
    }
}

/// The file thread's runner, owned by the editor.
#[derive(Default)]
pub struct FileJobs {
    running: Option<Running>,
}

impl FileJobs {
    /// Starts `job` on a new thread unless one is running; `wake` is called from the thread
    /// when it finishes (the editor passes `ctx.request_repaint`).
    pub fn start(&mut self, job: FileJob, wake: impl Fn() + Send + 'static) -> Result<(), Busy> {
        if let Some(running) = &self.running {
            return Err(Busy {
                running: running.job.describe(),
            });
        }
        let work = {
            let job = job.clone();
            move || job.run()
        };
        let worker = Worker::spawn("strata-file", work, wake).unwrap_or_else(|err| {
            // Report like any failure, so the caller has one path.
            let err = std::io::Error::other(format!("cannot start a worker thread: {err}"));
            let kind = match job {
                FileJob::Open(_) => ErrorKind::Read(err),
                _ => ErrorKind::Write(err),
            };
            Worker::finished(failed(&job, kind))
        });
        self.running = Some(Running {
            job,
            started: Instant::now(),
            worker,
        });
        Ok(())
    }

    /// The running job, if any.
    pub fn running(&self) -> Option<&FileJob> {
        self.running.as_ref().map(|r| &r.job)
    }

    /// How long the running job has been running.
    pub fn elapsed(&self) -> Option<Duration> {
        self.running.as_ref().map(|r| r.started.elapsed())
    }

    /// The running job's result, once it is ready.
    pub fn poll(&mut self) -> Option<Finished> {
        let delivered = self.running.as_ref()?.worker.poll()?;
        self.running.take().map(|r| r.finish(delivered))
    }

    /// Blocks up to `timeout` for the running job's result (tests and scripts).
    pub fn wait(&mut self, timeout: Duration) -> Option<Finished> {
        let delivered = self.running.as_ref()?.worker.wait(timeout)?;
        self.running.take().map(|r| r.finish(delivered))
    }
}

/// The file name of `path` (or the whole path if it has none), for messages.
pub fn display_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The outcome a job has when it fails with `kind` before or instead of running.
fn failed(job: &FileJob, kind: ErrorKind) -> Outcome {
    let err = IoError::new(job.path(), kind);
    match job {
        FileJob::Open(_) => Outcome::Opened(Err(err)),
        FileJob::Export { .. } => Outcome::Exported(Err(err)),
        FileJob::ExportLayers { .. } => Outcome::LayersExported(Err(err)),
    }
}

/// The outcome of a job whose reader or writer crashed: an error naming the file.
fn panicked(job: &FileJob, failure: &Failure) -> Outcome {
    let message = failure.to_string();
    let crashed = |what: &str| {
        std::io::Error::other(format!(
            "{what} crashed ({message}); this is a bug in Strata"
        ))
    };
    let kind = match job {
        FileJob::Open(_) => ErrorKind::Read(crashed("the reader")),
        FileJob::Export { .. } | FileJob::ExportLayers { .. } => {
            ErrorKind::Write(crashed("the writer"))
        }
    };
    failed(job, kind)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

    use super::*;
    use crate::model::RgbaImage;
    use std::sync::mpsc::channel;

    const LONG: Duration = Duration::from_secs(60);

    #[test]
    fn one_job_at_a_time_and_the_result_comes_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        RgbaImage::from_pixel(3, 2, image::Rgba([1, 2, 3, 255]))
            .save(&path)
            .unwrap();
        let mut jobs = FileJobs::default();
        let (woke_tx, woke_rx) = channel();
        jobs.start(FileJob::Open(path.clone()), move || {
            let _ = woke_tx.send(());
        })
        .unwrap();
        let busy = jobs.start(FileJob::Open(path.clone()), || {}).unwrap_err();
        assert_eq!(busy.running, "Opening a.png…");
        assert!(busy.to_string().contains("still in progress"), "{busy}");
        let finished = jobs.wait(LONG).unwrap();
        woke_rx.recv_timeout(LONG).unwrap();
        match finished.outcome {
            Outcome::Opened(Ok(opened)) => {
                assert_eq!((opened.document.width, opened.document.height), (3, 2));
            }
            other => panic!("{other:?}"),
        }
        assert!(jobs.running().is_none());
        assert!(
            jobs.wait(Duration::ZERO).is_none(),
            "nothing left to wait for"
        );
        jobs.start(FileJob::Open(path), || {}).unwrap();
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut jobs = FileJobs::default();
        let job = FileJob::Export {
            doc: Document::new(2, 2),
            path: dir.path().join("empty.psd"),
            format: ExportFormat::Psd,
        };
        assert_eq!(job.describe(), "Exporting empty.psd…");
        jobs.start(job, || {}).unwrap();
        match jobs.wait(LONG).unwrap().outcome {
            Outcome::Exported(Err(err)) => {
                assert!(err.to_string().contains("empty.psd"), "{err}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_panic_becomes_an_error() {
        let job = FileJob::Open(PathBuf::from("x/boom.psd"));
        let failure = Failure::Panicked("index out of bounds".into());
        match panicked(&job, &failure) {
            Outcome::Opened(Err(err)) => {
                let text = err.to_string();
                assert!(
                    text.contains("boom.psd") && text.contains("crashed"),
                    "{text}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
