//! The central view: the composite over a checkerboard, fit to the window or zoomed and panned.
//!
//! With a GPU (the normal case) the wgpu compositor draws the canvas inside egui's paint
//! callback ([`GpuCanvas`]). Without one, or after the GPU failed, the composite is computed on
//! the CPU with [`model::composite`] and uploaded as one egui texture, only when the document's
//! revision changes; the status bar says so.

use egui::{
    Color32, ColorImage, Pos2, Rect, Sense, Stroke, StrokeKind, TextureFilter, TextureHandle,
    TextureOptions, TextureWrapMode, Vec2, pos2, vec2,
};

use super::gpu_canvas::{GpuCanvas, GpuFrame};
use super::{Command, Tool};
use crate::gpu::ViewTransform;
use crate::model::{self, Document, LayerId};

#[cfg(test)]
mod tool_tests;
mod tools;

/// Smallest and largest zoom (screen pixels per canvas pixel).
const ZOOM_RANGE: (f32, f32) = (0.01, 64.0);
/// Space kept free around the canvas when fitting, in points.
const FIT_MARGIN: f32 = 24.0;
/// Side of one checkerboard square, in points.
const CHECKER_SQUARE: f32 = 8.0;
/// A wheel or pinch zoom within this long (seconds) of the previous one continues a zoom
/// gesture: its frames resample the last composite, and the canvas is composited exactly once
/// the gesture has been still this long. Wheel notches and pinch events come closer together.
const ZOOM_GESTURE_SETTLE: f64 = 0.15;

/// Zoom, pan and the cached composite texture of the canvas view.
pub struct CanvasView {
    /// Screen pixels per canvas pixel (1.0 = 100 %).
    zoom: f32,
    /// Offset of the canvas centre from the view centre, in points.
    pan: Vec2,
    /// Refit on every frame (follows window resizes) until the person zooms or pans.
    fit: bool,
    /// Screen pixels per point, as of the last frame.
    pixels_per_point: f32,
    /// Size of the view, in points, as of the last frame.
    view_size: Vec2,
    /// The composite, and the document revision it shows.
    texture: Option<(TextureHandle, u64)>,
    checker: Option<TextureHandle>,
    /// The GPU path, when eframe runs on wgpu; `None` composites on the CPU.
    gpu: Option<GpuCanvas>,
    /// Set when the GPU path failed and nobody has told the person yet.
    gpu_failure_unreported: bool,
    /// What a primary-button drag does.
    tool: Tool,
    /// The move-tool drag in progress.
    move_drag: Option<tools::MoveDrag>,
    /// The canvas pixel under the pointer, as of the last frame.
    hover: Option<(i64, i64)>,
    /// Where the canvas was drawn on screen in the last frame, in points.
    shown_at: Option<Rect>,
    /// When (egui input time, seconds) the wheel or a pinch last zoomed.
    zoomed_at: Option<f64>,
}

impl Default for CanvasView {
    fn default() -> Self {
        Self {
            zoom: 1.0,
            pan: Vec2::ZERO,
            fit: true,
            pixels_per_point: 1.0,
            view_size: Vec2::ZERO,
            texture: None,
            checker: None,
            gpu: None,
            gpu_failure_unreported: false,
            tool: Tool::default(),
            move_drag: None,
            hover: None,
            shown_at: None,
            zoomed_at: None,
        }
    }
}

impl CanvasView {
    /// Draws with the wgpu compositor from now on.
    pub fn use_gpu(&mut self, gpu: GpuCanvas) {
        self.gpu = Some(gpu);
    }

    /// True while the canvas is drawn by the GPU compositor.
    pub fn is_gpu(&self) -> bool {
        self.gpu.as_ref().is_some_and(|gpu| !gpu.has_failed())
    }

    /// Returns true once after the GPU path failed (the window reports it).
    pub fn take_gpu_failure(&mut self) -> bool {
        std::mem::take(&mut self.gpu_failure_unreported)
    }

    /// The active canvas tool.
    pub fn tool(&self) -> Tool {
        self.tool
    }

    /// Picks the canvas tool.
    pub fn set_tool(&mut self, tool: Tool) {
        self.tool = tool;
    }

