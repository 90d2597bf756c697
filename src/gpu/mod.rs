//! GPU compositing with wgpu and the WGSL shaders in `shaders/`.
//!
//! One [`Compositor`] serves both the editor (inside egui's paint callback, on egui's device)
//! and headless work (export, `strata flatten --gpu`, benchmarks, tests) on a device of its
//! own from [`HeadlessGpu`]. Results match [`crate::model::composite`] within 1/255.
//!
//! Two paths: [`Compositor::render`] composites the whole document at full resolution
//! (export, `strata flatten --gpu`); [`Compositor::render_view`] composites only what a
//! zoomed and panned view shows, at screen resolution (the editor's canvas, see `view.rs`).
//! Both run the document's render plan ([`crate::model::render_plan`]): a document with
//! groups, masks or clipping is composited on a stack of canvas textures (`plan_draw.rs`),
//! one without them on the original, batched paths.

mod compositor;
mod context;
mod display;
mod layer_textures;
mod mask_textures;
mod mips;
mod pipelines;
mod plan_draw;
mod plan_pipelines;
mod readback;
pub use readback::read_texture_rgba8;
pub mod tiles;
mod uniforms;
mod view;
mod view_draw;
mod view_geometry;
mod view_scale;

pub use compositor::Compositor;
pub use context::HeadlessGpu;
pub use display::{Display, ViewTransform};

use crate::model::{Document, RgbaImage};

/// The premultiplied canvas format for `device`: RGBA32F where the device can blend it
/// (`FLOAT32_BLENDABLE`), else RGBA16F, which every backend renders and blends. Half floats
/// already avoid 8-bit drift across dozens of layers, but colour burn and dodge divide by
/// the source colour and magnify the backdrop's 11-bit mantissa past 1/255; full floats
/// match the CPU reference everywhere.
pub fn canvas_format(device: &wgpu::Device) -> wgpu::TextureFormat {
    if device
        .features()
        .contains(wgpu::Features::FLOAT32_BLENDABLE)
    {
        wgpu::TextureFormat::Rgba32Float
    } else {
        wgpu::TextureFormat::Rgba16Float
    }
}

/// What can go wrong on the GPU path.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GpuError {
    #[error("no GPU adapter found ({0}); on Linux without a GPU install mesa-vulkan-drivers")]
    NoAdapter(String),
    #[error("cannot open the GPU device: {0}")]
    Device(String),
    #[error("GPU out of memory: {0}")]
    OutOfMemory(String),
    #[error("reading the result back from the GPU failed: {0}")]
    Readback(String),
    #[error("the canvas has no pixels")]
    EmptyCanvas,
}

/// Composites `doc` on a fresh headless device and returns straight-alpha RGBA8.
pub fn composite_headless(doc: &Document) -> Result<RgbaImage, GpuError> {
    let gpu = HeadlessGpu::new()?;
    let mut compositor = Compositor::new(gpu.device, gpu.queue);
    compositor.render(doc)?;
    compositor.read_rgba()
}
