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
        self.convolve(inputs, relu, None)
    }

    /// [`Conv::forward_cat`] with ReLU, then `residual` (`1 × C_out × H × W`) added: the
    /// last step of a residual U-block. The sum is made in the output's own buffer, so the
    /// block's widest activation is not allocated a third time (at 320×320 and 64
    /// channels each copy is 26 MB).
    pub fn forward_cat_plus(&self, inputs: &[&Tensor], residual: &Tensor) -> Result<Tensor> {
        self.convolve(inputs, true, Some(residual))
    }

    fn convolve(
        &self,
        inputs: &[&Tensor],
        relu: bool,
        residual: Option<&Tensor>,
    ) -> Result<Tensor> {
        let Some(first) = inputs.first() else {
            candle::bail!("conv without input");
        };
        let (_, _, h, w) = first.dims4()?;
        let tensors = inputs
            .iter()
            .map(|t| t.contiguous())
            .collect::<Result<Vec<_>>>()?;
        let guards: Vec<_> = tensors.iter().map(|t| t.storage_and_layout()).collect();
        // One `H·W` slice per input channel, in concatenation order.
        let mut planes: Vec<&[f32]> = Vec::with_capacity(self.c_in);
        for (t, (storage, layout)) in tensors.iter().zip(&guards) {
            let (n, c, th, tw) = t.dims4()?;
            if n != 1 || (th, tw) != (h, w) {
                candle::bail!(
                    "conv inputs differ in size: {:?} vs {:?}",
                    t.dims(),
                    first.dims()
                );
            }
            let Storage::Cpu(cpu) = &**storage else {
                candle::bail!("the U²-Net-P convolution runs on the CPU only");
            };
            let data = &cpu.as_slice::<f32>()?[layout.start_offset()..][..c * h * w];
            planes.extend(data.chunks_exact(h * w));
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
    fn im2col(&self, planes: &[&[f32]], h: usize, w: usize, y0: usize, rows: usize) -> Vec<f32> {
        let k = self.kernel;
        let n_pix = rows * w;
        let pad = (self.dilation * (k - 1) / 2) as isize;
        let mut cols = vec![0f32; self.c_in * k * k * n_pix];
        cols.par_chunks_mut(k * k * n_pix)
            .zip(planes.par_iter())
            .for_each(|(chan_cols, plane)| {
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
                        let src_row = &plane[sy as usize * w..][..w];
                        let dst_row = &mut col[r * w..][..w];
                        let sx_lo = (x_lo as isize + dx) as usize;
                        dst_row[x_lo..x_hi].copy_from_slice(&src_row[sx_lo..sx_lo + x_hi - x_lo]);
                    }
                }
            });
        cols
    }
}
