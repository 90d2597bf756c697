//! Reading layer effects from the object-based effects blocks (`lmfx`, which newer
//! Photoshop writes when a layer has several effects of one kind, else `lfx2`) into the
//! model's [`Style`]. The blocks themselves stay kept and are written back unchanged.
//!
//! Keys and values are Photoshop's descriptor names (`DrSh` drop shadow, `OrGl` outer glow,
//! `IrSh` inner shadow, `IrGl` inner glow, `SoFi` colour overlay, `GrFl` gradient overlay
//! (see `gradient`), `patternFill` pattern overlay (its tile from the document's patterns,
//! see `pattern`), `FrFX` stroke, `ebbl` bevel and emboss and `ChFX` satin (see
//! `bevel`), and the
//! `…Multi` lists; `Opct` opacity in percent, `blur` size, `Ckmt` spread or choke in
//! percent, `Dstn` distance, `lagl` angle, `uglg` "use global light").

use std::sync::Arc;

use super::bytes::Cursor;
use super::descriptor::{self, Descriptor, Value};
use super::pattern::Patterns;
use super::records::Kind;
use crate::model::effects::{Effect, EffectKind, GroupEffects, StrokePosition, Style};
use crate::model::{BlendMode, KeptBlock, Undrawn};

/// Photoshop's default global light angle, for files without resource 1037.
pub const DEFAULT_GLOBAL_ANGLE: f32 = 120.0;

/// What a layer's effects block gave.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReadEffects {
    /// The enabled effects Strata draws, bottom first.
    pub style: Style,
    /// True when some enabled effect is one Strata does not draw (a chiselled bevel, a
    /// gradient stroke, a noise gradient, …), or the block could not be read.
    pub undrawn: bool,
}

/// What effects are read with: the document's global light and patterns.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The angle of effects that use the global light, in degrees.
    pub global_angle: f32,
    pub patterns: &'a Patterns,
}

/// The effects of one `lfx2`/`lmfx` block's data.
pub fn read(data: &[u8], context: &Context<'_>) -> ReadEffects {
    let mut c = Cursor::new(data);
    let parsed = c
        .u32("effects version")
        .and_then(|_| c.u32("descriptor version"))
        .and_then(|_| descriptor::read(&mut c));
    let Ok(root) = parsed else {
        return ReadEffects {
            style: Style::default(),
            undrawn: true,
        };
    };
    from_descriptor(&root, context)
}

/// The data of the block the effects are read from: `lmfx` (several effects of a kind)
/// when there is one, else `lfx2`, else `lfxs` (the same descriptor, which Photoshop
/// writes for some groups).
pub fn effects_block(kept: &[KeptBlock]) -> Option<&[u8]> {
    let find = |key: &[u8; 4]| kept.iter().find(|b| &b.key == key);
    find(b"lmfx")
        .or_else(|| find(b"lfx2"))
        .or_else(|| find(b"lfxs"))
        .map(|b| b.data.as_slice())
}

/// Effects that Strata draws (all the enabled ones of the block [`effects_block`] finds)
/// of a layer with pixels are kept but no longer reported as undrawn; the legacy `lrFX`
/// block describes the same effects and goes with them. A group's effects apply to the
/// group's composite; they are drawn, and so not reported, only when all fall below the
/// group (see [`GroupEffects`]).
pub fn mark_drawn(kept: &mut [KeptBlock], kind: Kind, context: &Context<'_>) {
    let drawn = |data: &[u8]| {
        let read = read(data, context);
        !read.undrawn
            && match kind {
                Kind::Pixels => true,
                Kind::Folder => GroupEffects::new(read.style).is_some(),
                Kind::Divider => false,
            }
    };
    if effects_block(kept).is_some_and(drawn) {
        for block in kept.iter_mut() {
            if block.undrawn == Some(Undrawn::Effects) {
                block.undrawn = None;
            }
        }
    }
}

/// Photoshop's drawing order, bottom first, with each kind's single and list keys.
const ORDER: [(&str, &str); 10] = [
    ("DrSh", "dropShadowMulti"),
    ("OrGl", "outerGlowMulti"),
    ("IrSh", "innerShadowMulti"),
    ("IrGl", "innerGlowMulti"),
    ("ChFX", "satinMulti"),
    ("SoFi", "solidFillMulti"),
    ("GrFl", "gradientFillMulti"),
    ("patternFill", "patternFillMulti"),
    ("ebbl", "bevelEmbossMulti"),
    ("FrFX", "frameFXMulti"),
];

