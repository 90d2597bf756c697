//! Channels coded row by row from their pixels, never as a whole plane: PSD puts every
//! row's byte count before the rows, so a channel is sized in one pass (keeping only the
//! counts) and coded again as it is written. Saving then needs no planar copy of a layer
//! or of the composite, nor its code, each a quarter of the canvas's RGBA bytes per channel.

use std::io::{self, Write};

use super::packbits;

/// Fills a channel's row `y` (as wide as the channel) from the pixels it comes from.
pub trait RowSource: Sync {
    fn row(&self, y: usize, out: &mut [u8]);
}

impl<F: Fn(usize, &mut [u8]) + Sync> RowSource for F {
    fn row(&self, y: usize, out: &mut [u8]) {
        self(y, out);
    }
}

/// A channel's PackBits row counts (big-endian `u16`, or `u32` for PSB) and the length of
/// its coded rows.
pub struct Sized {
    pub counts: Vec<u8>,
    pub code_len: usize,
}

impl Sized {
    /// Bytes of the counts and the coded rows together.
    pub fn rle_len(&self) -> usize {
        self.counts.len() + self.code_len
    }
}

/// Sizes the PackBits code of a `width × height` channel.
pub fn size(width: usize, height: usize, large: bool, source: &impl RowSource) -> Sized {
    let mut row = vec![0u8; width];
    let mut code = Vec::with_capacity(packbits::worst_case_len(width));
    let mut counts = Vec::with_capacity(height * if large { 4 } else { 2 });
    let mut code_len = 0;
    for y in 0..height {
        source.row(y, &mut row);
        code.clear();
        packbits::encode_row(&row, &mut code);
        if large {
            counts.extend_from_slice(&(code.len() as u32).to_be_bytes());
        } else {
            counts.extend_from_slice(&(code.len() as u16).to_be_bytes());
        }
        code_len += code.len();
    }
    Sized { counts, code_len }
}

/// Writes the rows of a `width × height` channel, PackBits-coded or, when `raw`, as they
/// are; the counts and compression word are the caller's.
pub fn write<W: Write>(
    width: usize,
    height: usize,
    raw: bool,
    source: &impl RowSource,
    w: &mut W,
) -> io::Result<()> {
    let mut row = vec![0u8; width];
    let mut code = Vec::with_capacity(packbits::worst_case_len(width));
    for y in 0..height {
        source.row(y, &mut row);
        if raw {
            w.write_all(&row)?;
        } else {
            code.clear();
            packbits::encode_row(&row, &mut code);
            w.write_all(&code)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_writes_what_encode_plane_makes() {
        let (width, height) = (37, 5);
        let plane: Vec<u8> = (0..width * height)
            .map(|i| if i % 11 < 6 { 7 } else { (i * 31) as u8 })
            .collect();
        let source = |y: usize, out: &mut [u8]| {
            out.copy_from_slice(&plane[y * width..(y + 1) * width]);
        };
        for large in [false, true] {
            let (counts, code) = packbits::encode_plane(&plane, width, large);
            let sized = size(width, height, large, &source);
            assert_eq!(sized.counts, counts);
            assert_eq!(sized.code_len, code.len());
            let mut written = Vec::new();
            write(width, height, false, &source, &mut written).unwrap();
            assert_eq!(written, code);
        }
        let mut raw = Vec::new();
        write(width, height, true, &source, &mut raw).unwrap();
        assert_eq!(raw, plane);
    }
}
