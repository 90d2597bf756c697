//! How far apart two pictures are, as one number a person can read.

use image::RgbaImage;

use super::premultiply;

/// Mean absolute difference of two same-sized pictures in 8-bit steps (0 to 255), over the
/// premultiplied RGBA channels, so that the colour of transparent pixels (which carries
/// nothing) does not count. `None` if the sizes differ.
pub fn mean_premultiplied_difference(a: &RgbaImage, b: &RgbaImage) -> Option<f64> {
    if a.dimensions() != b.dimensions() {
        return None;
    }
    let channels = a.as_raw().len() as f64;
    if channels == 0.0 {
        return Some(0.0);
    }
    let sum: f64 = a
        .pixels()
        .zip(b.pixels())
        .map(|(p, q)| {
            let (p, q) = (premultiply(p.0), premultiply(q.0));
            (0..4).map(|c| f64::from((p[c] - q[c]).abs())).sum::<f64>()
        })
        .sum();
    Some(sum * 255.0 / channels)
}

#[cfg(test)]
mod tests {
    use image::Rgba;

    use super::*;

    #[test]
    fn transparent_colour_does_not_count_and_sizes_must_match() {
        let a = RgbaImage::from_pixel(2, 1, Rgba([255, 0, 0, 0]));
        let b = RgbaImage::from_pixel(2, 1, Rgba([0, 0, 255, 0]));
        assert_eq!(mean_premultiplied_difference(&a, &b), Some(0.0));
        let c = RgbaImage::from_pixel(2, 1, Rgba([0, 0, 0, 255]));
        let d = RgbaImage::from_pixel(2, 1, Rgba([8, 0, 0, 255]));
        let mean = mean_premultiplied_difference(&c, &d).expect("same size");
        assert!((mean - 2.0).abs() < 1e-4, "{mean}");
        assert_eq!(
            mean_premultiplied_difference(&c, &RgbaImage::new(1, 1)),
            None
        );
    }
}
