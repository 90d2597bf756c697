//! The view path: composite only what the screen shows, at screen resolution.
//!
//! The editor shows a document zoomed and panned in a viewport. Compositing the whole
//! document at full resolution and then scaling it down makes a frame cost follow the
//! picture's size (16.7 M texels per layer pass at 4096²). Here every layer is drawn straight
//! into a viewport-sized premultiplied target, so a frame costs what the window shows:
//! - zoom ≥ 1: each screen pixel reads the one texel under its centre (nearest), so the
//!   target holds exactly the full-resolution composite of the visible pixels, enlarged;
//! - zoom < 1: layers are read from mip levels ([`super::mips`]) with premultiplied bilinear
//!   filtering, from the finest level whose texels are no larger than a screen pixel.
//!
//! Blending is per screen pixel with the shaders of the full path (`composite.wgsl`), normal
//! layers by fixed-function "over", the other modes reading a copy of the backdrop. While a
//! layer is dragged, the layers below and above it are cached at view resolution, like
//! [`Compositor::render_dragging`] does at full resolution; the caches are rebuilt when the
//! view changes. `display.wgsl` then puts the target over the checkerboard 1:1.

use super::GpuError;
use super::compositor::{
    CLEAR, Compositor, LayerKey, begin_pass, bind_draw, canvas_texture, copy_region, drag_key,
    visible_layers,
};
use super::display::ViewTransform;
use super::mips::MipGenerator;
use super::pipelines::{self, DrawUniform, OUTPUT_FORMAT};
use super::readback::queue_read;
use super::tiles::Rect;
use super::uniforms;
use crate::model::{BlendMode, Document, Layer, LayerId, RgbaImage};

/// Per-draw uniforms, laid out as `struct ViewDraw` in `shaders/view_composite.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct ViewDraw {
    quad: [f32; 4],
    cells: [i32; 4],
    origin: [f32; 2],
    target_size: [f32; 2],
    chunk_origin: [i32; 2],
    zoom: f32,
    opacity: f32,
    mode: u32,
    level: u32,
    _pad: [u32; 2],
}

/// The view path's pipelines, built the first time a view is composited (export and the
/// command line never need them).
pub(super) struct ViewPipelines {
    normal: wgpu::RenderPipeline,
    blend: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    mips: MipGenerator,
}

impl ViewPipelines {
    fn new(device: &wgpu::Device, canvas_format: wgpu::TextureFormat) -> Self {
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("strata view layer"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 3,
                    visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: true,
                        min_binding_size: wgpu::BufferSize::new(
                            std::mem::size_of::<ViewDraw>() as u64
                        ),
                    },
                    count: None,
                },
                pipelines::texture_entry(1),
                pipelines::texture_entry(2),
            ],
        });
        // The blend maths is composite.wgsl's own, so both paths blend identically.
        let source = [
            include_str!("../../shaders/composite.wgsl"),
            include_str!("../../shaders/view_composite.wgsl"),
        ]
        .join("\n");
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("view_composite.wgsl"),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
        let over = Some(wgpu::BlendState::PREMULTIPLIED_ALPHA_BLENDING);
        let entry = |fragment| ("vs_view", fragment);
        Self {
            normal: pipelines::pipeline(
                device,
                &layout,
                &module,
                entry("fs_view_normal"),
                canvas_format,
                over,
            ),
            blend: pipelines::pipeline(
                device,
                &layout,
                &module,
                entry("fs_view_blend"),
                canvas_format,
                None,
            ),
            layout,
            mips: MipGenerator::new(device),
        }
    }
}

/// What a view composite depends on besides the layers.
#[derive(Clone, Copy, Debug, PartialEq)]
struct ViewKey {
    size: (u32, u32),
    origin: [f32; 2],
    zoom: f32,
    doc: (u32, u32),
}

/// The viewport-sized target and what was composited into it.
pub(super) struct ViewState {
    key: ViewKey,
    /// Target pixels that can show the document (its screen rectangle, a pixel wider, within
    /// the viewport); nothing outside is ever drawn.
    pub(super) shown: Rect,
    pub(super) target: wgpu::Texture,
    pub(super) target_view: wgpu::TextureView,
    scratch: wgpu::Texture,
    scratch_view: wgpu::TextureView,
    pipelines: Option<ViewPipelines>,
    drag: Option<ViewDrag>,
}

/// The composites of the layers below and above the dragged one, at view resolution.
struct ViewDrag {
    layers: Vec<LayerKey>,
    below: wgpu::Texture,
    /// `None` when a layer above is not normal ("over" is associative, other modes are not).
    above: Option<(wgpu::Texture, wgpu::TextureView)>,
}

/// One draw of a layer chunk: the target rectangle it may touch and its bindings.
struct Draw {
    quad: Rect,
    bind_group: wgpu::BindGroup,
    offset: u32,
}

