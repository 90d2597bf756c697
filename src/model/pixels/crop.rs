//! Cropping an image without a second buffer.

use super::BBox;
use crate::model::RgbaImage;

/// `image` cropped to `b` (clamped to the image), reusing its buffer: the kept rows are
/// moved to the front and the rest released. A layer solved at full size is often nearly
/// canvas-sized, so a copying crop would hold two such buffers at once (96 MB at 12 Mpx).
pub fn crop_in_place(image: RgbaImage, b: BBox<u32>) -> RgbaImage {
    let (w, h) = image.dimensions();
    let b = b.intersect(BBox::new(0, 0, w, h));
    if b == BBox::new(0, 0, w, h) {
        return image;
    }
    let (cw, ch) = if b.is_empty() {
        (0, 0)
    } else {
        (b.width(), b.height())
    };
    let mut raw = image.into_raw();
    let (row, stride) = (cw as usize * 4, w as usize * 4);
    for r in 0..ch as usize {
        // The destination never lies after the source, so moving rows front to back
        // never overwrites a row still to be moved.
        let src = (b.y0 as usize + r) * stride + b.x0 as usize * 4;
        raw.copy_within(src..src + row, r * row);
    }
    raw.truncate(row * ch as usize);
    raw.shrink_to_fit();
    // The length is exactly `cw · ch · 4`, so the buffer always fits.
    RgbaImage::from_raw(cw, ch, raw).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgba;

    fn numbered(w: u32, h: u32) -> RgbaImage {
        RgbaImage::from_fn(w, h, |x, y| Rgba([x as u8, y as u8, (x * y) as u8, 255]))
    }

    #[test]
    fn matches_a_copying_crop() {
        let image = numbered(7, 5);
        for b in [
            BBox::new(0, 0, 7, 5),
            BBox::new(2, 1, 6, 4),
            BBox::new(0, 3, 7, 5),
            BBox::new(6, 0, 7, 5),
            BBox::new(3, 2, 4, 3),
        ] {
            let expected =
                image::imageops::crop_imm(&image, b.x0, b.y0, b.width(), b.height()).to_image();
            assert_eq!(crop_in_place(image.clone(), b), expected, "{b:?}");
        }
    }

    #[test]
    fn clamps_to_the_image_and_empties_on_no_overlap() {
        let image = numbered(4, 4);
        let clamped = crop_in_place(image.clone(), BBox::new(2, 2, 9, 9));
        assert_eq!(clamped.dimensions(), (2, 2));
        assert_eq!(clamped.get_pixel(0, 0), image.get_pixel(2, 2));
        let empty = crop_in_place(image, BBox::new(5, 5, 9, 9));
        assert_eq!(empty.dimensions(), (0, 0));
    }
}
