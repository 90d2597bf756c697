//! DB post-processing (Liao et al., "Real-time Scene Text Detection with Differentiable
//! Binarization", AAAI 2020): text lines from the probability map.
//!
//! The network predicts each text region *shrunk* by `D = A·(1 − r²)/L` (r = 0.4 in
//! training); inference binarises the map, takes each connected region and grows it back
//! by `D' = A'·ratio/L'` (A' and L' the region's area and perimeter). The thresholds are
//! PP-OCR's inference defaults as RapidOCR 1.4.4 configures them (`config.yaml`: thresh 0.3,
//! box_thresh 0.5, unclip_ratio 1.6, use_dilation, min_size 3). Boxes here are axis-aligned,
//! not minimum-area rotated rectangles: the pictures we decompose hold mostly horizontal
//! text, and layers are rectangles anyway.

use super::TextMap;
use crate::model::pixels::BBox;

/// Map probability above which a pixel counts as text.
pub const BINARY_THRESHOLD: f32 = 0.3;
/// Least mean probability inside a region's box for it to be kept.
pub const BOX_THRESHOLD: f32 = 0.5;
/// How far a region grows back: `area · ratio / perimeter`.
pub const UNCLIP_RATIO: f32 = 1.6;
/// Regions whose shorter side is below this many map pixels are noise.
const MIN_SIZE: f32 = 3.0;
/// Kept lines must be wider and taller than this many picture pixels.
const MIN_PICTURE_SIDE: u32 = 3;

/// One detected text line, in picture pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TextLine {
    /// The line's box in the picture (ends exclusive), grown back from the shrunk region
    /// the network predicts, clamped to the picture.
    pub bbox: BBox,
    /// Mean text probability inside the region's (shrunk) box, `BOX_THRESHOLD..=1`.
    pub score: f32,
}

/// DB post-processing of `map` for a picture of `picture = (width, height)` pixels:
/// binarise at [`BINARY_THRESHOLD`], dilate by 2×2 (as PP-OCR does, to join strokes split by
/// one pixel), take 8-connected regions, keep those whose box has mean probability
/// ≥ [`BOX_THRESHOLD`], grow each box by the DB unclip rule and scale it to the picture.
/// Lines come top to bottom, then left to right.
pub fn text_lines(map: &TextMap, picture: (u32, u32)) -> Vec<TextLine> {
    let (w, h) = (map.width as usize, map.height as usize);
    if w == 0 || h == 0 || map.values.len() != w * h {
        return Vec::new();
    }
    let mask = dilated_mask(&map.values, w, h);
    let sums = Integral::new(&map.values, w, h);
    let mut lines: Vec<TextLine> = regions(&mask, w, h)
        .into_iter()
        .filter_map(|b| line_from_region(b, &sums, map.scale, picture))
        .collect();
    lines.sort_by_key(|l| (l.bbox.y0, l.bbox.x0));
    lines
}

/// `values > BINARY_THRESHOLD`, dilated with a 2×2 square whose anchor is its bottom-right
/// cell (OpenCV's anchor for an even kernel): a pixel is set when it or its left, upper or
/// upper-left neighbour is above the threshold.
fn dilated_mask(values: &[f32], w: usize, h: usize) -> Vec<bool> {
    let on: Vec<bool> = values.iter().map(|&v| v > BINARY_THRESHOLD).collect();
    let mut out = on.clone();
    for y in 0..h {
        for x in 0..w {
            let left = x > 0 && on[y * w + x - 1];
            let up = y > 0 && on[(y - 1) * w + x];
            let diag = x > 0 && y > 0 && on[(y - 1) * w + x - 1];
            out[y * w + x] |= left || up || diag;
        }
    }
    out
}

