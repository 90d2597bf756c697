//! The tensor plumbing of the layered pipeline around the three networks: picking the working
//! size, turning the picture into the VAE's input, packing latents into 2×2 patch tokens and
//! back, the seeded starting noise, classifier-free guidance, and turning decoded layers into
//! pictures at the input's own size.
//!
//! Each step follows diffusers' `QwenImageLayeredPipeline` so that the same weights give the
//! same layers (up to the random noise, which is our own seeded generator).

use candle_core::{D, DType, Device, Result, Tensor};
use image::imageops::FilterType;

use crate::decompose::rng::SplitMix64;
use crate::model::RgbaImage;
use crate::model::pixels::{premultiply, to_u8, unpremultiply};

/// Python's `round`: halves go to the even neighbour (the pipeline's sizes depend on it).
fn round_half_even(x: f64) -> f64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r - x.signum()
    } else {
        r
    }
}

/// The working size for a `width`×`height` picture at `resolution` (640 or 1024): the same
/// aspect ratio with an area of about `resolution²`, sides rounded to multiples of 32 (the
/// pipeline's `calculate_dimensions`, then its multiple-of-16 floor, which keeps them).
pub fn working_size(width: u32, height: u32, resolution: u32) -> (u32, u32) {
    let area = f64::from(resolution) * f64::from(resolution);
    let ratio = f64::from(width.max(1)) / f64::from(height.max(1));
    let w = (area * ratio).sqrt();
    let h = w / ratio;
    let w = (round_half_even(w / 32.0) * 32.0).max(32.0) as u32;
    let h = (round_half_even(h / 32.0) * 32.0).max(32.0) as u32;
    (w / 16 * 16, h / 16 * 16)
}

/// The picture resized to `width`×`height` as the VAE's input: `[1, 4, 1, H, W]`, RGBA in
/// −1..1 (one frame: the VAE is a video VAE).
pub fn image_to_tensor(
    image: &RgbaImage,
    width: u32,
    height: u32,
    device: &Device,
    dtype: DType,
) -> Result<Tensor> {
    // PIL's LANCZOS in diffusers; `image`'s Lanczos3 is the same filter.
    let resized = image::imageops::resize(image, width, height, FilterType::Lanczos3);
    let (w, h) = (width as usize, height as usize);
    let mut planes = vec![0f32; 4 * w * h];
    for (i, p) in resized.pixels().enumerate() {
        for c in 0..4 {
            planes[c * w * h + i] = f32::from(p[c]) / 127.5 - 1.0;
        }
    }
    Tensor::from_vec(planes, (1, 4, 1, h, w), device)?.to_dtype(dtype)
}

/// A decoded layer `[4, H, W]` in −1..1 as a straight-alpha picture (diffusers' postprocess:
/// `x/2 + 0.5`, clamp, `×255`, round).
pub fn tensor_to_image(layer: &Tensor) -> Result<RgbaImage> {
    let (channels, h, w) = layer.dims3()?;
    if channels != 4 {
        candle_core::bail!("a decoded layer has {channels} channels, expected 4 (RGBA)");
    }
    let values = layer
        .to_dtype(DType::F32)?
        .affine(0.5, 0.5)?
        .clamp(0.0, 1.0)?
        .flatten_all()?
        .to_vec1::<f32>()?;
    let plane = w * h;
    let image = RgbaImage::from_fn(w as u32, h as u32, |x, y| {
        let i = y as usize * w + x as usize;
        let px = |c: usize| to_u8(values[c * plane + i]);
        image::Rgba([px(0), px(1), px(2), px(3)])
    });
    Ok(image)
}

/// Resizes a straight-alpha layer to `width`×`height` through premultiplied alpha, so that
/// transparent pixels' colours do not bleed into the edges of what they surround.
pub fn resize_layer(layer: &RgbaImage, width: u32, height: u32) -> RgbaImage {
    if layer.dimensions() == (width, height) {
        return layer.clone();
    }
    let premultiplied = image::Rgba32FImage::from_fn(layer.width(), layer.height(), |x, y| {
        image::Rgba(premultiply(layer.get_pixel(x, y).0))
    });
    let resized = image::imageops::resize(&premultiplied, width, height, FilterType::CatmullRom);
    // Catmull-Rom overshoots at edges; unpremultiply clamps colour and alpha back in range.
    RgbaImage::from_fn(width, height, |x, y| {
        image::Rgba(unpremultiply(resized.get_pixel(x, y).0))
    })
}

