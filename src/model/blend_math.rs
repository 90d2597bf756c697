//! The blend functions `B(Cb, Cs)` on straight colour in `0..=1`, and dissolve's pattern.
//!
//! Sources, per mode:
//! - W3C "Compositing and Blending Level 1" (Adobe's PDF formulas): multiply, screen,
//!   overlay, darken, lighten, colour dodge and burn, hard and soft light, difference,
//!   exclusion, and the non-separable hue, saturation, color and luminosity (`Lum`, `ClipColor`,
//!   `SetLum`, `Sat`, `SetSat`, with luminosity weights 0.3, 0.59, 0.11).
//! - Adobe's descriptions of the Photoshop modes the W3C leaves out: linear dodge (add) and
//!   linear burn clamp `Cb + Cs` (minus 1 for burn) to `0..=1`; linear light is linear burn
//!   with `2·Cs` below 50 % grey and linear dodge with `2·Cs − 1` above (together
//!   `clamp(Cb + 2·Cs − 1)`); pin light is darken with `2·Cs` / lighten with `2·Cs − 1`; vivid
//!   light is colour burn with `2·Cs` / colour dodge with `2·(Cs − 0.5)`; subtract is
//!   `max(0, Cb − Cs)`; divide `min(1, Cb / Cs)`; darker and lighter colour return the whole
//!   colour with the lower (higher) `Lum`.
//! - Edge cases measured against Photoshop renders (documented by psd-tools): inside vivid light
//!   the source extremes win (`Cs = 0` gives 0 and `Cs = 1` gives 1 whatever the backdrop,
//!   unlike plain dodge and burn); hard mix gives 1 where `Cb + Cs > 1`, and on the tie
//!   `Cb + Cs = 1` only where `Cb > 0.5`.
//!
//! `shaders/composite.wgsl` has the same functions, written to give the same values; the GPU
//! parity tests hold the two within 1/255.

use super::BlendMode;

/// How far from 1 a hard-mix sum still counts as the tie `Cb + Cs = 1`. Photoshop blends an
/// 8-bit document's bytes, whose sums are exactly 1 or at least 1/255 away from it; a
/// quarter of that keeps the tie a tie through float noise (1e-7 between CPU and GPU, 2e-4
/// on a half-float canvas), where a decision either way would differ by the whole range.
const HARD_MIX_TIE: f32 = 1.0 / 1024.0;

/// A quarter of a byte: what divide still counts as black (see [`divide`]).
const BLACK_TIE: f32 = 1.0 / 1024.0;

/// Luminosities closer than this are equal for darker and lighter colour, which then keep
/// the backdrop. Different byte colours differ by at least 1/25500 (`Lum`'s weights are
/// hundredths), so only true ties fall inside, however CPU and GPU round them.
const LUM_TIE: f32 = 1e-5;

impl BlendMode {
    /// `B(Cb, Cs)` on straight RGB colour in `0..=1`. Normal and dissolve give `Cs`: which
    /// pixels dissolve shows is decided per position (see [`dissolve_threshold`]).
    pub fn blend_rgb(self, cb: [f32; 3], cs: [f32; 3]) -> [f32; 3] {
        match self {
            BlendMode::DarkerColor => {
                if lum(cs) < lum(cb) - LUM_TIE {
                    cs
                } else {
                    cb
                }
            }
            BlendMode::LighterColor => {
                if lum(cs) > lum(cb) + LUM_TIE {
                    cs
                } else {
                    cb
                }
            }
            BlendMode::Hue => set_lum(set_sat(cs, sat(cb)), lum(cb)),
            BlendMode::Saturation => set_lum(set_sat(cb, sat(cs)), lum(cb)),
            BlendMode::Color => set_lum(cs, lum(cb)),
            BlendMode::Luminosity => set_lum(cb, lum(cs)),
            separable => std::array::from_fn(|c| separable.blend_channel(cb[c], cs[c])),
        }
    }

