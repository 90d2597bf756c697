//! The Poisson solve of the gradient-domain blend (see `blend`): the Laplacian on a hole's
//! pixels, with zero (Dirichlet) values on the known pixels around it, solved by conjugate
//! gradients started from a coarser solve ("cascadic" multigrid, after Deuflhard, "Cascadic
//! conjugate gradient methods for elliptic partial differential equations", 1994).
//!
//! Plain CG from zero needs about as many iterations as the hole is wide to carry the
//! border's correction into its middle: on object-sized holes 100 iterations stopped at
//! several hundred times the tolerance. The coarse levels carry that long-range part at a
//! quarter of the cost per halving, so the full-resolution iterations are left with the
//! local detail, which CG settles quickly.

use rayon::prelude::*;

/// Coarser levels are built while a level has more cells than this.
const COARSEST_CELLS: usize = 256;
/// Chunk of the solver's vectors whose partial sums are added in a fixed order, so results
/// never depend on the number of threads.
const CHUNK: usize = 4096;

/// The unknown pixels of one level and their neighbours.
///
/// Every vector of a level carries one slot after its cells, kept at zero, that stands for
/// the known pixels (whose correction is 0) and for missing neighbours, so the Laplacian
/// needs no branches on them. Horizontal neighbours, when they are cells, are the cells
/// just before and after (cells are in scan order), so only a flag is kept for them, and
/// vertical ones as how many cells away they are: a level costs five bytes a cell on a
/// canvas up to 65 535 pixels wide, not the twenty of four links and a degree.
pub(crate) struct Grid {
    /// Per cell, the cells below and above it, or the zero slot.
    vertical: Links,
    /// Per cell: bit 0, the next cell is its right neighbour; bit 1, the previous cell is
    /// its left one; bits 4 on, its neighbours inside the canvas (the Laplacian's diagonal).
    flags: Vec<u8>,
    /// The next coarser level, and each of this level's cells' parent cell in it.
    coarser: Option<(Box<Grid>, Vec<u32>)>,
    /// Weight of the screening term on the diagonal (see [`Grid::screened`]); 0 for the
    /// plain Poisson equation.
    screen: f32,
}

/// [`Grid::vertical`]: how each cell reaches the cells below and above it.
#[derive(Clone, Debug, PartialEq)]
enum Links {
    /// How many cells after and before it they are, 0 for none (the zero slot). A cell's
    /// vertical neighbours are at most a row of pixels away, and so at most as many cells
    /// as the canvas is wide: this is the form for canvases up to `u16::MAX` wide.
    Near(Vec<[u16; 2]>),
    /// Their numbers, the zero slot's for none: wider canvases.
    Far(Vec<[u32; 2]>),
}

/// One cell's entry of [`Links`].
trait Link: Copy + Send + Sync {
    /// The cells below and above cell `i` of `n`, or `n` (the zero slot).
    fn resolve(self, i: usize, n: usize) -> [usize; 2];
}

impl Link for [u16; 2] {
    #[inline]
    fn resolve(self, i: usize, n: usize) -> [usize; 2] {
        let [down, up] = self;
        [
            if down == 0 { n } else { i + usize::from(down) },
            if up == 0 { n } else { i - usize::from(up) },
        ]
    }
}

impl Link for [u32; 2] {
    #[inline]
    fn resolve(self, _: usize, _: usize) -> [usize; 2] {
        self.map(|j| j as usize)
    }
}

impl Links {
    /// The links of the cells `0..zero` of a canvas `width` wide, whose vertical
    /// neighbours cell `i` has `pairs(i)` (cell numbers, `zero` for none).
    fn new(width: usize, zero: u32, pairs: impl Fn(usize) -> [u32; 2] + Sync) -> Self {
        let cells = (0..zero as usize).into_par_iter();
        if width <= usize::from(u16::MAX) {
            // A neighbour below is at most `width` cells on, one above at most `width` back.
            let near = |j: u32, i: usize| {
                if j == zero {
                    0
                } else {
                    (j as usize).abs_diff(i) as u16
                }
            };
            Links::Near(cells.map(|i| pairs(i).map(|j| near(j, i))).collect())
        } else {
            Links::Far(cells.map(&pairs).collect())
        }
    }

    /// The cells below and above cell `i` of `n`, or `n` (the zero slot).
    #[cfg(test)]
    fn of(&self, i: usize, n: usize) -> [usize; 2] {
        match self {
            Links::Near(v) => v[i].resolve(i, n),
            Links::Far(v) => v[i].resolve(i, n),
        }
    }
}

