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
//!   on an image pyramid. It copies texture, so stripes stay stripes. Its coarsest level
//!   starts from a fill in Criminisi et al.'s (2004) priority order (`structure`), which
//!   carries edges and lines that cross the hole through it. Its result is then
//!   blended in the gradient domain (`blend`, Pérez et al. 2003), so it joins the known
//!   border without a seam.
//!
//! Each connected hole is filled on its own (largest first), on its bounding box plus a
//! margin, with a pyramid as deep as that hole needs. Levels with too many patches to search
//! get the coarser match field carried up, a cheap local polish and one voting step, which
//! copies real full-resolution pixels from the matched places (see `exemplar`): that keeps
//! 12-megapixel photos at a few seconds. Known pixels are never modified. Work runs on rayon
//! and checks for cancellation every few rows.
//!
//! Callers that lift objects off a picture pass their pixels, grown by a margin, as an
//! exclusion mask ([`inpaint_excluding`], [`grow`]): no patch is ever copied from there, so no
//! object (nor its halo) is duplicated into a hole.

mod blend;
mod canvas;
mod exemplar;
mod masks;
mod patch_distance;
mod patchmatch;
mod poisson;
mod span;
mod structure;
mod telea;
mod texture;
mod vote;

pub use self::masks::{MASK_THRESHOLD, grow};

use image::GrayImage;

use self::canvas::{Canvas, Mask};
use self::span::Span;
use self::telea::telea_window;
use crate::decompose::DecomposeError;
use crate::decompose::progress::ScopedProgress;
use crate::decompose::segment::components;
use crate::model::RgbaImage;
use crate::model::pixels::unpremultiply;

/// Holes whose every pixel is at most this far (chessboard distance) from a known pixel are
/// filled by Telea's method alone: patches would have nothing to add.
pub const THIN_RADIUS: u32 = 3;

/// Known pixels within Telea's averaging window.
const TELEA_RADIUS: usize = 5;

/// When the pixels a fill may copy from (neither hole nor excluded) are fewer than this share
/// of the picture, the whole hole gets the smooth fill instead: a handful of patches copied
/// over and over looks worse than a smooth guess.
pub const MIN_SOURCE_SHARE: f32 = 0.05;

/// A fill and what the caller should tell the person about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Filled {
    /// The picture with the hole filled; every other pixel unchanged.
    pub image: RgbaImage,
    /// Set when some or all of the hole got the smooth fill because there was too little to
    /// copy patches from.
    pub notice: Option<FillNotice>,
}

/// Why a fill fell back to the smooth method.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FillNotice {
    /// The hole (with the excluded pixels) covers almost the whole picture: only
    /// `source_share` of it (below [`MIN_SOURCE_SHARE`]) could be copied from.
    AlmostEverything { source_share: f32 },
    /// Some holes had no complete patch of usable pixels around them.
    NoPatches,
}

impl std::fmt::Display for FillNotice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FillNotice::AlmostEverything { source_share } => write!(
                f,
                "the hole covers almost the whole picture (only {:.1}% is left to copy from), \
                 so it got a smooth fill instead of copied texture",
                source_share * 100.0
            ),
            FillNotice::NoPatches => write!(
                f,
                "some holes had no whole patch of usable picture around them and got a \
                 smooth fill instead of copied texture"
            ),
        }
    }
}

/// Fills the pixels of `image` where `hole` is above 127 with content continued from the
/// rest of the picture, and returns the result; every other pixel is returned unchanged.
/// The same as [`inpaint_excluding`] with nothing excluded, without the notice.
///
/// # Errors
/// As [`inpaint_excluding`].
pub fn inpaint(
    image: &RgbaImage,
    hole: &GrayImage,
    progress: &ScopedProgress<'_>,
    seed: u64,
) -> Result<RgbaImage, DecomposeError> {
    inpaint_excluding(image, hole, None, progress, seed).map(|filled| filled.image)
}

