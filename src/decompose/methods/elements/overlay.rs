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
use crate::model::pixels::BBox;

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
    let flat = erode(&drawn_pixels(field), w, h, FLAT_RADIUS);
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
    let hulls = hulls(&closed, w, h, close as f32);
    let area = hulls.iter().filter(|&&a| a).count();
    (area as f32 >= MIN_ART_SHARE * (w * h) as f32).then_some(hulls)
}

/// `mask` with its parts covered whole. Parts whose boxes lie within `join` pixels of one
/// another are taken as one piece of art: a shaded icon whose flat parts were found
/// piecemeal (a globe's continents and rim, between which its shaded ocean is not flat
/// enough to count) is covered by their convex hull, so no part of it is left in the photo
/// to be copied into the hole beneath it, and it comes out as one element. A lone part is
/// covered by its orthogonally convex hull, which keeps its outline's notches. Separate
/// pieces of art on a design rarely come that close.
fn hulls(mask: &[bool], w: usize, h: usize, join: f32) -> Vec<bool> {
    let labels = components::label(&to_mask(mask, w, h), 127);
    let parts = &labels.components;
    let mut group: Vec<usize> = (0..parts.len()).collect();
    let mut boxes: Vec<_> = parts.iter().map(|c| c.bbox).collect();
    // Joining two parts grows their box, which may then meet a third: repeat until stable.
    let mut joined = true;
    while joined {
        joined = false;
        for a in 0..parts.len() {
            for b in a + 1..parts.len() {
                let (ga, gb) = (group[a], group[b]);
                if ga != gb && boxes[ga].gap(&boxes[gb]) <= join {
                    boxes[ga] = boxes[ga].union(boxes[gb]);
                    for g in group.iter_mut().filter(|g| **g == gb) {
                        *g = ga;
                    }
                    joined = true;
                }
            }
        }
    }
    let mut out = mask.to_vec();
    for g in (0..parts.len()).filter(|&g| group[g] == g) {
        let members: Vec<usize> = (0..parts.len()).filter(|&k| group[k] == g).collect();
        let pixels = members
            .iter()
            .flat_map(|&k| &parts[k].pixels)
            .map(|&p| p as usize);
        if members.len() == 1 {
            orthogonal_hull(pixels, boxes[g], w, &mut out);
        } else {
            convex_hull(pixels, boxes[g], w, &mut out);
        }
    }
    out
}