    /// The separable blend function of one channel; `Cs` for the non-separable modes, which
    /// only [`BlendMode::blend_rgb`] computes.
    #[inline]
    pub fn blend_channel(self, below: f32, src: f32) -> f32 {
        let (cb, cs) = (below, src);
        match self {
            BlendMode::Multiply => cb * cs,
            BlendMode::Screen => cb + cs - cb * cs,
            BlendMode::Overlay => hard_light(cs, cb),
            BlendMode::Darken => cb.min(cs),
            BlendMode::Lighten => cb.max(cs),
            BlendMode::ColorDodge => color_dodge(cb, cs),
            BlendMode::ColorBurn => color_burn(cb, cs),
            BlendMode::HardLight => hard_light(cb, cs),
            BlendMode::SoftLight => soft_light(cb, cs),
            BlendMode::Difference => (cb - cs).abs(),
            BlendMode::Exclusion => cb + cs - 2.0 * cb * cs,
            BlendMode::Add => (cb + cs).min(1.0),
            BlendMode::LinearBurn => (cb + cs - 1.0).max(0.0),
            BlendMode::LinearLight => (cb + 2.0 * cs - 1.0).clamp(0.0, 1.0),
            BlendMode::VividLight => vivid_light(cb, cs),
            BlendMode::PinLight => {
                if cs > 0.5 {
                    cb.max(2.0 * cs - 1.0)
                } else {
                    cb.min(2.0 * cs)
                }
            }
            BlendMode::HardMix => hard_mix(cb, cs),
            BlendMode::Subtract => (cb - cs).max(0.0),
            BlendMode::Divide => divide(cb, cs),
            BlendMode::Normal
            | BlendMode::Dissolve
            | BlendMode::DarkerColor
            | BlendMode::LighterColor
            | BlendMode::Hue
            | BlendMode::Saturation
            | BlendMode::Color
            | BlendMode::Luminosity => cs,
        }
    }
}

/// Dissolve's fixed pattern: a threshold in `(0, 1)` for canvas pixel (`x`, `y`). A dissolve
/// layer shows its pixel, fully opaque, where its alpha (times opacity) exceeds the threshold,
/// and the backdrop elsewhere. The pattern is tied to the canvas, so moving a layer does not
/// move it. Integer hashing (the "lowbias32" mixer) gives the GPU the very same values; the
/// result is one of 4096 levels, each an exact `f32`, placed half a level off every multiple
/// of 1/4096 so an alpha of `n/255` never ties with it.
pub fn dissolve_threshold(x: i64, y: i64) -> f32 {
    // Wrapping to 32 bits is what the shader does with its i32 coordinates.
    let h = lowbias32((x as u32) ^ lowbias32(y as u32));
    ((h >> 20) as f32 + 0.5) / 4096.0
}

/// A 32-bit integer mixer (multiply–xorshift; constants from Wellons' "hash prospector").
fn lowbias32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x7feb_352d);
    h ^= h >> 15;
    h = h.wrapping_mul(0x846c_a68b);
    h ^= h >> 16;
    h
}

/// W3C hard light; overlay is hard light with the arguments swapped.
#[inline]
fn hard_light(cb: f32, cs: f32) -> f32 {
    if cs <= 0.5 {
        cb * 2.0 * cs
    } else {
        let s = 2.0 * cs - 1.0;
        cb + s - cb * s
    }
}

fn color_dodge(cb: f32, cs: f32) -> f32 {
    if cb <= 0.0 {
        0.0
    } else if cs >= 1.0 {
        1.0
    } else {
        (cb / (1.0 - cs)).min(1.0)
    }
}

fn color_burn(cb: f32, cs: f32) -> f32 {
    if cb >= 1.0 {
        1.0
    } else if cs <= 0.0 {
        0.0
    } else {
        1.0 - ((1.0 - cb) / cs).min(1.0)
    }
}

fn soft_light(cb: f32, cs: f32) -> f32 {
    if cs <= 0.5 {
        cb - (1.0 - 2.0 * cs) * cb * (1.0 - cb)
    } else {
        let d = if cb <= 0.25 {
            ((16.0 * cb - 12.0) * cb + 4.0) * cb
        } else {
            cb.sqrt()
        };
        cb + (2.0 * cs - 1.0) * (d - cb)
    }
}

