//! Layer thumbnails for the layers panel: each layer's content, cropped to its visible pixels
//! and scaled to fill a canvas-shaped box over a checkerboard (Photoshop's "layer bounds"
//! thumbnails). Shown where it sits on the canvas, a cut-out object is a speck in a box of
//! checkerboard; cropped, it is recognisable.
//!
//! Textures are rebuilt only when a layer's pixel buffer changes. Buffers are shared `Arc`s
//! that are replaced, never mutated, so "same allocation" means "same pixels"; a `Weak` is
//! kept rather than a raw address because it pins the allocation, so an address can never be
//! reused by a different buffer while we still compare against it.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use egui::{Color32, Rect, Sense, Stroke, StrokeKind, TextureHandle, TextureOptions, vec2};
use image::{GenericImageView, ImageBuffer, Rgba, SubImage};

use crate::model::pixels::visible_bounds;
use crate::model::{BBox, Document, Layer, LayerId, RgbaImage};

/// Longest side of a thumbnail box, in points.
pub const THUMBNAIL_SIDE: f32 = 36.0;
/// Side of a checkerboard square inside a thumbnail, in points.
const CHECKER: f32 = 4.0;

struct Entry {
    pixels: Weak<RgbaImage>,
    /// The layer's visible pixels, cropped and scaled; `None` for a fully transparent layer.
    texture: Option<TextureHandle>,
    /// The size of the cropped content, in layer pixels.
    content: (u32, u32),
}

/// The thumbnail textures of the current document's layers.
#[derive(Default)]
pub struct Thumbnails {
    entries: HashMap<LayerId, Entry>,
}

impl std::fmt::Debug for Thumbnails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Thumbnails")
            .field("layers", &self.entries.len())
            .finish()
    }
}

impl Thumbnails {
    /// Forgets the textures of layers that are no longer in `doc`. Call once per frame.
    pub fn retain(&mut self, doc: &Document) {
        self.entries.retain(|id, _| doc.layer(*id).is_some());
    }

    /// True when no texture is cached.
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Draws `layer`'s thumbnail for a `doc`-sized canvas and returns its response.
    pub fn show(&mut self, ui: &mut egui::Ui, doc: &Document, layer: &Layer) -> egui::Response {
        let longest = doc.width.max(doc.height).max(1) as f32;
        let scale = THUMBNAIL_SIDE / longest;
        let size = vec2(doc.width as f32, doc.height as f32) * scale;
        let (rect, response) = ui.allocate_exact_size(size.max(vec2(1.0, 1.0)), Sense::hover());
        if !ui.is_rect_visible(rect) {
            return response;
        }
        let painter = ui.painter().with_clip_rect(rect.intersect(ui.clip_rect()));
        checkerboard(&painter, rect);
        let physical = rect.size() * ui.ctx().pixels_per_point();
        let (texture, content) = self.texture(ui.ctx(), layer, physical);
        if let Some(texture) = texture {
            let uv = Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
            let tint = if layer.visible {
                Color32::WHITE
            } else {
                Color32::from_white_alpha(110)
            };
            painter.image(texture.id(), fit_content(rect, content), uv, tint);
        }
        let border = Stroke::new(1.0, ui.visuals().widgets.noninteractive.bg_stroke.color);
        ui.painter()
            .rect_stroke(rect, 0.0, border, StrokeKind::Outside);
        response
    }

    /// The texture of the layer's visible pixels, sized for a box of `physical` pixels, and
    /// the content's size; rebuilt only when the layer's pixels changed.
    fn texture(
        &mut self,
        ctx: &egui::Context,
        layer: &Layer,
        physical: egui::Vec2,
    ) -> (Option<TextureHandle>, (u32, u32)) {
        let current = Arc::downgrade(&layer.pixels);
        if let Some(entry) = self.entries.get(&layer.id)
            && Weak::ptr_eq(&entry.pixels, &current)
        {
            return (entry.texture.clone(), entry.content);
        }
        let bounds = visible_bounds(&layer.pixels);
        let content = bounds.map_or((0, 0), |b| (b.width(), b.height()));
        let texture = bounds.map(|b| {
            // Scaled from a view of the content, not a cropped copy: a background layer's
            // copy would be as large as the picture (48 MB at 12 megapixels).
            let content = crop(&layer.pixels, b);
            let fit = (physical.x / b.width() as f32).min(physical.y / b.height() as f32);
            ctx.load_texture(
                format!("layer-thumbnail-{}", layer.id.0),
                downscale(&*content, fit),
                TextureOptions::LINEAR,
            )
        });
        self.entries.insert(
            layer.id,
            Entry {
                pixels: current,
                texture: texture.clone(),
                content,
            },
        );
        (texture, content)
    }

    /// The size of the content the layer's thumbnail shows, in layer pixels (tests).
    #[cfg(test)]
    fn content_of(&self, id: LayerId) -> Option<(u32, u32)> {
        self.entries.get(&id).map(|e| e.content)
    }
}

/// `content` (width, height) scaled to fill `rect` as far as its aspect allows, centred:
/// small content is scaled up, as a thumbnail is for recognising the layer.
fn fit_content(rect: Rect, (width, height): (u32, u32)) -> Rect {
    let size = vec2(width.max(1) as f32, height.max(1) as f32);
    let scale = (rect.width() / size.x).min(rect.height() / size.y);
    Rect::from_center_size(rect.center(), size * scale)
}

