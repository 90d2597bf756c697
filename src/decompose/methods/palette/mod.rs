//! The **palette** method: soft colour layers that add up exactly, for recolouring.
//!
//! After Tan, Lien & Gingold 2016, "Decomposing images into layers via RGB-space geometry"
//! (palette = simplified convex hull of the colours, layers composited "over") and Tan,
//! Echevarria & Gingold 2018, "Efficient palette-based decomposition and recoloring of
//! images via RGBXY-space geometry" (weights as barycentric coordinates in a star
//! tessellation of the palette).
//!
//! # Pipeline
//!
//! 1. **Distinct colours** (`colors.rs`). Everything below runs once per distinct colour or
//!    (colour, alpha) pair, never per pixel, and pixels look their results up at the end.
//! 2. **Palette** (`select.rs`, `hull.rs`, `simplify.rs`, `planar.rs`). The RGB convex hull
//!    of the colours (our own quickhull: no crate handles the degenerate point sets pictures
//!    produce without panicking), simplified by progressive-hull edge collapses towards
//!    `n = min(layers, distinct colours)` vertices that keep enclosing every colour and stay
//!    inside the RGB cube, rounded outward to 8 bits. Enclosing collapses often run out
//!    before `n` (typically around 6–10 vertices for photos); the remaining collapses are
//!    chosen to leave the fewest of 4096 randomly drawn pixels (seeded) outside. A hull with
//!    fewer than `n` vertices gets inner picture colours added (farthest-point sampling),
//!    so the layer count is always exactly `n`.
//! 3. **Weights** (`tessellate.rs`, `weights.rs`). The palette polytope is tiled by the star
//!    of tetrahedra from its darkest vertex `C₀`, subdivided at inner palette colours. A
//!    colour's weights `w` are its barycentric coordinates in the tetrahedron containing it:
//!    `w ≥ 0`, `Σ wᵢ = 1`, `Σ wᵢ Cᵢ = x` exactly, at most 4 non-zero (sparse layers), and
//!    continuous, piecewise linear in `x` (similar colours get similar weights). This is
//!    the RGB stage of Tan 2018; we skip its RGBXY stage, which buys spatial smoothness and
//!    speed through far fewer points — we get the speed from distinct colours instead, and
//!    identical colours get identical weights. Colours outside the polytope get the weights
//!    of their Euclidean projection onto it (the simplex-constrained least-squares
//!    solution). Batched candle tensor maths, on any candle device.
//! 4. **Layers** (`opacity.rs`). Layer `i` is the solid colour `Cᵢ` with opacity
//!    `αᵢ = A wᵢ / (1 − A + A Σ_{j≤i} wⱼ)` (input alpha `A`; for opaque pixels
//!    `α₀ = 1, αᵢ = wᵢ / Σ_{j≤i} wⱼ`), rounded to 8 bits with error feedback through the
//!    stack. Compositing the layers "over", bottom first, gives premultiplied colour
//!    `A Σ wᵢ Cᵢ` and alpha `A`: the input. Colours the palette cannot reach (outside the
//!    polytope) keep exactness by moving the layer colours at their pixels only.
//!
//! Layer order: `C₀` (the darkest hull vertex) at the bottom, fully opaque wherever the
//! input is; the others from dark to light.
//!
//! # Accuracy and limits
//!
//! Opaque pixels come back within 8-bit rounding (RMSE 0.1–0.3/255 on the test pictures).
//! Semi-transparent pixels are exact in premultiplied terms; their straight colour carries
//! the rounding error divided by their alpha, as any 8-bit split of them into several
//! layers must. Layers are solid colours except at pixels whose colour lies outside the
//! palette polytope (few layers for a colourful picture): in the tests, 80–85 % of the
//! pixels of photo-like pictures keep solid layers with 5 colours, all of them with 8.
//! Weights depend on colour only (no spatial smoothness term), so equal colours always get
//! equal layers.

mod colors;
mod geom;
mod hull;
mod opacity;
mod planar;
mod select;
mod simplify;
mod tessellate;
mod weights;

use candle_core::Device;

use crate::decompose::{DecomposeError, Decomposer, LayerSpec, Options, Progress, validate};
use crate::model::{Offset, RgbaImage};
use geom::V3;
use tessellate::Complex;