/// Burn with `2·Cs` or dodge with `2·Cs − 1`, without dodge's and burn's backdrop cases.
fn vivid_light(cb: f32, cs: f32) -> f32 {
    if cs <= 0.0 {
        0.0
    } else if cs >= 1.0 {
        1.0
    } else if cs <= 0.5 {
        1.0 - ((1.0 - cb) / (2.0 * cs)).min(1.0)
    } else {
        (cb / (2.0 * (1.0 - cs))).min(1.0)
    }
}

fn hard_mix(cb: f32, cs: f32) -> f32 {
    let sum = cb + cs;
    let on = if (sum - 1.0).abs() <= HARD_MIX_TIE {
        cb > 0.5
    } else {
        sum > 1.0
    };
    if on { 1.0 } else { 0.0 }
}

/// `Cb / Cs`, capped at 1; dividing by black gives white, except black itself. A backdrop
/// within [`BLACK_TIE`] of black counts as black: an 8-bit backdrop is 0 or at least 1/255,
/// and float noise (a colour burn that gives exactly 0 on the CPU can leave a few 1e-8 on a
/// GPU whose division is approximate) must not turn black into white.
fn divide(cb: f32, cs: f32) -> f32 {
    if cs <= 0.0 {
        if cb > BLACK_TIE { 1.0 } else { 0.0 }
    } else {
        (cb / cs).min(1.0)
    }
}

/// W3C `Lum`.
fn lum(c: [f32; 3]) -> f32 {
    0.3 * c[0] + 0.59 * c[1] + 0.11 * c[2]
}

/// W3C `Sat`: the spread of the channels.
fn sat(c: [f32; 3]) -> f32 {
    c[0].max(c[1]).max(c[2]) - c[0].min(c[1]).min(c[2])
}

/// W3C `SetLum`: shifts `c` to luminosity `l`, then brings it back into gamut.
fn set_lum(c: [f32; 3], l: f32) -> [f32; 3] {
    let d = l - lum(c);
    clip_color(c.map(|v| v + d))
}

/// W3C `ClipColor`: scales an out-of-gamut colour towards its luminosity.
fn clip_color(c: [f32; 3]) -> [f32; 3] {
    let l = lum(c);
    let n = c[0].min(c[1]).min(c[2]);
    let x = c[0].max(c[1]).max(c[2]);
    let mut out = c;
    if n < 0.0 && l - n > 0.0 {
        out = out.map(|v| l + (v - l) * l / (l - n));
    }
    if x > 1.0 && x - l > 0.0 {
        out = out.map(|v| l + (v - l) * (1.0 - l) / (x - l));
    }
    // Rounding can leave a hair outside 0..=1.
    out.map(|v| v.clamp(0.0, 1.0))
}

