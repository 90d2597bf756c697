//! The channel data of the layer records, sized in one pass and written in a second, so
//! the encoded layers are never all held at once: at 12 Mpx, two full-canvas layers encode
//! to about 100 MB, as much again as their pixels.

use std::io::{self, Write};

use rayon::prelude::*;

use super::write_records::Entry;
use super::writer::encode_channel;

/// Channel ids in the order Photoshop writes them: transparency first, then R, G, B, and
/// the user mask last.
pub const CHANNEL_IDS: [i16; 4] = [-1, 0, 1, 2];
/// Where each of [`CHANNEL_IDS`] sits in an RGBA pixel.
const RGBA_INDEX: [usize; 4] = [3, 0, 1, 2];
/// The id of a layer's user mask channel.
const MASK_ID: i16 = -2;
/// Encoded channels up to this size are kept from the sizing pass; larger ones are encoded
/// again when written, which costs one more PackBits pass over them (fast next to the
/// decomposition that made them) instead of holding them all.
const KEEP_BYTES: usize = 1 << 20;

/// One channel of a record: its id and its encoding, or only the encoding's length.
pub struct Channel {
    pub id: i16,
    pub len: usize,
    kept: Option<Vec<u8>>,
}

/// The channels of every record, in file order, ready to be written.
pub struct LayerData<'a> {
    records: Vec<(Entry<'a>, Vec<Channel>)>,
    large: bool,
}

impl<'a> LayerData<'a> {
    /// Sizes the channels of `entries` (in parallel, keeping only small encodings).
    pub fn size(entries: &[Entry<'a>], large: bool) -> Self {
        let records = entries
            .par_iter()
            .map(|&entry| {
                let channels = (0..channel_count(entry))
                    .map(|n| {
                        let blob = encode_nth(entry, n, large);
                        Channel {
                            id: channel_id(n),
                            len: blob.len(),
                            kept: (blob.len() <= KEEP_BYTES).then_some(blob),
                        }
                    })
                    .collect();
                (entry, channels)
            })
            .collect();
        Self { records, large }
    }

    /// The channels of each record, in the order of the entries.
    pub fn channels(&self) -> impl Iterator<Item = &[Channel]> {
        self.records.iter().map(|(_, c)| c.as_slice())
    }

    /// Bytes of all channel data.
    pub fn byte_len(&self) -> usize {
        self.channels().flatten().map(|c| c.len).sum()
    }

    /// Writes every channel in order, encoding again those not kept.
    pub fn write_to<W: Write>(self, w: &mut W) -> io::Result<()> {
        let large = self.large;
        for (entry, channels) in self.records {
            for (n, channel) in channels.into_iter().enumerate() {
                let blob = match channel.kept {
                    Some(blob) => blob,
                    None => encode_nth(entry, n, large),
                };
                // The same pixels encode to the same bytes; a length that changed would
                // contradict the record already written.
                if blob.len() != channel.len {
                    return Err(io::Error::other("a layer channel changed while saving"));
                }
                w.write_all(&blob)?;
            }
        }
        Ok(())
    }
}

/// Channels of a record: four colour and transparency channels, plus the mask if any.
fn channel_count(entry: Entry<'_>) -> usize {
    CHANNEL_IDS.len() + usize::from(entry.mask().is_some())
}

fn channel_id(n: usize) -> i16 {
    CHANNEL_IDS.get(n).copied().unwrap_or(MASK_ID)
}

/// The `n`th channel of a record, starting with its compression word. A group's records
/// have no pixels: their colour channels are empty (`00 00`).
fn encode_nth(entry: Entry<'_>, n: usize, large: bool) -> Vec<u8> {
    match (entry, RGBA_INDEX.get(n)) {
        (Entry::Layer(layer), Some(&index)) => {
            let (width, height) = (layer.width() as usize, layer.height() as usize);
            let raw = layer.pixels.as_raw();
            let plane: Vec<u8> = raw.iter().skip(index).step_by(4).copied().collect();
            encode_channel(&plane, width, height, large)
        }
        (_, Some(_)) => vec![0, 0],
        (_, None) => match entry.mask() {
            Some(mask) => {
                let (w, h) = (mask.pixels.width() as usize, mask.pixels.height() as usize);
                encode_channel(mask.pixels.as_raw(), w, h, large)
            }
            None => vec![0, 0],
        },
    }
}