    /// The canvas pixel (column, row) under the pointer, if it is over the canvas.
    pub fn hover_pixel(&self) -> Option<(i64, i64)> {
        self.hover
    }

    /// Where the canvas was drawn in the last frame, in points (`None` with no picture).
    pub fn screen_rect(&self) -> Option<Rect> {
        self.shown_at
    }

    /// Current zoom: screen pixels per canvas pixel (1.0 = 100 %).
    pub fn zoom(&self) -> f32 {
        self.zoom
    }

    /// Fits the whole canvas into the view, now and after every window resize.
    pub fn fit(&mut self) {
        self.fit = true;
        self.pan = Vec2::ZERO;
    }

    /// Zooms to one canvas pixel per screen pixel, keeping the view centre.
    pub fn zoom_100(&mut self) {
        self.zoom_about(1.0 / self.zoom, Vec2::ZERO);
    }

    /// Zooms by `factor` around the view centre.
    pub fn zoom_by(&mut self, factor: f32) {
        self.zoom_about(factor, Vec2::ZERO);
    }

    /// Zooms by `factor`, keeping the canvas point under `anchor` (an offset from the view
    /// centre, in points) where it is.
    fn zoom_about(&mut self, factor: f32, anchor: Vec2) {
        let new_zoom = (self.zoom * factor).clamp(ZOOM_RANGE.0, ZOOM_RANGE.1);
        let ratio = new_zoom / self.zoom;
        self.pan = anchor - (anchor - self.pan) * ratio;
        self.zoom = new_zoom;
        self.fit = false;
    }

    /// The zoom that shows all of a `size` canvas in a view of `view` points.
    fn fit_zoom(size: Vec2, view: Vec2, pixels_per_point: f32) -> f32 {
        let room = (view - Vec2::splat(2.0 * FIT_MARGIN)).max(Vec2::splat(16.0));
        let zoom = (room.x / size.x).min(room.y / size.y) * pixels_per_point;
        zoom.clamp(ZOOM_RANGE.0, ZOOM_RANGE.1)
    }

    /// Where the canvas lies on screen inside `view`.
    fn canvas_rect(&self, view: Rect, doc: &Document) -> Rect {
        let size = vec2(doc.width as f32, doc.height as f32) * self.zoom / self.pixels_per_point;
        Rect::from_center_size(view.center() + self.pan, size)
    }

