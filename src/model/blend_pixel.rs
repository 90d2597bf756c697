//! One pixel's compositing formulas: a layer pixel over a backdrop (normal, atop for
//! clipped layers) and a group canvas merged back into the canvas below. Every compositor
//! path calls these, so they are the definition the WGSL shaders are tested against.

use super::BlendMode;
use super::blend_math::dissolve_threshold;
use super::pixels::{Premul, unit};

/// Composites one straight-alpha source pixel with layer `opacity` over the premultiplied
/// backdrop `below`, using `mode`. Dissolve depends on where the pixel is: this is
/// [`blend_pixel_at`] at the canvas origin and full fill, for callers that blend other modes.
#[inline]
pub fn blend_pixel(below: Premul, src: [u8; 4], opacity: f32, mode: BlendMode) -> Premul {
    blend_pixel_at(below, src, (opacity, 1.0), mode, (0, 0))
}

/// [`blend_pixel`] with the layer's `(opacity, fill opacity)`, for the pixel at canvas point
/// `at` (which only dissolve looks at).
#[inline]
pub fn blend_pixel_at(
    below: Premul,
    src: [u8; 4],
    (opacity, fill): (f32, f32),
    mode: BlendMode,
    at: (i64, i64),
) -> Premul {
    let cs = [unit(src[0]), unit(src[1]), unit(src[2])];
    blend_straight(below, cs, unit(src[3]) * opacity, fill, mode, at)
}

/// The W3C compositing formula for a straight colour `cs` whose alpha (with opacity and
/// any mask already applied) is `alpha`, over the premultiplied backdrop `below`.
///
/// Fill multiplies with alpha, except in the modes with a [`BlendMode::fill_neutral`]
/// colour `N`: there, with `α` the alpha and `φ` the fill,
///
/// ```text
/// co = α·φ·(1 − ab)·Cs + α·ab·B(Cb, N + φ·(Cs − N)) + (1 − α)·cb
/// ao = α·φ + ab·(1 − α·φ)
/// ```
#[inline]
pub fn blend_straight(
    below: Premul,
    cs: [f32; 3],
    alpha: f32,
    fill: f32,
    mode: BlendMode,
    at: (i64, i64),
) -> Premul {
    if alpha <= 0.0 {
        return below;
    }
    let a_s = alpha * fill;
    if mode == BlendMode::Dissolve {
        // Shown pixels are the layer's colour at full alpha; the others leave the backdrop.
        if a_s <= dissolve_threshold(at.0, at.1) {
            return below;
        }
        return [cs[0], cs[1], cs[2], 1.0];
    }
    let a_b = below[3];
    // Where the layer meets the backdrop: the colour the blend function sees, and at what
    // alpha its result covers the backdrop.
    let (blend_src, blend_alpha) = match mode.fill_neutral() {
        Some(neutral) if fill < 1.0 => (cs.map(|c| neutral + fill * (c - neutral)), alpha),
        _ => (cs, a_s),
    };
    let blended = if mode == BlendMode::Normal || a_b <= 0.0 {
        blend_src
    } else {
        mode.blend_rgb([below[0] / a_b, below[1] / a_b, below[2] / a_b], blend_src)
    };
    let mut out = [0.0; 4];
    for c in 0..3 {
        // The layer over transparency, the blend over the backdrop, the backdrop showing
        // through.
        out[c] = a_s * (1.0 - a_b) * cs[c]
            + blend_alpha * a_b * blended[c]
            + below[c] * (1.0 - blend_alpha);
    }
    out[3] = a_s + a_b * (1.0 - a_s);
    out
}

/// [`blend_straight`] for a clipped layer: "source atop", so the layer shows only where the
/// backdrop (its clipping base) has alpha, and the backdrop's alpha stays as it was. That is
/// the normal formula without its first term, the layer over transparency.
#[inline]
pub fn blend_atop(
    below: Premul,
    cs: [f32; 3],
    alpha: f32,
    fill: f32,
    mode: BlendMode,
    at: (i64, i64),
) -> Premul {
    let a_b = below[3];
    if alpha <= 0.0 || a_b <= 0.0 {
        return below;
    }
    let a_s = alpha * fill;
    if mode == BlendMode::Dissolve {
        if a_s <= dissolve_threshold(at.0, at.1) {
            return below;
        }
        return [cs[0] * a_b, cs[1] * a_b, cs[2] * a_b, a_b];
    }
    let mut out = blend_straight(below, cs, alpha, fill, mode, at);
    for c in 0..3 {
        out[c] -= a_s * (1.0 - a_b) * cs[c];
    }
    out[3] = a_b;
    out
}

/// Merges a group's canvas `top` into the canvas `below` it at `strength` (opacity times
/// mask). With a mode, the canvas blends over `below` like a layer; without one (a
/// pass-through group, whose canvas began as a copy of `below`) the result moves from
/// `below` toward `top`.
#[inline]
pub fn merge_canvas(
    below: Premul,
    top: Premul,
    strength: f32,
    mode: Option<BlendMode>,
    at: (i64, i64),
) -> Premul {
    match mode {
        None => std::array::from_fn(|c| below[c] + (top[c] - below[c]) * strength),
        Some(mode) => {
            let a = top[3];
            if a <= 0.0 {
                return below;
            }
            let cs = [top[0] / a, top[1] / a, top[2] / a].map(|c| c.clamp(0.0, 1.0));
            blend_straight(below, cs, a.min(1.0) * strength, 1.0, mode, at)
        }
    }
}
