//! Reading and writing files: flat pictures through the `image` crate, layered PSD and
//! OpenRaster with our own code, flattened and per-layer PNG export.
//!
//! Every reader checks sizes against [`Limits`] before allocating; every writer replaces its
//! destination atomically (see [`atomic`]).

pub mod atomic;
mod error;
mod limits;
pub mod ora;
mod ora_attrs;
mod ora_build;
mod ora_stack;
mod ora_xml;
pub mod psd;
pub mod raster;

use std::path::{Path, PathBuf};

pub use error::{ErrorKind, IoError};
pub use limits::{LimitError, Limits};

use crate::model::Document;

/// Something a reader changed or left out that the person should know about, such as
/// "converted from 16-bit CMYK to 8-bit RGB". Readers give at most one of each kind per
/// file; the CLI prints them to stderr and the editor shows them when the file opens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// One sentence for people, without the file name (the caller adds it).
    pub text: String,
}

impl Notice {
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into() }
    }
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// An opened file: the document and what the reader has to say about it.
#[derive(Clone, Debug)]
pub struct Opened {
    pub document: Document,
    pub notices: Vec<Notice>,
}

/// File formats Strata recognises by content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Psd,
    Ora,
    /// Anything the `image` crate decodes (PNG, JPEG, WebP, TIFF, BMP, GIF).
    Raster(image::ImageFormat),
}

/// Detects the format from the first bytes of a file (extensions lie; magic numbers don't).
pub fn sniff(head: &[u8]) -> Option<Format> {
    if head.starts_with(b"8BPS") {
        return Some(Format::Psd);
    }
    if ora::looks_like_ora(head) {
        return Some(Format::Ora);
    }
    image::guess_format(head).ok().map(Format::Raster)
}

/// Opens any supported file with the default [`Limits`].
pub fn open(path: &Path) -> Result<Document, IoError> {
    open_with_limits(path, &Limits::default())
}

/// Opens any supported file: layered formats keep their layers, flat pictures become one
/// layer named after the file.
pub fn open_with_limits(path: &Path, limits: &Limits) -> Result<Document, IoError> {
    open_with_notices(path, limits).map(|opened| opened.document)
}

/// [`open_with_limits`], keeping the reader's [`Notice`]s for the person.
pub fn open_with_notices(path: &Path, limits: &Limits) -> Result<Opened, IoError> {
    let err = |kind: ErrorKind| IoError::new(path, kind);
    let len = std::fs::metadata(path)
        .map_err(|e| err(ErrorKind::Read(e)))?
        .len();
    limits.check_file(len).map_err(|e| err(e.into()))?;
    let bytes = std::fs::read(path).map_err(|e| err(ErrorKind::Read(e)))?;
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    read_bytes_with_notices(&bytes, name.as_deref().unwrap_or("Background"), limits).map_err(err)
}

/// Reads a whole file's `bytes` (any supported format, told apart by content): layered formats
/// keep their layers, a flat picture becomes one layer called `flat_name`. Every size is
/// checked against `limits` before pixels are allocated. [`open_with_limits`] adds the path
/// to the error; the fuzz targets call this directly.
pub fn read_bytes(bytes: &[u8], flat_name: &str, limits: &Limits) -> Result<Document, ErrorKind> {
    read_bytes_with_notices(bytes, flat_name, limits).map(|opened| opened.document)
}

/// [`read_bytes`], keeping the reader's [`Notice`]s for the person.
pub fn read_bytes_with_notices(
    bytes: &[u8],
    flat_name: &str,
    limits: &Limits,
) -> Result<Opened, ErrorKind> {
    limits.check_file(bytes.len() as u64)?;
    let head = &bytes[..bytes.len().min(64)];
    let format = sniff(head).ok_or_else(|| {
        let what = if bytes.is_empty() {
            "the file is empty".to_string()
        } else {
            "unrecognised content".to_string()
        };
        ErrorKind::UnknownFormat(what)
    })?;
    let (document, notices) = match format {
        Format::Psd => psd::read_with_notices(bytes, limits)?,
        Format::Ora => ora::read_with_notices(bytes, limits)?,
        Format::Raster(fmt) => {
            let image = raster::decode(bytes, fmt, limits)?;
            (Document::from_flat(flat_name, image), Vec::new())
        }
    };
    Ok(Opened { document, notices })
}

/// What a path's extension asks us to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// Layered Photoshop document: PSD, or PSB for `.psb` paths and documents over 30000 px
    /// per side.
    Psd,
    /// Layered OpenRaster document.
    Ora,
    /// The flattened composite as PNG.
    FlatPng,
}

impl ExportFormat {
    /// Picks the format from the extension (case-insensitive).
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "psd" | "psb" => Some(Self::Psd),
            "ora" => Some(Self::Ora),
            "png" => Some(Self::FlatPng),
            _ => None,
        }
    }
}

/// Saves `doc` atomically in the format its extension names (`.psd`, `.psb`, `.ora`, `.png`).
pub fn save(doc: &Document, path: &Path) -> Result<(), IoError> {
    let format = ExportFormat::from_path(path).ok_or_else(|| {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default();
        IoError::new(path, ErrorKind::UnknownExportFormat(ext))
    })?;
    save_as(doc, path, format)
}

/// Saves `doc` atomically as `format`, whatever the extension.
pub fn save_as(doc: &Document, path: &Path, format: ExportFormat) -> Result<(), IoError> {
    if doc.layers.is_empty() {
        return Err(IoError::new(path, ErrorKind::NoLayers));
    }
    let result = atomic::write_atomic(path, |w| -> Result<(), ErrorKind> {
        match format {
            ExportFormat::Psd => {
                psd::write_version(doc, w, psd_version(doc, path)).map_err(ErrorKind::from)
            }
            ExportFormat::Ora => ora::write(doc, w).map_err(ErrorKind::from),
            ExportFormat::FlatPng => raster::write_png(&crate::model::composite(doc), w),
        }
    });
    result.map_err(|kind| IoError::new(path, kind))
}

/// PSB when the path asks for it (`.psb`) or the document is too large for PSD.
fn psd_version(doc: &Document, path: &Path) -> psd::Version {
    let psb = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("psb"));
    if psb {
        psd::Version::Psb
    } else {
        psd::Version::for_document(doc)
    }
}

/// Saves a flat image as PNG, atomically.
pub fn save_png(image: &crate::model::RgbaImage, path: &Path) -> Result<(), IoError> {
    atomic::write_atomic(path, |w| raster::write_png(image, w))
        .map_err(|kind| IoError::new(path, kind))
}

/// Writes one PNG per layer into `dir` (created if missing), named
/// `NN-layer-name.png` from the bottom up, each the layer's own pixels. Returns the paths.
pub fn export_layers(doc: &Document, dir: &Path) -> Result<Vec<PathBuf>, IoError> {
    if doc.layers.is_empty() {
        return Err(IoError::new(dir, ErrorKind::NoLayers));
    }
    std::fs::create_dir_all(dir).map_err(|e| IoError::new(dir, ErrorKind::Write(e)))?;
    let mut written = Vec::with_capacity(doc.layers.len());
    for (index, layer) in doc.layers.iter().enumerate() {
        let path = dir.join(format!(
            "{:02}-{}.png",
            index + 1,
            raster::safe_file_stem(&layer.name)
        ));
        save_png(&layer.pixels, &path)?;
        written.push(path);
    }
    Ok(written)
}
