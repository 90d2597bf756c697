//! Mixing weights of the distinct colours, batched on candle tensors.
//!
//! For a simplex with vertices `v₀ … v_k` (palette colours), the affine coordinates of a
//! colour `x` are the least-squares solution of `x ≈ v₀ + Σⱼ cⱼ (vⱼ − v₀)`:
//!
//! ```text
//! c = P (x − v₀),   P = (VᵀV)⁻¹ Vᵀ,   V = [v₁−v₀ … v_k−v₀],   c₀ = 1 − Σⱼ cⱼ
//! residual r = (I − V P)(x − v₀)
//! ```
//!
//! `P` and `I − VP` of every simplex are stacked into two `3 × (E·k)` and `3 × (E·3)`
//! matrices, so one matmul gives the coordinates of a whole chunk of colours in all `E`
//! simplices at once. *Pass 1* keeps, per colour, the simplex maximising its smallest
//! coordinate: when that is ≥ 0 the colour is inside, and its barycentric coordinates are
//! its weights (non-negative, summing to 1, reconstructing `x` exactly). *Pass 2* handles
//! the colours outside the palette polytope: among the polytope's boundary faces (triangles,
//! edges, vertices) it takes the nearest one whose unclamped projection is valid — that is
//! the Euclidean projection of `x` onto the polytope, the solution of
//! `min ‖Σᵢ wᵢ Cᵢ − x‖²` over the simplex `{w ≥ 0, Σ w = 1}`. Everything runs on whichever
//! candle [`Device`] the tensors live on.

use candle_core::{self as candle, DType, Device, Tensor};

use super::geom::V3;
use super::tessellate::Complex;
use crate::decompose::DecomposeError;
use crate::decompose::progress::ScopedProgress;
use crate::model::pixels;

/// A colour whose best smallest coordinate is below this is outside the polytope.
const OUTSIDE: f64 = -1e-5;
/// Slack for a face's projection to count as inside the face in pass 2.
const VALID: f64 = -1e-6;
/// Tensor elements per chunk (bounds memory: about 4 bytes each, a few buffers).
const CHUNK_ELEMENTS: usize = 1 << 22;

fn compute(e: candle::Error) -> DecomposeError {
    DecomposeError::compute("computing the palette weights", &e)
}

/// Simplices (or faces) with the same number of vertices `k`, as tensors.
struct Group {
    k: usize,
    len: usize,
    /// `[3, len·(k−1)]` and `[len·(k−1)]`: coordinates `c₁…c_k` = `x·coord_w + coord_b`.
    coords: Option<(Tensor, Tensor)>,
    /// `[3, len·3]` and `[len·3]`: residual `x − projection`.
    residual: (Tensor, Tensor),
    /// `[len, k]` palette indices.
    vertices: Tensor,
}

impl Group {
    /// Tensors for `elements` over `complex`'s points (taken in `0..=1` units); flat
    /// elements are skipped. `None` when nothing is left.
    fn new(
        complex: &Complex,
        elements: &[Vec<usize>],
        device: &Device,
    ) -> candle::Result<Option<Self>> {
        let unit = |p: V3| p.map(|x| x / 255.0);
        let k = elements.first().map_or(0, Vec::len);
        let (mut cw, mut cb, mut rw, mut rb, mut verts) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for s in elements {
            let Some(rows) = complex.coordinates_basis(s) else {
                continue;
            };
            let origin = unit(complex.points[s[0]]);
            // Coordinates were computed in 0..=255 units: rescale the rows.
            let rows: Vec<V3> = rows.iter().map(|r| r.map(|x| x * 255.0)).collect();
            let cols: Vec<V3> = s[1..]
                .iter()
                .map(|&v| super::geom::sub(unit(complex.points[v]), origin))
                .collect();
            for r in &rows {
                cw.push(*r);
                cb.push(-super::geom::dot(*r, origin));
            }
            // R = I − Σⱼ colⱼ ⊗ rowⱼ.
            let mut m = [[0.0f64; 3]; 3];
            for (a, row) in m.iter_mut().enumerate() {
                row[a] = 1.0;
                for (col, r) in cols.iter().zip(&rows) {
                    for (b, v) in row.iter_mut().enumerate() {
                        *v -= col[a] * r[b];
                    }
                }
            }
            for row in &m {
                rw.push(*row);
                rb.push(-super::geom::dot(*row, origin));
            }
            verts.extend(s.iter().map(|&v| v as u32));
        }
        let len = verts.len() / k.max(1);
        if len == 0 {
            return Ok(None);
        }
        // Stack as column blocks: x (1×3) · W (3×cols).
        let columns = |rows: &[V3]| -> candle::Result<Tensor> {
            let flat: Vec<f32> = (0..3)
                .flat_map(|b| rows.iter().map(move |r| r[b] as f32))
                .collect();
            Tensor::from_vec(flat, (3, rows.len()), device)
        };
        let bias = |v: &[f64]| {
            Tensor::from_vec(
                v.iter().map(|&x| x as f32).collect::<Vec<_>>(),
                v.len(),
                device,
            )
        };
        let coords = if k > 1 {
            Some((columns(&cw)?, bias(&cb)?))
        } else {
            None
        };
        Ok(Some(Self {
            k,
            len,
            coords,
            residual: (columns(&rw)?, bias(&rb)?),
            vertices: Tensor::from_vec(verts, (len, k), device)?,
        }))
    }

