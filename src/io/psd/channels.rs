//! Decoding one channel plane: raw (0), RLE/PackBits (1), ZIP (2) and ZIP with
//! prediction (3), as layer channels and the composite store them.
//!
//! The caller has already checked the plane size against the limits; everything here only
//! checks that the data delivers exactly that many bytes, no more and no less.

use flate2::{Decompress, FlushDecompress, Status};

use super::bytes::Cursor;
use super::color::Depth;
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

/// How a plane's samples are laid out: their depth, and the width of RLE row counts
/// (2 bytes in PSD, 4 in PSB).
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub depth: Depth,
    pub count_bytes: u64,
}

/// Checks, before any pixel buffer is allocated, that a layer channel blob is at least as
/// long as any valid encoding of a `width`×`height` plane laid out as `layout` can be.
/// This ties what a file can make us allocate to its own size: PackBits needs 2 bytes per
/// 128 bytes, and deflate cannot compress better than 1032:1.
pub fn check_plausible(
    blob: &Cursor<'_>,
    width: u64,
    height: u64,
    layout: Layout,
) -> Result<(), PsdError> {
    let Some(word) = blob.peek(2) else {
        return Err(blob.truncated("compression", 2));
    };
    let row = layout.depth.row_bytes(width);
    let minimum = 2 + match Compression::from_word(u16::from_be_bytes([word[0], word[1]]))? {
        Compression::Raw => row * height,
        Compression::Rle => height * layout.count_bytes + height * 2 * row.div_ceil(128),
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

/// Decodes the channel blob of one layer (`u16` compression, then data) into the stored
/// samples of a `width`×`height` plane (rows of `layout.depth.row_bytes(width)` bytes).
pub fn decode_layer_channel(
    mut blob: Cursor<'_>,
    width: usize,
    height: usize,
    layout: Layout,
) -> Result<Vec<u8>, PsdError> {
    let compression = Compression::from_word(blob.u16("compression")?)?;
    if compression == Compression::Rle {
        let row = layout.depth.row_bytes(width as u64) as usize;
        let counts = blob.take(height as u64 * layout.count_bytes, "RLE row counts")?;
        let mut plane = vec![0u8; row * height];
        decode_rle_rows(counts, layout.count_bytes, &mut blob, row, &mut plane)?;
        Ok(plane)
    } else {
        decode_unpacked(compression, &mut blob, width, height, layout.depth)
    }
}

/// Raw or ZIP data of a `width`×`height` plane (or of several planes one after another,
/// with `height` counting all their rows), as stored.
pub fn decode_unpacked(
    compression: Compression,
    data: &mut Cursor<'_>,
    width: usize,
    height: usize,
    depth: Depth,
) -> Result<Vec<u8>, PsdError> {
    let row = depth.row_bytes(width as u64) as usize;
    let len = row * height;
    match compression {
        Compression::Raw => Ok(data.take(len as u64, "raw pixel data")?.to_vec()),
        Compression::Rle => Err(PsdError::corrupt("RLE data without row counts")),
        Compression::Zip => inflate_exact(data.take(data.remaining() as u64, "ZIP data")?, len),
        Compression::ZipPredicted => {
            let mut plane = inflate_exact(data.take(data.remaining() as u64, "ZIP data")?, len)?;
            if row > 0 {
                plane
                    .chunks_exact_mut(row)
                    .for_each(|r| undo_prediction(r, depth));
            }
            Ok(plane)
        }
    }
}

/// Decodes PackBits rows whose byte counts are the big-endian numbers of `count_bytes` bytes
/// each (2 in PSD, 4 in PSB) in `counts`, taking the rows from `data`, into `plane`
/// (`row_bytes` per row, one row per count).
pub fn decode_rle_rows(
    counts: &[u8],
    count_bytes: u64,
    data: &mut Cursor<'_>,
    row_bytes: usize,
    plane: &mut [u8],
) -> Result<(), PsdError> {
    if row_bytes == 0 {
        return Ok(()); // no pixels: nothing to decode, and the blob bounds any stray bytes
    }
    for (y, (count, row)) in counts
        .chunks_exact(count_bytes as usize)
        .zip(plane.chunks_mut(row_bytes))
        .enumerate()
    {
        let count = read_count(count);
        let src = data.take(count, format!("RLE row {y}"))?;
        packbits::decode_row(src, row)
            .map_err(|e| PsdError::corrupt(format!("RLE row {y}: {e}")))?;
    }
    Ok(())
}

/// One RLE row count: a big-endian `u16` (PSD) or `u32` (PSB).
pub fn read_count(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0, |n, &b| n << 8 | u64::from(b))
}

/// Each row of a predicted ZIP channel stores differences to the sample on the left:
/// byte-wise for 8-bit data, as big-endian `u16`s for 16-bit data. 32-bit rows hold the
/// floats' bytes split into four planes (all first bytes, then all second bytes, …) and the
/// differences run byte-wise across the whole row; undoing them leaves the planes to
/// interleave back into big-endian floats.
fn undo_prediction(row: &mut [u8], depth: Depth) {
    match depth {
        Depth::Sixteen => {
            let mut previous = 0u16;
            for pair in row.chunks_exact_mut(2) {
                previous = previous.wrapping_add(u16::from_be_bytes([pair[0], pair[1]]));
                pair.copy_from_slice(&previous.to_be_bytes());
            }
        }
        Depth::One | Depth::Eight => {
            for x in 1..row.len() {
                row[x] = row[x].wrapping_add(row[x - 1]);
            }
        }
        Depth::ThirtyTwo => {
            for x in 1..row.len() {
                row[x] = row[x].wrapping_add(row[x - 1]);
            }
            let width = row.len() / 4;
            let planar = row.to_vec();
            for (x, sample) in row.chunks_exact_mut(4).enumerate() {
                for (byte, value) in sample.iter_mut().enumerate() {
                    *value = planar[byte * width + x];
                }
            }
        }
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
        let decode = |b: &[u8]| decode_layer_channel(Cursor::new(b), 3, 2, PSD_8);
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

    const PSD_8: Layout = Layout {
        depth: Depth::Eight,
        count_bytes: 2,
    };

    #[test]
    fn sixteen_bit_samples_decode_as_stored() {
        let samples = [0x00, 0x00, 0xFF, 0xFF, 0x80, 0x00, 0x00, 0x80];
        let layout = Layout {
            depth: Depth::Sixteen,
            count_bytes: 2,
        };
        let decode = |b: &[u8]| decode_layer_channel(Cursor::new(b), 2, 2, layout);
        assert_eq!(decode(&blob(0, &samples)).expect("raw"), samples);
        assert_eq!(decode(&blob(2, &zlib(&samples))).expect("zip"), samples);
        // 16-bit deltas: 0x0000 + 0xFFFF, then 0x8000 + 0x0080 (per row of 2 samples).
        let deltas = [0x00, 0x00, 0xFF, 0xFF, 0x80, 0x00, 0x00, 0x80];
        assert_eq!(
            decode(&blob(3, &zlib(&deltas))).expect("prediction"),
            [0x00, 0x00, 0xFF, 0xFF, 0x80, 0x00, 0x80, 0x80]
        );
        let rle = [0, 5, 0, 5, 3, 0, 0, 0xFF, 0xFF, 3, 0x80, 0, 0, 0x80];
        assert_eq!(decode(&blob(1, &rle)).expect("rle"), samples);
        // PSB: 4-byte row counts.
        let psb = Layout {
            count_bytes: 4,
            ..layout
        };
        let rle = [
            0, 0, 0, 5, 0, 0, 0, 5, 3, 0, 0, 0xFF, 0xFF, 3, 0x80, 0, 0, 0x80,
        ];
        assert_eq!(
            decode_layer_channel(Cursor::new(&blob(1, &rle)), 2, 2, psb).expect("psb rle"),
            samples
        );
    }

    #[test]
    fn thirty_two_bit_prediction_interleaves_byte_planes() {
        // Two floats, 1.0 (3F 80 00 00) and 0.5 (3F 00 00 00), as byte planes
        // [3F 3F][80 00][00 00][00 00], then byte-wise deltas across the row.
        let planar: [u8; 8] = [0x3F, 0x3F, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00];
        let mut deltas = planar;
        for x in (1..deltas.len()).rev() {
            deltas[x] = planar[x].wrapping_sub(planar[x - 1]);
        }
        let layout = Layout {
            depth: Depth::ThirtyTwo,
            count_bytes: 2,
        };
        let decoded = decode_layer_channel(Cursor::new(&blob(3, &zlib(&deltas))), 2, 1, layout)
            .expect("zip+prediction");
        assert_eq!(decoded, [0x3F, 0x80, 0, 0, 0x3F, 0, 0, 0]);
    }

    #[test]
    fn wrong_sizes_are_errors() {
        let decode = |b: &[u8]| decode_layer_channel(Cursor::new(b), 3, 2, PSD_8).expect_err("bad");
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
