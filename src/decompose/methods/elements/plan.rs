//! A found layer before it has pixels ([`Plan`]), and *peeling*: solving its alpha and
//! colour against what lies beneath it, then replacing it by that underlay so that the next
//! layer down is solved on a picture without it.
//!
//! Peeling runs top-down. For a layer with underlay `U` (the smooth background, or the body
//! of the panel it sits on) and element colour `F`, a pixel `P` is the mixture
//! `α·F + (1 − α)·U`; `α` is the projection of `P − U` on `F − U` (or on `−U` where the
//! pixel reads as a soft shadow, a darkening with no colour of its own). The stored colour is
//! then solved back from `P`, `U` and the 8-bit `α`, so that compositing the layer over the
//! next picture down gives `P` again: the stack reproduces the input whatever the estimates.

use super::field::{Field, Rgb};
use crate::model::pixels::{
    BBox, alpha_to_u8_up, crop_in_place, min_unblend_alpha, to_u8, unblend, unit,
};
use crate::model::{Offset, RgbaImage};

/// What kind of thing a layer holds; it names the layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A block of text lines in one colour.
    Text,
    /// A flat shape: a card, button, bar or badge that other elements may sit on.
    Shape,
    /// Any other element that stands out from its backdrop: an icon, logo, picture.
    Graphic,
}

/// One layer found at analysis resolution, everything cropped to `bbox`.
#[derive(Clone, Debug)]
pub struct Plan {
    pub kind: Kind,
    /// Where the layer may have alpha, in analysis pixels.
    pub bbox: BBox,
    /// Pixels of `bbox` (row-major) that belong to the layer (alpha may still come out 0).
    pub mask: Vec<bool>,
    /// Pixels surely covered: alpha 1, no unmixing.
    pub solid: Vec<bool>,
    /// The element's own colour at each pixel of `bbox` (near its edges: the colour of the
    /// nearest solid pixel).
    pub colour: Field,
    /// What lies beneath the layer at each pixel of `bbox`.
    pub underlay: Field,
    /// The layer's words, for text that was read.
    pub words: Option<String>,
    /// Alpha already known at analysis resolution (all three channels hold it), sampled
    /// instead of unmixing: a photographic object's matte.
    pub alpha: Option<Field>,
}

/// Where `p` lies on the segment from `from` to `to`: the share `a` (`0..=1`) of the way
/// whose point is nearest, and the squared distance from `p` to that point. `(0, ∞)` when
/// the two ends coincide.
pub fn project(p: Rgb, from: Rgb, to: Rgb) -> (f32, f32) {
    let d: Rgb = std::array::from_fn(|c| p[c] - from[c]);
    let e: Rgb = std::array::from_fn(|c| to[c] - from[c]);
    let ee: f32 = e.iter().map(|v| v * v).sum();
    if ee < 1e-6 {
        return (0.0, f32::INFINITY);
    }
    let a = (d.iter().zip(&e).map(|(x, y)| x * y).sum::<f32>() / ee).clamp(0.0, 1.0);
    let r: f32 = (0..3).map(|c| (d[c] - a * e[c]).powi(2)).sum();
    (a, r)
}

/// Alpha of picture colour `p` as a mixture of element colour `f` over underlay `u`, and
/// whether the pixel reads better as a shadow (black over `u`).
pub fn unmix(p: Rgb, u: Rgb, f: Rgb) -> f32 {
    let (a_f, r_f) = project(p, u, f);
    let (a_s, r_s) = project(p, u, [0.0; 3]);
    if r_f.is_infinite() && r_s.is_infinite() {
        return 0.0;
    }
    // A shadow only where it explains the pixel clearly better than the element's colour:
    // a dark element's own edge also lies on the line towards black.
    if r_s * 2.0 < r_f { a_s } else { a_f }
}

/// Solves one pixel of a layer: its straight RGBA8 value given the picture `p`, the
/// underlay `u` and the estimated alpha. Returns `None` when the layer is transparent here.
pub fn solve(p: Rgb, u: Rgb, alpha: f32) -> Option<[u8; 4]> {
    // The 8-bit alpha must be at least what lets some colour in 0..=1 reproduce `p`.
    let needed = alpha_to_u8_up(min_unblend_alpha(p, u));
    let a = to_u8(alpha).max(needed);
    if a == 0 {
        return None;
    }
    let f = unblend(p, u, f32::from(a) / 255.0);
    Some([to_u8(f[0]), to_u8(f[1]), to_u8(f[2]), a])
}

