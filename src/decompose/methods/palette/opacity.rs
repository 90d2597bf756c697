//! From mixing weights to 8-bit layer colours and "over" opacities.
//!
//! **Exactness fix.** A colour outside the palette polytope (possible only when the palette
//! had to stay inside the RGB cube, see `simplify.rs`) is reconstructed as its projection
//! `x' = Σ wᵢ Cᵢ`, off by `r = x − x'`. For such colours only, the layer colours at those
//! pixels move by `Δᵢ`, chosen per channel as the smallest change (in `Σ wᵢ Δᵢ²`) with
//! `Σ wᵢ Δᵢ = r` and `Cᵢ + Δᵢ ∈ [0, 1]`: `Δᵢ = clamp(μ, −Cᵢ, 1 − Cᵢ)` with `μ` found by
//! bisection (feasible: `Δᵢ = x − Cᵢ` always works). Layers stay solid everywhere else.
//!
//! **Opacities.** With input alpha `A` and `Wᵢ = Σ_{j≤i} wⱼ`, the layer opacities
//!
//! ```text
//! αᵢ = A·wᵢ / (1 − A + A·Wᵢ)          (= wᵢ / Wᵢ when A = 1; α₀ = 1 when A = 1)
//! ```
//!
//! composite "over" to premultiplied colour `A·Σ wᵢ Cᵢ` and alpha `A`: the transmittance
//! above layer `i` is `Tᵢ = Πⱼ>ᵢ (1 − αⱼ) = 1 − A + A·Wᵢ`, so each layer contributes
//! `αᵢ Tᵢ = A wᵢ`. After layer `i` the partial composite should be
//! `(A·Σ_{j≤i} wⱼ Cⱼ, A·Wᵢ) / Tᵢ` (premultiplied colour, alpha).
//!
//! **8-bit rounding with error feedback.** Rounding each αᵢ independently would let errors
//! pile up through the stack. Instead the compositor is replayed per colour: given the
//! actual (already rounded) partial composite `acc`, layer `i` takes the 8-bit α that brings
//! `acc + α·((Cᵢ, 1) − acc)` closest to the ideal partial composite — a 1-D least-squares
//! problem whose continuous optimum, rounded, is the best 8-bit value. Errors of lower
//! layers are corrected by the ones above, so the final composite stays within rounding of
//! the input. Runs on candle tensors over the distinct (colour, alpha) pairs.

use candle_core::{self as candle, DType, Device, Tensor};
use rayon::prelude::*;

use crate::decompose::DecomposeError;
use crate::decompose::progress::ScopedProgress;
use crate::model::pixels;

/// Residual (0..=1 units, per channel) below which no layer colour is moved.
const NUDGE_AT: f64 = 0.25 / 255.0;
/// Distinct (colour, alpha) pairs per tensor chunk.
const CHUNK: usize = 1 << 14;

/// Layer colours per distinct colour: row 0 is the palette; colours outside the palette
/// polytope get their own row.
pub struct LayerColours {
    /// Rows of `n` colours each, flattened.
    pub table: Vec<[u8; 3]>,
    /// For each distinct colour, its row in `table`.
    pub row_of: Vec<u32>,
}

/// The layer colours for every distinct colour, given its weights (`colours × n`).
pub fn layer_colours(palette: &[[u8; 3]], colours: &[[u8; 3]], weights: &[f32]) -> LayerColours {
    let n = palette.len();
    let nudges: Vec<Option<Vec<[u8; 3]>>> = colours
        .par_iter()
        .zip(weights.par_chunks_exact(n))
        .map(|(x, w)| nudge(palette, *x, w))
        .collect();
    let mut table = palette.to_vec();
    let mut row_of = Vec::with_capacity(colours.len());
    for cols in nudges {
        match cols {
            Some(cols) => {
                row_of.push((table.len() / n) as u32);
                table.extend(cols);
            }
            None => row_of.push(0),
        }
    }
    LayerColours { table, row_of }
}

