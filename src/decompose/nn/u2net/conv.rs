//! A CPU convolution for U²-Net's layers: row-tiled im2col + one large GEMM per tile
//! (candle's `matmul`), with bias and ReLU fused into the copy-out.
//!
//! Why not `candle_nn::Conv2d`: candle 0.11's CPU conv transposes the input to NHWC and runs
//! one small GEMM per 512 output pixels, which made U²-Net-P about 3.5 s per image on two
//! cores. Building the im2col rows with contiguous row copies (NCHW, no transpose) and giving
//! GEMM tiles of several thousand pixels is several times faster, with the same results
//! (see `tests/u2net_parity.rs`).

use candle::{Device, Result, Storage, Tensor};
use candle_core as candle;
use candle_nn::VarBuilder;
use rayon::prelude::*;

/// Most bytes of one im2col tile. Tiles of a few MB keep GEMM efficient and let the
/// allocator hand the same heap memory back tile after tile; larger ones (tens of MB) were
/// measured slower, mostly in page faults on freshly mapped memory.
const TILE_BYTES: usize = 4 << 20;

/// A 2-D convolution with square kernel, stride 1, "same" padding and dilation, whose weights
/// are kept as a `C_out × (C_in·k·k)` matrix.
#[derive(Debug, Clone)]
pub struct Conv {
    weight: Tensor,
    bias: Vec<f32>,
    c_in: usize,
    c_out: usize,
    kernel: usize,
    dilation: usize,
}

impl Conv {
    /// Loads `weight` (`c_out × c_in × kernel × kernel`) and `bias` (`c_out`) from `vb`;
    /// padding is `dilation · (kernel − 1) / 2`, so the spatial size is preserved.
    pub fn new(
        c_in: usize,
        c_out: usize,
        kernel: usize,
        dilation: usize,
        vb: VarBuilder,
    ) -> Result<Self> {
        let weight = vb
            .get((c_out, c_in, kernel, kernel), "weight")?
            .reshape((c_out, c_in * kernel * kernel))?
            .contiguous()?;
        let bias = vb.get(c_out, "bias")?.to_vec1::<f32>()?;
        Ok(Self {
            weight,
            bias,
            c_in,
            c_out,
            kernel,
            dilation,
        })
    }

    /// Convolves `x` (`1 × C_in × H × W`, f32, CPU), adds the bias and applies ReLU when
    /// `relu` is set.
    pub fn forward(&self, x: &Tensor, relu: bool) -> Result<Tensor> {
        self.forward_cat(&[x], relu)
    }

    /// Convolves the channel-wise concatenation of `inputs` (each `1 × Cᵢ × H × W`, f32,
    /// CPU, `ΣCᵢ = C_in`) without materialising it: the im2col rows read each channel from
    /// the tensor it lives in.
    pub fn forward_cat(&self, inputs: &[&Tensor], relu: bool) -> Result<Tensor> {
        self.convolve(None, inputs, relu, None)
    }

    /// [`Conv::forward_cat`] with ReLU, then `residual` (`1 × C_out × H × W`) added: the
    /// last step of a residual U-block. The sum is made in the output's own buffer, so the
    /// block's widest activation is not allocated a third time (at 320×320 and 64
    /// channels each copy is 26 MB).
    pub fn forward_cat_plus(&self, inputs: &[&Tensor], residual: &Tensor) -> Result<Tensor> {
        self.convolve(None, inputs, true, Some(residual))
    }

    /// [`Conv::forward_cat`] of `up` upsampled bilinearly to the size of `inputs` (as
    /// [`super::rsu::upsample_like`] does) followed by `inputs`, without materialising the
    /// upsampled tensor: each tile's im2col rows interpolate the few rows they read. In a
    /// decoder stage the upsampled input is as wide as the skip beside it (26 MB at 320×320
    /// and 64 channels), and was held only to be read once.
    pub fn forward_up_cat(&self, up: &Tensor, inputs: &[&Tensor], relu: bool) -> Result<Tensor> {
        self.convolve(Some(up), inputs, relu, None)
    }

    /// [`Conv::forward_up_cat`] with ReLU, then `residual` added, as in
    /// [`Conv::forward_cat_plus`].
    pub fn forward_up_cat_plus(
        &self,
        up: &Tensor,
        inputs: &[&Tensor],
        residual: &Tensor,
    ) -> Result<Tensor> {
        self.convolve(Some(up), inputs, true, Some(residual))
    }

