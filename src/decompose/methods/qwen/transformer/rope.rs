//! Rotary position embedding of Qwen-Image (`QwenEmbedRope`) and of Qwen-Image-Layered
//! (`QwenEmbedLayer3DRope`), as complex rotations of consecutive pairs of a head's channels.
//!
//! A head's `head_dim / 2` rotation angles are split over three axes (`axes_dims_rope`, halved):
//! frame (the layer index in the layered model), row, column. Rows and columns are centred
//! (diffusers' `scale_rope=True`): an `h`-row grid gets positions `-(h - h/2) ..= h/2 - 1`. The
//! text tokens come after every image position: token `j` sits at `start + j` on all three axes,
//! where `start` is the largest `max(h/2, w/2)` (and, for Layer3D, the number of noisy frames).

use candle_core::{Device, Result, Tensor, bail};

/// diffusers precomputes 4096 positive and 4096 negative positions; a position outside
/// `-4096..4096` has no row there (its slicing would silently come up short), so reject it.
const TABLE_ROWS: i64 = 4096;

/// Cosines and sines of the rotation angles, `[tokens, head_dim / 2]` f32, for the image tokens
/// (in `img_shapes` order) and the text tokens.
#[derive(Debug, Clone)]
pub(super) struct RopeTables {
    pub img_cos: Tensor,
    pub img_sin: Tensor,
    pub txt_cos: Tensor,
    pub txt_sin: Tensor,
}

/// The position-embedding rule of one model configuration.
#[derive(Debug, Clone)]
pub(super) struct Rope {
    /// Inverse frequencies per axis (frame, row, column), `axes_dims_rope[i] / 2` each.
    inv_freqs: [Vec<f32>; 3],
    /// `use_layer3d_rope`: the last `img_shapes` entry is the condition image, at frame −1.
    layer3d: bool,
}

impl Rope {
    /// diffusers hard-codes θ = 10000 for both RoPE classes.
    const THETA: f64 = 10000.0;

    pub fn new(axes_dims: [usize; 3], layer3d: bool) -> Result<Self> {
        if axes_dims.iter().any(|d| d % 2 != 0) {
            bail!("axes_dims_rope {axes_dims:?}: every axis needs an even size");
        }
        // `1.0 / torch.pow(theta, torch.arange(0, dim, 2).float().div(dim))`, all in f32: the
        // exponent is rounded to f32 before the power, as torch does.
        let inv = |dim: usize| -> Vec<f32> {
            (0..dim / 2)
                .map(|i| {
                    let e = (2 * i) as f32 / dim as f32;
                    1.0f32 / Self::THETA.powf(f64::from(e)) as f32
                })
                .collect()
        };
        Ok(Self {
            inv_freqs: [inv(axes_dims[0]), inv(axes_dims[1]), inv(axes_dims[2])],
            layer3d,
        })
    }

    fn half_dim(&self) -> usize {
        self.inv_freqs.iter().map(Vec::len).sum()
    }

    /// Appends one token's angles: `pos[axis] * inv_freq[axis][i]` in f32 (torch's
    /// `torch.outer(index, inv_freq)` on f32), axis after axis.
    fn push_angles(&self, pos: [i64; 3], out: &mut Vec<f32>) {
        for (axis, freqs) in self.inv_freqs.iter().enumerate() {
            let p = pos[axis] as f32;
            out.extend(freqs.iter().map(|&f| p * f));
        }
    }

    /// The tables for one batch item's `img_shapes` (`(frames, rows, cols)` per entry, in token
    /// order) and `txt_len` text tokens. Like diffusers, the whole batch shares them.
    pub fn tables(
        &self,
        img_shapes: &[(usize, usize, usize)],
        txt_len: usize,
        device: &Device,
    ) -> Result<RopeTables> {
        if img_shapes.is_empty() {
            bail!("img_shapes is empty");
        }
        let last = img_shapes.len() - 1;
        let mut img = Vec::new();
        let mut max_index = 0i64;
        for (idx, &(frames, h, w)) in img_shapes.iter().enumerate() {
            let condition = self.layer3d && idx == last;
            if condition && frames != 1 {
                // diffusers views the single −1 row as `(frame, 1, 1, -1)`.
                bail!(
                    "the condition image (last img_shapes entry) must have 1 frame, not {frames}"
                );
            }
            let (h, w) = (h as i64, w as i64);
            let (top, left) = (h - h / 2, w - w / 2);
            if top > TABLE_ROWS || left > TABLE_ROWS || (idx + frames) as i64 > TABLE_ROWS {
                bail!("img_shapes entry {idx} ({frames}, {h}, {w}) is beyond the RoPE table");
            }
            for f in 0..frames {
                // Entry `idx` starts at frame `idx` (not at the running frame count: diffusers
                // slices `freqs_pos[0][idx : idx + frame]`); the condition image sits at −1.
                let frame = if condition { -1 } else { (idx + f) as i64 };
                for y in 0..h {
                    for x in 0..w {
                        self.push_angles([frame, y - top, x - left], &mut img);
                    }
                }
            }
            max_index = max_index.max(h / 2).max(w / 2);
        }
        if self.layer3d {
            // Text must also clear the layer axis: noisy frames use indices 0..=last-1.
            max_index = max_index.max(last as i64);
        }
        if max_index + txt_len as i64 > TABLE_ROWS {
            bail!("{txt_len} text tokens from position {max_index} exceed the RoPE table");
        }
        let mut txt = Vec::with_capacity(txt_len * self.half_dim());
        for j in 0..txt_len as i64 {
            let p = max_index + j;
            self.push_angles([p, p, p], &mut txt);
        }

        let half = self.half_dim();
        let table = |angles: &[f32], f: fn(f64) -> f64| -> Result<Tensor> {
            // `torch.polar` evaluates cos/sin of the f32 angle in f32; computing them in f64 and
            // rounding once is within an ulp of that.
            let v: Vec<f32> = angles.iter().map(|&a| f(f64::from(a)) as f32).collect();
            Tensor::from_vec(v, (angles.len() / half, half), device)
        };
        Ok(RopeTables {
            img_cos: table(&img, f64::cos)?,
            img_sin: table(&img, f64::sin)?,
            txt_cos: table(&txt, f64::cos)?,
            txt_sin: table(&txt, f64::sin)?,
        })
    }
}