/// Sets the orthogonally convex hull of `pixels` (inside `bbox`) in `out`: one part of art
/// keeps its own outline, concave notches and all, with only its inner gaps filled.
fn orthogonal_hull(pixels: impl Iterator<Item = usize>, bbox: BBox, w: usize, out: &mut [bool]) {
    let (x0, y0) = (bbox.x0 as usize, bbox.y0 as usize);
    let (bw, bh) = (bbox.width() as usize, bbox.height() as usize);
    let mut rows = vec![(usize::MAX, 0usize); bh];
    let mut cols = vec![(usize::MAX, 0usize); bw];
    for p in pixels {
        let (x, y) = (p % w, p / w);
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

/// Sets the convex hull of `pixels` (inside `bbox`) in `out`: parts of one piece of art
/// found apart (a globe's continents around its shaded ocean) are spread around what joins
/// them, which their orthogonal hull would leave out wherever no part lies above or below.
fn convex_hull(pixels: impl Iterator<Item = usize>, bbox: BBox, w: usize, out: &mut [bool]) {
    let (x0, y0) = (bbox.x0 as usize, bbox.y0 as usize);
    let bh = bbox.height() as usize;
    // Each row's two extreme pixels carry the hull.
    let mut rows = vec![(usize::MAX, 0usize); bh];
    for p in pixels {
        let (x, y) = (p % w, p / w);
        let r = &mut rows[y - y0];
        *r = (r.0.min(x), r.1.max(x));
    }
    let mut points: Vec<(i64, i64)> = Vec::new();
    for (dy, &(a, b)) in rows.iter().enumerate().filter(|(_, r)| r.0 <= r.1) {
        points.push((a as i64, (y0 + dy) as i64));
        points.push((b as i64, (y0 + dy) as i64));
    }
    let hull = monotone_chain(points);
    let inside = |x: i64, y: i64| {
        hull.len() >= 3
            && (0..hull.len()).all(|k| {
                let (a, b) = (hull[k], hull[(k + 1) % hull.len()]);
                (b.0 - a.0) * (y - a.1) - (b.1 - a.1) * (x - a.0) >= 0
            })
    };
    for y in y0..y0 + bh {
        for x in x0..bbox.x1 as usize {
            if inside(x as i64, y as i64) {
                out[y * w + x] = true;
            }
        }
    }
}

/// The convex hull of `points`, counter-clockwise in a y-down frame read as y-up (Andrew's
/// monotone chain), without collinear points.
fn monotone_chain(mut points: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    points.sort_unstable();
    points.dedup();
    if points.len() < 3 {
        return points;
    }
    let cross = |o: (i64, i64), a: (i64, i64), b: (i64, i64)| {
        (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
    };
    let mut hull: Vec<(i64, i64)> = Vec::with_capacity(points.len() + 1);
    for pass in 0..2 {
        let start = hull.len();
        let ordered: Box<dyn Iterator<Item = &(i64, i64)>> = if pass == 0 {
            Box::new(points.iter())
        } else {
            Box::new(points.iter().rev())
        };
        for &p in ordered {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0
            {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
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

/// Largest byte step of a renderer's quantized gradient (in units of a full channel): some
/// draw a gentle gradient in steps of several bytes in one channel (resvg, measured on a
/// button: red 50, 50, …, 46, …, 42 while green and blue move a byte a row), whose second
/// difference at each step is then the step itself, and not flat by [`flat_pixels`].
const GRADIENT_STEP: f32 = 6.0 / 255.0;
/// Half the run of pixels along which a quantized gradient must keep its direction.
const RUN: usize = 3;

/// The pixels that may belong to drawn art: flat ([`flat_pixels`]), or on a gradient
/// quantized in steps, where each channel runs one way (or stays) along the `2 RUN + 1`
/// pixels centred on the pixel, along its row and along its column, in steps of at most
/// [`GRADIENT_STEP`]. Grain turns back within a few pixels, and a photograph's smooth blur,
/// which may run one way a little further, seldom does so in every channel both ways; only
/// patches that pass all around for [`FLAT_RADIUS`] count, and they still need an outline.
fn drawn_pixels(field: &Field) -> Vec<bool> {
    let (w, h) = (field.width, field.height);
    let flat = flat_pixels(field);
    let d = &field.data;
    // Whether each channel runs one way along the `RUN` pixels at `i` spaced `step` apart.
    let monotone = |i: usize, step: usize| {
        (0..3).all(|k| {
            let (mut up, mut down) = (false, false);
            for r in 0..2 * RUN {
                let (a, b) = (
                    d[i + r * step - RUN * step][k],
                    d[i + (r + 1) * step - RUN * step][k],
                );
                let diff = b - a;
                if diff.abs() > GRADIENT_STEP {
                    return false;
                }
                up |= diff > 0.0;
                down |= diff < 0.0;
            }
            !(up && down)
        })
    };
    (0..w * h)
        .map(|i| {
            let (x, y) = (i % w, i / w);
            flat[i]
                || ((x < RUN || x + RUN >= w || monotone(i, 1))
                    && (y < RUN || y + RUN >= h || monotone(i, w)))
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

    /// A button shaded top to bottom the way tiny-skia draws a shallow gradient: its red
    /// channel steps 4 bytes every 6 rows, its green one byte every row or two.
    #[test]
    fn a_gradient_drawn_in_coarse_steps_is_art_and_grain_still_is_not() {
        let mut picture = photo(240, 160);
        for y in 40u32..100 {
            for x in 60..150 {
                let (r, g) = (200 - 4 * (y / 6), 160 - (2 * y) / 3);
                picture.put_pixel(x, y, image::Rgba([r as u8, g as u8, 90, 255]));
            }
        }
        let field = Field::from_image(&picture);
        let strict = flat_pixels(&field);
        let steps_flat = (41..99).filter(|&y| strict[y * 240 + 100]).count();
        assert!(
            steps_flat < 50,
            "the steps alone break a strict flatness test"
        );
        let art = drawn_art(&field).expect("the shaded button is drawn art");
        let at = |x: usize, y: usize| art[y * 240 + x];
        // The rows beside the card's first and last steps are no longer flat: its found
        // edge lies a few pixels in (the hole beneath is grown well beyond it anyway).
        assert!(at(100, 70) && at(64, 44) && at(146, 95));
        assert!(!at(20, 20) && !at(200, 130) && !at(100, 120));
        let loose = drawn_pixels(&field);
        let grain = (0..30).filter(|&x| loose[130 * 240 + 170 + x]).count();
        assert!(
            grain < 15,
            "grain passed as a drawn gradient at {grain} of 30 pixels"
        );
    }

    #[test]
    fn parts_close_together_are_covered_as_one_and_a_lone_part_keeps_its_notch() {
        let (w, h) = (160usize, 80usize);
        let mut mask = vec![false; w * h];
        let mut fill = |x0: usize, x1: usize, y0: usize, y1: usize| {
            for y in y0..y1 {
                for x in x0..x1 {
                    mask[y * w + x] = true;
                }
            }
        };
        // A "globe" found piecemeal: two blobs at the top and an arc at the bottom.
        fill(10, 20, 10, 20);
        fill(40, 50, 10, 20);
        fill(10, 50, 45, 50);
        // An L-shaped part far away.
        fill(100, 150, 10, 20);
        fill(100, 110, 20, 60);
        let covered = hulls(&mask, w, h, 30.0);
        let at = |x: usize, y: usize| covered[y * w + x];
        // Between the parts of the globe: covered, though no part lies above or below it.
        assert!(at(30, 30) && at(30, 15) && at(15, 35));
        // The L keeps its notch, and nothing between the two pieces is covered.
        assert!(at(105, 50) && at(140, 15));
        assert!(!at(130, 45) && !at(75, 30) && !at(5, 5));
        // Apart (join too small), the globe's middle stays open.
        let apart = hulls(&mask, w, h, 5.0);
        assert!(!apart[30 * w + 30]);
    }
}
