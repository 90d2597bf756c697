//! Colour modes and bit depths other than 8-bit RGB, converted to the straight 8-bit RGBA
//! our model holds. Each conversion is the plain one the specification implies; none uses an
//! ICC profile, so colours can differ slightly from what Photoshop shows:
//!
//! - **16-bit** samples use the whole `u16` range (65535 is white in the files Photoshop
//!   writes, whatever its internal 0..32768 scale) and are rounded to 8 bits.
//! - **32-bit** samples are linear-light IEEE floats (Photoshop's 32-bit documents have a
//!   gamma of 1.0): colour is clamped to 0..1 and encoded with the sRGB curve, transparency
//!   stays linear.
//! - **Grayscale** and **Duotone** (its ink colours ignored) copy grey to R, G and B.
//! - **Indexed**: the colour mode data holds the palette, 256 reds, then 256 greens, then
//!   256 blues.
//! - **Bitmap** (1 bit per pixel, rows padded to whole bytes): a set bit is black.
//! - **CMYK** is stored inverted (255 means no ink), so the naive conversion without a
//!   profile is `R = C'·K'/255` on the stored values (likewise G with M', B with Y').
//! - **Lab** (L 0..255 → 0..100, a and b offset by 128) goes through CIE XYZ under D50 (the
//!   ICC connection white), Bradford-adapted to D65, to sRGB.

use super::PsdError;
use crate::model::RgbaImage;

/// Colour modes we can read (the header's `u16`; Multichannel is refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorMode {
    Bitmap,
    Grayscale,
    Indexed,
    Rgb,
    Cmyk,
    Duotone,
    Lab,
}

impl ColorMode {
    /// The mode of a header's mode word, or why it cannot be read.
    pub fn from_word(word: u16) -> Result<Self, PsdError> {
        Ok(match word {
            0 => Self::Bitmap,
            1 => Self::Grayscale,
            2 => Self::Indexed,
            3 => Self::Rgb,
            4 => Self::Cmyk,
            8 => Self::Duotone,
            9 => Self::Lab,
            7 => {
                let what = "colour mode Multichannel (7): its channels have no defined colours";
                return Err(PsdError::Unsupported(what.into()));
            }
            other => return Err(PsdError::corrupt(format!("header: colour mode {other}"))),
        })
    }

    /// Colour channels before any alpha or spot channels.
    pub fn color_channels(self) -> usize {
        match self {
            Self::Bitmap | Self::Grayscale | Self::Indexed | Self::Duotone => 1,
            Self::Rgb | Self::Lab => 3,
            Self::Cmyk => 4,
        }
    }

    /// The mode's name, as Photoshop's Image › Mode menu says it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Bitmap => "Bitmap",
            Self::Grayscale => "Grayscale",
            Self::Indexed => "Indexed Color",
            Self::Rgb => "RGB",
            Self::Cmyk => "CMYK",
            Self::Duotone => "Duotone",
            Self::Lab => "Lab",
        }
    }
}

/// Bits per stored sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    One,
    Eight,
    Sixteen,
    ThirtyTwo,
}

impl Depth {
    pub fn from_word(word: u16) -> Result<Self, PsdError> {
        match word {
            1 => Ok(Self::One),
            8 => Ok(Self::Eight),
            16 => Ok(Self::Sixteen),
            32 => Ok(Self::ThirtyTwo),
            other => Err(PsdError::corrupt(format!("header: bit depth {other}"))),
        }
    }

    pub fn bits(self) -> u32 {
        match self {
            Self::One => 1,
            Self::Eight => 8,
            Self::Sixteen => 16,
            Self::ThirtyTwo => 32,
        }
    }

    /// Bytes one stored row of `width` samples takes.
    pub fn row_bytes(self, width: u64) -> u64 {
        match self {
            Self::One => width.div_ceil(8),
            other => width * u64::from(other.bits() / 8),
        }
    }
}

/// What a plane holds, which decides how 32-bit samples become bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plane {
    /// Colour: 32-bit values are linear and get the sRGB curve.
    Color,
    /// Transparency: linear at every depth.
    Alpha,
}