/// [`Grid::flags`]: the next cell is the right neighbour.
const RIGHT: u8 = 1;
/// [`Grid::flags`]: the previous cell is the left neighbour.
const LEFT: u8 = 2;

impl Grid {
    /// Number of cells (unknown pixels) of the finest level.
    pub fn cell_count(&self) -> usize {
        self.flags.len()
    }

    /// The grid of the canvas pixels `cells` (indices, strictly increasing) of a canvas
    /// `width`×`height`, with its coarser levels.
    pub fn new(cells: &[u32], width: usize, height: usize) -> Self {
        let zero = cells.len() as u32;
        let flags = cells
            .par_iter()
            .enumerate()
            .map(|(i, &p)| {
                let (x, y) = (p as usize % width, p as usize / width);
                let inside = [x + 1 < width, x > 0, y + 1 < height, y > 0];
                let degree = inside.iter().filter(|&&b| b).count() as u8;
                let mut flags = degree << 4;
                if inside[0] && cells.get(i + 1) == Some(&(p + 1)) {
                    flags |= RIGHT;
                }
                if inside[1] && i > 0 && cells[i - 1] == p - 1 {
                    flags |= LEFT;
                }
                flags
            })
            .collect();
        let vertical = Links::new(width, zero, |i| {
            let p = cells[i] as usize;
            let cell = |q: usize| cells.binary_search(&(q as u32)).map_or(zero, |j| j as u32);
            let down = if p + width < width * height {
                cell(p + width)
            } else {
                zero
            };
            let up = if p >= width { cell(p - width) } else { zero };
            [down, up]
        });
        let coarser = (cells.len() > COARSEST_CELLS && width > 1 && height > 1).then(|| {
            let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
            let parent_pixel = |p: u32| {
                let p = p as usize;
                ((p / width / 2) * cw + (p % width) / 2) as u32
            };
            let mut coarse: Vec<u32> = cells.iter().map(|&p| parent_pixel(p)).collect();
            coarse.sort_unstable();
            coarse.dedup();
            let parents = cells
                .iter()
                .map(|&p| {
                    coarse
                        .binary_search(&parent_pixel(p))
                        .map_or(0, |j| j as u32)
                })
                .collect();
            (Box::new(Grid::new(&coarse, cw, ch)), parents)
        });
        Self {
            vertical,
            flags,
            coarser,
            screen: 0.0,
        }
    }

    /// The grid of the screened Poisson equation `(A + λ) x = b` (Bhat, Zitnick, Cohen and
    /// Curless, "GradientShop", 2010): a correction the border asks for fades over about
    /// `1/√λ` pixels instead of reaching across the whole hole. Guidance that is not quite a
    /// gradient field (the votes of disagreeing patches) integrates into a drift that grows
    /// with the distance from the known pixels; over a hole hundreds of pixels deep whose
    /// far side is the picture's edge (a bar across the bottom of a poster) the plain
    /// equation let it run to colours the picture does not hold. The screen also keeps a
    /// coarse level definite where halving has merged the known pixels around a hole into
    /// its cells (a thin known margin), where the plain system has no fixed value left.
    pub fn screened(mut self, lambda: f32) -> Self {
        self.screen = lambda;
        // At twice the spacing the stencil is four times as strong against a smooth field
        // (the coarse right-hand side sums four children), and so is the screen.
        if let Some((coarse, parents)) = self.coarser.take() {
            self.coarser = Some((Box::new(coarse.screened(4.0 * lambda)), parents));
        }
        self
    }

    /// The solution `x` of `A x = b` with `A` the grid's Laplacian (per neighbour inside
    /// the canvas the cell's value, less the neighbour's where that is a cell), started
    /// from the coarser levels' solution and refined by at most `iterations` CG steps
    /// (each level gets as many), stopping once the residual is below `tolerance` times
    /// `b`'s norm.
    pub fn solve(&self, mut b: Vec<f32>, iterations: usize, tolerance: f32) -> Vec<f32> {
        let n = self.flags.len();
        let mut x = match &self.coarser {
            Some((coarse, parents)) => {
                // The coarse right-hand side sums its children's: a coarse cell stands for
                // four pixels, and the Laplacian at twice the spacing is a quarter as strong.
                // With room for the zero slot `solve` appends.
                let mut coarse_b = Vec::with_capacity(coarse.flags.len() + 1);
                coarse_b.resize(coarse.flags.len(), 0.0f32);
                for (&parent, &v) in parents.iter().zip(&b) {
                    coarse_b[parent as usize] += v;
                }
                let coarse_x = coarse.solve(coarse_b, iterations, tolerance);
                let mut x = Vec::with_capacity(n + 1);
                x.extend(parents.iter().map(|&j| coarse_x[j as usize]));
                x
            }
            None => vec![0.0; n],
        };
        // The zero slot.
        b.push(0.0);
        x.push(0.0);
        self.conjugate_gradients(b, &mut x, iterations, tolerance);
        x.truncate(n);
        x
    }

