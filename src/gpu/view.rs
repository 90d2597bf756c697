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
//! view changes. A pan by whole pixels keeps what is still on screen (shifted) and draws
//! only the strips it uncovers; during a zoom gesture the last composite is resampled instead
//! ([`super::view_scale`]). `display.wgsl` then puts the target over the checkerboard 1:1.

use super::GpuError;
use super::compositor::{
    CLEAR, Compositor, LayerKey, begin_pass, blend_run, canvas_texture, copy_region, drag_key,
    visible_layers,
};
use super::display::ViewTransform;
use super::pipelines::DrawUniform;
use super::plan_draw::flat_layers;
use super::tiles::Rect;
use super::view_draw::{Draw, ViewPipelines, view_draw};
use super::view_geometry::{ViewKey, uncovered};
use super::view_scale::ScaleSource;
use crate::model::render_plan::render_plan;
use crate::model::{BlendMode, Document, Layer, LayerId};

/// The viewport-sized target and what was composited into it.
pub(super) struct ViewState {
    /// The view the target was sized and composited for.
    pub(super) key: ViewKey,
    /// Target pixels that can show the document (its screen rectangle, a pixel wider, within
    /// the viewport); nothing outside is ever drawn.
    pub(super) shown: Rect,
    pub(super) target: wgpu::Texture,
    pub(super) target_view: wgpu::TextureView,
    /// The copy of the backdrop that blend modes read (and the old target while panning).
    pub(super) scratch: wgpu::Texture,
    pub(super) scratch_view: wgpu::TextureView,
    pub(super) pipelines: Option<ViewPipelines>,
    pub(super) drag: Option<ViewDrag>,
    /// The layers (all, as [`LayerKey`]s) whose composite the target holds, if it holds one.
    pub(super) content: Option<Vec<LayerKey>>,
    /// Set while the target holds a zoom-gesture frame ([`Compositor::render_view_scaled`]):
    /// the exact composite it was resampled from, kept in `scratch`. The target is then no
    /// exact composite, so a pan cannot reuse it.
    pub(super) source: Option<ScaleSource>,
}

/// The composites of the layers below and above the dragged one, at view resolution.
pub(super) struct ViewDrag {
    layers: Vec<LayerKey>,
    below: wgpu::Texture,
    /// `None` when a layer above is not normal ("over" is associative, other modes are not).
    above: Option<(wgpu::Texture, wgpu::TextureView)>,
}

impl Compositor {
    /// Composites the part of `doc` that `view` shows into a viewport-sized premultiplied
    /// target (see the module documentation); [`super::Display`] draws it on screen.
    pub fn render_view(&mut self, doc: &Document, view: &ViewTransform) -> Result<(), GpuError> {
        let held = self
            .view
            .as_mut()
            .filter(|s| s.source.is_none())
            .and_then(|s| Some((s.key, s.content.take()?)));
        let Some(mut state) = self.prepare_view(doc, view)? else {
            return Ok(());
        };
        state.drag = None;
        let mut encoder = self.encoder("strata view composite");
        let plan = render_plan(doc);
        let Some(visible) = flat_layers(doc, &plan) else {
            self.render_plan_view(&mut encoder, &state, &plan)?;
            self.queue.submit([encoder.finish()]);
            // No content key: a pan or a zoom gesture must not reuse this composite as if
            // it were a flat stack of layers; the next frame composites afresh.
            self.view = Some(state);
            return Ok(());
        };
        let content = content_key(doc);
        let scroll = held
            .filter(|(_, layers)| *layers == content)
            .and_then(|(key, _)| state.key.scroll_from(&key));
        match scroll {
            Some(shift) => self.scroll_view(&mut encoder, &state, shift, &visible),
            None => {
                let whole = [state.whole()];
                self.draw_view_layers(&mut encoder, &state, &visible, CLEAR, &whole);
            }
        }
        self.queue.submit([encoder.finish()]);
        state.content = Some(content);
        self.view = Some(state);
        Ok(())
    }

