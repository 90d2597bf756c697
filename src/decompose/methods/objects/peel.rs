//! One round of the `objects` method: find the salient objects of a picture, lift them onto
//! their own layers and inpaint the picture behind them.

use super::guided::{GuidedCoeffs, RgbPlane};
use image::GrayImage;

use super::layers::{self, FullMatte, ObjectLayer, over_white, remap};
use super::select;
use crate::decompose::inpaint;
use crate::decompose::nn::u2net::{self, Matte};
use crate::decompose::progress::ScopedProgress;
use crate::decompose::{DecomposeError, Progress};
use crate::model::RgbaImage;

/// Longest side of the working resolution of the guided filter and object selection.
pub const WORKING_SIDE: u32 = 1024;
/// Guided-filter regularisation (colours in `0..=1`): small enough to follow colour edges,
/// large enough not to copy texture into the matte.
pub const GUIDED_EPS: f32 = 1e-3;
/// The network's raw output must reach this somewhere for a round to look for objects: a
/// plain picture, or a background whose objects are gone, peaks far below (≈ 0.01).
pub const MIN_PEAK: f32 = 0.25;

/// What one round produced.
pub struct Peeled {
    /// The picture with the objects' pixels replaced by inpainted background.
    pub background: RgbaImage,
    /// The objects, cropped, most salient first; labels `1..`.
    pub objects: Vec<ObjectLayer>,
}

