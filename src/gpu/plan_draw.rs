//! Groups, masks and clipping on the GPU: the document's render plan
//! ([`crate::model::render_plan`]) run on a stack of canvas textures.
//!
//! A document whose plan is one plain draw per visible layer (no group canvas, no mask, no
//! clipping) never comes here: [`flat_layers`] hands its layers to the original paths,
//! which batch normal layers into one pass and keep their drag caches. Any other plan runs
//! step by step on a surface (a canvas tile of the full-resolution path, or the view
//! target), exactly as the CPU reference (`model::composite_cpu`) runs it on rows:
//! - `Begin` pushes a canvas of the surface's size (kept across frames, grown lazily to
//!   the plan's [`stack_depth`]): cleared, or a copy of the one below for pass-through;
//! - `Draw` blends a layer into the top canvas with `plan.wgsl`'s `plan_pixel` (its mask,
//!   atop for clipped layers), reading a copy of the backdrop it covers, as blend modes do
//!   (a normal layer without mask or clipping blends by fixed-function "over" instead);
//! - `End` merges the top canvas into a copy of the one below (`fs_plan_merge`).
//!
//! Masks are R8 textures of their coverage ([`super::mask_textures`]). A mask larger than
//! the device's texture limit is not applied (a known limitation).

use super::GpuError;
use super::compositor::{
    CLEAR, Compositor, begin_pass, canvas_texture, copy_region, visible_layers,
};
use super::mask_textures::MaskTextures;
use super::pipelines::DrawUniform;
use super::plan_pipelines::{MERGE_PASS_THROUGH, PlanPipelines, PlanUniform};
use super::tiles::Rect;
use super::uniforms;
use super::view::ViewState;
use super::view_draw::{ViewDraw, view_uniform};
use crate::model::render_plan::{Step, stack_depth};
use crate::model::{Adjustment, BlendMode, Document, Layer, Lookup, Mask};

/// A canvas texture of the stack and its view.
type Canvas = (wgpu::Texture, wgpu::TextureView);

/// What the plan path keeps across frames.
#[derive(Default)]
pub(super) struct PlanState {
    pipelines: Option<PlanPipelines>,
    /// Per canvas tile, the canvases above the tile's own (stack levels 1..).
    tile_stacks: Vec<Vec<Canvas>>,
    /// The canvases above the view target.
    view_stack: Vec<Canvas>,
    masks: MaskTextures,
}

impl PlanState {
    /// How many masks were uploaded so far (changing density or visibility adds none).
    pub(super) fn mask_upload_count(&self) -> u64 {
        self.masks.upload_count()
    }
}

/// Where a plan runs: its canvas stack (level 0 is the surface itself), the backdrop copy
/// and how target pixels map to document pixels.
struct Surface<'s> {
    canvases: Vec<Canvas>,
    scratch: wgpu::Texture,
    scratch_view: wgpu::TextureView,
    map_origin: [f32; 2],
    map_zoom: f32,
    target: Target<'s>,
}

enum Target<'s> {
    Tile(usize),
    View(&'s ViewState),
}

/// One chunk draw of a plan layer: what it covers on the surface and its bindings.
struct PlanDraw {
    rect: Rect,
    bind_group: wgpu::BindGroup,
    offsets: [u32; 2],
}

/// The visible layers of `doc`, when its plan is exactly one plain draw of each (what the
/// original paths draw); `None` when it needs the plan path.
pub(super) fn flat_layers<'d>(doc: &'d Document, plan: &[Step<'d>]) -> Option<Vec<&'d Layer>> {
    let visible = visible_layers(&doc.layers);
    if plan.len() != visible.len() {
        return None;
    }
    let plain = plan.iter().zip(&visible).all(|(step, layer)| {
        matches!(step, Step::Draw { layer: drawn, blend, opacity, clip: false }
            if std::ptr::eq(*drawn, *layer)
                && *blend == layer.blend
                && opacity.to_bits() == layer.opacity.to_bits()
                && enabled(layer.mask.as_ref()).is_none())
    });
    plain.then_some(visible)
}

fn enabled(mask: Option<&Mask>) -> Option<&Mask> {
    mask.filter(|m| m.enabled)
}

/// Every enabled mask the plan applies.
fn plan_masks<'d>(plan: &[Step<'d>]) -> Vec<&'d Mask> {
    plan.iter()
        .filter_map(|step| match step {
            Step::Draw { layer, .. } => enabled(layer.mask.as_ref()),
            Step::End(merge) => enabled(merge.mask),
            Step::Begin { .. } => None,
        })
        .collect()
}