    /// Moves the composite by `(dx, dy)` target pixels and composites `layers` into the
    /// strips that uncovers (everything else is cleared and copied back shifted).
    fn scroll_view(
        &mut self,
        encoder: &mut wgpu::CommandEncoder,
        state: &ViewState,
        (dx, dy): (i64, i64),
        layers: &[&Layer],
    ) {
        let whole = state.whole();
        encoder.copy_texture_to_texture(
            state.target.as_image_copy(),
            state.scratch.as_image_copy(),
            state.target.size(),
        );
        drop(begin_pass(encoder, &state.target_view, CLEAR));
        let kept = whole.translated(dx, dy).intersect(&whole);
        if let Some(kept) = kept {
            let at = |x: i64, y: i64| wgpu::Origin3d {
                x: x as u32,
                y: y as u32,
                z: 0,
            };
            encoder.copy_texture_to_texture(
                wgpu::TexelCopyTextureInfo {
                    origin: at(kept.x - dx, kept.y - dy),
                    ..state.scratch.as_image_copy()
                },
                wgpu::TexelCopyTextureInfo {
                    origin: at(kept.x, kept.y),
                    ..state.target.as_image_copy()
                },
                wgpu::Extent3d {
                    width: kept.width,
                    height: kept.height,
                    depth_or_array_layers: 1,
                },
            );
        }
        let strips = uncovered(whole, kept);
        if !strips.is_empty() {
            self.draw_view_layers(encoder, state, layers, wgpu::LoadOp::Load, &strips);
        }
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
        if flat_layers(doc, &render_plan(doc)).is_none() {
            // The drag caches hold flat stacks of layers (see render_dragging).
            return self.render_view(doc, view);
        }
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
            let whole = [state.whole()];
            self.draw_view_layers(&mut encoder, &state, &[layer], wgpu::LoadOp::Load, &whole);
        }
        match &cache.above {
            Some((_, above_view)) => self.draw_view_premul(&mut encoder, &state, above_view),
            None => {
                let whole = [state.whole()];
                self.draw_view_layers(&mut encoder, &state, &above, wgpu::LoadOp::Load, &whole);
            }
        }
        self.queue.submit([encoder.finish()]);
        state.drag = Some(cache);
        state.content = Some(content_key(doc));
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
        if state.key != key || state.source.is_some() {
            state.key = key;
            state.drag = None;
            state.content = None;
            state.source = None;
        }
        let cells = Rect::new(0, 0, doc.width, doc.height);
        state.shown = key.screen_rect(cells).unwrap_or(Rect::new(0, 0, 0, 0));
        let mips = &state
            .pipelines
            .get_or_insert_with(|| ViewPipelines::new(&self.device, self.pipelines.canvas_format))
            .mips;
        let drawable: Vec<&Layer> = doc.drawable_layers().collect();
        self.layers.sync(
            &self.device,
            &self.queue,
            &drawable,
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
            content: None,
            source: None,
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
        let rect = state.whole();
        let format = self.pipelines.canvas_format;
        self.draw_view_layers(encoder, state, below, CLEAR, &[rect]);
        let below_texture = canvas_texture(&self.device, format, rect, "strata view below");
        copy_region(encoder, &state.target, &below_texture, state.shown);
        let cache_above = above.iter().all(|l| l.blend == BlendMode::Normal);
        let above = cache_above.then(|| {
            self.draw_view_layers(encoder, state, above, CLEAR, &[rect]);
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

    /// Draws `layers` in order into the `clips` (disjoint rectangles) of the view target,
    /// first applying `load`. Consecutive normal layers share a pass; other modes copy the
    /// backdrop they cover aside first (a texture cannot be read and written in one pass),
    /// as in the full path.
    fn draw_view_layers(
        &mut self,
        encoder: &mut wgpu::CommandEncoder,
        state: &ViewState,
        layers: &[&Layer],
        load: wgpu::LoadOp<wgpu::Color>,
        clips: &[Rect],
    ) {
        let Some(pipelines) = &state.pipelines else {
            return;
        };
        let mut pending_load = Some(load);
        let mut index = 0;
        while index < layers.len() {
            let (normal, run_end) = blend_run(layers, index);
            let draws: Vec<Draw> = layers[index..run_end]
                .iter()
                .flat_map(|layer| self.view_draws(state, pipelines, layer, clips))
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

    /// Uniforms and bind groups for every chunk of `layer` that shows in the `clips` of the
    /// view.
    fn view_draws(
        &mut self,
        state: &ViewState,
        pipelines: &ViewPipelines,
        layer: &Layer,
        clips: &[Rect],
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
            let Some(on_screen) = key.screen_rect(cells) else {
                continue;
            };
            for quad in clips.iter().filter_map(|clip| on_screen.intersect(clip)) {
                let gpu = (&self.device, &self.queue, &mut self.uniforms);
                draws.push(view_draw(
                    gpu,
                    (state, pipelines),
                    layer,
                    chunk,
                    (cells, quad),
                ));
            }
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
        self.premul_over(encoder, &state.target_view, view, uniform);
    }
}

impl ViewState {
    /// The whole target, in target pixels.
    fn whole(&self) -> Rect {
        Rect::new(0, 0, self.key.size.0, self.key.size.1)
    }
}

/// What a composite of `doc` depends on, layer by layer (pixels, offsets, properties).
pub(super) fn content_key(doc: &Document) -> Vec<LayerKey> {
    doc.layers.iter().map(LayerKey::of).collect()
}
