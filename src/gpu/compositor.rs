//! The wgpu compositor: a document's layers → a premultiplied canvas on the GPU.
//!
//! The canvas is a grid of premultiplied float tiles no larger than the device allows (one tile for any
//! ordinary picture). Each visible layer is drawn into every tile it overlaps; normal layers
//! blend with fixed-function premultiplied "over", other modes read a copy of the backdrop
//! region they cover. While a layer is dragged, the layers below and above it are composited
//! once into cached textures, so each frame costs three texture reads however many layers the
//! document has (see [`Compositor::render_dragging`]). This is the full-resolution path
//! (export, `flatten --gpu`); the editor's screen-resolution path is in `view.rs`.

use super::GpuError;
use super::layer_textures::LayerTextures;
use super::pipelines::{DrawUniform, Pipelines};
use super::plan_draw::{PlanState, flat_layers};
use super::tiles::{Rect, grid};
use super::uniforms::{self, Uniforms};
use crate::model::render_plan::render_plan;
use crate::model::{BlendMode, Document, Layer, LayerId};

/// One canvas tile with its render target and the scratch copy that blend modes read.
pub(super) struct Tile {
    pub rect: Rect,
    pub canvas: wgpu::Texture,
    pub canvas_view: wgpu::TextureView,
    pub(super) scratch: wgpu::Texture,
    pub(super) scratch_view: wgpu::TextureView,
}

/// Cached composites of the layers below and above a dragged layer, per tile.
struct DragCache {
    key: Vec<LayerKey>,
    below: Vec<wgpu::Texture>,
    /// `None` when a layer above blends with a non-normal mode: "over" is associative, the
    /// other modes are not, so those layers are redrawn every frame instead.
    above: Option<Vec<(wgpu::Texture, wgpu::TextureView)>>,
}

/// Starts a tile from transparent black.
pub(super) const CLEAR: wgpu::LoadOp<wgpu::Color> = wgpu::LoadOp::Clear(wgpu::Color::TRANSPARENT);

/// One chunk draw of a layer: the tile-local rectangle it covers and its bindings.
struct LayerDraw {
    local: Rect,
    bind_group: wgpu::BindGroup,
    offset: u32,
}

/// Everything about a layer that the cached textures depend on.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct LayerKey {
    id: LayerId,
    visible: bool,
    opacity: u32,
    fill_opacity: u32,
    blend: BlendMode,
    offset: (i32, i32),
    pixels: usize,
}

impl LayerKey {
    pub(super) fn of(layer: &Layer) -> Self {
        Self {
            id: layer.id,
            visible: layer.visible,
            opacity: layer.opacity.to_bits(),
            fill_opacity: layer.fill_opacity.to_bits(),
            blend: layer.blend,
            offset: (layer.offset.x, layer.offset.y),
            pixels: std::sync::Arc::as_ptr(&layer.pixels) as usize,
        }
    }
}

/// Composites documents on one wgpu device; shared by the editor and headless export.
pub struct Compositor {
    pub(super) device: wgpu::Device,
    pub(super) queue: wgpu::Queue,
    pub(super) pipelines: Pipelines,
    pub(super) layers: LayerTextures,
    pub(super) uniforms: Uniforms,
    pub(super) tiles: Vec<Tile>,
    pub(super) canvas_size: (u32, u32),
    pub(super) max_side: u32,
    drag: Option<DragCache>,
    /// The editor's view composite (see [`super::view`]), once one was asked for.
    pub(super) view: Option<super::view::ViewState>,
    /// Group canvases, mask textures and pipelines of documents with groups, masks or
    /// clipping (see [`super::plan_draw`]).
    pub(super) plan: PlanState,
}

impl Compositor {
    /// A compositor on `device`, with tiles as large as the device allows and the most
    /// precise canvas format the device can blend (see [`super::canvas_format`]).
    pub fn new(device: wgpu::Device, queue: wgpu::Queue) -> Self {
        let format = super::canvas_format(&device);
        Self::with_canvas_format(device, queue, format)
    }

