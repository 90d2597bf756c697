//! Artboards: Photoshop groups that stand for a page of their own. Photoshop draws an
//! artboard's background (white, black, a custom colour, or nothing) under its members and
//! clips the members to the artboard's rectangle.
//!
//! Like layer effects ([`super::effects`]), the artboard is drawn through the render plan
//! with ordinary parts made once, here in the model: a `fill` layer of the background
//! colour and a `clip` mask covering the rectangle, so both compositors draw it without
//! code of their own. The file's artboard block itself stays kept and is written back
//! unchanged; [`Artboard`] is only our reading of it.

use image::{GrayImage, Luma, Rgba};

use super::{BBox, Layer, LayerId, Mask, Offset, RgbaImage};

/// An artboard: its rectangle on the canvas and what is drawn under its members.
#[derive(Clone, Debug)]
pub struct Artboard {
    /// The artboard's rectangle on the canvas, right and bottom exclusive.
    pub rect: BBox<i64>,
    /// The background colour, `None` for a transparent artboard.
    pub background: Option<[u8; 3]>,
    /// The background as a layer covering the rectangle (within the canvas).
    fill: Option<Layer>,
    /// 255 inside the rectangle, 0 outside: clips the members.
    clip: Mask,
}

impl Artboard {
    /// The artboard of group `group` covering `rect` (clamped to a canvas of `canvas`
    /// pixels, since nothing outside it is ever drawn) over `background`.
    pub fn new(
        group: LayerId,
        rect: BBox<i64>,
        background: Option<[u8; 3]>,
        canvas: (u32, u32),
    ) -> Self {
        let x0 = rect.x0.clamp(0, i64::from(canvas.0));
        let y0 = rect.y0.clamp(0, i64::from(canvas.1));
        let x1 = rect.x1.clamp(x0, i64::from(canvas.0));
        let y1 = rect.y1.clamp(y0, i64::from(canvas.1));
        // Within the canvas, so the sizes and the corner fit u32 and i32.
        let (w, h) = ((x1 - x0) as u32, (y1 - y0) as u32);
        let offset = Offset::new(x0 as i32, y0 as i32);
        let clip = Mask::new(GrayImage::from_pixel(w, h, Luma([255])), offset, 0);
        let fill = background.filter(|_| w > 0 && h > 0).map(|[r, g, b]| {
            let pixels = RgbaImage::from_pixel(w, h, Rgba([r, g, b, 255]));
            let mut layer = Layer::new(fill_id(group), "artboard", pixels);
            layer.offset = offset;
            layer
        });
        Self {
            rect,
            background,
            fill,
            clip,
        }
    }

    /// The background layer, drawn under the members; `None` when transparent.
    pub fn fill(&self) -> Option<&Layer> {
        self.fill.as_ref()
    }

    /// The mask that clips the members (and the background) to the rectangle.
    pub fn clip(&self) -> &Mask {
        &self.clip
    }

    /// Bytes of pixel storage held by the fill and the clip.
    pub fn pixel_bytes(&self) -> usize {
        self.fill.as_ref().map_or(0, Layer::pixel_bytes) + self.clip.pixel_bytes()
    }
}

/// The id of a group's background layer: in the top of the id space like effect planes
/// (which set bit 63 and keep the owner below bit 62), with bit 62 set too so that the two
/// never meet, and a GPU texture is cached under a key of its own.
fn fill_id(group: LayerId) -> LayerId {
    LayerId((3 << 62) | (group.0 & ((1 << 62) - 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parts_cover_the_rectangle_within_the_canvas() {
        let rect = BBox::new(-5, 2, 8, 30);
        let board = Artboard::new(LayerId(7), rect, Some([1, 2, 3]), (6, 10));
        let fill = board.fill().map(|l| (l.offset, l.pixels.dimensions()));
        assert_eq!(fill, Some((Offset::new(0, 2), (6, 8))));
        assert_eq!(board.clip().bounds(), BBox::new(0, 2, 6, 10));
        assert_eq!(board.clip().background, 0);
        assert_eq!(board.rect, rect, "the file's rectangle is kept as read");
        let clear = Artboard::new(LayerId(7), rect, None, (6, 10));
        assert!(clear.fill().is_none());
    }

    #[test]
    fn fill_ids_stay_clear_of_layers_and_effect_planes() {
        let id = fill_id(LayerId(5));
        assert_ne!(id, LayerId(5));
        assert_eq!(id.0 >> 62, 3);
    }
}
