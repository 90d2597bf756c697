//! Classical segmentation, written here from the papers (no weights, no external crates):
//!
//! * [`components`] — 8-connected components of a mask (union-find);
//! * [`slic`] — SLIC superpixels in Lab (Achanta et al. 2012);
//! * `merge` — superpixels grouped into K regions by colour and texture on the region
//!   adjacency graph;
//! * [`segment`] — the whole pipeline for the regions method, on a downscaled copy for big
//!   pictures with boundaries refined back at full resolution;
//! * [`matte`] — soft alpha along region boundaries with exact re-compositing.

pub mod components;
pub mod lab;
pub mod matte;
mod merge;
pub mod morphology;
pub mod slic;

use rayon::prelude::*;

pub use self::components::{Component, Labels, components, label};
use self::lab::{distance2, srgb_linear_to_lab, to_linear};
use self::slic::NO_LABEL;
use crate::decompose::DecomposeError;
use crate::decompose::progress::ScopedProgress;
use crate::model::RgbaImage;

/// Region of fully transparent pixels, which belong to no region.
pub const NO_REGION: u8 = u8::MAX;
/// Most regions [`segment`] returns (labels are bytes, [`NO_REGION`] reserved).
pub const MAX_REGIONS: usize = 64;

/// Superpixel analysis runs on at most this many pixels; bigger pictures are box-downscaled
/// and their region boundaries refined at full resolution afterwards.
const WORK_PIXELS: usize = 300_000;
/// SLIC compactness `m` for Lab, the paper's recommended value.
const COMPACTNESS: f32 = 10.0;

/// A region per pixel.
#[derive(Clone, Debug)]
pub struct Segmentation {
    pub width: u32,
    pub height: u32,
    /// Region of each pixel in `0..count`, or [`NO_REGION`] for fully transparent pixels.
    pub labels: Vec<u8>,
    pub count: usize,
}

/// Splits `image` into at most `max_regions` regions of similar colour and texture (fewer
/// when the picture has fewer distinguishable parts). Fully transparent pixels get
/// [`NO_REGION`].
pub fn segment(
    image: &RgbaImage,
    max_regions: usize,
    progress: &ScopedProgress<'_>,
) -> Result<Segmentation, DecomposeError> {
    let max_regions = max_regions.clamp(1, MAX_REGIONS);
    let work = Work::new(image, WORK_PIXELS);
    progress.check()?;
    let n = work.present.iter().filter(|&&p| p).count();
    // Superpixels of 6..24 pixels a side: fine enough for small shapes, coarse enough that
    // merging stays cheap on big pictures.
    let step = (n as f32 / 1200.0).sqrt().clamp(6.0, 24.0);
    let target = ((n as f32 / (step * step)).round() as usize).max(1);
    let outer = progress;
    let report = |fraction: f32| {
        outer.set(0.7 * fraction, "finding superpixels");
        outer.check()
    };
    let sp = slic::slic(
        &work.lab,
        &work.present,
        work.width,
        work.height,
        target,
        COMPACTNESS,
        &report,
    )?;
    outer.set(0.7, "merging regions");
    let (mapping, count) = merge::merge_superpixels(&sp, &work.lab, max_regions);
    outer.check()?;
    let work_regions: Vec<u32> = sp
        .labels
        .iter()
        .map(|&l| {
            if l == NO_LABEL {
                NO_LABEL
            } else {
                mapping[l as usize]
            }
        })
        .collect();
    outer.set(0.8, "refining region edges");
    let labels = work.upsample(image, &work_regions, count, progress)?;
    outer.set(1.0, "regions found");
    Ok(Segmentation {
        width: image.width(),
        height: image.height(),
        labels,
        count,
    })
}

/// The downscaled analysis copy: linear-light box averages converted to Lab.
struct Work {
    width: usize,
    height: usize,
    factor: usize,
    lab: Vec<[f32; 3]>,
    /// `false` where every source pixel is fully transparent.
    present: Vec<bool>,
}

impl Work {
    fn new(image: &RgbaImage, max_pixels: usize) -> Self {
        let (w, h) = (image.width() as usize, image.height() as usize);
        let factor = ((w * h) as f64 / max_pixels as f64).sqrt().ceil().max(1.0) as usize;
        let (ww, wh) = (w.div_ceil(factor), h.div_ceil(factor));
        let raw = image.as_raw();
        let mut lab = vec![[0.0f32; 3]; ww * wh];
        let mut present = vec![false; ww * wh];
        lab.par_chunks_mut(ww)
            .zip(present.par_chunks_mut(ww))
            .enumerate()
            .for_each(|(y, (lab_row, present_row))| {
                for x in 0..ww {
                    // Alpha-weighted mean in linear light: the physically right downscale,
                    // and transparent pixels' arbitrary colours carry no weight.
                    let mut sum = [0.0f32; 3];
                    let mut weight = 0.0f32;
                    for sy in y * factor..((y + 1) * factor).min(h) {
                        for sx in x * factor..((x + 1) * factor).min(w) {
                            let p = &raw[(sy * w + sx) * 4..(sy * w + sx) * 4 + 4];
                            let a = f32::from(p[3]);
                            for c in 0..3 {
                                sum[c] += a * to_linear(p[c]);
                            }
                            weight += a;
                        }
                    }
                    if weight > 0.0 {
                        present_row[x] = true;
                        lab_row[x] =
                            srgb_linear_to_lab([sum[0] / weight, sum[1] / weight, sum[2] / weight]);
                    }
                }
            });
        Self {
            width: ww,
            height: wh,
            factor,
            lab,
            present,
        }
    }

