//! The GIMP Resynthesizer peer of `strata bench inpaint`: "heal selection" driven through
//! `gimp -i -b` (Script-Fu), on the same PNG files the other peers get.
//!
//! Heal selection is a script around Resynthesizer's engine (`plug-in-resynthesizer`). It
//! comes as Python-Fu (`python-fu-heal-selection`, GIMP builds with Python 2) or as its
//! Script-Fu port (`script-fu-heal-selection`); whichever GIMP has is used. Debian bookworm's
//! `gimp-plugin-registry` no longer ships Resynthesizer at all (its Python plug-ins went with
//! Python 2), so there the column says it is missing and why.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use wait_timeout::ChildExt;

use super::inpaint::{Case, Column, mpx, peer_column};
use super::inpaint_metrics::score;

/// Longest one GIMP run may take before it is stopped (a 4 Mpx heal takes about a minute).
const GIMP_TIMEOUT: Duration = Duration::from_secs(600);

/// Resynthesizer's context width for heal selection, its default: the band of pixels
/// around the hole that it samples from.
const SAMPLING_WIDTH: u32 = 50;

/// Which heal-selection procedure GIMP offers.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Heal {
    /// `python-fu-heal-selection`: a PDB procedure, called with a run mode.
    Python,
    /// `script-fu-heal-selection`: a Scheme function in the batch interpreter itself.
    Scheme,
}

impl Heal {
    /// The Script-Fu call healing the selection of `image`'s `drawable`.
    fn call(self) -> String {
        match self {
            Heal::Python => format!(
                "(python-fu-heal-selection RUN-NONINTERACTIVE image drawable {SAMPLING_WIDTH} 0 0)"
            ),
            Heal::Scheme => {
                format!("(script-fu-heal-selection image drawable {SAMPLING_WIDTH} 0 0)")
            }
        }
    }
}

/// Resynthesizer's column, or a missing one saying what is not installed.
pub(super) fn resynthesizer_column(cases: &[Case], scratch: &Path) -> Column {
    let name = "resynth".to_string();
    let heal = match probe() {
        Ok(heal) => heal,
        Err(why) => return Column::missing(name, &format!("{why:#}")),
    };
    // GIMP reports no time of its own: its start-up, measured once with an empty batch,
    // is taken off each run.
    let startup = {
        let start = Instant::now();
        let ok = run_gimp(&[]).is_ok_and(|o| o.status.success());
        if ok {
            start.elapsed().as_secs_f64()
        } else {
            0.0
        }
    };
    peer_column(name, cases, scratch, |case, (src, mask, out)| {
        let script = format!(
            r#"(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE "{src}" "{src}")))
                      (drawable (car (gimp-image-get-active-drawable image)))
                      (mask (car (gimp-file-load-layer RUN-NONINTERACTIVE image "{mask}"))))
                 (gimp-image-insert-layer image mask 0 -1)
                 (gimp-image-select-color image CHANNEL-OP-REPLACE mask '(255 255 255))
                 (gimp-image-remove-layer image mask)
                 {heal}
                 (gimp-file-save RUN-NONINTERACTIVE image drawable "{out}" "{out}"))"#,
            src = src.display(),
            mask = mask.display(),
            out = out.display(),
            heal = heal.call(),
        );
        let start = Instant::now();
        let output = run_gimp(&[&script])?;
        let seconds = (start.elapsed().as_secs_f64() - startup).max(0.0);
        let stderr = String::from_utf8_lossy(&output.stderr);
        // GIMP's batch mode exits 0 even when the script failed; it says so on stderr.
        if !output.status.success() || stderr.contains("execution error") {
            bail!(
                "gimp failed ({}): {}",
                output.status,
                last_lines(&stderr, 4)
            );
        }
        let filled = image::open(out)
            .context("reading GIMP's result")?
            .to_rgba8();
        Ok(score(&case.truth, &filled, &case.hole, seconds / mpx(case)))
    })
}

/// Which heal selection GIMP has, or why there is none.
fn probe() -> Result<Heal> {
    let version = Command::new("gimp").arg("--version").output();
    if !version.is_ok_and(|o| o.status.success()) {
        bail!("GIMP is not installed (apt install gimp, plus Resynthesizer)");
    }
    let script = r#"(gimp-message
        (string-append
          "probe:"
          (if (= TRUE (car (gimp-procedural-db-proc-exists "plug-in-resynthesizer"))) "engine" "-")
          ":"
          (cond ((= TRUE (car (gimp-procedural-db-proc-exists "python-fu-heal-selection"))) "python")
                ((= TRUE (car (gimp-procedural-db-proc-exists "script-fu-heal-selection"))) "scheme")
                (else "-"))))"#;
    let output = run_gimp(&[script])?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let answer = stderr
        .lines()
        .find_map(|l| l.split("probe:").nth(1))
        .map(str::trim)
        .unwrap_or("");
    match answer {
        "engine:python" => Ok(Heal::Python),
        "engine:scheme" => Ok(Heal::Scheme),
        "" => bail!("GIMP did not answer the probe: {}", last_lines(&stderr, 4)),
        _ if answer.starts_with('-') => bail!(
            "GIMP has no Resynthesizer engine (plug-in-resynthesizer): Debian bookworm's \
             gimp-plugin-registry no longer ships it; build Resynthesizer's GIMP 2 branch \
             and install its heal-selection script"
        ),
        _ => bail!(
            "GIMP has Resynthesizer's engine but no heal selection (python-fu- or \
             script-fu-heal-selection): install Resynthesizer's plugin-heal-selection script"
        ),
    }
}

/// Runs `gimp -i` on the batch commands `scripts`, then quits: a separate quit command, so
/// GIMP also quits when a script fails (it otherwise waits for more commands forever).
/// Stopped after [`GIMP_TIMEOUT`].
fn run_gimp(scripts: &[&str]) -> Result<Output> {
    let mut command = Command::new("gimp");
    command.arg("-i");
    for script in scripts {
        command.args(["-b", script]);
    }
    let mut child = command
        .args(["-b", "(gimp-quit 0)"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running gimp")?;
    // Output is read on threads so a chatty GIMP never blocks on a full pipe.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buffer = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut buffer);
            }
            buffer
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let Some(status) = child
        .wait_timeout(GIMP_TIMEOUT)
        .context("waiting for gimp")?
    else {
        let _ = child.kill();
        let _ = child.wait();
        bail!(
            "gimp took over {} s and was stopped",
            GIMP_TIMEOUT.as_secs()
        );
    };
    Ok(Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// The last `n` lines of `text` that are not GIMP's usual start-up chatter, joined.
fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.contains("deprecated") && !l.starts_with('('))
        .collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}
