//! A layer record's "layer mask / adjustment layer data": where the user mask's rectangle,
//! default colour, flags, density and feather live (its pixels are channel -2, or -3).
//!
//! The field order differs from Adobe's specification, which lists the mask parameters
//! before the "real" user mask header: files Photoshop writes put the real header (present
//! only when the record has a channel -3, used when a vector mask and a user mask are both
//! present) first, then the parameters. Writers pad the block to at least 20 bytes.

use super::PsdError;
use super::bytes::Cursor;

/// Flags bit 1: the mask is disabled (kept, not applied).
const FLAG_DISABLED: u8 = 0x02;
/// Flags bit 3: this mask was rendered from other data (a vector mask).
const FLAG_FROM_VECTOR: u8 = 0x08;
/// Flags bit 4: mask parameters (density, feather) follow.
const FLAG_PARAMETERS: u8 = 0x10;
/// Parameter bits: user mask density (u8), user mask feather (f64), and the same two for
/// the vector mask.
const PARAM_USER_DENSITY: u8 = 0x01;
const PARAM_USER_FEATHER: u8 = 0x02;
const PARAM_VECTOR_DENSITY: u8 = 0x04;
const PARAM_VECTOR_FEATHER: u8 = 0x08;
/// The smallest block writers produce: rectangle, colour, flags and two bytes of padding.
const MIN_BLOCK: usize = 20;

/// A mask's rectangle and properties, as a record stores them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MaskHeader {
    pub top: i32,
    pub left: i32,
    pub bottom: i32,
    pub right: i32,
    /// The value outside the rectangle: 0 or 255.
    pub background: u8,
    pub disabled: bool,
    /// Density as a byte (255 = full), feather in pixels.
    pub density: u8,
    pub feather: f64,
    /// The mask is a vector mask's rasterised copy (flags bit 3).
    pub from_vector: bool,
}

impl MaskHeader {
    /// Width and height of the rectangle, or `None` when it is inside out.
    pub fn size(&self) -> Option<(u32, u32)> {
        let w = u32::try_from(i64::from(self.right) - i64::from(self.left)).ok()?;
        let h = u32::try_from(i64::from(self.bottom) - i64::from(self.top)).ok()?;
        Some((w, h))
    }
}

/// What a record says of its masks: the user mask to draw, the channel holding its
/// pixels, and whether a vector mask exists (drawn only through its rasterised copy).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MaskData {
    pub mask: MaskHeader,
    /// -2, or -3 (the "real" user mask beside a vector mask).
    pub channel: i16,
    /// True when the header describes a vector mask's rasterised copy, not a painted mask.
    pub from_vector: bool,
}

/// Parses the block (without its length). `has_real`: the record holds a channel -3.
/// Returns `None` for an empty block; a block too short for what its flags announce is an
/// error naming the field.
pub fn parse(block: &[u8], has_real: bool) -> Result<Option<MaskData>, PsdError> {
    if block.is_empty() {
        return Ok(None);
    }
    let mut c = Cursor::new(block);
    let mut first = header(&mut c)?;
    let flags = c.u8("mask flags")?;
    first.disabled = flags & FLAG_DISABLED != 0;
    first.from_vector = flags & FLAG_FROM_VECTOR != 0;
    let mut real = None;
    if has_real && block.len() >= 36 {
        let real_flags = c.u8("real mask flags")?;
        let background = c.u8("real mask colour")?;
        let mut mask = header_rect(&mut c)?;
        mask.background = background;
        mask.disabled = real_flags & FLAG_DISABLED != 0;
        real = Some(mask);
    }
    if flags & FLAG_PARAMETERS != 0 {
        let params = c.u8("mask parameter flags")?;
        let target = match real.as_mut() {
            Some(real) => real,
            None => &mut first,
        };
        if params & PARAM_USER_DENSITY != 0 {
            target.density = c.u8("user mask density")?;
        }
        if params & PARAM_USER_FEATHER != 0 {
            target.feather = f64::from_bits(c.u64("user mask feather")?);
        }
        // The vector mask's own density and feather: drawn when the record's only mask
        // is the vector mask's raster copy (Photoshop stores that copy without them).
        let vector_copy = real.is_none() && first.from_vector;
        if params & PARAM_VECTOR_DENSITY != 0 {
            let density = c.u8("vector mask density")?;
            if vector_copy {
                first.density = density;
            }
        }
        if params & PARAM_VECTOR_FEATHER != 0 {
            let feather = f64::from_bits(c.u64("vector mask feather")?);
            if vector_copy {
                first.feather = feather;
            }
        }
    }
    Ok(Some(match real {
        Some(mask) => MaskData {
            mask,
            channel: -3,
            from_vector: false,
        },
        None => MaskData {
            mask: first,
            channel: -2,
            from_vector: flags & FLAG_FROM_VECTOR != 0,
        },
    }))
}

fn header_rect(c: &mut Cursor<'_>) -> Result<MaskHeader, PsdError> {
    Ok(MaskHeader {
        top: c.i32("mask top")?,
        left: c.i32("mask left")?,
        bottom: c.i32("mask bottom")?,
        right: c.i32("mask right")?,
        background: 0,
        disabled: false,
        density: u8::MAX,
        feather: 0.0,
        from_vector: false,
    })
}

