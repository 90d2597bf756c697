//! Reading Bevel & Emboss (`ebbl`) and Satin (`ChFX`) from an effects descriptor.
//!
//! Bevel keys: `bvlS` style (`InrB` inner, `OtrB` outer, `Embs` emboss, `PlEb` pillow
//! emboss; `strokeEmboss` is not drawn), `bvlT` technique (only `SfBL` smooth is drawn),
//! `srgR` depth in percent, `bvlD` direction (`In  ` up, `Out ` down), `blur` size,
//! `Sftn` soften, `lagl`/`uglg` angle, `Lald` altitude, `hglM`/`hglC`/`hglO` and
//! `sdwM`/`sdwC`/`sdwO` the highlight's and shadow's mode, colour and opacity. A gloss
//! contour other than linear, a contour (`useShape`) or a texture (`useTexture`) is not
//! drawn. Satin keys: `Invr` invert, `lagl` angle, `Dstn` distance, `blur` size and
//! `MpgS` its contour (`Crv ` points of `Hrzn`/`Vrtc` in 0..255).

use super::descriptor::{Descriptor, Value};
use super::effects::{Context, blend_mode, color};
use crate::model::effects::{Bevel, BevelStyle, Effect, EffectKind, Satin};

/// The shadow and highlight halves of an enabled bevel, bottom first, or `None` when
/// Strata does not draw it.
pub(super) fn bevel(d: &Descriptor, context: &Context<'_>) -> Option<[Effect; 2]> {
    let style = match d.enumerated("bvlS")? {
        "InrB" => BevelStyle::Inner,
        "OtrB" => BevelStyle::Outer,
        "Embs" => BevelStyle::Emboss,
        "PlEb" => BevelStyle::Pillow,
        _ => return None,
    };
    if d.enumerated("bvlT") != Some("SfBL")
        || d.boolean("useShape") == Some(true)
        || d.boolean("useTexture") == Some(true)
        || !d.object("TrnS").is_none_or(is_linear)
    {
        return None;
    }
    let angle = if d.boolean("uglg") == Some(true) {
        context.global_angle
    } else {
        d.number("lagl")? as f32
    };
    let half = |highlight: bool| -> Option<Effect> {
        let (mode, colour, opacity) = if highlight {
            ("hglM", "hglC", "hglO")
        } else {
            ("sdwM", "sdwC", "sdwO")
        };
        Some(Effect {
            kind: EffectKind::Bevel(Bevel {
                style,
                depth: d.number("srgR").unwrap_or(100.0) as f32 / 100.0,
                up: d.enumerated("bvlD") != Some("Out "),
                size: d.number("blur")? as f32,
                soften: d.number("Sftn").unwrap_or(0.0) as f32,
                angle,
                altitude: d.number("Lald").unwrap_or(30.0) as f32,
                highlight,
            }),
            color: color(d.object(colour)?)?,
            blend: blend_mode(d.enumerated(mode).unwrap_or("Nrml"))?,
            opacity: percent(d, opacity),
        })
    };
    Some([half(false)?, half(true)?])
}

/// An enabled satin, or `None` when it cannot be read.
pub(super) fn satin(d: &Descriptor) -> Option<Effect> {
    let contour = match d.object("MpgS") {
        Some(curve) => points(curve)?,
        None => Vec::new(),
    };
    Some(Effect {
        kind: EffectKind::Satin(Satin {
            angle: d.number("lagl")? as f32,
            distance: d.number("Dstn")? as f32,
            size: d.number("blur")? as f32,
            invert: d.boolean("Invr").unwrap_or(false),
            contour,
        }),
        color: color(d.object("Clr ")?)?,
        blend: blend_mode(d.enumerated("Md  ").unwrap_or("Nrml"))?,
        opacity: percent(d, "Opct"),
    })
}

fn percent(d: &Descriptor, key: &str) -> f32 {
    d.number(key)
        .map_or(1.0, |v| (v as f32 / 100.0).clamp(0.0, 1.0))
}

