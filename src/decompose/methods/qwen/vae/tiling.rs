//! Tiled encoding and decoding, as diffusers' `enable_tiling` / `tiled_encode` /
//! `tiled_decode` do it: overlapping tiles are coded one at a time (peak memory follows the
//! tile, not the picture) and their overlaps cross-faded to hide the seams.

use candle_core::{DType, Result, Tensor};

/// Tile sizes for [`super::QwenImageVae::set_tiling`], in image pixels (diffusers'
/// `enable_tiling` arguments; [`Default`] is diffusers' 256/256 tiles at a 192/192 stride).
///
/// Encoding tiles the image when it is wider than `tile_sample_min_width` or taller than
/// `tile_sample_min_height`; decoding tiles the latent when it is larger than those divided by
/// the spatial compression ratio (8 for the real model). Tiles start every `stride` pixels and
/// span up to `min` pixels, so neighbours overlap by `min − stride`, across which they are
/// blended linearly. The result differs slightly from untiled coding (the receptive field is
/// cut at tile borders) but equals diffusers' tiled result for the same sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct Tiling {
    /// Tile height in image pixels.
    pub tile_sample_min_height: usize,
    /// Tile width in image pixels.
    pub tile_sample_min_width: usize,
    /// Vertical distance between tile origins in image pixels.
    pub tile_sample_stride_height: usize,
    /// Horizontal distance between tile origins in image pixels.
    pub tile_sample_stride_width: usize,
}

impl Default for Tiling {
    fn default() -> Self {
        Self {
            tile_sample_min_height: 256,
            tile_sample_min_width: 256,
            tile_sample_stride_height: 192,
            tile_sample_stride_width: 192,
        }
    }
}

impl Tiling {
    /// Refuses sizes that leave an empty latent tile or a zero latent stride (diffusers would
    /// fail on them: `range()` with step 0, or convolutions of empty tiles).
    pub(super) fn check(&self, ratio: usize) -> Result<()> {
        let sizes = [
            self.tile_sample_min_height,
            self.tile_sample_min_width,
            self.tile_sample_stride_height,
            self.tile_sample_stride_width,
        ];
        if sizes.iter().any(|&s| s < ratio) {
            candle_core::bail!(
                "VAE tile sizes and strides must be at least {ratio} pixels: {self:?}"
            );
        }
        Ok(())
    }
}

/// Where tiles go and how their outputs are put together, for [`tiled`].
pub(super) struct Plan {
    /// Tile size `(height, width)` in the input (tiles at the far edges may be smaller).
    pub tile: (usize, usize),
    /// Distance between tile origins in the input.
    pub stride: (usize, usize),
    /// Overlap to blend, in the output (each tile with its upper and left neighbours).
    pub blend: (usize, usize),
    /// Rows and columns kept from the top-left of each blended output tile.
    pub keep: (usize, usize),
    /// Final crop of the assembled output.
    pub out: (usize, usize),
}

/// Runs `code` on overlapping tiles of `x` (`[B, C, H, W]`) and assembles the outputs as
/// diffusers' `tiled_encode`/`tiled_decode` do.
///
/// diffusers' `blend_v`/`blend_h` overwrite the current tile in place, and later tiles blend
/// with those already-blended neighbours; storing each blended tile back into `rows` before
/// moving on reproduces exactly that.
pub(super) fn tiled(
    x: &Tensor,
    plan: &Plan,
    code: impl Fn(&Tensor) -> Result<Tensor>,
) -> Result<Tensor> {
    let (_, _, height, width) = x.dims4()?;
    let mut rows: Vec<Vec<Tensor>> = Vec::new();
    for i in (0..height).step_by(plan.stride.0) {
        let mut row = Vec::new();
        for j in (0..width).step_by(plan.stride.1) {
            // Python slicing `x[..., i:i+tile_h, j:j+tile_w]` stops at the edge.
            let tile = x.narrow(2, i, plan.tile.0.min(height - i))?.narrow(
                3,
                j,
                plan.tile.1.min(width - j),
            )?;
            row.push(code(&tile)?);
        }
        rows.push(row);
    }
    let mut assembled_rows = Vec::with_capacity(rows.len());
    for i in 0..rows.len() {
        let mut kept = Vec::with_capacity(rows[i].len());
        for j in 0..rows[i].len() {
            let mut tile = rows[i][j].clone();
            if i > 0 {
                tile = blend(&rows[i - 1][j], &tile, plan.blend.0, 2)?;
            }
            if j > 0 {
                tile = blend(&rows[i][j - 1], &tile, plan.blend.1, 3)?;
            }
            rows[i][j] = tile.clone();
            kept.push(crop(&tile, plan.keep)?);
        }
        assembled_rows.push(Tensor::cat(&kept, 3)?);
    }
    crop(&Tensor::cat(&assembled_rows, 2)?, plan.out)
}