    /// `out = A v` over the cells (`v` has the zero slot after them); returns v·Av,
    /// summed in the same sweep.
    fn apply(&self, v: &[f32], out: &mut [f32]) -> f32 {
        match &self.vertical {
            Links::Near(links) => self.apply_with(links, v, out),
            Links::Far(links) => self.apply_with(links, v, out),
        }
    }

    /// [`Grid::apply`] with the vertical links `links`.
    fn apply_with<L: Link>(&self, links: &[L], v: &[f32], out: &mut [f32]) -> f32 {
        let n = self.flags.len();
        let parts: Vec<f64> = out[..n]
            .par_chunks_mut(CHUNK)
            .enumerate()
            .map(|(k, out)| {
                let mut sum = 0.0f64;
                for (j, o) in out.iter_mut().enumerate() {
                    let i = k * CHUNK + j;
                    let f = self.flags[i];
                    let right = if f & RIGHT != 0 { i + 1 } else { n };
                    let left = if f & LEFT != 0 { i - 1 } else { n };
                    let [down, up] = links[i].resolve(i, n);
                    let s = (f32::from(f >> 4) + self.screen) * v[i]
                        - v[right]
                        - v[left]
                        - v[down]
                        - v[up];
                    *o = s;
                    sum += f64::from(v[i] * s);
                }
                sum
            })
            .collect();
        parts.iter().sum::<f64>() as f32
    }

    /// CG on `A x = b` from the `x` given (both with the zero slot after the cells). `b`
    /// is taken so its memory can hold the residual: on a big hole these vectors are what
    /// the fill's peak is made of, and `b` is not read again once the residual is formed.
    fn conjugate_gradients(&self, b: Vec<f32>, x: &mut [f32], iterations: usize, tolerance: f32) {
        let n = b.len();
        let stop = dot(&b, &b) * tolerance * tolerance;
        let mut ad = vec![0.0f32; n];
        // r = b − A x; the zero slot stays zero in every vector, as A's row for it is empty.
        self.apply(x, &mut ad);
        let mut r = b;
        for (ri, a) in r.iter_mut().zip(&ad) {
            *ri -= a;
        }
        let mut d = r.clone();
        let mut rr = dot(&r, &r);
        // Three sweeps an iteration (A·d with d·Ad; the x and r updates with r·r; the new
        // direction) rather than one per vector operation: each sweep is a parallel
        // dispatch, and on these few-ten-thousand-element vectors the dispatches cost about
        // as much as the arithmetic.
        for _ in 0..iterations {
            if rr <= stop || rr == 0.0 {
                break;
            }
            let dad = self.apply(&d, &mut ad);
            let alpha = rr / dad.max(f32::MIN_POSITIVE);
            let parts: Vec<f64> = x
                .par_chunks_mut(CHUNK)
                .zip(r.par_chunks_mut(CHUNK))
                .zip(d.par_chunks(CHUNK).zip(ad.par_chunks(CHUNK)))
                .map(|((x, r), (d, ad))| {
                    let mut sum = 0.0f64;
                    for ((xi, ri), (di, ai)) in x.iter_mut().zip(r.iter_mut()).zip(d.iter().zip(ad))
                    {
                        *xi += alpha * di;
                        *ri -= alpha * ai;
                        sum += f64::from(*ri * *ri);
                    }
                    sum
                })
                .collect();
            let next = parts.iter().sum::<f64>() as f32;
            let beta = next / rr;
            rr = next;
            d.par_iter_mut()
                .zip(&r)
                .for_each(|(di, ri)| *di = ri + beta * *di);
        }
    }
}

