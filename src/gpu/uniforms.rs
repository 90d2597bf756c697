//! A growable arena of per-draw uniform slots.
//!
//! Every draw of a frame gets its own 256-byte slot (the largest offset alignment WebGPU
//! allows), bound with a dynamic offset. Slots are written with `queue.write_buffer`, which
//! the queue orders before the commands submitted after it, so slots can be reused every frame.

use super::pipelines::DrawUniform;

const SLOT: u64 = 256;
const SLOTS_PER_BUFFER: u64 = 256;

#[derive(Default)]
pub struct Uniforms {
    buffers: Vec<wgpu::Buffer>,
    next: u64,
}

impl Uniforms {
    /// Forgets the slots of the previous frame (their buffers are reused).
    pub fn reset(&mut self) {
        self.next = 0;
    }

    /// Writes `value` (at most one slot) into a fresh slot; returns its buffer and dynamic
    /// offset.
    pub fn push<T: bytemuck::Pod>(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        value: T,
    ) -> (wgpu::Buffer, u32) {
        debug_assert!(std::mem::size_of::<T>() as u64 <= SLOT);
        let index = self.next;
        self.next += 1;
        let buffer_index = (index / SLOTS_PER_BUFFER) as usize;
        let offset = (index % SLOTS_PER_BUFFER) * SLOT;
        while self.buffers.len() <= buffer_index {
            self.buffers
                .push(device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("strata draw uniforms"),
                    size: SLOT * SLOTS_PER_BUFFER,
                    usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                }));
        }
        let buffer = self.buffers[buffer_index].clone();
        queue.write_buffer(&buffer, offset, bytemuck::bytes_of(&value));
        (buffer, offset as u32)
    }
}

/// The binding of one slot (the dynamic offset is added at `set_bind_group`).
pub fn binding(buffer: &wgpu::Buffer) -> wgpu::BindingResource<'_> {
    binding_of::<DrawUniform>(buffer)
}

/// The binding of one slot holding a `T`.
pub fn binding_of<T>(buffer: &wgpu::Buffer) -> wgpu::BindingResource<'_> {
    wgpu::BindingResource::Buffer(wgpu::BufferBinding {
        buffer,
        offset: 0,
        size: wgpu::BufferSize::new(std::mem::size_of::<T>() as u64),
    })
}
