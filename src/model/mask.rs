//! Layer masks: a grey image that scales a layer's (or a group's) alpha, as Photoshop's
//! "layer mask" and PSD's user mask.
//!
//! A mask has its own rectangle; outside it every pixel has the mask's `background` value
//! (PSD's "default colour", 0 or 255), so a mask need not cover the canvas. Density and
//! feather are properties, not baked into the pixels, so a round trip keeps them: a
//! compositor asks for [`Mask::coverage`], which applies both.

use std::sync::Arc;

use image::GrayImage;

use super::Offset;
use super::pixels::{BBox, unit};

/// A layer or group mask. White (255) keeps the layer, black (0) hides it.
#[derive(Clone, Debug)]
pub struct Mask {
    /// Mask values, shared between history snapshots like layer pixels.
    pub pixels: Arc<GrayImage>,
    /// Canvas position of the mask's top-left pixel.
    pub offset: Offset,
    /// The value everywhere outside the mask's rectangle.
    pub background: u8,
    /// False when the person disabled the mask (Shift-click on its thumbnail): it is kept
    /// but not applied.
    pub enabled: bool,
    /// Photoshop's mask density in `0.0..=1.0`: at 0.5 black hides only half.
    pub density: f32,
    /// Photoshop's mask feather, a blur radius in pixels applied when compositing.
    pub feather: f32,
    /// True when the mask moves with its layer (Photoshop's chain icon).
    pub linked: bool,
    /// True when the mask is the rasterised copy of the layer's vector mask (kept with the
    /// layer's other file data), not a painted one: PSD marks such a mask so that
    /// Photoshop shows the vector mask, not a second, pixel mask.
    pub from_vector: bool,
}

impl Mask {
    /// An enabled, linked mask of full density and no feather.
    pub fn new(pixels: GrayImage, offset: Offset, background: u8) -> Self {
        Self {
            pixels: Arc::new(pixels),
            offset,
            background,
            enabled: true,
            density: 1.0,
            feather: 0.0,
            linked: true,
            from_vector: false,
        }
    }

    /// The mask's rectangle on the canvas, right and bottom exclusive.
    pub fn bounds(&self) -> BBox<i64> {
        BBox::at(
            i64::from(self.offset.x),
            i64::from(self.offset.y),
            i64::from(self.pixels.width()),
            i64::from(self.pixels.height()),
        )
    }

    /// True when both masks have equal properties and share the same pixel buffer.
    pub fn is_same_state(&self, other: &Mask) -> bool {
        Arc::ptr_eq(&self.pixels, &other.pixels)
            && self.offset == other.offset
            && self.background == other.background
            && self.enabled == other.enabled
            && self.density == other.density
            && self.feather == other.feather
            && self.linked == other.linked
            && self.from_vector == other.from_vector
    }

    /// Bytes of pixel storage held by this mask.
    pub fn pixel_bytes(&self) -> usize {
        self.pixels.as_raw().len()
    }

    /// What a compositor multiplies into alpha: the mask with feather and density applied,
    /// or `None` when the mask is disabled (it then has no effect at all).
    pub fn coverage(&self) -> Option<Coverage> {
        if !self.enabled {
            return None;
        }
        let (pixels, offset) = if self.feather >= 0.5 {
            feathered(self)
        } else {
            (Arc::clone(&self.pixels), self.offset)
        };
        Some(Coverage {
            pixels,
            offset,
            background: self.background,
            density: self.density.clamp(0.0, 1.0),
        })
    }
}

/// A mask ready to apply: feathered pixels, their position, and the density that lifts the
/// black point (value `v` covers `1 − density·(1 − v)`).
#[derive(Clone, Debug)]
pub struct Coverage {
    pub pixels: Arc<GrayImage>,
    pub offset: Offset,
    pub background: u8,
    pub density: f32,
}

impl Coverage {
    /// The factor (0..=1) the mask applies to alpha at canvas point (`x`, `y`).
    pub fn at(&self, x: i64, y: i64) -> f32 {
        let (lx, ly) = (x - i64::from(self.offset.x), y - i64::from(self.offset.y));
        let inside = lx >= 0
            && ly >= 0
            && lx < i64::from(self.pixels.width())
            && ly < i64::from(self.pixels.height());
        let value = if inside {
            self.pixels.get_pixel(lx as u32, ly as u32).0[0]
        } else {
            self.background
        };
        1.0 - self.density * (1.0 - unit(value))
    }
}