/// Makes `stack` hold `count` canvases of `size`, reusing those it has.
fn grow_stack(
    device: &wgpu::Device,
    format: wgpu::TextureFormat,
    stack: &mut Vec<Canvas>,
    size: (u32, u32),
    count: usize,
) {
    let rect = Rect::new(0, 0, size.0, size.1);
    if stack
        .first()
        .is_some_and(|(t, _)| (t.width(), t.height()) != size)
    {
        stack.clear();
    }
    while stack.len() < count {
        let texture = canvas_texture(device, format, rect, "strata group canvas");
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        stack.push((texture, view));
    }
}

impl Compositor {
    /// Uploads the plan's masks, builds the plan pipelines once and grows the canvas
    /// stacks to the plan's depth: the view's when `view_size` is given, else every tile's.
    /// Returns how many canvases the plan needs above the surface's own.
    fn prepare_plan(
        &mut self,
        plan: &[Step<'_>],
        view_size: Option<(u32, u32)>,
    ) -> Result<usize, GpuError> {
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let masks = plan_masks(plan);
        self.plan.masks.sync(&self.device, &self.queue, &masks);
        let format = self.pipelines.canvas_format;
        if self.plan.pipelines.is_none() {
            self.plan.pipelines = Some(PlanPipelines::new(&self.device, format));
        }
        let extra = stack_depth(plan) - 1;
        match view_size {
            Some(size) => grow_stack(&self.device, format, &mut self.plan.view_stack, size, extra),
            None => {
                let stacks = &mut self.plan.tile_stacks;
                stacks.resize_with(self.tiles.len(), Vec::new);
                for (stack, tile) in stacks.iter_mut().zip(&self.tiles) {
                    let size = (tile.rect.width, tile.rect.height);
                    grow_stack(&self.device, format, stack, size, extra);
                }
            }
        }
        if let Some(error) = pollster::block_on(scope.pop()) {
            // Deep plans on huge canvases: give the memory back rather than keep a part.
            self.plan.tile_stacks.clear();
            self.plan.view_stack.clear();
            return Err(GpuError::OutOfMemory(error.to_string()));
        }
        Ok(extra)
    }

    /// Runs `plan` on every canvas tile (the full-resolution path).
    pub(super) fn render_plan_tiles(&mut self, plan: &[Step<'_>]) -> Result<(), GpuError> {
        let extra = self.prepare_plan(plan, None)?;
        let mut encoder = self.encoder("strata plan composite");
        for tile in 0..self.tiles.len() {
            let t = &self.tiles[tile];
            let rect = t.rect;
            let mut canvases = vec![(t.canvas.clone(), t.canvas_view.clone())];
            canvases.extend(self.plan.tile_stacks[tile].iter().take(extra).cloned());
            let surface = Surface {
                canvases,
                scratch: t.scratch.clone(),
                scratch_view: t.scratch_view.clone(),
                map_origin: [-(rect.x as f32), -(rect.y as f32)],
                map_zoom: 1.0,
                target: Target::Tile(tile),
            };
            self.run_plan(&mut encoder, &surface, plan);
        }
        self.queue.submit([encoder.finish()]);
        Ok(())
    }

    /// Runs `plan` on the view target of `state` (the editor's screen-resolution path).
    pub(super) fn render_plan_view(
        &mut self,
        encoder: &mut wgpu::CommandEncoder,
        state: &ViewState,
        plan: &[Step<'_>],
    ) -> Result<(), GpuError> {
        let extra = self.prepare_plan(plan, Some(state.key.size))?;
        let mut canvases = vec![(state.target.clone(), state.target_view.clone())];
        canvases.extend(self.plan.view_stack.iter().take(extra).cloned());
        let surface = Surface {
            canvases,
            scratch: state.scratch.clone(),
            scratch_view: state.scratch_view.clone(),
            map_origin: state.key.origin,
            map_zoom: state.key.zoom,
            target: Target::View(state),
        };
        self.run_plan(encoder, &surface, plan);
        Ok(())
    }

    fn run_plan(
        &mut self,
        encoder: &mut wgpu::CommandEncoder,
        surface: &Surface<'_>,
        plan: &[Step<'_>],
    ) {
        let Some(pipelines) = self.plan.pipelines.take() else {
            return;
        };
        drop(begin_pass(encoder, &surface.canvases[0].1, CLEAR));
        let mut top = 0;
        for step in plan {
            match *step {
                Step::Begin { backdrop } => {
                    top += 1;
                    let (texture, view) = &surface.canvases[top];
                    if backdrop {
                        let below = &surface.canvases[top - 1].0;
                        encoder.copy_texture_to_texture(
                            below.as_image_copy(),
                            texture.as_image_copy(),
                            below.size(),
                        );
                    } else {
                        drop(begin_pass(encoder, view, CLEAR));
                    }
                }
                Step::Draw {
                    layer,
                    blend,
                    opacity,
                    clip,
                } => {
                    let mut uniform = self.plan_uniform(surface, enabled(layer.mask.as_ref()));
                    uniform.clip = u32::from(clip);
                    let draws = self.plan_layer_draws(
                        &pipelines,
                        surface,
                        layer,
                        (blend, opacity),
                        uniform,
                    );
                    // A plain normal draw is fixed-function "over", as the flat paths draw
                    // it: no backdrop copy, one pass for all its chunks.
                    let plain = blend == BlendMode::Normal
                        && !clip
                        && enabled(layer.mask.as_ref()).is_none();
                    let full = matches!(surface.target, Target::Tile(_));
                    let (texture, view) = &surface.canvases[top];
                    if plain {
                        let mut pass = begin_pass(encoder, view, wgpu::LoadOp::Load);
                        pass.set_pipeline(if full {
                            &pipelines.layer_over
                        } else {
                            &pipelines.view_over
                        });
                        for draw in &draws {
                            pass.set_bind_group(0, &draw.bind_group, &draw.offsets);
                            pass.draw(0..6, 0..1);
                        }
                        continue;
                    }
                    let pipeline = if full {
                        &pipelines.layer
                    } else {
                        &pipelines.view
                    };
                    for draw in &draws {
                        // A texture cannot be read and written in one pass.
                        copy_region(encoder, texture, &surface.scratch, draw.rect);
                        let mut pass = begin_pass(encoder, view, wgpu::LoadOp::Load);
                        pass.set_pipeline(pipeline);
                        pass.set_bind_group(0, &draw.bind_group, &draw.offsets);
                        pass.draw(0..6, 0..1);
                    }
                }
                Step::End(merge) => {
                    if top == 0 {
                        continue; // unbalanced; render_plan never makes one
                    }
                    let mut uniform = self.plan_uniform(surface, enabled(merge.mask));
                    uniform.strength = merge.opacity.clamp(0.0, 1.0);
                    uniform.merge_mode = merge.blend.map_or(MERGE_PASS_THROUGH, |m| m as u32);
                    uniform.has_map = match merge.map.map(Adjustment::lookup) {
                        None => 0,
                        Some(Lookup::Luminosity) => 1,
                        Some(Lookup::Channels) => 2,
                        Some(Lookup::Matrix) => 3,
                    };
                    // The merge layout always binds a table; a placeholder when none maps.
                    let map = match merge.map {
                        Some(adjustment) => self.map_view(adjustment),
                        None => self
                            .plan
                            .masks
                            .placeholder(&self.device, &self.queue)
                            .clone(),
                    };
                    let (below, below_view) = &surface.canvases[top - 1];
                    encoder.copy_texture_to_texture(
                        below.as_image_copy(),
                        surface.scratch.as_image_copy(),
                        below.size(),
                    );
                    let views = [&surface.canvases[top].1, &surface.scratch_view];
                    let (bind_group, offset) = self.plan_bind_group(
                        &pipelines.merge_layout,
                        None,
                        &views,
                        (merge.mask, Some(&map)),
                        uniform,
                    );
                    let mut pass = begin_pass(encoder, below_view, wgpu::LoadOp::Load);
                    pass.set_pipeline(&pipelines.merge);
                    pass.set_bind_group(0, &bind_group, &[offset[1]]);
                    pass.draw(0..3, 0..1);
                    drop(pass);
                    top -= 1;
                }
            }
        }
        self.plan.pipelines = Some(pipelines);
    }

    /// The plan uniforms of a draw on `surface` with `mask` (the mask fields only).
    fn plan_uniform(&self, surface: &Surface<'_>, mask: Option<&Mask>) -> PlanUniform {
        let mut uniform = PlanUniform {
            map_origin: surface.map_origin,
            map_zoom: surface.map_zoom,
            strength: 1.0,
            ..PlanUniform::default()
        };
        if let Some((mask, texture)) = mask.and_then(|m| Some((m, self.plan.masks.get(m)?))) {
            uniform.has_mask = 1;
            uniform.mask_origin = [texture.origin.x, texture.origin.y];
            uniform.mask_size = [texture.size.0 as i32, texture.size.1 as i32];
            uniform.mask_background = f32::from(texture.background) / 255.0;
            uniform.mask_density = mask.density.clamp(0.0, 1.0);
        }
        uniform
    }

    /// A bind group of `layout`: the optional per-draw uniform (`first`: binding, value
    /// slot) and `views` at 1 and 2, the mask (or a placeholder) at 4 and `plan` at 5.
    /// Returns it with the dynamic offsets of `first` and of `plan`.
    fn plan_bind_group(
        &mut self,
        layout: &wgpu::BindGroupLayout,
        first: Option<(u32, wgpu::Buffer, u64)>,
        views: &[&wgpu::TextureView; 2],
        (mask, map): (Option<&Mask>, Option<&wgpu::TextureView>),
        plan: PlanUniform,
    ) -> (wgpu::BindGroup, [u32; 2]) {
        let (plan_buffer, plan_offset) = self.uniforms.push(&self.device, &self.queue, plan);
        let mask_view = match enabled(mask).and_then(|m| self.plan.masks.get(m)) {
            Some(texture) => texture.view.clone(),
            None => self
                .plan
                .masks
                .placeholder(&self.device, &self.queue)
                .clone(),
        };
        let mut entries = vec![
            wgpu::BindGroupEntry {
                binding: 1,
                resource: wgpu::BindingResource::TextureView(views[0]),
            },
            wgpu::BindGroupEntry {
                binding: 2,
                resource: wgpu::BindingResource::TextureView(views[1]),
            },
            wgpu::BindGroupEntry {
                binding: 4,
                resource: wgpu::BindingResource::TextureView(&mask_view),
            },
            wgpu::BindGroupEntry {
                binding: 5,
                resource: uniforms::binding_of::<PlanUniform>(&plan_buffer),
            },
        ];
        if let Some(map) = map {
            entries.push(wgpu::BindGroupEntry {
                binding: 6,
                resource: wgpu::BindingResource::TextureView(map),
            });
        }
        let mut first_offset = 0;
        if let Some((binding, buffer, offset)) = &first {
            first_offset = *offset as u32;
            let size = if *binding == 0 {
                std::mem::size_of::<DrawUniform>()
            } else {
                std::mem::size_of::<ViewDraw>()
            };
            entries.push(wgpu::BindGroupEntry {
                binding: *binding,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer,
                    offset: 0,
                    size: wgpu::BufferSize::new(size as u64),
                }),
            });
        }
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("strata plan draw"),
            layout,
            entries: &entries,
        });
        (bind_group, [first_offset, plan_offset])
    }