    /// A compositor with an explicit canvas format: `Rgba32Float` (needs
    /// `FLOAT32_BLENDABLE`) or `Rgba16Float`.
    pub fn with_canvas_format(
        device: wgpu::Device,
        queue: wgpu::Queue,
        format: wgpu::TextureFormat,
    ) -> Self {
        let max_side = device.limits().max_texture_dimension_2d;
        Self {
            pipelines: Pipelines::new(&device, format),
            device,
            queue,
            layers: LayerTextures::default(),
            uniforms: Uniforms::default(),
            tiles: Vec::new(),
            canvas_size: (0, 0),
            max_side,
            drag: None,
            view: None,
            plan: PlanState::default(),
        }
    }

    /// Caps the tile size below the device limit (tests use this to exercise tiling).
    pub fn with_max_tile_side(mut self, side: u32) -> Self {
        self.max_side = side.clamp(1, self.device.limits().max_texture_dimension_2d);
        self
    }

    /// The device this compositor draws with.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The queue this compositor submits to.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// Number of layer uploads so far: property changes and drags must not add to it.
    pub fn upload_count(&self) -> u64 {
        self.layers.upload_count()
    }

    /// Number of mask uploads so far: density, visibility and opacity changes must not add
    /// to it.
    pub fn mask_upload_count(&self) -> u64 {
        self.plan.mask_upload_count()
    }

    /// The canvas tiles (canvas-space rectangle and premultiplied float view) of the last render.
    pub fn canvas_tiles(&self) -> impl Iterator<Item = (Rect, &wgpu::TextureView)> {
        self.tiles.iter().map(|t| (t.rect, &t.canvas_view))
    }

    /// Composites every visible layer of `doc`, with its groups, masks and clipping, into
    /// the canvas tiles.
    pub fn render(&mut self, doc: &Document) -> Result<(), GpuError> {
        self.prepare(doc)?;
        self.drag = None;
        let plan = render_plan(doc);
        let Some(visible) = flat_layers(doc, &plan) else {
            return self.render_plan_tiles(&plan);
        };
        let mut encoder = self.encoder("strata composite");
        for tile in 0..self.tiles.len() {
            self.draw_layers(&mut encoder, tile, &visible, CLEAR);
        }
        self.queue.submit([encoder.finish()]);
        Ok(())
    }

    /// Composites `doc` while `dragged` is being moved: the layers below and above it are
    /// composited once into cached textures (rebuilt only when anything but the dragged layer
    /// changes), and each call draws the cached below, the dragged layer and the cached above.
    pub fn render_dragging(&mut self, doc: &Document, dragged: LayerId) -> Result<(), GpuError> {
        let Some(index) = doc.index_of(dragged) else {
            return self.render(doc);
        };
        if flat_layers(doc, &render_plan(doc)).is_none() {
            // The caches hold flat stacks of layers; groups, masks and clipping are drawn
            // whole every frame instead (correct, if slower).
            return self.render(doc);
        }
        self.prepare(doc)?;
        let key = drag_key(doc, index);
        let below = visible_layers(&doc.layers[..index]);
        let above = visible_layers(&doc.layers[index + 1..]);
        let mut encoder = self.encoder("strata drag composite");
        if self.drag.as_ref().is_none_or(|cache| cache.key != key) {
            let cache = self.build_drag_cache(&mut encoder, key, &below, &above);
            self.drag = Some(cache);
        }
        let Some(cache) = self.drag.take() else {
            return Ok(());
        };
        let dragged_layer = &doc.layers[index];
        for tile in 0..self.tiles.len() {
            self.copy_whole(&mut encoder, &cache.below[tile], &self.tiles[tile].canvas);
            if dragged_layer.visible && dragged_layer.opacity > 0.0 {
                self.draw_layers(&mut encoder, tile, &[dragged_layer], wgpu::LoadOp::Load);
            }
            match &cache.above {
                Some(above) => self.draw_premul(&mut encoder, tile, &above[tile].1),
                None => self.draw_layers(&mut encoder, tile, &above, wgpu::LoadOp::Load),
            }
        }
        self.drag = Some(cache);
        self.queue.submit([encoder.finish()]);
        Ok(())
    }

