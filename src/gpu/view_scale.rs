//! Zoom-gesture frames of the view path: the last exact view composite scaled and moved to
//! the new zoom and origin on the GPU, instead of compositing every visible layer again.
//!
//! A zoom step changes what every screen pixel shows, so [`Compositor::render_view`] draws
//! all visible layers afresh (hundreds of milliseconds with many large layers on a software
//! rasteriser). While a person is still zooming, a slightly soft picture that follows the
//! gesture at once is worth more than an exact one late: [`Compositor::render_view_scaled`]
//! resamples the last exact composite (`shaders/view_scale.wgsl`), and the caller composites
//! exactly again once the gesture settles. Consecutive gesture frames all resample the same
//! exact composite (kept in the backdrop copy), so the blur does not compound. Deciding when
//! a gesture is in progress is the caller's business (the editor's canvas widget).

use super::GpuError;
use super::compositor::{CLEAR, Compositor, begin_pass};
use super::display::ViewTransform;
use super::pipelines::{pipeline, shader_module, texture_entry, uniform_entry};
use super::tiles::Rect;
use super::view::content_key;
use super::view_geometry::ViewKey;
use crate::model::Document;

/// Uniforms of `shaders/view_scale.wgsl` (`struct Scale`, 48 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct ScaleUniform {
    target_size: [f32; 2],
    ratio: f32,
    _pad0: f32,
    shift: [f32; 2],
    _pad1: [f32; 2],
    source: [i32; 4],
}

/// The exact composite a gesture frame resamples: its view and the target pixels it drew.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct ScaleSource {
    pub key: ViewKey,
    pub shown: Rect,
}

/// The resampling pipeline and its uniform buffer.
pub(super) struct ScalePipeline {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    buffer: wgpu::Buffer,
}

impl ScalePipeline {
    /// Builds the pipeline for view targets of `format`.
    pub fn new(device: &wgpu::Device, format: wgpu::TextureFormat) -> Self {
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("strata view scale"),
            entries: &[
                uniform_entry(0, std::mem::size_of::<ScaleUniform>(), false),
                texture_entry(1),
            ],
        });
        let module = shader_module(
            device,
            "view_scale.wgsl",
            include_str!("../../shaders/view_scale.wgsl"),
        );
        let pipeline = pipeline(
            device,
            &layout,
            &module,
            ("vs_scale", "fs_scale"),
            format,
            None,
        );
        let buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("strata view scale"),
            size: std::mem::size_of::<ScaleUniform>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Self {
            pipeline,
            layout,
            buffer,
        }
    }
}

impl Compositor {
    /// A zoom-gesture frame: the last exact view composite of `doc`, scaled and translated
    /// to `view` (see the module documentation), with whatever it did not cover left
    /// transparent. Falls back to [`Compositor::render_view`] when there is nothing to
    /// reuse: no composite yet, another viewport size, or changed layers. Call
    /// [`Compositor::render_view`] once the gesture ends for the exact picture.
    pub fn render_view_scaled(
        &mut self,
        doc: &Document,
        view: &ViewTransform,
    ) -> Result<(), GpuError> {
        let Some(key) = ViewKey::of(doc, view) else {
            return self.render_view(doc, view);
        };
        let content = content_key(doc);
        let reusable = self.view.as_ref().is_some_and(|state| {
            state.key.size == key.size
                && state.key.doc == key.doc
                && state.content.as_ref() == Some(&content)
                && state.pipelines.is_some()
        });
        let Some(mut state) = self.view.take().filter(|_| reusable) else {
            return self.render_view(doc, view);
        };
        let mut encoder = self.encoder("strata view scale");
        let source = match state.source {
            Some(source) => source,
            None => {
                // The backdrop copy is free between composites: keep the exact one there.
                encoder.copy_texture_to_texture(
                    state.target.as_image_copy(),
                    state.scratch.as_image_copy(),
                    state.target.size(),
                );
                ScaleSource {
                    key: state.key,
                    shown: state.shown,
                }
            }
        };
        if let Some(pipelines) = &state.pipelines {
            let scale = &pipelines.scale;
            let ratio = source.key.zoom / key.zoom;
            let uniform = ScaleUniform {
                target_size: [key.size.0 as f32, key.size.1 as f32],
                ratio,
                shift: [
                    source.key.origin[0] - key.origin[0] * ratio,
                    source.key.origin[1] - key.origin[1] * ratio,
                ],
                source: [
                    source.shown.x as i32,
                    source.shown.y as i32,
                    source.shown.right() as i32,
                    source.shown.bottom() as i32,
                ],
                ..ScaleUniform::default()
            };
            self.queue
                .write_buffer(&scale.buffer, 0, bytemuck::bytes_of(&uniform));
            let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("strata view scale"),
                layout: &scale.layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: scale.buffer.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: wgpu::BindingResource::TextureView(&state.scratch_view),
                    },
                ],
            });
            let mut pass = begin_pass(&mut encoder, &state.target_view, CLEAR);
            pass.set_pipeline(&scale.pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.draw(0..6, 0..1);
        }
        self.queue.submit([encoder.finish()]);
        let cells = Rect::new(0, 0, doc.width, doc.height);
        state.shown = key.screen_rect(cells).unwrap_or(Rect::new(0, 0, 0, 0));
        state.key = key;
        state.drag = None;
        state.source = Some(source);
        self.view = Some(state);
        Ok(())
    }
}

// The uniforms must match the WGSL struct's size.
const _: () = assert!(std::mem::size_of::<ScaleUniform>() == 48);
