//! The regions method: classical colour/texture segmentation into layers, with the background
//! filled in behind them. Needs no model weights, so it is the fallback when none is found.
//!
//! 1. [`segment::segment`] splits the picture into at most `options.layers` regions (SLIC
//!    superpixels merged by colour and texture).
//! 2. The region with the most image-border contact (then the largest) is the background; the
//!    others are stacked back to front by the heuristic of [`stacking_order`].
//! 3. The background layer gets every other region's area (plus a one-pixel ring, so no edge
//!    colour is left behind) filled by [`inpaint`]: moving a region reveals plausible
//!    background.
//! 4. Each region becomes a layer cropped to its bounding box, with soft alpha along its
//!    boundary solved so that the stack composites back to the input ([`segment::matte`]).
//!
//! Fully transparent input pixels belong to no layer; partly transparent ones keep their
//! alpha in the layer that owns them, with nothing underneath.

use image::{GrayImage, Luma};
use rayon::prelude::*;

use crate::decompose::inpaint;
use crate::decompose::segment::{self, NO_REGION, matte};
use crate::decompose::{DecomposeError, Decomposer, LayerSpec, Options, Progress, validate};
use crate::model::{Offset, RgbaImage};

/// Share of a region's outline that must border one other region for it to count as lying
/// on top of that region (a hole in it), whatever the other heuristics say.
const ENCLOSED_SHARE: f64 = 0.6;

/// Regions returned when the count is automatic (the segmentation stops earlier when the
/// picture holds fewer distinct regions).
pub const AUTO_LAYERS: usize = 6;

/// Splits a picture into a filled-in background and colour regions.
#[derive(Clone, Copy, Debug)]
pub struct RegionsDecomposer {
    /// Inpaint the background behind the regions (the default). Without it the background
    /// layer keeps the regions' own pixels underneath: faster, but moving a region shows a
    /// copy of itself.
    pub fill_background: bool,
}

impl Default for RegionsDecomposer {
    fn default() -> Self {
        Self {
            fill_background: true,
        }
    }
}

impl Decomposer for RegionsDecomposer {
    fn decompose(
        &self,
        image: &RgbaImage,
        options: &Options,
        progress: &Progress,
    ) -> Result<Vec<LayerSpec>, DecomposeError> {
        validate(image, options)?;
        let whole = || {
            vec![LayerSpec::new(
                "Background",
                image.clone(),
                Offset::default(),
            )]
        };
        let layers = options.layers.or(AUTO_LAYERS);
        if layers == 1 {
            progress.set(1.0, "done");
            return Ok(whole());
        }
        progress.set(0.0, "finding regions");
        let seg = segment::segment(image, layers, &progress.scoped(0.0, 0.3))?;
        if seg.count <= 1 {
            progress.set(1.0, "done");
            return Ok(whole());
        }
        let (w, h) = (image.width() as usize, image.height() as usize);
        let order = stacking_order(&seg.labels, w, h, seg.count);
        progress.check()?;
        let mut rank = [NO_REGION; 256];
        for (layer, &region) in order.iter().enumerate() {
            rank[region as usize] = layer as u8;
        }
        let labels: Vec<u8> = seg.labels.iter().map(|&l| rank[l as usize]).collect();
        let owners = matte::ownership(&labels, w, h, 0);
        progress.check()?;

        progress.set(0.3, "filling in the background");
        let hole = GrayImage::from_fn(w as u32, h as u32, |x, y| {
            let o = owners[y as usize * w + x as usize];
            Luma([if o != 0 && o != NO_REGION { 255 } else { 0 }])
        });
        progress.check()?;
        let filled = if self.fill_background {
            // The regions' mixed edge pixels, just outside the hole, are no source either:
            // copied inwards they draw ghost outlines.
            let exclude = inpaint::grow(&hole, 2);
            let scoped = progress.scoped(0.3, 0.9);
            inpaint::inpaint_excluding(image, &hole, Some(&exclude), &scoped, options.seed)
                .map(|filled| filled.image)
        } else {
            Ok(image.clone())
        };
        let mut background = match filled {
            Ok(filled) => filled,
            // Nothing to fill from (the regions cover every pixel): leave the background as
            // the input, which still composites exactly.
            Err(DecomposeError::InvalidInput(_)) => image.clone(),
            Err(e) => return Err(e),
        };
        // Under partly transparent pixels the owning layer carries the input's alpha alone;
        // anything beneath would add to it.
        for (x, y, p) in background.enumerate_pixels_mut() {
            if hole.get_pixel(x, y).0[0] > 127 && image.get_pixel(x, y).0[3] < 255 {
                p.0 = [0, 0, 0, 0];
            }
        }
        progress.check()?;
        let mut layers = vec![LayerSpec::new("Background", background, Offset::default())];
        let below = &layers[0].pixels;
        let mut regions = Vec::with_capacity(order.len() - 1);
        for layer in 1..order.len() {
            progress.check()?;
            progress.set(
                0.9 + 0.1 * layer as f32 / order.len() as f32,
                "cutting out regions",
            );
            if let Some((pixels, bbox)) =
                matte::layer_pixels(image, &labels, &owners, layer as u8, below)
            {
                let offset = Offset::new(bbox.x0 as i32, bbox.y0 as i32);
                regions.push((pixels, offset));
            }
        }
        for (k, (pixels, offset)) in regions.into_iter().enumerate() {
            layers.push(LayerSpec::new(format!("Region {}", k + 1), pixels, offset));
        }
        progress.set(1.0, "done");
        Ok(layers)
    }
}

/// Per-region facts the ordering uses.
#[derive(Clone, Debug, Default)]
struct RegionFacts {
    area: usize,
    /// Pixels on the image border.
    border: usize,
    /// One past the lowest row the region reaches.
    lower_edge: usize,
}