    fn build_drag_cache(
        &mut self,
        encoder: &mut wgpu::CommandEncoder,
        key: Vec<LayerKey>,
        below: &[&Layer],
        above: &[&Layer],
    ) -> DragCache {
        let cache_above = above.iter().all(|l| l.blend == BlendMode::Normal);
        let mut below_textures = Vec::with_capacity(self.tiles.len());
        let mut above_textures = Vec::with_capacity(self.tiles.len());
        for tile in 0..self.tiles.len() {
            let rect = self.tiles[tile].rect;
            self.draw_layers(encoder, tile, below, CLEAR);
            let texture = canvas_texture(
                &self.device,
                self.pipelines.canvas_format,
                rect,
                "strata drag below",
            );
            self.copy_whole(encoder, &self.tiles[tile].canvas, &texture);
            below_textures.push(texture);
            if cache_above {
                self.draw_layers(encoder, tile, above, CLEAR);
                let texture = canvas_texture(
                    &self.device,
                    self.pipelines.canvas_format,
                    rect,
                    "strata drag above",
                );
                self.copy_whole(encoder, &self.tiles[tile].canvas, &texture);
                let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
                above_textures.push((texture, view));
            }
        }
        DragCache {
            key,
            below: below_textures,
            above: cache_above.then_some(above_textures),
        }
    }

    /// Makes tiles match the canvas and uploads changed layers; resets per-frame uniforms.
    fn prepare(&mut self, doc: &Document) -> Result<(), GpuError> {
        if doc.width == 0 || doc.height == 0 {
            return Err(GpuError::EmptyCanvas);
        }
        if self.canvas_size != (doc.width, doc.height) || self.tiles.is_empty() {
            let scope = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
            self.tiles = grid(doc.width, doc.height, self.max_side)
                .into_iter()
                .map(|rect| new_tile(&self.device, self.pipelines.canvas_format, rect))
                .collect();
            if let Some(error) = pollster::block_on(scope.pop()) {
                self.tiles.clear();
                return Err(GpuError::OutOfMemory(error.to_string()));
            }
            self.canvas_size = (doc.width, doc.height);
            self.drag = None;
        }
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let drawable: Vec<&Layer> = doc.drawable_layers().collect();
        self.layers
            .sync(&self.device, &self.queue, &drawable, self.max_side, None);
        if let Some(error) = pollster::block_on(scope.pop()) {
            return Err(GpuError::OutOfMemory(error.to_string()));
        }
        self.uniforms.reset();
        Ok(())
    }