/// `apply_rotary_emb_qwen(x, freqs, use_real=False)`: channels `(2i, 2i+1)` of each head are a
/// complex number multiplied by `cos + i·sin` of angle `i`, in f32, cast back to `x`'s dtype.
/// `x` is `[batch, heads, tokens, head_dim]`; `cos`/`sin` are `[tokens, head_dim / 2]` f32.
pub(super) fn apply(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    let dtype = x.dtype();
    let xf = x.to_dtype(candle_core::DType::F32)?.contiguous()?;
    candle_nn::rotary_emb::rope_i(&xf, cos, sin)?.to_dtype(dtype)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The (frame, row, column) positions of the image and text tokens, read back from the
    /// angles of a rope whose inverse frequencies are all ½ (so |angle| < π for |pos| < 6).
    fn positions(
        layer3d: bool,
        shapes: &[(usize, usize, usize)],
        txt: usize,
    ) -> (Vec<[i64; 3]>, Vec<[i64; 3]>) {
        let rope = Rope {
            inv_freqs: [vec![0.5], vec![0.5], vec![0.5]],
            layer3d,
        };
        let t = rope.tables(shapes, txt, &Device::Cpu).unwrap();
        let back = |c: &Tensor, s: &Tensor| -> Vec<[i64; 3]> {
            let c = c.to_vec2::<f32>().unwrap();
            let s = s.to_vec2::<f32>().unwrap();
            c.iter()
                .zip(&s)
                .map(|(c, s)| {
                    let a = |i: usize| (2.0 * f64::from(s[i]).atan2(f64::from(c[i]))).round();
                    [a(0) as i64, a(1) as i64, a(2) as i64]
                })
                .collect()
        };
        (back(&t.img_cos, &t.img_sin), back(&t.txt_cos, &t.txt_sin))
    }

    fn grid(frames: &[i64], rows: &[i64], cols: &[i64]) -> Vec<[i64; 3]> {
        let mut v = Vec::new();
        for &f in frames {
            for &y in rows {
                for &x in cols {
                    v.push([f, y, x]);
                }
            }
        }
        v
    }

    #[test]
    fn layer3d_condition_at_minus_one_and_text_after_layers() {
        // Two noisy frames and the condition, 3×2 patches: rows centred to -2..=0, columns to
        // -1..=0; text starts at max(h/2, w/2, layer_num) = max(1, 1, 2) = 2.
        let (img, txt) = positions(true, &[(1, 3, 2), (1, 3, 2), (1, 3, 2)], 2);
        assert_eq!(img, grid(&[0, 1, -1], &[-2, -1, 0], &[-1, 0]));
        assert_eq!(txt, vec![[2, 2, 2], [3, 3, 3]]);
    }

    #[test]
    fn plain_rope_frames_follow_entry_index() {
        // Entry 1 has two frames starting at its index (1), not after entry 0's frame count;
        // text starts at max(8/2, 4/2, 2/2) = 4.
        let (img, txt) = positions(false, &[(1, 8, 4), (2, 2, 2)], 1);
        let mut want = grid(&[0], &[-4, -3, -2, -1, 0, 1, 2, 3], &[-2, -1, 0, 1]);
        want.extend(grid(&[1, 2], &[-1, 0], &[-1, 0]));
        assert_eq!(img, want);
        assert_eq!(txt, vec![[4, 4, 4]]);
    }

    #[test]
    fn rejects_bad_shapes() {
        let rope = Rope::new([2, 2, 2], true).unwrap();
        assert!(
            rope.tables(&[(1, 2, 2), (2, 2, 2)], 1, &Device::Cpu)
                .is_err()
        );
        assert!(rope.tables(&[(1, 2, 2)], 4096, &Device::Cpu).is_err());
        assert!(rope.tables(&[], 1, &Device::Cpu).is_err());
        assert!(Rope::new([3, 2, 2], true).is_err());
    }
}