/// The part of `pixels` inside `bounds`, as a view (nothing copied).
fn crop(pixels: &RgbaImage, bounds: BBox<u32>) -> SubImage<&RgbaImage> {
    image::imageops::crop_imm(
        pixels,
        bounds.x0,
        bounds.y0,
        bounds.width(),
        bounds.height(),
    )
}

/// `pixels` scaled by `scale` (at most 1), at least 1×1.
fn downscale<I>(pixels: &I, scale: f32) -> egui::ColorImage
where
    I: GenericImageView<Pixel = Rgba<u8>>,
{
    let scale = scale.min(1.0);
    let w = ((pixels.width() as f32 * scale).round() as u32).max(1);
    let h = ((pixels.height() as f32 * scale).round() as u32).max(1);
    let small: RgbaImage = if (w, h) == pixels.dimensions() {
        ImageBuffer::from_fn(w, h, |x, y| pixels.get_pixel(x, y))
    } else {
        image::imageops::thumbnail(pixels, w, h)
    };
    egui::ColorImage::from_rgba_unmultiplied([w as usize, h as usize], small.as_raw())
}

fn checkerboard(painter: &egui::Painter, rect: Rect) {
    let (light, dark) = (Color32::from_gray(204), Color32::from_gray(153));
    painter.rect_filled(rect, 0.0, light);
    let cols = (rect.width() / CHECKER).ceil() as usize;
    let rows = (rect.height() / CHECKER).ceil() as usize;
    for row in 0..rows {
        for col in (row % 2..cols).step_by(2) {
            let min = rect.min + vec2(col as f32, row as f32) * CHECKER;
            let square = Rect::from_min_size(min, vec2(CHECKER, CHECKER)).intersect(rect);
            painter.rect_filled(square, 0.0, dark);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textures_are_rebuilt_only_when_pixels_change_and_dropped_with_their_layer() {
        let ctx = egui::Context::default();
        let mut doc = Document::new(40, 20);
        let id = doc
            .push_layer(
                "a",
                RgbaImage::from_pixel(40, 20, image::Rgba([1, 2, 3, 255])),
            )
            .id;
        let mut thumbs = Thumbnails::default();
        let frame = |doc: &Document, thumbs: &mut Thumbnails| {
            let output = ctx.run_ui(egui::RawInput::default(), |ui| {
                thumbs.retain(doc);
                for layer in &doc.layers {
                    thumbs.show(ui, doc, layer);
                }
            });
            let uploads = output.textures_delta.set.len();
            // There is no renderer to hand the uploads to.
            output.drop_without_applying_deltas();
            uploads
        };
        // The first frame also uploads egui's font atlas.
        let empty = Document::new(1, 1);
        let fonts = frame(&empty, &mut Thumbnails::default());
        let uploads = frame(&doc, &mut thumbs);
        assert_eq!(uploads, 1, "one thumbnail after {fonts} font uploads");
        assert_eq!(frame(&doc, &mut thumbs), 0, "unchanged pixels: no upload");
        // Moving or hiding the layer reuses the texture.
        doc.layers[0].offset.x = 5;
        doc.layers[0].visible = false;
        assert_eq!(frame(&doc, &mut thumbs), 0);
        let new_pixels = RgbaImage::from_pixel(40, 20, image::Rgba([9, 8, 7, 255]));
        doc.layers[0].pixels = Arc::new(new_pixels);
        assert_eq!(frame(&doc, &mut thumbs), 1, "new pixels: one upload");
        // A transparent layer has nothing to show: no texture at all.
        doc.layers[0].pixels = Arc::new(RgbaImage::new(40, 20));
        assert_eq!(
            frame(&doc, &mut thumbs),
            0,
            "an empty layer uploads nothing"
        );
        doc.remove_layer(id);
        frame(&doc, &mut thumbs);
        assert!(thumbs.is_empty());
    }

    #[test]
    fn a_small_object_fills_its_thumbnail_and_an_empty_layer_shows_none() {
        let ctx = egui::Context::default();
        let mut doc = Document::new(400, 200);
        let mut speck = RgbaImage::new(400, 200);
        for (x, y) in [(300, 40), (307, 40), (300, 43)] {
            speck.put_pixel(x, y, image::Rgba([200, 30, 30, 255]));
        }
        let speck = doc.push_layer("speck", speck).id;
        let empty = doc.push_layer("empty", RgbaImage::new(400, 200)).id;
        let mut thumbs = Thumbnails::default();
        let output = ctx.run_ui(egui::RawInput::default(), |ui| {
            for layer in &doc.layers {
                thumbs.show(ui, &doc, layer);
            }
        });
        output.drop_without_applying_deltas();
        assert_eq!(
            thumbs.content_of(speck),
            Some((8, 4)),
            "cropped to the speck"
        );
        assert_eq!(thumbs.content_of(empty), Some((0, 0)));
        // The 8×4 speck fills the 36×18 box instead of covering 0.7×0.4 points of it.
        let rect = Rect::from_min_size(egui::pos2(0.0, 0.0), vec2(36.0, 18.0));
        let shown = fit_content(rect, (8, 4));
        assert_eq!(shown.size(), vec2(36.0, 18.0));
        let tall = fit_content(rect, (2, 6));
        assert_eq!(tall.size(), vec2(6.0, 18.0));
        assert_eq!(tall.center(), rect.center());
    }

    #[test]
    fn downscale_keeps_aspect_and_never_reaches_zero() {
        let big = RgbaImage::new(4000, 10);
        let small = downscale(&big, 0.01);
        assert_eq!(small.size, [40, 1]);
        let tiny = RgbaImage::new(3, 3);
        assert_eq!(downscale(&tiny, 4.0).size, [3, 3]);
    }
}
