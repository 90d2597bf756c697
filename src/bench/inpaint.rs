//! `strata bench inpaint`: image completion on real photos with object-shaped holes, where
//! the truth under the hole is known, against OpenCV (Telea, Navier–Stokes) and GIMP's
//! Resynthesizer in the same run.
//!
//! Pictures: crops of the GPL-2 photos of the designs benchmark
//! (`assets/bench/designs/photos`, from Debian's `mate-backgrounds`). Holes: silhouettes of
//! its public-domain clip art rendered by resvg, grown by two pixels (as the objects method
//! grows its holes), scaled to cover 5–25% of the picture. Per method and picture: PSNR and
//! SSIM inside the hole, the texture ratio (mean gradient magnitude in the filled hole over
//! the truth's: 1 keeps texture, a blur scores far below) and seconds per megapixel.
//!
//! Peers run as child processes on PNG files, timed inside the child around the fill alone:
//! OpenCV through `python3` with `opencv-python(-headless)`, Resynthesizer through
//! `gimp -i -b` (Debian `gimp-plugin-registry`). Each is reported missing when it is not
//! installed.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use image::{GrayImage, Luma, Rgba, RgbaImage};
use strata::decompose::Progress;
use strata::decompose::eval::designs::{Assets, photo_crop};
use strata::decompose::inpaint::{MASK_THRESHOLD, grow, inpaint};

use super::inpaint_gimp::resynthesizer_column;
use super::inpaint_metrics::{Scores, score};

/// What `strata bench inpaint` runs.
pub struct InpaintBench {
    /// Picture size.
    pub size: (u32, u32),
    /// Holes per photo.
    pub holes_per_photo: usize,
    /// Seed of the hole placement and of Strata's fill.
    pub seed: u64,
    /// Folder of the designs assets (photos and clip art).
    pub assets: Option<std::path::PathBuf>,
    /// Keep every input, mask and result here (PNG) instead of a temporary folder.
    pub keep: Option<std::path::PathBuf>,
}

/// Hole coverages, cycled over the scenes: the issue's 5–25% range.
const COVERAGES: [f32; 4] = [0.06, 0.10, 0.16, 0.24];

/// One picture with its hole.
pub(super) struct Case {
    pub name: String,
    pub truth: RgbaImage,
    pub hole: GrayImage,
    pub coverage: f32,
}

/// A method's results over every case.
pub(super) struct Column {
    name: String,
    scores: Vec<Option<Scores>>,
    missing: Option<String>,
}

impl Column {
    /// A method that could not run, and why.
    pub(super) fn missing(name: String, why: &str) -> Column {
        Column {
            name,
            scores: Vec::new(),
            missing: Some(why.into()),
        }
    }
}

/// Runs the benchmark and prints the tables.
pub fn run_inpaint(options: &InpaintBench) -> Result<()> {
    let dir = options.assets.clone().unwrap_or_else(Assets::default_dir);
    let assets = Assets::load(&dir).with_context(|| format!("{}", dir.display()))?;
    let cases = cases(&assets, options)?;
    println!(
        "{} pictures of {}×{} (photos from {}), holes of 5–25% shaped like clip art; {} threads",
        cases.len(),
        options.size.0,
        options.size.1,
        dir.join("photos").display(),
        rayon::current_num_threads()
    );
    let temporary = tempfile::tempdir().context("scratch folder")?;
    let scratch = match &options.keep {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
            dir.as_path()
        }
        None => temporary.path(),
    };
    let mut columns = vec![strata_column(
        &cases,
        options.seed,
        options.keep.as_deref(),
    )?];
    for method in ["telea", "ns"] {
        columns.push(opencv_column(&cases, method, scratch));
    }
    columns.push(resynthesizer_column(&cases, scratch));

    println!();
    println!(
        "{:<28} {:>6} {:>9} {:>7} {:>8} {:>8}",
        "picture", "hole", "method", "PSNR", "SSIM", "texture"
    );
    for (k, case) in cases.iter().enumerate() {
        for column in &columns {
            if let Some(Some(s)) = column.scores.get(k) {
                println!(
                    "{:<28} {:>5.1}% {:>9} {:>7.2} {:>8.3} {:>8.2}",
                    case.name,
                    case.coverage * 100.0,
                    column.name,
                    s.psnr,
                    s.ssim,
                    s.texture
                );
            }
        }
    }
    print_memory(&cases, scratch, options.seed);
    println!();
    println!(
        "{:<14} {:>8} {:>8} {:>8} {:>8}   (means over {} pictures; texture 1.0 = truth's)",
        "method",
        "PSNR dB",
        "SSIM",
        "texture",
        "s/Mpx",
        cases.len()
    );
    for column in &columns {
        if let Some(why) = &column.missing {
            println!("{:<14} missing: {why}", column.name);
            continue;
        }
        let done: Vec<&Scores> = column.scores.iter().flatten().collect();
        if done.is_empty() {
            println!("{:<14} no results", column.name);
            continue;
        }
        let mean =
            |f: fn(&Scores) -> f64| done.iter().map(|s| f(s)).sum::<f64>() / done.len() as f64;
        println!(
            "{:<14} {:>8.2} {:>8.3} {:>8.2} {:>8.2}",
            column.name,
            mean(|s| s.psnr),
            mean(|s| s.ssim),
            mean(|s| s.texture),
            mean(|s| s.seconds_per_mpx)
        );
    }
    Ok(())
}