/// The mask blurred by its feather radius. Photoshop's feather is a Gaussian whose radius is
/// about two standard deviations; three box blurs of matching variance approximate it. The
/// rectangle grows by the blur's reach so the background value bleeds in at the edges.
fn feathered(mask: &Mask) -> (Arc<GrayImage>, Offset) {
    let radius = box_radius(f64::from(mask.feather) / 2.0);
    let reach = (radius * 3) as u32;
    let (w, h) = (
        mask.pixels.width() + 2 * reach,
        mask.pixels.height() + 2 * reach,
    );
    let mut values: Vec<f32> = vec![f32::from(mask.background); (w * h) as usize];
    for (x, y, p) in mask.pixels.enumerate_pixels() {
        values[((y + reach) * w + x + reach) as usize] = f32::from(p.0[0]);
    }
    let (wu, hu) = (w as usize, h as usize);
    gaussian_by_boxes(&mut values, wu, hu, radius, f32::from(mask.background));
    let out = GrayImage::from_fn(w, h, |x, y| {
        image::Luma([values[(y * w + x) as usize].round().clamp(0.0, 255.0) as u8])
    });
    let offset = Offset::new(
        mask.offset.x.saturating_sub(reach as i32),
        mask.offset.y.saturating_sub(reach as i32),
    );
    (Arc::new(out), offset)
}

/// Radius of the box whose three passes blur like a Gaussian of standard deviation `sigma`:
/// box width w gives variance (w² − 1)/12 per pass, and three passes sum their variances.
pub(super) fn box_radius(sigma: f64) -> usize {
    let width = ((4.0 * sigma * sigma + 1.0).sqrt().round() as usize).max(1) | 1;
    width / 2
}

/// Blurs the `width`×`height` field `values` with three box passes of `radius` each way
/// (see [`box_radius`]); samples past the edges read `outside`. Serves mask feathering and
/// the layer effects' blur.
pub(super) fn gaussian_by_boxes(
    values: &mut Vec<f32>,
    width: usize,
    height: usize,
    radius: usize,
    outside: f32,
) {
    for _ in 0..3 {
        box_blur_rows(values, width, height, radius, outside);
        transpose(values, width, height);
        box_blur_rows(values, height, width, radius, outside);
        transpose(values, height, width);
    }
}

/// A running-sum box blur of every row; samples past the ends read `outside`.
fn box_blur_rows(values: &mut [f32], width: usize, height: usize, radius: usize, outside: f32) {
    let span = (2 * radius + 1) as f32;
    let mut row = vec![0.0f32; width];
    for y in 0..height {
        let line = &mut values[y * width..(y + 1) * width];
        let read = |i: isize| -> f32 {
            if i < 0 || i as usize >= width {
                outside
            } else {
                line[i as usize]
            }
        };
        let r = radius as isize;
        let mut sum: f32 = (-r..=r).map(read).sum();
        for (x, out) in row.iter_mut().enumerate() {
            *out = sum / span;
            let x = x as isize;
            sum += read(x + r + 1) - read(x - r);
        }
        line.copy_from_slice(&row);
    }
}

fn transpose(values: &mut Vec<f32>, width: usize, height: usize) {
    let mut out = vec![0.0f32; values.len()];
    for y in 0..height {
        for x in 0..width {
            out[x * height + y] = values[y * width + x];
        }
    }
    *values = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_reads_background_outside_and_applies_density() {
        let mut mask = Mask::new(
            GrayImage::from_pixel(2, 2, image::Luma([0])),
            Offset::new(1, 1),
            255,
        );
        let cov = mask.coverage().expect("enabled");
        assert_eq!(cov.at(0, 0), 1.0);
        assert_eq!(cov.at(1, 1), 0.0);
        mask.density = 0.25;
        assert!((mask.coverage().expect("enabled").at(2, 2) - 0.75).abs() < 1e-6);
        mask.enabled = false;
        assert!(mask.coverage().is_none());
    }

    #[test]
    fn feather_softens_an_edge_symmetrically() {
        let pixels = GrayImage::from_fn(20, 20, |x, _| image::Luma([if x < 10 { 0 } else { 255 }]));
        let mut mask = Mask::new(pixels, Offset::new(0, 0), 0);
        mask.feather = 4.0;
        let cov = mask.coverage().expect("enabled");
        let (left, right) = (cov.at(8, 10), cov.at(11, 10));
        assert!(left > 0.05 && left < 0.5, "{left}");
        assert!(right > 0.5 && right < 0.95, "{right}");
        assert!(cov.at(0, 10) < 0.01);
    }
}
