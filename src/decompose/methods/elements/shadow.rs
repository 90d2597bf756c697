//! Drop shadows of a design's elements. A soft shadow is smooth, so the backdrop fit, which
//! takes in whatever lies close to its smooth model round after round, takes the shadow in
//! as backdrop: the element comes out without it and a dark ghost of it stays in the
//! background (a card's shadow under a card that has been moved away).
//!
//! So around each element the page is fitted again on a ring beyond the shadow's reach:
//! continued into the band inside that ring, it is the page without the shadow. Band pixels
//! that read as that page darkened towards black (the colour of a shadow, whatever the
//! page's colour) and connect to the element join it, with the shadow-free page as their
//! underlay (a pixel two elements could claim goes to the first); peeling then unmixes them
//! as a shadow of the element's own layer, as a designer would have drawn it.

use super::field::{Field, Rgb};
use super::graphics::grow;
use super::plan::{Plan, project};
use crate::decompose::segment::morphology::dilate;
use crate::model::pixels::BBox;

/// Least darkening (share of the page's colour taken away) read as shadow: below it, the
/// difference is within what continuing the page across the band gets wrong.
const MIN_DARKENING: f32 = 0.008;
/// Largest departure from a pure darkening, relative to the darkening itself: a shadow
/// keeps the page's hue, a coloured element or a gradient's turn does not.
const MAX_HUE_SHIFT: f32 = 0.35;
/// Fewest shadow pixels, as a share of the element's box half-perimeter, for the element to
/// have a shadow at all (fewer are the page model's own errors along an edge).
const MIN_SHADOW_EXTENT: f32 = 1.0;

/// Gives the plans at indices `top` (the elements on the page of `picture`) the shadows
/// around them, up to `reach` analysis pixels from their pixels.
pub fn attach(picture: &Field, plans: &mut [Plan], top: &[usize], reach: usize) {
    let (w, h) = (picture.width, picture.height);
    if w == 0 || h == 0 || reach == 0 {
        return;
    }
    // Pixels of any element, and pixels already given to a shadow: never another's shadow.
    let mut taken = vec![false; w * h];
    for plan in plans.iter() {
        for_mask(plan, w, |g| taken[g] = true);
    }
    for &index in top {
        let Some((shadow, page)) = find_shadow(picture, &plans[index], &taken, reach) else {
            continue;
        };
        for &g in &shadow {
            taken[g] = true;
        }
        extend(&mut plans[index], &shadow, &page, w);
    }
}

/// The shadow of `plan` (picture indices) and the page beneath it, a box of the picture
/// around the plan: `None` when it has none worth a layer's pixels.
fn find_shadow(
    picture: &Field,
    plan: &Plan,
    taken: &[bool],
    reach: usize,
) -> Option<(Vec<usize>, Page)> {
    let (w, h) = (picture.width, picture.height);
    let b = plan.bbox;
    let margin = 2 * reach as u32 + 1;
    let area = BBox::new(
        b.x0.saturating_sub(margin),
        b.y0.saturating_sub(margin),
        (b.x1 + margin).min(w as u32),
        (b.y1 + margin).min(h as u32),
    );
    let (aw, ah) = (area.width() as usize, area.height() as usize);
    let global = |li: usize| (area.y0 as usize + li / aw) * w + area.x0 as usize + li % aw;
    let mut own = vec![false; aw * ah];
    for_mask(plan, w, |g| {
        let (x, y) = ((g % w) as u32 - area.x0, (g / w) as u32 - area.y0);
        own[y as usize * aw + x as usize] = true;
    });
    let near = dilate(&own, aw, ah, reach);
    let around = dilate(&own, aw, ah, 2 * reach);
    // The page is fitted on a ring beyond the shadow's reach, where it shows as it is.
    let ring: Vec<usize> = (0..aw * ah)
        .filter(|&li| around[li] && !near[li] && !taken[global(li)])
        .collect();
    let page = Page::fit(picture, area, &ring)?;
    let candidate: Vec<bool> = (0..aw * ah)
        .map(|li| {
            near[li] && !taken[global(li)] && is_shadow(picture.data[global(li)], page.at(li))
        })
        .collect();
    let mut owner: Vec<u32> = own.iter().map(|&o| u32::from(o)).collect();
    grow(&mut owner, &candidate, aw, ah, reach);
    let shadow: Vec<usize> = (0..aw * ah)
        .filter(|&li| owner[li] != 0 && !own[li])
        .collect();
    let extent = MIN_SHADOW_EXTENT * (b.width() + b.height()) as f32;
    if (shadow.len() as f32) < extent {
        return None;
    }
    Some((shadow.into_iter().map(global).collect(), page))
}

