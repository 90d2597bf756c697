//! Messages to the person (status line and error banner) and the status bar that shows them.

use egui::{Color32, RichText};

use super::Command;
use crate::model::Document;

/// How a message should look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Something finished as asked (opened, exported, undone).
    Info,
    /// Something failed; the document is unchanged.
    Error,
}

/// One line for the status bar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// What happened, in words for people.
    pub text: String,
    /// Info or error.
    pub level: Level,
}

/// The newest message, plus the newest error until the person dismisses it.
///
/// Each error is reported exactly once: logged through `tracing` here, and shown in the window.
#[derive(Debug, Default)]
pub struct Messages {
    last: Option<Message>,
    banner: Option<Message>,
    /// Counts the messages recorded, so a caller can tell whether an action said anything.
    recorded: u64,
}

impl Messages {
    /// Records a success message.
    pub fn info(&mut self, text: impl Into<String>) {
        let text = text.into();
        tracing::info!("{text}");
        self.recorded += 1;
        self.last = Some(Message {
            text,
            level: Level::Info,
        });
    }

    /// Records a failure: it goes to the status bar and to the banner over the canvas.
    pub fn error(&mut self, text: impl Into<String>) {
        let text = text.into();
        tracing::warn!("{text}");
        self.recorded += 1;
        let message = Message {
            text,
            level: Level::Error,
        };
        self.banner = Some(message.clone());
        self.last = Some(message);
    }

    /// Records something the person should know that is no failure (an opened file was
    /// converted, or holds what is not drawn): it goes to the banner, marked as a note, and
    /// stays until dismissed; the status line keeps its own message.
    pub fn notice(&mut self, text: impl Into<String>) {
        let text = text.into();
        tracing::info!("{text}");
        self.recorded += 1;
        self.banner = Some(Message {
            text,
            level: Level::Info,
        });
    }

    /// Records a failure of work the person did not ask for (autosave): the status line
    /// shows it, but no banner covers the canvas.
    pub fn warn(&mut self, text: impl Into<String>) {
        let text = text.into();
        tracing::warn!("{text}");
        self.recorded += 1;
        self.last = Some(Message {
            text,
            level: Level::Error,
        });
    }

    /// The newest message, if any.
    pub fn last(&self) -> Option<&Message> {
        self.last.as_ref()
    }

    /// The error or notice shown in the banner, if not dismissed.
    pub fn banner(&self) -> Option<&str> {
        self.banner.as_ref().map(|m| m.text.as_str())
    }

    /// The banner's message with its level (a notice is [`Level::Info`]).
    pub fn banner_message(&self) -> Option<&Message> {
        self.banner.as_ref()
    }

    /// How many messages have been recorded so far.
    pub fn recorded(&self) -> u64 {
        self.recorded
    }

    /// Empties the status line (the banner stays until dismissed): once the document has
    /// moved on, "Redid Move layer" would describe a state that is gone.
    pub fn clear_status(&mut self) {
        self.last = None;
    }

    /// Hides the banner (the status line keeps the message).
    pub fn dismiss_banner(&mut self) {
        self.banner = None;
    }
}

/// "1 layer", "3 layers".
pub fn layer_count(n: usize) -> String {
    if n == 1 {
        "1 layer".to_string()
    } else {
        format!("{n} layers")
    }
}

/// Colour for error text, readable on both themes.
pub fn error_color(ui: &egui::Ui) -> Color32 {
    ui.visuals().error_fg_color
}

/// Draws the bottom bar: canvas size, zoom, layer count, the pixel under the cursor and its
/// composited colour, newest message.
pub fn status_bar(
    ui: &mut egui::Ui,
    doc: &Document,
    zoom: f32,
    cursor: Option<(i64, i64)>,
    messages: &Messages,
    out: &mut Vec<Command>,
) {
    ui.horizontal(|ui| {
        if doc.layers.is_empty() {
            ui.weak("No picture");
        } else {
            ui.label(format!("{} × {} px", doc.width, doc.height));
            ui.separator();
            zoom_controls(ui, zoom, out);
            ui.separator();
            ui.label(layer_count(doc.layers.len()));
            if let Some((x, y)) = cursor {
                ui.separator();
                cursor_readout(ui, doc, x, y);
            }
        }
        ui.separator();
        if let Some(message) = messages.last() {
            let text = RichText::new(&message.text);
            let text = match message.level {
                Level::Info => text,
                Level::Error => text.color(error_color(ui)),
            };
            ui.add(egui::Label::new(text).truncate());
        }
    });
}

/// Zoom out, the zoom in percent (click: 100 %), zoom in, and fit, as in Photoshop's status
/// bar and Krita's zoom box.
fn zoom_controls(ui: &mut egui::Ui, zoom: f32, out: &mut Vec<Command>) {
    const STEP: f32 = super::menu::ZOOM_STEP;
    if ui
        .small_button("−")
        .on_hover_text("Zoom out (Ctrl+Minus)")
        .clicked()
    {
        out.push(Command::ZoomBy(1.0 / STEP));
    }
    let percent = ui
        .add(egui::Label::new(format!("{:.0} %", zoom * 100.0)).sense(egui::Sense::click()))
        .on_hover_text("Click for 100 % (Ctrl+1)");
    if percent.clicked() {
        out.push(Command::Zoom100);
    }
    if ui
        .small_button("+")
        .on_hover_text("Zoom in (Ctrl+Plus)")
        .clicked()
    {
        out.push(Command::ZoomBy(STEP));
    }
    if ui
        .small_button("Fit")
        .on_hover_text("Fit on screen (Ctrl+0)")
        .clicked()
    {
        out.push(Command::ZoomFit);
    }
}

/// "x 12  y 40" and the composited colour there as a swatch, "#rrggbb" and alpha.
fn cursor_readout(ui: &mut egui::Ui, doc: &Document, x: i64, y: i64) {
    ui.monospace(format!("x {x:>5}  y {y:>5}"));
    if let Some([r, g, b, a]) = doc.color_at(x, y) {
        let (rect, _) = ui.allocate_exact_size(egui::vec2(14.0, 14.0), egui::Sense::hover());
        let swatch = Color32::from_rgba_unmultiplied(r, g, b, a);
        ui.painter().rect_filled(rect, 2.0, Color32::from_gray(128));
        ui.painter().rect_filled(rect, 2.0, swatch);
        ui.monospace(format!("#{r:02x}{g:02x}{b:02x}  α {a:>3}"));
    }
}

/// Draws the banner across the top of the canvas (an error, or a note about the opened
/// file), with a button that hides it.
pub fn error_banner(ui: &mut egui::Ui, messages: &Messages, out: &mut Vec<Command>) {
    let Some(Message { text, level }) = messages.banner_message() else {
        return;
    };
    let (title, color) = match level {
        Level::Error => ("Error", error_color(ui)),
        Level::Info => ("Note", ui.visuals().warn_fg_color),
    };
    let fill = color.gamma_multiply(0.18);
    egui::Frame::new()
        .fill(fill)
        .stroke(egui::Stroke::new(1.0, color))
        .corner_radius(4)
        .inner_margin(egui::Margin::symmetric(10, 6))
        .outer_margin(egui::Margin::same(6))
        .show(ui, |ui| {
            egui::Sides::new().shrink_left().show(
                ui,
                |ui| {
                    ui.label(RichText::new(title).color(color).strong());
                    ui.add(egui::Label::new(RichText::new(text).color(color)).wrap());
                },
                |ui| {
                    if ui.small_button("×").on_hover_text("Dismiss").clicked() {
                        out.push(Command::DismissError);
                    }
                },
            );
        });
}