/// W3C `SetSat`: the maximum channel becomes `s`, the minimum 0, the middle one keeps its
/// place between them. (One formula for all three channels; ties give the same result
/// whichever channel the spec's sort calls the maximum.)
fn set_sat(c: [f32; 3], s: f32) -> [f32; 3] {
    let n = c[0].min(c[1]).min(c[2]);
    let x = c[0].max(c[1]).max(c[2]);
    if x > n {
        c.map(|v| (v - n) * s / (x - n))
    } else {
        [0.0; 3]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: [f32; 3], b: [f32; 3]) -> bool {
        a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-5)
    }

    #[test]
    fn overlay_is_hard_light_swapped() {
        for (cb, cs) in [(0.2, 0.7), (0.8, 0.3), (0.5, 0.5)] {
            let o = BlendMode::Overlay.blend_channel(cb, cs);
            let h = BlendMode::HardLight.blend_channel(cs, cb);
            assert!((o - h).abs() < 1e-6);
        }
    }

    #[test]
    fn photoshop_arithmetic_modes() {
        let cases = [
            (BlendMode::LinearBurn, 0.7, 0.6, 0.3),
            (BlendMode::LinearBurn, 0.2, 0.3, 0.0),
            (BlendMode::LinearLight, 0.4, 0.75, 0.9),
            (BlendMode::LinearLight, 0.4, 0.1, 0.0),
            (BlendMode::PinLight, 0.2, 0.8, 0.6),
            (BlendMode::PinLight, 0.9, 0.8, 0.9),
            (BlendMode::PinLight, 0.5, 0.1, 0.2),
            (BlendMode::Subtract, 0.7, 0.2, 0.5),
            (BlendMode::Subtract, 0.2, 0.7, 0.0),
            (BlendMode::Divide, 0.3, 0.6, 0.5),
            (BlendMode::Divide, 0.3, 0.0, 1.0),
            (BlendMode::Divide, 0.0, 0.0, 0.0),
            (BlendMode::VividLight, 0.6, 0.25, 0.2),
            (BlendMode::VividLight, 0.3, 0.75, 0.6),
            // The source extremes win inside vivid light, unlike plain burn and dodge.
            (BlendMode::VividLight, 1.0, 0.0, 0.0),
            (BlendMode::VividLight, 0.0, 1.0, 1.0),
            (BlendMode::HardMix, 0.6, 0.5, 1.0),
            (BlendMode::HardMix, 0.4, 0.5, 0.0),
        ];
        for (mode, cb, cs, want) in cases {
            let got = mode.blend_channel(cb, cs);
            assert!((got - want).abs() < 1e-5, "{mode:?}({cb}, {cs}) = {got}");
        }
    }

    #[test]
    fn hard_mix_ties_follow_the_backdrop() {
        let (a, b) = (128.0 / 255.0, 127.0 / 255.0);
        assert_eq!(BlendMode::HardMix.blend_channel(a, b), 1.0);
        assert_eq!(BlendMode::HardMix.blend_channel(b, a), 0.0);
    }

    #[test]
    fn component_modes_swap_what_they_promise() {
        let below = [0.8, 0.3, 0.2];
        let layer = [0.1, 0.4, 0.9];
        let color = BlendMode::Color.blend_rgb(below, layer);
        assert!((lum(color) - lum(below)).abs() < 1e-5);
        let luminosity = BlendMode::Luminosity.blend_rgb(below, layer);
        assert!((lum(luminosity) - lum(layer)).abs() < 1e-5);
        let saturation = BlendMode::Saturation.blend_rgb(below, layer);
        assert!((sat(saturation) - sat(layer)).abs() < 1e-5);
        assert!((lum(saturation) - lum(below)).abs() < 1e-5);
        let hue = BlendMode::Hue.blend_rgb(below, layer);
        assert!((sat(hue) - sat(below)).abs() < 1e-5);
        // Grey has no hue to give or take.
        let grey = [0.5; 3];
        assert!(close(BlendMode::Hue.blend_rgb(grey, layer), grey));
        assert!(close(
            BlendMode::Saturation.blend_rgb(layer, grey),
            [lum(layer); 3]
        ));
    }

    #[test]
    fn darker_and_lighter_colour_pick_whole_colours() {
        let (dark, light) = ([0.9, 0.0, 0.1], [0.2, 0.6, 0.3]);
        assert_eq!(BlendMode::DarkerColor.blend_rgb(light, dark), dark);
        assert_eq!(BlendMode::DarkerColor.blend_rgb(dark, light), dark);
        assert_eq!(BlendMode::LighterColor.blend_rgb(dark, light), light);
    }

    #[test]
    fn dissolve_pattern_is_fixed_and_even() {
        assert_eq!(dissolve_threshold(3, 9), dissolve_threshold(3, 9));
        let n = 256 * 256;
        let below_half = (0..n)
            .filter(|i| dissolve_threshold(i % 256, i / 256) < 0.5)
            .count();
        assert!((below_half as f64 / n as f64 - 0.5).abs() < 0.01);
        assert!((0..n).all(|i| {
            let t = dissolve_threshold(i % 256 - 128, i / 256 - 128);
            t > 0.0 && t < 1.0
        }));
    }
}
