//! Masks for callers of the fill: growing an object's pixels by a margin, and cutting the
//! window a hole is filled on out of a picture-sized mask.

use image::GrayImage;

use super::canvas::Mask;
use crate::decompose::segment::morphology;

/// Values above this count as "in" a caller's mask (hole or excluded source).
pub const MASK_THRESHOLD: u8 = 127;

/// `mask` (pixels above [`MASK_THRESHOLD`]) grown by `radius` pixels in every direction
/// (a square window), as 255/0. Used to add a margin around objects so that neither their
/// anti-aliased edges nor the halo a matte leaves around them is copied into a hole.
pub fn grow(mask: &GrayImage, radius: u32) -> GrayImage {
    let (w, h) = (mask.width() as usize, mask.height() as usize);
    if w == 0 || h == 0 {
        return mask.clone();
    }
    let inside: Vec<bool> = mask.as_raw().iter().map(|&v| v > MASK_THRESHOLD).collect();
    let raw = morphology::dilate(&inside, w, h, radius as usize)
        .into_iter()
        .map(|b| if b { 255 } else { 0 })
        .collect();
    GrayImage::from_raw(mask.width(), mask.height(), raw).unwrap_or_else(|| mask.clone())
}

/// The `width`×`height` window at (`x0`, `y0`) of a picture-sized row-major bit plane
/// `bits` whose rows are `stride` long.
pub(crate) fn window(
    bits: &[bool],
    stride: usize,
    (x0, y0): (usize, usize),
    (width, height): (usize, usize),
) -> Mask {
    Mask {
        width,
        height,
        bits: rows_window(bits, stride, (x0, y0), (width, height)),
    }
}

/// The `width`×`height` window at (`x0`, `y0`) of a row-major plane `data` whose rows are
/// `stride` long, copied row by row: for masks and canvases alike.
pub(crate) fn rows_window<T: Copy>(
    data: &[T],
    stride: usize,
    (x0, y0): (usize, usize),
    (width, height): (usize, usize),
) -> Vec<T> {
    let mut out = Vec::with_capacity(width * height);
    for y in y0..y0 + height {
        out.extend_from_slice(&data[y * stride + x0..y * stride + x0 + width]);
    }
    out
}

/// The `width`×`height` window at (`x0`, `y0`) of a picture-sized plane whose rows are
/// `stride` long and whose pixel `i` is `inside(i)`: cut straight from the caller's masks,
/// so no picture-sized plane of booleans is built first.
pub(crate) fn window_of(
    inside: impl Fn(usize) -> bool,
    stride: usize,
    (x0, y0): (usize, usize),
    (width, height): (usize, usize),
) -> Mask {
    let mut bits = Vec::with_capacity(width * height);
    for y in y0..y0 + height {
        bits.extend((y * stride + x0..y * stride + x0 + width).map(&inside));
    }
    Mask {
        width,
        height,
        bits,
    }
}

/// `a` or `b`, per pixel (same size).
pub(crate) fn union(a: &Mask, b: &Mask) -> Mask {
    Mask {
        width: a.width,
        height: a.height,
        bits: a.bits.iter().zip(&b.bits).map(|(&x, &y)| x || y).collect(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.
mod tests {
    use super::*;
    use image::Luma;

    #[test]
    fn grow_adds_a_square_margin() {
        let mut m = GrayImage::new(9, 7);
        m.put_pixel(4, 3, Luma([200]));
        m.put_pixel(0, 0, Luma([100])); // below the threshold: not in the mask
        let g = grow(&m, 2);
        for (x, y, p) in g.enumerate_pixels() {
            let inside = (2..=6).contains(&x) && (1..=5).contains(&y);
            assert_eq!(p.0[0] == 255, inside, "({x}, {y})");
        }
        assert_eq!(grow(&m, 0).get_pixel(4, 3).0[0], 255);
        assert_eq!(grow(&m, 0).get_pixel(0, 0).0[0], 0);
    }

    #[test]
    fn window_cuts_rows() {
        let bits: Vec<bool> = (0..20).map(|i| i % 3 == 0).collect();
        let w = window(&bits, 5, (1, 1), (3, 2));
        assert_eq!(
            w.bits,
            vec![true, false, false, false, true, false],
            "rows 1..3, columns 1..4 of a 5×4 plane"
        );
    }
}