/// Whether `p` reads as `page` darkened towards black by at least [`MIN_DARKENING`].
pub(super) fn is_shadow(p: Rgb, page: Rgb) -> bool {
    let uu: f32 = page.iter().map(|v| v * v).sum();
    if uu < 1e-4 {
        return false;
    }
    // p ≈ (1 − a)·page: a is the share taken away, the rest is a change of hue.
    let (a, off) = project(p, page, [0.0; 3]);
    a >= MIN_DARKENING && off.sqrt() <= MAX_HUE_SHIFT * a * uu.sqrt()
}

/// Calls `f` with the picture index of every mask pixel of `plan` (`w`: picture width).
fn for_mask(plan: &Plan, w: usize, mut f: impl FnMut(usize)) {
    let b = plan.bbox;
    let bw = b.width() as usize;
    for (li, _) in plan.mask.iter().enumerate().filter(|(_, m)| **m) {
        f((b.y0 as usize + li / bw) * w + b.x0 as usize + li % bw);
    }
}

/// Adds the `shadow` pixels (picture indices) to `plan`, growing its box: they are unmixed
/// as black over `page`, which also becomes the plan's underlay everywhere, so that the
/// background left under the element is the page without its shadow.
fn extend(plan: &mut Plan, shadow: &[usize], page: &Page, w: usize) {
    let old = plan.bbox;
    let Some(grown) = BBox::enclosing(shadow.iter().map(|&i| ((i % w) as u32, (i / w) as u32)))
    else {
        return;
    };
    let b = old.union(grown);
    let (bw, bh) = (b.width() as usize, b.height() as usize);
    let (ow, oh) = (old.width() as usize, old.height() as usize);
    let mut mask = vec![false; bw * bh];
    let mut solid = vec![false; bw * bh];
    let mut colour = Field::filled(bw, bh, [0.0; 3]);
    let underlay = Field::from_fn(bw, bh, |x, y| {
        page.at_xy(b.x0 as usize + x, b.y0 as usize + y)
    });
    let (dx, dy) = ((old.x0 - b.x0) as usize, (old.y0 - b.y0) as usize);
    for y in 0..oh {
        for x in 0..ow {
            let (src, dst) = (y * ow + x, (y + dy) * bw + x + dx);
            mask[dst] = plan.mask[src];
            solid[dst] = plan.solid[src];
            colour.data[dst] = plan.colour.data[src];
        }
    }
    for &i in shadow {
        let (x, y) = (i % w - b.x0 as usize, i / w - b.y0 as usize);
        mask[y * bw + x] = true;
    }
    plan.bbox = b;
    plan.mask = mask;
    plan.solid = solid;
    plan.colour = colour;
    plan.underlay = underlay;
}

/// Fewest ring pixels the page is fitted on.
const MIN_RING: usize = 30;

/// A smooth model of the page over a box of the picture: per channel a quadratic in x and
/// y (a linear gradient exactly, a radial one closely over an element's surroundings),
/// clamped to the range of the pixels it was fitted on, so that it cannot overshoot under
/// a wide element.
struct Page {
    area: BBox,
    centre: (f64, f64),
    scale: f64,
    coeffs: [[f64; 6]; 3],
    lo: Rgb,
    hi: Rgb,
}

