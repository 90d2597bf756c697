//! Replays every fuzz seed and every input that once crashed a fuzz target (kept in
//! `fuzz/regressions/<target>/`) through the same checks the targets run, under plain
//! `cargo test`, so a fixed crash stays fixed without a nightly toolchain. See TESTING.md.

#[path = "../fuzz/checks.rs"]
mod checks;

use std::path::{Path, PathBuf};

/// Every file in `fuzz/seeds/<target>` and `fuzz/regressions/<target>`.
fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files = Vec::new();
    for kind in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(kind).join(target)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let hidden = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if path.is_file() && !hidden {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn replay(target: &str, check: fn(&[u8])) {
    let files = inputs(target);
    assert!(!files.is_empty(), "no seeds for fuzz target {target}");
    for path in files {
        let bytes = std::fs::read(&path).expect("readable fuzz input");
        let outcome = std::panic::catch_unwind(|| check(&bytes));
        assert!(outcome.is_ok(), "{target} fails on {}", path.display());
    }
}

#[test]
fn psd_read_inputs() {
    replay("psd_read", checks::psd_read);
}

#[test]
fn ora_read_inputs() {
    replay("ora_read", checks::ora_read);
}

#[test]
fn open_bytes_inputs() {
    replay("open_bytes", checks::open_bytes);
}

#[test]
fn psd_roundtrip_inputs() {
    replay("psd_roundtrip", checks::psd_roundtrip);
}

/// The round-trip builder itself must produce varied documents, or the target tests little.
#[test]
fn roundtrip_builder_covers_layers_offsets_and_modes() {
    let data: Vec<u8> = (0..4000u32).map(|i| (i * 7919 % 251) as u8).collect();
    let doc = checks::document_from_bytes(&data);
    assert!(doc.layers.len() >= 2, "{} layers", doc.layers.len());
    checks::psd_roundtrip(&data);
}
