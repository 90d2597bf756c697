//! GPU copies of layer and group masks: one R8 texture per mask, holding its coverage
//! ([`Mask::coverage`]: feather applied), uploaded only when the mask changes.
//!
//! Like layer pixels, mask pixels are an `Arc` that edits replace, so the buffer's identity
//! together with the properties the coverage bakes in (offset, background, feather) is the
//! mask's revision: changing density or toggling the mask never re-uploads, and a feathered
//! mask is blurred once, not every frame. Density is a draw uniform.

use std::sync::Arc;

use image::GrayImage;

use crate::model::{Mask, Offset};

/// What an uploaded coverage depends on.
#[derive(Clone, Debug)]
struct MaskKey {
    /// Kept to compare identity with the mask's current buffer (and to keep the address
    /// from being reused by another buffer while cached).
    pixels: Arc<GrayImage>,
    offset: Offset,
    background: u8,
    feather: u32,
}

impl MaskKey {
    fn of(mask: &Mask) -> Self {
        Self {
            pixels: Arc::clone(&mask.pixels),
            offset: mask.offset,
            background: mask.background,
            feather: mask.feather.to_bits(),
        }
    }

    fn matches(&self, mask: &Mask) -> bool {
        Arc::ptr_eq(&self.pixels, &mask.pixels)
            && self.offset == mask.offset
            && self.background == mask.background
            && self.feather == mask.feather.to_bits()
    }
}

/// One uploaded coverage: where it lies on the canvas and its texture.
pub(super) struct MaskTexture {
    key: MaskKey,
    /// Canvas pixel of texel (0, 0) (feathering grows the rectangle).
    pub origin: Offset,
    /// Size in pixels; zero for an empty mask (then `view` is a placeholder and every
    /// pixel reads the background).
    pub size: (u32, u32),
    /// The value outside the rectangle, 0..=255.
    pub background: u8,
    pub view: wgpu::TextureView,
}

/// The mask textures of the masks the last plan used, and a 1×1 placeholder bound where
/// a draw has no mask (a bind group needs every binding).
#[derive(Default)]
pub(super) struct MaskTextures {
    entries: Vec<MaskTexture>,
    placeholder: Option<wgpu::TextureView>,
    uploads: u64,
}

impl MaskTextures {
    /// Uploads the coverage of every mask in `masks` not uploaded yet, and drops textures
    /// of masks no longer used. Masks larger than the device's texture limit are skipped
    /// (their draws then go unmasked: a limitation of this path, see `plan_draw.rs`).
    pub fn sync(&mut self, device: &wgpu::Device, queue: &wgpu::Queue, masks: &[&Mask]) {
        self.entries
            .retain(|e| masks.iter().any(|m| e.key.matches(m)));
        let max_side = device.limits().max_texture_dimension_2d;
        for mask in masks {
            if self.entries.iter().any(|e| e.key.matches(mask)) {
                continue;
            }
            // Enabled masks only reach here, but a disabled one simply has no coverage.
            let Some(coverage) = mask.coverage() else {
                continue;
            };
            let (width, height) = coverage.pixels.dimensions();
            if width > max_side || height > max_side {
                continue;
            }
            let view = if width == 0 || height == 0 {
                self.placeholder(device, queue).clone()
            } else {
                upload(device, queue, &coverage.pixels)
            };
            self.uploads += 1;
            self.entries.push(MaskTexture {
                key: MaskKey::of(mask),
                origin: coverage.offset,
                size: (width, height),
                background: coverage.background,
                view,
            });
        }
    }

    /// The uploaded coverage of `mask`, if [`MaskTextures::sync`] uploaded it.
    pub fn get(&self, mask: &Mask) -> Option<&MaskTexture> {
        self.entries.iter().find(|e| e.key.matches(mask))
    }

    /// A 1×1 white texture for draws without a mask.
    pub fn placeholder(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
    ) -> &wgpu::TextureView {
        self.placeholder.get_or_insert_with(|| {
            upload(
                device,
                queue,
                &GrayImage::from_pixel(1, 1, image::Luma([255])),
            )
        })
    }

    /// How many mask uploads happened since creation (for tests).
    pub fn upload_count(&self) -> u64 {
        self.uploads
    }
}

fn upload(device: &wgpu::Device, queue: &wgpu::Queue, pixels: &GrayImage) -> wgpu::TextureView {
    let (width, height) = pixels.dimensions();
    let size = wgpu::Extent3d {
        width,
        height,
        depth_or_array_layers: 1,
    };
    let texture = device.create_texture(&wgpu::TextureDescriptor {
        label: Some("strata mask"),
        size,
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        // Unorm: the shader reads v/255, as model::Coverage::at computes it.
        format: wgpu::TextureFormat::R8Unorm,
        usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
        view_formats: &[],
    });
    queue.write_texture(
        texture.as_image_copy(),
        pixels.as_raw(),
        wgpu::TexelCopyBufferLayout {
            offset: 0,
            bytes_per_row: Some(width),
            rows_per_image: Some(height),
        },
        size,
    );
    texture.create_view(&wgpu::TextureViewDescriptor::default())
}
