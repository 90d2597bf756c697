//! The picture's distinct colours, and the layers assembled back from per-colour results.
//!
//! All the maths runs once per distinct (colour, alpha) pair rather than per pixel: a photo
//! of a megapixel has a few hundred thousand of them, flat art a few hundred. Pixels are
//! mapped to their pair by binary search in the sorted list of packed `RGBA` keys; fully
//! transparent pixels all share one key (their colour is invisible).

use rayon::prelude::*;

use super::opacity::{Entry, LayerColours};
use crate::decompose::DecomposeError;
use crate::decompose::progress::ScopedProgress;
use crate::model::RgbaImage;

/// Pixels per parallel work item (also the cancellation granularity).
const BLOCK: usize = 1 << 14;

/// Distinct colours and (colour, alpha) pairs of a picture.
pub struct ColourIndex {
    /// Distinct RGB colours of the pixels with alpha > 0, sorted.
    pub colours: Vec<[u8; 3]>,
    /// Distinct (colour, alpha) pairs, in key order.
    pub entries: Vec<Entry>,
    /// For each pixel, its index in `entries`.
    pub pixel_entry: Vec<u32>,
}

fn key(px: &[u8]) -> u32 {
    if px[3] == 0 {
        0
    } else {
        u32::from_be_bytes([px[0], px[1], px[2], px[3]])
    }
}

/// Indexes the colours of `image`.
pub fn index_colours(
    image: &RgbaImage,
    check: &(dyn Fn() -> Result<(), DecomposeError> + Sync),
) -> Result<ColourIndex, DecomposeError> {
    let raw = image.as_raw();
    let mut keys: Vec<u32> = raw.par_chunks_exact(4).map(key).collect();
    check()?;
    keys.par_sort_unstable();
    keys.dedup();
    check()?;
    let mut colours: Vec<[u8; 3]> = Vec::new();
    let mut entries = Vec::with_capacity(keys.len());
    for &k in &keys {
        let [r, g, b, a] = k.to_be_bytes();
        if a > 0 && colours.last() != Some(&[r, g, b]) {
            colours.push([r, g, b]);
        }
        entries.push(Entry {
            colour: colours.len().saturating_sub(1) as u32,
            alpha: a,
        });
    }
    let mut pixel_entry = vec![0u32; raw.len() / 4];
    pixel_entry
        .par_chunks_mut(BLOCK)
        .zip(raw.par_chunks(BLOCK * 4))
        .try_for_each(|(out, px)| {
            check()?;
            for (o, p) in out.iter_mut().zip(px.chunks_exact(4)) {
                *o = keys.binary_search(&key(p)).unwrap_or(0) as u32;
            }
            Ok(())
        })?;
    Ok(ColourIndex {
        colours,
        entries,
        pixel_entry,
    })
}

/// Builds the `n` layer images: layer `i` of a pixel has the layer colour of its colour and
/// the opacity of its (colour, alpha) pair.
pub fn assemble(
    image: &RgbaImage,
    index: &ColourIndex,
    alphas: &[u8],
    colours: &LayerColours,
    n: usize,
    progress: &ScopedProgress<'_>,
) -> Result<Vec<RgbaImage>, DecomposeError> {
    let (width, height) = image.dimensions();
    let mut layers = Vec::with_capacity(n);
    for i in 0..n {
        progress.set(i as f32 / n as f32, "Building layers");
        let mut buf = vec![0u8; index.pixel_entry.len() * 4];
        buf.par_chunks_mut(BLOCK * 4)
            .zip(index.pixel_entry.par_chunks(BLOCK))
            .try_for_each(|(out, ids)| {
                progress.check()?;
                for (px, &e) in out.chunks_exact_mut(4).zip(ids) {
                    let entry = index.entries[e as usize];
                    let row = colours
                        .row_of
                        .get(entry.colour as usize)
                        .copied()
                        .unwrap_or(0) as usize;
                    let [r, g, b] = colours.table[row * n + i];
                    px.copy_from_slice(&[r, g, b, alphas[e as usize * n + i]]);
                }
                Ok::<(), DecomposeError>(())
            })?;
        let layer =
            RgbaImage::from_raw(width, height, buf).ok_or_else(|| DecomposeError::Compute {
                stage: "building the colour layers".into(),
                message: "a layer buffer has the wrong size".into(),
            })?;
        layers.push(layer);
    }
    Ok(layers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transparent_pixels_share_one_entry() {
        let mut image = RgbaImage::new(3, 1);
        image.put_pixel(0, 0, image::Rgba([9, 9, 9, 0]));
        image.put_pixel(1, 0, image::Rgba([5, 6, 7, 255]));
        image.put_pixel(2, 0, image::Rgba([5, 6, 7, 100]));
        let index = index_colours(&image, &|| Ok(())).unwrap();
        assert_eq!(index.colours, vec![[5, 6, 7]]);
        assert_eq!(index.entries.len(), 3);
        assert_eq!(index.pixel_entry, vec![0, 2, 1]);
        assert_eq!(index.entries[0].alpha, 0);
    }
}
