//! Pipelines and per-draw bindings of the view path (see `view.rs`): one draw per layer
//! chunk and target rectangle, with the uniforms of `shaders/view_composite.wgsl`.

use super::layer_textures::Chunk;
use super::mips::MipGenerator;
use super::pipelines;
use super::tiles::Rect;
use super::uniforms::{self, Uniforms};
use super::view::ViewState;
use super::view_scale::ScalePipeline;
use crate::model::Layer;

/// Per-draw uniforms, laid out as `struct ViewDraw` in `shaders/view_composite.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(super) struct ViewDraw {
    quad: [f32; 4],
    cells: [i32; 4],
    origin: [f32; 2],
    target_size: [f32; 2],
    chunk_origin: [i32; 2],
    zoom: f32,
    /// The layer opacity (the plan path sets a clipping base's own, see `plan_draw.rs`).
    pub opacity: f32,
    /// The blend mode, as `BlendMode as u32`.
    pub mode: u32,
    level: u32,
    fill: f32,
    _pad: u32,
}

/// The view path's pipelines, built the first time a view is composited (export and the
/// command line never need them).
pub(super) struct ViewPipelines {
    /// Normal layers: fixed-function premultiplied "over".
    pub normal: wgpu::RenderPipeline,
    /// Other modes: read the backdrop copy and replace the pixels.
    pub blend: wgpu::RenderPipeline,
    /// Bindings of a draw: its uniforms (3), the layer chunk (1), the backdrop copy (2).
    pub layout: wgpu::BindGroupLayout,
    /// Makes the layer mip levels the zoomed-out view reads.
    pub mips: MipGenerator,
    /// Resamples the last composite for zoom-gesture frames.
    pub scale: ScalePipeline,
}

impl ViewPipelines {
    /// Builds the pipelines for targets of `canvas_format`.
    pub fn new(device: &wgpu::Device, canvas_format: wgpu::TextureFormat) -> Self {
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("strata view layer"),
            entries: &[
                pipelines::uniform_entry(3, std::mem::size_of::<ViewDraw>(), true),
                pipelines::texture_entry(1),
                pipelines::texture_entry(2),
            ],
        });
        // The blend maths is composite.wgsl's own, so both paths blend identically; the view
        // shader also uses its texture bindings, and the prelude's `VsOut` and helpers, which
        // `shader_module` puts in front as for every other shader.
        let source = [
            include_str!("../../shaders/composite.wgsl"),
            include_str!("../../shaders/view_composite.wgsl"),
        ]
        .join("\n");
        let module = pipelines::shader_module(device, "view_composite.wgsl", &source);
        let over = Some(wgpu::BlendState::PREMULTIPLIED_ALPHA_BLENDING);
        let entry = |fragment| ("vs_view", fragment);
        Self {
            normal: pipelines::pipeline(
                device,
                &layout,
                &module,
                entry("fs_view_normal"),
                canvas_format,
                over,
            ),
            blend: pipelines::pipeline(
                device,
                &layout,
                &module,
                entry("fs_view_blend"),
                canvas_format,
                None,
            ),
            layout,
            mips: MipGenerator::new(device),
            scale: ScalePipeline::new(device, canvas_format),
        }
    }
}

/// One draw of a layer chunk: the target rectangle it may touch and its bindings.
pub(super) struct Draw {
    /// Target pixels the draw may touch (blend modes copy this much backdrop aside).
    pub quad: Rect,
    /// The draw's uniforms, layer chunk and backdrop copy.
    pub bind_group: wgpu::BindGroup,
    /// Dynamic offset of the uniforms in their buffer.
    pub offset: u32,
}

/// One draw of `chunk` (placed at `cells`) into `quad`.
pub(super) fn view_draw(
    (device, queue, uniforms): (&wgpu::Device, &wgpu::Queue, &mut Uniforms),
    (state, pipelines): (&ViewState, &ViewPipelines),
    layer: &Layer,
    chunk: &Chunk,
    (cells, quad): (Rect, Rect),
) -> Draw {
    let placed = chunk
        .rect
        .translated(i64::from(layer.offset.x), i64::from(layer.offset.y));
    let uniform = view_uniform(state, layer, placed, chunk.levels, (cells, quad));
    let (buffer, offset) = uniforms.push(device, queue, uniform);
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("strata view draw"),
        layout: &pipelines.layout,
        entries: &[
            wgpu::BindGroupEntry {
                binding: 3,
                resource: uniforms::binding_of::<ViewDraw>(&buffer),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: wgpu::BindingResource::TextureView(&chunk.view),
            },
            wgpu::BindGroupEntry {
                binding: 2,
                resource: wgpu::BindingResource::TextureView(&state.scratch_view),
            },
        ],
    });
    Draw {
        quad,
        bind_group,
        offset,
    }
}

// Every draw's uniforms must fit in a uniform slot, and match the WGSL struct's size.
const _: () = assert!(std::mem::size_of::<ViewDraw>() == 80);

/// The uniforms of one draw of a layer chunk `placed` on the canvas (with `levels` mip
/// levels), covering the document pixels `cells` within the target rectangle `quad`.
pub(super) fn view_uniform(
    state: &ViewState,
    layer: &Layer,
    placed: Rect,
    levels: u32,
    (cells, quad): (Rect, Rect),
) -> ViewDraw {
    let key = state.key;
    ViewDraw {
        quad: [
            quad.x as f32,
            quad.y as f32,
            quad.right() as f32,
            quad.bottom() as f32,
        ],
        cells: [
            cells.x as i32,
            cells.y as i32,
            cells.right() as i32,
            cells.bottom() as i32,
        ],
        origin: key.origin,
        target_size: [key.size.0 as f32, key.size.1 as f32],
        chunk_origin: [placed.x as i32, placed.y as i32],
        zoom: key.zoom,
        opacity: layer.opacity.clamp(0.0, 1.0),
        mode: layer.blend as u32,
        level: key.level(levels),
        fill: layer.fill_opacity.clamp(0.0, 1.0),
        _pad: 0,
    }
}