/// Σ aᵢbᵢ, in a fixed order of fixed chunks.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let parts: Vec<f64> = a
        .par_chunks(CHUNK)
        .zip(b.par_chunks(CHUNK))
        .map(|(a, b)| a.iter().zip(b).map(|(x, y)| f64::from(x * y)).sum())
        .collect();
    parts.iter().sum::<f64>() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The residual ‖b − A x‖ relative to ‖b‖.
    fn residual(grid: &Grid, b: &[f32], x: &[f32]) -> f32 {
        let mut ax = vec![0.0; b.len() + 1];
        let mut x = x.to_vec();
        x.push(0.0);
        grid.apply(&x, &mut ax);
        let r: Vec<f32> = b.iter().zip(&ax).map(|(b, a)| b - a).collect();
        (dot(&r, &r) / dot(b, b)).sqrt()
    }

    /// A wide hole whose border asks for a correction that must reach its middle: the
    /// coarse start gets there in far fewer full-resolution iterations than CG from zero.
    #[test]
    fn the_coarse_start_converges_where_plain_cg_stalls() {
        let (w, h) = (200usize, 160usize);
        let cells: Vec<u32> = (0..w * h)
            .filter(|&i| (20..180).contains(&(i % w)) && (20..140).contains(&(i / w)))
            .map(|i| i as u32)
            .collect();
        // A smooth load, largest at the hole's left border.
        let b: Vec<f32> = cells
            .iter()
            .map(|&p| if p as usize % w == 20 { 1.0 } else { 0.001 })
            .collect();
        let grid = Grid::new(&cells, w, h);
        assert!(grid.coarser.is_some());
        let cascade = grid.solve(b.clone(), 40, 1e-6);
        let single = Grid {
            vertical: grid.vertical.clone(),
            flags: grid.flags.clone(),
            coarser: None,
            screen: 0.0,
        };
        let plain = single.solve(b.clone(), 40, 1e-6);
        let (rc, rp) = (residual(&grid, &b, &cascade), residual(&grid, &b, &plain));
        assert!(rc < 0.6 * rp, "cascade {rc} vs plain {rp}");
    }

    /// A strip held at zero only at its left end, under a load everywhere (guidance that is
    /// no gradient field): the plain equation's solution grows with the square of the
    /// distance from the held end; the screened one never exceeds load / λ.
    #[test]
    fn screening_bounds_the_drift_far_from_the_border() {
        let (w, h) = (300usize, 4usize);
        // Held by a band of 16 known columns, which its coarser levels keep.
        let cells: Vec<u32> = (0..w * h)
            .filter(|&i| i % w >= 16)
            .map(|i| i as u32)
            .collect();
        let load = 0.01f32;
        let b = vec![load; cells.len()];
        let lambda = 1.0 / (64.0f32 * 64.0);
        let plain = Grid::new(&cells, w, h).solve(b.clone(), 400, 1e-6);
        let screened = Grid::new(&cells, w, h)
            .screened(lambda)
            .solve(b.clone(), 400, 1e-6);
        let max = |x: &[f32]| x.iter().copied().fold(f32::MIN, f32::max);
        let bound = load / lambda;
        assert!(
            max(&screened) <= 1.01 * bound,
            "{} > {bound}",
            max(&screened)
        );
        assert!(max(&plain) > 4.0 * bound, "{} <= 4 × {bound}", max(&plain));
        // Far from the held end the screened solution settles at that bound.
        assert!(
            max(&screened) >= 0.9 * bound,
            "{} < 0.9 × {bound}",
            max(&screened)
        );
    }

    #[test]
    fn links_name_neighbouring_cells_and_degrees_count_the_canvas() {
        // A 3×2 canvas whose top row is the hole, and a cell in the bottom row's middle:
        // slot 4 is the zero slot.
        let grid = Grid::new(&[0, 1, 2, 4], 3, 2);
        let vertical: Vec<[usize; 2]> = (0..4).map(|i| grid.vertical.of(i, 4)).collect();
        assert_eq!(vertical, [[4, 4], [3, 4], [4, 4], [4, 1]]);
        assert_eq!(grid.flags, [0x21, 0x33, 0x22, 0x30]);
        // The exact solution of a small system.
        let b = vec![1.0, 0.0, 1.0, 0.5];
        let x = grid.solve(b.clone(), 10, 1e-7);
        let mut ax = vec![0.0; 5];
        let mut xe = x.clone();
        xe.push(0.0);
        grid.apply(&xe, &mut ax);
        for (a, b) in ax.iter().zip(b) {
            assert!((a - b).abs() < 1e-5, "{ax:?}");
        }
    }
}
