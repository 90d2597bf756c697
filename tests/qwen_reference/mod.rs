//! Where the Qwen-Image-Layered parity references live, and regenerating them when Python with
//! torch and diffusers is at hand (`STRATA_QWEN_PYTHON`, default `python3`). CI has no torch
//! (PyPI only has CUDA builds, gigabytes each), so the committed references are what CI checks;
//! a developer with torch checks that they still match diffusers as installed.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// `tests/data/qwen/<name>`.
pub fn committed(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/qwen")
        .join(name)
}

/// Runs `scripts/qwen_parity_<module>.py` into a temporary folder and returns the fresh
/// `<file>`, or `None` (with a note) when Python lacks torch, diffusers or transformers.
pub fn regenerate(module: &str, file: &str) -> Option<PathBuf> {
    let python = std::env::var("STRATA_QWEN_PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = Command::new(&python)
        .args(["-c", "import torch, diffusers, transformers"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!(
            "note: {python} cannot import torch, diffusers and transformers; checked the \
             committed reference only (set STRATA_QWEN_PYTHON to a Python that has them)"
        );
        return None;
    }
    let dir = std::env::temp_dir().join(format!("strata-qwen-{module}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let out = dir.join(file);
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(format!("qwen_parity_{module}.py"));
    let status = Command::new(&python)
        .arg(&script)
        .arg(&out)
        .status()
        .expect("run the parity script");
    assert!(status.success(), "{} failed", script.display());
    Some(out)
}
