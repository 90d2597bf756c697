//! Errors of file reading and writing. Every error carries the file's path, so the message a
//! person sees always says which file and what is wrong with it.

use std::path::{Path, PathBuf};

use super::LimitError;
use super::ora::OraError;
use super::psd::PsdError;

/// A failed read or write of one file.
#[derive(Debug, thiserror::Error)]
#[error("{}: {kind}", path.display())]
pub struct IoError {
    pub path: PathBuf,
    pub kind: ErrorKind,
}

/// What went wrong, independent of the path.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    #[error("cannot read: {0}")]
    Read(std::io::Error),
    #[error("cannot write: {0}")]
    Write(std::io::Error),
    #[error("not a picture Strata can open ({0})")]
    UnknownFormat(String),
    #[error("cannot save as '{0}': use .psd, .psb, .ora or .png")]
    UnknownExportFormat(String),
    #[error("{0}")]
    Limit(#[from] LimitError),
    #[error("cannot decode image: {0}")]
    Decode(String),
    #[error("cannot encode image: {0}")]
    Encode(String),
    #[error("PSD: {0}")]
    Psd(#[from] PsdError),
    #[error("OpenRaster: {0}")]
    Ora(#[from] OraError),
    #[error("the document has no layers to export")]
    NoLayers,
}

impl IoError {
    pub fn new(path: &Path, kind: impl Into<ErrorKind>) -> Self {
        Self {
            path: path.to_path_buf(),
            kind: kind.into(),
        }
    }
}

/// Lets `write_atomic` report temp-file failures as write errors.
impl From<std::io::Error> for ErrorKind {
    fn from(e: std::io::Error) -> Self {
        ErrorKind::Write(e)
    }
}
