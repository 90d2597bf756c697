//! Designed elements drawn over a photograph: cards, bars, badges, buttons and clip art on a
//! photo background (a poster over a landscape, a banner over a product shot).
//!
//! Vector art is flat or smoothly shaded, so its second differences vanish to within the
//! rounding of its bytes, and it ends in a crisp outline; a photograph has grain and soft
//! focus even where it looks smooth, and where it is locally flat (a clear sky) the flatness
//! fades out instead of stopping at an edge. So the art is found as the flat patches of the
//! picture whose outline is mostly a sharp step; the photograph is inpainted beneath them
//! (and beneath a margin around them, where their shadows fall), and [`graphics::find`] then
//! separates the elements against that underlay exactly as it does on a designed backdrop:
//! panels with what sits on them, alpha unmixed against what lies below.

use image::{GrayImage, Luma};

use super::field::{Field, distance};
use super::graphics::{self, Thresholds, Window};
use super::plan::Plan;
use crate::decompose::inpaint::inpaint;
use crate::decompose::segment::components;
use crate::decompose::segment::morphology::{dilate, erode, fill_holes};
use crate::decompose::{DecomposeError, Progress};
use crate::model::RgbaImage;

/// Largest second difference (per channel, in units of a full channel) of a flat pixel:
/// a little over one byte step, so byte rounding of a gradient passes and grain does not.
const FLAT_CURVATURE: f32 = 1.2 / 255.0;
/// A flat pixel needs flat pixels all around it within this many pixels: grain that happens
/// to be flat for a pixel or two does not count.
const FLAT_RADIUS: usize = 2;
/// A colour step this large next to a patch's edge is a drawn outline.
const OUTLINE_STEP: f32 = 0.08;
/// How far (pixels) beyond a patch's eroded edge the outline is looked for.
const OUTLINE_REACH: usize = FLAT_RADIUS + 3;
/// Share of a patch's edge pixels that must lie on an outline. Low, because the parts of
/// one icon meet along shading rather than steps; a photograph's flat patches (sky, blown
/// highlights) have next to none.
const OUTLINE_SHARE: f32 = 0.12;
/// Art must cover at least this share of the picture to be worth separating.
pub const MIN_ART_SHARE: f32 = 0.004;

/// The element plans (bottom first) of art drawn over a photograph, or `None` when the
/// picture holds no such art. `bare` is the analysis copy with its text peeled off.
///
/// # Errors
/// [`DecomposeError::Cancelled`] when `progress` is cancelled.
pub fn elements(
    bare: &RgbaImage,
    seed: u64,
    progress: &Progress,
) -> Result<Option<Vec<Plan>>, DecomposeError> {
    let field = Field::from_image(bare);
    let (w, h) = (field.width, field.height);
    let Some(art) = drawn_art(&field) else {
        return Ok(None);
    };
    progress.check()?;
    // The art's shadows and anti-aliased rims lie within this reach of its flat patches.
    let reach = (w.max(h) / 60).max(4);
    let hole = dilate(&art, w, h, reach);
    let mask = to_mask(&hole, w, h);
    let photo = match inpaint(bare, &mask, &progress.scoped(0.35, 0.45), seed) {
        Ok(filled) => filled,
        Err(DecomposeError::Cancelled) => return Err(DecomposeError::Cancelled),
        // Art over (almost) the whole picture: nothing to continue the photo from.
        Err(_) => return Ok(None),
    };
    let underlay = Field::from_image(&photo);
    let seeds = dilate(&art, w, h, 2);
    let pieces = components::label(&to_mask(&seeds, w, h), 127).map;
    let window = Window {
        picture: &field,
        underlay: &underlay,
        region: &hole,
        pieces: Some(&pieces),
        origin: (0, 0),
    };
    let thresholds = Thresholds {
        strong: 0.03,
        // Above the inpainting's own mismatch with the photo around the art, which would
        // otherwise grow every element into a halo.
        weak: 0.02,
        min_area: (w * h / 20_000).max(12),
        reach: (w.max(h) / 100).max(3),
        // Clip art over a photo is often shaded: only a clearly flat body makes a panel.
        panel_seed: 0.4,
        shadows: false,
    };
    let mut plans = Vec::new();
    graphics::find(&window, thresholds, 0, &mut plans);
    Ok((!plans.is_empty()).then_some(plans))
}

/// The pixels of drawn art: flat patches with crisp outlines, closed and with their holes
/// filled (an icon's line work between its flat parts); `None` when there is too little.
fn drawn_art(field: &Field) -> Option<Vec<bool>> {
    let (w, h) = (field.width, field.height);
    let flat = erode(&flat_pixels(field), w, h, FLAT_RADIUS);
    let mask = to_mask(&flat, w, h);
    let labels = components::label(&mask, 127);
    let min_area = (w * h / 5000).max(40);
    let mut art = vec![false; w * h];
    for c in labels.components.iter().filter(|c| c.area >= min_area) {
        if outlined(field, &labels.map, c.label) {
            for &p in &c.pixels {
                art[p as usize] = true;
            }
        }
    }
    // Undo the erosion, then close the gaps between an icon's parts (its outline strokes,
    // its shaded parts) so that the hole under it holds the whole icon.
    let close = (w.max(h) / 96).max(3);
    let grown = dilate(&art, w, h, FLAT_RADIUS + close);
    let closed = fill_holes(&erode(&grown, w, h, close), w, h);
    let hulls = hulls(&closed, w, h);
    let area = hulls.iter().filter(|&&a| a).count();
    (area as f32 >= MIN_ART_SHARE * (w * h) as f32).then_some(hulls)
}

