//! Reading the composited canvas back to the CPU as straight-alpha RGBA8.

use super::GpuError;
use super::compositor::{CLEAR, Compositor, begin_pass};
use super::pipelines::OUTPUT_FORMAT;
use crate::model::RgbaImage;

/// `copy_texture_to_buffer` needs rows padded to 256 bytes.
const ROW_ALIGN: u32 = wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;

impl Compositor {
    /// Converts the last rendered canvas to straight RGBA8 and reads it back.
    pub fn read_rgba(&mut self) -> Result<RgbaImage, GpuError> {
        let (width, height) = self.canvas_size;
        if self.tiles.is_empty() {
            return Err(GpuError::EmptyCanvas);
        }
        let mut encoder = self.encoder("strata readback");
        let mut pending = Vec::with_capacity(self.tiles.len());
        for tile in &self.tiles {
            let size = wgpu::Extent3d {
                width: tile.rect.width,
                height: tile.rect.height,
                depth_or_array_layers: 1,
            };
            let read = self.queue_straight_read(&mut encoder, &tile.canvas_view, size);
            pending.push((tile.rect, read));
        }
        self.queue.submit([encoder.finish()]);

        let mut image = RgbaImage::new(width, height);
        let stride = width as usize * 4;
        let raw: &mut [u8] = &mut image;
        for (rect, read) in pending {
            let tile = read.finish(&self.device)?;
            let row_bytes = rect.width as usize * 4;
            for (row, src) in tile.chunks_exact(row_bytes).enumerate() {
                let dst_start = (rect.y as usize + row) * stride + rect.x as usize * 4;
                raw[dst_start..dst_start + row_bytes].copy_from_slice(src);
            }
        }
        Ok(image)
    }

    /// The last view composite as straight-alpha RGBA8, viewport-sized (tests, screenshots).
    pub fn read_view_rgba(&mut self) -> Result<RgbaImage, GpuError> {
        let Some(state) = &self.view else {
            return Err(GpuError::EmptyCanvas);
        };
        let size = state.target.size();
        let mut encoder = self.encoder("strata view readback");
        let read = self.queue_straight_read(&mut encoder, &state.target_view, size);
        self.queue.submit([encoder.finish()]);
        RgbaImage::from_raw(size.width, size.height, read.finish(&self.device)?)
            .ok_or_else(|| GpuError::Readback("view size and data disagree".into()))
    }
    /// Queues the finish pass (premultiplied float → straight RGBA8) of `source`, a canvas
    /// or view target of `size`, and the copy of its result into a mappable buffer.
    fn queue_straight_read(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        source: &wgpu::TextureView,
        size: wgpu::Extent3d,
    ) -> PendingRead {
        let output = self.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("strata output"),
            size,
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: OUTPUT_FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        let output_view = output.create_view(&wgpu::TextureViewDescriptor::default());
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("strata finish"),
            layout: &self.pipelines.finish_layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::TextureView(source),
            }],
        });
        {
            let mut pass = begin_pass(encoder, &output_view, CLEAR);
            pass.set_pipeline(&self.pipelines.finish);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.draw(0..3, 0..1);
        }
        queue_read(&self.device, encoder, &output)
    }
}

/// A texture copy queued into a mappable buffer, waiting for the submit.
pub(super) struct PendingRead {
    buffer: wgpu::Buffer,
    row_bytes: usize,
    padded_row: usize,
}

/// Queues a copy of a 4-bytes-per-texel texture into a buffer with rows padded to 256 bytes.
pub(super) fn queue_read(
    device: &wgpu::Device,
    encoder: &mut wgpu::CommandEncoder,
    texture: &wgpu::Texture,
) -> PendingRead {
    let size = texture.size();
    let padded_row = (size.width * 4).div_ceil(ROW_ALIGN) * ROW_ALIGN;
    let buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("strata readback"),
        size: u64::from(padded_row) * u64::from(size.height),
        usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
        mapped_at_creation: false,
    });
    encoder.copy_texture_to_buffer(
        texture.as_image_copy(),
        wgpu::TexelCopyBufferInfo {
            buffer: &buffer,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(padded_row),
                rows_per_image: Some(size.height),
            },
        },
        size,
    );
    PendingRead {
        buffer,
        row_bytes: size.width as usize * 4,
        padded_row: padded_row as usize,
    }
}

impl PendingRead {
    /// Waits for the copy (submitted by the caller) and returns the rows without padding.
    pub(super) fn finish(self, device: &wgpu::Device) -> Result<Vec<u8>, GpuError> {
        let err = |e: &dyn std::fmt::Display| GpuError::Readback(e.to_string());
        let (sender, receiver) = std::sync::mpsc::channel();
        self.buffer
            .map_async(wgpu::MapMode::Read, .., move |result| {
                let _ = sender.send(result);
            });
        device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| err(&e))?;
        receiver.recv().map_err(|e| err(&e))?.map_err(|e| err(&e))?;
        let data = self.buffer.get_mapped_range(..).map_err(|e| err(&e))?;
        let mut rows = Vec::with_capacity(self.row_bytes * (data.len() / self.padded_row.max(1)));
        for padded in data.chunks_exact(self.padded_row) {
            rows.extend_from_slice(&padded[..self.row_bytes]);
        }
        Ok(rows)
    }
}

/// Reads an RGBA8 texture created with `COPY_SRC` back to the CPU (screenshots, tests).
pub fn read_texture_rgba8(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    texture: &wgpu::Texture,
) -> Result<RgbaImage, GpuError> {
    let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
        label: Some("strata texture readback"),
    });
    let read = queue_read(device, &mut encoder, texture);
    queue.submit([encoder.finish()]);
    let size = texture.size();
    let rows = read.finish(device)?;
    RgbaImage::from_raw(size.width, size.height, rows)
        .ok_or_else(|| GpuError::Readback("texture size and data disagree".into()))
}