fn from_descriptor(root: &Descriptor, context: &Context<'_>) -> ReadEffects {
    let mut out = ReadEffects::default();
    if root.boolean("masterFXSwitch") == Some(false) {
        return out; // every effect hidden: Photoshop draws none
    }
    // `Scl ` (Photoshop's "Scale Effects") is not applied: the sizes stored beside it are
    // already the scaled ones (a file at 417 % draws a 59 px glow about 59 px wide).
    for (single, multi) in ORDER {
        let mut entries: Vec<&Descriptor> = match root.get(multi) {
            Some(Value::List(list)) => list
                .iter()
                .filter_map(|v| match v {
                    Value::Object(d) => Some(d),
                    _ => None,
                })
                .collect(),
            _ => root.object(single).into_iter().collect(),
        };
        // A list shows its first entry on top in Photoshop's dialog: draw it last.
        entries.reverse();
        for entry in entries {
            if entry.boolean("enab") != Some(true) {
                continue;
            }
            if single == "ebbl" {
                match super::bevel::bevel(entry, context) {
                    Some(halves) => out.style.effects.extend(halves),
                    None => out.undrawn = true,
                }
                continue;
            }
            match effect(single, entry, context) {
                Some(effect) => out.style.effects.push(effect),
                None => out.undrawn = true,
            }
        }
    }
    out
}

/// One enabled effect of kind `key`, or `None` when Strata does not draw it. Sizes are in
/// pixels.
fn effect(key: &str, d: &Descriptor, context: &Context<'_>) -> Option<Effect> {
    let px = |k: &str| d.number(k).map(|v| v as f32);
    let percent = |k: &str| d.number(k).map(|v| (v as f32 / 100.0).clamp(0.0, 1.0));
    let angle = || {
        if d.boolean("uglg") == Some(true) {
            Some(context.global_angle)
        } else {
            d.number("lagl").map(|a| a as f32)
        }
    };
    let kind = match key {
        "DrSh" => EffectKind::DropShadow {
            angle: angle()?,
            distance: px("Dstn")?,
            spread: percent("Ckmt")?,
            size: px("blur")?,
            knockout: d.boolean("layerConceals").unwrap_or(true),
        },
        "OrGl" => EffectKind::OuterGlow {
            spread: percent("Ckmt")?,
            size: px("blur")?,
        },
        "IrSh" => EffectKind::InnerShadow {
            angle: angle()?,
            distance: px("Dstn")?,
            choke: percent("Ckmt")?,
            size: px("blur")?,
        },
        "IrGl" => EffectKind::InnerGlow {
            choke: percent("Ckmt")?,
            size: px("blur")?,
            from_center: d.enumerated("glwS") == Some("SrcC"),
        },
        "ChFX" => return super::bevel::satin(d),
        "SoFi" => EffectKind::ColorOverlay,
        "GrFl" => EffectKind::GradientOverlay(Arc::new(super::gradient::read(d)?)),
        "patternFill" => {
            EffectKind::PatternOverlay(Arc::new(super::pattern::overlay(d, context.patterns)?))
        }
        "FrFX" => {
            if d.enumerated("PntT").is_some_and(|p| p != "SClr") {
                return None; // gradient and pattern strokes
            }
            let position = match d.enumerated("Styl") {
                Some("InsF") => StrokePosition::Inside,
                Some("CtrF") => StrokePosition::Center,
                _ => StrokePosition::Outside,
            };
            EffectKind::Stroke {
                position,
                size: px("Sz  ")?,
            }
        }
        _ => return None,
    };
    let color = match kind {
        EffectKind::GradientOverlay(_) | EffectKind::PatternOverlay(_) => [0; 3],
        // Glows with a gradient instead of a colour have no `Clr `: not drawn.
        _ => color(d.object("Clr ")?)?,
    };
    Some(Effect {
        kind,
        color,
        blend: blend_mode(d.enumerated("Md  ").unwrap_or("Nrml"))?,
        opacity: percent("Opct").unwrap_or(1.0),
    })
}

/// An RGB colour descriptor (`RGBC`, 0..255 per channel, or the float form of newer
/// files), or a greyscale one (`Gry ` in percent of black).
pub(super) fn color(d: &Descriptor) -> Option<[u8; 3]> {
    let byte = |v: f64| v.round().clamp(0.0, 255.0) as u8;
    if let (Some(r), Some(g), Some(b)) = (d.number("Rd  "), d.number("Grn "), d.number("Bl  ")) {
        return Some([byte(r), byte(g), byte(b)]);
    }
    if let (Some(r), Some(g), Some(b)) = (
        d.number("redFloat"),
        d.number("greenFloat"),
        d.number("blueFloat"),
    ) {
        return Some([byte(r * 255.0), byte(g * 255.0), byte(b * 255.0)]);
    }
    let grey = byte((100.0 - d.number("Gry ")?) * 2.55);
    Some([grey; 3])
}

