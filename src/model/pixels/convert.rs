//! Conversions between stored bytes and the floats the maths runs on.

/// A premultiplied RGBA value in `0..=1`: colour already multiplied by alpha.
pub type Premul = [f32; 4];

/// An 8-bit channel as a float in `0..=1`.
#[inline]
pub fn unit(v: u8) -> f32 {
    f32::from(v) / 255.0
}

/// A float in `0..=1` as an 8-bit channel: clamped, then rounded to nearest (never
/// truncated, which would bias every value down by half a step).
#[inline]
pub fn to_u8(v: f32) -> u8 {
    (v.clamp(0.0, 1.0) * 255.0).round() as u8
}

/// An alpha in `0..=1` as a byte rounded *up*, for alphas that are a lower bound: a colour
/// solved for the stored (larger) alpha still fits in `0..=1`. The thousandth of a step
/// forgiven keeps an alpha that is a whole step up to float error from gaining a step.
#[inline]
pub fn alpha_to_u8_up(alpha: f32) -> u8 {
    (alpha * 255.0 - 1e-3).ceil().clamp(0.0, 255.0) as u8
}

/// Straight 8-bit → premultiplied float.
#[inline]
pub fn premultiply(p: [u8; 4]) -> Premul {
    let a = unit(p[3]);
    [unit(p[0]) * a, unit(p[1]) * a, unit(p[2]) * a, a]
}

/// Premultiplied float → straight 8-bit, rounding to nearest. A value whose alpha rounds to
/// 0 is transparent and becomes `[0, 0, 0, 0]`: its colour would be stored with nothing to
/// show it, and dividing by a tiny alpha only amplifies float error.
#[inline]
pub fn unpremultiply(p: Premul) -> [u8; 4] {
    let alpha = to_u8(p[3]);
    if alpha == 0 {
        return [0, 0, 0, 0];
    }
    let a = p[3].clamp(0.0, 1.0);
    let channel = |c: f32| to_u8(c / a);
    [channel(p[0]), channel(p[1]), channel(p[2]), alpha]
}

/// Clamps a premultiplied value to a valid one: alpha to `0..=1`, colour to `0..=alpha`
/// (filters that extrapolate, or shift colours, can overshoot either).
#[inline]
pub fn clamp_premul(p: Premul) -> Premul {
    let a = p[3].clamp(0.0, 1.0);
    [
        p[0].clamp(0.0, a),
        p[1].clamp(0.0, a),
        p[2].clamp(0.0, a),
        a,
    ]
}

/// Straight colour composited over white, in whole bytes: `C' = C·a + 255·(1 − a)`, rounded
/// to nearest; alpha is kept. Photoshop stores its flattened composite this way, and a
/// cut-out shown to U²-Net sits on a plain backdrop like this.
#[inline]
pub fn matte_white([r, g, b, a]: [u8; 4]) -> [u8; 4] {
    let a32 = u32::from(a);
    // 255·(255 − a) is a whole number of steps, so rounding C·a alone (+127, /255) is exact.
    let channel = |c: u8| ((u32::from(c) * a32 + 255 * (255 - a32) + 127) / 255) as u8;
    [channel(r), channel(g), channel(b), a]
}

/// Undoes [`matte_white`]: `C = (C' − 255·(1 − a)) / a`, rounded to nearest and clamped.
/// A transparent pixel has no colour to recover and becomes `[0, 0, 0, 0]`.
#[inline]
pub fn unmatte_white([r, g, b, a]: [u8; 4]) -> [u8; 4] {
    if a == 0 {
        return [0, 0, 0, 0];
    }
    let a32 = u32::from(a);
    let channel = |c: u8| {
        let premultiplied = (i64::from(c) - 255 + i64::from(a)).max(0) as u32;
        ((premultiplied * 255 + a32 / 2) / a32).min(255) as u8
    };
    [channel(r), channel(g), channel(b), a]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn premultiply_round_trips_every_opaque_pixel_and_clears_transparent_ones() {
        for v in 0..=255u8 {
            let p = [v, 255 - v, v / 2, 255];
            assert_eq!(unpremultiply(premultiply(p)), p);
        }
        assert_eq!(unpremultiply(premultiply([50, 60, 70, 0])), [0, 0, 0, 0]);
    }

    #[test]
    fn translucent_pixels_round_trip_within_the_precision_alpha_leaves() {
        for a in 1..=255u8 {
            for c in [0u8, 1, 77, 128, 254, 255] {
                let back = unpremultiply(premultiply([c, c, c, a]));
                assert_eq!(back[3], a);
                assert_eq!(back[0], c, "c={c} a={a}");
            }
        }
    }

    #[test]
    fn alpha_that_rounds_to_zero_is_transparent_and_anything_more_is_visible() {
        assert_eq!(unpremultiply([0.001, 0.001, 0.001, 0.4 / 255.0]), [0; 4]);
        assert_eq!(unpremultiply([0.5, 0.5, 0.5, -0.1]), [0; 4]);
        let faint = unpremultiply([0.6 / 255.0, 0.0, 0.0, 0.6 / 255.0]);
        assert_eq!(faint, [255, 0, 0, 1]);
    }

    #[test]
    fn bytes_round_to_nearest() {
        assert_eq!(to_u8(0.749), 191);
        assert_eq!(to_u8(127.5 / 255.0), 128);
        assert_eq!(to_u8(1.5), 255);
        assert_eq!(to_u8(-0.5), 0);
        assert_eq!(unit(255), 1.0);
    }

    #[test]
    fn alpha_rounds_up_except_for_float_noise() {
        assert_eq!(alpha_to_u8_up(100.2 / 255.0), 101);
        assert_eq!(alpha_to_u8_up(100.0 / 255.0), 100);
        assert_eq!(alpha_to_u8_up(0.0), 0);
        assert_eq!(alpha_to_u8_up(2.0), 255);
    }

    #[test]
    fn clamping_keeps_colour_within_alpha() {
        assert_eq!(clamp_premul([0.9, -0.1, 0.3, 0.5]), [0.5, 0.0, 0.3, 0.5]);
        assert_eq!(clamp_premul([0.2, 0.2, 0.2, 1.5]), [0.2, 0.2, 0.2, 1.0]);
    }

    #[test]
    fn matte_is_photoshops_formula_and_unmatte_undoes_it() {
        // The notes' example: psd-tools and ImageMagick read (230, 0, 0, 96) back as
        // (231, 0, 0) once it is stored matted.
        assert_eq!(matte_white([230, 0, 0, 96]), [246, 159, 159, 96]);
        assert_eq!(unmatte_white([246, 159, 159, 96]), [231, 0, 0, 96]);
        assert_eq!(matte_white([7, 8, 9, 0]), [255, 255, 255, 0]);
        assert_eq!(matte_white([7, 8, 9, 255]), [7, 8, 9, 255]);
        for a in 1..=255u8 {
            for c in [0u8, 1, 77, 128, 254, 255] {
                let back = unmatte_white(matte_white([c, c, c, a]));
                let tolerance = 255 / u32::from(a) + 1;
                assert!(
                    u32::from(back[0].abs_diff(c)) <= tolerance,
                    "c={c} a={a} back={back:?}"
                );
            }
        }
    }
}
