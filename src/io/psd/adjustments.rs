//! Which adjustment layers Strata draws, read from their tagged blocks into the model's
//! [`Adjustment`]: gradient maps ([`super::gradient_map`]) and the tone blocks below, each
//! a binary block of the Photoshop file format:
//!
//! - `nvrt` (invert): no data.
//! - `post` (posterize): levels (`u16`, 2 to 255), two bytes of padding.
//! - `thrs` (threshold): level (`u16`, 1 to 255), two bytes of padding.
//! - `levl` (levels): version (`u16`, 2), then 29 records of five `u16` (input floor and
//!   ceiling, output floor and ceiling, gamma × 100); the first is the composite, then red,
//!   green, blue (the others are for other colour modes).
//! - `curv` (curves): a byte (0: curves of points, 1: a drawn map, not read), version
//!   (`u16`), a `u32` whose bits name the channels present (bit 0 the composite, then red,
//!   green, blue), then per channel a point count (`u16`) and its points as `u16` pairs,
//!   output first.
//! - `mixr` (channel mixer): version (`u16`, 1), monochrome (`u16`), then records of five
//!   `i16` in percent (red, green and blue weights, a fourth for CMYK, the constant):
//!   red, green and blue outputs in that order; a monochrome mixer's grey is the first.
//! - `expA` (exposure): version (`u16`, 1), then exposure, offset and gamma as big-endian
//!   `f32`.
//!
//! Anything else, or a block that does not read, is `None` and stays reported as not
//! drawn.

use super::bytes::Cursor;
use super::records::Record;
use crate::model::kept::Undrawn;
use crate::model::{Adjustment, AdjustmentKind, CurvePoints, KeptBlock, LevelsRecord, MixerRow};

/// The adjustment of a layer's kept blocks, when it has one Strata draws (one that
/// [`mark_drawn`] took off the undrawn list).
pub fn read(kept: &[KeptBlock]) -> Option<Adjustment> {
    kept.iter()
        .filter(|b| b.undrawn.is_none())
        .find_map(|b| parse(&b.key, &b.data))
}

/// Fill layers keep their stored pixels, which are what Photoshop shows; every other
/// adjustment key changes what lies below it.
const FILL_KEYS: [&[u8; 4]; 3] = [b"SoCo", b"GdFl", b"PtFl"];

/// `CgEd` carries the settings dialog's extras beside an adjustment block (preset names,
/// and for brightness/contrast the real settings): it stands or falls with the layer's
/// adjustment.
const EXTRA_KEY: &[u8; 4] = b"CgEd";

/// Whether a layer record holds an adjustment that Strata cannot draw and that changes
/// the canvas: a hidden one, or one at zero opacity or fill, changes nothing, so it keeps
/// none of the file's others from being drawn. An adjustment that is the base of a
/// clipping group (`clipping_base`) is not drawn at all: its clipped layers would clip to
/// its mask, which the render plan does not do.
pub fn blocks_drawing(record: &Record<'_>, clipping_base: bool) -> bool {
    let adjusts = if clipping_base {
        record
            .kept
            .iter()
            .any(|b| b.undrawn == Some(Undrawn::Adjustment) && !FILL_KEYS.contains(&&b.key))
    } else {
        holds_undrawn_adjustment(&record.kept)
    };
    !record.hidden && record.opacity > 0 && record.fill_opacity > 0 && adjusts
}

/// Whether a layer's kept blocks hold an adjustment that Strata cannot draw.
fn holds_undrawn_adjustment(kept: &[KeptBlock]) -> bool {
    let drawable = drawable(kept);
    let drawn = drawable.contains(&true);
    kept.iter()
        .zip(drawable)
        .filter(|&(_, drawable)| !drawable)
        .any(|(b, _)| {
            b.undrawn == Some(Undrawn::Adjustment)
                && !FILL_KEYS.contains(&&b.key)
                && !(drawn && &b.key == EXTRA_KEY)
        })
}

/// Per kept block, whether it is an adjustment Strata draws: parsed once, as parsing
/// builds the adjustment's table.
fn drawable(kept: &[KeptBlock]) -> Vec<bool> {
    kept.iter()
        .map(|b| parse(&b.key, &b.data).is_some())
        .collect()
}

