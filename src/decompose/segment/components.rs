//! Connected components of a mask (8-connected), by the classic two-pass union-find
//! labelling: one scan assigns provisional labels and records which ones touch, a second scan
//! replaces each by its set's representative.

use image::GrayImage;

use crate::model::BBox;

/// One connected set of mask pixels.
#[derive(Clone, Debug, PartialEq)]
pub struct Component {
    /// The component's label in [`Labels::map`] (1-based; 0 is "not in the mask").
    pub label: u32,
    pub bbox: BBox,
    /// Number of pixels.
    pub area: usize,
    /// The pixels as linear indices `y · width + x`, in scan order.
    pub pixels: Vec<u32>,
}

/// A label per pixel and the components they name.
#[derive(Clone, Debug)]
pub struct Labels {
    pub width: u32,
    pub height: u32,
    /// 0 outside the mask, else the 1-based label of the pixel's component.
    pub map: Vec<u32>,
    /// Components in scan order of their first pixel; `components[k].label == k + 1`.
    pub components: Vec<Component>,
}

/// The 4-neighbours (left, right, up, down) of pixel `i` of a `w`×`h` grid, as linear
/// indices; the grid's edge has fewer.
pub fn four_neighbours(i: usize, w: usize, h: usize) -> impl Iterator<Item = usize> {
    let (x, y) = (i % w, i / w);
    [
        (x > 0).then(|| i - 1),
        (x + 1 < w).then(|| i + 1),
        (y > 0).then(|| i - w),
        (y + 1 < h).then(|| i + w),
    ]
    .into_iter()
    .flatten()
}

/// The 8-connected components of the pixels of `mask` brighter than `threshold`, in scan
/// order of their first (top-left-most) pixel.
pub fn components(mask: &GrayImage, threshold: u8) -> Vec<Component> {
    label(mask, threshold).components
}

/// Labels the 8-connected components of the pixels of `mask` brighter than `threshold`.
pub fn label(mask: &GrayImage, threshold: u8) -> Labels {
    let (width, height) = mask.dimensions();
    let (w, h) = (width as usize, height as usize);
    let raw = mask.as_raw();
    let inside = |i: usize| raw[i] > threshold;
    let mut provisional = vec![0u32; w * h];
    // parent[k] for provisional label k (index 0 unused).
    let mut parent: Vec<u32> = vec![0];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if !inside(i) {
                continue;
            }
            // Already-visited 8-neighbours: west, north-west, north, north-east.
            let mut neighbours = [0u32; 4];
            if x > 0 {
                neighbours[0] = provisional[i - 1];
            }
            if y > 0 {
                neighbours[2] = provisional[i - w];
                if x > 0 {
                    neighbours[1] = provisional[i - w - 1];
                }
                if x + 1 < w {
                    neighbours[3] = provisional[i - w + 1];
                }
            }
            let mut own = 0u32;
            for &n in neighbours.iter().filter(|&&n| n != 0) {
                if own == 0 {
                    own = find(&mut parent, n);
                } else {
                    own = union(&mut parent, own, n);
                }
            }
            if own == 0 {
                own = parent.len() as u32;
                parent.push(own);
            }
            provisional[i] = own;
        }
    }

    // Final labels numbered by first appearance, so component order is scan order.
    let mut final_of = vec![0u32; parent.len()];
    let mut components: Vec<Component> = Vec::new();
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let p = provisional[i];
            if p == 0 {
                continue;
            }
            let root = find(&mut parent, p) as usize;
            if final_of[root] == 0 {
                components.push(Component {
                    label: components.len() as u32 + 1,
                    bbox: BBox::pixel(x as u32, y as u32),
                    area: 0,
                    pixels: Vec::new(),
                });
                final_of[root] = components.len() as u32;
            }
            let label = final_of[root];
            let c = &mut components[label as usize - 1];
            c.bbox.include(x as u32, y as u32);
            c.area += 1;
            c.pixels.push(i as u32);
            provisional[i] = label;
        }
    }
    Labels {
        width,
        height,
        map: provisional,
        components,
    }
}

/// Groups the items `0..n` into the sets that `joined` links, directly or through other
/// items: each set ascending, the sets in order of their first item. The union-find of
/// [`label`], for things other than pixels (text lines, glyph boxes).
pub fn clusters(n: usize, joined: impl Fn(usize, usize) -> bool) -> Vec<Vec<usize>> {
    let mut parent: Vec<u32> = (0..n as u32).collect();
    for i in 0..n {
        for j in i + 1..n {
            if joined(i, j) {
                union(&mut parent, i as u32, j as u32);
            }
        }
    }
    let mut set_of_root = vec![usize::MAX; n];
    let mut sets: Vec<Vec<usize>> = Vec::new();
    for i in 0..n {
        let root = find(&mut parent, i as u32) as usize;
        if set_of_root[root] == usize::MAX {
            set_of_root[root] = sets.len();
            sets.push(Vec::new());
        }
        sets[set_of_root[root]].push(i);
    }
    sets
}

/// Representative of `k`'s set, halving the path on the way.
fn find(parent: &mut [u32], mut k: u32) -> u32 {
    while parent[k as usize] != k {
        let grand = parent[parent[k as usize] as usize];
        parent[k as usize] = grand;
        k = grand;
    }
    k
}

/// Joins the sets of `a` and `b`; the smaller representative wins, which keeps labels stable.
fn union(parent: &mut [u32], a: u32, b: u32) -> u32 {
    let (ra, rb) = (find(parent, a), find(parent, b));
    let (keep, drop) = if ra <= rb { (ra, rb) } else { (rb, ra) };
    parent[drop as usize] = keep;
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters_follow_links_through_other_items() {
        // 0–2 and 2–4 link 0, 2 and 4; 1 and 3 stay alone.
        let sets = clusters(5, |a, b| matches!((a, b), (0, 2) | (2, 4)));
        assert_eq!(sets, vec![vec![0, 2, 4], vec![1], vec![3]]);
        assert!(clusters(0, |_, _| true).is_empty());
    }
    use image::Luma;

    fn mask_from(rows: &[&str]) -> GrayImage {
        let h = rows.len() as u32;
        let w = rows[0].len() as u32;
        GrayImage::from_fn(w, h, |x, y| {
            Luma([if rows[y as usize].as_bytes()[x as usize] == b'#' {
                255
            } else {
                0
            }])
        })
    }

    #[test]
    fn diagonal_touch_connects_and_u_shape_merges() {
        let m = mask_from(&[
            "#...#.#", //
            ".#..#.#", //
            "....###", //
            "##.....", //
        ]);
        let c = components(&m, 127);
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].area, 2); // the diagonal pair
        assert_eq!(c[1].area, 7); // the U, joined only at its bottom
        assert_eq!(c[1].bbox, BBox::new(4, 0, 7, 3));
        assert_eq!(c[2].pixels, vec![21, 22]);
    }

    #[test]
    fn labels_map_matches_components() {
        let m = mask_from(&["#.#", "...", "#.#"]);
        let l = label(&m, 127);
        assert_eq!(l.components.len(), 4);
        assert_eq!(l.map, vec![1, 0, 2, 0, 0, 0, 3, 0, 4]);
    }

    #[test]
    fn empty_and_full_masks() {
        assert!(components(&GrayImage::new(5, 4), 0).is_empty());
        let full = GrayImage::from_pixel(6, 3, Luma([200]));
        let c = components(&full, 127);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].area, 18);
        assert!(components(&full, 200).is_empty());
        assert!(components(&GrayImage::new(0, 0), 0).is_empty());
    }
}
