//! Channels coded row by row from their pixels, never as a whole plane: PSD puts every
//! row's byte count before the rows, so a channel is sized in one pass (keeping only the
//! counts) and coded again as it is written. Saving then needs no planar copy of a layer
//! or of the composite, and holds the code of one channel at a time, not of all.

use std::io::{self, Write};

use rayon::prelude::*;

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

/// Rows coded together by one worker: enough to keep both cores busy on a large channel,
/// few enough that a band's code stays small.
const BAND_ROWS: usize = 64;

/// Bands of rows `0..height`, each as its row range.
fn bands(height: usize) -> impl IndexedParallelIterator<Item = std::ops::Range<usize>> {
    (0..height.div_ceil(BAND_ROWS))
        .into_par_iter()
        .map(move |b| b * BAND_ROWS..((b + 1) * BAND_ROWS).min(height))
}

/// Codes rows `ys` of a channel (or copies them, when `raw`) into one buffer, calling
/// `counted` with each row's code length.
fn code_rows(
    width: usize,
    ys: std::ops::Range<usize>,
    raw: bool,
    source: &impl RowSource,
    mut counted: impl FnMut(usize),
) -> Vec<u8> {
    let mut row = vec![0u8; width];
    let mut code = Vec::with_capacity(ys.len() * packbits::worst_case_len(width));
    for y in ys {
        source.row(y, &mut row);
        let before = code.len();
        if raw {
            code.extend_from_slice(&row);
        } else {
            packbits::encode_row(&row, &mut code);
        }
        counted(code.len() - before);
    }
    code
}

/// Sizes the PackBits code of a `width × height` channel, bands of rows in parallel.
pub fn size(width: usize, height: usize, large: bool, source: &impl RowSource) -> Sized {
    let bands: Vec<(Vec<u8>, usize)> = bands(height)
        .map(|ys| {
            let mut counts = Vec::with_capacity(ys.len() * if large { 4 } else { 2 });
            let code = code_rows(width, ys, false, source, |len| {
                if large {
                    counts.extend_from_slice(&(len as u32).to_be_bytes());
                } else {
                    counts.extend_from_slice(&(len as u16).to_be_bytes());
                }
            });
            (counts, code.len())
        })
        .collect();
    Sized {
        counts: bands.iter().flat_map(|(c, _)| c.iter().copied()).collect(),
        code_len: bands.iter().map(|(_, len)| len).sum(),
    }
}

/// Writes the rows of a `width × height` channel, PackBits-coded or, when `raw`, as they
/// are; the counts and compression word are the caller's. Bands are coded in parallel, so
/// one channel's code (a quarter of the canvas's RGBA bytes at most) is held at a time.
pub fn write<W: Write>(
    width: usize,
    height: usize,
    raw: bool,
    source: &impl RowSource,
    w: &mut W,
) -> io::Result<()> {
    let bands: Vec<Vec<u8>> = bands(height)
        .map(|ys| code_rows(width, ys, raw, source, |_| ()))
        .collect();
    for band in bands {
        w.write_all(&band)?;
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