/// Moved layer colours reproducing `x` exactly, or `None` when the palette already does.
fn nudge(palette: &[[u8; 3]], x: [u8; 3], w: &[f32]) -> Option<Vec<[u8; 3]>> {
    let unit = |v: u8| f64::from(v) / 255.0;
    // Only layers with weight can carry a change (at most four of them).
    let used: Vec<(usize, f64)> = w
        .iter()
        .enumerate()
        .filter(|(_, wi)| **wi > 0.0)
        .map(|(i, wi)| (i, f64::from(*wi)))
        .collect();
    let residual: [f64; 3] = std::array::from_fn(|k| {
        unit(x[k])
            - used
                .iter()
                .map(|&(i, wi)| wi * unit(palette[i][k]))
                .sum::<f64>()
    });
    if residual.iter().all(|r| r.abs() <= NUDGE_AT) {
        return None;
    }
    let mut cols = palette.to_vec();
    for (k, &r) in residual.iter().enumerate() {
        if r.abs() <= NUDGE_AT {
            continue;
        }
        let layers: Vec<(f64, f64)> = used
            .iter()
            .map(|&(i, wi)| (wi, unit(palette[i][k])))
            .collect();
        let mu = water_level(&layers, r);
        for (&(i, _), &(_, c)) in used.iter().zip(&layers) {
            cols[i][k] = ((c + mu.clamp(-c, 1.0 - c)) * 255.0)
                .round()
                .clamp(0.0, 255.0) as u8;
        }
    }
    Some(cols)
}

/// The level `μ` with `Σ wᵢ·clamp(μ, −cᵢ, 1 − cᵢ) = r` for the `(wᵢ, cᵢ)` pairs. The sum is
/// piecewise linear and non-decreasing in `μ`: walk its knots, interpolate on the right piece.
fn water_level(layers: &[(f64, f64)], r: f64) -> f64 {
    let g = |mu: f64| {
        layers
            .iter()
            .map(|&(w, c)| w * mu.clamp(-c, 1.0 - c))
            .sum::<f64>()
    };
    let mut knots: Vec<f64> = layers.iter().flat_map(|&(_, c)| [-c, 1.0 - c]).collect();
    knots.sort_by(f64::total_cmp);
    let Some(&first) = knots.first() else {
        return 0.0;
    };
    let mut prev = (first, g(first));
    if r <= prev.1 {
        return first;
    }
    for &k in &knots[1..] {
        let gk = g(k);
        if gk >= r {
            let (k0, g0) = prev;
            return if gk > g0 {
                k0 + (r - g0) * (k - k0) / (gk - g0)
            } else {
                k
            };
        }
        prev = (k, gk);
    }
    prev.0
}

/// One distinct (colour, alpha) pair of the picture.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// Index of the colour in the distinct-colour list.
    pub colour: u32,
    /// Input alpha, 0..=255.
    pub alpha: u8,
}

/// 8-bit opacities (`entries × n`, row-major) for every entry.
pub fn opacities(
    entries: &[Entry],
    weights: &[f32],
    colours: &LayerColours,
    n: usize,
    device: &Device,
    progress: &ScopedProgress<'_>,
) -> Result<Vec<u8>, DecomposeError> {
    let compute = |e: candle::Error| DecomposeError::compute("computing the layer opacities", &e);
    let rows = colours.row_of.len();
    let w_all = Tensor::from_slice(weights, (rows, n), device).map_err(compute)?;
    let table: Vec<f32> = colours
        .table
        .iter()
        .flat_map(|c| c.map(pixels::unit))
        .collect();
    let table =
        Tensor::from_vec(table, (colours.table.len() / n, n * 3), device).map_err(compute)?;
    let mut out = Vec::with_capacity(entries.len() * n);
    for (index, chunk) in entries.chunks(CHUNK).enumerate() {
        progress.check()?;
        progress.set(
            (index * CHUNK) as f32 / entries.len().max(1) as f32,
            "Computing opacities",
        );
        let mut alphas =
            chunk_opacities(chunk, &w_all, &table, &colours.row_of, n).map_err(compute)?;
        out.append(&mut alphas);
    }
    Ok(out)
}