    pub(super) fn encoder(&self, label: &str) -> wgpu::CommandEncoder {
        self.device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) })
    }

    fn copy_whole(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        from: &wgpu::Texture,
        to: &wgpu::Texture,
    ) {
        encoder.copy_texture_to_texture(from.as_image_copy(), to.as_image_copy(), from.size());
    }

    /// Draws `layers` in order into `tile`, first applying `load` (clear or keep).
    ///
    /// Consecutive normal layers share one render pass: every pass loads and stores the whole
    /// tile, which on software and tiled rasterisers costs as much as the draws. Other blend
    /// modes need the backdrop copied aside first, so each of their draws gets its own pass.
    fn draw_layers(
        &mut self,
        encoder: &mut wgpu::CommandEncoder,
        tile: usize,
        layers: &[&Layer],
        load: wgpu::LoadOp<wgpu::Color>,
    ) {
        let mut pending_load = Some(load);
        let mut index = 0;
        while index < layers.len() {
            let (normal, run_end) = blend_run(layers, index);
            let draws: Vec<LayerDraw> = layers[index..run_end]
                .iter()
                .flat_map(|layer| self.layer_draws(tile, layer))
                .collect();
            if normal {
                let load = pending_load.take().unwrap_or(wgpu::LoadOp::Load);
                let mut pass = begin_pass(encoder, &self.tiles[tile].canvas_view, load);
                pass.set_pipeline(&self.pipelines.normal);
                for draw in &draws {
                    pass.set_bind_group(0, &draw.bind_group, &[draw.offset]);
                    pass.draw(0..6, 0..1);
                }
            } else {
                if let Some(load) = pending_load.take() {
                    let _pass = begin_pass(encoder, &self.tiles[tile].canvas_view, load);
                }
                for draw in &draws {
                    // A texture cannot be read and written in one pass: the blend shader
                    // reads a copy of the region it covers.
                    let tile = &self.tiles[tile];
                    copy_region(encoder, &tile.canvas, &tile.scratch, draw.local);
                    let mut pass = begin_pass(encoder, &tile.canvas_view, wgpu::LoadOp::Load);
                    pass.set_pipeline(&self.pipelines.blend);
                    pass.set_bind_group(0, &draw.bind_group, &[draw.offset]);
                    pass.draw(0..6, 0..1);
                }
            }
            index = run_end;
        }
        if let Some(load) = pending_load {
            let _pass = begin_pass(encoder, &self.tiles[tile].canvas_view, load);
        }
    }

    /// Uniforms and bind groups for every chunk of `layer` that overlaps `tile`.
    fn layer_draws(&mut self, tile: usize, layer: &Layer) -> Vec<LayerDraw> {
        let tile_rect = self.tiles[tile].rect;
        let mut draws = Vec::new();
        for chunk in self.layers.chunks(layer.id) {
            let placed = chunk
                .rect
                .translated(i64::from(layer.offset.x), i64::from(layer.offset.y));
            let Some(covered) = placed.intersect(&tile_rect) else {
                continue;
            };
            let local = covered.translated(-tile_rect.x, -tile_rect.y);
            let uniform = DrawUniform {
                origin: [local.x as i32, local.y as i32],
                size: [local.width as i32, local.height as i32],
                src: [(covered.x - placed.x) as i32, (covered.y - placed.y) as i32],
                target_size: [tile_rect.width as f32, tile_rect.height as f32],
                opacity: layer.opacity.clamp(0.0, 1.0),
                mode: layer.blend as u32,
                canvas_origin: [tile_rect.x as i32, tile_rect.y as i32],
                fill: layer.fill_opacity.clamp(0.0, 1.0),
                _pad: [0; 3],
            };
            let scratch = &self.tiles[tile].scratch_view;
            let (bind_group, offset) = bind_draw(
                (&self.device, &self.queue, &mut self.uniforms),
                &self.pipelines.layer_layout,
                uniform,
                &[&chunk.view, scratch],
            );
            draws.push(LayerDraw {
                local,
                bind_group,
                offset,
            });
        }
        draws
    }

    /// Draws a premultiplied cache texture of the tile's size over the tile.
    fn draw_premul(
        &mut self,
        encoder: &mut wgpu::CommandEncoder,
        tile: usize,
        view: &wgpu::TextureView,
    ) {
        let rect = self.tiles[tile].rect;
        let uniform = DrawUniform {
            size: [rect.width as i32, rect.height as i32],
            target_size: [rect.width as f32, rect.height as f32],
            opacity: 1.0,
            ..DrawUniform::default()
        };
        let target = self.tiles[tile].canvas_view.clone();
        self.premul_over(encoder, &target, view, uniform);
    }

    /// Draws the premultiplied `source` over `target` ("over", no blend mode) where
    /// `uniform` places it: the drag caches of both the full and the view path.
    pub(super) fn premul_over(
        &mut self,
        encoder: &mut wgpu::CommandEncoder,
        target: &wgpu::TextureView,
        source: &wgpu::TextureView,
        uniform: DrawUniform,
    ) {
        let (bind_group, offset) = bind_draw(
            (&self.device, &self.queue, &mut self.uniforms),
            &self.pipelines.premul_layout,
            uniform,
            &[source],
        );
        let mut pass = begin_pass(encoder, target, wgpu::LoadOp::Load);
        pass.set_pipeline(&self.pipelines.premul_over);
        pass.set_bind_group(0, &bind_group, &[offset]);
        pass.draw(0..6, 0..1);
    }
}

impl LayerKey {
    /// The dragged layer's pixels are drawn every frame: its offset, opacity and visibility
    /// do not invalidate the caches, only its identity and position in the stack do.
    pub(super) fn of_dragged(layer: &Layer) -> Self {
        Self {
            visible: true,
            opacity: 0,
            fill_opacity: 0,
            offset: (0, 0),
            pixels: 0,
            ..Self::of(layer)
        }
    }
}

/// What the drag caches of a drag of layer `index` depend on.
pub(super) fn drag_key(doc: &Document, index: usize) -> Vec<LayerKey> {
    doc.layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i == index {
                LayerKey::of_dragged(l)
            } else {
                LayerKey::of(l)
            }
        })
        .collect()
}

