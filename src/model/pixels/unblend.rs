//! "Over" solved backwards: the colour a layer needs so that, composited over a known
//! backdrop with a given alpha, it gives back a known colour. Decomposition splits a pixel
//! between an object or region layer and the background under it this way, so that their
//! composite is the input again. All values are straight colour in `0..=1`.

/// The smallest alpha `α` for which a colour `F` in `0..=1` with `α·F + (1 − α)·B = I`
/// exists in every channel: per channel `(I − B)/(1 − B)` where `I > B` (F may not pass
/// white) and `(B − I)/B` where `I < B` (F may not pass black).
pub fn min_unblend_alpha(i: [f32; 3], b: [f32; 3]) -> f32 {
    let need = |c: usize| {
        if i[c] > b[c] {
            (i[c] - b[c]) / (1.0 - b[c])
        } else if i[c] < b[c] {
            (b[c] - i[c]) / b[c]
        } else {
            0.0
        }
    };
    need(0).max(need(1)).max(need(2)).min(1.0)
}

/// The colour `F = B + (I − B)/α` that, composited over `B` with alpha `alpha` (> 0), gives
/// `I`. Not clamped: below [`min_unblend_alpha`] it leaves `0..=1`, and [`super::to_u8`]
/// clamps when it is stored.
pub fn unblend(i: [f32; 3], b: [f32; 3], alpha: f32) -> [f32; 3] {
    std::array::from_fn(|c| b[c] + (i[c] - b[c]) / alpha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_solved_colour_composites_back() {
        let (i, b) = ([0.8, 0.2, 0.5], [0.4, 0.6, 0.5]);
        let alpha = min_unblend_alpha(i, b);
        // Red must reach white: (0.8 − 0.4)/(1 − 0.4); green must reach black: 0.4/0.6.
        assert!((alpha - 2.0 / 3.0).abs() < 1e-6);
        let f = unblend(i, b, alpha);
        for c in 0..3 {
            assert!((-1e-6..=1.0 + 1e-6).contains(&f[c]), "{f:?}");
            assert!((alpha * f[c] + (1.0 - alpha) * b[c] - i[c]).abs() < 1e-6);
        }
        assert_eq!(min_unblend_alpha(b, b), 0.0);
        assert_eq!(min_unblend_alpha([1.0; 3], [0.0; 3]), 1.0);
    }
}