fn chunk_opacities(
    chunk: &[Entry],
    w_all: &Tensor,
    table: &Tensor,
    row_of: &[u32],
    n: usize,
) -> candle::Result<Vec<u8>> {
    let device = w_all.device();
    let c = chunk.len();
    let colour_index: Vec<u32> = chunk.iter().map(|e| e.colour).collect();
    let row_index: Vec<u32> = chunk.iter().map(|e| row_of[e.colour as usize]).collect();
    let alpha: Vec<f32> = chunk.iter().map(|e| pixels::unit(e.alpha)).collect();
    let w = w_all.index_select(&Tensor::new(colour_index.as_slice(), device)?, 0)?;
    let cols = table
        .index_select(&Tensor::new(row_index.as_slice(), device)?, 0)?
        .reshape((c, n, 3))?;
    let a = Tensor::from_vec(alpha, (1, c), device)?;
    // Layer-major ([n, c, …]) so that each step of the loop below reads contiguous slices.
    let w = w.t()?.contiguous()?;
    let cols = cols.transpose(0, 1)?.contiguous()?;
    // Wᵢ = Σ_{j≤i} wⱼ, Sᵢ = Σ_{j≤i} wⱼ Cⱼ (a lower-triangular matmul) and Tᵢ = 1 − A + A·Wᵢ.
    let lower: Vec<f32> = (0..n * n)
        .map(|k| if k % n <= k / n { 1.0 } else { 0.0 })
        .collect();
    let lower = Tensor::from_vec(lower, (n, n), device)?;
    let cum_w = lower.matmul(&w)?;
    let cum_s = lower
        .matmul(&cols.broadcast_mul(&w.unsqueeze(2)?)?.reshape((n, c * 3))?)?
        .reshape((n, c, 3))?;
    let t = ((cum_w.broadcast_mul(&a)? - a.broadcast_as((n, c))?)? + 1.0)?;
    let defined = t.gt(1e-6f32)?.to_dtype(DType::F32)?;
    let scale = a.broadcast_div(&t.maximum(1e-6f32)?)?.unsqueeze(2)?;
    let ideal = Tensor::cat(&[&cum_s, &cum_w.unsqueeze(2)?], 2)?.broadcast_mul(&scale)?;
    let layer = Tensor::cat(&[&cols, &Tensor::ones((n, c, 1), DType::F32, device)?], 2)?;
    // The bottom layer sits on nothing: its ideal alpha is α₀ itself; 1 where undefined.
    let d0 = defined.get(0)?.unsqueeze(1)?;
    let alpha0 = ((ideal.get(0)?.narrow(1, 3, 1)? * &d0)? + (1.0 - &d0)?)?;
    let q0 = alpha0.affine(255.0, 0.0)?.round()?.clamp(0f32, 255f32)?;
    let mut acc = layer.get(0)?.broadcast_mul(&q0.affine(1.0 / 255.0, 0.0)?)?;
    let mut layers = vec![q0];
    for i in 1..n {
        let d = (layer.get(i)? - &acc)?;
        let e = (ideal.get(i)? - &acc)?;
        // Where Tᵢ is undefined (everything so far hidden) the layer stays clear.
        let num = ((&e * &d)?.sum_keepdim(1)? * defined.get(i)?.unsqueeze(1)?)?;
        let den = d.sqr()?.sum_keepdim(1)?.maximum(1e-12f32)?;
        let q = (num / den)?
            .affine(255.0, 0.0)?
            .round()?
            .clamp(0f32, 255f32)?;
        acc = (acc + d.broadcast_mul(&q.affine(1.0 / 255.0, 0.0)?)?)?;
        layers.push(q);
    }
    Tensor::cat(&layers, 1)?
        .to_dtype(DType::U8)?
        .flatten_all()?
        .to_vec1::<u8>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nudge_reaches_outside_colours() {
        let palette = [[0, 0, 0], [200, 200, 200]];
        // (255, 0, 100) is not a mix of black and grey.
        let cols = nudge(&palette, [255, 0, 100], &[0.5, 0.5]).unwrap();
        for k in 0..3 {
            let made = 0.5 * f64::from(cols[0][k]) + 0.5 * f64::from(cols[1][k]);
            assert!(
                (made - f64::from([255, 0, 100][k])).abs() <= 0.5 + 1e-9,
                "{cols:?}"
            );
        }
        assert!(nudge(&palette, [100, 100, 100], &[0.5, 0.5]).is_none());
    }

    #[test]
    fn opacities_follow_the_formula() {
        let palette = [[0, 0, 0], [255, 255, 255]];
        let colours = LayerColours {
            table: palette.to_vec(),
            row_of: vec![0],
        };
        let entries = [
            Entry {
                colour: 0,
                alpha: 255,
            },
            Entry {
                colour: 0,
                alpha: 0,
            },
        ];
        let progress = crate::decompose::Progress::new();
        let a = opacities(
            &entries,
            &[0.75, 0.25],
            &colours,
            2,
            &Device::Cpu,
            &progress.scoped(0.0, 1.0),
        )
        .unwrap();
        assert_eq!(a, vec![255, 64, 0, 0]);
    }
}
