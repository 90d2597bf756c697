//! Merging superpixels into a few regions: agglomerative clustering, always joining the two
//! regions that are least worth keeping apart.
//!
//! Two regions are alike when either
//!
//! * the edge between them is weak: the mean Lab difference across their shared boundary,
//!   measured over a 4-pixel span so blurred edges count too (soft cloud edges and gradients
//!   merge, sharp object outlines stay), or
//! * they *look* alike: close mean colour and close texture, the texture being the pooled
//!   standard deviation inside their superpixels (two pieces of the same stripy fabric have
//!   strong edges between them but the same look).
//!
//! While there are more than three times the wanted regions, only neighbours merge (region
//! adjacency graph). After that any two regions may join when they look alike, at a small
//! premium over neighbours: letters of one text or several leaves become one layer. Regions
//! smaller than about 0.2 % of the picture are discounted so specks go first. Finally, regions
//! that are indistinguishable ([`SAME_LOOK`]) merge even below the requested count.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};

use super::lab::distance2;
use super::slic::{NO_LABEL, Superpixels};

/// Below this colour and texture difference (ΔE) regions merge even when the requested
/// count is reached: they would be indistinguishable layers.
const SAME_LOOK: f64 = 3.0;
/// Regions smaller than this share of the picture are merged more eagerly.
const SMALL_SHARE: f64 = 0.002;
/// Extra cost (ΔE) of joining regions that do not touch.
const APART_PREMIUM: f64 = 4.0;
/// Weight of the texture difference against the colour difference in the look.
const TEXTURE_WEIGHT: f64 = 1.0;

/// Statistics of one region while merging.
#[derive(Clone, Debug, Default)]
struct Region {
    n: f64,
    sum: [f64; 3],
    /// Σ over member superpixels of (pixels · internal variance).
    within: f64,
    /// Neighbour → (Σ contrast, number of pixel pairs) along the shared boundary.
    boundary: BTreeMap<u32, (f64, f64)>,
    version: u32,
    alive: bool,
}

impl Region {
    fn mean(&self) -> [f64; 3] {
        [
            self.sum[0] / self.n,
            self.sum[1] / self.n,
            self.sum[2] / self.n,
        ]
    }

    fn texture(&self) -> f64 {
        (self.within / self.n).max(0.0).sqrt()
    }
}

/// A candidate merge in the queue; cheapest first, then by ids for a fixed order.
struct Candidate {
    cost: f64,
    a: u32,
    b: u32,
    versions: (u32, u32),
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .cost
            .total_cmp(&self.cost)
            .then_with(|| (other.a, other.b).cmp(&(self.a, self.b)))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The merging state.
struct Merger {
    regions: Vec<Region>,
    parent: Vec<u32>,
    alive: usize,
    small: f64,
}

/// Groups the superpixels of `sp` (over Lab pixels `lab`) into at most `max_regions`
/// regions. Returns the region of each superpixel (`0..count`, numbered by first appearance
/// in scan order) and `count`.
pub fn merge_superpixels(
    sp: &Superpixels,
    lab: &[[f32; 3]],
    max_regions: usize,
) -> (Vec<u32>, usize) {
    let regions = region_stats(sp, lab);
    let total: f64 = regions.iter().map(|r| r.n).sum();
    let alive = regions.iter().filter(|r| r.alive).count();
    let parent = (0..regions.len() as u32).collect();
    let mut m = Merger {
        regions,
        parent,
        alive,
        small: (total * SMALL_SHARE).max(1.0),
    };
    let max_regions = max_regions.max(1);
    m.run(max_regions * 3, max_regions, false);
    m.run(max_regions, max_regions, true);
    m.numbering(sp)
}

impl Merger {
    /// Merges down to `target` regions; `stop` is the requested count below which only
    /// indistinguishable regions merge. With `anywhere`, non-neighbours are candidates too.
    fn run(&mut self, target: usize, stop: usize, anywhere: bool) {
        let mut heap = BinaryHeap::new();
        let live: Vec<u32> = (0..self.regions.len() as u32)
            .filter(|&r| self.regions[r as usize].alive)
            .collect();
        for (i, &a) in live.iter().enumerate() {
            if anywhere {
                for &b in &live[i + 1..] {
                    heap.push(self.candidate(a, b));
                }
            } else {
                for &b in self.regions[a as usize].boundary.keys().filter(|&&b| b > a) {
                    heap.push(self.candidate(a, b));
                }
            }
        }
        while let Some(c) = heap.pop() {
            let (a, b) = (c.a as usize, c.b as usize);
            let (ra, rb) = (&self.regions[a], &self.regions[b]);
            if !ra.alive || !rb.alive || (ra.version, rb.version) != c.versions {
                continue;
            }
            if self.alive <= target {
                // Enough regions. Neighbour-only merging is done; the global phase goes on
                // merging only pairs that are indistinguishable.
                if !anywhere {
                    break;
                }
                if self.alive > stop || !look_alike(ra, rb) {
                    continue;
                }
            }
            self.absorb(a, b);
            let others: Vec<u32> = if anywhere {
                (0..self.regions.len() as u32)
                    .filter(|&r| r as usize != a && self.regions[r as usize].alive)
                    .collect()
            } else {
                self.regions[a].boundary.keys().copied().collect()
            };
            for n in others {
                let (x, y) = if (a as u32) < n {
                    (a as u32, n)
                } else {
                    (n, a as u32)
                };
                heap.push(self.candidate(x, y));
            }
        }
    }