impl Page {
    /// Fits the page on the `ring` pixels (indices into `area`), twice: the second time
    /// without the pixels the first fit explains worst (a neighbour's edge in the ring).
    fn fit(picture: &Field, area: BBox, ring: &[usize]) -> Option<Self> {
        if ring.len() < MIN_RING {
            return None;
        }
        let aw = area.width() as usize;
        let mut page = Page {
            area,
            centre: (
                f64::from(area.x0 + area.x1) / 2.0,
                f64::from(area.y0 + area.y1) / 2.0,
            ),
            scale: f64::from(area.width().max(area.height()).max(2)) / 2.0,
            coeffs: [[0.0; 6]; 3],
            lo: [0.0; 3],
            hi: [1.0; 3],
        };
        let pixel = |li: usize| {
            let (x, y) = (area.x0 as usize + li % aw, area.y0 as usize + li / aw);
            ((x, y), picture.data[y * picture.width + x])
        };
        let mut used: Vec<usize> = ring.to_vec();
        for round in 0..2 {
            let mut ata = [[0.0f64; 6]; 6];
            let mut atb = [[0.0f64; 6]; 3];
            for &li in &used {
                let ((x, y), p) = pixel(li);
                let t = page.terms(x, y);
                for r in 0..6 {
                    for c in 0..6 {
                        ata[r][c] += t[r] * t[c];
                    }
                    for ch in 0..3 {
                        atb[ch][r] += t[r] * f64::from(p[ch]);
                    }
                }
            }
            for (ch, rhs) in atb.iter().enumerate() {
                page.coeffs[ch] = solve6(ata, *rhs)?;
            }
            if round == 0 {
                let mut errors: Vec<(f32, usize)> = used
                    .iter()
                    .map(|&li| {
                        let ((x, y), p) = pixel(li);
                        (super::field::distance(p, page.raw(x, y)), li)
                    })
                    .collect();
                errors.sort_by(|a, b| a.0.total_cmp(&b.0));
                let median = errors[errors.len() / 2].0;
                let cut = (3.0 * median).max(2.0 / 255.0);
                used = errors
                    .into_iter()
                    .filter(|&(e, _)| e <= cut)
                    .map(|(_, li)| li)
                    .collect();
                if used.len() < MIN_RING {
                    return None;
                }
            }
        }
        let mut lo = [1.0f32; 3];
        let mut hi = [0.0f32; 3];
        for &li in &used {
            let (_, p) = pixel(li);
            for c in 0..3 {
                lo[c] = lo[c].min(p[c]);
                hi[c] = hi[c].max(p[c]);
            }
        }
        page.lo = lo;
        page.hi = hi;
        Some(page)
    }

    /// The model's terms at picture pixel (`x`, `y`).
    fn terms(&self, x: usize, y: usize) -> [f64; 6] {
        let u = (x as f64 + 0.5 - self.centre.0) / self.scale;
        let v = (y as f64 + 0.5 - self.centre.1) / self.scale;
        [1.0, u, v, u * u, u * v, v * v]
    }

    fn raw(&self, x: usize, y: usize) -> Rgb {
        let t = self.terms(x, y);
        std::array::from_fn(|c| {
            self.coeffs[c]
                .iter()
                .zip(&t)
                .map(|(k, t)| k * t)
                .sum::<f64>() as f32
        })
    }

    /// The page at picture pixel (`x`, `y`).
    fn at_xy(&self, x: usize, y: usize) -> Rgb {
        let raw = self.raw(x, y);
        std::array::from_fn(|c| raw[c].clamp(self.lo[c], self.hi[c]))
    }

    /// The page at pixel `li` of its box.
    fn at(&self, li: usize) -> Rgb {
        let aw = self.area.width() as usize;
        self.at_xy(
            self.area.x0 as usize + li % aw,
            self.area.y0 as usize + li / aw,
        )
    }
}

