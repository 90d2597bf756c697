//! The geometry of the view path (see `view.rs`): which target pixels a document rectangle
//! may touch, which mip level to read, and how a pan by whole pixels moves a composite.

use super::display::ViewTransform;
use super::tiles::Rect;
use crate::model::Document;

/// What a view composite depends on besides the layers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct ViewKey {
    /// Target size, in pixels.
    pub size: (u32, u32),
    /// Target pixel where document pixel (0, 0)'s corner lands.
    pub origin: [f32; 2],
    /// Target pixels per document pixel.
    pub zoom: f32,
    /// Document size, in pixels.
    pub doc: (u32, u32),
}

impl ViewKey {
    /// `None` when the viewport has no pixels.
    pub fn of(doc: &Document, view: &ViewTransform) -> Option<Self> {
        let side = |v: f32| v.round().max(0.0) as u32;
        let size = (side(view.viewport_size[0]), side(view.viewport_size[1]));
        (size.0 > 0 && size.1 > 0).then_some(Self {
            size,
            origin: view.origin,
            zoom: view.zoom.max(1e-6),
            doc: (doc.width, doc.height),
        })
    }

    /// Target pixels whose centres may fall in document rectangle `cells`: its screen
    /// rectangle rounded outwards and widened by a pixel against rounding (the fragment
    /// stage trims exactly), clipped to the viewport.
    pub fn screen_rect(&self, cells: Rect) -> Option<Rect> {
        let edge = |origin: f32, cell: i64| origin + cell as f32 * self.zoom;
        let left = (edge(self.origin[0], cells.x).floor() - 1.0).max(0.0);
        let top = (edge(self.origin[1], cells.y).floor() - 1.0).max(0.0);
        let right = (edge(self.origin[0], cells.right()).ceil() + 1.0).min(self.size.0 as f32);
        let bottom = (edge(self.origin[1], cells.bottom()).ceil() + 1.0).min(self.size.1 as f32);
        (right > left && bottom > top).then(|| {
            Rect::new(
                left as i64,
                top as i64,
                (right - left) as u32,
                (bottom - top) as u32,
            )
        })
    }

    /// The shift in whole target pixels that turns a composite for `old` into one for this
    /// view, if there is one: same size, zoom and document, origin moved by whole pixels.
    /// Shifted pixels are then exactly what compositing them afresh gives: each pixel's
    /// document position, `(centre − origin) / zoom`, is computed from the same numbers.
    pub fn scroll_from(&self, old: &ViewKey) -> Option<(i64, i64)> {
        let same = self.size == old.size && self.zoom == old.zoom && self.doc == old.doc;
        let dx = self.origin[0] - old.origin[0];
        let dy = self.origin[1] - old.origin[1];
        let whole = dx.fract() == 0.0 && dy.fract() == 0.0;
        let small = self.origin.iter().chain(&old.origin).all(|o| o.abs() < 1e6);
        (same && whole && small).then_some((dx as i64, dy as i64))
    }

    /// The mip level to read a layer from: the finest whose texels cover no more than a
    /// screen pixel. Coarser would blur; finer skips texels (aliasing) and reads more.
    pub fn level(&self, levels: u32) -> u32 {
        if self.zoom >= 1.0 {
            return 0;
        }
        // The epsilon keeps exact powers of two (zoom 1/4 → level 2) on their level.
        let level = ((1.0 / self.zoom).log2() + 1e-4).floor().max(0.0) as u32;
        level.min(levels.saturating_sub(1))
    }
}

/// The parts of `whole` outside `kept` (which lies inside it), as disjoint rectangles: the
/// rows above and below `kept`, then the columns left and right of it.
pub(super) fn uncovered(whole: Rect, kept: Option<Rect>) -> Vec<Rect> {
    let Some(kept) = kept else {
        return vec![whole];
    };
    let rows = |top: i64, bottom: i64| Rect::new(whole.x, top, whole.width, (bottom - top) as u32);
    let columns =
        |left: i64, right: i64| Rect::new(left, kept.y, (right - left) as u32, kept.height);
    [
        rows(whole.y, kept.y),
        rows(kept.bottom(), whole.bottom()),
        columns(whole.x, kept.x),
        columns(kept.right(), whole.right()),
    ]
    .into_iter()
    .filter(|r| !r.is_empty())
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncovered_strips_and_kept_part_tile_the_target() {
        let whole = Rect::new(0, 0, 10, 6);
        let kept = whole.translated(3, -2).intersect(&whole);
        let strips = uncovered(whole, kept);
        let area = |r: &Rect| u64::from(r.width) * u64::from(r.height);
        let total: u64 = strips.iter().chain(kept.iter()).map(area).sum();
        assert_eq!(total, 60);
        assert_eq!(strips.len(), 2);
        assert_eq!(uncovered(whole, None), vec![whole]);
    }

    #[test]
    fn mip_level_follows_the_zoom() {
        let key = |zoom| ViewKey {
            size: (10, 10),
            origin: [0.0, 0.0],
            zoom,
            doc: (100, 100),
        };
        assert_eq!(key(3.0).level(8), 0);
        assert_eq!(key(0.75).level(8), 0);
        assert_eq!(key(0.5).level(8), 1);
        assert_eq!(key(0.3).level(8), 1);
        assert_eq!(key(0.25).level(8), 2);
        assert_eq!(key(0.01).level(3), 2);
        assert_eq!(key(1.0).scroll_from(&key(1.0)), Some((0, 0)));
        let mut moved = key(1.0);
        moved.origin = [-3.0, 4.0];
        assert_eq!(moved.scroll_from(&key(1.0)), Some((-3, 4)));
        moved.origin = [0.5, 0.0];
        assert_eq!(moved.scroll_from(&key(1.0)), None);
        assert_eq!(key(2.0).scroll_from(&key(1.0)), None);
    }
}