/// `t[..., :h, :w]` with Python's clipping at the end.
fn crop(t: &Tensor, (h, w): (usize, usize)) -> Result<Tensor> {
    let (_, _, th, tw) = t.dims4()?;
    t.narrow(2, 0, h.min(th))?.narrow(3, 0, w.min(tw))
}

/// diffusers' `blend_v` (`dim` 2, height) / `blend_h` (`dim` 3, width) on `[B, C, H, W]`: the first `e` rows
/// (columns) of `b` become `a[−e + y]·(1 − y/e) + b[y]·(y/e)`, `e = min(a_len, b_len,
/// extent)`. The weights and the arithmetic are in f32 (diffusers' Python-float weights meet
/// f32 tensors; in bf16 this rounds once instead of after each operation).
fn blend(a: &Tensor, b: &Tensor, extent: usize, dim: usize) -> Result<Tensor> {
    let (a_len, b_len) = (a.dim(dim)?, b.dim(dim)?);
    let e = extent.min(a_len).min(b_len);
    if e == 0 {
        return Ok(b.clone());
    }
    let mut shape = vec![1; b.rank()];
    shape[dim] = e;
    let device = b.device();
    let w_b: Vec<f32> = (0..e).map(|y| (y as f64 / e as f64) as f32).collect();
    let w_a: Vec<f32> = (0..e).map(|y| (1.0 - y as f64 / e as f64) as f32).collect();
    let w_a = Tensor::from_vec(w_a, shape.as_slice(), device)?;
    let w_b = Tensor::from_vec(w_b, shape.as_slice(), device)?;
    let a_part = a.narrow(dim, a_len - e, e)?.to_dtype(DType::F32)?;
    let b_part = b.narrow(dim, 0, e)?.to_dtype(DType::F32)?;
    let mixed = (a_part.broadcast_mul(&w_a)? + b_part.broadcast_mul(&w_b)?)?.to_dtype(b.dtype())?;
    if e == b_len {
        return Ok(mixed);
    }
    Tensor::cat(&[&mixed, &b.narrow(dim, e, b_len - e)?], dim)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use candle_core::Device;

    #[test]
    fn blend_ramps_from_a_to_b() {
        let a = Tensor::ones((1, 1, 4, 2), DType::F32, &Device::Cpu).unwrap();
        let b = Tensor::zeros((1, 1, 3, 2), DType::F32, &Device::Cpu).unwrap();
        let out = blend(&a, &b, 2, 2).unwrap();
        let rows: Vec<f32> = out
            .narrow(3, 0, 1)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert_eq!(rows, [1.0, 0.5, 0.0]);
        // The extent is capped by the shorter tile, and 0 leaves `b` alone.
        let out = blend(&a, &b, 9, 2).unwrap();
        let rows: Vec<f32> = out
            .narrow(3, 0, 1)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert_eq!(rows, [1.0, 2.0 / 3.0, 1.0 / 3.0]);
        let out = blend(&a, &b, 0, 3).unwrap();
        assert_eq!(out.sum_all().unwrap().to_scalar::<f32>().unwrap(), 0.0);
    }

    #[test]
    fn tile_sizes_below_the_ratio_are_refused() {
        assert!(Tiling::default().check(8).is_ok());
        let tiling = Tiling {
            tile_sample_stride_width: 4,
            ..Tiling::default()
        };
        assert!(tiling.check(8).is_err());
    }
}
