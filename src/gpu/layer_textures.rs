//! GPU copies of layer pixels, uploaded only when a layer's pixel buffer changes.
//!
//! A layer's pixels are an `Arc<RgbaImage>` that edits replace rather than mutate, so pointer
//! identity is the layer's revision: toggling visibility, changing opacity or blend mode, or
//! dragging the layer never re-uploads anything; only new pixels do.

use std::collections::HashMap;
use std::sync::Arc;

use super::tiles::{Rect, grid};
use crate::model::{Layer, LayerId, RgbaImage};

/// One texture holding a rectangle of a layer (the whole layer unless it exceeds the
/// device's texture size limit).
pub struct Chunk {
    /// Position and size within the layer, in layer pixels.
    pub rect: Rect,
    pub view: wgpu::TextureView,
}

struct Entry {
    /// Kept to compare identity with the layer's current buffer.
    pixels: Arc<RgbaImage>,
    chunks: Vec<Chunk>,
}

/// The uploaded textures of every layer of the last document seen.
#[derive(Default)]
pub struct LayerTextures {
    entries: HashMap<LayerId, Entry>,
    uploads: u64,
}

impl LayerTextures {
    /// Uploads new or changed layers and drops textures of layers no longer present.
    pub fn sync(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        layers: &[Layer],
        max_side: u32,
    ) {
        self.entries
            .retain(|id, _| layers.iter().any(|l| l.id == *id));
        for layer in layers {
            let current = self
                .entries
                .get(&layer.id)
                .is_some_and(|e| Arc::ptr_eq(&e.pixels, &layer.pixels));
            if !current {
                let chunks = upload(device, queue, &layer.pixels, max_side);
                self.uploads += 1;
                self.entries.insert(
                    layer.id,
                    Entry {
                        pixels: Arc::clone(&layer.pixels),
                        chunks,
                    },
                );
            }
        }
    }

    /// The chunks of a layer, empty for zero-sized layers or unknown ids.
    pub fn chunks(&self, id: LayerId) -> &[Chunk] {
        self.entries.get(&id).map_or(&[], |e| e.chunks.as_slice())
    }

    /// How many layer uploads happened since creation (for tests and stats).
    pub fn upload_count(&self) -> u64 {
        self.uploads
    }
}

fn upload(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    pixels: &RgbaImage,
    max_side: u32,
) -> Vec<Chunk> {
    let (width, height) = pixels.dimensions();
    grid(width, height, max_side)
        .into_iter()
        .map(|rect| {
            let size = wgpu::Extent3d {
                width: rect.width,
                height: rect.height,
                depth_or_array_layers: 1,
            };
            let texture = device.create_texture(&wgpu::TextureDescriptor {
                label: Some("strata layer"),
                size,
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                // Not sRGB: the maths works on stored values, exactly as the CPU reference.
                format: wgpu::TextureFormat::Rgba8Unorm,
                usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
                view_formats: &[],
            });
            // write_texture reads straight from the layer's buffer: the chunk starts at its
            // byte offset and each row skips the full layer width (no 256-byte rule here).
            let offset = (rect.y as u64 * u64::from(width) + rect.x as u64) * 4;
            queue.write_texture(
                wgpu::TexelCopyTextureInfo {
                    texture: &texture,
                    mip_level: 0,
                    origin: wgpu::Origin3d::ZERO,
                    aspect: wgpu::TextureAspect::All,
                },
                pixels.as_raw(),
                wgpu::TexelCopyBufferLayout {
                    offset,
                    bytes_per_row: Some(width * 4),
                    rows_per_image: Some(height),
                },
                size,
            );
            let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
            Chunk { rect, view }
        })
        .collect()
}
