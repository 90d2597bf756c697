//! Atomic file replacement: write a temporary file in the destination's folder, flush it to
//! disk, then rename it over the destination. A crash or error mid-write leaves the old file
//! untouched and no partial file behind; the rename is atomic on one file system.
//!
//! The temporary file would be created owner-only (0600), and the rename would carry that mode
//! onto the user's file. A picture the person exports is theirs to share as any other file
//! they make, so [`write_atomic`] gives a new file the mode the umask allows (as `cp` or an
//! editor's save would) and an overwritten file keeps its mode. Strata's own private files
//! (autosaves, settings) use [`write_atomic_private`] and stay 0600.

use std::fs::File;
#[cfg(unix)]
use std::fs::Permissions;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Who may read the file written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// As any file the user makes: a new file follows the umask, an old one keeps its mode.
    Ordinary,
    /// Owner only (0600), whatever the umask or the old file's mode.
    Private,
}

/// Writes `path` through `write`, atomically. The closure's error is returned unchanged;
/// I/O failures of the temporary file surface as `E::from(std::io::Error)`. A new file gets
/// the mode the umask allows; an overwritten file keeps its own.
pub fn write_atomic<E>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&mut File>) -> Result<(), E>,
) -> Result<(), E>
where
    E: From<std::io::Error>,
{
    write_atomic_as(path, Access::Ordinary, write)
}

/// [`write_atomic`] for files only the user should read (autosaves, settings): always 0600.
pub fn write_atomic_private<E>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&mut File>) -> Result<(), E>,
) -> Result<(), E>
where
    E: From<std::io::Error>,
{
    write_atomic_as(path, Access::Private, write)
}

fn write_atomic_as<E>(
    path: &Path,
    access: Access,
    write: impl FnOnce(&mut BufWriter<&mut File>) -> Result<(), E>,
) -> Result<(), E>
where
    E: From<std::io::Error>,
{
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let existing = match access {
        Access::Ordinary => std::fs::metadata(path).ok().map(|m| m.permissions()),
        Access::Private => None,
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".strata-").suffix(".part");
    #[cfg(unix)]
    builder.permissions(creation_mode(access));
    let mut temp = builder.tempfile_in(dir)?;
    if let Some(permissions) = existing {
        // Set exactly (no umask applies to chmod), so the replaced file's mode carries over.
        temp.as_file().set_permissions(permissions)?;
    }
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

/// The mode the temporary file is created with. `open(2)` masks it with the umask, which is
/// what makes a new ordinary file follow the umask.
#[cfg(unix)]
fn creation_mode(access: Access) -> Permissions {
    use std::os::unix::fs::PermissionsExt;
    match access {
        Access::Ordinary => Permissions::from_mode(0o666),
        Access::Private => Permissions::from_mode(0o600),
    }
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

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    }

    #[cfg(unix)]
    #[test]
    fn a_new_file_gets_the_mode_the_umask_allows() {
        let dir = tempfile::tempdir().expect("tempdir");
        // `File::create` asks for 0666 and the kernel applies this process's umask: the mode
        // any program's new file gets here.
        let reference = dir.path().join("reference");
        File::create(&reference).expect("reference file");
        let path = dir.path().join("new.psd");
        write_atomic::<std::io::Error>(&path, |w| w.write_all(b"new")).expect("write");
        assert_eq!(mode(&path), mode(&reference));
    }

    #[cfg(unix)]
    #[test]
    fn an_overwritten_file_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("old.psd");
        for old_mode in [0o644, 0o640, 0o600, 0o664] {
            std::fs::write(&path, b"old").expect("seed");
            std::fs::set_permissions(&path, Permissions::from_mode(old_mode)).expect("chmod");
            write_atomic::<std::io::Error>(&path, |w| w.write_all(b"new")).expect("write");
            assert_eq!(mode(&path), old_mode, "overwriting a {old_mode:o} file");
        }
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("autosave.ora");
        write_atomic_private::<std::io::Error>(&path, |w| w.write_all(b"a")).expect("write");
        assert_eq!(mode(&path), 0o600);
        std::fs::set_permissions(&path, Permissions::from_mode(0o644)).expect("chmod");
        write_atomic_private::<std::io::Error>(&path, |w| w.write_all(b"b")).expect("write");
        assert_eq!(mode(&path), 0o600);
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