    /// Draws the view into all of `ui`'s remaining space, handles zoom, pan and the tools,
    /// and outlines the `selected` layer. `revision` identifies the document's state; the
    /// composite is recomputed when it changes.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        doc: &Document,
        revision: u64,
        selected: Option<LayerId>,
        out: &mut Vec<Command>,
    ) {
        let (response, painter) = ui.allocate_painter(ui.available_size(), Sense::click_and_drag());
        // Its accessible name (screen readers, GUI tests).
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Canvas, true, "Canvas"));
        let view = response.rect;
        let painter = painter.with_clip_rect(view);
        self.pixels_per_point = ui.ctx().pixels_per_point();
        self.view_size = view.size();

        if doc.layers.is_empty() || doc.width == 0 || doc.height == 0 {
            self.hover = None;
            self.shown_at = None;
            painter.text(
                view.center(),
                egui::Align2::CENTER_CENTER,
                "No picture open.\nFile › Open… (Ctrl+O), or drop a file here.",
                egui::FontId::proportional(16.0),
                ui.visuals().weak_text_color(),
            );
            return;
        }

        if self.fit {
            let size = vec2(doc.width as f32, doc.height as f32);
            self.zoom = Self::fit_zoom(size, view.size(), self.pixels_per_point);
            self.pan = Vec2::ZERO;
        }
        self.handle_zoom(ui, &response, view);
        // Pointer hits are resolved against where the canvas was before this frame's pan;
        // drawing then uses where it is after.
        let rect = self.canvas_rect(view, doc);
        self.handle_tools(ui, &response, doc, rect, selected, out);
        let rect = self.canvas_rect(view, doc);
        self.shown_at = Some(rect);
        let gesture = self.zoom_gesture_left(ui.input(|i| i.time));
        if let Some(left) = gesture {
            // Nothing else may come to draw the exact frame once the gesture stops.
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_secs_f64(left));
        }
        let dragging = self.dragging();
        if let Some(gpu) = self.gpu.as_mut().filter(|gpu| !gpu.has_failed()) {
            let ppp = self.pixels_per_point;
            let round = |p: Pos2| vec2((p.x * ppp).round(), (p.y * ppp).round());
            let origin = round(rect.min) - round(view.min);
            let transform = ViewTransform {
                viewport_size: [(view.width() * ppp).round(), (view.height() * ppp).round()],
                origin: [origin.x, origin.y],
                zoom: self.zoom,
                checker_size: CHECKER_SQUARE * ppp,
            };
            let frame = GpuFrame {
                dragging,
                zoom_gesture: gesture.is_some(),
            };
            painter.add(gpu.callback(view, doc, revision, frame, transform));
        } else {
            if let Some(gpu) = self.gpu.take() {
                // The GPU failed (lost device, out of memory): stay on the CPU from now on.
                drop(gpu);
                self.gpu_failure_unreported = true;
            }
            self.refresh_texture(ui.ctx(), doc, revision);
            let checker = self.checker_texture(ui.ctx());
            let repeats = rect.size() / (2.0 * CHECKER_SQUARE);
            let checker_uv = Rect::from_min_max(Pos2::ZERO, pos2(repeats.x, repeats.y));
            painter.image(checker.id(), rect, checker_uv, Color32::WHITE);
            if let Some((texture, _)) = &self.texture {
                let uv = Rect::from_min_max(Pos2::ZERO, pos2(1.0, 1.0));
                painter.image(texture.id(), rect, uv, Color32::WHITE);
            }
        }
        let border = Stroke::new(1.0, Color32::from_black_alpha(160));
        painter.rect_stroke(rect, 0.0, border, StrokeKind::Outside);
        // A group's outline spans all its layers, which the move tool moves together.
        let bounds = selected
            .and_then(|id| doc.node_range(id))
            .and_then(|range| {
                doc.layers[range]
                    .iter()
                    .map(model::Layer::bounds)
                    .reduce(model::BBox::union)
            });
        if let Some(bounds) = bounds {
            self.outline(&painter, rect, bounds);
        }
    }

    /// Marks the selected layer's (or group's) bounds with a dashed line (black under
    /// white, visible on any picture), like Photoshop's "Show Transform Controls".
    fn outline(&self, painter: &egui::Painter, canvas: Rect, bounds: model::BBox<i64>) {
        let model::BBox {
            x0: left,
            y0: top,
            x1: right,
            y1: bottom,
        } = bounds;
        let scale = self.zoom / self.pixels_per_point;
        let at = |x: i64, y: i64| canvas.min + vec2(x as f32, y as f32) * scale;
        let corners = [
            at(left, top),
            at(right, top),
            at(right, bottom),
            at(left, bottom),
            at(left, top),
        ];
        painter.add(egui::Shape::line(
            corners.to_vec(),
            Stroke::new(1.0, Color32::from_black_alpha(200)),
        ));
        painter.extend(egui::Shape::dashed_line(
            &corners,
            Stroke::new(1.0, Color32::WHITE),
            4.0,
            4.0,
        ));
    }

    /// Ctrl+wheel (or pinch) zooms around the pointer; the wheel pans.
    fn handle_zoom(&mut self, ui: &egui::Ui, response: &egui::Response, view: Rect) {
        if response.hovered() {
            let (zoom_delta, scroll) = ui.input(|i| (i.zoom_delta(), i.smooth_scroll_delta));
            if zoom_delta != 1.0 {
                let anchor = response
                    .hover_pos()
                    .map_or(Vec2::ZERO, |p| p - view.center());
                self.zoom_about(zoom_delta, anchor);
                self.zoomed_at = Some(ui.input(|i| i.time));
            } else if scroll != Vec2::ZERO {
                self.pan += scroll;
                self.fit = false;
            }
        }
    }

    /// While a wheel or pinch zoom gesture goes on at input time `now`: how long (seconds)
    /// until it counts as settled. `None` once it has.
    fn zoom_gesture_left(&self, now: f64) -> Option<f64> {
        let since = now - self.zoomed_at?;
        (since < ZOOM_GESTURE_SETTLE).then_some(ZOOM_GESTURE_SETTLE - since)
    }

    /// Recomputes and uploads the composite if the document changed since the last upload.
    fn refresh_texture(&mut self, ctx: &egui::Context, doc: &Document, revision: u64) {
        if matches!(&self.texture, Some((_, shown)) if *shown == revision) {
            return;
        }
        let started = std::time::Instant::now();
        let max_side = ctx.input(|i| i.max_texture_side);
        let image = composite_image(doc, max_side);
        let options = TextureOptions {
            magnification: TextureFilter::Nearest,
            minification: TextureFilter::Linear,
            wrap_mode: TextureWrapMode::ClampToEdge,
            mipmap_mode: None,
        };
        match &mut self.texture {
            Some((texture, shown)) => {
                texture.set(image, options);
                *shown = revision;
            }
            None => {
                let texture = ctx.load_texture("strata-composite", image, options);
                self.texture = Some((texture, revision));
            }
        }
        tracing::debug!(revision, elapsed = ?started.elapsed(), "recomposited canvas");
    }

    fn checker_texture(&mut self, ctx: &egui::Context) -> TextureHandle {
        self.checker
            .get_or_insert_with(|| {
                let (light, dark) = (Color32::from_gray(204), Color32::from_gray(153));
                let image = ColorImage::new([2, 2], vec![light, dark, dark, light]);
                ctx.load_texture("strata-checker", image, TextureOptions::NEAREST_REPEAT)
            })
            .clone()
    }
}

