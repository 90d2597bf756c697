//! Colour fields at analysis resolution: the picture as straight sRGB floats, and the smooth
//! fill ("push–pull") that continues a field from the pixels where it is known into the
//! pixels where it is not.
//!
//! Everything here works in straight sRGB in `0..=1`, the space the compositor blends in:
//! an element's alpha solved there composites back to the picture exactly.

use crate::model::RgbaImage;
use crate::model::pixels::unit;

/// A straight sRGB colour in `0..=1`.
pub type Rgb = [f32; 3];

/// A rectangular grid of colours.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub width: usize,
    pub height: usize,
    pub data: Vec<Rgb>,
}

impl Field {
    /// A field of one colour.
    pub fn filled(width: usize, height: usize, colour: Rgb) -> Self {
        Self {
            width,
            height,
            data: vec![colour; width * height],
        }
    }

    /// A field whose colour at `(x, y)` is `colour(x, y)`.
    pub fn from_fn(width: usize, height: usize, colour: impl Fn(usize, usize) -> Rgb) -> Self {
        Self {
            width,
            height,
            data: (0..width * height)
                .map(|i| colour(i % width, i / width))
                .collect(),
        }
    }

    /// The colours of `image` (alpha ignored: the method only takes opaque pictures).
    pub fn from_image(image: &RgbaImage) -> Self {
        let data = image
            .pixels()
            .map(|p| [unit(p.0[0]), unit(p.0[1]), unit(p.0[2])])
            .collect();
        Self {
            width: image.width() as usize,
            height: image.height() as usize,
            data,
        }
    }

    /// The colour at `(x, y)`.
    pub fn at(&self, x: usize, y: usize) -> Rgb {
        self.data[y * self.width + x]
    }

    /// Bilinear sample at continuous coordinates (pixel centres at `i + 0.5`), clamped to
    /// the edges.
    pub fn sample(&self, x: f32, y: f32) -> Rgb {
        let fx = (x - 0.5).clamp(0.0, (self.width - 1) as f32);
        let fy = (y - 0.5).clamp(0.0, (self.height - 1) as f32);
        let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
        let (tx, ty) = (fx - x0 as f32, fy - y0 as f32);
        let (a, b, c, d) = (
            self.at(x0, y0),
            self.at(x1, y0),
            self.at(x0, y1),
            self.at(x1, y1),
        );
        std::array::from_fn(|k| {
            let top = a[k] + (b[k] - a[k]) * tx;
            let bottom = c[k] + (d[k] - c[k]) * tx;
            top + (bottom - top) * ty
        })
    }
}

/// Largest per-channel difference of two colours.
pub fn distance(a: Rgb, b: Rgb) -> f32 {
    (a[0] - b[0])
        .abs()
        .max((a[1] - b[1]).abs())
        .max((a[2] - b[2]).abs())
}

