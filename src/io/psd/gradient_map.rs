//! Reading a gradient map adjustment layer (`grdm` tagged block) into the model's
//! [`Gradient`]: a binary block, not a descriptor. Its layout, as Photoshop writes it:
//! version (`u16`, 1 or 3), reversed and dithered (`u8` each), in version 3 the
//! interpolation method key (`Perc`, `Lnr `, else classic), the name (Unicode string),
//! colour stops (`u16` count; location `u32` of 4096, midpoint `u32` percent, colour
//! space `u16` and four `u16` components, two bytes of padding), opacity stops (`u16`
//! count; location, midpoint, opacity `u16` of 255), then expansion, smoothness (`u16` of
//! 4096), length and mode (`u16` each). Only custom RGB gradients (mode 0, colour space
//! 0) are drawn; anything else is `None` and stays reported as not drawn.

use super::bytes::Cursor;
use crate::model::effects::{Gradient, GradientShape, Interpolation, Stop};

/// Photoshop's stop positions and smoothness run from 0 to 4096.
const SCALE: f32 = 4096.0;

/// The gradient of a `grdm` block, when Strata draws it (see [`super::adjustments`]).
pub(super) fn parse(data: &[u8]) -> Option<Gradient> {
    let mut c = Cursor::new(data);
    let version = c.u16("version").ok()?;
    let reverse = c.u8("reversed").ok()? != 0;
    c.u8("dithered").ok()?;
    let interpolation = match version {
        1 => Interpolation::Classic,
        3 => match &c.tag("interpolation").ok()? {
            b"Perc" => Interpolation::Perceptual,
            b"Lnr " => Interpolation::Linear,
            _ => Interpolation::Classic,
        },
        _ => return None,
    };
    let name_len = c.u32("name length").ok()?;
    c.skip(u64::from(name_len) * 2, "name").ok()?;
    let color_count = c.u16("colour stops").ok()?;
    let mut colors = Vec::with_capacity(usize::from(color_count));
    for _ in 0..color_count {
        let (at, midpoint) = location(&mut c)?;
        if c.u16("colour space").ok()? != 0 {
            return None;
        }
        let mut rgb = [0.0f32; 3];
        for v in &mut rgb {
            *v = f32::from(c.u16("component").ok()?) / 65535.0;
        }
        c.skip(4, "component and padding").ok()?;
        colors.push(Stop {
            at,
            value: rgb,
            midpoint,
        });
    }
    let opacity_count = c.u16("opacity stops").ok()?;
    let mut opacities = Vec::with_capacity(usize::from(opacity_count));
    for _ in 0..opacity_count {
        let (at, midpoint) = location(&mut c)?;
        let value = f32::from(c.u16("opacity").ok()?) / 255.0;
        opacities.push(Stop {
            at,
            value: value.clamp(0.0, 1.0),
            midpoint,
        });
    }
    c.u16("expansion").ok()?;
    let smoothness = f32::from(c.u16("smoothness").ok()?) / SCALE;
    c.u16("length").ok()?;
    if colors.is_empty() || opacities.is_empty() || c.u16("mode").ok()? != 0 {
        return None;
    }
    colors.sort_by(|a, b| a.at.total_cmp(&b.at));
    opacities.sort_by(|a, b| a.at.total_cmp(&b.at));
    Some(Gradient {
        colors,
        opacities,
        shape: GradientShape::Linear,
        angle: 90.0,
        scale: 1.0,
        reverse,
        interpolation,
        smoothness: smoothness.clamp(0.0, 1.0),
    })
}

/// A stop's location (`0.0..=1.0`) and midpoint (`0.0..=1.0`).
fn location(c: &mut Cursor<'_>) -> Option<(f32, f32)> {
    let at = c.u32("location").ok()? as f32 / SCALE;
    let midpoint = c.u32("midpoint").ok()? as f32 / 100.0;
    Some((at.clamp(0.0, 1.0), midpoint.clamp(0.0, 1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::psd::bytes::from_hex;

    /// The `grdm` block of ag-psd's `gradient-overlay-2` test file, as Photoshop wrote it.
    const PHOTOSHOP: &str = "0003000050657263000000070043007500730074006f006d000000040000000000000032 \
        00000000000000000000000000000590000000320000f9f94b4c02020000000000000aa2 \
        000000320000ffff9e191f200000000000001000000000320000ffffffffffff00000000 \
        0002000000000000003200ff000010000000003200ff00021000002000000000084a0000 \
        00000000080000030000000000000000800080008000800000000000";

    #[test]
    fn reads_photoshops_perceptual_gradient_map() {
        let data = from_hex(PHOTOSHOP);
        assert_eq!(data.len(), 172);
        let g = parse(&data).expect("drawn");
        assert_eq!(g.interpolation, Interpolation::Perceptual);
        assert_eq!(g.smoothness, 1.0);
        assert!(!g.reverse);
        let at: Vec<f32> = g.colors.iter().map(|s| s.at).collect();
        assert_eq!(at, [0.0, 1424.0 / 4096.0, 2722.0 / 4096.0, 1.0]);
        assert_eq!(g.colors[1].value[0], 0xf9f9 as f32 / 65535.0);
        assert_eq!(g.colors[0].midpoint, 0.5);
        assert_eq!(g.opacities.len(), 2);
        // A truncated block, another colour space or a noise gradient is not drawn.
        assert!(parse(&data[..60]).is_none());
        let mut lab = data.clone();
        lab[37] = 7; // the first stop's colour space
        assert!(parse(&lab).is_none());
    }
}
