//! Full-resolution mattes, the inpainting hole, and the split of each pixel between an
//! object layer and the background layer so that their composite is the input again.
//!
//! For a pixel of object `k` with input colour `I`, input alpha `aᵢ`, refined matte `m` and
//! inpainted background colour `B`, the object layer gets alpha `α` and colour `F`, the
//! background layer gets colour `B` and alpha `a_B`, chosen so that "`F` over `B`" gives
//! back `(I, aᵢ)` exactly (in real numbers):
//!
//! ```text
//! a_B = (aᵢ − α) / (1 − α)            (any value when α = 1: the inpainted alpha is kept)
//! F   = B + aᵢ · (I − B) / α
//! ```
//!
//! `F` must stay in `0..=1`, which needs `α ≥ aᵢ·(I−B)/(1−B)` where `I > B` and
//! `α ≥ aᵢ·(B−I)/B` where `I < B`; so `α = max(m·aᵢ, those bounds)`. Where the inpainted
//! background is close to the original the bounds are small and `α` is the matte; where it
//! differs (a colour fringe the matte missed), the object layer takes the difference
//! instead of leaving a halo on the background. Pixels outside every object keep the input
//! on the background layer, so only real object pixels are ever replaced by inpainting.

use image::GrayImage;
use rayon::prelude::*;

use super::guided::GuidedCoeffs;
use super::select::Selection;
use crate::decompose::nn::u2net::taps;
use crate::decompose::segment::morphology;
use crate::decompose::{DecomposeError, Progress};
use crate::model::pixels::{alpha_to_u8_up, min_unblend_alpha, premultiply, to_u8, unblend, unit};
use crate::model::{BBox, RgbaImage};

/// Refined matte values at or below this become 0, at or above [`SOLID`] become 1; in between
/// they are stretched linearly (cleans the guided filter's faint tails and soft cores).
pub const CLEAR: f32 = 0.05;
/// See [`CLEAR`].
pub const SOLID: f32 = 0.95;

/// The objects' alpha at full resolution: one matte, each pixel owned by at most one object.
#[derive(Clone, Debug)]
pub struct FullMatte {
    pub width: u32,
    pub height: u32,
    /// Matte × input alpha, 0..=255.
    pub alpha: Vec<u8>,
    /// Owning object's label; 0 where `alpha` is 0.
    pub label: Vec<u8>,
}

/// Stretches a refined matte value between [`CLEAR`] and [`SOLID`] to `0..=1`.
#[inline]
pub fn remap(q: f32) -> f32 {
    ((q - CLEAR) / (SOLID - CLEAR)).clamp(0.0, 1.0)
}

/// A straight-alpha pixel composited over white, in `0..=1` (the guide colour).
#[inline]
pub fn over_white(p: [u8; 4]) -> [f32; 3] {
    // Premultiplied colour plus the white that shows through.
    let [r, g, b, a] = premultiply(p);
    [r, g, b].map(|c| c + (1.0 - a))
}

/// Applies the guided-filter coefficients to every pixel of `image` and keeps each pixel
/// only for the object that owns it in `selection` (nearest working-resolution cell).
pub fn full_matte(
    image: &RgbaImage,
    coeffs: &GuidedCoeffs,
    selection: &Selection,
    progress: &Progress,
) -> Result<FullMatte, DecomposeError> {
    let (w, h) = image.dimensions();
    let xt = taps(coeffs.width, w);
    let yt = taps(coeffs.height, h);
    let nearest = |src: u32, dst: u32, i: u32| {
        ((u64::from(i) * 2 + 1) * u64::from(src) / (2 * u64::from(dst))) as usize
    };
    let lx: Vec<usize> = (0..w).map(|x| nearest(selection.width, w, x)).collect();
    let sw = selection.width as usize;
    let mut alpha = vec![0u8; w as usize * h as usize];
    let mut label = vec![0u8; w as usize * h as usize];
    alpha
        .par_chunks_mut(w as usize)
        .zip(label.par_chunks_mut(w as usize))
        .enumerate()
        .try_for_each(|(y, (alpha_row, label_row))| {
            if y % 64 == 0 {
                progress.check()?;
            }
            let ly = nearest(selection.height, h, y as u32);
            let labels = &selection.labels[ly * sw..(ly + 1) * sw];
            let src = &image.as_raw()[y * w as usize * 4..(y + 1) * w as usize * 4];
            for (x, px) in src.chunks_exact(4).enumerate() {
                let l = labels[lx[x]];
                if l == 0 || px[3] == 0 {
                    continue;
                }
                let (a, b) = coeffs.sample(xt[x], yt[y]);
                let i = over_white([px[0], px[1], px[2], px[3]]);
                let m = remap(a[0] * i[0] + a[1] * i[1] + a[2] * i[2] + b);
                let v = (m * f32::from(px[3])).round() as u8;
                if v > 0 {
                    alpha_row[x] = v;
                    label_row[x] = l;
                }
            }
            Ok(())
        })?;
    Ok(FullMatte {
        width: w,
        height: h,
        alpha,
        label,
    })
}

/// The inpainting hole: every object pixel, grown by `radius` (square window) so that the
/// fill does not copy the objects' own blurred edges. 255 = fill, 0 = keep.
pub fn hole_mask(matte: &FullMatte, radius: usize) -> GrayImage {
    let (w, h) = (matte.width as usize, matte.height as usize);
    let inside: Vec<bool> = matte.alpha.iter().map(|&a| a > 0).collect();
    let out = morphology::dilate(&inside, w, h, radius)
        .into_iter()
        .map(|b| if b { 255 } else { 0 })
        .collect();
    GrayImage::from_raw(matte.width, matte.height, out).unwrap_or_default()
}

