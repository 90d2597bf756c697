//! `strata bench psd-open`: how faithfully real Photoshop files open. For every PSD and PSB
//! of a folder (by default the ag-psd test corpus): opened, refused (with the message) or
//! crashed, the time to open, and, for files that store a real composite (Version Info says
//! so, or is absent), how far our flatten of the opened document is from that composite.
//! psd-tools' own compositor is measured on the same files in the same run when python3
//! has `psd_tools`, against the same stored composite.
//!
//! A file "hits" when the mean premultiplied difference is at most [`HIT_THRESHOLD`] steps
//! (`model::pixels::mean_premultiplied_difference`).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, Result};
use strata::io::{self, psd};
use strata::model::pixels::mean_premultiplied_difference;
use strata::model::{RgbaImage, composite};

/// Mean difference (8-bit steps) within which a flatten counts as matching.
pub const HIT_THRESHOLD: f64 = 2.0;

/// What to measure.
pub struct PsdOpenBench {
    pub dir: PathBuf,
    /// Measure psd-tools too (if it is installed).
    pub psd_tools: bool,
}

/// What opening one file gave.
enum Outcome {
    Opened,
    Refused(String),
    Crashed(String),
}

/// One row of the table.
struct Row {
    name: String,
    /// "RGB 8", "CMYK 8", … from the header (PSB marked).
    kind: String,
    outcome: Outcome,
    millis: f64,
    /// Whether the file says its stored composite is real (or does not say).
    real: bool,
    /// The stored composite, when it is real and we can read it.
    stored: Option<RgbaImage>,
    ours: Option<f64>,
    theirs: Option<Result<f64, String>>,
}

/// Runs the benchmark and prints the per-file table and the totals.
pub fn run_psd_open(bench: &PsdOpenBench) -> Result<()> {
    let paths = corpus_files(&bench.dir)?;
    let mut rows: Vec<Row> = paths.iter().map(|p| open_one(p)).collect();
    if bench.psd_tools {
        match psd_tools_differences(&paths, &rows) {
            Ok(theirs) => rows.iter_mut().zip(theirs).for_each(|(r, t)| r.theirs = t),
            Err(err) => println!("psd-tools not measured: {err:#}"),
        }
    }
    print_table(&rows);
    Ok(())
}

/// Every `*.psd` and `*.psb` of `dir`, sorted by name.
pub fn corpus_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("psd") || e.eq_ignore_ascii_case("psb"))
        })
        .collect();
    paths.sort();
    Ok(paths)
}