    /// The convolution of the concatenation of `up` (when given, upsampled to the size of
    /// `inputs`) and `inputs`.
    fn convolve(
        &self,
        up: Option<&Tensor>,
        inputs: &[&Tensor],
        relu: bool,
        residual: Option<&Tensor>,
    ) -> Result<Tensor> {
        let Some(first) = inputs.first() else {
            candle::bail!("conv without input");
        };
        let (_, _, h, w) = first.dims4()?;
        let tensors = up
            .into_iter()
            .chain(inputs.iter().copied())
            .map(|t| t.contiguous())
            .collect::<Result<Vec<_>>>()?;
        let guards: Vec<_> = tensors.iter().map(|t| t.storage_and_layout()).collect();
        // The taps of `up`'s upsampling, shared by all its channels.
        let resize = match up {
            Some(up) => {
                let (_, _, th, tw) = up.dims4()?;
                ((th, tw) != (h, w)).then(|| Resize::new(th, tw, h, w))
            }
            None => None,
        };
        // One plane per input channel, in concatenation order.
        let mut planes: Vec<Plane<'_>> = Vec::with_capacity(self.c_in);
        for (i, (t, (storage, layout))) in tensors.iter().zip(&guards).enumerate() {
            let (n, c, th, tw) = t.dims4()?;
            let upsampled = i == 0 && resize.is_some();
            if n != 1 || (!upsampled && (th, tw) != (h, w)) {
                candle::bail!(
                    "conv inputs differ in size: {:?} vs {:?}",
                    t.dims(),
                    first.dims()
                );
            }
            let Storage::Cpu(cpu) = &**storage else {
                candle::bail!("the U²-Net-P convolution runs on the CPU only");
            };
            let data = &cpu.as_slice::<f32>()?[layout.start_offset()..][..c * th * tw];
            if let (true, Some(resize)) = (upsampled, &resize) {
                planes.extend(data.chunks_exact(th * tw).map(|src| Plane::Up(src, resize)));
            } else {
                planes.extend(data.chunks_exact(h * w).map(Plane::Same));
            }
        }
        if planes.len() != self.c_in {
            candle::bail!("conv expects {} channels, got {}", self.c_in, planes.len());
        }

        let k_rows = self.c_in * self.kernel * self.kernel;
        // Tiles of whole rows whose im2col matrix stays within TILE_BYTES.
        let tile_rows = (TILE_BYTES / (4 * k_rows * w)).clamp(1, h);
        let mut out = vec![0f32; self.c_out * h * w];
        let mut y0 = 0;
        while y0 < h {
            let rows = tile_rows.min(h - y0);
            let n_pix = rows * w;
            let cols = self.im2col(&planes, h, w, y0, rows);
            let cols = Tensor::from_vec(cols, (k_rows, n_pix), &Device::Cpu)?;
            let res = self.weight.matmul(&cols)?;
            let (res_storage, res_layout) = res.storage_and_layout();
            let Storage::Cpu(res_cpu) = &*res_storage else {
                candle::bail!("matmul left the CPU");
            };
            let res = &res_cpu.as_slice::<f32>()?[res_layout.start_offset()..];
            out.par_chunks_mut(h * w)
                .zip(res.par_chunks(n_pix))
                .zip(&self.bias)
                .for_each(|((plane, src), &b)| {
                    let dst = &mut plane[y0 * w..y0 * w + n_pix];
                    for (d, &s) in dst.iter_mut().zip(src) {
                        let v = s + b;
                        *d = if relu { v.max(0.0) } else { v };
                    }
                });
            y0 += rows;
        }
        if let Some(residual) = residual {
            if residual.dims() != [1, self.c_out, h, w] {
                candle::bail!("residual {:?} does not match the output", residual.dims());
            }
            let residual = residual.contiguous()?;
            let (storage, layout) = residual.storage_and_layout();
            let Storage::Cpu(cpu) = &*storage else {
                candle::bail!("the U²-Net-P convolution runs on the CPU only");
            };
            let add = &cpu.as_slice::<f32>()?[layout.start_offset()..][..out.len()];
            out.par_iter_mut().zip(add).for_each(|(o, &r)| *o += r);
        }
        Tensor::from_vec(out, (1, self.c_out, h, w), &Device::Cpu)
    }

    /// The im2col matrix of output rows `y0..y0 + rows`: row `(c·k + ky)·k + kx` holds input
    /// channel `c` shifted by the tap `(ky, kx)`, zero outside the picture.
    fn im2col(&self, planes: &[Plane<'_>], h: usize, w: usize, y0: usize, rows: usize) -> Vec<f32> {
        let k = self.kernel;
        let n_pix = rows * w;
        let pad = (self.dilation * (k - 1) / 2) as isize;
        // Input rows the tile reads.
        let lo = (y0 as isize - pad).max(0) as usize;
        let hi = ((y0 + rows) as isize + pad).clamp(0, h as isize) as usize;
        let mut cols = vec![0f32; self.c_in * k * k * n_pix];
        cols.par_chunks_mut(k * k * n_pix)
            .zip(planes.par_iter())
            .for_each(|(chan_cols, plane)| {
                let rows_read = plane.rows(lo, hi, w);
                let (plane, first_row) = match &rows_read {
                    Some(read) => (read.as_slice(), lo),
                    None => (plane.same(), 0),
                };
                for (tap, col) in chan_cols.chunks_mut(n_pix).enumerate() {
                    let dy = (tap / k * self.dilation) as isize - pad;
                    let dx = (tap % k * self.dilation) as isize - pad;
                    // Output columns whose source column lies inside the row.
                    let x_lo = (-dx).max(0) as usize;
                    let x_hi = (w as isize - dx).clamp(0, w as isize) as usize;
                    for r in 0..rows {
                        let sy = (y0 + r) as isize + dy;
                        if sy < 0 || sy >= h as isize || x_lo >= x_hi {
                            continue;
                        }
                        let src_row = &plane[(sy as usize - first_row) * w..][..w];
                        let dst_row = &mut col[r * w..][..w];
                        let sx_lo = (x_lo as isize + dx) as usize;
                        dst_row[x_lo..x_hi].copy_from_slice(&src_row[sx_lo..sx_lo + x_hi - x_lo]);
                    }
                }
            });
        cols
    }
}

/// One input channel of a convolution.
enum Plane<'a> {
    /// At the output's size, `H·W` values.
    Same(&'a [f32]),
    /// To be upsampled to the output's size by `Resize`.
    Up(&'a [f32], &'a Resize),
}

impl Plane<'_> {
    /// The values of a [`Plane::Same`] (empty for [`Plane::Up`], whose rows come from
    /// [`Plane::rows`]).
    fn same(&self) -> &[f32] {
        match self {
            Plane::Same(values) => values,
            Plane::Up(..) => &[],
        }
    }

