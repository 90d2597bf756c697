//! Render pipelines and bind-group layouts of the compositor, built once per device.

/// Format of exported / read-back pixels: straight-alpha RGBA8, like the files.
pub const OUTPUT_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

/// Per-draw uniforms, laid out as `struct Draw` in the WGSL files (64 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct DrawUniform {
    pub origin: [i32; 2],
    pub size: [i32; 2],
    pub src: [i32; 2],
    pub target_size: [f32; 2],
    pub opacity: f32,
    pub mode: u32,
    /// Canvas pixel of target pixel (0, 0): dissolve's pattern is tied to the canvas.
    pub canvas_origin: [i32; 2],
    /// The layer's fill opacity (`opacity` is the layer opacity alone).
    pub fill: f32,
    pub _pad: [u32; 3],
}

/// Every pipeline the compositor uses.
pub struct Pipelines {
    /// Straight RGBA8 layer → premultiplied canvas with fixed-function "over".
    pub normal: wgpu::RenderPipeline,
    /// Any other blend mode: reads a backdrop copy and replaces the covered pixels.
    pub blend: wgpu::RenderPipeline,
    /// A premultiplied cache texture drawn "over" the canvas.
    pub premul_over: wgpu::RenderPipeline,
    /// Premultiplied canvas → straight RGBA8 output.
    pub finish: wgpu::RenderPipeline,
    pub layer_layout: wgpu::BindGroupLayout,
    pub premul_layout: wgpu::BindGroupLayout,
    pub finish_layout: wgpu::BindGroupLayout,
    /// Format of canvas, scratch and cache textures (see [`super::canvas_format`]).
    pub canvas_format: wgpu::TextureFormat,
}

/// A fragment-stage float texture read with `textureLoad` at `binding`.
pub(super) fn texture_entry(binding: u32) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::FRAGMENT,
        // Only textureLoad is used: exact texels, no filtering, no sampler.
        ty: wgpu::BindingType::Texture {
            sample_type: wgpu::TextureSampleType::Float { filterable: false },
            view_dimension: wgpu::TextureViewDimension::D2,
            multisampled: false,
        },
        count: None,
    }
}

/// A uniform buffer of `size` bytes at `binding`, seen by both shader stages. With
/// `dynamic_offset`, one buffer holds every draw of a frame and each draw binds its slot.
pub(super) fn uniform_entry(
    binding: u32,
    size: usize,
    dynamic_offset: bool,
) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: dynamic_offset,
            min_binding_size: wgpu::BufferSize::new(size as u64),
        },
        count: None,
    }
}

impl Pipelines {
    /// Builds the pipelines for canvases of `canvas_format` (RGBA32F or RGBA16F).
    pub fn new(device: &wgpu::Device, canvas_format: wgpu::TextureFormat) -> Self {
        let layer_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("strata layer"),
            entries: &[
                uniform_entry(0, std::mem::size_of::<DrawUniform>(), true),
                texture_entry(1),
                texture_entry(2),
            ],
        });
        let premul_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("strata premultiplied cache"),
            entries: &[
                uniform_entry(0, std::mem::size_of::<DrawUniform>(), true),
                texture_entry(1),
            ],
        });
        let finish_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("strata finish"),
            entries: &[texture_entry(0)],
        });
        let composite = shader_module(
            device,
            "composite.wgsl",
            include_str!("../../shaders/composite.wgsl"),
        );
        let premul = shader_module(
            device,
            "premul_over.wgsl",
            include_str!("../../shaders/premul_over.wgsl"),
        );
        let finish = shader_module(
            device,
            "finish.wgsl",
            include_str!("../../shaders/finish.wgsl"),
        );
        let over = Some(wgpu::BlendState::PREMULTIPLIED_ALPHA_BLENDING);
        Self {
            normal: pipeline(
                device,
                &layer_layout,
                &composite,
                ("vs_rect", "fs_normal"),
                canvas_format,
                over,
            ),
            blend: pipeline(
                device,
                &layer_layout,
                &composite,
                ("vs_rect", "fs_blend"),
                canvas_format,
                None,
            ),
            premul_over: pipeline(
                device,
                &premul_layout,
                &premul,
                ("vs_rect", "fs_premul"),
                canvas_format,
                over,
            ),
            finish: pipeline(
                device,
                &finish_layout,
                &finish,
                ("vs_fullscreen", "fs_straight"),
                OUTPUT_FORMAT,
                None,
            ),
            layer_layout,
            premul_layout,
            finish_layout,
            canvas_format,
        }
    }
}