/// Peels `plan` off `picture` (`scale` is picture pixels per analysis pixel): returns the
/// layer's pixels and offset, cropped to what it covers, and leaves the underlay in
/// `picture` where the layer has alpha. `None` when nothing was covered.
pub fn peel(plan: &Plan, picture: &mut RgbaImage, scale: f32) -> Option<(RgbaImage, Offset)> {
    let b = plan.bbox;
    let (pw, ph) = (picture.width() as usize, picture.height() as usize);
    let x0 = ((b.x0 as f32 * scale).floor() as usize).min(pw);
    let y0 = ((b.y0 as f32 * scale).floor() as usize).min(ph);
    let x1 = ((b.x1 as f32 * scale).ceil() as usize).min(pw);
    let y1 = ((b.y1 as f32 * scale).ceil() as usize).min(ph);
    if x1 <= x0 || y1 <= y0 {
        return None;
    }
    let (bw, bh) = (b.width() as usize, b.height() as usize);
    let mut layer = RgbaImage::new((x1 - x0) as u32, (y1 - y0) as u32);
    let mut covered: Option<BBox> = None;
    for y in y0..y1 {
        let ay = ((y as f32 + 0.5) / scale) as usize;
        let ly = ay.clamp(b.y0 as usize, b.y0 as usize + bh - 1) - b.y0 as usize;
        for x in x0..x1 {
            let ax = ((x as f32 + 0.5) / scale) as usize;
            let lx = ax.clamp(b.x0 as usize, b.x0 as usize + bw - 1) - b.x0 as usize;
            let li = ly * bw + lx;
            if !plan.mask[li] {
                continue;
            }
            let u = plan.underlay.sample(
                (x as f32 + 0.5) / scale - b.x0 as f32,
                (y as f32 + 0.5) / scale - b.y0 as f32,
            );
            let px = picture.get_pixel(x as u32, y as u32).0;
            let p = [unit(px[0]), unit(px[1]), unit(px[2])];
            let (fx, fy) = (
                (x as f32 + 0.5) / scale - b.x0 as f32,
                (y as f32 + 0.5) / scale - b.y0 as f32,
            );
            let alpha = match &plan.alpha {
                Some(known) => known.sample(fx, fy)[0],
                None if plan.solid[li] => 1.0,
                None => unmix(p, u, plan.colour.data[li]),
            };
            let Some(solved) = solve(p, u, alpha) else {
                continue;
            };
            layer.put_pixel((x - x0) as u32, (y - y0) as u32, image::Rgba(solved));
            // The underlay is what the next layer down must reproduce here.
            picture.put_pixel(
                x as u32,
                y as u32,
                image::Rgba([to_u8(u[0]), to_u8(u[1]), to_u8(u[2]), px[3]]),
            );
            match covered.as_mut() {
                Some(c) => c.include(x as u32, y as u32),
                None => covered = Some(BBox::pixel(x as u32, y as u32)),
            }
        }
    }
    let c = covered?;
    let (dx, dy) = (c.x0 - x0 as u32, c.y0 - y0 as u32);
    let crop = crop_in_place(layer, BBox::at(dx, dy, c.width(), c.height()));
    Some((crop, Offset::new(c.x0 as i32, c.y0 as i32)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edge_pixel_unmixes_to_its_coverage() {
        let (f, u) = ([1.0, 0.0, 0.0], [0.0, 0.0, 1.0]);
        let p = [0.3, 0.0, 0.7];
        assert!((unmix(p, u, f) - 0.3).abs() < 1e-5);
    }

    #[test]
    fn a_darkened_backdrop_reads_as_a_shadow() {
        let (f, u) = ([0.9, 0.9, 0.2], [0.8, 0.6, 0.4]);
        let p = u.map(|v| v * 0.75);
        assert!((unmix(p, u, f) - 0.25).abs() < 1e-5);
    }

    #[test]
    fn a_solved_pixel_composites_back() {
        let (p, u) = ([0.31, 0.52, 0.2], [0.9, 0.9, 0.9]);
        for alpha in [0.05, 0.4, 1.0] {
            let px = solve(p, u, alpha).expect("covered");
            let a = f32::from(px[3]) / 255.0;
            for c in 0..3 {
                let back = a * f32::from(px[c]) / 255.0 + (1.0 - a) * u[c];
                assert!(
                    (back - p[c]).abs() < 1.0 / 255.0,
                    "{alpha}: {back} vs {}",
                    p[c]
                );
            }
        }
    }
}
