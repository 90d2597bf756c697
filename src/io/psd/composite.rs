//! The Image Data section: the flattened composite ("maximize compatibility").
//!
//! Photoshop stores its colour matted over white, `C' = C·a + 255·(1 − a)`, and psd-tools
//! and ImageMagick undo that on reading, so we write it matted and un-matte what we read.
//! The layout differs from layer channels: one compression word for all channels, and for
//! RLE the row counts of every channel come first, then every channel's rows.

use std::io::{self, Write};

use rayon::prelude::*;

use super::bytes::Cursor;
use super::channels::{Compression, decode_rle_rows, decode_unpacked, read_count};
use super::color::{self, Plane};
use super::reader::{Header, split};
use super::{PsdError, rows};
use crate::io::Limits;
use crate::model::RgbaImage;
use crate::model::pixels::{matte_white, unmatte_white};

/// Reads only the stored composite of a PSD, as straight-alpha RGBA (opaque if the file has
/// no merged transparency). Useful for previews and to compare a file's own composite with
/// one rendered from its layers.
pub fn read_composite(bytes: &[u8], limits: &Limits) -> Result<RgbaImage, PsdError> {
    let sections = split(bytes, limits)?;
    decode(&sections.header, sections.image_data, limits)
}

/// Decodes the composite: colour channels, plus the next channel as transparency if the
/// header declares one (grey + 1, RGB + 1, CMYK + 1), converted to RGB, with the white
/// matte undone.
pub(super) fn decode(
    header: &Header,
    mut data: Cursor<'_>,
    limits: &Limits,
) -> Result<RgbaImage, PsdError> {
    let (w, h) = (header.width as usize, header.height as usize);
    let layout = header.layout();
    let row = layout.depth.row_bytes(w as u64) as usize;
    let channels = usize::from(header.channels);
    let color = header.mode.color_channels();
    let wanted = channels.min(color + 1);
    let plane_len = row * h;
    limits.check_total((w * h * 4) as u64)?;
    let whole = data.clone();
    let compression = Compression::from_word(data.u16("image data compression")?)?;
    let planes: Vec<Vec<u8>> = match compression {
        Compression::Rle => {
            verify(header, whole, limits)?; // all rows are there and long enough: now allocate
            let count_bytes = layout.count_bytes as usize;
            let counts = data.take(
                (channels * h * count_bytes) as u64,
                "image data RLE row counts",
            )?;
            let mut planes = Vec::with_capacity(wanted);
            for (c, counts) in counts
                .chunks_exact((h * count_bytes).max(1))
                .take(wanted)
                .enumerate()
            {
                let mut plane = vec![0u8; plane_len];
                decode_rle_rows(counts, layout.count_bytes, &mut data, row, &mut plane)
                    .map_err(|e| e.within(&format!("image data channel {c}")))?;
                planes.push(plane);
            }
            planes
        }
        Compression::Raw => {
            let all = data.take((wanted * plane_len) as u64, "image data")?;
            all.chunks_exact(plane_len.max(1))
                .map(<[u8]>::to_vec)
                .collect()
        }
        Compression::Zip | Compression::ZipPredicted => {
            // One zlib stream holds all channels, spot channels included.
            limits.check_total((channels * plane_len) as u64)?;
            let all = decode_unpacked(compression, &mut data, w, h * channels, layout.depth)?;
            all.chunks_exact(plane_len.max(1))
                .take(wanted)
                .map(<[u8]>::to_vec)
                .collect()
        }
    };
    let mut planes: Vec<Option<Vec<u8>>> = planes
        .iter()
        .enumerate()
        .map(|(c, p)| {
            let kind = if c < color {
                Plane::Color
            } else {
                Plane::Alpha
            };
            Some(color::to_8bit(p, layout.depth, w, kind))
        })
        .collect();
    let alpha = if planes.len() > color {
        planes.pop().flatten()
    } else {
        None
    };
    let mut image = color::assemble(
        header.mode,
        &planes,
        alpha.as_deref(),
        &header.palette,
        w as u32,
        h as u32,
    );
    if alpha.is_some() && is_matted(&image) {
        image.pixels_mut().for_each(|p| p.0 = unmatte_white(p.0));
    }
    Ok(image)
}

/// Checks that the composite is complete without decoding it (RLE and raw), so that a
/// layered file cut short in its last section is reported as damaged, and so that RLE row
/// counts are known to be possible before anything is allocated for them.
pub(super) fn verify(
    header: &Header,
    mut data: Cursor<'_>,
    limits: &Limits,
) -> Result<(), PsdError> {
    let (h, channels) = (u64::from(header.height), u64::from(header.channels));
    let layout = header.layout();
    let row = layout.depth.row_bytes(u64::from(header.width));
    match Compression::from_word(data.u16("image data compression")?)? {
        Compression::Raw => data.skip(channels * row * h, "image data"),
        Compression::Rle => {
            let counts = data.take(
                channels * h * layout.count_bytes,
                "image data RLE row counts",
            )?;
            // A row needs a control byte and a value per 128 bytes at least.
            let shortest = 2 * row.div_ceil(128);
            let mut total = 0u64;
            for (y, count) in counts.chunks_exact(layout.count_bytes as usize).enumerate() {
                let count = read_count(count);
                if count < shortest {
                    let what = format!(
                        "image data RLE row {y} has {count} bytes, too few for {row} bytes"
                    );
                    return Err(PsdError::corrupt(what));
                }
                total = total.saturating_add(count);
            }
            data.skip(total, "image data RLE rows")
        }
        Compression::Zip | Compression::ZipPredicted => decode(header, data, limits).map(|_| ()),
    }
}

/// A matted composite is white wherever it is fully transparent. Krita stores straight
/// colour instead (black there), and un-matting that would wreck every translucent pixel,
/// so a transparent pixel that is not white marks the composite as straight.
fn is_matted(image: &RgbaImage) -> bool {
    image
        .pixels()
        .filter(|p| p[3] == 0)
        .all(|p| p[0] == 255 && p[1] == 255 && p[2] == 255)
}

/// Writes the whole Image Data section for a straight-alpha composite: matted over white,
/// RGBA planar, RLE (or raw if RLE would be larger), with all row counts first (`u32` in
/// PSB, `large`). The channels are sized, then coded again as they are written, row by row
/// from `image` (see [`rows`]), so saving holds no planes nor codes of the composite.
pub(super) fn write_matted<W: Write>(image: &RgbaImage, large: bool, w: &mut W) -> io::Result<()> {
    let (width, height) = (image.width() as usize, image.height() as usize);
    let rgba = image.as_raw();
    let channel = |c: usize| {
        move |y: usize, out: &mut [u8]| {
            let row = &rgba[y * width * 4..][..width * 4];
            for (o, p) in out.iter_mut().zip(row.chunks_exact(4)) {
                *o = matte_white([p[0], p[1], p[2], p[3]])[c];
            }
        }
    };
    let sized: Vec<rows::Sized> = (0..4)
        .into_par_iter()
        .map(|c| rows::size(width, height, large, &channel(c)))
        .collect();
    let raw = sized.iter().map(rows::Sized::rle_len).sum::<usize>() > rgba.len();
    w.write_all(&u16::from(!raw).to_be_bytes())?;
    if !raw {
        for s in &sized {
            w.write_all(&s.counts)?;
        }
    }
    for c in 0..4 {
        rows::write(width, height, raw, &channel(c), w)?;
    }
    Ok(())
}
