//! Square-window dilation and erosion of bit planes, and hole filling: one implementation for every margin
//! the methods and the fill put around objects (holes grown past anti-aliased edges, art
//! grown by its shadow's reach).
//!
//! Separable: a square window of side `2r + 1` is a row window followed by a column window,
//! and each is a running count, so the cost does not grow with `r`.

use rayon::prelude::*;

use super::components::four_neighbours;

/// `bits` (a `w`×`h` row-major plane) grown by `r` pixels in every direction: a pixel is
/// set when any pixel of the `(2r+1)²` square around it is.
pub fn dilate(bits: &[bool], w: usize, h: usize, r: usize) -> Vec<bool> {
    if w == 0 || h == 0 || r == 0 {
        return bits.to_vec();
    }
    let mut rows = vec![false; w * h];
    rows.par_chunks_mut(w)
        .zip(bits.par_chunks(w))
        .for_each(|(dst, src)| dilate_line(src, dst, r));
    let mut out = vec![false; w * h];
    let mut column = vec![false; h];
    let mut grown = vec![false; h];
    for x in 0..w {
        for y in 0..h {
            column[y] = rows[y * w + x];
        }
        dilate_line(&column, &mut grown, r);
        for y in 0..h {
            out[y * w + x] = grown[y];
        }
    }
    out
}

/// `bits` shrunk by `r` pixels: a pixel stays set when the whole square around it is set
/// (outside the plane counts as set, so a shape touching the border keeps its edge there).
pub fn erode(bits: &[bool], w: usize, h: usize, r: usize) -> Vec<bool> {
    let inverse: Vec<bool> = bits.iter().map(|&b| !b).collect();
    dilate(&inverse, w, h, r).into_iter().map(|b| !b).collect()
}

/// `mask` with every unset region that does not reach the picture's border set.
pub fn fill_holes(mask: &[bool], w: usize, h: usize) -> Vec<bool> {
    let open: Vec<bool> = mask.iter().map(|&m| !m).collect();
    let border = |i: usize| {
        let (x, y) = (i % w, i / w);
        x == 0 || y == 0 || x + 1 == w || y + 1 == h
    };
    flood(&open, border, w, h).into_iter().map(|o| !o).collect()
}

/// The `open` pixels of a `w`×`h` grid connected (4-neighbours, through `open` pixels) to an
/// `open` pixel where `start` holds.
pub fn flood(open: &[bool], start: impl Fn(usize) -> bool, w: usize, h: usize) -> Vec<bool> {
    let mut reached = vec![false; w * h];
    let mut stack: Vec<usize> = (0..w * h).filter(|&i| open[i] && start(i)).collect();
    for &i in &stack {
        reached[i] = true;
    }
    while let Some(i) = stack.pop() {
        for j in four_neighbours(i, w, h) {
            if open[j] && !reached[j] {
                reached[j] = true;
                stack.push(j);
            }
        }
    }
    reached
}

/// `dst[i]` = any of `src[i−r..=i+r]`, by prefix counts.
fn dilate_line(src: &[bool], dst: &mut [bool], r: usize) {
    let n = src.len();
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0usize);
    for &s in src {
        let last = prefix.last().copied().unwrap_or(0);
        prefix.push(last + usize::from(s));
    }
    for (i, d) in dst.iter_mut().enumerate() {
        *d = prefix[(i + r + 1).min(n)] > prefix[i.saturating_sub(r)];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(w: usize, h: usize, x0: usize, y0: usize, side: usize) -> Vec<bool> {
        (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                (x0..x0 + side).contains(&x) && (y0..y0 + side).contains(&y)
            })
            .collect()
    }

    #[test]
    fn dilate_and_erode_move_a_square_edge_by_the_radius() {
        let (w, h) = (20, 20);
        let sq = square(w, h, 8, 8, 4);
        assert_eq!(dilate(&sq, w, h, 2), square(w, h, 6, 6, 8));
        assert_eq!(erode(&square(w, h, 6, 6, 8), w, h, 2), sq);
        assert_eq!(dilate(&sq, w, h, 0), sq);
    }

    #[test]
    fn fill_holes_fills_a_ring_but_not_the_outside() {
        let (w, h) = (12, 12);
        let ring: Vec<bool> = square(w, h, 2, 2, 8)
            .iter()
            .zip(square(w, h, 4, 4, 4))
            .map(|(&a, b)| a && !b)
            .collect();
        assert_eq!(fill_holes(&ring, w, h), square(w, h, 2, 2, 8));
    }

    #[test]
    fn a_shape_on_the_border_keeps_its_edge_when_eroded() {
        let (w, h) = (10, 10);
        let left = square(w, h, 0, 0, 5);
        assert_eq!(erode(&left, w, h, 1), square(w, h, 0, 0, 4));
    }
}
