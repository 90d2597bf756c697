//! Mask thumbnails: the mask in a canvas-shaped box beside the layer's thumbnail (its
//! background value outside the mask's rectangle), crossed out in red while disabled, as
//! in Photoshop. Shift-click turns the mask off and on; right-click offers the same and
//! Delete Mask.
//!
//! Textures are rebuilt only when a mask's pixel buffer changes (buffers are replaced,
//! never mutated, as layer pixels are; see `ui::thumbnails`).

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use egui::{Color32, Rect, Role, Sense, Stroke, StrokeKind, TextureHandle, TextureOptions, vec2};
use image::GrayImage;

use crate::model::{Document, LayerId, Mask};
use crate::ui::Command;
use crate::ui::thumbnails::THUMBNAIL_SIDE;

/// Largest side of a mask texture, in pixels: plenty for a 36-point box on any screen.
const TEXTURE_SIDE: u32 = 128;

struct Entry {
    pixels: Weak<GrayImage>,
    texture: TextureHandle,
}

/// The mask textures of the current document's layers and groups.
#[derive(Default)]
pub(super) struct MaskThumbnails {
    entries: HashMap<LayerId, Entry>,
}

impl std::fmt::Debug for MaskThumbnails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaskThumbnails")
            .field("masks", &self.entries.len())
            .finish()
    }
}

impl MaskThumbnails {
    /// Forgets the textures of masks that are gone. Call once per frame.
    pub(super) fn retain(&mut self, doc: &Document) {
        self.entries.retain(|id, _| {
            doc.layer(*id).is_some_and(|l| l.mask.is_some())
                || doc.group(*id).is_some_and(|g| g.mask.is_some())
        });
    }

    /// Draws the mask of layer or group `id` (named `name`) and handles its clicks:
    /// Shift-click toggles it, a plain click selects its owner, right-click opens its menu.
    /// `editable` is false while the owner is locked.
    #[allow(clippy::too_many_arguments)] // The row's facts, passed rather than looked up again.
    pub(super) fn show(
        &mut self,
        ui: &mut egui::Ui,
        doc: &Document,
        id: LayerId,
        name: &str,
        mask: &Mask,
        editable: bool,
        out: &mut Vec<Command>,
    ) {
        let longest = doc.width.max(doc.height).max(1) as f32;
        let scale = THUMBNAIL_SIDE / longest;
        let size = vec2(doc.width as f32, doc.height as f32) * scale;
        let (rect, response) = ui.allocate_exact_size(size.max(vec2(1.0, 1.0)), Sense::click());
        response.widget_info(|| {
            egui::WidgetInfo::selected(Role::Button, true, mask.enabled, format!("Mask of {name}"))
        });
        if ui.is_rect_visible(rect) {
            let texture = self.texture(ui.ctx(), id, mask);
            paint(ui, rect, scale, mask, &texture);
        }
        let response = response.on_hover_text(if mask.enabled {
            "Layer mask. Shift-click to turn it off; right-click for more."
        } else {
            "Layer mask, turned off. Shift-click to turn it on; right-click for more."
        });
        if response.clicked() {
            if ui.input(|i| i.modifiers.shift) {
                if editable {
                    out.push(Command::SetMaskEnabled(id, !mask.enabled));
                }
            } else {
                out.push(Command::Select(id));
            }
        }
        response.context_menu(|ui| mask_menu(ui, id, mask.enabled, editable, out));
    }

    /// The mask's texture, rebuilt only when its pixels changed.
    fn texture(&mut self, ctx: &egui::Context, id: LayerId, mask: &Mask) -> TextureHandle {
        let current = Arc::downgrade(&mask.pixels);
        if let Some(entry) = self.entries.get(&id)
            && Weak::ptr_eq(&entry.pixels, &current)
        {
            return entry.texture.clone();
        }
        let (w, h) = mask.pixels.dimensions();
        let fit = (TEXTURE_SIDE as f32 / w.max(h).max(1) as f32).min(1.0);
        let (tw, th) = (
            ((w as f32 * fit).round() as u32).max(1),
            ((h as f32 * fit).round() as u32).max(1),
        );
        let small = if (tw, th) == (w, h) {
            mask.pixels.as_ref().clone()
        } else {
            image::imageops::thumbnail(mask.pixels.as_ref(), tw, th)
        };
        let image = egui::ColorImage::from_gray([tw as usize, th as usize], small.as_raw());
        let texture = ctx.load_texture(format!("mask-{}", id.0), image, TextureOptions::LINEAR);
        self.entries.insert(
            id,
            Entry {
                pixels: current,
                texture: texture.clone(),
            },
        );
        texture
    }
}

/// The canvas-shaped box: the background value, the mask where it lies on the canvas, a
/// border, and a red cross while the mask is off.
fn paint(ui: &egui::Ui, rect: Rect, scale: f32, mask: &Mask, texture: &TextureHandle) {
    let painter = ui.painter().with_clip_rect(rect.intersect(ui.clip_rect()));
    painter.rect_filled(rect, 0.0, Color32::from_gray(mask.background));
    let min = rect.min + vec2(mask.offset.x as f32, mask.offset.y as f32) * scale;
    let (w, h) = mask.pixels.dimensions();
    let at = Rect::from_min_size(min, vec2(w as f32, h as f32) * scale);
    let uv = Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
    let tint = if mask.enabled {
        Color32::WHITE
    } else {
        Color32::from_white_alpha(140)
    };
    painter.image(texture.id(), at, uv, tint);
    let border = Stroke::new(1.0, ui.visuals().widgets.noninteractive.bg_stroke.color);
    ui.painter()
        .rect_stroke(rect, 0.0, border, StrokeKind::Outside);
    if !mask.enabled {
        let red = Stroke::new(2.0, Color32::from_rgb(220, 40, 40));
        painter.line_segment([rect.left_top(), rect.right_bottom()], red);
        painter.line_segment([rect.right_top(), rect.left_bottom()], red);
    }
}

/// The mask's own right-click menu (also part of the row's menu).
pub(super) fn mask_menu(
    ui: &mut egui::Ui,
    id: LayerId,
    enabled: bool,
    editable: bool,
    out: &mut Vec<Command>,
) {
    let toggle = if enabled {
        "Disable mask"
    } else {
        "Enable mask"
    };
    let hint = "The layer or a group around it is locked";
    if ui
        .add_enabled(editable, egui::Button::new(toggle))
        .on_disabled_hover_text(hint)
        .clicked()
    {
        out.push(Command::SetMaskEnabled(id, !enabled));
    }
    if ui
        .add_enabled(editable, egui::Button::new("Delete mask"))
        .on_disabled_hover_text(hint)
        .clicked()
    {
        out.push(Command::DeleteMask(id));
    }
}
