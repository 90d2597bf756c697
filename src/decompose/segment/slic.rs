//! SLIC superpixels (R. Achanta, A. Shaji, K. Smith, A. Lucchi, P. Fua, S. Süsstrunk, "SLIC
//! Superpixels Compared to State-of-the-Art Superpixel Methods", IEEE TPAMI 34(11), 2012),
//! written from the paper.
//!
//! Local k-means in (L, a, b, x, y): centres start on a grid of step S (nudged off edges to
//! the lowest-gradient spot nearby), each pixel joins the centre within reach minimising
//! `d_lab² + (m/S)²·d_xy²`, centres move to their members' means, ten times. Then fragments
//! smaller than S²/4 are absorbed by a neighbour so every superpixel is connected.

use std::collections::VecDeque;

use rayon::prelude::*;

use super::lab::distance2;
use crate::decompose::DecomposeError;

/// Label of pixels that belong to no superpixel (fully transparent ones).
pub const NO_LABEL: u32 = u32::MAX;

/// Iterations of the assign/update loop; the paper finds 10 enough for most images.
const ITERATIONS: usize = 10;

/// A superpixel labelling.
#[derive(Clone, Debug)]
pub struct Superpixels {
    pub width: usize,
    pub height: usize,
    /// Superpixel per pixel in `0..count`, or [`NO_LABEL`].
    pub labels: Vec<u32>,
    pub count: usize,
    /// Grid step S actually used.
    pub step: usize,
}

/// Splits the `width`×`height` Lab image `lab` into about `target` superpixels; pixels with
/// `present[i] == false` are left out. `compactness` is the paper's `m` (10 suits Lab).
/// `progress` is told the fraction done after each iteration; an error from it (cancel)
/// stops the work and is returned.
pub fn slic(
    lab: &[[f32; 3]],
    present: &[bool],
    width: usize,
    height: usize,
    target: usize,
    compactness: f32,
    progress: &dyn Fn(f32) -> Result<(), DecomposeError>,
) -> Result<Superpixels, DecomposeError> {
    let n_present = present.iter().filter(|&&p| p).count();
    let step = ((n_present as f32 / target.max(1) as f32).sqrt().round() as usize).max(4);
    let mut centres = seed_centres(lab, present, width, height, step);
    let mut labels = vec![NO_LABEL; width * height];
    if centres.is_empty() {
        return Ok(Superpixels {
            width,
            height,
            labels,
            count: 0,
            step,
        });
    }
    let spatial = (compactness / step as f32).powi(2);
    let (gw, gh) = (width.div_ceil(step), height.div_ceil(step));
    for iteration in 0..ITERATIONS {
        progress(iteration as f32 / ITERATIONS as f32)?;
        // Bucket centres by grid cell so each pixel only looks at the 3×3 cells around it,
        // which holds every centre within S of it, the paper's 2S×2S search window.
        let mut cells: Vec<Vec<u32>> = vec![Vec::new(); gw * gh];
        for (k, c) in centres.iter().enumerate() {
            let cx = (c[3] as usize / step).min(gw - 1);
            let cy = (c[4] as usize / step).min(gh - 1);
            cells[cy * gw + cx].push(k as u32);
        }
        labels
            .par_chunks_mut(width)
            .enumerate()
            .for_each(|(y, row)| {
                let gy = y / step;
                for (x, label) in row.iter_mut().enumerate() {
                    let i = y * width + x;
                    if !present[i] {
                        continue;
                    }
                    let gx = x / step;
                    let mut best = (f32::INFINITY, *label);
                    for cy in gy.saturating_sub(1)..(gy + 2).min(gh) {
                        for cx in gx.saturating_sub(1)..(gx + 2).min(gw) {
                            for &k in &cells[cy * gw + cx] {
                                let c = &centres[k as usize];
                                let (dx, dy) = (c[3] - x as f32, c[4] - y as f32);
                                let d = distance2(lab[i], [c[0], c[1], c[2]])
                                    + spatial * (dx * dx + dy * dy);
                                if d < best.0 {
                                    best = (d, k);
                                }
                            }
                        }
                    }
                    if best.1 == NO_LABEL {
                        // No centre in reach (an island far from every grid seed): nearest.
                        best.1 = nearest_centre(&centres, lab[i], x, y, spatial);
                    }
                    *label = best.1;
                }
            });
        // Sequential update keeps the float sums in one fixed order: reproducible results.
        let mut sums = vec![[0.0f64; 6]; centres.len()];
        for (i, &l) in labels.iter().enumerate() {
            if l == NO_LABEL {
                continue;
            }
            let s = &mut sums[l as usize];
            let p = lab[i];
            s[0] += f64::from(p[0]);
            s[1] += f64::from(p[1]);
            s[2] += f64::from(p[2]);
            s[3] += (i % width) as f64;
            s[4] += (i / width) as f64;
            s[5] += 1.0;
        }
        for (c, s) in centres.iter_mut().zip(&sums) {
            if s[5] > 0.0 {
                for d in 0..5 {
                    c[d] = (s[d] / s[5]) as f32;
                }
            }
        }
    }
    let count = enforce_connectivity(&mut labels, width, height, (step * step / 4).max(1));
    Ok(Superpixels {
        width,
        height,
        labels,
        count,
        step,
    })
}

/// The centre minimising the SLIC distance to pixel (`x`, `y`) of colour `p`, over all.
fn nearest_centre(centres: &[[f32; 5]], p: [f32; 3], x: usize, y: usize, spatial: f32) -> u32 {
    let mut best = (f32::INFINITY, 0u32);
    for (k, c) in centres.iter().enumerate() {
        let (dx, dy) = (c[3] - x as f32, c[4] - y as f32);
        let d = distance2(p, [c[0], c[1], c[2]]) + spatial * (dx * dx + dy * dy);
        if d < best.0 {
            best = (d, k as u32);
        }
    }
    best.1
}