impl ViewKey {
    /// `None` when the viewport has no pixels.
    fn of(doc: &Document, view: &ViewTransform) -> Option<Self> {
        let side = |v: f32| v.round().max(0.0) as u32;
        let size = (side(view.viewport_size[0]), side(view.viewport_size[1]));
        (size.0 > 0 && size.1 > 0).then_some(Self {
            size,
            origin: view.origin,
            zoom: view.zoom.max(1e-6),
            doc: (doc.width, doc.height),
        })
    }

    /// Target pixels whose centres may fall in document rectangle `cells`: its screen
    /// rectangle rounded outwards and widened by a pixel against rounding (the fragment
    /// stage trims exactly), clipped to the viewport.
    fn screen_rect(&self, cells: Rect) -> Option<Rect> {
        let edge = |origin: f32, cell: i64| origin + cell as f32 * self.zoom;
        let left = (edge(self.origin[0], cells.x).floor() - 1.0).max(0.0);
        let top = (edge(self.origin[1], cells.y).floor() - 1.0).max(0.0);
        let right = (edge(self.origin[0], cells.right()).ceil() + 1.0).min(self.size.0 as f32);
        let bottom = (edge(self.origin[1], cells.bottom()).ceil() + 1.0).min(self.size.1 as f32);
        (right > left && bottom > top).then(|| {
            Rect::new(
                left as i64,
                top as i64,
                (right - left) as u32,
                (bottom - top) as u32,
            )
        })
    }

    /// The mip level to read a layer from: the finest whose texels cover no more than a
    /// screen pixel. Coarser would blur; finer skips texels (aliasing) and reads more.
    fn level(&self, levels: u32) -> u32 {
        if self.zoom >= 1.0 {
            return 0;
        }
        // The epsilon keeps exact powers of two (zoom 1/4 → level 2) on their level.
        let level = ((1.0 / self.zoom).log2() + 1e-4).floor().max(0.0) as u32;
        level.min(levels.saturating_sub(1))
    }
}

impl Compositor {
    /// Composites the part of `doc` that `view` shows into a viewport-sized premultiplied
    /// target (see the module documentation); [`super::Display`] draws it on screen.
    pub fn render_view(&mut self, doc: &Document, view: &ViewTransform) -> Result<(), GpuError> {
        let Some(mut state) = self.prepare_view(doc, view)? else {
            return Ok(());
        };
        state.drag = None;
        let mut encoder = self.encoder("strata view composite");
        let visible = visible_layers(&doc.layers);
        self.draw_view_layers(&mut encoder, &state, &visible, CLEAR);
        self.queue.submit([encoder.finish()]);
        self.view = Some(state);
        Ok(())
    }

    /// [`Compositor::render_view`] while `dragged` is being moved: the layers below and above
    /// it are composited once per view into cached view-sized textures, and each call draws
    /// the cached below, the dragged layer and the cached above.
    pub fn render_view_dragging(
        &mut self,
        doc: &Document,
        view: &ViewTransform,
        dragged: LayerId,
    ) -> Result<(), GpuError> {
        let Some(index) = doc.index_of(dragged) else {
            return self.render_view(doc, view);
        };
        let Some(mut state) = self.prepare_view(doc, view)? else {
            return Ok(());
        };
        let key = drag_key(doc, index);
        let below = visible_layers(&doc.layers[..index]);
        let above = visible_layers(&doc.layers[index + 1..]);
        let mut encoder = self.encoder("strata view drag");
        let cache = match state.drag.take() {
            Some(cache) if cache.layers == key => cache,
            _ => self.build_view_drag(&mut encoder, &state, key, &below, &above),
        };
        copy_region(&mut encoder, &cache.below, &state.target, state.shown);
        let layer = &doc.layers[index];
        if layer.visible && layer.opacity > 0.0 {
            self.draw_view_layers(&mut encoder, &state, &[layer], wgpu::LoadOp::Load);
        }
        match &cache.above {
            Some((_, above_view)) => self.draw_view_premul(&mut encoder, &state, above_view),
            None => self.draw_view_layers(&mut encoder, &state, &above, wgpu::LoadOp::Load),
        }
        self.queue.submit([encoder.finish()]);
        state.drag = Some(cache);
        self.view = Some(state);
        Ok(())
    }

    /// The last view composite (premultiplied, viewport-sized), the rectangle of it that
    /// can show the document, and the document's size, if a view was composited.
    pub(super) fn view_target(&self) -> Option<(&wgpu::TextureView, Rect, (u32, u32))> {
        self.view
            .as_ref()
            .map(|v| (&v.target_view, v.shown, v.key.doc))
    }