/// Region facts and adjacency counts of the rows `rows` (starting at row `y0`) of `labels`.
/// `adjacency[a][b]` counts 4-neighbour pixel pairs between `a` and `b`; column `count` is
/// transparency (or the outside), so objects on a transparent canvas are not "enclosed".
fn count_band(
    labels: &[u8],
    rows: &[u8],
    y0: usize,
    width: usize,
    height: usize,
    count: usize,
) -> (Vec<RegionFacts>, Vec<Vec<usize>>) {
    let mut facts = vec![RegionFacts::default(); count];
    let mut adjacency = vec![vec![0usize; count + 1]; count];
    let index = |l: u8| if l == NO_REGION { count } else { l as usize };
    for (j, row) in rows.chunks(width).enumerate() {
        let y = y0 + j;
        for (x, &l) in row.iter().enumerate() {
            if l == NO_REGION {
                continue;
            }
            let f = &mut facts[l as usize];
            f.area += 1;
            f.lower_edge = f.lower_edge.max(y + 1);
            if x == 0 || y == 0 || x + 1 == width || y + 1 == height {
                f.border += 1;
            }
            let neighbours = [
                (x > 0).then(|| labels[y * width + x - 1]),
                (x + 1 < width).then(|| labels[y * width + x + 1]),
                (y > 0).then(|| labels[(y - 1) * width + x]),
                (y + 1 < height).then(|| labels[(y + 1) * width + x]),
            ];
            for n in neighbours.into_iter().flatten().filter(|&n| n != l) {
                adjacency[l as usize][index(n)] += 1;
            }
        }
    }
    (facts, adjacency)
}

/// Regions bottom first: `[background, back…front]`.
///
/// The background is the region with the most pixels on the image border (ties: the larger).
/// The rest go back to front by:
/// 1. touching the image border before not touching it (things cut by the frame — sky,
///    ground, walls — lie behind things wholly inside it);
/// 2. then lower edge, higher up first (on a ground plane, nearer things reach lower in the
///    frame);
/// 3. then area, larger first.
///
/// Finally occlusion evidence overrides those guesses: a region whose outline mostly
/// ([`ENCLOSED_SHARE`]) borders one other region lies in a hole of it, so it goes in front.
pub fn stacking_order(labels: &[u8], width: usize, height: usize, count: usize) -> Vec<u8> {
    // Counted in bands of rows in parallel; integer sums, so the result is the same however
    // the bands are scheduled.
    let band_rows = 64;
    let (facts, adjacency) = labels
        .par_chunks(width * band_rows)
        .enumerate()
        .map(|(band, rows)| count_band(labels, rows, band * band_rows, width, height, count))
        .reduce(
            || {
                (
                    vec![RegionFacts::default(); count],
                    vec![vec![0; count + 1]; count],
                )
            },
            |(mut fa, mut aa), (fb, ab)| {
                for (x, y) in fa.iter_mut().zip(fb) {
                    x.area += y.area;
                    x.border += y.border;
                    x.lower_edge = x.lower_edge.max(y.lower_edge);
                }
                for (x, y) in aa.iter_mut().zip(ab) {
                    for (p, q) in x.iter_mut().zip(y) {
                        *p += q;
                    }
                }
                (fa, aa)
            },
        );
    let present: Vec<usize> = (0..count).filter(|&r| facts[r].area > 0).collect();
    let Some(&background) = present
        .iter()
        .max_by_key(|&&r| (facts[r].border, facts[r].area, std::cmp::Reverse(r)))
    else {
        return Vec::new();
    };
    let mut rest: Vec<usize> = present.into_iter().filter(|&r| r != background).collect();
    rest.sort_by_key(|&r| {
        let f = &facts[r];
        (f.border == 0, f.lower_edge, std::cmp::Reverse(f.area), r)
    });
    // Occlusion override; bounded because mutual "enclosure" (thin rings) could cycle.
    for _ in 0..count * count {
        let mut moved = false;
        for b in 0..rest.len() {
            let rb = rest[b];
            let outline: usize = adjacency[rb].iter().sum();
            let Some(a) = (0..rest.len()).find(|&a| {
                a > b
                    && facts[rb].border == 0
                    && adjacency[rb][rest[a]] as f64 >= ENCLOSED_SHARE * outline as f64
            }) else {
                continue;
            };
            let region = rest.remove(b);
            rest.insert(a, region);
            moved = true;
            break;
        }
        if !moved {
            break;
        }
    }
    std::iter::once(background)
        .chain(rest)
        .map(|r| r as u8)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn background_is_the_border_region_and_enclosed_regions_come_forward() {
        // 0: frame region; 1: a big block inside; 2: a small block inside block 1, higher up
        // than 1's lower edge would suggest but enclosed by it.
        let (w, h) = (12usize, 12usize);
        let labels: Vec<u8> = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                if (5..7).contains(&x) && (3..5).contains(&y) {
                    2
                } else if (2..10).contains(&x) && (2..10).contains(&y) {
                    1
                } else {
                    0
                }
            })
            .collect();
        assert_eq!(stacking_order(&labels, w, h, 3), vec![0, 1, 2]);
    }

    #[test]
    fn lower_edge_decides_between_free_objects() {
        let (w, h) = (10usize, 10usize);
        let labels: Vec<u8> = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                match (x, y) {
                    (1..=3, 5..=8) => 1, // reaches lower: nearer
                    (6..=8, 1..=3) => 2, // higher up: farther
                    _ => 0,
                }
            })
            .collect();
        assert_eq!(stacking_order(&labels, w, h, 3), vec![0, 2, 1]);
    }
}