/// The per-channel median of `colours` (the upper one of an even count); black when there
/// are none.
pub fn median(colours: &[Rgb]) -> Rgb {
    std::array::from_fn(|c| {
        let mut v: Vec<f32> = colours.iter().map(|p| p[c]).collect();
        v.sort_by(f32::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    })
}

/// Continues `field` from the pixels where `known` holds into the others, smoothly.
///
/// Push–pull (Gortler et al. 1996): averages of the known pixels are pushed down an image
/// pyramid, each level halving the size, until every cell has some known content; then each
/// level is pulled back up, where a cell with little known content takes the bilinearly
/// upsampled coarser value. Known pixels keep their colour when `keep_known`; otherwise
/// every pixel gets the pulled value from one level up, a slightly smoothed field that
/// does not copy the pixels' noise (what a background *model* should be).
///
/// A field with no known pixel at all comes back unchanged.
pub fn push_pull(field: &Field, known: &[bool], keep_known: bool) -> Field {
    let (w, h) = (field.width, field.height);
    let mut levels: Vec<(Field, Vec<f32>)> = Vec::new();
    let weights: Vec<f32> = known.iter().map(|&k| f32::from(u8::from(k))).collect();
    if !weights.iter().any(|&v| v > 0.0) {
        return field.clone();
    }
    levels.push((field.clone(), weights));
    while {
        let (f, _) = &levels[levels.len() - 1];
        f.width > 1 || f.height > 1
    } {
        let (fine, fine_w) = &levels[levels.len() - 1];
        let (cw, ch) = (fine.width.div_ceil(2), fine.height.div_ceil(2));
        let mut coarse = Field::filled(cw, ch, [0.0; 3]);
        let mut coarse_w = vec![0.0f32; cw * ch];
        for cy in 0..ch {
            for cx in 0..cw {
                let (mut sum, mut weight, mut cells) = ([0.0f32; 3], 0.0f32, 0.0f32);
                for (x, y) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let (fx, fy) = (2 * cx + x, 2 * cy + y);
                    if fx >= fine.width || fy >= fine.height {
                        continue;
                    }
                    let i = fy * fine.width + fx;
                    let wt = fine_w[i];
                    for (acc, v) in sum.iter_mut().zip(fine.data[i]) {
                        *acc += v * wt;
                    }
                    weight += wt;
                    cells += 1.0;
                }
                let i = cy * cw + cx;
                if weight > 0.0 {
                    coarse.data[i] = sum.map(|s| s / weight);
                }
                coarse_w[i] = weight / cells;
            }
        }
        levels.push((coarse, coarse_w));
    }
    // Pull: from the coarsest level up, blend each level's average with the upsampled value
    // of the level above in proportion to how much of the cell was known.
    let mut pulled = levels[levels.len() - 1].0.clone();
    for level in (0..levels.len() - 1).rev() {
        let (own, own_w) = &levels[level];
        let scale_x = pulled.width as f32 / own.width as f32;
        let scale_y = pulled.height as f32 / own.height as f32;
        let mut next = Field::filled(own.width, own.height, [0.0; 3]);
        for y in 0..own.height {
            for x in 0..own.width {
                let up = pulled.sample((x as f32 + 0.5) * scale_x, (y as f32 + 0.5) * scale_y);
                let i = y * own.width + x;
                // A cell counts as known from a quarter of its area up: below that its
                // average is dominated by whichever few pixels happened to be known.
                let trust = if level == 0 {
                    if keep_known { own_w[i] } else { 0.0 }
                } else {
                    (own_w[i] * 4.0).min(1.0)
                };
                next.data[i] =
                    std::array::from_fn(|c| own.data[i][c] * trust + up[c] * (1.0 - trust));
            }
        }
        pulled = next;
    }
    debug_assert_eq!((pulled.width, pulled.height), (w, h));
    pulled
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: usize, h: usize) -> Field {
        Field::from_fn(w, h, |x, y| [x as f32 / w as f32, y as f32 / h as f32, 0.5])
    }

    #[test]
    fn a_hole_in_a_flat_field_is_filled_with_its_colour() {
        let mut f = Field::filled(40, 30, [0.2, 0.4, 0.6]);
        let mut known = vec![true; 40 * 30];
        for y in 10..20 {
            for x in 10..30 {
                f.data[y * 40 + x] = [1.0, 0.0, 0.0];
                known[y * 40 + x] = false;
            }
        }
        let filled = push_pull(&f, &known, true);
        for p in &filled.data {
            assert!(distance(*p, [0.2, 0.4, 0.6]) < 1e-5, "{p:?}");
        }
    }

    #[test]
    fn a_hole_in_a_gradient_is_filled_close_to_the_gradient() {
        let truth = gradient(64, 48);
        let mut known = vec![true; 64 * 48];
        for y in 16..32 {
            for x in 20..44 {
                known[y * 64 + x] = false;
            }
        }
        let filled = push_pull(&truth, &known, true);
        let worst = filled
            .data
            .iter()
            .zip(&truth.data)
            .map(|(a, b)| distance(*a, *b))
            .fold(0.0f32, f32::max);
        assert!(worst < 0.08, "worst error {worst}");
        for (i, k) in known.iter().enumerate() {
            if *k {
                assert!(distance(filled.data[i], truth.data[i]) < 1e-6);
            }
        }
    }

    #[test]
    fn nothing_known_leaves_the_field_alone() {
        let f = gradient(8, 8);
        assert_eq!(push_pull(&f, &[false; 64], true), f);
    }
}
