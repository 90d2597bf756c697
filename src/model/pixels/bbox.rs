//! Axis-aligned boxes of whole pixels: a layer's rectangle on the canvas (signed, since
//! layers may hang off any edge), and the extent of some pixels in an image or mask.

use std::ops::{Add, Sub};

/// A coordinate type a [`BBox`] can use: `u32` for image pixels, `usize` for indices into
/// buffers, `i64` for canvas space.
pub trait Coord: Copy + Ord + Add<Output = Self> + Sub<Output = Self> + From<u8> {}

impl<T: Copy + Ord + Add<Output = T> + Sub<Output = T> + From<u8>> Coord for T {}

/// An axis-aligned box; `x1` and `y1` are exclusive, so a box never has negative size and
/// one with `x0 == x1` or `y0 == y1` is empty.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct BBox<T = u32> {
    pub x0: T,
    pub y0: T,
    pub x1: T,
    pub y1: T,
}

impl<T: Coord> BBox<T> {
    /// The box from (`x0`, `y0`) to (`x1`, `y1`), ends exclusive.
    pub fn new(x0: T, y0: T, x1: T, y1: T) -> Self {
        Self { x0, y0, x1, y1 }
    }

    /// The `width` × `height` box with its top-left pixel at (`x`, `y`).
    pub fn at(x: T, y: T, width: T, height: T) -> Self {
        Self::new(x, y, x + width, y + height)
    }

    /// The box of the single pixel (`x`, `y`).
    pub fn pixel(x: T, y: T) -> Self {
        let one = T::from(1);
        Self::new(x, y, x + one, y + one)
    }

    /// The smallest box holding every pixel of `pixels`, or `None` when there is none.
    pub fn enclosing(pixels: impl IntoIterator<Item = (T, T)>) -> Option<Self> {
        let mut pixels = pixels.into_iter();
        let (x, y) = pixels.next()?;
        let mut bbox = Self::pixel(x, y);
        pixels.for_each(|(x, y)| bbox.include(x, y));
        Some(bbox)
    }

    /// Grows the box to contain the pixel (`x`, `y`).
    pub fn include(&mut self, x: T, y: T) {
        *self = self.union(Self::pixel(x, y));
    }

    /// The smallest box holding both boxes.
    pub fn union(self, other: Self) -> Self {
        Self::new(
            self.x0.min(other.x0),
            self.y0.min(other.y0),
            self.x1.max(other.x1),
            self.y1.max(other.y1),
        )
    }

    /// The part of the box inside `other`; empty (at a clamped corner) when they do not
    /// overlap.
    pub fn intersect(self, other: Self) -> Self {
        let (x0, y0) = (self.x0.max(other.x0), self.y0.max(other.y0));
        Self::new(
            x0,
            y0,
            self.x1.min(other.x1).max(x0),
            self.y1.min(other.y1).max(y0),
        )
    }

    pub fn width(&self) -> T {
        self.x1 - self.x0
    }

    pub fn height(&self) -> T {
        self.y1 - self.y0
    }

    /// True when the box holds no pixel.
    pub fn is_empty(&self) -> bool {
        self.x0 >= self.x1 || self.y0 >= self.y1
    }

    /// True when the pixel (`x`, `y`) lies inside.
    pub fn contains(&self, x: T, y: T) -> bool {
        x >= self.x0 && x < self.x1 && y >= self.y0 && y < self.y1
    }

    /// True when every pixel of `other` lies inside (an empty `other` anywhere counts).
    pub fn encloses(&self, other: &Self) -> bool {
        other.is_empty()
            || (other.x0 >= self.x0
                && other.y0 >= self.y0
                && other.x1 <= self.x1
                && other.y1 <= self.y1)
    }
}

impl BBox<u32> {
    /// Euclidean distance between the two boxes' nearest pixels' edges (0 when they touch
    /// or overlap).
    pub fn gap(&self, other: &Self) -> f32 {
        let gx = self
            .x0
            .saturating_sub(other.x1)
            .max(other.x0.saturating_sub(self.x1)) as f32;
        let gy = self
            .y0
            .saturating_sub(other.y1)
            .max(other.y0.saturating_sub(self.y1)) as f32;
        (gx * gx + gy * gy).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enclosing_grows_over_every_pixel() {
        let b = BBox::enclosing([(4u32, 1), (6, 0), (5, 2)]);
        assert_eq!(b, Some(BBox::new(4, 0, 7, 3)));
        assert_eq!(BBox::<u32>::enclosing([]), None);
        let b = b.unwrap_or_default();
        assert_eq!((b.width(), b.height()), (3, 3));
        assert!(b.contains(6, 2) && !b.contains(7, 2));
    }

    #[test]
    fn signed_boxes_union_and_intersect() {
        let a = BBox::at(-2i64, 3, 4, 5);
        let b = BBox::new(0i64, 0, 8, 6);
        assert_eq!(a.union(b), BBox::new(-2, 0, 8, 8));
        assert_eq!(a.intersect(b), BBox::new(0, 3, 2, 6));
        let apart = BBox::new(10i64, 10, 12, 12).intersect(b);
        assert!(apart.is_empty());
        assert!(b.encloses(&BBox::new(0, 1, 8, 6)) && !b.encloses(&a));
        assert_eq!((apart.width(), apart.height()), (0, 0));
    }

    #[test]
    fn gap_is_zero_when_touching() {
        let a = BBox::new(0u32, 0, 2, 2);
        assert_eq!(a.gap(&BBox::new(2, 0, 3, 1)), 0.0);
        assert_eq!(a.gap(&BBox::new(5, 6, 6, 7)), 5.0);
        assert_eq!(BBox::new(5, 6, 6, 7).gap(&a), 5.0);
    }
}