/// Every photo crop with `holes_per_photo` silhouette holes.
fn cases(assets: &Assets, options: &InpaintBench) -> Result<Vec<Case>> {
    let (w, h) = options.size;
    let mut out = Vec::new();
    let mut state = options.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f32 / (1u64 << 53) as f32
    };
    for (p, (photo_name, photo)) in assets.photos().iter().enumerate() {
        let truth = photo_crop(photo, (w, h), 1.0, (0.5, 0.5));
        for k in 0..options.holes_per_photo {
            let index = p * options.holes_per_photo + k;
            let coverage = COVERAGES[index % COVERAGES.len()];
            let art = (index * 7 + 3) % assets.clipart_count();
            let centre = (0.25 + 0.5 * next(), 0.25 + 0.5 * next());
            let hole = silhouette(assets, art, coverage, centre, (w, h))?;
            let covered = hole.pixels().filter(|p| p.0[0] > MASK_THRESHOLD).count();
            out.push(Case {
                name: format!("{}#{}", photo_name.trim_end_matches(".jpg"), k + 1),
                truth: truth.clone(),
                hole,
                coverage: covered as f32 / (w * h) as f32,
            });
        }
    }
    if out.is_empty() {
        bail!("no pictures: the designs assets have no photos");
    }
    Ok(out)
}

/// Clip art `art` as a hole covering about `coverage` of a `size` picture around `centre`
/// (fractions of the picture), grown by two pixels.
fn silhouette(
    assets: &Assets,
    art: usize,
    coverage: f32,
    centre: (f32, f32),
    size: (u32, u32),
) -> Result<GrayImage> {
    let (w, h) = (size.0 as f32, size.1 as f32);
    let mut side = (coverage * w * h).sqrt();
    let mut mask = GrayImage::new(size.0, size.1);
    // The silhouette fills only part of its box: rescale twice towards the coverage.
    for _ in 0..3 {
        let rect = (
            centre.0 * w - side / 2.0,
            centre.1 * h - side / 2.0,
            side,
            side,
        );
        let layer = assets.clipart(art, rect, size)?;
        mask = GrayImage::from_fn(size.0, size.1, |x, y| {
            Luma([if layer.get_pixel(x, y).0[3] > 0 {
                255
            } else {
                0
            }])
        });
        mask = grow(&mask, 2);
        let covered = mask.pixels().filter(|p| p.0[0] > 0).count() as f32 / (w * h);
        if covered <= 0.0 {
            break;
        }
        side = (side * (coverage / covered).sqrt()).min(w.min(h) * 0.98);
    }
    Ok(mask)
}

/// The truth with the hole painted over (what a method gets to see).
fn damaged(case: &Case) -> RgbaImage {
    let mut image = case.truth.clone();
    for (x, y, m) in case.hole.enumerate_pixels() {
        if m.0[0] > MASK_THRESHOLD {
            image.put_pixel(x, y, Rgba([0, 0, 0, 255]));
        }
    }
    image
}

/// The picture's size in megapixels.
pub(super) fn mpx(case: &Case) -> f64 {
    f64::from(case.truth.width()) * f64::from(case.truth.height()) / 1e6
}

fn strata_column(cases: &[Case], seed: u64, keep: Option<&Path>) -> Result<Column> {
    let mut scores = Vec::new();
    for (k, case) in cases.iter().enumerate() {
        let input = damaged(case);
        let progress = Progress::new();
        let start = Instant::now();
        let filled = inpaint(&input, &case.hole, &progress.scoped(0.0, 1.0), seed)?;
        let seconds = start.elapsed().as_secs_f64();
        if let Some(dir) = keep {
            filled
                .save(dir.join(format!("{k}-strata.png")))
                .context("keeping the result")?;
        }
        scores.push(Some(score(
            &case.truth,
            &filled,
            &case.hole,
            seconds / mpx(case),
        )));
    }
    Ok(Column {
        name: "strata".into(),
        scores,
        missing: None,
    })
}