/// Fills the pixels of `image` where `hole` is above 127, never copying from the pixels
/// where `exclude` is above 127 (objects about to be lifted off, with a margin: see
/// [`grow`]). Excluded pixels outside the hole are kept and still count as context the fill
/// must fit; they are only never a source of patches, nor of the smooth fill's colours.
///
/// Colours are filled in premultiplied form, so a hole surrounded by opaque pixels comes back
/// opaque and one next to transparency may come back partly transparent. `seed` drives the
/// randomised patch search: the same inputs and seed give the same output. When almost
/// nothing is left to copy from (see [`MIN_SOURCE_SHARE`]) the hole gets the smooth fill and
/// [`Filled::notice`] says so.
///
/// # Errors
/// [`DecomposeError::InvalidInput`] when a mask's size differs from the image's or the hole
/// covers every pixel (nothing to fill from); [`DecomposeError::Cancelled`] when `progress`
/// is cancelled.
pub fn inpaint_excluding(
    image: &RgbaImage,
    hole: &GrayImage,
    exclude: Option<&GrayImage>,
    progress: &ScopedProgress<'_>,
    seed: u64,
) -> Result<Filled, DecomposeError> {
    let mut out = image.clone();
    let notice = inpaint_in_place(&mut out, hole, exclude, progress, seed)?;
    Ok(Filled { image: out, notice })
}

/// [`inpaint_excluding`] writing into `image` itself and returning only the notice: for
/// callers that own the picture (the CLI), so the fill needs no second copy of it.
///
/// # Errors
/// As [`inpaint_excluding`]; `image` is then partly filled or untouched.
pub fn inpaint_in_place(
    image: &mut RgbaImage,
    hole: &GrayImage,
    exclude: Option<&GrayImage>,
    progress: &ScopedProgress<'_>,
    seed: u64,
) -> Result<Option<FillNotice>, DecomposeError> {
    for (what, mask) in [("hole", Some(hole)), ("exclusion", exclude)] {
        if let Some(mask) = mask.filter(|m| m.dimensions() != image.dimensions()) {
            return Err(DecomposeError::InvalidInput(format!(
                "the {what} mask is {}×{} but the image is {}×{}",
                mask.width(),
                mask.height(),
                image.width(),
                image.height()
            )));
        }
    }
    // The fill makes thousands of small parallel calls (a conjugate-gradient solve alone
    // makes a few per iteration). Called from a thread outside rayon's pool, as the CLI's
    // worker and the benchmark are, each of them would be handed to the pool and waited
    // for: two thread switches per call, which under load cost more than the work. Run on
    // one of the pool's threads, they split work directly.
    rayon::scope(|_| fill_components(image, hole, exclude, progress, seed))
}