fn open_one(path: &Path) -> Row {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bytes = std::fs::read(path).unwrap_or_default();
    let limits = io::Limits::default();
    let start = Instant::now();
    let opened = catch_unwind(AssertUnwindSafe(|| {
        io::read_bytes(&bytes, "Background", &limits)
    }));
    let millis = start.elapsed().as_secs_f64() * 1000.0;
    let real = psd::stores_real_composite(&bytes, &limits).unwrap_or(true);
    let stored = real
        .then(|| {
            catch_unwind(|| psd::read_composite(&bytes, &limits))
                .ok()?
                .ok()
        })
        .flatten();
    let (outcome, ours) = match opened {
        Ok(Ok(doc)) => {
            let ours = stored
                .as_ref()
                .and_then(|s| mean_premultiplied_difference(&composite(&doc), s));
            (Outcome::Opened, ours)
        }
        Ok(Err(err)) => (Outcome::Refused(err.to_string()), None),
        Err(panic) => (Outcome::Crashed(panic_message(&*panic)), None),
    };
    Row {
        name,
        kind: header_kind(&bytes),
        outcome,
        millis,
        real,
        stored,
        ours,
        theirs: None,
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

/// Colour mode and depth from the 26-byte header, for the table.
fn header_kind(bytes: &[u8]) -> String {
    let word = |at: usize| {
        bytes
            .get(at..at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    };
    let (Some(version), Some(depth), Some(mode)) = (word(4), word(22), word(24)) else {
        return "?".into();
    };
    let mode = match mode {
        0 => "Bitmap",
        1 => "Gray",
        2 => "Indexed",
        3 => "RGB",
        4 => "CMYK",
        7 => "Multich",
        8 => "Duotone",
        9 => "Lab",
        _ => "?",
    };
    let big = if version == 2 { " PSB" } else { "" };
    format!("{mode} {depth}{big}")
}

/// psd-tools' composite of each file against the stored composite: ours where we can read
/// it, else psd-tools' own reading of it. `None` for files without a real composite.
fn psd_tools_differences(
    paths: &[PathBuf],
    rows: &[Row],
) -> Result<Vec<Option<Result<f64, String>>>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/psd_tools_composite.py");
    let out = tempfile::tempdir().context("cannot create a temporary folder")?;
    let output = Command::new("python3")
        .arg(&script)
        .arg(out.path())
        .args(paths)
        .output()
        .context("cannot run python3")?;
    if !output.status.success() {
        anyhow::bail!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let mut results: Vec<Option<Result<f64, String>>> = vec![None; paths.len()];
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let mut parts = line.splitn(3, ' ');
        let (Some(Ok(index)), Some(status)) = (parts.next().map(str::parse::<usize>), parts.next())
        else {
            continue;
        };
        let Some(row) = rows.get(index).filter(|r| r.real) else {
            continue;
        };
        results[index] = Some(if status == "ok" {
            compare_psd_tools(out.path(), index, row.stored.as_ref())
        } else {
            Err(parts.next().unwrap_or("failed").to_owned())
        });
    }
    Ok(results)
}

fn compare_psd_tools(dir: &Path, index: usize, ours: Option<&RgbaImage>) -> Result<f64, String> {
    let load = |suffix: &str| {
        image::open(dir.join(format!("{index}.{suffix}.png")))
            .map(|i| i.to_rgba8())
            .map_err(|e| e.to_string())
    };
    let rendered = load("render")?;
    let theirs_stored;
    let stored = match ours {
        Some(stored) => stored,
        None => {
            theirs_stored = load("stored")?;
            &theirs_stored
        }
    };
    mean_premultiplied_difference(&rendered, stored)
        .ok_or_else(|| "composite size differs from the canvas".to_owned())
}

fn print_table(rows: &[Row]) {
    println!(
        "{:<58} {:<12} {:<9} {:>8} {:>8} {:>10}",
        "file", "kind", "outcome", "open ms", "ours Δ", "psd-tools Δ"
    );
    let diff = |d: Option<f64>| d.map_or("-".to_owned(), |d| format!("{d:.2}"));
    for row in rows {
        let outcome = match &row.outcome {
            Outcome::Opened => "opened",
            Outcome::Refused(_) => "refused",
            Outcome::Crashed(_) => "CRASHED",
        };
        let theirs = match &row.theirs {
            None => "-".to_owned(),
            Some(Ok(d)) => format!("{d:.2}"),
            Some(Err(_)) => "error".to_owned(),
        };
        println!(
            "{:<58} {:<12} {:<9} {:>8.1} {:>8} {:>10}",
            row.name,
            row.kind,
            outcome,
            row.millis,
            diff(row.ours),
            theirs
        );
        match &row.outcome {
            Outcome::Refused(why) | Outcome::Crashed(why) => println!("    {why}"),
            Outcome::Opened => {}
        }
    }
    print_totals(rows);
}

fn print_totals(rows: &[Row]) {
    let count = |f: &dyn Fn(&Row) -> bool| rows.iter().filter(|r| f(r)).count();
    let opened = count(&|r| matches!(r.outcome, Outcome::Opened));
    let refused = count(&|r| matches!(r.outcome, Outcome::Refused(_)));
    let crashed = count(&|r| matches!(r.outcome, Outcome::Crashed(_)));
    let total_ms: f64 = rows.iter().map(|r| r.millis).sum();
    println!();
    println!(
        "{} files: {opened} opened, {refused} refused, {crashed} crashed ({total_ms:.0} ms to open all)",
        rows.len()
    );
    let with_composite: Vec<&Row> = rows.iter().filter(|r| r.real).collect();
    let rgb: Vec<&Row> = with_composite
        .iter()
        .copied()
        .filter(|r| r.kind == "RGB 8" || r.kind == "RGB 16")
        .collect();
    for (label, set) in [
        ("with a real stored composite", &with_composite),
        ("of them 8- and 16-bit RGB PSD", &rgb),
    ] {
        let hit = |d: Option<f64>| d.is_some_and(|d| d <= HIT_THRESHOLD);
        let ours = set.iter().filter(|r| hit(r.ours)).count();
        let theirs = set
            .iter()
            .filter(|r| hit(r.theirs.as_ref().and_then(|t| t.as_ref().ok().copied())))
            .count();
        let measured = set.iter().any(|r| r.theirs.is_some());
        let pct = |n: usize| 100.0 * n as f64 / set.len().max(1) as f64;
        print!(
            "{} files {label}: ours within {HIT_THRESHOLD}/255 {ours} ({:.0}%)",
            set.len(),
            pct(ours)
        );
        if measured {
            print!(", psd-tools {theirs} ({:.0}%)", pct(theirs));
        }
        println!();
    }
}