/// Stored samples of a `width`-wide plane (rows of [`Depth::row_bytes`]) → one byte per
/// pixel. Bitmap rows become 0 (set bit, black) or 255.
pub fn to_8bit(samples: &[u8], depth: Depth, width: usize, plane: Plane) -> Vec<u8> {
    match depth {
        Depth::Eight => samples.to_vec(),
        Depth::Sixteen => samples
            .chunks_exact(2)
            .map(|b| ((u32::from(u16::from_be_bytes([b[0], b[1]])) * 255 + 32_767) / 65_535) as u8)
            .collect(),
        Depth::ThirtyTwo => samples
            .chunks_exact(4)
            .map(|b| {
                let v = f32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                let v = if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
                let v = if plane == Plane::Color {
                    srgb_encode(v)
                } else {
                    v
                };
                (v * 255.0).round() as u8
            })
            .collect(),
        Depth::One => {
            let row = width.div_ceil(8);
            if row == 0 {
                return Vec::new();
            }
            samples
                .chunks_exact(row)
                .flat_map(|r| {
                    (0..width).map(move |x| {
                        if r[x / 8] & (0x80 >> (x % 8)) != 0 {
                            0
                        } else {
                            255
                        }
                    })
                })
                .collect()
        }
    }
}

/// The palette of an Indexed file, from its colour mode data.
pub fn palette(color_data: &[u8]) -> Result<[[u8; 3]; 256], PsdError> {
    if color_data.len() < 768 {
        return Err(PsdError::corrupt(format!(
            "indexed colour palette has {} bytes, needs 768",
            color_data.len()
        )));
    }
    let mut out = [[0u8; 3]; 256];
    for (i, entry) in out.iter_mut().enumerate() {
        *entry = [color_data[i], color_data[256 + i], color_data[512 + i]];
    }
    Ok(out)
}

/// Interleaves 8-bit colour planes (the mode's channels, in order; a missing one reads as
/// 0) and an optional transparency plane into straight RGBA, converting to RGB.
pub fn assemble(
    mode: ColorMode,
    planes: &[Option<Vec<u8>>],
    alpha: Option<&[u8]>,
    palette: &[[u8; 3]; 256],
    width: u32,
    height: u32,
) -> RgbaImage {
    let mut image = RgbaImage::new(width, height);
    let sample = |c: usize, i: usize| planes.get(c).and_then(|p| p.as_ref()).map_or(0, |p| p[i]);
    for (i, pixel) in image.pixels_mut().enumerate() {
        let rgb = match mode {
            ColorMode::Rgb => [sample(0, i), sample(1, i), sample(2, i)],
            ColorMode::Grayscale | ColorMode::Duotone | ColorMode::Bitmap => [sample(0, i); 3],
            ColorMode::Indexed => palette[usize::from(sample(0, i))],
            ColorMode::Cmyk => {
                let k = u32::from(sample(3, i));
                let ink = |c: usize| ((u32::from(sample(c, i)) * k + 127) / 255) as u8;
                [ink(0), ink(1), ink(2)]
            }
            ColorMode::Lab => lab_to_srgb(sample(0, i), sample(1, i), sample(2, i)),
        };
        pixel.0 = [rgb[0], rgb[1], rgb[2], alpha.map_or(255, |a| a[i])];
    }
    image
}