/// The run of layers drawn together from `index`: consecutive normal layers blend with
/// fixed-function "over" in one pass, any other mode reads the backdrop and goes alone.
/// Returns whether the run is normal, and where it ends.
pub(super) fn blend_run(layers: &[&Layer], index: usize) -> (bool, usize) {
    let normal = layers[index].blend == BlendMode::Normal;
    let end = if normal {
        layers[index..]
            .iter()
            .position(|l| l.blend != BlendMode::Normal)
            .map_or(layers.len(), |n| index + n)
    } else {
        index + 1
    };
    (normal, end)
}

pub(super) fn visible_layers(layers: &[Layer]) -> Vec<&Layer> {
    layers
        .iter()
        .filter(|l| l.visible && l.opacity > 0.0)
        .collect()
}

/// Writes a draw's uniforms into a fresh slot and binds them (binding 0, dynamic offset)
/// together with `views` (bindings 1, 2, …) for `layout`.
pub(super) fn bind_draw(
    (device, queue, uniforms): (&wgpu::Device, &wgpu::Queue, &mut Uniforms),
    layout: &wgpu::BindGroupLayout,
    uniform: DrawUniform,
    views: &[&wgpu::TextureView],
) -> (wgpu::BindGroup, u32) {
    let (buffer, offset) = uniforms.push(device, queue, uniform);
    let mut entries = vec![wgpu::BindGroupEntry {
        binding: 0,
        resource: uniforms::binding(&buffer),
    }];
    entries.extend(
        views
            .iter()
            .zip(1..)
            .map(|(view, binding)| wgpu::BindGroupEntry {
                binding,
                resource: wgpu::BindingResource::TextureView(view),
            }),
    );
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("strata draw"),
        layout,
        entries: &entries,
    });
    (bind_group, offset)
}

/// Starts a render pass on `view` with one colour attachment.
pub(super) fn begin_pass<'e>(
    encoder: &'e mut wgpu::CommandEncoder,
    view: &wgpu::TextureView,
    load: wgpu::LoadOp<wgpu::Color>,
) -> wgpu::RenderPass<'e> {
    let attachments = [Some(wgpu::RenderPassColorAttachment {
        view,
        depth_slice: None,
        resolve_target: None,
        ops: wgpu::Operations {
            load,
            store: wgpu::StoreOp::Store,
        },
    })];
    encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
        label: Some("strata pass"),
        color_attachments: &attachments,
        depth_stencil_attachment: None,
        timestamp_writes: None,
        occlusion_query_set: None,
        multiview_mask: None,
    })
}

/// Copies `rect` (tile-local) of one canvas texture to the same place in another.
pub(super) fn copy_region(
    encoder: &mut wgpu::CommandEncoder,
    from: &wgpu::Texture,
    to: &wgpu::Texture,
    rect: Rect,
) {
    let origin = wgpu::Origin3d {
        x: rect.x as u32,
        y: rect.y as u32,
        z: 0,
    };
    encoder.copy_texture_to_texture(
        wgpu::TexelCopyTextureInfo {
            texture: from,
            mip_level: 0,
            origin,
            aspect: wgpu::TextureAspect::All,
        },
        wgpu::TexelCopyTextureInfo {
            texture: to,
            mip_level: 0,
            origin,
            aspect: wgpu::TextureAspect::All,
        },
        wgpu::Extent3d {
            width: rect.width,
            height: rect.height,
            depth_or_array_layers: 1,
        },
    );
}

/// A premultiplied float texture of the tile's size.
pub(super) fn canvas_texture(
    device: &wgpu::Device,
    format: wgpu::TextureFormat,
    rect: Rect,
    label: &str,
) -> wgpu::Texture {
    device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d {
            width: rect.width,
            height: rect.height,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage: wgpu::TextureUsages::RENDER_ATTACHMENT
            | wgpu::TextureUsages::TEXTURE_BINDING
            | wgpu::TextureUsages::COPY_SRC
            | wgpu::TextureUsages::COPY_DST,
        view_formats: &[],
    })
}

fn new_tile(device: &wgpu::Device, format: wgpu::TextureFormat, rect: Rect) -> Tile {
    let canvas = canvas_texture(device, format, rect, "strata canvas");
    let scratch = canvas_texture(device, format, rect, "strata backdrop copy");
    Tile {
        rect,
        canvas_view: canvas.create_view(&wgpu::TextureViewDescriptor::default()),
        scratch_view: scratch.create_view(&wgpu::TextureViewDescriptor::default()),
        canvas,
        scratch,
    }
}
