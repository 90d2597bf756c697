//! `strata inpaint`: fill the part of a picture that a mask marks, headless, with a progress
//! bar.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use image::{GrayImage, Luma};
use indicatif::{ProgressBar, ProgressStyle};
use strata::decompose::Progress;
use strata::decompose::inpaint::{self, FillNotice};
use strata::io::{self, ExportFormat};
use strata::model::{Document, RgbaImage, composite};

/// What `strata inpaint` was asked to do.
pub struct InpaintRequest<'a> {
    pub input: &'a Path,
    /// White (or, in a mask with transparency, opaque) marks the hole.
    pub mask: &'a Path,
    /// Read the same way: pixels never to copy from.
    pub exclude: Option<&'a Path>,
    pub output: &'a Path,
    pub seed: u64,
}

/// Fills the hole that `request.mask` marks in `request.input` and writes the PNG.
pub fn run(request: &InpaintRequest<'_>, limits: &io::Limits) -> Result<()> {
    let output = request.output;
    if ExportFormat::from_path(output) != Some(ExportFormat::FlatPng) {
        bail!(
            "{}: inpaint writes PNG; name the output *.png",
            output.display()
        );
    }
    let mut picture = flat(request.input, limits, "picture")?;
    let hole = read_mask(request.mask, &picture, request.input, limits)?;
    let exclude = match request.exclude {
        Some(path) => Some(read_mask(path, &picture, request.input, limits)?),
        None => None,
    };

    let bar = ProgressBar::new(1000);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {percent:>3}% {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let progress = Progress::new();
    // Filled in place: the picture is ours, and a copy would cost as much as the fill.
    let filled: Result<Result<Option<FillNotice>, _>> = std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            let scoped = progress.scoped(0.0, 1.0);
            inpaint::inpaint_in_place(&mut picture, &hole, exclude.as_ref(), &scoped, request.seed)
        });
        while !worker.is_finished() {
            bar.set_position((progress.fraction() * 1000.0) as u64);
            bar.set_message(progress.stage());
            std::thread::sleep(Duration::from_millis(50));
        }
        worker
            .join()
            .map_err(|_| anyhow::anyhow!("the fill stopped unexpectedly"))
    });
    bar.finish_and_clear();
    let notice =
        filled?.with_context(|| format!("{}: inpainting failed", request.input.display()))?;
    if let Some(notice) = notice {
        eprintln!("note: {notice}");
    }
    io::save_png(&picture, output)?;
    println!("wrote {}", output.display());
    Ok(())
}

/// The picture `path` shows (its layers composited), opened within `limits`.
fn flat(path: &Path, limits: &io::Limits, what: &str) -> Result<RgbaImage> {
    let mut doc: Document =
        io::open_with_limits(path, limits).with_context(|| format!("cannot open the {what}"))?;
    Ok(
        if doc.layers.len() == 1 && doc.layers[0].offset == Default::default() {
            // Moved out rather than cloned: a second copy of a big picture is what the
            // memory limit of `strata inpaint` cannot afford.
            let pixels = doc.layers.swap_remove(0).pixels;
            std::sync::Arc::try_unwrap(pixels).unwrap_or_else(|shared| (*shared).clone())
        } else {
            composite(&doc)
        },
    )
}

/// Reads mask `path` for `picture` (read from `picture_path`): see [`mask_from`].
fn read_mask(
    path: &Path,
    picture: &RgbaImage,
    picture_path: &Path,
    limits: &io::Limits,
) -> Result<GrayImage> {
    let image = flat(path, limits, "mask")?;
    if image.dimensions() != picture.dimensions() {
        bail!(
            "{}: the mask is {}×{} but the picture {} is {}×{}; they must be the same size",
            path.display(),
            image.width(),
            image.height(),
            picture_path.display(),
            picture.width(),
            picture.height()
        );
    }
    Ok(mask_from(&image))
}

/// A mask image as a hole mask (255 = hole). A mask with any transparency is read by its
/// alpha (a cut-out object is its own mask); an opaque one by its luminance (white on black,
/// as painted in any editor). Half-way values count as hole from 128 up.
pub fn mask_from(image: &RgbaImage) -> GrayImage {
    let transparent = image.pixels().any(|p| p.0[3] < 255);
    GrayImage::from_fn(image.width(), image.height(), |x, y| {
        let [r, g, b, a] = image.get_pixel(x, y).0;
        let value = if transparent {
            a
        } else {
            // Rec. 709 luma, integer weights summing to 10 000.
            ((2126 * u32::from(r) + 7152 * u32::from(g) + 722 * u32::from(b)) / 10_000) as u8
        };
        Luma([if value > inpaint::MASK_THRESHOLD {
            255
        } else {
            0
        }])
    })
}
