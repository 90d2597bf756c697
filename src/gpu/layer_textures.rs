//! GPU copies of layer pixels, uploaded only when a layer's pixel buffer changes.
//!
//! A layer's pixels are an `Arc<RgbaImage>` that edits replace rather than mutate, so pointer
//! identity is the layer's revision: toggling visibility, changing opacity or blend mode, or
//! dragging the layer never re-uploads anything; only new pixels do.
//!
//! The view compositor also needs mip levels (see [`super::mips`]); those are generated at
//! upload when asked for. Export and the full-resolution path never ask, so they pay neither
//! the third more memory nor the downsampling; a layer uploaded without levels is uploaded
//! again the first time the view path needs them.

use std::collections::HashMap;
use std::sync::Arc;

use super::mips::{self, MipGenerator};
use super::tiles::{Rect, grid};
use crate::model::{Layer, LayerId, RgbaImage};

/// One texture holding a rectangle of a layer (the whole layer unless it exceeds the
/// device's texture size limit).
pub struct Chunk {
    /// Position and size within the layer, in layer pixels.
    pub rect: Rect,
    pub view: wgpu::TextureView,
    /// Mip levels of the texture: 1, or a full chain down to 1×1.
    pub levels: u32,
}

struct Entry {
    /// Kept to compare identity with the layer's current buffer.
    pixels: Arc<RgbaImage>,
    chunks: Vec<Chunk>,
    mipmapped: bool,
}

/// The uploaded textures of every layer of the last document seen.
#[derive(Default)]
pub struct LayerTextures {
    entries: HashMap<LayerId, Entry>,
    uploads: u64,
}

impl LayerTextures {
    /// Uploads new or changed layers and drops textures of layers no longer present. With
    /// `mips`, every layer gets a full mip chain (generated on the GPU, submitted here).
    /// `layers` are all the layers a plan may draw: the document's and their effect planes
    /// ([`crate::model::Document::drawable_layers`]).
    pub fn sync(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        layers: &[&Layer],
        max_side: u32,
        mips: Option<&MipGenerator>,
    ) {
        // Textures of layers that are gone, or whose pixels changed, go before anything is
        // uploaded, and the device is waited on so that their memory really is returned
        // first: on a software rasteriser (lavapipe) it is the process's own, and the
        // texture of a 12-megapixel layer with its levels is 64 MB. Replacing a picture's
        // layers then never holds the old and the new textures at once.
        let count = self.entries.len();
        self.entries.retain(|id, entry| {
            layers.iter().any(|l| {
                l.id == *id
                    && Arc::ptr_eq(&entry.pixels, &l.pixels)
                    && (entry.mipmapped || mips.is_none())
            })
        });
        if self.entries.len() < count {
            wait_for_device(device);
        }
        let mut encoder = None;
        let mut staged = 0;
        for &layer in layers {
            if self.entries.contains_key(&layer.id) {
                continue;
            }
            let textures = upload(device, queue, &layer.pixels, max_side, mips.is_some());
            if let Some(generator) = mips {
                let encoder = encoder.get_or_insert_with(|| {
                    device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
                        label: Some("strata mips"),
                    })
                });
                for (texture, _) in &textures {
                    generator.generate(device, encoder, texture);
                }
            }
            self.uploads += 1;
            self.entries.insert(
                layer.id,
                Entry {
                    pixels: Arc::clone(&layer.pixels),
                    chunks: textures.into_iter().map(|(_, chunk)| chunk).collect(),
                    mipmapped: mips.is_some(),
                },
            );
            // write_texture stages a copy of the pixels until its submission is done; with
            // many large layers those copies would add up to the document once more.
            staged += layer.pixels.as_raw().len();
            if staged >= MAX_STAGED {
                queue.submit(encoder.take().map(wgpu::CommandEncoder::finish));
                wait_for_device(device);
                staged = 0;
            }
        }
        if let Some(encoder) = encoder {
            // write_texture's copies are ordered before this submission.
            queue.submit([encoder.finish()]);
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

/// Bytes of pixels staged for upload after which the device is waited on, so that the
/// staging copies are freed before more are made.
const MAX_STAGED: usize = 32 << 20;

/// Waits until the device has done all submitted work, which frees what only that work
/// still held (dropped textures, staging copies).
fn wait_for_device(device: &wgpu::Device) {
    if let Err(err) = device.poll(wgpu::PollType::wait_indefinitely()) {
        tracing::warn!("waiting for the GPU failed: {err}");
    }
}

fn upload(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    pixels: &RgbaImage,
    max_side: u32,
    mipmapped: bool,
) -> Vec<(wgpu::Texture, Chunk)> {
    let (width, height) = pixels.dimensions();
    grid(width, height, max_side)
        .into_iter()
        .map(|rect| {
            let size = wgpu::Extent3d {
                width: rect.width,
                height: rect.height,
                depth_or_array_layers: 1,
            };
            let levels = if mipmapped {
                mips::level_count(rect.width, rect.height)
            } else {
                1
            };
            let mut usage = wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST;
            if levels > 1 {
                // Levels 1.. are rendered from the level above.
                usage |= wgpu::TextureUsages::RENDER_ATTACHMENT;
            }
            let texture = device.create_texture(&wgpu::TextureDescriptor {
                label: Some("strata layer"),
                size,
                mip_level_count: levels,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                // Not sRGB: the maths works on stored values, exactly as the CPU reference.
                format: wgpu::TextureFormat::Rgba8Unorm,
                usage,
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
            (texture, Chunk { rect, view, levels })
        })
        .collect()
}
