//! A wgpu device without a window, for export, the command line, benchmarks and tests.

use super::GpuError;

/// A headless device and queue, with what was learnt about the adapter.
pub struct HeadlessGpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub adapter: wgpu::AdapterInfo,
}

impl HeadlessGpu {
    /// Picks the best adapter (any GPU, else a software one such as Mesa's lavapipe) and
    /// opens a device with its full texture limits. Honours `WGPU_BACKEND` and friends.
    pub fn new() -> Result<Self, GpuError> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            force_fallback_adapter: false,
            compatible_surface: None,
            apply_limit_buckets: false,
        }))
        .map_err(|e| GpuError::NoAdapter(e.to_string()))?;
        let info = adapter.get_info();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("strata headless"),
            required_limits: adapter.limits(),
            // Full-float canvases where the adapter can blend them (see `canvas_format`).
            required_features: adapter.features() & wgpu::Features::FLOAT32_BLENDABLE,
            ..Default::default()
        }))
        .map_err(|e| GpuError::Device(e.to_string()))?;
        tracing::info!(
            "headless GPU: {} ({:?}, {:?})",
            info.name,
            info.backend,
            info.device_type
        );
        Ok(Self {
            device,
            queue,
            adapter: info,
        })
    }
}
