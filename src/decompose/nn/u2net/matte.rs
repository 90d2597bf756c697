//! A single-channel `f32` plane (saliency map, alpha matte) and its bilinear resampling.

/// A row-major `width × height` plane of `f32` values, usually in `0..=1`.
#[derive(Clone, Debug, PartialEq)]
pub struct Matte {
    pub width: u32,
    pub height: u32,
    /// `width * height` values, row by row.
    pub values: Vec<f32>,
}

impl Matte {
    /// A plane filled with `value`.
    pub fn filled(width: u32, height: u32, value: f32) -> Self {
        Self {
            width,
            height,
            values: vec![value; width as usize * height as usize],
        }
    }

    /// The value at `(x, y)`; callers keep the coordinates in range.
    #[inline]
    pub fn at(&self, x: u32, y: u32) -> f32 {
        self.values[y as usize * self.width as usize + x as usize]
    }

    /// Smallest and largest value (`(0, 0)` for an empty plane).
    pub fn min_max(&self) -> (f32, f32) {
        if self.values.is_empty() {
            return (0.0, 0.0);
        }
        self.values
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            })
    }

    /// Stretches the values to `0..=1` as rembg does (`(v − min) / (max − min)`); a constant
    /// plane becomes all zeros.
    pub fn normalize_min_max(&mut self) {
        let (lo, hi) = self.min_max();
        let range = hi - lo;
        for v in &mut self.values {
            *v = if range > f32::EPSILON {
                (*v - lo) / range
            } else {
                0.0
            };
        }
    }

    /// Bilinear resize to `width × height` with half-pixel centres (PyTorch
    /// `align_corners=False`, PIL/OpenCV `INTER_LINEAR` when upsampling).
    pub fn resized(&self, width: u32, height: u32) -> Matte {
        if (width, height) == (self.width, self.height) {
            return self.clone();
        }
        let xs = taps(self.width, width);
        let ys = taps(self.height, height);
        let sw = self.width as usize;
        let mut values = Vec::with_capacity(width as usize * height as usize);
        for &(y0, y1, fy) in &ys {
            let row0 = &self.values[y0 * sw..(y0 + 1) * sw];
            let row1 = &self.values[y1 * sw..(y1 + 1) * sw];
            values.extend(xs.iter().map(|&(x0, x1, fx)| {
                let top = row0[x0] + (row0[x1] - row0[x0]) * fx;
                let bottom = row1[x0] + (row1[x1] - row1[x0]) * fx;
                top + (bottom - top) * fy
            }));
        }
        Matte {
            width,
            height,
            values,
        }
    }
}

/// For each of `dst` output positions: the two source indices and the weight of the second,
/// using `src = (dst + 0.5) · scale − 0.5`, clamped to the edge.
pub fn taps(src: u32, dst: u32) -> Vec<(usize, usize, f32)> {
    let scale = f64::from(src) / f64::from(dst.max(1));
    let last = src.saturating_sub(1) as usize;
    (0..dst)
        .map(|d| {
            let s = ((f64::from(d) + 0.5) * scale - 0.5).max(0.0);
            let i0 = (s.floor() as usize).min(last);
            let i1 = (i0 + 1).min(last);
            (i0, i1, (s - i0 as f64).clamp(0.0, 1.0) as f32)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsampling_a_ramp_stays_linear_inside() {
        let m = Matte {
            width: 2,
            height: 1,
            values: vec![0.0, 1.0],
        };
        let r = m.resized(4, 1);
        assert_eq!(r.values, vec![0.0, 0.25, 0.75, 1.0]);
    }

    #[test]
    fn min_max_normalisation() {
        let mut m = Matte {
            width: 3,
            height: 1,
            values: vec![2.0, 3.0, 4.0],
        };
        m.normalize_min_max();
        assert_eq!(m.values, vec![0.0, 0.5, 1.0]);
        let mut flat = Matte::filled(2, 2, 0.3);
        flat.normalize_min_max();
        assert_eq!(flat.values, vec![0.0; 4]);
    }
}