/// Each connected part of `mask` replaced by its orthogonally convex hull (the pixels
/// between its leftmost and rightmost pixel on their row and between its top and bottom
/// pixel in their column): a shaded icon whose flat parts were found piecemeal (a globe's
/// highlights and rim) is covered whole, so no part of it is left to be copied into the
/// hole beneath it.
fn hulls(mask: &[bool], w: usize, h: usize) -> Vec<bool> {
    let labels = components::label(&to_mask(mask, w, h), 127);
    let mut out = mask.to_vec();
    for c in &labels.components {
        let (x0, y0) = (c.bbox.x0 as usize, c.bbox.y0 as usize);
        let (bw, bh) = (c.bbox.width() as usize, c.bbox.height() as usize);
        let mut rows = vec![(usize::MAX, 0usize); bh];
        let mut cols = vec![(usize::MAX, 0usize); bw];
        for &p in &c.pixels {
            let (x, y) = (p as usize % w, p as usize / w);
            let r = &mut rows[y - y0];
            *r = (r.0.min(x), r.1.max(x));
            let k = &mut cols[x - x0];
            *k = (k.0.min(y), k.1.max(y));
        }
        for y in y0..y0 + bh {
            for x in x0..x0 + bw {
                let (r, k) = (rows[y - y0], cols[x - x0]);
                if (r.0..=r.1).contains(&x) && (k.0..=k.1).contains(&y) {
                    out[y * w + x] = true;
                }
            }
        }
    }
    out
}

/// `set` as a mask image (255 where set).
fn to_mask(set: &[bool], w: usize, h: usize) -> GrayImage {
    GrayImage::from_fn(w as u32, h as u32, |x, y| {
        Luma([if set[y as usize * w + x as usize] {
            255
        } else {
            0
        }])
    })
}

/// Pixels whose second differences, across and down, stay within [`FLAT_CURVATURE`].
pub(super) fn flat_pixels(field: &Field) -> Vec<bool> {
    let (w, h) = (field.width, field.height);
    let curvature = |a: [f32; 3], b: [f32; 3], c: [f32; 3]| {
        (0..3)
            .map(|k| (a[k] - 2.0 * b[k] + c[k]).abs())
            .fold(0.0f32, f32::max)
    };
    (0..w * h)
        .map(|i| {
            let (x, y) = (i % w, i / w);
            let p = field.data[i];
            let across = if x > 0 && x + 1 < w {
                curvature(field.data[i - 1], p, field.data[i + 1])
            } else {
                0.0
            };
            let down = if y > 0 && y + 1 < h {
                curvature(field.data[i - w], p, field.data[i + w])
            } else {
                0.0
            };
            across.max(down) <= FLAT_CURVATURE
        })
        .collect()
}

/// Whether most of component `label`'s edge pixels face a sharp colour step within
/// [`OUTLINE_REACH`] pixels outside the component (the picture border does not count).
fn outlined(field: &Field, map: &[u32], label: u32) -> bool {
    let (w, h) = (field.width, field.height);
    let inside = |x: usize, y: usize| map[y * w + x] == label;
    let mut edge = 0usize;
    let mut crisp = 0usize;
    for y in 0..h {
        for x in 0..w {
            if !inside(x, y) {
                continue;
            }
            let outward: Vec<(i64, i64)> = [(1, 0), (-1, 0), (0, 1), (0, -1)]
                .into_iter()
                .filter(|&(dx, dy)| {
                    let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                    nx >= 0
                        && ny >= 0
                        && nx < w as i64
                        && ny < h as i64
                        && !inside(nx as usize, ny as usize)
                })
                .collect();
            if outward.is_empty() {
                continue;
            }
            edge += 1;
            let p = field.data[y * w + x];
            let steps = outward.iter().any(|&(dx, dy)| {
                (1..=OUTLINE_REACH as i64).any(|d| {
                    let (nx, ny) = (x as i64 + dx * d, y as i64 + dy * d);
                    nx >= 0
                        && ny >= 0
                        && nx < w as i64
                        && ny < h as i64
                        && distance(p, field.data[ny as usize * w + nx as usize]) >= OUTLINE_STEP
                })
            });
            crisp += usize::from(steps);
        }
    }
    edge > 0 && crisp as f32 >= OUTLINE_SHARE * edge as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A "photograph": smooth shading plus deterministic grain of a few byte steps.
    fn photo(w: u32, h: u32) -> RgbaImage {
        RgbaImage::from_fn(w, h, |x, y| {
            let grain = ((x * 7919 + y * 104_729) % 7) as f32 - 3.0;
            let v = 90.0 + 60.0 * (x as f32 / w as f32) + 20.0 * (y as f32 / 37.0).sin() + grain;
            image::Rgba([v as u8, (v * 0.9) as u8, (v * 0.7) as u8, 255])
        })
    }

    #[test]
    fn flat_outlined_art_is_found_and_grain_is_not() {
        let mut picture = photo(240, 160);
        assert!(drawn_art(&Field::from_image(&picture)).is_none());
        for y in 40..100 {
            for x in 60..150 {
                picture.put_pixel(x, y, image::Rgba([240, 60, 40, 255]));
            }
        }
        let art = drawn_art(&Field::from_image(&picture)).expect("the card is drawn art");
        let at = |x: usize, y: usize| art[y * 240 + x];
        assert!(at(100, 70) && at(61, 41) && at(148, 98));
        assert!(!at(20, 20) && !at(200, 130) && !at(100, 120));
    }
}