    /// Output rows `lo..hi` (`w` wide) of a [`Plane::Up`], interpolated; `None` for a
    /// [`Plane::Same`], whose rows are read in place.
    fn rows(&self, lo: usize, hi: usize, w: usize) -> Option<Vec<f32>> {
        let Plane::Up(src, resize) = self else {
            return None;
        };
        let mut out = Vec::with_capacity((hi - lo) * w);
        for &(h0, h1, wh) in &resize.rows[lo..hi] {
            let (top, bottom) = (&src[h0 * resize.w_in..], &src[h1 * resize.w_in..]);
            out.extend(resize.cols.iter().map(|&(w0, w1, ww)| {
                let v_top = f64::from(top[w0]) * (1.0 - ww) + f64::from(top[w1]) * ww;
                let v_bottom = f64::from(bottom[w0]) * (1.0 - ww) + f64::from(bottom[w1]) * ww;
                (v_top * (1.0 - wh) + v_bottom * wh) as f32
            }));
        }
        Some(out)
    }
}

/// Bilinear resampling from `h_in × w_in` to a larger size with PyTorch's
/// `align_corners=False`, computed as candle's `upsample_bilinear2d` does (in f64, the same
/// source indices and weights), so a fused upsampling gives the same values bit for bit.
struct Resize {
    w_in: usize,
    /// Per output row: the two source rows and the weight of the second.
    rows: Vec<(usize, usize, f64)>,
    /// Per output column: the two source columns and the weight of the second.
    cols: Vec<(usize, usize, f64)>,
}

impl Resize {
    fn new(h_in: usize, w_in: usize, h_out: usize, w_out: usize) -> Self {
        let taps = |len_in: usize, len_out: usize| -> Vec<(usize, usize, f64)> {
            let scale = len_in as f64 / len_out as f64;
            (0..len_out)
                .map(|o| {
                    let src = (scale * (o as f64 + 0.5) - 0.5).max(0.0);
                    let i0 = src.floor() as usize;
                    let i1 = (i0 + 1).min(len_in - 1);
                    (i0, i1, (src - i0 as f64).clamp(0.0, 1.0))
                })
                .collect()
        };
        Self {
            w_in,
            rows: taps(h_in, h_out),
            cols: taps(w_in, w_out),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::decompose::nn::u2net::rsu::upsample_like;

    /// Deterministic values in -1..1 (a small LCG), for weights and activations.
    fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    fn tensor(dims: &[usize], seed: u64) -> Tensor {
        let n = dims.iter().product();
        Tensor::from_vec(values(n, seed), dims, &Device::Cpu).unwrap()
    }

    #[test]
    fn a_fused_upsampling_gives_the_same_output_bit_for_bit() {
        let (c_up, c_skip, c_out) = (3, 2, 4);
        let c_in = c_up + c_skip;
        let mut weights = HashMap::new();
        weights.insert("weight".to_string(), tensor(&[c_out, c_in, 3, 3], 1));
        weights.insert("bias".to_string(), tensor(&[c_out], 2));
        let vb = VarBuilder::from_tensors(weights, candle::DType::F32, &Device::Cpu);
        let conv = Conv::new(c_in, c_out, 3, 2, vb).unwrap();
        // Odd sizes, as pooling with `ceil_mode` leaves them, and a residual.
        let deeper = tensor(&[1, c_up, 7, 9], 3);
        let skip = tensor(&[1, c_skip, 13, 17], 4);
        let residual = tensor(&[1, c_out, 13, 17], 5);
        let up = upsample_like(&deeper, &skip).unwrap();
        let flat = |t: Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
        assert_eq!(
            bits(flat(conv.forward_cat(&[&up, &skip], false).unwrap())),
            bits(flat(conv.forward_up_cat(&deeper, &[&skip], false).unwrap()))
        );
        assert_eq!(
            bits(flat(
                conv.forward_cat_plus(&[&up, &skip], &residual).unwrap()
            )),
            bits(flat(
                conv.forward_up_cat_plus(&deeper, &[&skip], &residual)
                    .unwrap()
            ))
        );
    }
}
