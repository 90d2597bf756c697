//! Small `f64` 3-vector helpers for the palette geometry (hull, simplification, tessellation).
//!
//! Colours are points in `0..=255` RGB units. Integer colours make the orientation tests of
//! the hull exact in `f64` (every product of differences stays far below 2⁵³); points made by
//! the simplification are not integers, so tolerances come from [`tolerance`].

/// A point or vector in RGB space, `0..=255` units.
pub type V3 = [f64; 3];

pub fn sub(a: V3, b: V3) -> V3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

pub fn add(a: V3, b: V3) -> V3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

pub fn scale(a: V3, s: f64) -> V3 {
    [a[0] * s, a[1] * s, a[2] * s]
}

pub fn dot(a: V3, b: V3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub fn cross(a: V3, b: V3) -> V3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

pub fn norm2(a: V3) -> f64 {
    dot(a, a)
}

pub fn dist2(a: V3, b: V3) -> f64 {
    norm2(sub(a, b))
}

/// `a` scaled to unit length, or `None` for a (near) zero vector.
pub fn normalize(a: V3) -> Option<V3> {
    let n = norm2(a).sqrt();
    (n > 1e-300).then(|| scale(a, 1.0 / n))
}

/// Distance below which two points or a point and a plane count as touching, for points
/// spread over `extent` (the bounding-box diagonal).
pub fn tolerance(extent: f64) -> f64 {
    1e-9 * extent.max(1.0) * 256.0
}

/// Rec. 709 luma of a colour: the "darkness" order of the layers.
pub fn luma(c: V3) -> f64 {
    0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
}

/// Rows of the Moore–Penrose pseudo-inverse of the 3×k matrix whose columns are `cols`
/// (k = 1..=3): the least-squares coordinates of `x` in that basis are `rows[j] · x`.
/// `None` when the columns are (nearly) linearly dependent.
pub fn pseudo_inverse(cols: &[V3]) -> Option<Vec<V3>> {
    let k = cols.len();
    // Gram matrix G = VᵀV (k×k), inverted by Gauss–Jordan with partial pivoting.
    let mut g = [[0.0f64; 6]; 3];
    for i in 0..k {
        for j in 0..k {
            g[i][j] = dot(cols[i], cols[j]);
        }
        g[i][k + i] = 1.0;
    }
    let scale_ref = (0..k).map(|i| g[i][i]).fold(0.0f64, f64::max);
    if scale_ref <= 0.0 {
        return None;
    }
    for col in 0..k {
        let pivot = (col..k).max_by(|&a, &b| g[a][col].abs().total_cmp(&g[b][col].abs()))?;
        if g[pivot][col].abs() <= 1e-12 * scale_ref {
            return None;
        }
        g.swap(col, pivot);
        let inv = 1.0 / g[col][col];
        for v in &mut g[col][..2 * k] {
            *v *= inv;
        }
        for row in 0..k {
            if row != col {
                let f = g[row][col];
                if f != 0.0 {
                    let pivot_row = g[col];
                    for (v, p) in g[row][..2 * k].iter_mut().zip(&pivot_row[..2 * k]) {
                        *v -= f * p;
                    }
                }
            }
        }
    }
    // rows = G⁻¹ Vᵀ.
    Some(
        (0..k)
            .map(|i| {
                let mut row = [0.0; 3];
                for (j, col) in cols.iter().enumerate() {
                    row = add(row, scale(*col, g[i][k + j]));
                }
                row
            })
            .collect(),
    )
}

/// Solves the 3×3 system `rows · p = rhs` by Cramer's rule; `None` when (nearly) singular.
pub fn solve3(rows: [V3; 3], rhs: V3) -> Option<V3> {
    let det = dot(rows[0], cross(rows[1], rows[2]));
    let scale_ref = norm2(rows[0]).sqrt() * norm2(rows[1]).sqrt() * norm2(rows[2]).sqrt();
    if det.abs() <= 1e-12 * scale_ref || scale_ref == 0.0 {
        return None;
    }
    // A⁻¹ has the columns (r1×r2, r2×r0, r0×r1) / det.
    let p = add(
        add(
            scale(cross(rows[1], rows[2]), rhs[0]),
            scale(cross(rows[2], rows[0]), rhs[1]),
        ),
        scale(cross(rows[0], rows[1]), rhs[2]),
    );
    Some(scale(p, 1.0 / det))
}

pub use crate::decompose::rng::SplitMix64 as SplitMix;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudo_inverse_recovers_coordinates() {
        let cols = [[1.0, 2.0, 0.0], [0.0, 1.0, 3.0]];
        let rows = pseudo_inverse(&cols).unwrap();
        let x = add(scale(cols[0], 0.25), scale(cols[1], -2.0));
        assert!((dot(rows[0], x) - 0.25).abs() < 1e-12);
        assert!((dot(rows[1], x) + 2.0).abs() < 1e-12);
        assert!(pseudo_inverse(&[[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]).is_none());
    }

    #[test]
    fn solve3_solves() {
        let rows = [[2.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 1.0, 3.0]];
        let p = [1.0, -2.0, 0.5];
        let rhs = [dot(rows[0], p), dot(rows[1], p), dot(rows[2], p)];
        let q = solve3(rows, rhs).unwrap();
        assert!(dist2(p, q) < 1e-20);
    }
}
