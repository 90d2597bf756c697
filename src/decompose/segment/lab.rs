//! sRGB → CIE L*a*b* (D65), the colour space SLIC and region merging measure distances in:
//! roughly perceptually uniform, so one colour threshold means much the same everywhere.

use std::sync::OnceLock;

use crate::model::pixels::unit;

/// sRGB 8-bit value → linear light, tabulated once.
fn linear_table() -> &'static [f32; 256] {
    static TABLE: OnceLock<[f32; 256]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [0.0f32; 256];
        for (i, v) in (0..=255u8).zip(t.iter_mut()) {
            let c = unit(i);
            *v = if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            };
        }
        t
    })
}

/// The CIE `f` of the Lab definition (cube root with a linear toe).
fn f(t: f32) -> f32 {
    const DELTA: f32 = 6.0 / 29.0;
    if t > DELTA * DELTA * DELTA {
        t.cbrt()
    } else {
        t / (3.0 * DELTA * DELTA) + 4.0 / 29.0
    }
}

/// Converts an 8-bit sRGB colour to `[L, a, b]` with L in 0..=100.
pub fn srgb_to_lab(rgb: [u8; 3]) -> [f32; 3] {
    let table = linear_table();
    let (r, g, b) = (
        table[rgb[0] as usize],
        table[rgb[1] as usize],
        table[rgb[2] as usize],
    );
    srgb_linear_to_lab([r, g, b])
}

/// Converts a linear-light sRGB colour (0..=1 per channel) to `[L, a, b]`.
pub fn srgb_linear_to_lab([r, g, b]: [f32; 3]) -> [f32; 3] {
    // sRGB primaries → XYZ, normalised by the D65 white point.
    let x = (0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b) / 0.950_47;
    let y = 0.212_672_9 * r + 0.715_152_2 * g + 0.072_175 * b;
    let z = (0.019_333_9 * r + 0.119_192 * g + 0.950_304_1 * b) / 1.088_83;
    let (fx, fy, fz) = (f(x), f(y), f(z));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// Linear light of an 8-bit sRGB channel value.
pub fn to_linear(v: u8) -> f32 {
    linear_table()[v as usize]
}

/// Squared Euclidean distance in Lab.
#[inline]
pub fn distance2(a: [f32; 3], b: [f32; 3]) -> f32 {
    let (d0, d1, d2) = (a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    d0 * d0 + d1 * d1 + d2 * d2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_colours() {
        let white = srgb_to_lab([255, 255, 255]);
        assert!((white[0] - 100.0).abs() < 0.05 && white[1].abs() < 0.05 && white[2].abs() < 0.05);
        assert_eq!(srgb_to_lab([0, 0, 0]), [0.0, 0.0, 0.0]);
        // Pure red is L 53.24, a 80.09, b 67.20 in every reference table.
        let red = srgb_to_lab([255, 0, 0]);
        assert!((red[0] - 53.24).abs() < 0.1 && (red[1] - 80.09).abs() < 0.2);
        assert!((red[2] - 67.20).abs() < 0.2);
    }
}