/// `[B, F, C, H, W]` latents as `[B, F·(H/2)·(W/2), 4C]` tokens: each 2×2 patch of each frame
/// becomes one token (the pipeline's `_pack_latents`).
pub fn pack(latents: &Tensor) -> Result<Tensor> {
    let (b, f, c, h, w) = latents.dims5()?;
    latents
        .reshape((b * f, c, h / 2, 2, w / 2, 2))?
        .permute((0, 2, 4, 1, 3, 5))?
        .reshape((b, f * (h / 2) * (w / 2), c * 4))
}

/// The inverse of [`pack`] for `frames` frames of `h`×`w` latents: `[B, C, F, H, W]`, the
/// VAE's layout (the pipeline's `_unpack_latents`).
pub fn unpack(tokens: &Tensor, frames: usize, h: usize, w: usize) -> Result<Tensor> {
    let (b, _, channels) = tokens.dims3()?;
    let c = channels / 4;
    tokens
        .reshape((b * frames, h / 2, w / 2, c, 2, 2))?
        .permute((0, 3, 1, 4, 2, 5))?
        .reshape((b, frames, c, h, w))?
        .permute((0, 2, 1, 3, 4))?
        .contiguous()
}

/// Standard normal noise of `shape` from `seed` (Box–Muller on SplitMix64), made on the CPU
/// so a seed gives the same start on every device.
pub fn seeded_noise(shape: &[usize], seed: u64, device: &Device, dtype: DType) -> Result<Tensor> {
    let count: usize = shape.iter().product();
    let mut rng = SplitMix64::new(seed);
    let mut values = Vec::with_capacity(count + 1);
    while values.len() < count {
        // 53-bit uniforms in (0, 1]; the log needs a non-zero argument.
        let u1 = ((rng.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        let u2 = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let radius = (-2.0 * u1.ln()).sqrt();
        let angle = std::f64::consts::TAU * u2;
        values.push((radius * angle.cos()) as f32);
        values.push((radius * angle.sin()) as f32);
    }
    values.truncate(count);
    Tensor::from_vec(values, shape, &Device::Cpu)?
        .to_device(device)?
        .to_dtype(dtype)
}

/// True classifier-free guidance: `neg + scale·(cond − neg)`, and with `normalize` rescaled
/// per token to the conditional prediction's norm (the pipeline's `cfg_normalize`).
pub fn guide(cond: &Tensor, uncond: &Tensor, scale: f64, normalize: bool) -> Result<Tensor> {
    let combined = (uncond + ((cond - uncond)? * scale)?)?;
    if !normalize {
        return Ok(combined);
    }
    let norm = |t: &Tensor| -> Result<Tensor> {
        t.to_dtype(DType::F32)?
            .sqr()?
            .sum_keepdim(D::Minus1)?
            .sqrt()
    };
    let ratio = (norm(cond)? / norm(&combined)?)?.to_dtype(combined.dtype())?;
    combined.broadcast_mul(&ratio)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

    use super::*;

    #[test]
    fn working_sizes_match_the_pipeline() {
        // Examples computed with diffusers' calculate_dimensions.
        assert_eq!(working_size(720, 1280, 640), (480, 864));
        assert_eq!(working_size(1000, 1000, 640), (640, 640));
        assert_eq!(working_size(1920, 1080, 1024), (1376, 768));
        // Python would round the width to 0; we keep one 32-pixel column.
        assert_eq!(working_size(1, 5000, 640), (32, 45248));
        assert_eq!(round_half_even(2.5), 2.0);
        assert_eq!(round_half_even(3.5), 4.0);
        assert_eq!(round_half_even(-2.5), -2.0);
    }

    #[test]
    fn pack_and_unpack_are_inverse_and_match_the_patch_layout() {
        let device = Device::Cpu;
        let latents = Tensor::arange(0f32, 2.0 * 3.0 * 4.0 * 6.0, &device)
            .unwrap()
            .reshape((1, 2, 3, 4, 6))
            .unwrap();
        let tokens = pack(&latents).unwrap();
        assert_eq!(tokens.dims(), [1, 2 * 2 * 3, 12]);
        // Token 0 is frame 0's top-left patch: channel 0's four pixels first.
        let first: Vec<f32> = tokens.get(0).unwrap().get(0).unwrap().to_vec1().unwrap();
        assert_eq!(&first[..4], [0.0, 1.0, 6.0, 7.0]);
        let back = unpack(&tokens, 2, 4, 6).unwrap();
        assert_eq!(back.dims(), [1, 3, 2, 4, 6]);
        let expected = latents.permute((0, 2, 1, 3, 4)).unwrap();
        let diff = (back - expected).unwrap().abs().unwrap().max_all().unwrap();
        assert_eq!(diff.to_scalar::<f32>().unwrap(), 0.0);
    }

    #[test]
    fn noise_is_seeded_and_standard_normal() {
        let device = Device::Cpu;
        let a = seeded_noise(&[4, 1000], 7, &device, DType::F32).unwrap();
        let b = seeded_noise(&[4, 1000], 7, &device, DType::F32).unwrap();
        let c = seeded_noise(&[4, 1000], 8, &device, DType::F32).unwrap();
        let diff = |x: &Tensor, y: &Tensor| {
            (x - y)
                .unwrap()
                .abs()
                .unwrap()
                .max_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap()
        };
        assert_eq!(diff(&a, &b), 0.0);
        assert!(diff(&a, &c) > 0.1);
        let values: Vec<f32> = a.flatten_all().unwrap().to_vec1().unwrap();
        let mean = values.iter().sum::<f32>() / values.len() as f32;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / values.len() as f32;
        assert!(
            mean.abs() < 0.05 && (var - 1.0).abs() < 0.08,
            "{mean} {var}"
        );
    }

    #[test]
    fn guidance_extrapolates_and_normalises_per_token() {
        let device = Device::Cpu;
        let cond = Tensor::new(&[[3.0f32, 4.0], [1.0, 0.0]], &device).unwrap();
        let uncond = Tensor::new(&[[1.0f32, 2.0], [0.0, 0.0]], &device).unwrap();
        let plain = guide(&cond, &uncond, 2.0, false).unwrap();
        assert_eq!(plain.to_vec2::<f32>().unwrap(), [[5.0, 6.0], [2.0, 0.0]]);
        let normalised = guide(&cond, &uncond, 2.0, true).unwrap();
        let rows = normalised.to_vec2::<f32>().unwrap();
        let length = (rows[0][0].powi(2) + rows[0][1].powi(2)).sqrt();
        assert!(
            (length - 5.0).abs() < 1e-5,
            "row 0 keeps the conditional norm 5"
        );
        assert!((rows[1][0] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn pictures_go_in_and_out_in_the_vae_range() {
        let device = Device::Cpu;
        let image = RgbaImage::from_pixel(8, 4, image::Rgba([255, 0, 128, 255]));
        let tensor = image_to_tensor(&image, 8, 4, &device, DType::F32).unwrap();
        assert_eq!(tensor.dims(), [1, 4, 1, 4, 8]);
        let layer = tensor.squeeze(0).unwrap().squeeze(1).unwrap();
        let back = tensor_to_image(&layer).unwrap();
        assert_eq!(back.get_pixel(3, 2).0, [255, 0, 128, 255]);
    }

    #[test]
    fn resizing_a_layer_keeps_transparent_colour_out_of_the_edges() {
        let layer = RgbaImage::from_fn(8, 8, |x, _| {
            if x < 4 {
                image::Rgba([0, 255, 0, 0]) // invisible green
            } else {
                image::Rgba([200, 0, 0, 255])
            }
        });
        let big = resize_layer(&layer, 16, 16);
        for p in big.pixels().filter(|p| p[3] > 0) {
            assert!(p[1] < 8, "green bled into a visible pixel: {p:?}");
        }
    }
}