    fn candidate(&self, a: u32, b: u32) -> Candidate {
        let (ra, rb) = (&self.regions[a as usize], &self.regions[b as usize]);
        let (ma, mb) = (ra.mean(), rb.mean());
        let colour = (0..3).map(|c| (ma[c] - mb[c]).powi(2)).sum::<f64>().sqrt();
        let look = colour + TEXTURE_WEIGHT * (ra.texture() - rb.texture()).abs();
        let base = match ra.boundary.get(&b) {
            Some(&(sum, count)) => (sum / count).min(look),
            None => look + APART_PREMIUM,
        };
        let size = (ra.n.min(rb.n) / self.small).min(1.0).sqrt();
        Candidate {
            cost: base * size,
            a,
            b,
            versions: (ra.version, rb.version),
        }
    }

    /// Merges region `b` into region `a`.
    fn absorb(&mut self, a: usize, b: usize) {
        let rb = std::mem::take(&mut self.regions[b]);
        for (&n, &(sum, count)) in &rb.boundary {
            let neighbour = &mut self.regions[n as usize].boundary;
            neighbour.remove(&(b as u32));
            if n as usize != a {
                let e = neighbour.entry(a as u32).or_insert((0.0, 0.0));
                e.0 += sum;
                e.1 += count;
            }
        }
        let ra = &mut self.regions[a];
        ra.n += rb.n;
        for c in 0..3 {
            ra.sum[c] += rb.sum[c];
        }
        ra.within += rb.within;
        for (&n, &(sum, count)) in rb.boundary.iter().filter(|&(&n, _)| n as usize != a) {
            let e = ra.boundary.entry(n).or_insert((0.0, 0.0));
            e.0 += sum;
            e.1 += count;
        }
        ra.version += 1;
        self.parent[b] = a as u32;
        self.alive -= 1;
    }