    /// Barycentric coordinates `[c, len, k]` of the colours `x` (`[c, 3]`) and their minimum.
    fn locate(&self, x: &Tensor) -> candle::Result<(Tensor, Tensor)> {
        let c = x.dim(0)?;
        let Some((w, b)) = &self.coords else {
            let full = Tensor::ones((c, self.len, 1), DType::F32, x.device())?;
            let min = full.squeeze(2)?;
            return Ok((full, min));
        };
        let tail = x
            .matmul(w)?
            .broadcast_add(b)?
            .reshape((c, self.len, self.k - 1))?;
        let head = tail.sum_keepdim(2)?.affine(-1.0, 1.0)?;
        let full = Tensor::cat(&[&head, &tail], 2)?;
        let min = full.min(2)?;
        Ok((full, min))
    }

    /// Squared distance `[c, len]` from each colour to its projection on each element's span.
    fn distance2(&self, x: &Tensor) -> candle::Result<Tensor> {
        let (w, b) = &self.residual;
        x.matmul(w)?
            .broadcast_add(b)?
            .reshape((x.dim(0)?, self.len, 3))?
            .sqr()?
            .sum(2)
    }

    /// Weights `[c, n]`: the clamped, renormalised coordinates in element `pick[i]`.
    fn weights(&self, full: &Tensor, pick: &Tensor, n: usize) -> candle::Result<Tensor> {
        let c = pick.dim(0)?;
        let index = pick
            .reshape((c, 1, 1))?
            .broadcast_as((c, 1, self.k))?
            .contiguous()?;
        let chosen = full.gather(&index, 1)?.squeeze(1)?.relu()?;
        let total = chosen.sum_keepdim(1)?.maximum(1e-12f32)?;
        let chosen = chosen.broadcast_div(&total)?;
        let vertices = self.vertices.index_select(pick, 0)?;
        Tensor::zeros((c, n), DType::F32, full.device())?.scatter_add(&vertices, &chosen, 1)
    }

    fn chunk_rows(&self) -> usize {
        (CHUNK_ELEMENTS / (self.len * (self.k + 4))).clamp(256, 1 << 16)
    }
}

/// Weights (`colours.len() × n`, row-major) of every colour over the complex's palette.
pub fn solve(
    complex: &Complex,
    colours: &[[u8; 3]],
    device: &Device,
    progress: &ScopedProgress<'_>,
) -> Result<Vec<f32>, DecomposeError> {
    let n = complex.points.len();
    let top = Group::new(complex, &complex.simplices, device).map_err(compute)?;
    let Some(top) = top.filter(|_| complex.dim > 0) else {
        // A single palette point (or nothing to tile): everything is the centre's colour.
        let mut w = vec![0.0; colours.len() * n];
        for row in w.chunks_exact_mut(n) {
            row[complex.centre] = 1.0;
        }
        return Ok(w);
    };
    let mut boundary = Vec::new();
    for elements in complex.boundary() {
        if let Some(g) = Group::new(complex, &elements, device).map_err(compute)? {
            boundary.push(g);
        }
    }
    let rows = top.chunk_rows();
    let mut out = Vec::with_capacity(colours.len() * n);
    for (index, chunk) in colours.chunks(rows).enumerate() {
        progress.check()?;
        progress.set(
            (index * rows) as f32 / colours.len() as f32,
            "Solving mixing weights",
        );
        let mut w = solve_chunk(&top, &boundary, chunk, n, device).map_err(compute)?;
        out.append(&mut w);
    }
    Ok(out)
}

