//! Property tests of the reference compositor's blend maths.

use image::{Rgba, RgbaImage};
use proptest::prelude::*;
use strata::model::{BlendMode, Document, Offset, composite};

/// Every mode but dissolve, which draws whole pixels or none (its own property below), so
/// it neither interpolates with opacity nor acts as Normal over nothing.
fn mode() -> impl Strategy<Value = BlendMode> {
    let continuous: Vec<BlendMode> = BlendMode::ALL
        .into_iter()
        .filter(|m| *m != BlendMode::Dissolve)
        .collect();
    prop::sample::select(continuous)
}

/// Luminosity (W3C `Lum`) of a pixel, in bytes.
fn lum(p: [u8; 4]) -> f32 {
    0.3 * f32::from(p[0]) + 0.59 * f32::from(p[1]) + 0.11 * f32::from(p[2])
}

fn px() -> impl Strategy<Value = [u8; 4]> {
    any::<[u8; 4]>()
}

/// Composites `top` (with `mode`, `opacity`) over `bottom` on a 1×1 canvas.
fn over(bottom: [u8; 4], top: [u8; 4], mode: BlendMode, opacity: f32) -> [u8; 4] {
    let mut doc = Document::new(1, 1);
    doc.push_layer("bottom", RgbaImage::from_pixel(1, 1, Rgba(bottom)));
    let layer = doc.push_layer("top", RgbaImage::from_pixel(1, 1, Rgba(top)));
    layer.blend = mode;
    layer.opacity = opacity;
    composite(&doc).get_pixel(0, 0).0
}

fn close(a: [u8; 4], b: [u8; 4], tolerance: u8) -> bool {
    a.iter().zip(&b).all(|(x, y)| x.abs_diff(*y) <= tolerance)
}

fn opaque(p: [u8; 4]) -> [u8; 4] {
    [p[0], p[1], p[2], 255]
}