    /// Each superpixel's surviving region, numbered by first appearance in scan order.
    fn numbering(&self, sp: &Superpixels) -> (Vec<u32>, usize) {
        let root = |mut k: u32| {
            while self.parent[k as usize] != k {
                k = self.parent[k as usize];
            }
            k
        };
        let mut number = vec![u32::MAX; self.regions.len()];
        let mut count = 0u32;
        let mut mapping = vec![0u32; sp.count];
        for &l in sp.labels.iter().filter(|&&l| l != NO_LABEL) {
            let r = root(l) as usize;
            if number[r] == u32::MAX {
                number[r] = count;
                count += 1;
            }
            mapping[l as usize] = number[r];
        }
        (mapping, count as usize)
    }
}

/// Per-superpixel statistics and boundary contrasts.
fn region_stats(sp: &Superpixels, lab: &[[f32; 3]]) -> Vec<Region> {
    let mut regions = vec![Region::default(); sp.count];
    let mut sum_sq = vec![[0.0f64; 3]; sp.count];
    let (w, h) = (sp.width, sp.height);
    for (i, &l) in sp.labels.iter().enumerate() {
        if l == NO_LABEL {
            continue;
        }
        let r = &mut regions[l as usize];
        r.n += 1.0;
        for c in 0..3 {
            let v = f64::from(lab[i][c]);
            r.sum[c] += v;
            sum_sq[l as usize][c] += v * v;
        }
        let (x, y) = (i % w, i / w);
        // Right and down neighbours; contrast compares the pixels one step further out on
        // each side, so an edge blurred over a few pixels still shows its full step.
        let pairs = [
            (x + 1 < w).then(|| {
                (
                    i + 1,
                    x.saturating_sub(1) + y * w,
                    (x + 2).min(w - 1) + y * w,
                )
            }),
            (y + 1 < h).then(|| {
                (
                    i + w,
                    x + y.saturating_sub(1) * w,
                    x + (y + 2).min(h - 1) * w,
                )
            }),
        ];
        for (n, before, after) in pairs.into_iter().flatten() {
            let m = sp.labels[n];
            if m == l || m == NO_LABEL {
                continue;
            }
            let contrast = f64::from(distance2(lab[before], lab[after])).sqrt();
            for (from, to) in [(l, m), (m, l)] {
                let e = regions[from as usize]
                    .boundary
                    .entry(to)
                    .or_insert((0.0, 0.0));
                e.0 += contrast;
                e.1 += 1.0;
            }
        }
    }
    for (r, sq) in regions.iter_mut().zip(&sum_sq) {
        if r.n > 0.0 {
            let m = r.mean();
            let variance: f64 = (0..3).map(|c| (sq[c] / r.n - m[c] * m[c]).max(0.0)).sum();
            r.within = variance * r.n;
            r.alive = true;
        }
    }
    regions
}

fn look_alike(a: &Region, b: &Region) -> bool {
    let (ma, mb) = (a.mean(), b.mean());
    let colour: f64 = (0..3).map(|c| (ma[c] - mb[c]).powi(2)).sum();
    colour.sqrt() < SAME_LOOK && (a.texture() - b.texture()).abs() < SAME_LOOK
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.
mod tests {
    use super::*;

    /// Superpixels as vertical strips 4 pixels wide over a `w`×`h` image.
    fn strips(w: usize, h: usize) -> Superpixels {
        Superpixels {
            width: w,
            height: h,
            labels: (0..w * h).map(|i| (i % w / 4) as u32).collect(),
            count: w.div_ceil(4),
            step: 4,
        }
    }

    #[test]
    fn gradient_merges_before_a_sharp_edge() {
        let (w, h) = (40usize, 10usize);
        let sp = strips(w, h);
        // A smooth ramp over strips 0..6 (large total change), then a sharp step.
        let lab: Vec<[f32; 3]> = (0..w * h)
            .map(|i| {
                let x = i % w;
                if x < 24 {
                    [30.0 + x as f32 * 1.5, 0.0, 0.0]
                } else {
                    [50.0, 60.0, 40.0]
                }
            })
            .collect();
        let (mapping, count) = merge_superpixels(&sp, &lab, 2);
        assert_eq!(count, 2);
        assert!(mapping[..6].iter().all(|&r| r == mapping[0]));
        assert!(mapping[6..].iter().all(|&r| r == mapping[6]));
        assert_ne!(mapping[0], mapping[6]);
    }

    #[test]
    fn look_alike_regions_group_even_apart() {
        // Strips: A B A B C, A and C similar-looking ... A,A apart but identical.
        let (w, h) = (20usize, 6usize);
        let sp = strips(w, h);
        let lab: Vec<[f32; 3]> = (0..w * h)
            .map(|i| match i % w / 4 {
                0 | 2 => [80.0, 0.0, 80.0],
                4 => [20.0, 20.0, -40.0],
                _ => [40.0, -50.0, 0.0],
            })
            .collect();
        let (mapping, count) = merge_superpixels(&sp, &lab, 3);
        assert_eq!(count, 3);
        assert_eq!(mapping[0], mapping[2]);
        assert_eq!(mapping[1], mapping[3]);
    }

    #[test]
    fn identical_regions_merge_below_the_requested_count() {
        let sp = strips(16, 4);
        let lab = vec![[50.0, 1.0, 1.0]; 64];
        let (mapping, count) = merge_superpixels(&sp, &lab, 4);
        assert_eq!(count, 1);
        assert_eq!(mapping, vec![0; 4]);
    }
}
