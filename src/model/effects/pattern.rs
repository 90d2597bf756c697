//! The pattern of a pattern overlay: a tile repeated across the canvas at a scale, from an
//! origin that moves with the layer (Photoshop's "Link with Layer") or stays on the
//! canvas.

use std::sync::Arc;

use crate::model::RgbaImage;

/// A pattern overlay's tile and placement.
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    /// The tile, straight (not premultiplied) RGBA; never empty. Shared with the
    /// document's pattern table: every overlay naming it, and every read of an overlay,
    /// holds the same pixels.
    pub tile: Arc<RgbaImage>,
    /// Size of a drawn tile pixel in canvas pixels (`1.0`: as stored).
    pub scale: f32,
    /// True when the tiling moves with the layer: `origin` is then relative to the layer's
    /// top-left corner; else it is on the canvas.
    pub linked: bool,
    /// Where a tile's top-left corner lies, in canvas pixels.
    pub origin: (f32, f32),
}

impl Pattern {
    /// The pattern's colour and opacity (`0.0..=1.0`) at canvas point (`x`, `y`), a
    /// pixel's centre, for a layer whose top-left corner is `corner`. Between tile pixels
    /// the colour is blended bilinearly, wrapping around the tile's edges, so that a scaled
    /// tiling stays seamless; at scale 1 from a whole-pixel origin every pixel is a tile
    /// pixel unchanged.
    pub fn sample(&self, x: f32, y: f32, corner: (f32, f32)) -> ([f32; 3], f32) {
        let (ox, oy) = if self.linked {
            (corner.0 + self.origin.0, corner.1 + self.origin.1)
        } else {
            self.origin
        };
        let scale = self.scale.max(0.01);
        // In tile pixels, with pixel centres at whole numbers.
        let u = (x - ox) / scale - 0.5;
        let v = (y - oy) / scale - 0.5;
        let (w, h) = (self.tile.width() as i64, self.tile.height() as i64);
        if w == 0 || h == 0 {
            return ([0.0; 3], 0.0);
        }
        let (u0, v0) = (u.floor(), v.floor());
        let (fu, fv) = (u - u0, v - v0);
        let (u0, v0) = (u0 as i64, v0 as i64);
        // Premultiplied so that transparent tile pixels lend no colour.
        let mut sum = [0.0f32; 4];
        for (dy, wy) in [(0, 1.0 - fv), (1, fv)] {
            for (dx, wx) in [(0, 1.0 - fu), (1, fu)] {
                let weight = wx * wy;
                if weight == 0.0 {
                    continue;
                }
                let px = self.tile.get_pixel(
                    (u0 + dx).rem_euclid(w) as u32,
                    (v0 + dy).rem_euclid(h) as u32,
                );
                let a = f32::from(px.0[3]) / 255.0 * weight;
                for (s, &c) in sum.iter_mut().zip(&px.0[..3]) {
                    *s += f32::from(c) / 255.0 * a;
                }
                sum[3] += a;
            }
        }
        if sum[3] <= 0.0 {
            return ([0.0; 3], 0.0);
        }
        (
            [sum[0] / sum[3], sum[1] / sum[3], sum[2] / sum[3]],
            sum[3].min(1.0),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgba;

    fn checker() -> Pattern {
        let tile = RgbaImage::from_fn(2, 2, |x, y| {
            if (x + y) % 2 == 0 {
                Rgba([255, 0, 0, 255])
            } else {
                Rgba([0, 0, 255, 255])
            }
        });
        Pattern {
            tile: Arc::new(tile),
            scale: 1.0,
            linked: true,
            origin: (0.0, 0.0),
        }
    }

    #[test]
    fn at_scale_one_the_tile_repeats_from_the_layer_corner() {
        let p = checker();
        let corner = (3.0, 5.0);
        // The layer's first pixel is the tile's first (red); the next is blue; a tile on,
        // red again.
        assert_eq!(p.sample(3.5, 5.5, corner), ([1.0, 0.0, 0.0], 1.0));
        assert_eq!(p.sample(4.5, 5.5, corner), ([0.0, 0.0, 1.0], 1.0));
        assert_eq!(p.sample(5.5, 5.5, corner), ([1.0, 0.0, 0.0], 1.0));
        // Before the corner the tiling continues backwards.
        assert_eq!(p.sample(2.5, 5.5, corner), ([0.0, 0.0, 1.0], 1.0));
    }

    #[test]
    fn an_unlinked_pattern_stays_on_the_canvas_and_the_origin_moves_it() {
        let mut p = checker();
        p.linked = false;
        assert_eq!(p.sample(0.5, 0.5, (3.0, 5.0)), ([1.0, 0.0, 0.0], 1.0));
        p.origin = (1.0, 0.0);
        assert_eq!(p.sample(0.5, 0.5, (3.0, 5.0)), ([0.0, 0.0, 1.0], 1.0));
        // Linked, the origin is taken from the layer's corner.
        p.linked = true;
        assert_eq!(p.sample(4.5, 5.5, (3.0, 5.0)), ([1.0, 0.0, 0.0], 1.0));
    }

    #[test]
    fn a_scaled_tile_blends_its_pixels_and_transparent_ones_lend_no_colour() {
        let mut p = checker();
        p.scale = 2.0;
        // At scale 2, x = 1.5 is a quarter of the way from tile pixel 0 (red) to 1 (blue),
        // and y = 1 is on row 0's centre.
        let ([r, _, b], a) = p.sample(1.5, 1.0, (0.0, 0.0));
        assert!((r - 0.75).abs() < 1e-5 && (b - 0.25).abs() < 1e-5 && a == 1.0);
        Arc::make_mut(&mut p.tile).put_pixel(1, 0, Rgba([0, 0, 255, 0]));
        let ([r, _, b], a) = p.sample(1.5, 1.0, (0.0, 0.0));
        assert!(r > 0.99 && b < 1e-5, "no blue from a transparent pixel");
        assert!((a - 0.75).abs() < 1e-5);
    }
}