/// The bounding box (inclusive pixel indices `x0, y0, x1, y1`) of each 8-connected region.
fn regions(mask: &[bool], w: usize, h: usize) -> Vec<[usize; 4]> {
    let mut seen = vec![false; mask.len()];
    let mut stack = Vec::new();
    let mut out = Vec::new();
    for start in 0..mask.len() {
        if !mask[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut b = [start % w, start / w, start % w, start / w];
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
            for ny in y.saturating_sub(1)..=(y + 1).min(h - 1) {
                for nx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
                    let j = ny * w + nx;
                    if mask[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        out.push(b);
    }
    out
}

/// The line for one region, or `None` when it is too small or too faint.
fn line_from_region(
    [x0, y0, x1, y1]: [usize; 4],
    sums: &Integral,
    scale: f32,
    (pw, ph): (u32, u32),
) -> Option<TextLine> {
    // Sides as DB measures them: between the outermost pixel centres.
    let (bw, bh) = ((x1 - x0) as f32, (y1 - y0) as f32);
    if bw.min(bh) < MIN_SIZE {
        return None;
    }
    let score = sums.mean(x0, y0, x1 + 1, y1 + 1);
    if score < BOX_THRESHOLD {
        return None;
    }
    let grow = bw * bh * UNCLIP_RATIO / (2.0 * (bw + bh));
    if bw.min(bh) + 2.0 * grow < MIN_SIZE + 2.0 {
        return None;
    }
    // Pixel i covers [i, i + 1) of the map; the grown box, in picture pixels.
    let to_picture = |v: f32, limit: u32| (v * scale).clamp(0.0, limit as f32);
    let bbox = BBox::new(
        to_picture(x0 as f32 - grow, pw).floor() as u32,
        to_picture(y0 as f32 - grow, ph).floor() as u32,
        to_picture(x1 as f32 + 1.0 + grow, pw).ceil() as u32,
        to_picture(y1 as f32 + 1.0 + grow, ph).ceil() as u32,
    );
    (bbox.width() > MIN_PICTURE_SIDE && bbox.height() > MIN_PICTURE_SIDE)
        .then_some(TextLine { bbox, score })
}

/// A summed-area table, for the mean of any rectangle in constant time.
struct Integral {
    w: usize,
    sums: Vec<f64>,
}

impl Integral {
    fn new(values: &[f32], w: usize, h: usize) -> Self {
        let mut sums = vec![0f64; (w + 1) * (h + 1)];
        for y in 0..h {
            let mut row = 0f64;
            for x in 0..w {
                row += f64::from(values[y * w + x]);
                sums[(y + 1) * (w + 1) + x + 1] = sums[y * (w + 1) + x + 1] + row;
            }
        }
        Self { w, sums }
    }

    /// Mean over `x0..x1 × y0..y1` (ends exclusive, non-empty).
    fn mean(&self, x0: usize, y0: usize, x1: usize, y1: usize) -> f32 {
        let s = |x: usize, y: usize| self.sums[y * (self.w + 1) + x];
        let total = s(x1, y1) - s(x0, y1) - s(x1, y0) + s(x0, y0);
        (total / ((x1 - x0) * (y1 - y0)) as f64) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `w × h` map with the given rectangles (ends exclusive) set to `p`.
    fn map_with(w: u32, h: u32, scale: f32, rects: &[([u32; 4], f32)]) -> TextMap {
        let mut values = vec![0.02; (w * h) as usize];
        for &([x0, y0, x1, y1], p) in rects {
            for y in y0..y1 {
                for x in x0..x1 {
                    values[(y * w + x) as usize] = p;
                }
            }
        }
        TextMap {
            width: w,
            height: h,
            scale,
            values,
        }
    }

    #[test]
    fn a_bright_bar_becomes_one_grown_line() {
        // Bar over map x 10..50, y 20..30 (inclusive extents 10..=49, 20..=29); the 2×2
        // dilation adds column 50 and row 30, so DB sides are 40 × 10.
        let map = map_with(64, 64, 2.0, &[([10, 20, 50, 30], 0.9)]);
        let lines = text_lines(&map, (128, 128));
        assert_eq!(lines.len(), 1);
        let grow = 40.0 * 10.0 * UNCLIP_RATIO / (2.0 * 50.0); // 6.4
        let want = BBox::new(
            ((10.0 - grow) * 2.0f32).floor() as u32,
            ((20.0 - grow) * 2.0f32).floor() as u32,
            ((51.0 + grow) * 2.0f32).ceil() as u32,
            ((31.0 + grow) * 2.0f32).ceil() as u32,
        );
        assert_eq!(lines[0].bbox, want);
        // The box includes the dilated border, so the mean is a little under 0.9.
        assert!(
            lines[0].score > 0.75 && lines[0].score < 0.9,
            "{}",
            lines[0].score
        );
    }

    #[test]
    fn faint_tiny_and_empty_regions_are_dropped() {
        let map = map_with(
            64,
            64,
            1.0,
            &[
                ([5, 5, 40, 12], 0.4),   // above 0.3 but box mean below 0.5
                ([50, 50, 52, 52], 0.9), // 3 × 3 after dilation: sides 2 < 3
            ],
        );
        assert!(text_lines(&map, (64, 64)).is_empty());
        let empty = TextMap {
            width: 0,
            height: 0,
            scale: 1.0,
            values: Vec::new(),
        };
        assert!(text_lines(&empty, (10, 10)).is_empty());
    }

    #[test]
    fn lines_are_clamped_to_the_picture_and_ordered() {
        let map = map_with(
            64,
            32,
            1.5,
            &[([30, 18, 60, 26], 0.95), ([0, 2, 40, 10], 0.95)],
        );
        // The picture is 90 × 45: the map's last rows and columns are padding.
        let lines = text_lines(&map, (90, 45));
        assert_eq!(lines.len(), 2);
        assert_eq!((lines[0].bbox.x0, lines[0].bbox.y0), (0, 0));
        assert!(lines[1].bbox.x1 == 90 && lines[1].bbox.y1 <= 45);
        assert!(lines[0].bbox.y0 < lines[1].bbox.y0);
    }
}
