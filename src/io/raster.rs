//! Flat pictures through the `image` crate: decoding with limits, PNG encoding.

use std::io::{Cursor, Write};

use image::{ImageFormat, ImageReader, RgbaImage};

use super::{ErrorKind, Limits};

/// Decodes a flat picture of a known format to straight RGBA8.
///
/// The size in the header is checked against `limits` before any pixel is decoded, and the
/// decoder itself is given an allocation cap, so a decompression bomb fails fast.
pub fn decode(bytes: &[u8], format: ImageFormat, limits: &Limits) -> Result<RgbaImage, ErrorKind> {
    let decode_err = |e: image::ImageError| match e {
        image::ImageError::Limits(l) => {
            ErrorKind::Decode(format!("image exceeds decoder limits ({l})"))
        }
        other => ErrorKind::Decode(other.to_string()),
    };
    let reader = || ImageReader::with_format(Cursor::new(bytes), format);
    let (width, height) = reader().into_dimensions().map_err(decode_err)?;
    limits.check_canvas(width, height)?;

    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_image_width = Some(limits.max_side);
    decoder_limits.max_image_height = Some(limits.max_side);
    // Room for the decoded buffer in its own format (up to 16 bytes a pixel for RGBA32F)
    // plus the RGBA8 conversion; the pixel count itself is already bounded above.
    decoder_limits.max_alloc = Some(u64::from(width) * u64::from(height) * 20 + (1 << 20));
    let mut reader = reader();
    reader.limits(decoder_limits);
    let image = reader.decode().map_err(decode_err)?;
    Ok(image.into_rgba8())
}

/// Encodes straight-alpha RGBA8 as PNG into `w`.
pub fn write_png(image: &RgbaImage, w: &mut impl Write) -> Result<(), ErrorKind> {
    let encoder = image::codecs::png::PngEncoder::new(w);
    image::ImageEncoder::write_image(
        encoder,
        image.as_raw(),
        image.width(),
        image.height(),
        image::ExtendedColorType::Rgba8,
    )
    .map_err(|e| match e {
        image::ImageError::IoError(io) => ErrorKind::Write(io),
        other => ErrorKind::Encode(other.to_string()),
    })
}

/// Encodes 8-bit greyscale (a mask) as PNG in memory (for zip entries).
pub fn gray_png_bytes(image: &image::GrayImage) -> Result<Vec<u8>, ErrorKind> {
    let mut out = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new(&mut out);
    image::ImageEncoder::write_image(
        encoder,
        image.as_raw(),
        image.width(),
        image.height(),
        image::ExtendedColorType::L8,
    )
    .map_err(|e| ErrorKind::Encode(e.to_string()))?;
    Ok(out)
}

/// Encodes an image as PNG in memory (for zip entries).
pub fn png_bytes(image: &RgbaImage) -> Result<Vec<u8>, ErrorKind> {
    let mut out = Vec::new();
    write_png(image, &mut out)?;
    Ok(out)
}

/// Turns a layer name into a file-name stem that is safe on every OS: no path separators,
/// control or reserved characters, no leading dot, at most 64 characters, never empty.
pub fn safe_file_stem(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .take(64)
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    if trimmed.is_empty() {
        "layer".to_string()
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_round_trip() {
        let mut img = RgbaImage::new(3, 2);
        img.put_pixel(1, 1, image::Rgba([1, 2, 3, 4]));
        let bytes = png_bytes(&img).expect("encode");
        let back = decode(&bytes, ImageFormat::Png, &Limits::default()).expect("decode");
        assert_eq!(back, img);
    }

    #[test]
    fn header_too_large_is_refused_before_decoding() {
        let img = RgbaImage::new(64, 2);
        let bytes = png_bytes(&img).expect("encode");
        let limits = Limits {
            max_side: 32,
            ..Limits::default()
        };
        let err = decode(&bytes, ImageFormat::Png, &limits).expect_err("must refuse");
        assert!(err.to_string().contains("limit"), "{err}");
    }

    #[test]
    fn file_stems_are_safe() {
        assert_eq!(safe_file_stem("../etc/passwd"), "_etc_passwd");
        assert_eq!(safe_file_stem("  "), "layer");
        assert_eq!(safe_file_stem("Sky ☁"), "Sky ☁");
    }
}
