//! Reading the document's patterns (the `Patt`, `Pat2` and `Pat3` tagged blocks after the
//! layer info) so that a pattern overlay can draw the tile it names. The blocks
//! themselves stay kept and are written back unchanged.
//!
//! Each pattern, per Adobe's "Patterns" entry of the additional layer information: a
//! `u32` length, `u32` version 1, `u32` image mode, the tile's size (two `i16`), a Unicode
//! name, a Pascal-string id, a palette for indexed tiles, and the pixels as a "virtual
//! memory array list": `u32` version 3, `u32` length, a rectangle, a `u32` channel count,
//! then one array per channel (plus a user and a sheet mask), each `u32` written flag,
//! `u32` length, `u32` depth, a rectangle, `u16` depth, `u8` compression (0 raw,
//! 1 PackBits rows after a table of `u16` row lengths) and the data. Patterns pad to 4.

use std::collections::HashMap;

use std::sync::Arc;

use super::PsdError;
use super::bytes::Cursor;
use super::descriptor::{Descriptor, Value};
use super::packbits;
use crate::model::effects::{EffectKind, Pattern, Style};
use crate::model::{KeptBlock, RgbaImage};

/// Tiles larger than this on a side are not read (Photoshop's own limit is 1000 × 1000
/// for defined patterns; this leaves room without letting a corrupt size allocate much).
const MAX_SIDE: u32 = 4096;

/// The document's pattern tiles by id (the `Idnt` a pattern overlay names).
pub type Patterns = HashMap<String, Arc<RgbaImage>>;

/// Every readable RGB or greyscale tile in the document's pattern blocks. A pattern that
/// cannot be read is left out (an overlay naming it is then not drawn), and so is the
/// rest of its block.
pub fn read_all(kept: &[KeptBlock]) -> Patterns {
    let mut out = Patterns::new();
    for block in kept
        .iter()
        .filter(|b| matches!(&b.key, b"Patt" | b"Pat2" | b"Pat3"))
    {
        let mut c = Cursor::new(&block.data);
        while c.remaining() >= 4 {
            match read_one(&mut c) {
                Ok(Some((id, tile))) => {
                    out.insert(id, Arc::new(tile));
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::debug!("unreadable pattern ({e}); the rest of its block skipped");
                    break;
                }
            }
        }
    }
    out
}

/// The pattern of the pattern overlay `d`: `Ptrn` names the tile by its id (`Idnt`),
/// `Scl ` scales it in percent, `Algn` links it to the layer and `phase` moves it; the
/// origin is the phase until [`place`] puts it on the canvas. A rotated pattern (`Angl`,
/// newer files) or a tile the document does not hold is not drawn (`None`).
pub fn overlay(d: &Descriptor, patterns: &Patterns) -> Option<Pattern> {
    let Some(Value::Text(id)) = d.object("Ptrn")?.get("Idnt") else {
        return None;
    };
    if d.number("Angl").is_some_and(|a| a.abs() > 1e-3) {
        return None;
    }
    let scale = d.number("Scl ").unwrap_or(100.0) / 100.0;
    if !(scale > 0.0 && scale.is_finite()) {
        return None;
    }
    let phase = d.object("phase").map_or((0.0, 0.0), |p| {
        (
            p.number("Hrzn").unwrap_or(0.0) as f32,
            p.number("Vrtc").unwrap_or(0.0) as f32,
        )
    });
    Some(Pattern {
        tile: patterns.get(id.trim_end_matches('\0'))?.clone(),
        scale: scale as f32,
        linked: d.boolean("Algn").unwrap_or(true),
        origin: phase,
    })
}

/// Puts the pattern overlays of `style`, read for a layer whose top-left corner is
/// `corner` and whose blocks are `kept`, on the canvas. A linked pattern's tiling starts
/// at the layer's effects reference point (`fxrp`, two `f64`: where Photoshop anchored
/// the layer's effects, which it moves with the layer) plus the phase; without that
/// block, at the layer's corner. An unlinked one starts at the canvas's origin plus the
/// phase. (Photoshop's composites agree: ag-psd's `read/pattern` file, whose reference
/// point is the canvas origin, is 0.5/255 off with it and 6.9/255 from the layer's
/// corner.)
pub fn place(style: &mut Style, kept: &[KeptBlock], corner: (i32, i32)) {
    let reference = kept
        .iter()
        .find(|b| &b.key == b"fxrp")
        .and_then(|b| {
            let mut c = Cursor::new(&b.data);
            let x = f64::from_bits(c.u64("reference x").ok()?);
            let y = f64::from_bits(c.u64("reference y").ok()?);
            (x.is_finite() && y.is_finite()).then_some((x as f32, y as f32))
        })
        .unwrap_or((corner.0 as f32, corner.1 as f32));
    for effect in &mut style.effects {
        let EffectKind::PatternOverlay(pattern) = &mut effect.kind else {
            continue;
        };
        let pattern = Arc::make_mut(pattern);
        if pattern.linked {
            pattern.origin = (
                reference.0 + pattern.origin.0 - corner.0 as f32,
                reference.1 + pattern.origin.1 - corner.1 as f32,
            );
        }
    }
}