/// The model's mode for a descriptor's blend mode value (`BlnM` enumeration): the
/// four-character codes of older files, or the names newer Photoshop writes.
pub(super) fn blend_mode(value: &str) -> Option<BlendMode> {
    Some(match value {
        "Nrml" | "normal" => BlendMode::Normal,
        "Dslv" | "dissolve" => BlendMode::Dissolve,
        "Drkn" | "darken" => BlendMode::Darken,
        "Mltp" | "multiply" => BlendMode::Multiply,
        "CBrn" | "colorBurn" => BlendMode::ColorBurn,
        "linearBurn" => BlendMode::LinearBurn,
        "darkerColor" => BlendMode::DarkerColor,
        "Lghn" | "lighten" => BlendMode::Lighten,
        "Scrn" | "screen" => BlendMode::Screen,
        "CDdg" | "colorDodge" => BlendMode::ColorDodge,
        "linearDodge" => BlendMode::Add,
        "lighterColor" => BlendMode::LighterColor,
        "Ovrl" | "overlay" => BlendMode::Overlay,
        "SftL" | "softLight" => BlendMode::SoftLight,
        "HrdL" | "hardLight" => BlendMode::HardLight,
        "vividLight" => BlendMode::VividLight,
        "linearLight" => BlendMode::LinearLight,
        "pinLight" => BlendMode::PinLight,
        "hardMix" => BlendMode::HardMix,
        "Dfrn" | "difference" => BlendMode::Difference,
        "Xclu" | "exclusion" => BlendMode::Exclusion,
        "blendSubtraction" => BlendMode::Subtract,
        "blendDivide" => BlendMode::Divide,
        "H   " | "hue" => BlendMode::Hue,
        "Strt" | "saturation" => BlendMode::Saturation,
        "Clr " | "color" => BlendMode::Color,
        "Lmns" | "luminosity" => BlendMode::Luminosity,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::descriptor::tests::*;
    use super::*;

    fn block(items: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut out = vec![0, 0, 0, 0, 0, 0, 0, 16];
        items(&mut out);
        out
    }

    fn rgb(out: &mut Vec<u8>, [r, g, b]: [f64; 3]) {
        put_object(out, "Clr ", "RGBC", 3);
        put_double(out, "Rd  ", r);
        put_double(out, "Grn ", g);
        put_double(out, "Bl  ", b);
    }

    #[test]
    fn reads_a_drop_shadow_with_the_global_light() {
        let data = block(|out| {
            put_header(out, "null", 3);
            put_unit(out, "Scl ", b"#Prc", 200.0);
            put_bool(out, "masterFXSwitch", true);
            put_object(out, "DrSh", "DrSh", 8);
            put_bool(out, "enab", true);
            put_enum(out, "Md  ", "BlnM", "Mltp");
            rgb(out, [10.0, 20.0, 30.0]);
            put_unit(out, "Opct", b"#Prc", 75.0);
            put_bool(out, "uglg", true);
            put_unit(out, "Dstn", b"#Pxl", 5.0);
            put_unit(out, "Ckmt", b"#Pxl", 10.0);
            put_unit(out, "blur", b"#Pxl", 4.0);
        });
        let patterns = Patterns::new();
        let context = Context {
            global_angle: 30.0,
            patterns: &patterns,
        };
        let read = read(&data, &context);
        assert!(!read.undrawn);
        assert_eq!(
            read.style.effects,
            vec![Effect {
                kind: EffectKind::DropShadow {
                    angle: 30.0,
                    distance: 5.0,
                    spread: 0.1,
                    size: 4.0,
                    knockout: true,
                },
                color: [10, 20, 30],
                blend: BlendMode::Multiply,
                opacity: 0.75,
            }]
        );
    }

    #[test]
    fn undrawn_kinds_and_broken_blocks_are_reported() {
        let data = block(|out| {
            put_header(out, "null", 2);
            put_object(out, "FrFX", "FrFX", 2);
            put_bool(out, "enab", true);
            put_enum(out, "PntT", "FrFl", "GrFl");
            put_object(out, "SoFi", "SoFi", 4);
            put_bool(out, "enab", true);
            put_enum(out, "Md  ", "BlnM", "Nrml");
            rgb(out, [255.0, 0.0, 0.0]);
            put_unit(out, "Opct", b"#Prc", 100.0);
        });
        let patterns = Patterns::new();
        let context = Context {
            global_angle: 120.0,
            patterns: &patterns,
        };
        let read = read(&data, &context);
        assert!(read.undrawn, "a gradient stroke is not drawn");
        assert_eq!(read.style.effects.len(), 1, "the overlay is");
        assert!(super::read(&data[..20], &context).undrawn);
    }

    /// An `lfx2` block with one pattern overlay naming pattern `id`.
    fn pattern_block(id: &str) -> Vec<u8> {
        block(|out| {
            put_header(out, "null", 1);
            put_object(out, "patternFill", "patternFill", 7);
            put_bool(out, "enab", true);
            put_enum(out, "Md  ", "BlnM", "Nrml");
            put_unit(out, "Opct", b"#Prc", 100.0);
            put_object(out, "Ptrn", "Ptrn", 2);
            put_text(out, "Nm  ", "Tie Dye");
            put_text(out, "Idnt", id);
            put_unit(out, "Scl ", b"#Prc", 81.0);
            put_bool(out, "Algn", true);
            put_object(out, "phase", "Pnt ", 2);
            put_double(out, "Hrzn", 3.0);
            put_double(out, "Vrtc", -2.0);
        })
    }

    #[test]
    fn a_pattern_overlay_draws_the_tile_its_id_names() {
        let block = super::super::pattern::tests::patt_block("tile-1", 2, 2, |x, _| [x as u8; 3]);
        let patterns = super::super::pattern::read_all(&[block]);
        let context = Context {
            global_angle: 120.0,
            patterns: &patterns,
        };
        let read = read(&pattern_block("tile-1"), &context);
        assert!(!read.undrawn);
        let [effect] = read.style.effects.as_slice() else {
            panic!("one effect: {:?}", read.style);
        };
        let EffectKind::PatternOverlay(pattern) = &effect.kind else {
            panic!("a pattern overlay: {effect:?}");
        };
        assert_eq!(pattern.tile.dimensions(), (2, 2));
        assert!((pattern.scale - 0.81).abs() < 1e-6);
        assert!(pattern.linked);
        assert_eq!(pattern.origin, (3.0, -2.0), "the phase, until placed");
        // A tile the document does not hold is not drawn, and says so.
        let missing = super::read(&pattern_block("other"), &context);
        assert!(missing.undrawn && missing.style.effects.is_empty());
    }

    #[test]
    fn drawn_effects_are_not_reported_on_layers_but_are_on_groups() {
        let data = block(|out| {
            put_header(out, "null", 1);
            put_object(out, "SoFi", "SoFi", 2);
            put_bool(out, "enab", true);
            put_object(out, "Clr ", "Gry ", 1);
            put_double(out, "Gry ", 50.0);
        });
        let lfx2 = KeptBlock {
            format: crate::model::KeptFormat::Psd,
            key: *b"lfx2",
            data,
            undrawn: Some(Undrawn::Effects),
        };
        let patterns = Patterns::new();
        let context = Context {
            global_angle: 120.0,
            patterns: &patterns,
        };
        let mut layer = vec![lfx2.clone()];
        mark_drawn(&mut layer, Kind::Pixels, &context);
        assert_eq!(layer[0].undrawn, None, "a grey colour overlay is drawn");
        let mut group = vec![lfx2];
        mark_drawn(&mut group, Kind::Folder, &context);
        assert_eq!(group[0].undrawn, Some(Undrawn::Effects));
    }

    #[test]
    fn a_group_drop_shadow_is_drawn_and_not_reported() {
        let data = block(|out| {
            put_header(out, "null", 1);
            put_object(out, "DrSh", "DrSh", 6);
            put_bool(out, "enab", true);
            put_object(out, "Clr ", "Gry ", 1);
            put_double(out, "Gry ", 100.0);
            put_bool(out, "uglg", true);
            put_unit(out, "Dstn", b"#Pxl", 5.0);
            put_unit(out, "Ckmt", b"#Pxl", 0.0);
            put_unit(out, "blur", b"#Pxl", 4.0);
        });
        let kept = |key: &[u8; 4]| KeptBlock {
            format: crate::model::KeptFormat::Psd,
            key: *key,
            data: data.clone(),
            undrawn: super::super::records::undrawn_of_key(key),
        };
        let patterns = Patterns::new();
        let context = Context {
            global_angle: 120.0,
            patterns: &patterns,
        };
        let mut group = vec![kept(b"lfxs"), kept(b"lrFX")];
        mark_drawn(&mut group, Kind::Folder, &context);
        assert!(group.iter().all(|b| b.undrawn.is_none()), "{group:?}");
    }
}