/// OpenCV's `cv2.inpaint` with `flag` `telea` or `ns`, radius 3 (OpenCV's own example's).
const OPENCV_SCRIPT: &str = r#"
import sys, time, cv2
src, mask, out, method = sys.argv[1:5]
image = cv2.imread(src, cv2.IMREAD_COLOR)
hole = cv2.imread(mask, cv2.IMREAD_GRAYSCALE)
flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
start = time.perf_counter()
result = cv2.inpaint(image, hole, 3, flag)
print(time.perf_counter() - start)
cv2.imwrite(out, result)
"#;

fn opencv_column(cases: &[Case], method: &str, scratch: &Path) -> Column {
    let name = format!("cv-{method}");
    let probe = Command::new("python3").args(["-c", "import cv2"]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        return Column::missing(
            name,
            "python3 with opencv-python (pip install opencv-python-headless) is not installed",
        );
    }
    peer_column(name, cases, scratch, |case, (src, mask, out)| {
        let output = Command::new("python3")
            .args(["-c", OPENCV_SCRIPT])
            .args([src, mask, out])
            .arg(method)
            .output()
            .context("running python3")?;
        peer_result(case, out, &output)
    })
}

/// A peer's column: `run` fills each case from its files (picture, mask, output path),
/// and a case it fails on is reported and left blank.
pub(super) fn peer_column(
    name: String,
    cases: &[Case],
    scratch: &Path,
    run: impl Fn(&Case, (&Path, &Path, &Path)) -> Result<Scores>,
) -> Column {
    let scores = cases
        .iter()
        .enumerate()
        .map(|(k, case)| {
            files(scratch, k, case)
                .and_then(|(src, mask, out)| run(case, (&src, &mask, &out)))
                .map_err(|e| eprintln!("{name} on {}: {e:#}", case.name))
                .ok()
        })
        .collect();
    Column {
        name,
        scores,
        missing: None,
    }
}

/// Peak memory of `strata inpaint` over that of `strata info` on the same picture (what
/// opening it costs), in units of the picture's RGBA bytes, and the whole process's peak in
/// the same units. Each command logs its peak resident memory (`VmHWM`) at `info` level as
/// its last act, so the figure is read from that line: no `/usr/bin/time` is needed.
///
/// Resident memory also counts what does not grow with the picture: the fill's code pages,
/// its threads' stacks, the libraries it loads. At 640×480 that is about three pictures'
/// worth, so the figure is also given less that fixed part, measured as the same
/// difference on a [`FIXED_SIDE`]-pixel square picture with a hole (whose pixels are
/// negligible). Both are printed: the first hides nothing, the second is what grows with
/// the picture.
fn print_memory(cases: &[Case], scratch: &Path, seed: u64) {
    let Ok(exe) = std::env::current_exe() else {
        return println!("peak memory: cannot find the strata executable");
    };
    let peak_kib = |args: &[&std::ffi::OsStr]| -> Option<f64> {
        let out = Command::new(&exe)
            .args(args)
            .env("RUST_LOG", "info")
            .output()
            .ok()?;
        out.status.success().then_some(())?;
        peak_from_log(&String::from_utf8_lossy(&out.stderr))
    };
    let fixed = fixed_kib(scratch, &peak_kib).unwrap_or(0.0);
    let (mut beyond, mut scaled, mut whole) = (Vec::new(), Vec::new(), Vec::new());
    for (k, case) in cases.iter().enumerate() {
        let Ok((src, mask, out)) = files(scratch, k, case) else {
            continue;
        };
        let seed = seed.to_string();
        let mut args = inpaint_args(&src, &mask, &out);
        args.extend([OsStr::new("--seed"), OsStr::new(&seed)]);
        let fill = peak_kib(&args);
        let open = peak_kib(&["info".as_ref(), src.as_os_str()]);
        if let (Some(fill), Some(open)) = (fill, open) {
            let bytes = 4.0 * mpx(case) * 1e6;
            beyond.push((fill - open).max(0.0) * 1024.0 / bytes);
            scaled.push((fill - open - fixed).max(0.0) * 1024.0 / bytes);
            whole.push(fill * 1024.0 / bytes);
        }
    }
    if beyond.is_empty() {
        println!("peak memory: not measured (no peak resident memory line in the log)");
        return;
    }
    let stats = |v: &[f64]| {
        let max = v.iter().copied().fold(0.0, f64::max);
        (v.iter().sum::<f64>() / v.len() as f64, max)
    };
    let ((mean, max), (whole_mean, whole_max)) = (stats(&beyond), stats(&whole));
    let (scaled_mean, scaled_max) = stats(&scaled);
    println!(
        "strata inpaint peak memory beyond opening the picture: mean {mean:.1}×, max {max:.1}× \
         the picture's RGBA bytes; less the command's fixed {:.1} MiB (code, threads, \
         libraries: the same difference on a {FIXED_SIDE}×{FIXED_SIDE} picture): mean \
         {scaled_mean:.1}×, max {scaled_max:.1}×; whole process: mean {whole_mean:.1}×, max \
         {whole_max:.1}× ({} pictures)",
        fixed / 1024.0,
        beyond.len()
    );
}