/// Finds at most `max_objects` salient objects in `picture` and separates them; `None` when
/// the network sees nothing salient. Progress runs over `range` of `progress`.
pub fn peel(
    picture: &RgbaImage,
    max_objects: usize,
    seed: u64,
    progress: &Progress,
    range: (f32, f32),
) -> Result<Option<Peeled>, DecomposeError> {
    let at = |f: f32| range.0 + (range.1 - range.0) * f;
    progress.set(at(0.0), "finding salient objects");
    progress.check()?;
    let Some(refined) = refine(picture)? else {
        return Ok(None);
    };
    let (coeffs, refined) = refined;
    progress.check()?;
    let selection = select::select(&refined, max_objects);
    if selection.objects.is_empty() {
        return Ok(None);
    }
    progress.set(at(0.35), "cutting out objects");
    let matte = layers::full_matte(picture, &coeffs, &selection, progress)?;
    drop(coeffs);
    if matte.alpha.iter().all(|&a| a == 0) {
        return Ok(None);
    }

    progress.set(at(0.4), "filling in the background");
    let (w, h) = picture.dimensions();
    let hole = layers::hole_mask(&matte, hole_margin(w, h));
    let exclude = exclusion_mask(&refined, &matte, 2 * hole_margin(w, h) as u32 + 2);
    progress.check()?;
    let scoped: ScopedProgress<'_> = progress.scoped(at(0.4), at(0.9));
    let filled = inpaint::inpaint_excluding(picture, &hole, Some(&exclude), &scoped, seed);
    drop(exclude);
    let mut background = match filled {
        Ok(filled) => filled.image,
        // The objects cover the whole picture: there is nothing to fill from.
        Err(DecomposeError::InvalidInput(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    drop(hole);

    progress.set(at(0.9), "separating layers");
    let count = selection.objects.len() as u8;
    let objects = layers::split(picture, &mut background, &matte, count, progress)?;
    Ok(Some(Peeled {
        background,
        objects,
    }))
}

/// Runs the network on `picture` and refines its matte with the guided filter. Returns the
/// filter coefficients (for full resolution) and the refined matte at working resolution,
/// or `None` when the network's peak is below [`MIN_PEAK`].
pub fn refine(picture: &RgbaImage) -> Result<Option<(GuidedCoeffs, Matte)>, DecomposeError> {
    let mut saliency = u2net::saliency_raw(picture)?;
    if saliency.min_max().1 < MIN_PEAK {
        return Ok(None);
    }
    saliency.normalize_min_max();
    let (lw, lh) = working_size(picture.width(), picture.height());
    let guide = guide_plane(picture, lw, lh);
    let coarse = saliency.resized(lw, lh);
    let coeffs = GuidedCoeffs::fit(&guide, &coarse, guided_radius(lw, lh), GUIDED_EPS);
    let mut refined = coeffs.apply(&guide);
    refined.values.iter_mut().for_each(|v| *v = remap(*v));
    Ok(Some((coeffs, refined)))
}

/// Remapped saliency at or above this marks an object for the exclusion mask, selected or
/// not: a salient part left on the background (the astronaut's fuel tank) must not be
/// copied into the hole either.
const SALIENT: f32 = 0.5;

/// The pixels the fill must never copy from: every object pixel of `matte`, every salient
/// pixel of the working-resolution `refined` matte, grown by `margin` so the objects' soft
/// edges and halos stay out too. 255 = excluded.
fn exclusion_mask(refined: &Matte, matte: &FullMatte, margin: u32) -> GrayImage {
    let (w, h) = (matte.width, matte.height);
    let cell = |i: u32, n: u32, src: u32| {
        (((u64::from(i) * 2 + 1) * u64::from(src) / (2 * u64::from(n))) as usize)
            .min(src.saturating_sub(1) as usize)
    };
    let lx: Vec<usize> = (0..w).map(|x| cell(x, w, refined.width)).collect();
    let lw = refined.width as usize;
    let mut mask = GrayImage::new(w, h);
    for (y, row) in mask.chunks_mut(w as usize).enumerate() {
        let ly = cell(y as u32, h, refined.height);
        let alpha = &matte.alpha[y * w as usize..(y + 1) * w as usize];
        for (x, v) in row.iter_mut().enumerate() {
            let salient = refined
                .values
                .get(ly * lw + lx[x])
                .is_some_and(|&s| s >= SALIENT);
            if salient || alpha[x] > 0 {
                *v = 255;
            }
        }
    }
    inpaint::grow(&mask, margin)
}

/// The picture's size scaled down (never up) so its longer side is at most [`WORKING_SIDE`].
fn working_size(w: u32, h: u32) -> (u32, u32) {
    let longest = w.max(h);
    if longest <= WORKING_SIDE {
        return (w, h);
    }
    let s = f64::from(WORKING_SIDE) / f64::from(longest);
    let scale = |v: u32| ((f64::from(v) * s).round() as u32).max(1);
    (scale(w), scale(h))
}

/// Guided-filter window radius at the working resolution: about 2.5 network pixels, the
/// width of the blur that upsampling the 320×320 matte leaves on an edge.
fn guided_radius(lw: u32, lh: u32) -> usize {
    let net_px = f64::from(lw.max(lh)) / f64::from(u2net::INPUT_SIZE);
    ((2.5 * net_px).round() as usize).max(2)
}

/// How far the inpainting hole reaches beyond the objects, in full-resolution pixels.
fn hole_margin(w: u32, h: u32) -> usize {
    2 + (w.max(h) / 400) as usize
}

/// The picture composited over white, area-averaged down to `lw × lh`.
fn guide_plane(image: &RgbaImage, lw: u32, lh: u32) -> RgbPlane {
    let (w, h) = image.dimensions();
    let span = |i: u32, n: u32, src: u32| {
        let lo = (u64::from(i) * u64::from(src) / u64::from(n)) as u32;
        let hi = (u64::from(i + 1) * u64::from(src)).div_ceil(u64::from(n)) as u32;
        (lo, hi.clamp(lo + 1, src))
    };
    let mut pixels = Vec::with_capacity(lw as usize * lh as usize);
    for ly in 0..lh {
        let (y0, y1) = span(ly, lh, h);
        for lx in 0..lw {
            let (x0, x1) = span(lx, lw, w);
            let mut sum = [0f32; 3];
            for y in y0..y1 {
                for x in x0..x1 {
                    let c = over_white(image.get_pixel(x, y).0);
                    for k in 0..3 {
                        sum[k] += c[k];
                    }
                }
            }
            let n = ((y1 - y0) * (x1 - x0)) as f32;
            pixels.push(sum.map(|s| s / n));
        }
    }
    RgbPlane {
        width: lw,
        height: lh,
        pixels,
    }
}
