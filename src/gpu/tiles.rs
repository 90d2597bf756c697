//! Splitting rectangles into GPU-sized tiles.
//!
//! A texture side may not exceed the adapter's `max_texture_dimension_2d` (8192 on many
//! laptops, 16384 on desktops and lavapipe). Canvases and layers larger than that are cut
//! into a grid of tiles, each at most `max_side` on a side, so a 30000×20000 photo composites
//! exactly instead of failing validation.

/// An integer rectangle: origin and size, in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rect {
    pub x: i64,
    pub y: i64,
    pub width: u32,
    pub height: u32,
}

impl Rect {
    pub const fn new(x: i64, y: i64, width: u32, height: u32) -> Self {
        Self {
            x,
            y,
            width,
            height,
        }
    }

    pub fn right(&self) -> i64 {
        self.x + i64::from(self.width)
    }

    pub fn bottom(&self) -> i64 {
        self.y + i64::from(self.height)
    }

    pub fn is_empty(&self) -> bool {
        self.width == 0 || self.height == 0
    }

    /// The overlap of two rectangles, if any.
    pub fn intersect(&self, other: &Rect) -> Option<Rect> {
        let x = self.x.max(other.x);
        let y = self.y.max(other.y);
        let right = self.right().min(other.right());
        let bottom = self.bottom().min(other.bottom());
        (right > x && bottom > y).then(|| Rect::new(x, y, (right - x) as u32, (bottom - y) as u32))
    }

    /// This rectangle moved by `(dx, dy)`.
    pub fn translated(&self, dx: i64, dy: i64) -> Rect {
        Rect::new(self.x + dx, self.y + dy, self.width, self.height)
    }
}

/// Cuts a `width`×`height` area at the origin into row-major tiles of at most `max_side`.
pub fn grid(width: u32, height: u32, max_side: u32) -> Vec<Rect> {
    let side = max_side.max(1);
    let mut tiles = Vec::new();
    let mut y = 0;
    while y < height {
        let h = side.min(height - y);
        let mut x = 0;
        while x < width {
            let w = side.min(width - x);
            tiles.push(Rect::new(i64::from(x), i64::from(y), w, h));
            x += w;
        }
        y += h;
    }
    tiles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_covers_exactly_once() {
        let tiles = grid(10, 7, 4);
        assert_eq!(tiles.len(), 3 * 2);
        let area: u64 = tiles
            .iter()
            .map(|t| u64::from(t.width) * u64::from(t.height))
            .sum();
        assert_eq!(area, 70);
        assert!(tiles.iter().all(|t| t.width <= 4 && t.height <= 4));
        assert_eq!(tiles[5], Rect::new(8, 4, 2, 3));
    }

    #[test]
    fn empty_area_has_no_tiles() {
        assert!(grid(0, 5, 4).is_empty());
    }

    #[test]
    fn intersection() {
        let a = Rect::new(-2, -2, 5, 5);
        let b = Rect::new(0, 0, 10, 10);
        assert_eq!(a.intersect(&b), Some(Rect::new(0, 0, 3, 3)));
        assert_eq!(a.intersect(&Rect::new(3, 3, 1, 1)), None);
    }
}