fn solve_chunk(
    top: &Group,
    boundary: &[Group],
    chunk: &[[u8; 3]],
    n: usize,
    device: &Device,
) -> candle::Result<Vec<f32>> {
    let c = chunk.len();
    let flat: Vec<f32> = chunk.iter().flat_map(|p| p.map(pixels::unit)).collect();
    let x = Tensor::from_vec(flat, (c, 3), device)?;
    let (full, min) = top.locate(&x)?;
    let pick = min.argmax(1)?;
    let best = min.max(1)?.to_vec1::<f32>()?;
    let mut w = top
        .weights(&full, &pick, n)?
        .flatten_all()?
        .to_vec1::<f32>()?;
    let outside: Vec<u32> = (0..c as u32)
        .filter(|&i| f64::from(best[i as usize]) < OUTSIDE)
        .collect();
    if outside.is_empty() || boundary.is_empty() {
        return Ok(w);
    }
    let xo = x.index_select(&Tensor::new(outside.as_slice(), device)?, 0)?;
    let wo = project(boundary, &xo, n)?.flatten_all()?.to_vec1::<f32>()?;
    for (row, &i) in wo.chunks_exact(n).zip(&outside) {
        w[i as usize * n..(i as usize + 1) * n].copy_from_slice(row);
    }
    Ok(w)
}

/// Pass 2: weights of the nearest point of the polytope boundary to each colour of `x`.
fn project(groups: &[Group], x: &Tensor, n: usize) -> candle::Result<Tensor> {
    let c = x.dim(0)?;
    let mut best: Option<(Tensor, Tensor)> = None;
    for g in groups {
        let mut scores = Vec::new();
        let mut weights = Vec::new();
        // Chunks keep the [c, len, k] intermediates small.
        let rows = g.chunk_rows();
        for start in (0..c).step_by(rows) {
            let xs = x.narrow(0, start, rows.min(c - start))?;
            let (full, min) = g.locate(&xs)?;
            let invalid = min
                .lt(VALID as f32)?
                .to_dtype(DType::F32)?
                .affine(1e6, 0.0)?;
            let score = (g.distance2(&xs)? + invalid)?;
            let pick = score.argmin(1)?;
            scores.push(score.min(1)?);
            weights.push(g.weights(&full, &pick, n)?);
        }
        let (score, w) = (Tensor::cat(&scores, 0)?, Tensor::cat(&weights, 0)?);
        best = Some(match best {
            None => (score, w),
            Some((bs, bw)) => {
                let better = score
                    .lt(&bs)?
                    .unsqueeze(1)?
                    .broadcast_as((c, n))?
                    .contiguous()?;
                (score.minimum(&bs)?, better.where_cond(&w, &bw)?)
            }
        });
    }
    match best {
        Some((_, w)) => Ok(w),
        None => Tensor::zeros((c, n), DType::F32, x.device()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decompose::Progress;

    fn ok() -> Result<(), DecomposeError> {
        Ok(())
    }

    fn reconstruct(complex: &Complex, w: &[f32], i: usize) -> V3 {
        let n = complex.points.len();
        let mut r = [0.0; 3];
        for (j, p) in complex.points.iter().enumerate() {
            for k in 0..3 {
                r[k] += f64::from(w[i * n + j]) * p[k];
            }
        }
        r
    }

    #[test]
    fn inside_colours_are_exact_and_outside_ones_projected() {
        let pts = vec![
            [10.0, 10.0, 10.0],
            [250.0, 20.0, 20.0],
            [20.0, 240.0, 30.0],
            [30.0, 30.0, 250.0],
            [100.0, 90.0, 80.0],
        ];
        let complex = Complex::new(pts, &ok).unwrap();
        let colours = [
            [50, 60, 70],
            [100, 90, 80],
            [10, 10, 10],
            [255, 255, 255],
            [0, 0, 0],
        ];
        let progress = Progress::new();
        let w = solve(&complex, &colours, &Device::Cpu, &progress.scoped(0.0, 1.0)).unwrap();
        for i in 0..colours.len() {
            let row = &w[i * 5..i * 5 + 5];
            assert!(row.iter().all(|&x| x >= 0.0));
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
        for (i, colour) in colours.iter().enumerate().take(3) {
            let r = reconstruct(&complex, &w, i);
            let x = colour.map(f64::from);
            assert!(super::super::geom::dist2(r, x) < 1e-6, "{r:?} vs {x:?}");
        }
        // Black lies outside; its projection is the nearest palette point (10, 10, 10).
        let r = reconstruct(&complex, &w, 4);
        assert!(super::super::geom::dist2(r, [10.0; 3]) < 1e-6, "{r:?}");
    }
}
