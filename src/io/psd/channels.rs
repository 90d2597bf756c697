//! Decoding one channel plane: raw (0), RLE/PackBits (1), ZIP (2) and ZIP with
//! prediction (3), as layer channels and the composite store them.
//!
//! The caller has already checked the plane size against the limits; everything here only
//! checks that the data delivers exactly that many bytes, no more and no less.

use flate2::{Decompress, FlushDecompress, Status};

use super::bytes::Cursor;
use super::{PsdError, packbits};

/// How a channel's bytes are stored (the `u16` compression word).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Raw,
    Rle,
    /// zlib, as ImageMagick writes layer channels.
    Zip,
    /// zlib over per-row byte deltas.
    ZipPredicted,
}

impl Compression {
    pub fn from_word(word: u16) -> Result<Self, PsdError> {
        match word {
            0 => Ok(Self::Raw),
            1 => Ok(Self::Rle),
            2 => Ok(Self::Zip),
            3 => Ok(Self::ZipPredicted),
            other => Err(PsdError::corrupt(format!(
                "compression method {other} (known: 0 to 3)"
            ))),
        }
    }
}

/// Checks, before any pixel buffer is allocated, that a layer channel blob is at least as
/// long as any valid encoding of a `width`×`height` plane of `sample`-byte samples can be.
/// This ties what a file can make us allocate to its own size: PackBits needs 2 bytes per
/// 128 bytes, and deflate cannot compress better than 1032:1.
pub fn check_plausible(
    blob: &Cursor<'_>,
    width: u64,
    height: u64,
    sample: u64,
) -> Result<(), PsdError> {
    let Some(word) = blob.peek(2) else {
        return Err(blob.truncated("compression", 2));
    };
    let row = width * sample;
    let minimum = 2 + match Compression::from_word(u16::from_be_bytes([word[0], word[1]]))? {
        Compression::Raw => row * height,
        Compression::Rle => height * 2 + height * 2 * row.div_ceil(128),
        Compression::Zip | Compression::ZipPredicted => row * height / 1032,
    };
    let len = blob.remaining() as u64;
    if len < minimum {
        return Err(PsdError::corrupt(format!(
            "{len} bytes of channel data cannot hold {width}×{height} pixels (need at least {minimum})"
        )));
    }
    Ok(())
}

/// Decodes the channel blob of one layer (`u16` compression, then data) into an 8-bit plane
/// of `width`×`height` bytes; `sample` is the stored bytes per sample (1 or 2).
pub fn decode_layer_channel(
    mut blob: Cursor<'_>,
    width: usize,
    height: usize,
    sample: usize,
) -> Result<Vec<u8>, PsdError> {
    let compression = Compression::from_word(blob.u16("compression")?)?;
    let samples = if compression == Compression::Rle {
        let counts = blob.take(height as u64 * 2, "RLE row counts")?;
        let mut plane = vec![0u8; width * sample * height];
        decode_rle_rows(counts, &mut blob, width * sample, &mut plane)?;
        plane
    } else {
        decode_unpacked(compression, &mut blob, width, height, sample)?
    };
    Ok(to_8bit(samples, sample))
}

/// Raw or ZIP data of a `width`×`height` plane (or of several planes one after another,
/// with `height` counting all their rows), as stored: `sample` bytes per sample.
pub fn decode_unpacked(
    compression: Compression,
    data: &mut Cursor<'_>,
    width: usize,
    height: usize,
    sample: usize,
) -> Result<Vec<u8>, PsdError> {
    let (row, len) = (width * sample, width * sample * height);
    match compression {
        Compression::Raw => Ok(data.take(len as u64, "raw pixel data")?.to_vec()),
        Compression::Rle => Err(PsdError::corrupt("RLE data without row counts")),
        Compression::Zip => inflate_exact(data.take(data.remaining() as u64, "ZIP data")?, len),
        Compression::ZipPredicted => {
            let mut plane = inflate_exact(data.take(data.remaining() as u64, "ZIP data")?, len)?;
            if row > 0 {
                plane
                    .chunks_exact_mut(row)
                    .for_each(|r| undo_prediction(r, sample));
            }
            Ok(plane)
        }
    }
}

/// Decodes PackBits rows whose byte counts are the big-endian `u16`s in `counts`, taking
/// the rows from `data`, into `plane` (`row_bytes` per row, one row per count).
pub fn decode_rle_rows(
    counts: &[u8],
    data: &mut Cursor<'_>,
    row_bytes: usize,
    plane: &mut [u8],
) -> Result<(), PsdError> {
    if row_bytes == 0 {
        return Ok(()); // no pixels: nothing to decode, and the blob bounds any stray bytes
    }
    for (y, (count, row)) in counts
        .chunks_exact(2)
        .zip(plane.chunks_mut(row_bytes))
        .enumerate()
    {
        let count = u16::from_be_bytes([count[0], count[1]]);
        let src = data.take(u64::from(count), format!("RLE row {y}"))?;
        packbits::decode_row(src, row)
            .map_err(|e| PsdError::corrupt(format!("RLE row {y}: {e}")))?;
    }
    Ok(())
}

/// Stored samples → 8-bit: 16-bit values are scaled with rounding (65535 → 255).
pub fn to_8bit(samples: Vec<u8>, sample: usize) -> Vec<u8> {
    if sample != 2 {
        return samples;
    }
    let scale =
        |b: &[u8]| ((u32::from(u16::from_be_bytes([b[0], b[1]])) * 255 + 32_767) / 65_535) as u8;
    samples.chunks_exact(2).map(scale).collect()
}