/// One object's cropped layer.
#[derive(Clone, Debug)]
pub struct ObjectLayer {
    pub label: u8,
    pub pixels: RgbaImage,
    /// Top-left corner on the picture.
    pub x: u32,
    pub y: u32,
}

/// Splits `image` into the background (written into `background`, which arrives holding
/// the inpainted picture) and one cropped layer per object label `1..=count`, following the
/// formulas in the module documentation.
pub fn split(
    image: &RgbaImage,
    background: &mut RgbaImage,
    matte: &FullMatte,
    count: u8,
    progress: &Progress,
) -> Result<Vec<ObjectLayer>, DecomposeError> {
    let w = matte.width as usize;
    // Outside the objects, the background is the input itself.
    background
        .as_mut()
        .par_chunks_mut(4)
        .zip(image.as_raw().par_chunks(4))
        .zip(matte.alpha.par_iter())
        .for_each(|((bg, src), &a)| {
            if a == 0 {
                bg.copy_from_slice(src);
            }
        });
    progress.check()?;

    let mut boxes: Vec<Option<BBox<usize>>> = vec![None; usize::from(count) + 1];
    for (i, &l) in matte.label.iter().enumerate() {
        if l != 0 {
            let (x, y) = (i % w, i / w);
            boxes[usize::from(l)]
                .get_or_insert(BBox::pixel(x, y))
                .include(x, y);
        }
    }
    let mut layers = Vec::new();
    for label in 1..=count {
        let Some(BBox { x0, y0, x1, y1 }) = boxes[usize::from(label)] else {
            continue;
        };
        progress.check()?;
        let bw = x1 - x0;
        let mut pixels = RgbaImage::new(bw as u32, (y1 - y0) as u32);
        let bg_rows = &mut background.as_mut()[y0 * w * 4..y1 * w * 4];
        pixels
            .as_mut()
            .par_chunks_mut(bw * 4)
            .zip(bg_rows.par_chunks_mut(w * 4))
            .enumerate()
            .for_each(|(r, (obj_row, bg_row))| {
                let y = y0 + r;
                for x in x0..x1 {
                    let i = y * w + x;
                    if matte.label[i] != label {
                        continue;
                    }
                    let src = &image.as_raw()[i * 4..i * 4 + 4];
                    let bg = &mut bg_row[x * 4..x * 4 + 4];
                    let (fg, new_bg) = split_pixel(src, bg, matte.alpha[i]);
                    obj_row[(x - x0) * 4..(x - x0) * 4 + 4].copy_from_slice(&fg);
                    bg.copy_from_slice(&new_bg);
                }
            });
        layers.push(ObjectLayer {
            label,
            pixels,
            x: x0 as u32,
            y: y0 as u32,
        });
    }
    Ok(layers)
}

/// The object pixel and the new background pixel for input `src`, inpainted `bg` and matte
/// alpha `m` (already multiplied by the input alpha).
fn split_pixel(src: &[u8], bg: &[u8], m: u8) -> ([u8; 4], [u8; 4]) {
    let a_in = unit(src[3]);
    let i = [0, 1, 2].map(|c| unit(src[c]));
    let b = [0, 1, 2].map(|c| unit(bg[c]));
    // The layer covers a share a_in of the input; within it, F must unblend over B.
    let alpha = unit(m).max(a_in * min_unblend_alpha(i, b));
    // Round alpha up so that F stays within range after quantisation.
    let alpha_u8 = alpha_to_u8_up(alpha);
    if alpha_u8 == 0 {
        return ([0; 4], [src[0], src[1], src[2], src[3]]);
    }
    let alpha = unit(alpha_u8);
    let fg = unblend(i, b, alpha / a_in).map(to_u8);
    let a_bg = if alpha_u8 == 255 {
        bg[3]
    } else {
        to_u8((a_in - alpha) / (1.0 - alpha))
    };
    ([fg[0], fg[1], fg[2], alpha_u8], [bg[0], bg[1], bg[2], a_bg])
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::BlendMode;
    use crate::model::composite_cpu::blend_pixel;

    /// "fg over bg" for one straight-alpha pixel, premultiplied result in 0..=1.
    fn over(fg: [u8; 4], bg: [u8; 4]) -> [f32; 4] {
        blend_pixel(premultiply(bg), fg, 1.0, BlendMode::Normal)
    }

    #[test]
    fn split_pixels_composite_back_to_the_input() {
        let cases = [
            ([200, 40, 30, 255], [90, 120, 160, 255], 128),
            ([200, 40, 30, 255], [90, 120, 160, 255], 3),
            ([10, 250, 30, 255], [240, 240, 240, 255], 0),
            ([120, 130, 140, 180], [120, 90, 200, 255], 60),
            ([0, 0, 0, 255], [255, 255, 255, 255], 255),
        ];
        for (src, bg, m) in cases {
            let (fg, new_bg) = split_pixel(&src, &bg, m);
            let got = over(fg, new_bg);
            let want = premultiply(src);
            let a = want[3];
            for c in 0..3 {
                let want = want[c];
                assert!(
                    (got[c] - want).abs() < 2.5 / 255.0,
                    "{src:?} {bg:?} {m}: {got:?}"
                );
            }
            assert!(
                (got[3] - a).abs() < 1.5 / 255.0,
                "{src:?}: alpha {}",
                got[3]
            );
            assert!(fg[3] >= m);
        }
    }
}
