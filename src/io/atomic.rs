//! Atomic file replacement: write a temporary file in the destination's folder, flush it to
//! disk, then rename it over the destination. A crash or error mid-write leaves the old file
//! untouched and no partial file behind; the rename is atomic on one file system.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Writes `path` through `write`, atomically. The closure's error is returned unchanged;
/// I/O failures of the temporary file surface as `E::from(std::io::Error)`.
pub fn write_atomic<E>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&mut File>) -> Result<(), E>,
) -> Result<(), E>
where
    E: From<std::io::Error>,
{
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".strata-")
        .suffix(".part")
        .tempfile_in(dir)?;
    {
        let mut writer = BufWriter::new(temp.as_file_mut());
        write(&mut writer)?;
        writer.flush()?;
    }
    temp.as_file().sync_all()?;
    // `persist` renames over the destination; on failure the temp file is removed on drop.
    temp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir);
    Ok(())
}

/// Flushes the folder entry of the rename, so that after a power cut the folder holds the
/// new file rather than neither. Best effort: some platforms and file systems cannot open or
/// sync a folder, and the data itself is already on disk.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(folder) = File::open(dir)
        && let Err(err) = folder.sync_all()
    {
        tracing::debug!("cannot sync folder {}: {err}", dir.display());
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_keeps_old_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("out.bin");
        std::fs::write(&path, b"old").expect("seed");
        let result: Result<(), std::io::Error> = write_atomic(&path, |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("injected"))
        });
        assert!(result.is_err());
        assert_eq!(std::fs::read(&path).expect("read"), b"old");
        let entries = std::fs::read_dir(dir.path()).expect("list").count();
        assert_eq!(entries, 1, "temporary file left behind");
    }

    #[test]
    fn successful_write_replaces() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("out.bin");
        std::fs::write(&path, b"old").expect("seed");
        write_atomic::<std::io::Error>(&path, |w| w.write_all(b"new")).expect("write");
        assert_eq!(std::fs::read(&path).expect("read"), b"new");
    }
}