/// [`inpaint_in_place`] after its checks, on a thread of rayon's pool.
fn fill_components(
    image: &mut RgbaImage,
    hole: &GrayImage,
    exclude: Option<&GrayImage>,
    progress: &ScopedProgress<'_>,
    seed: u64,
) -> Result<Option<FillNotice>, DecomposeError> {
    let span = Span::new(progress);
    // Each connected hole gets its own crop and pyramid: a pyramid deep enough for the
    // biggest hole would make a small one's patches at the coarse levels almost all context
    // (a dot next to text gets filled with text). Biggest first, so smaller holes nearby can
    // already use its fill as a source.
    let components::Labels {
        mut components,
        map,
        ..
    } = components::label(hole, MASK_THRESHOLD);
    // The components' pixels are held through every fill: as runs of consecutive pixels
    // an object-shaped hole costs a few runs a row, where its list of pixels cost four
    // bytes a hole pixel at the fill's peak. Each list is freed as soon as it is converted.
    let runs: Vec<Runs> = components
        .iter_mut()
        .map(|c| Runs::of(&std::mem::take(&mut c.pixels)))
        .collect();
    let total: usize = components.iter().map(|c| c.area).sum();
    if total == 0 {
        span.set(1.0, "nothing to fill");
        return Ok(None);
    }
    if total == map.len() {
        return Err(DecomposeError::InvalidInput(
            "the hole covers the whole image; there is nothing to fill it from".into(),
        ));
    }
    let excluded = exclude.map(|m| m.as_raw().as_slice());
    let usable = map
        .iter()
        .enumerate()
        .filter(|&(i, &l)| l == 0 && excluded.is_none_or(|e| e[i] <= MASK_THRESHOLD))
        .count();
    let source_share = usable as f32 / map.len() as f32;
    let smooth_only = source_share < MIN_SOURCE_SHARE;
    let mut notice = smooth_only.then_some(FillNotice::AlmostEverything { source_share });
    // The label map (four bytes a pixel) is done with: free it before the fill's buffers.
    // Which hole pixels are still unknown is the mask less the holes already filled, kept
    // as one bit a pixel.
    drop(map);
    let mut filled = Bits::new(hole.as_raw().len());

    let mut order: Vec<(&components::Component, &Runs)> = components.iter().zip(&runs).collect();
    order.sort_by_key(|(c, _)| (std::cmp::Reverse(c.area), c.label));
    let mut done = 0usize;
    for (k, (component, pixels)) in order.into_iter().enumerate() {
        let part = span.sub(
            done as f32 / total as f32,
            (done + component.area) as f32 / total as f32,
        );
        let job = HoleJob {
            hole: hole.as_raw(),
            filled: &filled,
            excluded,
            component,
            pixels,
            seed: seed.wrapping_add((k as u64).wrapping_mul(0x9E37_79B9)),
            smooth_only,
        };
        let fell_back = job.fill(image, &part)?;
        if fell_back && notice.is_none() {
            notice = Some(FillNotice::NoPatches);
        }
        for i in pixels.iter() {
            filled.set(i as usize);
        }
        done += component.area;
    }
    span.set(1.0, "filled");
    Ok(notice)
}

/// One connected hole to fill, and what it is filled from.
struct HoleJob<'a> {
    /// Picture-sized: the hole mask (above [`MASK_THRESHOLD`] is hole) ...
    hole: &'a [u8],
    /// ... less the pixels of the holes filled already: the rest is unknown to this fill.
    filled: &'a Bits,
    /// Picture-sized: pixels never copied from (above [`MASK_THRESHOLD`]).
    excluded: Option<&'a [u8]>,
    /// Its bounding box and area (its pixel list is emptied) ...
    component: &'a components::Component,
    /// ... and its pixels.
    pixels: &'a Runs,
    seed: u64,
    /// Use the smooth fill whatever the hole's size.
    smooth_only: bool,
}