/// The sRGB transfer curve (IEC 61966-2-1) from linear light.
fn srgb_encode(v: f32) -> f32 {
    if v <= 0.003_130_8 {
        v * 12.92
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

/// An 8-bit Lab triple (as Photoshop stores it) → 8-bit sRGB.
pub fn lab_to_srgb(l: u8, a: u8, b: u8) -> [u8; 3] {
    let l = f32::from(l) * 100.0 / 255.0;
    let (a, b) = (f32::from(a) - 128.0, f32::from(b) - 128.0);
    // CIE Lab → XYZ relative to the D50 white.
    let fy = (l + 16.0) / 116.0;
    let (fx, fz) = (fy + a / 500.0, fy - b / 200.0);
    let inverse = |t: f32| {
        const DELTA: f32 = 6.0 / 29.0;
        if t > DELTA {
            t * t * t
        } else {
            3.0 * DELTA * DELTA * (t - 4.0 / 29.0)
        }
    };
    let xyz = [0.964_22 * inverse(fx), inverse(fy), 0.825_21 * inverse(fz)];
    // Bradford adaptation D50 → D65, then XYZ (D65) → linear sRGB, multiplied out.
    const BRADFORD: [[f32; 3]; 3] = [
        [0.955_576_6, -0.023_039_3, 0.063_163_6],
        [-0.028_289_5, 1.009_941_6, 0.021_007_7],
        [0.012_298_2, -0.020_483, 1.329_909_8],
    ];
    const TO_SRGB: [[f32; 3]; 3] = [
        [3.240_454_2, -1.537_138_5, -0.498_531_4],
        [-0.969_266, 1.876_010_8, 0.041_556],
        [0.055_643_4, -0.204_025_9, 1.057_225_2],
    ];
    let apply =
        |m: &[[f32; 3]; 3], v: [f32; 3]| m.map(|row| row[0] * v[0] + row[1] * v[1] + row[2] * v[2]);
    let linear = apply(&TO_SRGB, apply(&BRADFORD, xyz));
    linear.map(|c| (srgb_encode(c.clamp(0.0, 1.0)) * 255.0).round() as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_white_black_and_red_land_where_srgb_puts_them() {
        assert_eq!(lab_to_srgb(255, 128, 128), [255, 255, 255]);
        assert_eq!(lab_to_srgb(0, 128, 128), [0, 0, 0]);
        // sRGB red is Lab (54.29, 80.80, 69.89) under D50 (Bradford): L byte 138.
        let red = lab_to_srgb(138, 128 + 81, 128 + 70);
        assert!(red[0] >= 250 && red[1] <= 12 && red[2] <= 12, "{red:?}");
    }

    #[test]
    fn depths_scale_to_bytes() {
        assert_eq!(
            to_8bit(&[0xFF, 0xFF, 0x80, 0x00], Depth::Sixteen, 2, Plane::Color),
            [255, 128]
        );
        let half = 0.5f32.to_be_bytes();
        assert_eq!(to_8bit(&half, Depth::ThirtyTwo, 1, Plane::Alpha), [128]);
        assert_eq!(to_8bit(&half, Depth::ThirtyTwo, 1, Plane::Color), [188]);
        assert_eq!(
            to_8bit(&f32::NAN.to_be_bytes(), Depth::ThirtyTwo, 1, Plane::Color),
            [0]
        );
        // 10 px of bitmap: two bytes per row, a set bit is black.
        let row = [0b1010_0000, 0b0100_0000];
        assert_eq!(
            to_8bit(&row, Depth::One, 10, Plane::Color),
            [0, 255, 0, 255, 255, 255, 255, 255, 255, 0]
        );
    }

    #[test]
    fn cmyk_is_inverted_ink_and_indexed_uses_the_palette() {
        let full = |v: u8| Some(vec![v]);
        // No ink (255 stored) is white; full K (0 stored) is black; cyan ink removes red.
        let white = assemble(
            ColorMode::Cmyk,
            &[full(255), full(255), full(255), full(255)],
            None,
            &[[0; 3]; 256],
            1,
            1,
        );
        assert_eq!(white.get_pixel(0, 0).0, [255, 255, 255, 255]);
        let cyan = assemble(
            ColorMode::Cmyk,
            &[full(0), full(255), full(255), full(255)],
            Some(&[9]),
            &[[0; 3]; 256],
            1,
            1,
        );
        assert_eq!(cyan.get_pixel(0, 0).0, [0, 255, 255, 9]);
        let mut data = vec![0u8; 768];
        data[7] = 10;
        data[256 + 7] = 20;
        data[512 + 7] = 30;
        let colours = palette(&data).expect("768 bytes");
        let indexed = assemble(ColorMode::Indexed, &[full(7)], None, &colours, 1, 1);
        assert_eq!(indexed.get_pixel(0, 0).0, [10, 20, 30, 255]);
        assert!(palette(&data[..700]).is_err());
    }
}