/// The WGSL every shader starts with: the vertex helpers, `struct Draw` and the
/// premultiply/unpremultiply helpers (WGSL has no `#include`).
const PRELUDE: &str = include_str!("../../shaders/prelude.wgsl");

/// The full source of a shader: [`PRELUDE`], then the shader file's own `source`. Line
/// numbers in compiler messages count from the prelude's first line.
pub(super) fn with_prelude(source: &str) -> String {
    format!("{PRELUDE}\n{source}")
}

/// Compiles the shader file `name`, whose text is `source`, behind the shared prelude. Every
/// pipeline's shader module is made here, so none can miss the prelude.
pub(super) fn shader_module(device: &wgpu::Device, name: &str, source: &str) -> wgpu::ShaderModule {
    device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(name),
        source: wgpu::ShaderSource::Wgsl(with_prelude(source).into()),
    })
}

/// A render pipeline drawing `module`'s `vertex` and `fragment` entry points into one target
/// of `format`, with `blend` (`None`: replace), no vertex buffers and no depth.
pub(super) fn pipeline(
    device: &wgpu::Device,
    layout: &wgpu::BindGroupLayout,
    module: &wgpu::ShaderModule,
    (vertex, fragment): (&str, &str),
    format: wgpu::TextureFormat,
    blend: Option<wgpu::BlendState>,
) -> wgpu::RenderPipeline {
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(fragment),
        bind_group_layouts: &[Some(layout)],
        immediate_size: 0,
    });
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some(fragment),
        layout: Some(&pipeline_layout),
        vertex: wgpu::VertexState {
            module,
            entry_point: Some(vertex),
            compilation_options: Default::default(),
            buffers: &[],
        },
        primitive: wgpu::PrimitiveState::default(),
        depth_stencil: None,
        multisample: wgpu::MultisampleState::default(),
        fragment: Some(wgpu::FragmentState {
            module,
            entry_point: Some(fragment),
            compilation_options: Default::default(),
            targets: &[Some(wgpu::ColorTargetState {
                format,
                blend,
                write_mask: wgpu::ColorWrites::ALL,
            })],
        }),
        multiview_mask: None,
        cache: None,
    })
}

#[cfg(test)]
mod tests {
    use crate::model::BlendMode;

    /// Every shader relies on the prelude, and none repeats what the prelude defines.
    #[test]
    fn shaders_use_the_prelude_without_repeating_it() {
        let shaders = [
            include_str!("../../shaders/composite.wgsl"),
            include_str!("../../shaders/premul_over.wgsl"),
            include_str!("../../shaders/finish.wgsl"),
            include_str!("../../shaders/display.wgsl"),
            include_str!("../../shaders/plan.wgsl"),
            include_str!("../../shaders/plan_view.wgsl"),
        ];
        for source in shaders {
            let full = super::with_prelude(source);
            assert!(full.starts_with(super::PRELUDE));
            for defined in [
                "struct VsOut {",
                "struct Draw {",
                "fn rect_vertex(",
                "fn unpremultiply(",
            ] {
                assert_eq!(full.matches(defined).count(), 1, "{defined}");
            }
        }
    }

    /// The shader switches on `BlendMode as u32`; its constants must follow the enum.
    #[test]
    fn shader_mode_constants_match_the_model() {
        let source = include_str!("../../shaders/composite.wgsl");
        let constants: Vec<(String, u32)> = source
            .lines()
            .filter_map(|line| line.strip_prefix("const MODE_"))
            .filter_map(|rest| {
                let (name, value) = rest.split_once(": u32 =")?;
                let value = value
                    .trim()
                    .trim_end_matches(';')
                    .trim_end_matches('u')
                    .parse()
                    .ok()?;
                Some((name.replace('_', ""), value))
            })
            .collect();
        assert_eq!(constants.len(), BlendMode::ALL.len());
        for mode in BlendMode::ALL {
            let name = format!("{mode:?}").to_uppercase();
            assert!(
                constants.contains(&(name.clone(), mode as u32)),
                "MODE_{name} is not {}",
                mode as u32
            );
        }
        assert_eq!(std::mem::size_of::<super::DrawUniform>(), 64);
    }
}