/// Pixels drawn to score palette simplifications that cannot enclose every colour.
const SAMPLE: usize = 4096;

/// The palette decomposer. Runs its tensor maths on `device` (the CPU by default).
#[derive(Clone, Debug)]
pub struct PaletteDecomposer {
    device: Device,
}

impl Default for PaletteDecomposer {
    fn default() -> Self {
        Self {
            device: Device::Cpu,
        }
    }
}

impl PaletteDecomposer {
    /// A decomposer running its tensor maths on `device` (CPU, or CUDA / Metal when candle
    /// is built with them).
    pub fn with_device(device: Device) -> Self {
        Self { device }
    }
}

/// Colour layers returned when the count is automatic: a typical palette size (Tan et al.
/// report 4–7 layers for most pictures).
pub const AUTO_LAYERS: usize = 5;

impl Decomposer for PaletteDecomposer {
    fn decompose(
        &self,
        image: &RgbaImage,
        options: &Options,
        progress: &Progress,
    ) -> Result<Vec<LayerSpec>, DecomposeError> {
        validate(image, options)?;
        let check = || progress.check();
        progress.set(0.0, "Counting colours");
        let index = colors::index_colours(image, &check)?;
        if index.colours.is_empty() {
            // Nothing visible: one transparent layer.
            progress.set(1.0, "Done");
            let (w, h) = image.dimensions();
            return Ok(vec![layer_spec(0, [0; 3], RgbaImage::new(w, h))]);
        }
        let n = options.layers.or(AUTO_LAYERS).min(index.colours.len());

        progress.set(0.1, "Finding the palette");
        let sample = pixel_sample(&index, options.seed);
        let corners = select::choose(&index.colours, &sample, n, &check)?;
        progress.set(0.25, "Tiling the palette");
        let mut complex = Complex::new(corners, &check)?;
        select::fill(&mut complex, &index.colours, n, options.seed, &check)?;
        complex.order_layers();
        let palette: Vec<[u8; 3]> = complex.points.iter().map(|p| to_u8(*p)).collect();
        tracing::debug!(?palette, simplices = complex.simplices.len(), "palette");

        let weights = weights::solve(
            &complex,
            &index.colours,
            &self.device,
            &progress.scoped(0.3, 0.7),
        )?;
        progress.set(0.7, "Computing opacities");
        let layer_colours = opacity::layer_colours(&palette, &index.colours, &weights);
        let moved = layer_colours.row_of.iter().filter(|&&r| r != 0).count();
        tracing::debug!(
            moved,
            of = index.colours.len(),
            "colours outside the palette"
        );
        let alphas = opacity::opacities(
            &index.entries,
            &weights,
            &layer_colours,
            n,
            &self.device,
            &progress.scoped(0.7, 0.85),
        )?;
        progress.set(0.85, "Building layers");
        let images = colors::assemble(
            image,
            &index,
            &alphas,
            &layer_colours,
            n,
            &progress.scoped(0.85, 1.0),
        )?;
        progress.set(1.0, "Done");
        Ok(images
            .into_iter()
            .zip(&palette)
            .enumerate()
            .map(|(i, (pixels, colour))| layer_spec(i, *colour, pixels))
            .collect())
    }
}

/// Colours of up to [`SAMPLE`] visible pixels drawn with `seed`.
fn pixel_sample(index: &colors::ColourIndex, seed: u64) -> Vec<V3> {
    let mut rng = geom::SplitMix::new(seed ^ 0x5A3D_17C2);
    let pixels = index.pixel_entry.len();
    (0..SAMPLE.min(pixels))
        .filter_map(|_| {
            let entry = index.entries[index.pixel_entry[rng.below(pixels)] as usize];
            (entry.alpha > 0).then(|| index.colours[entry.colour as usize].map(f64::from))
        })
        .collect()
}

fn to_u8(p: V3) -> [u8; 3] {
    p.map(|x| x.round().clamp(0.0, 255.0) as u8)
}

/// A full-canvas layer named like "Palette 3 (#A1B2C3)" (numbered from 1, bottom first).
fn layer_spec(index: usize, [r, g, b]: [u8; 3], pixels: RgbaImage) -> LayerSpec {
    LayerSpec::new(
        format!("Palette {} (#{r:02X}{g:02X}{b:02X})", index + 1),
        pixels,
        Offset::new(0, 0),
    )
}