/// One pattern: its id and tile, or `None` for a colour mode not drawn (only RGB, 3, and
/// greyscale, 1, are).
fn read_one(c: &mut Cursor<'_>) -> Result<Option<(String, RgbaImage)>, PsdError> {
    let len = u64::from(c.u32("pattern length")?);
    let mut p = c.section(len, "the pattern")?;
    c.skip_lenient(((4 - len % 4) % 4) as usize);
    let _version = p.u32("pattern version")?;
    let mode = p.u32("pattern image mode")?;
    let _size = (p.i16("pattern height")?, p.i16("pattern width")?);
    let name_units = p.u32("pattern name length")?;
    p.skip(u64::from(name_units) * 2, "pattern name")?;
    let id_len = p.u8("pattern id length")?;
    let id = String::from_utf8_lossy(p.take(u64::from(id_len), "pattern id")?)
        .trim_end_matches('\0')
        .to_owned();
    let colors = match mode {
        1 => 1,
        3 => 3,
        _ => return Ok(None),
    };
    let _list_version = p.u32("pattern data version")?;
    let list_len = u64::from(p.u32("pattern data length")?);
    let mut list = p.section(list_len, "the pattern data")?;
    let (w, h) = rectangle(&mut list)?;
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
        return Ok(None);
    }
    let count = list.u32("pattern channel count")?;
    let mut planes: Vec<Vec<u8>> = Vec::new();
    let mut alpha = None;
    for _ in 0..count.saturating_add(2) {
        if list.remaining() < 8 {
            break;
        }
        let Some(plane) = read_array(&mut list, w, h)? else {
            continue;
        };
        if planes.len() < colors {
            planes.push(plane);
        } else if alpha.is_none() {
            alpha = Some(plane);
        }
    }
    if planes.len() < colors {
        return Err(PsdError::corrupt("pattern without its colour channels"));
    }
    let n = (w * h) as usize;
    let mut raw = Vec::with_capacity(n * 4);
    for i in 0..n {
        let rgb = if colors == 3 {
            [planes[0][i], planes[1][i], planes[2][i]]
        } else {
            [planes[0][i]; 3]
        };
        raw.extend_from_slice(&rgb);
        raw.push(alpha.as_ref().map_or(u8::MAX, |a| a[i]));
    }
    let tile = RgbaImage::from_raw(w, h, raw)
        .ok_or_else(|| PsdError::corrupt("pattern pixels do not fill the tile"))?;
    Ok(Some((id, tile)))
}

/// The width and height of a rectangle stored as top, left, bottom, right.
fn rectangle(c: &mut Cursor<'_>) -> Result<(u32, u32), PsdError> {
    let mut side = [0i64; 4];
    for v in &mut side {
        *v = i64::from(c.i32("pattern rectangle")?);
    }
    let [top, left, bottom, right] = side;
    match (u32::try_from(right - left), u32::try_from(bottom - top)) {
        (Ok(w), Ok(h)) => Ok((w, h)),
        _ => Err(PsdError::corrupt("pattern rectangle is inside out")),
    }
}

