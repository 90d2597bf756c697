//! How much of a straight-alpha image is covered, and where.

use super::BBox;
use crate::model::RgbaImage;

/// Alpha statistics of an image, gathered in one pass. "Visible" is an alpha byte above 0,
/// the one transparency threshold of the storage format (see the module documentation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AlphaStats {
    /// Every pixel.
    pub pixels: u64,
    /// Pixels with alpha above 0.
    pub visible: u64,
    /// Pixels with alpha 255.
    pub opaque: u64,
    /// Sum of the alpha bytes (a fully opaque pixel adds 255).
    pub mass: u64,
}

impl AlphaStats {
    /// The statistics of `image`.
    pub fn of(image: &RgbaImage) -> Self {
        image.pixels().fold(Self::default(), |mut s, p| {
            let a = p[3];
            s.pixels += 1;
            s.visible += u64::from(a > 0);
            s.opaque += u64::from(a == 255);
            s.mass += u64::from(a);
            s
        })
    }

    /// Visible pixels that are not opaque: soft edges, shadows, translucency.
    pub fn partial(&self) -> u64 {
        self.visible - self.opaque
    }

    /// Mean alpha in `0..=1` (0 for an image without pixels).
    pub fn mean(&self) -> f64 {
        if self.pixels == 0 {
            return 0.0;
        }
        self.mass as f64 / (255.0 * self.pixels as f64)
    }

    /// True when every pixel is opaque (and there is at least one).
    pub fn is_opaque(&self) -> bool {
        self.pixels > 0 && self.opaque == self.pixels
    }
}

/// The bounding box of the visible pixels of `image`, or `None` when all are transparent.
pub fn visible_bounds(image: &RgbaImage) -> Option<BBox<u32>> {
    bounds_above(image, 0)
}

/// The bounding box of the pixels of `image` whose alpha is above `alpha`, or `None` when
/// there are none.
pub fn bounds_above(image: &RgbaImage, alpha: u8) -> Option<BBox<u32>> {
    BBox::enclosing(
        image
            .enumerate_pixels()
            .filter(|(_, _, p)| p[3] > alpha)
            .map(|(x, y, _)| (x, y)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_bounds() {
        let mut image = RgbaImage::new(5, 4);
        image.put_pixel(1, 2, image::Rgba([9, 9, 9, 255]));
        image.put_pixel(3, 1, image::Rgba([9, 9, 9, 51]));
        let s = AlphaStats::of(&image);
        assert_eq!((s.pixels, s.visible, s.opaque, s.partial()), (20, 2, 1, 1));
        assert!((s.mean() - 306.0 / (255.0 * 20.0)).abs() < 1e-12);
        assert!(!s.is_opaque());
        assert_eq!(visible_bounds(&image), Some(BBox::new(1, 1, 4, 3)));
        assert_eq!(visible_bounds(&RgbaImage::new(3, 3)), None);
        assert_eq!(AlphaStats::of(&RgbaImage::new(0, 0)).mean(), 0.0);
    }
}
