//! Mip levels for layer textures, so the view compositor can sample a zoomed-out layer from
//! a level whose texels are about a screen pixel instead of skipping most of the full-size
//! texels (which aliases, and on a software rasteriser costs as much as the texels read).
//!
//! wgpu has no automatic mip generation: each level is rendered from the one above with a
//! 2×2 box filter in `shaders/mips.wgsl` (3 wide where an odd side leaves a texel over),
//! premultiplied-correct (see there).

/// Number of levels of a full mip chain for a `width`×`height` texture (down to 1×1).
pub fn level_count(width: u32, height: u32) -> u32 {
    32 - width.max(height).max(1).leading_zeros()
}

/// The downsampling pipeline, built once per device.
pub struct MipGenerator {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
}

impl MipGenerator {
    /// A generator for `Rgba8Unorm` textures (the layer format).
    pub fn new(device: &wgpu::Device) -> Self {
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("strata mip source"),
            entries: &[super::pipelines::texture_entry(0)],
        });
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("mips.wgsl"),
            source: wgpu::ShaderSource::Wgsl(include_str!("../../shaders/mips.wgsl").into()),
        });
        let pipeline = super::pipelines::pipeline(
            device,
            &layout,
            &module,
            ("vs_fullscreen", "fs_downsample"),
            wgpu::TextureFormat::Rgba8Unorm,
            None,
        );
        Self { pipeline, layout }
    }

    /// Records the rendering of levels 1.. of `texture` from its level 0.
    pub fn generate(
        &self,
        device: &wgpu::Device,
        encoder: &mut wgpu::CommandEncoder,
        texture: &wgpu::Texture,
    ) {
        let level_view = |level: u32| {
            texture.create_view(&wgpu::TextureViewDescriptor {
                label: Some("strata mip level"),
                base_mip_level: level,
                mip_level_count: Some(1),
                ..Default::default()
            })
        };
        for level in 1..texture.mip_level_count() {
            let source = level_view(level - 1);
            let target = level_view(level);
            let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("strata mip source"),
                layout: &self.layout,
                entries: &[wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::TextureView(&source),
                }],
            });
            let mut pass = super::compositor::begin_pass(
                encoder,
                &target,
                wgpu::LoadOp::Clear(wgpu::Color::TRANSPARENT),
            );
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.draw(0..3, 0..1);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn full_chain_ends_at_one_texel() {
        assert_eq!(super::level_count(1, 1), 1);
        assert_eq!(super::level_count(2, 1), 2);
        assert_eq!(super::level_count(5, 3), 3);
        assert_eq!(super::level_count(4096, 100), 13);
        assert_eq!(super::level_count(0, 0), 1);
    }
}
