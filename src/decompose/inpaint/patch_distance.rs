//! The patch distance of the fill: how far a source patch is from a target patch once it is
//! shifted in colour towards the target (bias correction after Darabi et al., "Image
//! Melding", SIGGRAPH 2012, bias only), with texture features weighed in. It is the inner
//! loop of both PatchMatch's search and the voting, hence its integer arithmetic.

use super::canvas::{Canvas, INV, Px, TEX_VALUES};

/// Patch radius: 7×7 patches, the usual size for photographs.
pub(crate) const RADIUS: usize = 3;
/// Pixels in a full patch.
pub(crate) const PATCH_PIXELS: f32 = ((2 * RADIUS + 1) * (2 * RADIUS + 1)) as f32;
/// Price λ of a colour shift δ, per patch pixel: the cost is Σ(t − s − δ)² + λ·n·|δ|²,
/// minimised by δ = (mean(t) − mean(s)) / (1 + λ). Small enough to follow gradients, large
/// enough that among equally good structures the one with the right colour wins.
const BIAS_PRICE: f32 = 0.05;
/// 1 / (1 + λ).
const BIAS_SHRINK: f32 = 1.0 / (1.0 + BIAS_PRICE);

/// The colour shift δ applied to source patch `s` when it stands in for target patch `t`;
/// `means` holds every pixel's patch mean ([`Canvas::box_mean`]).
#[inline]
pub(crate) fn bias(means: &[Px], t: usize, s: usize) -> [f32; 4] {
    let (a, b) = (means[t], means[s]);
    const K: f32 = INV * BIAS_SHRINK;
    [
        (i32::from(a[0]) - i32::from(b[0])) as f32 * K,
        (i32::from(a[1]) - i32::from(b[1])) as f32 * K,
        (i32::from(a[2]) - i32::from(b[2])) as f32 * K,
        (i32::from(a[3]) - i32::from(b[3])) as f32 * K,
    ]
}

/// Pixels in a patch row.
const ROW: usize = 2 * RADIUS + 1;

/// Adds to `squares` the sum of squared byte differences of pixels `p` less `q` (over all
/// four channels), and to `sums` their per-channel sums.
#[inline(always)]
fn row_differences<P: AsRef<[Px]> + ?Sized>(p: &P, q: &P, squares: &mut i32, sums: &mut [i32; 4]) {
    // Spelled out per channel: the dev profile's light optimisation leaves small
    // closures here as calls, which doubled the time of the whole fill.
    for (p, q) in p.as_ref().iter().zip(q.as_ref()) {
        let d0 = i32::from(p[0]) - i32::from(q[0]);
        let d1 = i32::from(p[1]) - i32::from(q[1]);
        let d2 = i32::from(p[2]) - i32::from(q[2]);
        let d3 = i32::from(p[3]) - i32::from(q[3]);
        *squares += d0 * d0 + d1 * d1 + d2 * d2 + d3 * d3;
        sums[0] += d0;
        sums[1] += d1;
        sums[2] += d2;
        sums[3] += d3;
    }
}

/// Bias-corrected sum of squared differences between the patches centred at `t` and `s`,
/// over the part of the target patch inside the image. Stops early once above `cutoff`.
#[inline]
pub(crate) fn distance(
    img: &Canvas,
    means: &[Px],
    (t, s): (usize, usize),
    texture_weight: f32,
    cutoff: f32,
) -> f32 {
    let w = img.width;
    // In byte units (×255) so the inner loop needs no scaling; scaled back at the end.
    let delta = bias(means, t, s).map(|v| f64::from(v) * 255.0);
    let cutoff = f64::from(cutoff) * 255.0 * 255.0;
    let r = RADIUS as i64;
    let (tx, ty) = ((t % w) as i64, (t / w) as i64);
    let (sx, sy) = ((s % w) as i64, (s / w) as i64);
    let dx0 = (-r).max(-tx);
    let dx1 = r.min(w as i64 - 1 - tx);
    let dy0 = (-r).max(-ty);
    let dy1 = r.min(img.height as i64 - 1 - ty);
    let len = (dx1 - dx0 + 1) as usize;
    let shift2 = delta.iter().map(|d| d * d).sum::<f64>();
    let base = f64::from(BIAS_PRICE * PATCH_PIXELS) * shift2;
    let textured = !img.tex.is_empty();
    let tw = f64::from(texture_weight) * 255.0 * 255.0;
    // Σ(d − δ)² over a patch is Σd² − 2δ·Σd + n|δ|², with d the integer byte differences:
    // the inner loop then sums integers only (no conversions to float per pixel), and the
    // float combination runs once a row. Sums stay far below i32's range (49 pixels of at
    // most 4·255²).
    let (mut squares, mut sums, mut count) = (0i32, [0i32; 4], 0usize);
    let mut texture = 0.0f32;
    for dy in dy0..=dy1 {
        let a = ((ty + dy) * w as i64 + tx + dx0) as usize;
        let b = ((sy + dy) * w as i64 + sx + dx0) as usize;
        let (p, q) = (&img.px[a..a + len], &img.px[b..b + len]);
        // A whole row (all but patches at the canvas edge) as fixed-size arrays, so the
        // compiler unrolls it and packs the byte arithmetic into vector instructions.
        match (<&[Px; ROW]>::try_from(p), <&[Px; ROW]>::try_from(q)) {
            (Ok(p), Ok(q)) => row_differences(p, q, &mut squares, &mut sums),
            _ => row_differences(p, q, &mut squares, &mut sums),
        }
        count += len;
        if textured {
            for (p, q) in img.tex[a..a + len].iter().zip(&img.tex[b..b + len]) {
                let e0 = TEX_VALUES[usize::from(p[0])] - TEX_VALUES[usize::from(q[0])];
                let e1 = TEX_VALUES[usize::from(p[1])] - TEX_VALUES[usize::from(q[1])];
                texture += e0 * e0 + e1 * e1;
            }
        }
        let cross = delta[0] * f64::from(sums[0])
            + delta[1] * f64::from(sums[1])
            + delta[2] * f64::from(sums[2])
            + delta[3] * f64::from(sums[3]);
        let sum = base + f64::from(squares) - 2.0 * cross
            + count as f64 * shift2
            + tw * f64::from(texture);
        if sum >= cutoff || dy == dy1 {
            return (sum * f64::from(INV * INV)) as f32;
        }
    }
    (base * f64::from(INV * INV)) as f32
}