/// Solves the 6×6 system `a·x = b` by Gaussian elimination with partial pivoting; `None`
/// when it is singular (a ring too thin to fix a quadratic).
fn solve6(mut a: [[f64; 6]; 6], mut b: [f64; 6]) -> Option<[f64; 6]> {
    for col in 0..6 {
        let pivot = (col..6).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-9 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (pivot_row, pivot_b) = (a[col], b[col]);
        for (row, rhs) in a.iter_mut().zip(b.iter_mut()).skip(col + 1) {
            let f = row[col] / pivot_row[col];
            for (v, p) in row.iter_mut().zip(&pivot_row).skip(col) {
                *v -= f * p;
            }
            *rhs -= f * pivot_b;
        }
    }
    let mut x = [0.0f64; 6];
    for row in (0..6).rev() {
        let rest: f64 = (row + 1..6).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - rest) / a[row][row];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

    use super::super::{designed_elements, peel_elements};
    use super::*;
    use crate::decompose::Progress;
    use crate::model::RgbaImage;

    const SIZE: (u32, u32) = (400, 300);

    fn page(x: u32, y: u32) -> Rgb {
        let (w, h) = (SIZE.0 as f32, SIZE.1 as f32);
        [0.3 + 0.4 * x as f32 / w, 0.5, 0.7 - 0.3 * y as f32 / h]
    }

    /// Alpha of a soft drop shadow: the card's box moved by (3, 4), fading over 7 pixels.
    fn shadow_alpha(x: u32, y: u32) -> f32 {
        let dx = (123.0 - x as f32).max(x as f32 - 282.0).max(0.0);
        let dy = (84.0 - y as f32).max(y as f32 - 203.0).max(0.0);
        0.45 * (1.0 - (dx * dx + dy * dy).sqrt() / 7.0).clamp(0.0, 1.0)
    }

    fn card(x: u32, y: u32) -> bool {
        (120..280).contains(&x) && (80..200).contains(&y)
    }

    /// A pale card with a soft drop shadow on a diagonal gradient.
    fn card_with_shadow() -> RgbaImage {
        RgbaImage::from_fn(SIZE.0, SIZE.1, |x, y| {
            let c = if card(x, y) {
                [0.95, 0.95, 0.9]
            } else {
                page(x, y).map(|v| v * (1.0 - shadow_alpha(x, y)))
            };
            image::Rgba([c[0], c[1], c[2], 1.0].map(|v| (v * 255.0).round() as u8))
        })
    }

    #[test]
    fn a_cards_soft_shadow_goes_with_the_card_and_leaves_the_page_clean() {
        let picture = card_with_shadow();
        let plans = designed_elements(&picture).expect("a designed backdrop");
        let specs = peel_elements(&plans, picture, 1.0, &Progress::new()).unwrap();
        let boxes: Vec<_> = specs
            .iter()
            .map(|s| (s.offset, s.pixels.dimensions()))
            .collect();
        assert_eq!(specs.len(), 2, "the page and the card: {boxes:?}");
        let background = &specs[0].pixels;
        let mut worst = 0.0f32;
        for (x, y, p) in background.enumerate_pixels() {
            if shadow_alpha(x, y) > 0.0 && !card(x, y) {
                for (v, t) in p.0.iter().zip(page(x, y)) {
                    worst = worst.max((f32::from(*v) / 255.0 - t).abs());
                }
            }
        }
        assert!(worst < 0.03, "the shadow stays in the background: {worst}");
        let layer = &specs[1];
        let (x, y) = (281 - layer.offset.x, 202 - layer.offset.y);
        let alpha = layer.pixels.get_pixel(x as u32, y as u32).0[3];
        assert!(alpha > 60, "the card's layer holds its shadow: {alpha}");
    }

    #[test]
    fn a_card_without_a_shadow_gets_none() {
        let picture = RgbaImage::from_fn(SIZE.0, SIZE.1, |x, y| {
            let c = if card(x, y) {
                [0.95, 0.95, 0.9]
            } else {
                page(x, y)
            };
            image::Rgba([c[0], c[1], c[2], 1.0].map(|v| (v * 255.0).round() as u8))
        });
        let plans = designed_elements(&picture).expect("a designed backdrop");
        assert_eq!(plans.len(), 1);
        let b = plans[0].bbox;
        assert!(
            b.x0 >= 118 && b.y0 >= 78 && b.x1 <= 282 && b.y1 <= 202,
            "the card's box grew: {b:?}"
        );
    }

    #[test]
    fn a_quadratic_page_is_fitted_exactly_on_a_ring() {
        let (w, h) = (60usize, 40usize);
        let truth = |x: usize, y: usize| {
            let (u, v) = (x as f32 / w as f32, y as f32 / h as f32);
            [0.2 + 0.3 * u * u, 0.5 + 0.2 * u * v, 0.4 + 0.1 * v]
        };
        let field = Field::from_fn(w, h, truth);
        let area = BBox::new(0, 0, w as u32, h as u32);
        let ring: Vec<usize> = (0..w * h)
            .filter(|&i| (i % w).min(i / w).min(w - 1 - i % w).min(h - 1 - i / w) < 3)
            .collect();
        let page = Page::fit(&field, area, &ring).unwrap();
        for (x, y) in [(30, 20), (10, 30), (50, 5)] {
            let (got, want) = (page.at_xy(x, y), truth(x, y));
            for c in 0..3 {
                assert!(
                    (got[c] - want[c]).abs() < 0.01,
                    "({x},{y}): {got:?} vs {want:?}"
                );
            }
        }
    }
}
