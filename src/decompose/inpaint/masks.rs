//! Masks for callers of the fill: growing an object's pixels by a margin, and cutting the
//! window a hole is filled on out of a picture-sized mask.

use image::GrayImage;

use super::canvas::Mask;
use super::patchmatch::Rect;
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

/// The bounding rectangle of the set pixels of a row-major plane `width` wide.
pub(crate) fn bounds_of(bits: &[bool], width: usize) -> Option<Rect> {
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for (i, _) in bits.iter().enumerate().filter(|(_, b)| **b) {
        let (x, y) = (i % width, i / width);
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    (x0 != usize::MAX).then(|| Rect {
        x0,
        y0,
        width: x1 + 1 - x0,
        height: y1 + 1 - y0,
    })
}

/// For every pixel, whether any `bit` is set in the (2`r`+1)² window around it (clipped at
/// the edges), by one summed-area table.
pub(crate) fn window_any(bit: impl Fn(usize) -> bool, w: usize, h: usize, r: usize) -> Vec<bool> {
    let mut sat = vec![0u32; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0u32;
        for x in 0..w {
            row += u32::from(bit(y * w + x));
            sat[(y + 1) * (w + 1) + x + 1] = sat[y * (w + 1) + x + 1] + row;
        }
    }
    let mut any = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            let (x0, y0) = (x.saturating_sub(r), y.saturating_sub(r));
            let (x1, y1) = ((x + r + 1).min(w), (y + r + 1).min(h));
            any[y * w + x] = sat[y1 * (w + 1) + x1] + sat[y0 * (w + 1) + x0]
                > sat[y0 * (w + 1) + x1] + sat[y1 * (w + 1) + x0];
        }
    }
    any
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