fn header(c: &mut Cursor<'_>) -> Result<MaskHeader, PsdError> {
    let mut mask = header_rect(c)?;
    mask.background = c.u8("mask colour")?;
    Ok(mask)
}

/// The block for one user mask (channel -2), without its length.
pub fn write(mask: &MaskHeader) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    for edge in [mask.top, mask.left, mask.bottom, mask.right] {
        out.extend_from_slice(&edge.to_be_bytes());
    }
    out.push(mask.background);
    // A vector mask's raster copy carries the vector mask's density and feather.
    let (density_bit, feather_bit) = if mask.from_vector {
        (PARAM_VECTOR_DENSITY, PARAM_VECTOR_FEATHER)
    } else {
        (PARAM_USER_DENSITY, PARAM_USER_FEATHER)
    };
    let mut params = 0u8;
    if mask.density < u8::MAX {
        params |= density_bit;
    }
    if mask.feather > 0.0 {
        params |= feather_bit;
    }
    let mut flags = if mask.disabled { FLAG_DISABLED } else { 0 };
    if mask.from_vector {
        flags |= FLAG_FROM_VECTOR;
    }
    if params != 0 {
        flags |= FLAG_PARAMETERS;
    }
    out.push(flags);
    if params != 0 {
        out.push(params);
        if params & density_bit != 0 {
            out.push(mask.density);
        }
        if params & feather_bit != 0 {
            out.extend_from_slice(&mask.feather.to_bits().to_be_bytes());
        }
    }
    out.resize(out.len().max(MIN_BLOCK), 0);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn sample() -> MaskHeader {
        MaskHeader {
            top: -3,
            left: 4,
            bottom: 20,
            right: 30,
            background: 255,
            disabled: true,
            density: 128,
            feather: 2.5,
            from_vector: true,
        }
    }

    #[test]
    fn a_written_mask_reads_back() {
        let mask = sample();
        let block = write(&mask);
        let read = parse(&block, false).unwrap().unwrap();
        assert_eq!(read.mask, mask);
        assert_eq!(read.channel, -2);
        let plain = MaskHeader {
            density: 255,
            feather: 0.0,
            disabled: false,
            ..mask
        };
        let block = write(&plain);
        assert_eq!(block.len(), 20);
        assert_eq!(parse(&block, false).unwrap().unwrap().mask, plain);
    }

    #[test]
    fn the_real_mask_comes_before_the_parameters() {
        // First header (a vector mask's copy), real flags, real colour, real rectangle,
        // then parameters with the user density.
        let mut block = Vec::new();
        for v in [0i32, 0, 10, 10] {
            block.extend_from_slice(&v.to_be_bytes());
        }
        block.extend_from_slice(&[0, FLAG_FROM_VECTOR | FLAG_PARAMETERS]);
        block.extend_from_slice(&[FLAG_DISABLED, 255]);
        for v in [1i32, 2, 5, 6] {
            block.extend_from_slice(&v.to_be_bytes());
        }
        block.extend_from_slice(&[PARAM_USER_DENSITY, 77]);
        let read = parse(&block, true).unwrap().unwrap();
        assert_eq!(read.channel, -3);
        assert_eq!((read.mask.top, read.mask.right), (1, 6));
        assert_eq!((read.mask.background, read.mask.density), (255, 77));
        assert!(read.mask.disabled);
        let mut vector_only = block[..18].to_vec();
        vector_only[17] = FLAG_FROM_VECTOR;
        vector_only.resize(20, 0);
        let without_real = parse(&vector_only, false).unwrap().unwrap();
        assert!(without_real.from_vector);
        assert_eq!(without_real.channel, -2);
    }

    #[test]
    fn a_vector_masks_raster_copy_takes_the_vector_density() {
        // psd-tools' `mask-density-vectormask` test file, its layer at 25 % vector mask
        // density (the block without its length): rectangle, colour 0, flags "rendered
        // from a vector mask" and "parameters follow", then vector density 64.
        let block =
            crate::io::psd::bytes::from_hex("ffffffff 0000000f 00000009 00000021 00 18 04 40 0000");
        let read = parse(&block, false).unwrap().unwrap();
        assert!(read.from_vector);
        assert_eq!((read.mask.density, read.mask.left), (64, 15));
        // Written back, it stays the vector mask's density, not a user mask's.
        let written = write(&read.mask);
        assert_eq!(written[16..20], [0x00, 0x18, PARAM_VECTOR_DENSITY, 64]);
        // A user mask beside the vector mask keeps its own density.
        let user = MaskHeader {
            from_vector: false,
            ..read.mask
        };
        assert_eq!(write(&user)[17..19], [FLAG_PARAMETERS, PARAM_USER_DENSITY]);
    }

    #[test]
    fn a_short_block_is_an_error_naming_the_field() {
        let err = parse(&[0; 10], false).unwrap_err();
        assert!(err.to_string().contains("mask"), "{err}");
    }
}