/// Grid centres `[L, a, b, x, y]`, each moved to the lowest-gradient present pixel of its
/// 3×3 neighbourhood so no centre starts on an edge or a noisy pixel.
fn seed_centres(
    lab: &[[f32; 3]],
    present: &[bool],
    width: usize,
    height: usize,
    step: usize,
) -> Vec<[f32; 5]> {
    let at = |x: usize, y: usize| lab[y * width + x];
    let gradient = |x: usize, y: usize| {
        let (x0, x1) = (x.saturating_sub(1), (x + 1).min(width - 1));
        let (y0, y1) = (y.saturating_sub(1), (y + 1).min(height - 1));
        distance2(at(x1, y), at(x0, y)) + distance2(at(x, y1), at(x, y0))
    };
    let mut centres = Vec::new();
    for gy in 0..height.div_ceil(step) {
        for gx in 0..width.div_ceil(step) {
            let cx = (gx * step + step / 2).min(width - 1);
            let cy = (gy * step + step / 2).min(height - 1);
            let mut best: Option<(f32, usize, usize)> = None;
            for y in cy.saturating_sub(1)..(cy + 2).min(height) {
                for x in cx.saturating_sub(1)..(cx + 2).min(width) {
                    if !present[y * width + x] {
                        continue;
                    }
                    let g = gradient(x, y);
                    if best.is_none_or(|b| g < b.0) {
                        best = Some((g, x, y));
                    }
                }
            }
            if let Some((_, x, y)) = best {
                let p = at(x, y);
                centres.push([p[0], p[1], p[2], x as f32, y as f32]);
            }
        }
    }
    centres
}

/// Relabels `labels` so every superpixel is one 4-connected piece numbered `0..count` in scan
/// order; pieces smaller than `min_size` join the superpixel of the piece met just before
/// them (left or above), as in the paper's post-processing. Returns `count`.
fn enforce_connectivity(labels: &mut [u32], width: usize, height: usize, min_size: usize) -> usize {
    let mut out = vec![NO_LABEL; labels.len()];
    let mut queue = VecDeque::new();
    let mut piece = Vec::new();
    let mut count = 0u32;
    for start in 0..labels.len() {
        if labels[start] == NO_LABEL || out[start] != NO_LABEL {
            continue;
        }
        let (sx, sy) = (start % width, start / width);
        let adjacent = [(sx > 0).then(|| start - 1), (sy > 0).then(|| start - width)]
            .into_iter()
            .flatten()
            .map(|n| out[n])
            .find(|&l| l != NO_LABEL);
        let old = labels[start];
        piece.clear();
        queue.push_back(start);
        out[start] = count;
        while let Some(i) = queue.pop_front() {
            piece.push(i);
            let (x, y) = (i % width, i / width);
            let neighbours = [
                (x > 0).then(|| i - 1),
                (x + 1 < width).then(|| i + 1),
                (y > 0).then(|| i - width),
                (y + 1 < height).then(|| i + width),
            ];
            for n in neighbours.into_iter().flatten() {
                if labels[n] == old && out[n] == NO_LABEL {
                    out[n] = count;
                    queue.push_back(n);
                }
            }
        }
        match adjacent {
            Some(a) if piece.len() < min_size => {
                for &i in &piece {
                    out[i] = a;
                }
            }
            _ => count += 1,
        }
    }
    labels.copy_from_slice(&out);
    count as usize
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.
mod tests {
    use super::*;

    fn quiet(_: f32) -> Result<(), DecomposeError> {
        Ok(())
    }

    #[test]
    fn superpixels_follow_a_colour_edge_and_are_connected() {
        let (w, h) = (60usize, 40usize);
        let lab: Vec<[f32; 3]> = (0..w * h)
            .map(|i| {
                if i % w < 23 {
                    [30.0, 10.0, 10.0]
                } else {
                    [80.0, -20.0, 40.0]
                }
            })
            .collect();
        let present = vec![true; w * h];
        let sp = slic(&lab, &present, w, h, 24, 10.0, &quiet).unwrap();
        assert!(sp.count >= 12 && sp.count <= 40, "{} superpixels", sp.count);
        // No superpixel straddles the edge between x = 22 and x = 23.
        for y in 0..h {
            for x in 0..w {
                let l = sp.labels[y * w + x];
                assert!(l < sp.count as u32);
                for x2 in 0..w {
                    if sp.labels[y * w + x2] == l {
                        assert_eq!(x < 23, x2 < 23);
                    }
                }
            }
        }
    }

    #[test]
    fn absent_pixels_get_no_label() {
        let (w, h) = (20usize, 20usize);
        let lab = vec![[50.0, 0.0, 0.0]; w * h];
        let present: Vec<bool> = (0..w * h).map(|i| i % w >= 10).collect();
        let sp = slic(&lab, &present, w, h, 8, 10.0, &quiet).unwrap();
        for (&label, &p) in sp.labels.iter().zip(&present) {
            assert_eq!(label == NO_LABEL, !p);
        }
    }

    #[test]
    fn small_fragments_are_absorbed() {
        let mut labels = vec![0u32; 25];
        labels[12] = 1; // a lone pixel of superpixel 1 in the middle
        let count = enforce_connectivity(&mut labels, 5, 5, 3);
        assert_eq!(count, 1);
        assert!(labels.iter().all(|&l| l == 0));
    }
}