/// Each row of a predicted ZIP channel stores differences to the sample on the left:
/// byte-wise for 8-bit data, as big-endian `u16`s for 16-bit data.
fn undo_prediction(row: &mut [u8], sample: usize) {
    if sample == 2 {
        let mut previous = 0u16;
        for pair in row.chunks_exact_mut(2) {
            previous = previous.wrapping_add(u16::from_be_bytes([pair[0], pair[1]]));
            pair.copy_from_slice(&previous.to_be_bytes());
        }
        return;
    }
    for x in 1..row.len() {
        row[x] = row[x].wrapping_add(row[x - 1]);
    }
}

/// Inflates a zlib stream that must produce exactly `expected` bytes. The output buffer has
/// room for one byte more, so an over-long stream is detected without ever growing it.
fn inflate_exact(data: &[u8], expected: usize) -> Result<Vec<u8>, PsdError> {
    let mut out = vec![0u8; expected + 1];
    let mut z = Decompress::new(true);
    let status = loop {
        let (read, written) = (z.total_in() as usize, z.total_out() as usize);
        let input = data.get(read..).unwrap_or_default();
        let output = out.get_mut(written..).unwrap_or_default();
        let status = z
            .decompress(input, output, FlushDecompress::Finish)
            .map_err(|e| PsdError::corrupt(format!("ZIP data: {e}")))?;
        let progressed = z.total_in() as usize != read || z.total_out() as usize != written;
        if status == Status::StreamEnd || !progressed {
            break status;
        }
    };
    let produced = z.total_out() as usize;
    if produced > expected {
        return Err(PsdError::corrupt(format!(
            "ZIP data inflates to more than the {expected} bytes expected"
        )));
    }
    if status != Status::StreamEnd || produced < expected {
        return Err(PsdError::corrupt(format!(
            "ZIP data inflates to {produced} bytes, expected {expected}"
        )));
    }
    out.truncate(expected);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zlib(bytes: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(bytes).expect("compress");
        z.finish().expect("finish")
    }

    fn blob(compression: u16, data: &[u8]) -> Vec<u8> {
        let mut out = compression.to_be_bytes().to_vec();
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn every_compression_decodes() {
        let plane = [1u8, 2, 3, 4, 5, 6];
        let decode = |b: &[u8]| decode_layer_channel(Cursor::new(b), 3, 2, 1);
        assert_eq!(decode(&blob(0, &plane)).expect("raw"), plane);
        let rle = [0, 4, 0, 4, 2, 1, 2, 3, 2, 4, 5, 6];
        assert_eq!(decode(&blob(1, &rle)).expect("rle"), plane);
        assert_eq!(decode(&blob(2, &zlib(&plane))).expect("zip"), plane);
        let deltas = [1u8, 1, 1, 4, 1, 1];
        assert_eq!(
            decode(&blob(3, &zlib(&deltas))).expect("zip+prediction"),
            plane
        );
    }

    #[test]
    fn sixteen_bit_samples_scale_to_eight() {
        let samples = [0x00, 0x00, 0xFF, 0xFF, 0x80, 0x00, 0x00, 0x80];
        let decode = |b: &[u8]| decode_layer_channel(Cursor::new(b), 2, 2, 2);
        assert_eq!(decode(&blob(0, &samples)).expect("raw"), [0, 255, 128, 0]);
        assert_eq!(
            decode(&blob(2, &zlib(&samples))).expect("zip"),
            [0, 255, 128, 0]
        );
        // 16-bit deltas: 0x0000 + 0xFFFF, then 0x8000 + 0x0080 (per row of 2 samples).
        let deltas = [0x00, 0x00, 0xFF, 0xFF, 0x80, 0x00, 0x00, 0x80];
        assert_eq!(
            decode(&blob(3, &zlib(&deltas))).expect("prediction"),
            [0, 255, 128, 128]
        );
        let rle = [0, 5, 0, 5, 3, 0, 0, 0xFF, 0xFF, 3, 0x80, 0, 0, 0x80];
        assert_eq!(decode(&blob(1, &rle)).expect("rle"), [0, 255, 128, 0]);
    }

    #[test]
    fn wrong_sizes_are_errors() {
        let decode = |b: &[u8]| decode_layer_channel(Cursor::new(b), 3, 2, 1).expect_err("bad");
        assert!(
            decode(&blob(0, &[1, 2, 3]))
                .to_string()
                .contains("truncated")
        );
        assert!(
            decode(&blob(2, &zlib(&[0; 7])))
                .to_string()
                .contains("more than the 6")
        );
        assert!(
            decode(&blob(2, &zlib(&[0; 5])))
                .to_string()
                .contains("5 bytes, expected 6")
        );
        assert!(
            decode(&blob(2, b"not zlib at all"))
                .to_string()
                .contains("ZIP")
        );
        assert!(
            decode(&blob(1, &[0, 9, 0, 1, 0xFE, 7]))
                .to_string()
                .contains("RLE row 0")
        );
        assert!(
            decode(&blob(9, &[]))
                .to_string()
                .contains("compression method 9")
        );
        let cut = zlib(&[1, 2, 3, 4, 5, 6]);
        assert!(
            decode(&blob(2, &cut[..cut.len() - 5]))
                .to_string()
                .contains("ZIP")
        );
    }
}