/// A contour's points scaled to `0.0..=1.0`, by increasing input.
fn points(curve: &Descriptor) -> Option<Vec<(f32, f32)>> {
    let Some(Value::List(list)) = curve.get("Crv ") else {
        return None;
    };
    let mut out = list
        .iter()
        .map(|v| match v {
            Value::Object(p) => Some((
                p.number("Hrzn")? as f32 / 255.0,
                p.number("Vrtc")? as f32 / 255.0,
            )),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    Some(out)
}

/// True for the identity contour (Photoshop's "Linear").
fn is_linear(curve: &Descriptor) -> bool {
    points(curve).is_some_and(|p| p.iter().all(|&(x, y)| (x - y).abs() < 1e-3))
}

#[cfg(test)]
mod tests {
    use super::super::descriptor::tests::*;
    use super::super::effects::read;
    use super::super::pattern::Patterns;
    use super::*;

    fn rgb(out: &mut Vec<u8>, key: &str, v: f64) {
        put_object(out, key, "RGBC", 3);
        put_double(out, "Rd  ", v);
        put_double(out, "Grn ", v);
        put_double(out, "Bl  ", v);
    }

    fn put_list(out: &mut Vec<u8>, key: &str, count: u32) {
        put_key(out, key);
        out.extend_from_slice(b"VlLs");
        out.extend_from_slice(&count.to_be_bytes());
    }

    fn point(out: &mut Vec<u8>, x: f64, y: f64) {
        out.extend_from_slice(b"Objc");
        put_header(out, "CrPt", 2);
        put_double(out, "Hrzn", x);
        put_double(out, "Vrtc", y);
    }

    fn bevel_block(technique: &str) -> Vec<u8> {
        let mut out = vec![0, 0, 0, 0, 0, 0, 0, 16];
        put_header(&mut out, "null", 2);
        put_object(&mut out, "ebbl", "ebbl", 14);
        put_bool(&mut out, "enab", true);
        put_enum(&mut out, "hglM", "BlnM", "Scrn");
        rgb(&mut out, "hglC", 255.0);
        put_unit(&mut out, "hglO", b"#Prc", 75.0);
        put_enum(&mut out, "sdwM", "BlnM", "Mltp");
        rgb(&mut out, "sdwC", 0.0);
        put_unit(&mut out, "sdwO", b"#Prc", 50.0);
        put_enum(&mut out, "bvlT", "bvlT", technique);
        put_enum(&mut out, "bvlS", "BESl", "OtrB");
        put_bool(&mut out, "uglg", true);
        put_unit(&mut out, "Lald", b"#Ang", 40.0);
        put_unit(&mut out, "srgR", b"#Prc", 150.0);
        put_unit(&mut out, "blur", b"#Pxl", 6.0);
        put_enum(&mut out, "bvlD", "BESs", "Out ");
        put_object(&mut out, "ChFX", "ChFX", 8);
        put_bool(&mut out, "enab", true);
        put_enum(&mut out, "Md  ", "BlnM", "Mltp");
        rgb(&mut out, "Clr ", 100.0);
        put_bool(&mut out, "Invr", true);
        put_unit(&mut out, "lagl", b"#Ang", 19.0);
        put_unit(&mut out, "Dstn", b"#Pxl", 11.0);
        put_unit(&mut out, "blur", b"#Pxl", 14.0);
        put_object(&mut out, "MpgS", "ShpC", 1);
        put_list(&mut out, "Crv ", 3);
        point(&mut out, 0.0, 0.0);
        point(&mut out, 128.0, 166.0);
        point(&mut out, 255.0, 255.0);
        out
    }

    #[test]
    fn reads_a_smooth_bevel_as_two_halves_and_a_satin() {
        let patterns = Patterns::new();
        let context = Context {
            global_angle: 100.0,
            patterns: &patterns,
        };
        let read = read(&bevel_block("SfBL"), &context);
        assert!(!read.undrawn, "{read:?}");
        let kinds: Vec<&EffectKind> = read.style.effects.iter().map(|e| &e.kind).collect();
        let [
            EffectKind::Satin(satin),
            EffectKind::Bevel(shadow),
            EffectKind::Bevel(light),
        ] = kinds.as_slice()
        else {
            panic!("satin, then the bevel's shadow and highlight: {kinds:?}");
        };
        assert!(satin.invert && satin.distance == 11.0 && satin.size == 14.0);
        assert!((satin.contour[1].1 - 166.0 / 255.0).abs() < 1e-6);
        assert!(!shadow.highlight && light.highlight);
        assert_eq!(light.style, BevelStyle::Outer);
        assert_eq!(
            (light.angle, light.altitude, light.size),
            (100.0, 40.0, 6.0)
        );
        assert!((light.depth - 1.5).abs() < 1e-6 && !light.up);
        let effects = &read.style.effects;
        assert_eq!(effects[1].opacity, 0.5);
        assert_eq!(effects[2].color, [255; 3]);
        // A chisel is not drawn, and says so.
        assert!(super::super::effects::read(&bevel_block("PrBL"), &context).undrawn);
    }
}
