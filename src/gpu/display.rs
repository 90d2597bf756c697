//! Drawing the view composite on screen, over a checkerboard under transparency.
//!
//! The compositor's view path ([`Compositor::render_view`]) already composited what the
//! viewport shows at screen resolution; this draws it 1:1. Used by the editor's paint
//! callback, inside egui's render pass (whose viewport is the canvas widget's rectangle).
//! Nothing here knows about egui: it takes a render pass and a [`ViewTransform`] in viewport
//! pixels.

use super::compositor::Compositor;
use super::pipelines::{pipeline, shader_module, texture_entry, uniform_entry};

/// Where the canvas lands in the viewport, in physical pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ViewTransform {
    /// Viewport size (the paint callback's rectangle), in pixels.
    pub viewport_size: [f32; 2],
    /// Viewport pixel where canvas pixel (0, 0) lands.
    pub origin: [f32; 2],
    /// Viewport pixels per canvas pixel.
    pub zoom: f32,
    /// Side of one checkerboard square, in viewport pixels.
    pub checker_size: f32,
}

/// Uniforms of `shaders/display.wgsl` (`struct View`, 48 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct ViewUniform {
    rect: [f32; 4],
    viewport_size: [f32; 2],
    zoom: f32,
    checker_size: f32,
    origin: [f32; 2],
    doc_size: [f32; 2],
}

/// Pipeline and per-frame bind group for drawing the view composite into a target format.
pub struct Display {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    buffer: wgpu::Buffer,
    bind_group: Option<wgpu::BindGroup>,
}

const SLOT: u64 = 256;

impl Display {
    /// A display pipeline for render targets of `target_format` (egui's surface format).
    pub fn new(device: &wgpu::Device, target_format: wgpu::TextureFormat) -> Self {
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("strata display"),
            entries: &[
                uniform_entry(0, std::mem::size_of::<ViewUniform>(), false),
                texture_entry(1),
            ],
        });
        let module = shader_module(
            device,
            "display.wgsl",
            include_str!("../../shaders/display.wgsl"),
        );
        let pipeline = pipeline(
            device,
            &layout,
            &module,
            ("vs_tile", "fs_tile"),
            target_format,
            None,
        );
        let buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("strata display view"),
            size: SLOT,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Self {
            pipeline,
            layout,
            buffer,
            bind_group: None,
        }
    }

    /// Writes this frame's view uniforms for the compositor's last view composite (call from
    /// `prepare`, after [`Compositor::render_view`] with the same `view`).
    pub fn prepare(&mut self, compositor: &Compositor, view: &ViewTransform) {
        self.bind_group = None;
        let Some((texture_view, shown, doc_size)) = compositor.view_target() else {
            return;
        };
        if shown.is_empty() {
            return;
        }
        let uniform = ViewUniform {
            rect: [
                shown.x as f32,
                shown.y as f32,
                shown.right() as f32,
                shown.bottom() as f32,
            ],
            viewport_size: view.viewport_size,
            zoom: view.zoom.max(1e-6),
            checker_size: view.checker_size.max(1.0),
            origin: view.origin,
            doc_size: [doc_size.0 as f32, doc_size.1 as f32],
        };
        compositor
            .queue()
            .write_buffer(&self.buffer, 0, bytemuck::bytes_of(&uniform));
        let device = compositor.device();
        self.bind_group = Some(device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("strata display"),
            layout: &self.layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: self.buffer.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::TextureView(texture_view),
                },
            ],
        }));
    }

    /// Draws the view composite prepared last into `pass` (call from `paint`).
    pub fn paint(&self, pass: &mut wgpu::RenderPass<'static>) {
        if let Some(bind_group) = &self.bind_group {
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, bind_group, &[]);
            pass.draw(0..6, 0..1);
        }
    }
}

// The uniforms must fit in the buffer.
const _: () = assert!(SLOT >= std::mem::size_of::<ViewUniform>() as u64);