/// An adjustment Strata draws (and its `CgEd` extras) is kept but no longer reported as
/// undrawn.
pub fn mark_drawn(kept: &mut [KeptBlock]) {
    let drawable = drawable(kept);
    if !drawable.contains(&true) {
        return;
    }
    for (block, drawable) in kept.iter_mut().zip(drawable) {
        if &block.key == EXTRA_KEY || drawable {
            block.undrawn = None;
        }
    }
}

/// The adjustment a tagged block describes, if Strata draws it.
fn parse(key: &[u8; 4], data: &[u8]) -> Option<Adjustment> {
    let kind = match key {
        b"grdm" => return super::gradient_map::parse(data).map(Adjustment::gradient_map),
        b"nvrt" => AdjustmentKind::Invert,
        b"post" => AdjustmentKind::Posterize {
            levels: u8::try_from(first_u16(data)?.clamp(2, 255)).ok()?,
        },
        b"thrs" => AdjustmentKind::Threshold {
            level: u8::try_from(first_u16(data)?.clamp(1, 255)).ok()?,
        },
        b"levl" => AdjustmentKind::Levels(levels(data)?),
        b"curv" => AdjustmentKind::Curves(curves(data)?),
        b"mixr" => mixer(data)?,
        b"expA" => exposure(data)?,
        _ => return None,
    };
    Some(Adjustment::new(kind))
}

fn first_u16(data: &[u8]) -> Option<u16> {
    Cursor::new(data).u16("setting").ok()
}

fn levels(data: &[u8]) -> Option<[LevelsRecord; 4]> {
    let mut c = Cursor::new(data);
    if c.u16("version").ok()? != 2 {
        return None;
    }
    let mut records = [LevelsRecord::IDENTITY; 4];
    for record in &mut records {
        let mut value = || c.u16("levels value").ok().map(|v| v.min(255) as u8);
        let (input_floor, input_ceiling) = (value()?, value()?);
        let (output_floor, output_ceiling) = (value()?, value()?);
        let gamma = f32::from(c.u16("gamma").ok()?) / 100.0;
        *record = LevelsRecord {
            input_floor,
            input_ceiling,
            output_floor,
            output_ceiling,
            gamma: gamma.clamp(0.1, 9.99),
        };
    }
    Some(records)
}

fn mixer(data: &[u8]) -> Option<AdjustmentKind> {
    let mut c = Cursor::new(data);
    if c.u16("version").ok()? != 1 {
        return None;
    }
    let monochrome = c.u16("monochrome").ok()? != 0;
    let mut rows = [MixerRow {
        red: 0,
        green: 0,
        blue: 0,
        constant: 0,
    }; 3];
    for row in &mut rows {
        let mut value = || c.i16("mixer value").ok().map(|v| v.clamp(-200, 200));
        let (red, green, blue) = (value()?, value()?, value()?);
        value()?; // the CMYK black weight
        *row = MixerRow {
            red,
            green,
            blue,
            constant: value()?,
        };
    }
    Some(AdjustmentKind::ChannelMixer { monochrome, rows })
}

fn exposure(data: &[u8]) -> Option<AdjustmentKind> {
    let mut c = Cursor::new(data);
    if c.u16("version").ok()? != 1 {
        return None;
    }
    let mut value = || {
        let v = f32::from_bits(c.u32("exposure value").ok()?);
        v.is_finite().then_some(v)
    };
    Some(AdjustmentKind::Exposure {
        exposure: value()?.clamp(-20.0, 20.0),
        offset: value()?.clamp(-0.5, 0.5),
        gamma: value()?,
    })
}

fn curves(data: &[u8]) -> Option<[Option<CurvePoints>; 4]> {
    let mut c = Cursor::new(data);
    if c.u8("curves kind").ok()? != 0 {
        return None;
    }
    c.u16("version").ok()?;
    let channels = c.u32("channels").ok()?;
    let mut curves: [Option<CurvePoints>; 4] = Default::default();
    for bit in 0..32 {
        if channels & (1 << bit) == 0 {
            continue;
        }
        let count = c.u16("point count").ok()?;
        let mut points = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            let output = c.u16("output").ok()?.min(255) as u8;
            let input = c.u16("input").ok()?.min(255) as u8;
            points.push((input, output));
        }
        // Channels past blue belong to other colour modes.
        if let Some(slot) = curves.get_mut(bit) {
            *slot = Some(CurvePoints::new(points)?);
        }
    }
    Some(curves)
}

#[cfg(test)]
mod tests;
