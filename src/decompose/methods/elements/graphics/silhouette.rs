//! How closely an element's silhouette matches a shape a designer draws a panel with: a
//! rectangle, a rounded rectangle, a pill or an ellipse filling its box.
//!
//! A card, a button, a bar or a badge is drawn with one of those shapes, so its silhouette
//! matches one almost exactly. Clip art that happens to have a flat body with something
//! drawn on it (a bin with a logo on its side, a basket with its handles) does not: its
//! outline tapers, bulges or carries a rim. Such clip art is one element, not a panel with
//! children, so the match decides.

use crate::model::pixels::BBox;

/// Corner radii tried, as shares of half the box's shorter side (0: square corners,
/// 1: a pill, or a circle in a square box).
const RADII: [f32; 11] = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

/// The best intersection-over-union of the set pixels of `mask` (a `bw`-wide grid) inside
/// `within` with a rounded rectangle (any corner radius) or an ellipse that fills their
/// bounding box. 0 when no pixel of `mask` lies within.
pub fn designed_shape_match(mask: &[bool], bw: usize, within: BBox) -> f32 {
    let inside = |x: usize, y: usize| mask[y * bw + x];
    let pixels = (within.y0 as usize..within.y1 as usize)
        .flat_map(|y| (within.x0 as usize..within.x1 as usize).map(move |x| (x, y)))
        .filter(|&(x, y)| inside(x, y));
    let Some(tight) = BBox::enclosing(pixels.map(|(x, y)| (x as u32, y as u32))) else {
        return 0.0;
    };
    let (x0, y0) = (tight.x0 as f32, tight.y0 as f32);
    let (w, h) = (tight.width() as f32, tight.height() as f32);
    let (cx, cy) = (x0 + w / 2.0, y0 + h / 2.0);
    let count = |shape: &dyn Fn(f32, f32) -> bool| {
        let (mut both, mut either) = (0usize, 0usize);
        for y in tight.y0 as usize..tight.y1 as usize {
            for x in tight.x0 as usize..tight.x1 as usize {
                // Pixel centres, relative to the box's centre.
                let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
                let (m, s) = (inside(x, y), shape(dx, dy));
                both += usize::from(m && s);
                either += usize::from(m || s);
            }
        }
        both as f32 / either.max(1) as f32
    };
    let (hw, hh) = (w / 2.0, h / 2.0);
    let ellipse = count(&|dx, dy| (dx / hw).powi(2) + (dy / hh).powi(2) <= 1.0);
    RADII
        .iter()
        .map(|&share| {
            let r = share * hw.min(hh);
            count(&|dx, dy| {
                // Distance beyond the rectangle shrunk by r, against r.
                let (ex, ey) = (
                    (dx.abs() - (hw - r)).max(0.0),
                    (dy.abs() - (hh - r)).max(0.0),
                );
                ex * ex + ey * ey <= r * r
            })
        })
        .fold(ellipse, f32::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(bw: usize, bh: usize, inside: impl Fn(f32, f32) -> bool) -> Vec<bool> {
        (0..bw * bh)
            .map(|i| inside((i % bw) as f32 + 0.5, (i / bw) as f32 + 0.5))
            .collect()
    }

    #[test]
    fn panels_match_and_tapered_clip_art_does_not() {
        let (bw, bh) = (120, 90);
        let all = BBox::new(0, 0, bw as u32, bh as u32);
        // A rounded card with a margin around it.
        let card = grid(bw, bh, |x, y| {
            let (ex, ey) = ((x - 60.0).abs() - 38.0, (y - 45.0).abs() - 28.0);
            let (ex, ey) = (ex.max(0.0), ey.max(0.0));
            ex * ex + ey * ey <= 144.0
        });
        assert!(designed_shape_match(&card, bw, all) > 0.97);
        // A circular badge.
        let badge = grid(bw, bh, |x, y| {
            (x - 50.0).powi(2) + (y - 45.0).powi(2) <= 35.0 * 35.0
        });
        assert!(designed_shape_match(&badge, bw, all) > 0.97);
        // An ellipse.
        let ellipse = grid(bw, bh, |x, y| {
            ((x - 60.0) / 55.0).powi(2) + ((y - 45.0) / 30.0).powi(2) <= 1.0
        });
        assert!(designed_shape_match(&ellipse, bw, all) > 0.97);
        // A bin: a trapezoid, wide at the top, narrow at the bottom, with a rim.
        let bin = grid(bw, bh, |x, y| {
            let half = 50.0 - 18.0 * (y - 10.0) / 75.0;
            let rim = (10.0..16.0).contains(&y) && (5.0..115.0).contains(&x);
            rim || ((10.0..85.0).contains(&y) && (x - 60.0).abs() <= half)
        });
        assert!(designed_shape_match(&bin, bw, all) < 0.9);
        // Only what lies within the box counts.
        let none = BBox::new(0, 0, 5, 5);
        assert_eq!(designed_shape_match(&badge, bw, none), 0.0);
    }
}
