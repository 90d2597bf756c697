//! Inpainting: filling a masked part of a picture with plausible content from the rest, so
//! that moving an object off the background reveals background rather than a hole.
//!
//! Two classical methods, both written here from their papers (no inpainting crate with a
//! licence that fits this project exists, and no code from other projects is copied):
//!
//! * `telea` — Telea's fast-marching method (2004): smooth, fast, right for thin gaps (at
//!   most [`THIN_RADIUS`] pixels from known pixels), and the initial guess of the other one.
//! * `exemplar` — exemplar-based fill for object-sized holes: PatchMatch (Barnes et al.
//!   2009) nearest-neighbour fields inside Wexler et al.'s (2007) EM iteration, coarse to fine
//!   on an image pyramid. It copies texture, so stripes stay stripes.
//!
//! Each connected hole is filled on its own (largest first), on its bounding box plus a
//! margin, with a pyramid as deep as that hole needs. Levels with too many patches to search
//! get the coarser match field carried up, a cheap local polish and one voting step, which
//! copies real full-resolution pixels from the matched places (see `exemplar`): that keeps
//! 12-megapixel photos at a few seconds. Known pixels are never modified. Work runs on rayon
//! and checks for cancellation every few rows.

mod canvas;
mod exemplar;
mod patchmatch;
mod span;
mod telea;

use image::GrayImage;

use self::canvas::{Canvas, Mask};
use self::span::Span;
use crate::decompose::DecomposeError;
use crate::decompose::progress::ScopedProgress;
use crate::decompose::segment::components::{self, Component};
use crate::model::RgbaImage;
use crate::model::pixels::unpremultiply;

/// Holes whose every pixel is at most this far (chessboard distance) from a known pixel are
/// filled by Telea's method alone: patches would have nothing to add.
pub const THIN_RADIUS: u32 = 3;

/// Known pixels within Telea's averaging window.
const TELEA_RADIUS: usize = 5;

/// Fills the pixels of `image` where `hole` is above 127 with content continued from the
/// rest of the picture, and returns the result; every other pixel is returned unchanged.
///
/// Colours are filled in premultiplied form, so a hole surrounded by opaque pixels comes back
/// opaque and one next to transparency may come back partly transparent. `seed` drives the
/// randomised patch search: the same inputs and seed give the same output.
///
/// # Errors
/// [`DecomposeError::InvalidInput`] when the mask's size differs from the image's or the hole
/// covers every pixel (nothing to fill from); [`DecomposeError::Cancelled`] when `progress`
/// is cancelled.
pub fn inpaint(
    image: &RgbaImage,
    hole: &GrayImage,
    progress: &ScopedProgress<'_>,
    seed: u64,
) -> Result<RgbaImage, DecomposeError> {
    if image.dimensions() != hole.dimensions() {
        return Err(DecomposeError::InvalidInput(format!(
            "the hole mask is {}×{} but the image is {}×{}",
            hole.width(),
            hole.height(),
            image.width(),
            image.height()
        )));
    }
    let span = Span::new(progress);
    // Each connected hole gets its own crop and pyramid: a pyramid deep enough for the
    // biggest hole would make a small one's patches at the coarse levels almost all context
    // (a dot next to text gets filled with text). Biggest first, so smaller holes nearby can
    // already use its fill as a source.
    let labels = components::label(hole, 127);
    let total: usize = labels.components.iter().map(|c| c.area).sum();
    if total == 0 {
        span.set(1.0, "nothing to fill");
        return Ok(image.clone());
    }
    if total == labels.map.len() {
        return Err(DecomposeError::InvalidInput(
            "the hole covers the whole image; there is nothing to fill it from".into(),
        ));
    }
    let mut order: Vec<&Component> = labels.components.iter().collect();
    order.sort_by_key(|c| (std::cmp::Reverse(c.area), c.label));
    let mut pending: Vec<bool> = labels.map.iter().map(|&l| l != 0).collect();
    let mut out = image.clone();
    let mut done = 0usize;
    for (k, component) in order.into_iter().enumerate() {
        let part = span.sub(
            done as f32 / total as f32,
            (done + component.area) as f32 / total as f32,
        );
        let component_seed = seed.wrapping_add((k as u64).wrapping_mul(0x9E37_79B9));
        fill_component(&mut out, &pending, component, component_seed, &part)?;
        for &i in &component.pixels {
            pending[i as usize] = false;
        }
        done += component.area;
    }
    span.set(1.0, "filled");
    Ok(out)
}

/// Fills the pixels of one hole `component` of `out`, working on its bounding box plus a
/// margin; other `pending` (not yet filled) pixels in that window are treated as unknown.
fn fill_component(
    out: &mut RgbaImage,
    pending: &[bool],
    component: &Component,
    seed: u64,
    span: &Span<'_>,
) -> Result<(), DecomposeError> {
    let (width, height) = out.dimensions();
    let b = component.bbox;
    // A margin about half the hole's size gives the patch search enough material around it
    // without dragging in the whole picture for a small hole.
    let margin = (b.width().max(b.height()) / 2).max(16);
    let cx0 = b.x0.saturating_sub(margin);
    let cy0 = b.y0.saturating_sub(margin);
    let cx1 = (b.x1 + margin).min(width);
    let cy1 = (b.y1 + margin).min(height);
    let (cw, ch) = (cx1 - cx0, cy1 - cy0);
    let mut canvas = Canvas::from_window(out, cx0, cy0, cw, ch);
    let mut bits = Vec::with_capacity(cw as usize * ch as usize);
    for y in cy0..cy1 {
        let row = (y * width) as usize;
        bits.extend_from_slice(&pending[row + cx0 as usize..row + cx1 as usize]);
    }
    let mask = Mask {
        width: cw as usize,
        height: ch as usize,
        bits,
    };
    span.check()?;

    let radius = component_radius(component, width);
    let filled = if radius <= THIN_RADIUS {
        telea::telea(&mut canvas, &mask, TELEA_RADIUS, span)?;
        canvas
    } else {
        match exemplar::exemplar_fill(canvas, &mask, radius, seed, span)? {
            Ok(filled) => filled,
            Err(mut untouched) => {
                // No complete patch to copy from (a tiny or mostly-hole image): smooth fill.
                telea::telea(&mut untouched, &mask, TELEA_RADIUS, span)?;
                untouched
            }
        }
    };
    for &i in &component.pixels {
        let (x, y) = (i % width, i / width);
        let local = (y - cy0) as usize * cw as usize + (x - cx0) as usize;
        out.put_pixel(x, y, image::Rgba(unpremultiply(filled.px[local])));
    }
    Ok(())
}

/// Largest chessboard distance from a pixel of `component` to the nearest pixel outside it.
fn component_radius(component: &Component, width: u32) -> u32 {
    let b = component.bbox;
    // The bounding box plus a one-pixel frame, so the outside is always represented.
    let (x0, y0) = (i64::from(b.x0) - 1, i64::from(b.y0) - 1);
    let (w, h) = (b.width() as usize + 2, b.height() as usize + 2);
    let mut bits = vec![false; w * h];
    for &i in &component.pixels {
        let (x, y) = (i64::from(i % width), i64::from(i / width));
        bits[(y - y0) as usize * w + (x - x0) as usize] = true;
    }
    let mask = Mask {
        width: w,
        height: h,
        bits,
    };
    mask.distance_to_known()
        .into_iter()
        .zip(&mask.bits)
        .filter(|&(_, &b)| b)
        .map(|(d, _)| d)
        .max()
        .unwrap_or(0)
}