proptest! {
    #[test]
    fn transparent_or_zero_opacity_layer_changes_nothing(b in px(), t in px(), m in mode()) {
        let alone = over([0, 0, 0, 0], b, BlendMode::Normal, 1.0);
        prop_assert_eq!(over(b, [t[0], t[1], t[2], 0], m, 1.0), alone);
        prop_assert_eq!(over(b, t, m, 0.0), alone);
    }

    #[test]
    fn any_mode_over_nothing_is_normal(t in px(), m in mode(), o in 0.0f32..=1.0) {
        prop_assert_eq!(over([0, 0, 0, 0], t, m, o), over([0, 0, 0, 0], t, BlendMode::Normal, o));
    }

    #[test]
    fn alpha_is_union_whatever_the_mode(b in px(), t in px(), m in mode(), o in 0.0f32..=1.0) {
        let a_s = f32::from(t[3]) / 255.0 * o;
        let a_b = f32::from(b[3]) / 255.0;
        let expected = ((a_s + a_b * (1.0 - a_s)) * 255.0).round() as u8;
        prop_assert!(over(b, t, m, o)[3].abs_diff(expected) <= 1);
    }

    #[test]
    fn opaque_normal_top_wins(b in px(), t in px()) {
        prop_assert_eq!(over(b, opaque(t), BlendMode::Normal, 1.0), opaque(t));
    }

    #[test]
    fn symmetric_modes_commute_on_opaque_pixels(b in px(), t in px()) {
        for m in [BlendMode::Multiply, BlendMode::Screen, BlendMode::Darken, BlendMode::Lighten,
                  BlendMode::Difference, BlendMode::Exclusion, BlendMode::Add,
                  BlendMode::LinearBurn] {
            let ab = over(opaque(b), opaque(t), m, 1.0);
            let ba = over(opaque(t), opaque(b), m, 1.0);
            prop_assert!(close(ab, ba, 1), "{:?}: {:?} vs {:?}", m, ab, ba);
        }
    }

    #[test]
    fn neutral_colours_leave_the_backdrop(b in px()) {
        let b = opaque(b);
        let white = [255, 255, 255, 255];
        let black = [0, 0, 0, 255];
        for (m, neutral) in [(BlendMode::Multiply, white), (BlendMode::Screen, black),
                             (BlendMode::Add, black), (BlendMode::Darken, white),
                             (BlendMode::Lighten, black), (BlendMode::Difference, black),
                             (BlendMode::Exclusion, black), (BlendMode::ColorDodge, black),
                             (BlendMode::ColorBurn, white), (BlendMode::LinearBurn, white),
                             (BlendMode::Subtract, black), (BlendMode::Divide, white),
                             (BlendMode::DarkerColor, white), (BlendMode::LighterColor, black)] {
            prop_assert!(close(over(b, neutral, m, 1.0), b, 1), "{:?}", m);
        }
        let grey = [128, 128, 128, 255];
        // Overlay, soft light and hard light with 50 % grey on top keep the backdrop.
        for m in [BlendMode::SoftLight, BlendMode::HardLight, BlendMode::VividLight,
                  BlendMode::LinearLight, BlendMode::PinLight] {
            prop_assert!(close(over(b, grey, m, 1.0), b, 2), "{:?}", m);
        }
    }

    #[test]
    fn layer_opacity_interpolates_linearly_on_opaque_backdrops(b in px(), t in px(), m in mode(), o in 0.0f32..=1.0) {
        let b = opaque(b);
        let full = over(b, opaque(t), m, 1.0);
        let part = over(b, opaque(t), m, o);
        for c in 0..3 {
            let expected = f32::from(b[c]) * (1.0 - o) + f32::from(full[c]) * o;
            prop_assert!((f32::from(part[c]) - expected).abs() <= 1.0, "{:?} c{}", m, c);
        }
    }

    #[test]
    fn offsets_translate_exactly(dx in -6i32..6, dy in -6i32..6, seed in any::<u64>()) {
        let mut state = seed | 1;
        let layer = RgbaImage::from_fn(4, 3, |_, _| {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            Rgba([state as u8, (state >> 8) as u8, (state >> 16) as u8, 255])
        });
        let mut doc = Document::new(8, 8);
        doc.push_layer("l", layer.clone()).offset = Offset::new(dx, dy);
        let out = composite(&doc);
        for (x, y, p) in out.enumerate_pixels() {
            let (lx, ly) = (x as i32 - dx, y as i32 - dy);
            let inside = (0..4).contains(&lx) && (0..3).contains(&ly);
            let expected = if inside { layer.get_pixel(lx as u32, ly as u32).0 } else { [0, 0, 0, 0] };
            prop_assert_eq!(p.0, expected);
        }
    }

    #[test]
    fn dissolve_shows_the_layer_opaque_or_not_at_all(b in px(), t in px(), o in 0.0f32..=1.0) {
        let out = over(b, t, BlendMode::Dissolve, o);
        let alone = over([0, 0, 0, 0], b, BlendMode::Normal, 1.0);
        prop_assert!(out == alone || out == opaque(t), "{:?}", out);
        if t[3] == 255 && o == 1.0 {
            prop_assert_eq!(out, opaque(t));
        }
    }

    #[test]
    fn component_modes_keep_the_luminosity_they_promise(b in px(), t in px()) {
        let (b, t) = (opaque(b), opaque(t));
        for m in [BlendMode::Hue, BlendMode::Saturation, BlendMode::Color] {
            let out = over(b, t, m, 1.0);
            prop_assert!((lum(out) - lum(b)).abs() <= 1.0, "{:?}: {:?}", m, out);
        }
        let out = over(b, t, BlendMode::Luminosity, 1.0);
        prop_assert!((lum(out) - lum(t)).abs() <= 1.0, "{:?}", out);
    }

    #[test]
    fn hard_mix_gives_only_primaries(b in px(), t in px()) {
        let out = over(opaque(b), opaque(t), BlendMode::HardMix, 1.0);
        prop_assert!(out[..3].iter().all(|c| *c == 0 || *c == 255), "{:?}", out);
    }
}
