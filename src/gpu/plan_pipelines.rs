//! Pipelines and uniforms of the render-plan path (see `plan_draw.rs`): layer draws with
//! masks and clipping on both paths, and the merge of a group canvas, all from
//! `shaders/plan.wgsl` (and `plan_view.wgsl` for the view path).

use super::pipelines::{self, DrawUniform};
use super::view_draw::ViewDraw;

/// Per-draw plan uniforms, laid out as `struct Plan` in `shaders/plan.wgsl` (64 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(super) struct PlanUniform {
    pub map_origin: [f32; 2],
    pub map_zoom: f32,
    pub clip: u32,
    pub mask_origin: [i32; 2],
    pub mask_size: [i32; 2],
    pub mask_background: f32,
    pub mask_density: f32,
    pub has_mask: u32,
    pub strength: f32,
    pub merge_mode: u32,
    /// A merge maps its canvas through the adjustment first: 0 none, 1 a table by
    /// luminosity, 2 a table per channel, 3 a matrix (`plan.wgsl`'s `MAP_*`).
    pub has_map: u32,
    pub _pad: [u32; 2],
}

const _: () = assert!(std::mem::size_of::<PlanUniform>() == 64);

/// `merge_mode` of a pass-through merge (`MERGE_PASS_THROUGH` in `plan.wgsl`).
pub(super) const MERGE_PASS_THROUGH: u32 = u32::MAX;

/// The plan pipelines, built the first time a document needs them.
pub(super) struct PlanPipelines {
    /// A layer chunk of the full path: bindings 0 (draw), 1 (layer), 2 (backdrop copy),
    /// 4 (mask), 5 (plan).
    pub layer: wgpu::RenderPipeline,
    pub layer_layout: wgpu::BindGroupLayout,
    /// A group canvas into the one below: 1 (canvas), 2 (copy below), 4 (mask), 5 (plan).
    pub merge: wgpu::RenderPipeline,
    pub merge_layout: wgpu::BindGroupLayout,
    /// A layer chunk of the view path: as `layer`, with the view uniforms at 3 for 0.
    pub view: wgpu::RenderPipeline,
    /// Normal layers without mask or clipping, on either path: fixed-function "over" with
    /// the flat paths' shaders (`layer_layout` and `view_layout`), so no backdrop copy.
    pub layer_over: wgpu::RenderPipeline,
    pub view_over: wgpu::RenderPipeline,
    pub view_layout: wgpu::BindGroupLayout,
}

impl PlanPipelines {
    /// Builds the plan pipelines for canvases of `canvas_format`.
    pub(super) fn new(device: &wgpu::Device, canvas_format: wgpu::TextureFormat) -> Self {
        let plan_size = std::mem::size_of::<PlanUniform>();
        let layout = |label: &str, mut entries: Vec<wgpu::BindGroupLayoutEntry>| {
            entries.push(pipelines::texture_entry(4));
            entries.push(pipelines::uniform_entry(5, plan_size, true));
            device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some(label),
                entries: &entries,
            })
        };
        let textures = || vec![pipelines::texture_entry(1), pipelines::texture_entry(2)];
        let with_uniform = |binding: u32, size: usize| {
            let mut entries = textures();
            entries.push(pipelines::uniform_entry(binding, size, true));
            entries
        };
        let layer_layout = layout(
            "strata plan layer",
            with_uniform(0, std::mem::size_of::<DrawUniform>()),
        );
        let mut merge_entries = textures();
        merge_entries.push(pipelines::texture_entry(6)); // an adjustment's table
        let merge_layout = layout("strata plan merge", merge_entries);
        let view_layout = layout(
            "strata plan view layer",
            with_uniform(3, std::mem::size_of::<ViewDraw>()),
        );
        let composite = include_str!("../../shaders/composite.wgsl");
        let plan = include_str!("../../shaders/plan.wgsl");
        let full = pipelines::shader_module(device, "plan.wgsl", &[composite, plan].join("\n"));
        let view_source = [
            composite,
            include_str!("../../shaders/view_composite.wgsl"),
            plan,
            include_str!("../../shaders/plan_view.wgsl"),
        ]
        .join("\n");
        let view = pipelines::shader_module(device, "plan_view.wgsl", &view_source);
        // Plan draws replace the pixels they cover (the shaders read the backdrop), except
        // the plain normal ones, which blend "over".
        let over = Some(wgpu::BlendState::PREMULTIPLIED_ALPHA_BLENDING);
        let pipeline = |layout: &wgpu::BindGroupLayout,
                        module: &wgpu::ShaderModule,
                        entries: (&str, &str),
                        blend: Option<wgpu::BlendState>| {
            pipelines::pipeline(device, layout, module, entries, canvas_format, blend)
        };
        let build =
            |layout: &wgpu::BindGroupLayout, module: &wgpu::ShaderModule, entries: (&str, &str)| {
                pipeline(layout, module, entries, None)
            };
        Self {
            layer_over: pipeline(&layer_layout, &full, ("vs_rect", "fs_normal"), over),
            view_over: pipeline(&view_layout, &view, ("vs_view", "fs_view_normal"), over),
            layer: build(&layer_layout, &full, ("vs_rect", "fs_plan_layer")),
            merge: build(&merge_layout, &full, ("vs_plan_full", "fs_plan_merge")),
            view: build(&view_layout, &view, ("vs_view", "fs_plan_view_layer")),
            layer_layout,
            merge_layout,
            view_layout,
        }
    }
}