/// One channel's array as 8-bit values over the `w` × `h` tile, or `None` when it is not
/// written.
fn read_array(c: &mut Cursor<'_>, w: u32, h: u32) -> Result<Option<Vec<u8>>, PsdError> {
    let written = c.u32("pattern channel written")?;
    if written == 0 {
        return Ok(None);
    }
    let len = u64::from(c.u32("pattern channel length")?);
    if len == 0 {
        return Ok(None);
    }
    let mut a = c.section(len, "the pattern channel")?;
    let _depth = a.u32("pattern channel depth")?;
    if rectangle(&mut a)? != (w, h) {
        return Err(PsdError::corrupt(
            "pattern channel of another size than its tile",
        ));
    }
    let depth = a.u16("pattern channel pixel depth")?;
    let bytes_per = match depth {
        8 => 1,
        16 => 2,
        _ => return Err(PsdError::corrupt(format!("{depth}-bit pattern channel"))),
    };
    let row_len = w as usize * bytes_per;
    let mut data = vec![0u8; row_len * h as usize];
    match a.u8("pattern channel compression")? {
        0 => {
            let raw = a.take(data.len() as u64, "raw pattern pixels")?;
            data.copy_from_slice(raw);
        }
        1 => {
            let counts: Vec<u16> = (0..h)
                .map(|_| a.u16("pattern row length"))
                .collect::<Result<_, _>>()?;
            for (row, count) in data.chunks_exact_mut(row_len).zip(counts) {
                let src = a.take(u64::from(count), "pattern row")?;
                packbits::decode_row(src, row)
                    .map_err(|e| PsdError::corrupt(format!("pattern row: {e}")))?;
            }
        }
        other => {
            return Err(PsdError::corrupt(format!(
                "pattern compression {other} (only raw and PackBits are read)"
            )));
        }
    }
    if bytes_per == 2 {
        // The high byte of each big-endian value is its 8-bit rounding down.
        data = data.chunks_exact(2).map(|v| v[0]).collect();
    }
    Ok(Some(data))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::model::KeptFormat;

    /// A `Patt` block holding one RGB pattern `id` of `w` × `h` raw pixels, `rgb(x, y)`.
    pub fn patt_block(id: &str, w: u32, h: u32, rgb: impl Fn(u32, u32) -> [u8; 3]) -> KeptBlock {
        let mut list = Vec::new();
        for v in [0i32, 0, h as i32, w as i32] {
            list.extend_from_slice(&v.to_be_bytes());
        }
        list.extend_from_slice(&24u32.to_be_bytes());
        for channel in 0..26 {
            if channel >= 3 {
                list.extend_from_slice(&0u32.to_be_bytes());
                continue;
            }
            let mut array = Vec::new();
            array.extend_from_slice(&8u32.to_be_bytes());
            for v in [0i32, 0, h as i32, w as i32] {
                array.extend_from_slice(&v.to_be_bytes());
            }
            array.extend_from_slice(&8u16.to_be_bytes());
            array.push(0);
            for y in 0..h {
                for x in 0..w {
                    array.push(rgb(x, y)[channel]);
                }
            }
            list.extend_from_slice(&1u32.to_be_bytes());
            list.extend_from_slice(&(array.len() as u32).to_be_bytes());
            list.extend_from_slice(&array);
        }
        let mut pattern = Vec::new();
        pattern.extend_from_slice(&1u32.to_be_bytes());
        pattern.extend_from_slice(&3u32.to_be_bytes());
        pattern.extend_from_slice(&(h as i16).to_be_bytes());
        pattern.extend_from_slice(&(w as i16).to_be_bytes());
        pattern.extend_from_slice(&1u32.to_be_bytes());
        pattern.extend_from_slice(&[0, b'P']);
        pattern.push(id.len() as u8);
        pattern.extend_from_slice(id.as_bytes());
        pattern.extend_from_slice(&3u32.to_be_bytes());
        pattern.extend_from_slice(&(list.len() as u32).to_be_bytes());
        pattern.extend_from_slice(&list);
        let mut data = (pattern.len() as u32).to_be_bytes().to_vec();
        data.extend_from_slice(&pattern);
        data.resize(data.len().next_multiple_of(4), 0);
        KeptBlock {
            format: KeptFormat::Psd,
            key: *b"Patt",
            data,
            undrawn: None,
        }
    }

    #[test]
    fn reads_an_rgb_tile_by_its_id() {
        let block = patt_block("abc", 3, 2, |x, y| [x as u8 * 10, y as u8 * 20, 7]);
        let patterns = read_all(&[block]);
        let tile = &patterns["abc"];
        assert_eq!(tile.dimensions(), (3, 2));
        assert_eq!(tile.get_pixel(2, 1).0, [20, 20, 7, 255]);
    }

    #[test]
    fn a_linked_pattern_starts_at_the_reference_point_plus_the_phase() {
        use crate::model::BlendMode;
        use crate::model::effects::Effect;
        let tile = RgbaImage::new(2, 2);
        let pattern = |linked| Pattern {
            tile: Arc::new(tile.clone()),
            scale: 1.0,
            linked,
            origin: (3.0, -2.0),
        };
        let mut style = Style {
            effects: [true, false]
                .map(|linked| Effect {
                    kind: EffectKind::PatternOverlay(Arc::new(pattern(linked))),
                    color: [0; 3],
                    blend: BlendMode::Normal,
                    opacity: 1.0,
                })
                .to_vec(),
        };
        let mut fxrp = 10.0f64.to_bits().to_be_bytes().to_vec();
        fxrp.extend_from_slice(&20.0f64.to_bits().to_be_bytes());
        let kept = [KeptBlock {
            format: crate::model::KeptFormat::Psd,
            key: *b"fxrp",
            data: fxrp,
            undrawn: None,
        }];
        let origins = |style: &Style| -> Vec<(f32, f32)> {
            style
                .effects
                .iter()
                .map(|e| match &e.kind {
                    EffectKind::PatternOverlay(p) => p.origin,
                    _ => unreachable!(),
                })
                .collect()
        };
        let mut placed = style.clone();
        place(&mut placed, &kept, (4, 5));
        // (10 + 3, 20 − 2) on the canvas, relative to the layer at (4, 5); the unlinked
        // pattern keeps its phase on the canvas.
        assert_eq!(origins(&placed), [(9.0, 13.0), (3.0, -2.0)]);
        // Without a reference point, from the layer's corner.
        place(&mut style, &[], (4, 5));
        assert_eq!(origins(&style), [(3.0, -2.0), (3.0, -2.0)]);
    }

    #[test]
    fn a_cut_pattern_is_left_out_without_failing() {
        let mut block = patt_block("abc", 3, 2, |_, _| [1, 2, 3]);
        block.data.truncate(block.data.len() - 10);
        assert!(read_all(&[block]).is_empty());
    }
}
