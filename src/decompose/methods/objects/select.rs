//! From a refined saliency matte to labelled objects: connected components of the confident
//! part, which ones become layers, which merge, and which soft pixels belong to whom.
//!
//! Rules (all at the working resolution of the matte):
//! * A *core* is an 8-connected component of `matte ≥ CORE_THRESHOLD`.
//! * Cores covering more than [`MAX_COVER`] of the picture are not objects (the network
//!   called everything salient) and are ignored; cores smaller than the minimum area are
//!   *tiny*.
//! * The non-tiny cores are ranked by saliency mass (sum of the matte over the core); the
//!   first `max_objects` become objects. Any further non-tiny core joins the nearest object
//!   (by bounding-box gap), so nothing salient is left behind when fewer layers are asked
//!   for. A tiny core joins the nearest object when it lies within [`NEAR`] of the picture's
//!   diagonal, and stays in the background otherwise (specks, noise).
//! * Every other pixel with `matte > SOFT_THRESHOLD` is given to the geodesically nearest
//!   labelled pixel (multi-source BFS through the soft region), then labels grow by
//!   [`LABEL_MARGIN`] pixels so the full-resolution edge, which can reach slightly further,
//!   stays covered.

use std::collections::VecDeque;

use super::components::{Core, label_cores};
use crate::decompose::nn::u2net::Matte;
use crate::decompose::segment::components::four_neighbours;
use crate::model::BBox;

/// Matte value above which a pixel is confidently part of an object.
pub const CORE_THRESHOLD: f32 = 0.5;
/// Matte value above which a pixel may carry some of an object (its soft edge).
pub const SOFT_THRESHOLD: f32 = 0.02;
/// A core covering more than this fraction of the picture is not an object.
pub const MAX_COVER: f32 = 0.9;
/// Tiny cores within this fraction of the diagonal of an object join it.
pub const NEAR: f32 = 0.05;
/// Pixels the labels grow beyond the soft region.
pub const LABEL_MARGIN: usize = 2;

/// One object chosen for a layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    /// Its value in [`Selection::labels`], `1..=255`.
    pub label: u8,
    /// Saliency mass of its cores (merged ones included).
    pub score: f32,
    /// Pixels of its cores.
    pub area: usize,
    /// Bounding box of its cores.
    pub bbox: BBox,
}

/// The objects and, for each matte pixel, which object it belongs to (0 = background).
#[derive(Clone, Debug)]
pub struct Selection {
    pub width: u32,
    pub height: u32,
    pub labels: Vec<u8>,
    /// Most salient first.
    pub objects: Vec<Object>,
}

/// Chooses at most `max_objects` (≤ 255) objects in `matte` and labels its pixels.
pub fn select(matte: &Matte, max_objects: usize) -> Selection {
    let (w, h) = (matte.width as usize, matte.height as usize);
    let n = w * h;
    let (core_of, cores) = label_cores(&matte.values, w, h, CORE_THRESHOLD);
    let min_area = (n / 1000).max(16);
    let max_area = (n as f32 * MAX_COVER) as usize;
    let mut big: Vec<&Core> = cores
        .iter()
        .filter(|c| c.area >= min_area && c.area <= max_area)
        .collect();
    big.sort_by(|a, b| b.score.total_cmp(&a.score));
    let keep = max_objects.min(255).min(big.len());

    let mut objects: Vec<Object> = big[..keep]
        .iter()
        .enumerate()
        .map(|(i, c)| Object {
            label: (i + 1) as u8,
            score: c.score,
            area: c.area,
            bbox: c.bbox,
        })
        .collect();
    // Core id → label; 0 = background.
    let mut label_of_core = vec![0u8; cores.len()];
    for (object, core) in objects.iter().zip(&big[..keep]) {
        label_of_core[core.id] = object.label;
    }
    if objects.is_empty() {
        return Selection {
            width: matte.width,
            height: matte.height,
            labels: vec![0; n],
            objects,
        };
    }
    let near = NEAR * ((w * w + h * h) as f32).sqrt();
    let seeds: Vec<(Object, usize)> = objects.iter().map(|o| (o.clone(), 0)).collect();
    for core in &cores {
        if label_of_core[core.id] != 0 || core.area > max_area {
            continue;
        }
        let (gap, k) = seeds
            .iter()
            .enumerate()
            .map(|(k, (o, _))| (core.bbox.gap(&o.bbox), k))
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .unwrap_or((f32::INFINITY, 0));
        let joins = core.area >= min_area || gap <= near;
        if joins {
            let object = &mut objects[k];
            label_of_core[core.id] = object.label;
            object.score += core.score;
            object.area += core.area;
            object.bbox = object.bbox.union(core.bbox);
        }
    }

    let mut labels: Vec<u8> = core_of
        .iter()
        .map(|&c| c.map_or(0, |c| label_of_core[c as usize]))
        .collect();
    grow(&mut labels, w, h, |i| matte.values[i] > SOFT_THRESHOLD);
    for _ in 0..LABEL_MARGIN {
        dilate_once(&mut labels, w, h);
    }
    Selection {
        width: matte.width,
        height: matte.height,
        labels,
        objects,
    }
}

/// Multi-source BFS: every unlabelled pixel reachable through `open` pixels takes the label
/// of the nearest (in steps) labelled pixel.
fn grow(labels: &mut [u8], w: usize, h: usize, open: impl Fn(usize) -> bool) {
    let mut queue: VecDeque<usize> = (0..labels.len()).filter(|&i| labels[i] != 0).collect();
    while let Some(i) = queue.pop_front() {
        let label = labels[i];
        for j in four_neighbours(i, w, h) {
            if labels[j] == 0 && open(j) {
                labels[j] = label;
                queue.push_back(j);
            }
        }
    }
}

/// Gives each unlabelled pixel with a labelled 4-neighbour that neighbour's label.
fn dilate_once(labels: &mut [u8], w: usize, h: usize) {
    let before = labels.to_vec();
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if before[i] != 0 {
                continue;
            }
            let neighbours = [
                (x > 0).then(|| before[i - 1]),
                (x + 1 < w).then(|| before[i + 1]),
                (y > 0).then(|| before[i - w]),
                (y + 1 < h).then(|| before[i + w]),
            ];
            if let Some(l) = neighbours.into_iter().flatten().find(|&l| l != 0) {
                labels[i] = l;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matte_with_blobs(blobs: &[(usize, usize, usize)]) -> Matte {
        let (w, h) = (100u32, 80u32);
        let mut m = Matte::filled(w, h, 0.0);
        for &(cx, cy, r) in blobs {
            for y in 0..h as usize {
                for x in 0..w as usize {
                    let d2 = (x as i64 - cx as i64).pow(2) + (y as i64 - cy as i64).pow(2);
                    if d2 <= (r * r) as i64 {
                        m.values[y * w as usize + x] = 1.0;
                    }
                }
            }
        }
        m
    }

    #[test]
    fn largest_blobs_become_objects_and_the_rest_merge() {
        let m = matte_with_blobs(&[(20, 20, 12), (70, 40, 8), (30, 65, 5)]);
        let all = select(&m, 5);
        assert_eq!(all.objects.len(), 3);
        assert!(all.objects[0].area > all.objects[1].area);
        let two = select(&m, 2);
        assert_eq!(two.objects.len(), 2);
        let covered = two.labels.iter().filter(|&&l| l != 0).count();
        assert!(covered >= all.objects.iter().map(|o| o.area).sum::<usize>());
    }

    #[test]
    fn everything_salient_is_no_object() {
        let m = Matte::filled(50, 40, 1.0);
        assert!(select(&m, 4).objects.is_empty());
    }
}