/// Composites `doc` on the CPU into an egui image, scaled down if a side exceeds `max_side`
/// (the GPU's texture limit).
pub fn composite_image(doc: &Document, max_side: usize) -> ColorImage {
    let flat = model::composite(doc);
    let (w, h) = (flat.width() as usize, flat.height() as usize);
    let longest = w.max(h);
    let flat = if longest > max_side && max_side > 0 {
        let scale = max_side as f64 / longest as f64;
        let nw = ((w as f64 * scale).round() as u32).max(1);
        let nh = ((h as f64 * scale).round() as u32).max(1);
        image::imageops::resize(&flat, nw, nh, image::imageops::FilterType::Triangle)
    } else {
        flat
    };
    let size = [flat.width() as usize, flat.height() as usize];
    ColorImage::from_rgba_unmultiplied(size, flat.as_raw())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RgbaImage;

    #[test]
    fn composite_respects_texture_limit() {
        let doc = Document::from_flat(
            "a",
            RgbaImage::from_pixel(40, 10, image::Rgba([9, 8, 7, 255])),
        );
        let full = composite_image(&doc, 64);
        assert_eq!(full.size, [40, 10]);
        assert_eq!(full.pixels[0], Color32::from_rgb(9, 8, 7));
        let small = composite_image(&doc, 20);
        assert_eq!(small.size, [20, 5]);
    }

    #[test]
    fn zoom_keeps_anchor_point_fixed() {
        let mut view = CanvasView {
            fit: false,
            ..CanvasView::default()
        };
        let anchor = vec2(100.0, -40.0);
        // The canvas point under the anchor, relative to the canvas centre, in canvas pixels.
        let before = (anchor - view.pan) / view.zoom;
        view.zoom_about(2.5, anchor);
        let after = (anchor - view.pan) / view.zoom;
        assert!((before - after).length() < 1e-4);
        assert_eq!(view.zoom(), 2.5);
    }

    #[test]
    fn a_zoom_gesture_settles_after_a_still_moment() {
        let mut view = CanvasView::default();
        assert_eq!(view.zoom_gesture_left(5.0), None);
        view.zoomed_at = Some(5.0);
        assert!(view.zoom_gesture_left(5.05).is_some_and(|left| left > 0.09));
        assert_eq!(view.zoom_gesture_left(5.0 + ZOOM_GESTURE_SETTLE), None);
    }

    #[test]
    fn fit_zoom_fits_both_sides() {
        let zoom = CanvasView::fit_zoom(vec2(960.0, 640.0), vec2(1000.0, 400.0), 1.0);
        assert!(640.0 * zoom <= 400.0 - 2.0 * FIT_MARGIN + 1e-3);
        let hidpi = CanvasView::fit_zoom(vec2(960.0, 640.0), vec2(1000.0, 400.0), 2.0);
        assert!((hidpi - 2.0 * zoom).abs() < 1e-5);
    }
}