    /// The last view composite as straight-alpha RGBA8, viewport-sized (tests, screenshots).
    pub fn read_view_rgba(&mut self) -> Result<RgbaImage, GpuError> {
        let Some(state) = &self.view else {
            return Err(GpuError::EmptyCanvas);
        };
        let (width, height) = state.key.size;
        let output = self.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("strata view output"),
            size: state.target.size(),
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: OUTPUT_FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        let output_view = output.create_view(&wgpu::TextureViewDescriptor::default());
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("strata view finish"),
            layout: &self.pipelines.finish_layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::TextureView(&state.target_view),
            }],
        });
        let mut encoder = self.encoder("strata view readback");
        {
            let mut pass = begin_pass(&mut encoder, &output_view, CLEAR);
            pass.set_pipeline(&self.pipelines.finish);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.draw(0..3, 0..1);
        }
        let read = queue_read(&self.device, &mut encoder, &output);
        self.queue.submit([encoder.finish()]);
        RgbaImage::from_raw(width, height, read.finish(&self.device)?)
            .ok_or_else(|| GpuError::Readback("view size and data disagree".into()))
    }

    /// Uploads changed layers (with mip levels) and sizes the target for `view`; takes the
    /// view state out of `self` (put it back when done). `None` for an empty viewport.
    fn prepare_view(
        &mut self,
        doc: &Document,
        view: &ViewTransform,
    ) -> Result<Option<ViewState>, GpuError> {
        if doc.width == 0 || doc.height == 0 {
            return Err(GpuError::EmptyCanvas);
        }
        let Some(key) = ViewKey::of(doc, view) else {
            self.view = None;
            return Ok(None);
        };
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let mut state = match self.view.take() {
            Some(state) if state.key.size == key.size => state,
            old => self.new_view_state(key, old.and_then(|s| s.pipelines)),
        };
        if state.key != key {
            state.key = key;
            state.drag = None;
        }
        let cells = Rect::new(0, 0, doc.width, doc.height);
        state.shown = key.screen_rect(cells).unwrap_or(Rect::new(0, 0, 0, 0));
        let mips = &state
            .pipelines
            .get_or_insert_with(|| ViewPipelines::new(&self.device, self.pipelines.canvas_format))
            .mips;
        self.layers.sync(
            &self.device,
            &self.queue,
            &doc.layers,
            self.max_side,
            Some(mips),
        );
        if let Some(error) = pollster::block_on(scope.pop()) {
            return Err(GpuError::OutOfMemory(error.to_string()));
        }
        self.uniforms.reset();
        Ok(Some(state))
    }

    fn new_view_state(&self, key: ViewKey, pipelines: Option<ViewPipelines>) -> ViewState {
        let rect = Rect::new(0, 0, key.size.0, key.size.1);
        let format = self.pipelines.canvas_format;
        let target = canvas_texture(&self.device, format, rect, "strata view");
        let scratch = canvas_texture(&self.device, format, rect, "strata view backdrop copy");
        ViewState {
            key,
            shown: rect,
            target_view: target.create_view(&wgpu::TextureViewDescriptor::default()),
            scratch_view: scratch.create_view(&wgpu::TextureViewDescriptor::default()),
            target,
            scratch,
            pipelines,
            drag: None,
        }
    }

    fn build_view_drag(
        &mut self,
        encoder: &mut wgpu::CommandEncoder,
        state: &ViewState,
        layers: Vec<LayerKey>,
        below: &[&Layer],
        above: &[&Layer],
    ) -> ViewDrag {
        let rect = Rect::new(0, 0, state.key.size.0, state.key.size.1);
        let format = self.pipelines.canvas_format;
        self.draw_view_layers(encoder, state, below, CLEAR);
        let below_texture = canvas_texture(&self.device, format, rect, "strata view below");
        copy_region(encoder, &state.target, &below_texture, state.shown);
        let cache_above = above.iter().all(|l| l.blend == BlendMode::Normal);
        let above = cache_above.then(|| {
            self.draw_view_layers(encoder, state, above, CLEAR);
            let texture = canvas_texture(&self.device, format, rect, "strata view above");
            copy_region(encoder, &state.target, &texture, state.shown);
            let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
            (texture, view)
        });
        ViewDrag {
            layers,
            below: below_texture,
            above,
        }
    }

    /// Draws `layers` in order into the view target, first applying `load`. Consecutive
    /// normal layers share a pass; other modes copy the backdrop they cover aside first
    /// (a texture cannot be read and written in one pass), as in the full path.
    fn draw_view_layers(
        &mut self,
        encoder: &mut wgpu::CommandEncoder,
        state: &ViewState,
        layers: &[&Layer],
        load: wgpu::LoadOp<wgpu::Color>,
    ) {
        let Some(pipelines) = &state.pipelines else {
            return;
        };
        let mut pending_load = Some(load);
        let mut index = 0;
        while index < layers.len() {
            let normal = layers[index].blend == BlendMode::Normal;
            let run_end = if normal {
                layers[index..]
                    .iter()
                    .position(|l| l.blend != BlendMode::Normal)
                    .map_or(layers.len(), |n| index + n)
            } else {
                index + 1
            };
            let draws: Vec<Draw> = layers[index..run_end]
                .iter()
                .flat_map(|layer| self.view_draws(state, pipelines, layer))
                .collect();
            if normal {
                let load = pending_load.take().unwrap_or(wgpu::LoadOp::Load);
                let mut pass = begin_pass(encoder, &state.target_view, load);
                pass.set_pipeline(&pipelines.normal);
                for draw in &draws {
                    pass.set_bind_group(0, &draw.bind_group, &[draw.offset]);
                    pass.draw(0..6, 0..1);
                }
            } else {
                if let Some(load) = pending_load.take() {
                    let _pass = begin_pass(encoder, &state.target_view, load);
                }
                for draw in &draws {
                    copy_region(encoder, &state.target, &state.scratch, draw.quad);
                    let mut pass = begin_pass(encoder, &state.target_view, wgpu::LoadOp::Load);
                    pass.set_pipeline(&pipelines.blend);
                    pass.set_bind_group(0, &draw.bind_group, &[draw.offset]);
                    pass.draw(0..6, 0..1);
                }
            }
            index = run_end;
        }
        if let Some(load) = pending_load {
            let _pass = begin_pass(encoder, &state.target_view, load);
        }
    }

    /// Uniforms and bind groups for every chunk of `layer` that shows in the view.
    fn view_draws(
        &mut self,
        state: &ViewState,
        pipelines: &ViewPipelines,
        layer: &Layer,
    ) -> Vec<Draw> {
        let key = state.key;
        let document = Rect::new(0, 0, key.doc.0, key.doc.1);
        let mut draws = Vec::new();
        for chunk in self.layers.chunks(layer.id) {
            let placed = chunk
                .rect
                .translated(i64::from(layer.offset.x), i64::from(layer.offset.y));
            let Some(cells) = placed.intersect(&document) else {
                continue;
            };
            let Some(quad) = key.screen_rect(cells) else {
                continue;
            };
            let uniform = ViewDraw {
                quad: [
                    quad.x as f32,
                    quad.y as f32,
                    quad.right() as f32,
                    quad.bottom() as f32,
                ],
                cells: [
                    cells.x as i32,
                    cells.y as i32,
                    cells.right() as i32,
                    cells.bottom() as i32,
                ],
                origin: key.origin,
                target_size: [key.size.0 as f32, key.size.1 as f32],
                chunk_origin: [placed.x as i32, placed.y as i32],
                zoom: key.zoom,
                opacity: layer.opacity.clamp(0.0, 1.0),
                mode: layer.blend as u32,
                level: key.level(chunk.levels),
                _pad: [0; 2],
            };
            let (buffer, offset) = self.uniforms.push(&self.device, &self.queue, uniform);
            let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("strata view draw"),
                layout: &pipelines.layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 3,
                        resource: uniforms::binding_of::<ViewDraw>(&buffer),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: wgpu::BindingResource::TextureView(&chunk.view),
                    },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: wgpu::BindingResource::TextureView(&state.scratch_view),
                    },
                ],
            });
            draws.push(Draw {
                quad,
                bind_group,
                offset,
            });
        }
        draws
    }

    /// Draws a premultiplied view-sized cache over the shown part of the view target.
    fn draw_view_premul(
        &mut self,
        encoder: &mut wgpu::CommandEncoder,
        state: &ViewState,
        view: &wgpu::TextureView,
    ) {
        let shown = state.shown;
        if shown.is_empty() {
            return;
        }
        let uniform = DrawUniform {
            origin: [shown.x as i32, shown.y as i32],
            size: [shown.width as i32, shown.height as i32],
            src: [shown.x as i32, shown.y as i32],
            target_size: [state.key.size.0 as f32, state.key.size.1 as f32],
            opacity: 1.0,
            ..DrawUniform::default()
        };
        let (bind_group, offset) = bind_draw(
            (&self.device, &self.queue, &mut self.uniforms),
            &self.pipelines.premul_layout,
            uniform,
            &[view],
        );
        let mut pass = begin_pass(encoder, &state.target_view, wgpu::LoadOp::Load);
        pass.set_pipeline(&self.pipelines.premul_over);
        pass.set_bind_group(0, &bind_group, &[offset]);
        pass.draw(0..6, 0..1);
    }
}

// Every draw's uniforms must fit in a uniform slot, and match the WGSL struct's size.
const _: () = assert!(std::mem::size_of::<ViewDraw>() == 80);