    /// A texture of what an adjustment maps through, one texel per entry: its colour table
    /// (unorm: the shader reads v/255, as `Adjustment::apply` does), or its matrix rows
    /// (32-bit float, the very values the CPU multiplies by). Made per merge: an adjustment
    /// is one small upload, and this keeps no cache to go stale when the layer changes.
    fn map_view(&self, adjustment: &Adjustment) -> wgpu::TextureView {
        let (texels, format, width): (Vec<u8>, _, usize) = match adjustment.lookup() {
            Lookup::Matrix => {
                let rows = adjustment.matrix();
                let bytes = rows
                    .iter()
                    .flatten()
                    .flat_map(|v| v.to_ne_bytes())
                    .collect();
                (bytes, wgpu::TextureFormat::Rgba32Float, rows.len())
            }
            Lookup::Luminosity | Lookup::Channels => {
                let table = adjustment.table();
                let bytes = table.iter().flat_map(|&[r, g, b]| [r, g, b, 255]).collect();
                (bytes, wgpu::TextureFormat::Rgba8Unorm, table.len())
            }
        };
        let size = wgpu::Extent3d {
            width: width.max(1) as u32,
            height: 1,
            depth_or_array_layers: 1,
        };
        let texture = self.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("strata adjustment table"),
            size,
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        self.queue.write_texture(
            texture.as_image_copy(),
            &texels,
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(texels.len() as u32),
                rows_per_image: Some(1),
            },
            size,
        );
        texture.create_view(&wgpu::TextureViewDescriptor::default())
    }

    /// The chunk draws of `layer` on `surface` with `(blend, opacity)` from its plan step.
    fn plan_layer_draws(
        &mut self,
        pipelines: &PlanPipelines,
        surface: &Surface<'_>,
        layer: &Layer,
        (blend, opacity): (BlendMode, f32),
        plan: PlanUniform,
    ) -> Vec<PlanDraw> {
        let mask = enabled(layer.mask.as_ref());
        let mut draws = Vec::new();
        let chunks: Vec<_> = self
            .layers
            .chunks(layer.id)
            .iter()
            .map(|c| (c.rect, c.view.clone(), c.levels))
            .collect();
        for (chunk_rect, chunk_view, levels) in chunks {
            let placed =
                chunk_rect.translated(i64::from(layer.offset.x), i64::from(layer.offset.y));
            let (rect, first, layout) = match surface.target {
                Target::Tile(tile) => {
                    let tile_rect = self.tiles[tile].rect;
                    let Some(covered) = placed.intersect(&tile_rect) else {
                        continue;
                    };
                    let local = covered.translated(-tile_rect.x, -tile_rect.y);
                    let uniform = DrawUniform {
                        origin: [local.x as i32, local.y as i32],
                        size: [local.width as i32, local.height as i32],
                        src: [(covered.x - placed.x) as i32, (covered.y - placed.y) as i32],
                        target_size: [tile_rect.width as f32, tile_rect.height as f32],
                        opacity: opacity.clamp(0.0, 1.0),
                        mode: blend as u32,
                        canvas_origin: [tile_rect.x as i32, tile_rect.y as i32],
                        fill: layer.fill_opacity.clamp(0.0, 1.0),
                        _pad: [0; 3],
                    };
                    let (buffer, offset) = self.uniforms.push(&self.device, &self.queue, uniform);
                    (
                        local,
                        (0, buffer, u64::from(offset)),
                        &pipelines.layer_layout,
                    )
                }
                Target::View(state) => {
                    let key = state.key;
                    let document = Rect::new(0, 0, key.doc.0, key.doc.1);
                    let whole = Rect::new(0, 0, key.size.0, key.size.1);
                    let Some(cells) = placed.intersect(&document) else {
                        continue;
                    };
                    let Some(quad) = key.screen_rect(cells).and_then(|r| r.intersect(&whole))
                    else {
                        continue;
                    };
                    let mut uniform = view_uniform(state, layer, placed, levels, (cells, quad));
                    uniform.opacity = opacity.clamp(0.0, 1.0);
                    uniform.mode = blend as u32;
                    let (buffer, offset) = self.uniforms.push(&self.device, &self.queue, uniform);
                    (quad, (3, buffer, u64::from(offset)), &pipelines.view_layout)
                }
            };
            let views = [&chunk_view, &surface.scratch_view];
            let (bind_group, offsets) =
                self.plan_bind_group(layout, Some(first), &views, (mask, None), plan);
            draws.push(PlanDraw {
                rect,
                bind_group,
                offsets,
            });
        }
        draws
    }
}
