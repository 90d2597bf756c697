//! Drawing the composited canvas on screen: zoom, pan and a checkerboard under transparency.
//!
//! Used by the editor's paint callback, inside egui's render pass (whose viewport is the
//! canvas widget's rectangle). Nothing here knows about egui: it takes a render pass and a
//! [`ViewTransform`] in viewport pixels.

use super::compositor::Compositor;
use super::pipelines::{pipeline, shader_module, texture_entry};

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
    texels_per_pixel: f32,
    checker_size: f32,
    origin: [f32; 2],
    tile_size: [f32; 2],
}

/// Pipeline and per-frame bind groups for drawing the canvas into a target format.
pub struct Display {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    buffer: wgpu::Buffer,
    bind_groups: Vec<wgpu::BindGroup>,
}

const SLOT: u64 = 256;

impl Display {
    /// A display pipeline for render targets of `target_format` (egui's surface format).
    pub fn new(device: &wgpu::Device, target_format: wgpu::TextureFormat) -> Self {
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("strata display"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: wgpu::BufferSize::new(
                            std::mem::size_of::<ViewUniform>() as u64
                        ),
                    },
                    count: None,
                },
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
            bind_groups: Vec::new(),
        }
    }

    /// Writes this frame's view uniforms, one slot per canvas tile (call from `prepare`).
    pub fn prepare(&mut self, compositor: &Compositor, view: &ViewTransform) {
        let device = compositor.device();
        let tiles: Vec<_> = compositor.canvas_tiles().collect();
        let needed = SLOT * tiles.len().max(1) as u64;
        if self.buffer.size() < needed {
            self.buffer = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("strata display view"),
                size: needed,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
        }
        self.bind_groups.clear();
        for (index, (rect, texture_view)) in tiles.into_iter().enumerate() {
            let left = view.origin[0] + rect.x as f32 * view.zoom;
            let top = view.origin[1] + rect.y as f32 * view.zoom;
            let uniform = ViewUniform {
                rect: [
                    left,
                    top,
                    left + rect.width as f32 * view.zoom,
                    top + rect.height as f32 * view.zoom,
                ],
                viewport_size: view.viewport_size,
                texels_per_pixel: 1.0 / view.zoom.max(1e-6),
                checker_size: view.checker_size.max(1.0),
                origin: [left, top],
                tile_size: [rect.width as f32, rect.height as f32],
            };
            let offset = index as u64 * SLOT;
            compositor
                .queue()
                .write_buffer(&self.buffer, offset, bytemuck::bytes_of(&uniform));
            self.bind_groups
                .push(device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("strata display tile"),
                    layout: &self.layout,
                    entries: &[
                        wgpu::BindGroupEntry {
                            binding: 0,
                            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                                buffer: &self.buffer,
                                offset,
                                size: wgpu::BufferSize::new(
                                    std::mem::size_of::<ViewUniform>() as u64
                                ),
                            }),
                        },
                        wgpu::BindGroupEntry {
                            binding: 1,
                            resource: wgpu::BindingResource::TextureView(texture_view),
                        },
                    ],
                }));
        }
    }

    /// Draws the tiles prepared last into `pass` (call from `paint`).
    pub fn paint(&self, pass: &mut wgpu::RenderPass<'static>) {
        pass.set_pipeline(&self.pipeline);
        for bind_group in &self.bind_groups {
            pass.set_bind_group(0, bind_group, &[]);
            pass.draw(0..6, 0..1);
        }
    }
}

// Every tile's uniforms must fit in its slot.
const _: () = assert!(SLOT >= std::mem::size_of::<ViewUniform>() as u64);
