//! The channel data of the layer records, sized in one pass and coded again, row by row,
//! as it is written (see [`super::rows`]): the encoded layers are never held, where before
//! they were all held at once (at 12 Mpx, two full-canvas layers encode to about 100 MB).

use std::io::{self, Write};

use rayon::prelude::*;

use super::rows::{self, RowSource};
use super::write_records::Entry;

/// Channel ids in the order Photoshop writes them: transparency first, then R, G, B, and
/// the user mask last.
pub const CHANNEL_IDS: [i16; 4] = [-1, 0, 1, 2];
/// Where each of [`CHANNEL_IDS`] sits in an RGBA pixel.
const RGBA_INDEX: [usize; 4] = [3, 0, 1, 2];
/// The id of a layer's user mask channel.
const MASK_ID: i16 = -2;

/// One channel of a record: its id, its length in the file and how it is coded.
pub struct Channel {
    pub id: i16,
    pub len: usize,
    code: Code,
}

/// How a channel is stored: `00 00` alone when it has no pixels, RLE (`1`, row counts,
/// rows), or raw (`0`, bytes) when RLE would be larger (noise).
enum Code {
    Empty,
    Rle { counts: Vec<u8> },
    Raw,
}

/// The rows of one channel of a layer (one byte of each RGBA pixel) or of a mask.
struct Plane<'a> {
    width: usize,
    height: usize,
    bytes: &'a [u8],
    /// Bytes per pixel in `bytes` and which of them is this channel's.
    step: usize,
    index: usize,
}

impl RowSource for Plane<'_> {
    fn row(&self, y: usize, out: &mut [u8]) {
        let row = &self.bytes[y * self.width * self.step..][..self.width * self.step];
        for (o, px) in out.iter_mut().zip(row.chunks_exact(self.step)) {
            *o = px[self.index];
        }
    }
}

impl Plane<'_> {
    /// Sizes the channel: RLE unless that would be larger than the raw bytes. PSD's `u16`
    /// counts hold any row of at most 30000 px (check_document); PSB rows need its `u32`.
    fn size(&self, id: i16, large: bool) -> Channel {
        if self.width == 0 || self.height == 0 {
            return Channel {
                id,
                len: 2,
                code: Code::Empty,
            };
        }
        let raw = self.width * self.height;
        let sized = rows::size(self.width, self.height, large, self);
        if sized.rle_len() > raw {
            return Channel {
                id,
                len: 2 + raw,
                code: Code::Raw,
            };
        }
        Channel {
            id,
            len: 2 + sized.rle_len(),
            code: Code::Rle {
                counts: sized.counts,
            },
        }
    }

    fn write<W: Write>(&self, code: &Code, w: &mut W) -> io::Result<()> {
        match code {
            Code::Empty => w.write_all(&[0, 0]),
            Code::Raw => {
                w.write_all(&0u16.to_be_bytes())?;
                rows::write(self.width, self.height, true, self, w)
            }
            Code::Rle { counts } => {
                w.write_all(&1u16.to_be_bytes())?;
                w.write_all(counts)?;
                rows::write(self.width, self.height, false, self, w)
            }
        }
    }
}

/// The `n`th channel of a record. A group's records have no pixels: their colour channels
/// are empty.
fn plane(entry: Entry<'_>, n: usize) -> Plane<'_> {
    let empty = Plane {
        width: 0,
        height: 0,
        bytes: &[],
        step: 1,
        index: 0,
    };
    match (entry, RGBA_INDEX.get(n)) {
        (Entry::Layer(layer), Some(&index)) => Plane {
            width: layer.width() as usize,
            height: layer.height() as usize,
            bytes: layer.pixels.as_raw(),
            step: 4,
            index,
        },
        (_, Some(_)) => empty,
        (_, None) => match entry.mask() {
            Some(mask) => Plane {
                width: mask.pixels.width() as usize,
                height: mask.pixels.height() as usize,
                bytes: mask.pixels.as_raw(),
                step: 1,
                index: 0,
            },
            None => empty,
        },
    }
}

/// Channels of a record: four colour and transparency channels, plus the mask if any.
fn channel_count(entry: Entry<'_>) -> usize {
    CHANNEL_IDS.len() + usize::from(entry.mask().is_some())
}

/// The channels of every record, in file order, sized and ready to be written.
pub struct LayerData<'a> {
    records: Vec<(Entry<'a>, Vec<Channel>)>,
}

impl<'a> LayerData<'a> {
    /// Sizes the channels of `entries`, records in parallel.
    pub fn size(entries: &[Entry<'a>], large: bool) -> Self {
        let records = entries
            .par_iter()
            .map(|&entry| {
                let channels = (0..channel_count(entry))
                    .map(|n| {
                        let id = CHANNEL_IDS.get(n).copied().unwrap_or(MASK_ID);
                        plane(entry, n).size(id, large)
                    })
                    .collect();
                (entry, channels)
            })
            .collect();
        Self { records }
    }

    /// The channels of each record, in the order of the entries.
    pub fn channels(&self) -> impl Iterator<Item = &[Channel]> {
        self.records.iter().map(|(_, c)| c.as_slice())
    }

    /// Bytes of all channel data.
    pub fn byte_len(&self) -> usize {
        self.channels().flatten().map(|c| c.len).sum()
    }

    /// Writes every channel in order, coding its rows again.
    pub fn write_to<W: Write>(&self, w: &mut W) -> io::Result<()> {
        for (entry, channels) in &self.records {
            for (n, channel) in channels.iter().enumerate() {
                plane(*entry, n).write(&channel.code, w)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-byte-per-pixel channel as the file stores it.
    fn encode(bytes: &[u8], width: usize, height: usize, large: bool) -> Vec<u8> {
        let plane = Plane {
            width,
            height,
            bytes,
            step: 1,
            index: 0,
        };
        let channel = plane.size(0, large);
        let mut out = Vec::new();
        plane.write(&channel.code, &mut out).unwrap();
        assert_eq!(out.len(), channel.len);
        out
    }

    #[test]
    fn channels_fall_back_to_raw_when_rle_is_larger() {
        let noise: Vec<u8> = (0..16u8).map(|i| i.wrapping_mul(37)).collect();
        assert_eq!(encode(&noise, 4, 4, false)[..2], [0, 0]);
        assert_eq!(encode(&noise, 4, 4, false).len(), 18);
        let flat = [9u8; 16];
        assert_eq!(
            encode(&flat, 4, 4, false),
            [
                0, 1, 0, 2, 0, 2, 0, 2, 0, 2, 0xFD, 9, 0xFD, 9, 0xFD, 9, 0xFD, 9
            ]
        );
        assert_eq!(
            encode(&flat, 8, 2, true),
            [0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0xF9, 9, 0xF9, 9]
        );
        assert_eq!(encode(&[], 0, 7, false), [0, 0]);
    }
}
