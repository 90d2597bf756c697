//! Running psd-tools, the independent PSD reader the peer tests compare with.

use std::process::Command;

/// True if psd-tools can run here; otherwise skips (or fails on CI) with a message.
pub fn available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import psd_tools"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let message = "python3 with psd_tools is not available (pip install psd-tools)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        eprintln!("skipping the psd-tools check: {message}");
    }
    ok
}

/// Runs `python3` with `args` and returns its standard output; fails the test with its
/// standard error if it fails.
pub fn run_python(args: &[&std::ffi::OsStr]) -> String {
    let output = Command::new("python3")
        .args(args)
        .output()
        .expect("run python3");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "python3 failed:\n{stderr}");
    String::from_utf8(output.stdout).expect("utf-8 output")
}