    /// Full-resolution labels from the work-resolution `regions`. Where the (up to) four
    /// work pixels around a full pixel disagree, the pixel joins the candidate region under
    /// whose Gaussian colour model (mean, variance) it is most likely, so boundaries follow
    /// the real edges instead of the coarse grid.
    fn upsample(
        &self,
        image: &RgbaImage,
        regions: &[u32],
        count: usize,
        progress: &ScopedProgress<'_>,
    ) -> Result<Vec<u8>, DecomposeError> {
        let models = self.region_models(regions, count);
        let (w, h) = (image.width() as usize, image.height() as usize);
        let raw = image.as_raw();
        let mut labels = vec![NO_REGION; w * h];
        // Rows in parallel, checking for cancellation every few (12-megapixel pictures).
        let rows_per_check = 32;
        labels
            .par_chunks_mut(w * rows_per_check)
            .enumerate()
            .try_for_each(|(k, rows)| {
                progress.check()?;
                for (j, row) in rows.chunks_mut(w).enumerate() {
                    self.upsample_row(raw, w, k * rows_per_check + j, row, regions, count, &models);
                }
                Ok::<(), DecomposeError>(())
            })?;
        Ok(labels)
    }

    /// Full-resolution row `y` (`row`) of [`Work::upsample`].
    #[allow(clippy::too_many_arguments)] // Private helper of one loop.
    fn upsample_row(
        &self,
        raw: &[u8],
        w: usize,
        y: usize,
        row: &mut [u8],
        regions: &[u32],
        count: usize,
        models: &[([f32; 3], f32)],
    ) {
        let f = self.factor as f32;
        let fy = ((y as f32 + 0.5) / f - 0.5).clamp(0.0, (self.height - 1) as f32);
        let (y0, y1) = (
            fy.floor() as usize,
            (fy.ceil() as usize).min(self.height - 1),
        );
        for (x, out) in row.iter_mut().enumerate() {
            let p = &raw[(y * w + x) * 4..(y * w + x) * 4 + 4];
            if p[3] == 0 {
                continue;
            }
            let fx = ((x as f32 + 0.5) / f - 0.5).clamp(0.0, (self.width - 1) as f32);
            let (x0, x1) = (
                fx.floor() as usize,
                (fx.ceil() as usize).min(self.width - 1),
            );
            let mut candidates = [
                regions[y0 * self.width + x0],
                regions[y0 * self.width + x1],
                regions[y1 * self.width + x0],
                regions[y1 * self.width + x1],
            ];
            candidates.sort_unstable();
            let first = candidates[0];
            let label = if first != NO_LABEL && candidates.iter().all(|&c| c == first) {
                first
            } else {
                let lab = lab::srgb_to_lab([p[0], p[1], p[2]]);
                let mut pool: Vec<u32> = candidates
                    .iter()
                    .copied()
                    .filter(|&c| c != NO_LABEL)
                    .collect();
                pool.dedup();
                if pool.is_empty() {
                    // A visible pixel amid transparent work pixels: any region may do.
                    pool = (0..count as u32).collect();
                }
                most_likely(&pool, models, lab)
            };
            *out = u8::try_from(label).unwrap_or(NO_REGION);
        }
    }

    /// Mean Lab colour and variance (with a floor) per region, at work resolution.
    fn region_models(&self, regions: &[u32], count: usize) -> Vec<([f32; 3], f32)> {
        let mut sums = vec![([0.0f64; 3], 0.0f64, 0.0f64); count];
        for (i, &r) in regions.iter().enumerate() {
            if r == NO_LABEL || !self.present[i] {
                continue;
            }
            let s = &mut sums[r as usize];
            for c in 0..3 {
                s.0[c] += f64::from(self.lab[i][c]);
                s.1 += f64::from(self.lab[i][c]).powi(2);
            }
            s.2 += 1.0;
        }
        sums.into_iter()
            .map(|(sum, sum_sq, n)| {
                let n = n.max(1.0);
                let mean = [sum[0] / n, sum[1] / n, sum[2] / n];
                let var = (sum_sq / n - mean.iter().map(|m| m * m).sum::<f64>()) / 3.0;
                let mean = [mean[0] as f32, mean[1] as f32, mean[2] as f32];
                (mean, (var as f32).max(4.0))
            })
            .collect()
    }
}

/// The region of `pool` whose isotropic Gaussian colour model best explains `lab`.
fn most_likely(pool: &[u32], models: &[([f32; 3], f32)], lab: [f32; 3]) -> u32 {
    let mut best = (f32::INFINITY, pool[0]);
    for &r in pool {
        let (mean, var) = models[r as usize];
        let nll = distance2(lab, mean) / var + 3.0 * var.ln();
        if nll < best.0 {
            best = (nll, r);
        }
    }
    best.1
}