impl HoleJob<'_> {
    /// Fills the pixels of the component in `out`, working on its bounding box plus a
    /// margin. Returns whether it had to fall back to the smooth fill for want of patches.
    fn fill(&self, out: &mut RgbaImage, span: &Span<'_>) -> Result<bool, DecomposeError> {
        let (width, height) = out.dimensions();
        let component = self.component;
        let b = component.bbox;
        // A margin about half the hole's size gives the patch search enough material around
        // it without dragging in the whole picture for a small hole.
        let margin = (b.width().max(b.height()) / 2).max(16);
        let cx0 = b.x0.saturating_sub(margin);
        let cy0 = b.y0.saturating_sub(margin);
        let cx1 = (b.x1 + margin).min(width);
        let cy1 = (b.y1 + margin).min(height);
        let (cw, ch) = (cx1 - cx0, cy1 - cy0);
        let canvas = Canvas::from_window(out, cx0, cy0, cw, ch);
        let at = (cx0 as usize, cy0 as usize);
        let size = (cw as usize, ch as usize);
        let pending = |i: usize| self.hole[i] > MASK_THRESHOLD && !self.filled.get(i);
        let mask = masks::window_of(pending, width as usize, at, size);
        let excluded = self
            .excluded
            .map(|e| masks::window_of(|i| e[i] > MASK_THRESHOLD, width as usize, at, size))
            .filter(|e| e.bits.iter().any(|&b| b));
        span.check()?;

        let radius = component_radius(component.bbox, self.pixels, width);
        let smooth = |mut canvas: Canvas| -> Result<Canvas, DecomposeError> {
            telea_window(&mut canvas, &mask, excluded.as_ref(), TELEA_RADIUS, span)?;
            Ok(canvas)
        };
        let (filled, fell_back) = if self.smooth_only || radius <= THIN_RADIUS {
            (Fill::Canvas(smooth(canvas)?), false)
        } else {
            match exemplar::exemplar_fill(
                canvas,
                &mask,
                excluded.as_ref(),
                radius,
                self.seed,
                span,
            )? {
                Ok(hole_pixels) => (Fill::Hole(hole_pixels), false),
                // No complete patch to copy from (a tiny or mostly-hole image): smooth fill.
                Err(untouched) => (Fill::Canvas(smooth(untouched)?), true),
            }
        };
        let local = |i: u32| {
            let (x, y) = (i % width, i / width);
            (x, y, (y - cy0) as usize * cw as usize + (x - cx0) as usize)
        };
        let mut put = |i: u32, v: canvas::Px| {
            let (x, y, _) = local(i);
            out.put_pixel(x, y, image::Rgba(unpremultiply(canvas::load(v))));
        };
        match filled {
            Fill::Canvas(canvas) => {
                for i in self.pixels.iter() {
                    put(i, canvas.px[local(i).2]);
                }
            }
            Fill::Hole(values) => {
                // The window's hole pixels, in scan order, with their values: the
                // component's pixels are among them, in the same order.
                let mut hole = (mask.bits.iter().enumerate())
                    .filter(|(_, b)| **b)
                    .map(|(j, _)| j)
                    .zip(values);
                for i in self.pixels.iter() {
                    let j = local(i).2;
                    if let Some((_, v)) = hole.find(|&(k, _)| k == j) {
                        put(i, v);
                    }
                }
            }
        }
        Ok(fell_back)
    }
}

/// What one hole's fill gives back.
enum Fill {
    /// Its whole canvas (the smooth fill's).
    Canvas(Canvas),
    /// Only the values of its window's hole pixels, in scan order (the exemplar fill's).
    Hole(Vec<canvas::Px>),
}

/// Pixel indices as runs of consecutive ones: (first, length), in scan order.
struct Runs(Vec<(u32, u32)>);

impl Runs {
    /// The runs of `pixels` (strictly increasing).
    fn of(pixels: &[u32]) -> Self {
        let mut runs: Vec<(u32, u32)> = Vec::new();
        for &i in pixels {
            match runs.last_mut() {
                Some((first, len)) if *first + *len == i => *len += 1,
                _ => runs.push((i, 1)),
            }
        }
        runs.shrink_to_fit();
        Self(runs)
    }

    /// The pixels, in scan order.
    fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().flat_map(|&(first, len)| first..first + len)
    }
}

/// A picture-sized set of pixels, one bit each.
struct Bits(Vec<u64>);

impl Bits {
    fn new(len: usize) -> Self {
        Self(vec![0; len.div_ceil(64)])
    }

    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    fn get(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
}

/// Largest chessboard distance from a pixel of a component (`pixels`, within `b`) to the
/// nearest pixel outside it.
fn component_radius(b: crate::model::BBox, pixels: &Runs, width: u32) -> u32 {
    // The bounding box plus a one-pixel frame, so the outside is always represented.
    let (x0, y0) = (i64::from(b.x0) - 1, i64::from(b.y0) - 1);
    let (w, h) = (b.width() as usize + 2, b.height() as usize + 2);
    let mut bits = vec![false; w * h];
    for i in pixels.iter() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_give_back_the_pixels_they_were_made_of() {
        let pixels = [3u32, 4, 5, 9, 20, 21, 22, 23, 40];
        let runs = Runs::of(&pixels);
        assert_eq!(runs.0, [(3, 3), (9, 1), (20, 4), (40, 1)]);
        assert_eq!(runs.iter().collect::<Vec<_>>(), pixels);
        assert_eq!(Runs::of(&[]).iter().count(), 0);
    }
}
