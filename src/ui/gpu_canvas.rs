//! The canvas drawn by the wgpu compositor inside egui's paint callback.
//!
//! The compositor and display pipeline live in egui-wgpu's `CallbackResources` (created once
//! from eframe's render state), so they use egui's own device. Each frame the canvas widget
//! adds a [`CanvasCallback`]: `prepare` re-composites only when the document revision or the
//! view (zoom, pan, viewport size) changed, uploading only changed layer pixels, and only the
//! part of the document the viewport shows at screen resolution (the compositor's view path:
//! a drag frame costs what the window shows, not what the picture holds), and during a wheel
//! or pinch zoom gesture only resamples the last composite; `paint` draws that
//! composite 1:1 over the checkerboard. Any GPU failure (out of memory, device lost) raises a flag that makes the
//! canvas fall back to the CPU compositor and say so in the status bar.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use eframe::egui_wgpu::{self, CallbackResources, CallbackTrait, ScreenDescriptor};
use eframe::wgpu;

use crate::gpu::{Compositor, Display, ViewTransform};
use crate::model::{Document, LayerId};

impl super::StrataApp {
    /// Composites the canvas with the wgpu compositor on `render_state`'s device (egui's own)
    /// from now on, instead of on the CPU. The window calls this with eframe's render state;
    /// GUI tests call it with their harness's.
    pub fn install_gpu(&mut self, render_state: &egui_wgpu::RenderState) {
        self.canvas.use_gpu(GpuCanvas::install(render_state));
    }
}

/// Shared between the UI thread's canvas widget and the render callbacks.
#[derive(Clone, Default)]
pub struct GpuCanvas {
    failed: Arc<AtomicBool>,
}

/// What the callback resources hold.
struct Resources {
    compositor: Compositor,
    display: Display,
    /// Revision of the document and the view the compositor's view composite holds.
    composited: Option<(u64, ViewTransform)>,
    /// False when that composite is a zoom-gesture frame (resampled, not exact).
    exact: bool,
}

/// What the canvas widget knows about this frame that decides how to composite it.
#[derive(Clone, Copy, Debug, Default)]
pub struct GpuFrame {
    /// The layer the move tool is dragging, if any.
    pub dragging: Option<LayerId>,
    /// A wheel or pinch zoom is in progress: resample the last composite instead of
    /// compositing every layer at the new zoom (exact again once this is false).
    pub zoom_gesture: bool,
}

impl GpuCanvas {
    /// Builds the compositor on eframe's device and registers it with egui's renderer.
    pub fn install(render_state: &egui_wgpu::RenderState) -> Self {
        let canvas = Self::default();
        let compositor = Compositor::new(render_state.device.clone(), render_state.queue.clone());
        let display = Display::new(&render_state.device, render_state.target_format);
        render_state
            .renderer
            .write()
            .callback_resources
            .insert(Resources {
                compositor,
                display,
                composited: None,
                exact: false,
            });
        let failed = Arc::clone(&canvas.failed);
        render_state
            .device
            .set_device_lost_callback(move |reason, message| {
                tracing::error!("GPU device lost ({reason:?}): {message}; falling back to the CPU");
                failed.store(true, Ordering::Relaxed);
            });
        tracing::info!("GPU canvas on {}", render_state.adapter.get_info().name);
        canvas
    }

    /// True once the GPU path failed; the canvas then composites on the CPU.
    pub fn has_failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    /// The paint callback for this frame. It carries the document (a clone is cheap: pixels
    /// are shared `Arc`s), and `prepare` re-composites only when `revision` differs from what
    /// the compositor holds. Deciding that on the render side matters: not every frame's
    /// shapes get painted (egui discards passes, test harnesses render only some frames), so
    /// the UI side cannot know what reached the GPU.
    pub fn callback(
        &mut self,
        rect: egui::Rect,
        doc: &Document,
        revision: u64,
        frame: GpuFrame,
        view: ViewTransform,
    ) -> egui::Shape {
        let callback = CanvasCallback {
            doc: doc.clone(),
            revision,
            frame,
            view,
            failed: Arc::clone(&self.failed),
        };
        egui::Shape::Callback(egui_wgpu::Callback::new_paint_callback(rect, callback))
    }
}

struct CanvasCallback {
    doc: Document,
    revision: u64,
    frame: GpuFrame,
    view: ViewTransform,
    failed: Arc<AtomicBool>,
}

impl CallbackTrait for CanvasCallback {
    fn prepare(
        &self,
        _device: &wgpu::Device,
        _queue: &wgpu::Queue,
        _screen: &ScreenDescriptor,
        _encoder: &mut wgpu::CommandEncoder,
        resources: &mut CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        let Some(resources) = resources.get_mut::<Resources>() else {
            return Vec::new();
        };
        let wanted = (self.revision, self.view);
        let GpuFrame {
            dragging,
            zoom_gesture,
        } = self.frame;
        // A gesture frame is good enough while the gesture lasts; after it, composite exactly.
        let current = resources.composited == Some(wanted) && (resources.exact || zoom_gesture);
        if !current {
            // Resampling needs a composite of this very document to start from.
            let scale = zoom_gesture
                && dragging.is_none()
                && resources
                    .composited
                    .is_some_and(|(revision, _)| revision == self.revision);
            let (doc, view) = (&self.doc, &self.view);
            let compositor = &mut resources.compositor;
            let result = match dragging {
                _ if scale => compositor.render_view_scaled(doc, view),
                Some(id) => compositor.render_view_dragging(doc, view, id),
                None => compositor.render_view(doc, view),
            };
            match result {
                Ok(()) => {
                    resources.composited = Some(wanted);
                    resources.exact = !scale;
                }
                Err(err) => {
                    tracing::error!("GPU compositing failed: {err}; falling back to the CPU");
                    self.failed.store(true, Ordering::Relaxed);
                }
            }
        }
        resources.display.prepare(&resources.compositor, &self.view);
        Vec::new()
    }

    fn paint(
        &self,
        _info: egui::PaintCallbackInfo,
        pass: &mut wgpu::RenderPass<'static>,
        resources: &CallbackResources,
    ) {
        if self.failed.load(Ordering::Relaxed) {
            return;
        }
        if let Some(resources) = resources.get::<Resources>() {
            resources.display.paint(pass);
        }
    }
}

/// Device settings for eframe: the adapter's full texture size (large canvases need fewer
/// tiles) and float32 blending where available (exact blend modes, see `gpu::canvas_format`).
pub fn wgpu_options() -> egui_wgpu::WgpuConfiguration {
    let setup = egui_wgpu::WgpuSetupCreateNew {
        device_descriptor: Arc::new(|adapter: &wgpu::Adapter| {
            let base = if adapter.get_info().backend == wgpu::Backend::Gl {
                wgpu::Limits::downlevel_webgl2_defaults()
            } else {
                wgpu::Limits::default()
            };
            wgpu::DeviceDescriptor {
                label: Some("strata editor device"),
                required_features: adapter.features() & wgpu::Features::FLOAT32_BLENDABLE,
                required_limits: wgpu::Limits {
                    max_texture_dimension_2d: adapter.limits().max_texture_dimension_2d,
                    ..base
                },
                ..Default::default()
            }
        }),
        ..egui_wgpu::WgpuSetupCreateNew::without_display_handle()
    };
    egui_wgpu::WgpuConfiguration {
        wgpu_setup: egui_wgpu::WgpuSetup::CreateNew(setup),
        ..Default::default()
    }
}
