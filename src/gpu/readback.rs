//! Reading the composited canvas back to the CPU as straight-alpha RGBA8.

use super::GpuError;
use super::compositor::{Compositor, begin_pass};
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
            let rect = tile.rect;
            let size = wgpu::Extent3d {
                width: rect.width,
                height: rect.height,
                depth_or_array_layers: 1,
            };
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
                    resource: wgpu::BindingResource::TextureView(&tile.canvas_view),
                }],
            });
            {
                let mut pass = begin_pass(
                    &mut encoder,
                    &output_view,
                    wgpu::LoadOp::Clear(wgpu::Color::TRANSPARENT),
                );
                pass.set_pipeline(&self.pipelines.finish);
                pass.set_bind_group(0, &bind_group, &[]);
                pass.draw(0..3, 0..1);
            }
            let padded_row = (rect.width * 4).div_ceil(ROW_ALIGN) * ROW_ALIGN;
            let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("strata readback"),
                size: u64::from(padded_row) * u64::from(rect.height),
                usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
                mapped_at_creation: false,
            });
            encoder.copy_texture_to_buffer(
                output.as_image_copy(),
                wgpu::TexelCopyBufferInfo {
                    buffer: &buffer,
                    layout: wgpu::TexelCopyBufferLayout {
                        offset: 0,
                        bytes_per_row: Some(padded_row),
                        rows_per_image: Some(rect.height),
                    },
                },
                size,
            );
            pending.push((rect, padded_row, buffer));
        }
        self.queue.submit([encoder.finish()]);

        let mut image = RgbaImage::new(width, height);
        for (rect, padded_row, buffer) in pending {
            let (sender, receiver) = std::sync::mpsc::channel();
            buffer.map_async(wgpu::MapMode::Read, .., move |result| {
                let _ = sender.send(result);
            });
            self.device
                .poll(wgpu::PollType::wait_indefinitely())
                .map_err(|e| GpuError::Readback(e.to_string()))?;
            receiver
                .recv()
                .map_err(|e| GpuError::Readback(e.to_string()))?
                .map_err(|e| GpuError::Readback(e.to_string()))?;
            let data = buffer
                .get_mapped_range(..)
                .map_err(|e| GpuError::Readback(e.to_string()))?;
            let row_bytes = rect.width as usize * 4;
            let stride = width as usize * 4;
            let raw: &mut [u8] = &mut image;
            for row in 0..rect.height as usize {
                let src = &data[row * padded_row as usize..][..row_bytes];
                let dst_start = (rect.y as usize + row) * stride + rect.x as usize * 4;
                raw[dst_start..dst_start + row_bytes].copy_from_slice(src);
            }
        }
        Ok(image)
    }
}