/// Side of the picture on which [`fixed_kib`] measures what `strata inpaint` costs
/// whatever the picture's size.
const FIXED_SIDE: u32 = 32;

/// The KiB by which `strata inpaint`'s peak exceeds `strata info`'s on a tiny picture with
/// a hole: the fill's code pages, threads and libraries, which do not grow with the
/// picture. `peak_kib` runs a command and reads its peak.
/// `strata inpaint SRC --mask MASK -o OUT`'s arguments.
fn inpaint_args<'a>(src: &'a Path, mask: &'a Path, out: &'a Path) -> Vec<&'a OsStr> {
    vec![
        "inpaint".as_ref(),
        src.as_os_str(),
        "--mask".as_ref(),
        mask.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]
}

fn fixed_kib(scratch: &Path, peak_kib: &dyn Fn(&[&std::ffi::OsStr]) -> Option<f64>) -> Option<f64> {
    let side = FIXED_SIDE;
    let src = scratch.join("fixed-in.png");
    let mask = scratch.join("fixed-mask.png");
    let out = scratch.join("fixed-out.png");
    // Grain, so the fill copies patches as it would on a photo; a quarter of it is hole.
    let picture = image::RgbImage::from_fn(side, side, |x, y| {
        let v = ((x * 37 + y * 91) % 64) as u8;
        image::Rgb([90 + v, 120 + v / 2, 60 + v])
    });
    let hole = GrayImage::from_fn(side, side, |x, y| {
        let inside = (side / 4..3 * side / 4).contains(&x) && (side / 4..3 * side / 4).contains(&y);
        Luma([if inside { 255 } else { 0 }])
    });
    picture.save(&src).ok()?;
    hole.save(&mask).ok()?;
    let fill = peak_kib(&inpaint_args(&src, &mask, &out))?;
    let open = peak_kib(&["info".as_ref(), src.as_os_str()])?;
    Some((fill - open).max(0.0))
}

/// The KiB of the `peak resident memory: N KiB` line a command logs at `info` level.
fn peak_from_log(stderr: &str) -> Option<f64> {
    let (_, rest) = stderr.rsplit_once("peak resident memory: ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Writes case `k`'s damaged picture and mask as PNGs; returns them and the output path.
fn files(
    scratch: &Path,
    k: usize,
    case: &Case,
) -> Result<(std::path::PathBuf, std::path::PathBuf, std::path::PathBuf)> {
    let src = scratch.join(format!("{k}-in.png"));
    let mask = scratch.join(format!("{k}-mask.png"));
    let out = scratch.join(format!("{k}-out.png"));
    let truth = scratch.join(format!("{k}-truth.png"));
    if !truth.exists() {
        case.truth.save(&truth).context("writing the truth")?;
    }
    if !src.exists() {
        image::DynamicImage::ImageRgba8(damaged(case))
            .to_rgb8()
            .save(&src)
            .context("writing the picture")?;
        case.hole.save(&mask).context("writing the mask")?;
    }
    let _ = std::fs::remove_file(&out);
    Ok((src, mask, out))
}

/// Scores a peer's output file, with the seconds it printed.
fn peer_result(case: &Case, out: &Path, output: &std::process::Output) -> Result<Scores> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    anyhow::ensure!(output.status.success(), "failed: {stderr}");
    let seconds: f64 = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .context("reading the time it printed")?;
    let filled = image::open(out).context("reading its result")?.to_rgba8();
    Ok(score(&case.truth, &filled, &case.hole, seconds / mpx(case)))
}
