//! The frame: takes in finished work, lays out the panels, collects their commands, applies
//! them.

use egui::{Align2, Color32, FontId, Frame, Id, LayerId, Order};

use super::{Command, StrataApp, menu, status};

/// Background behind the canvas (Photoshop's dark grey).
const CANVAS_BACKGROUND: Color32 = Color32::from_gray(40);
/// Default width of the layers panel, in points.
const LAYERS_PANEL_WIDTH: f32 = 320.0;

impl eframe::App for StrataApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    /// The window closed normally: this session's autosave goes (a crash leaves it).
    fn on_exit(&mut self) {
        self.finish_session();
    }
}

impl StrataApp {
    /// Draws one frame into `ui` (the whole window) and applies the commands it produced.
    ///
    /// Needs no eframe, only an egui context, so tests can run whole frames without a window.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        // Work finished on the other threads arrives as commands; applied before drawing, so
        // this frame shows it.
        let finished = [self.poll_decompose(Some(&ctx)), self.poll_files(Some(&ctx))];
        for command in finished.into_iter().flatten() {
            self.apply(command);
        }
        self.handle_close_request(&ctx);
        let mut commands = Vec::new();
        menu::shortcuts(&ctx, &mut commands);
        super::layer_menu::shortcuts(&ctx, &self.doc, self.selected, &mut commands);
        if self.is_asking_to_save() || self.is_offering_recovery() || self.file_dialog().is_some() {
            // The prompts and the dialog are modal: keys must not edit the document behind
            // them.
            commands.clear();
        }
        // Drawn before the prompts: a prompt that comes up while it is open sits on top.
        self.file_dialog_ui(&ctx, &mut commands);
        self.unsaved_prompt_ui(&ctx, &mut commands);
        self.recovery_prompt_ui(&ctx, &mut commands);

        egui::Panel::top("menu").show(ui, |ui| {
            let (decompose, selected) = (&mut self.decompose, self.selected);
            let has_picture = !self.doc.layers.is_empty();
            let (doc, tool) = (&self.doc, self.canvas.tool());
            let recent = self.recent.paths();
            menu::menu_bar(ui, doc, &self.history, recent, &mut commands, |ui, out| {
                super::layer_menu::layer_menu(ui, doc, selected, tool, out);
                // Only a layer has pixels of its own to decompose; a group offers nothing.
                let layer = selected.filter(|id| doc.layer(*id).is_some());
                super::decompose::decompose_menu(ui, decompose, layer, has_picture, out);
            });
        });
        egui::Panel::bottom("status").show(ui, |ui| {
            ui.horizontal(|ui| {
                super::files::progress_ui(ui, &self.files);
                super::decompose::progress_ui(ui, &self.decompose, &mut commands);
                let cursor = self.canvas.hover_pixel();
                status::status_bar(
                    ui,
                    &self.doc,
                    self.canvas.zoom(),
                    cursor,
                    &self.messages,
                    &mut commands,
                );
            });
        });
        egui::Panel::right("layers")
            .resizable(true)
            .default_size(LAYERS_PANEL_WIDTH)
            .min_size(220.0)
            .show(ui, |ui| {
                self.layers_panel
                    .ui(ui, &self.doc, self.selected, &mut commands);
            });
        egui::CentralPanel::default()
            .frame(Frame::new().fill(CANVAS_BACKGROUND))
            .show(ui, |ui| {
                status::error_banner(ui, &self.messages, &mut commands);
                let selected = self.selected;
                self.canvas
                    .ui(ui, &self.doc, self.revision(), selected, &mut commands);
            });
        if self.canvas.take_gpu_failure() {
            self.messages
                .error("The GPU stopped working; the canvas is now composited on the CPU.");
        }

        dropped_files(&ctx, &mut commands);

        let changed = !commands.is_empty();
        for command in commands {
            self.apply(command);
        }
        if changed {
            // The panels drew the state before these commands; show the result.
            ctx.request_repaint();
        }
        self.poll_autosave(Some(&ctx));
        self.sync_window(&ctx);
        if let Some(hook) = &mut self.screenshot {
            hook.on_frame(&ctx);
        }
    }

    /// Sends the title and close requests that `apply` left for the window.
    fn sync_window(&mut self, ctx: &egui::Context) {
        let title = self.title();
        if self.shown_title.as_deref() != Some(title.as_str()) {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.shown_title = Some(title);
        }
        if std::mem::take(&mut self.quit_requested) {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }
}

/// A file dropped on the window opens it; while one hovers, say so over the whole window.
fn dropped_files(ctx: &egui::Context, out: &mut Vec<Command>) {
    let (hovering, dropped) = ctx.input(|i| {
        let dropped = i.raw.dropped_files.first().map(|f| f.path().to_path_buf());
        (!i.raw.hovered_files.is_empty(), dropped)
    });
    if hovering {
        let painter = ctx.layer_painter(LayerId::new(Order::Foreground, Id::unique("file-drop")));
        let rect = ctx.content_rect();
        painter.rect_filled(rect, 0.0, Color32::from_black_alpha(170));
        painter.text(
            rect.center(),
            Align2::CENTER_CENTER,
            "Drop to open",
            FontId::proportional(28.0),
            Color32::WHITE,
        );
    }
    if let Some(path) = dropped {
        out.push(Command::Open(path));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

    use std::path::{Path, PathBuf};
    use std::sync::Arc;
    use std::time::Duration;

    use egui::{DroppedFile, Key, Modifiers, RawInput, ViewportCommand};

    use super::*;
    use crate::model::{Document, RgbaImage};
    use crate::ui::test_frames::{frame, key};

    fn app() -> StrataApp {
        let mut doc = Document::new(8, 6);
        for name in ["bottom", "top"] {
            doc.push_layer(
                name,
                RgbaImage::from_pixel(8, 6, image::Rgba([9, 99, 199, 128])),
            );
        }
        StrataApp::new(doc)
    }

    #[derive(Debug)]
    struct Dropped(PathBuf);

    impl DroppedFile for Dropped {
        fn path(&self) -> &Path {
            &self.0
        }
        fn bytes(&self) -> Result<Vec<u8>, String> {
            std::fs::read(&self.0).map_err(|e| e.to_string())
        }
    }

    #[test]
    fn frames_draw_headless_set_the_title_and_then_go_idle() {
        let ctx = egui::Context::default();
        let mut app = app();
        let first = frame(&ctx, &mut app, RawInput::default());
        let title = ViewportCommand::Title("Strata".into());
        assert!(
            first.commands.contains(&title),
            "the first frame names the window"
        );
        assert!(first.uploads > 0, "the composite is uploaded");
        let mut last = first;
        for _ in 0..4 {
            last = frame(&ctx, &mut app, RawInput::default());
        }
        assert_eq!(last.uploads, 0, "no re-upload without a change");
        let idle = Some(Duration::MAX);
        assert_eq!(
            last.repaint_delay, idle,
            "an idle editor asks for no repaint"
        );
    }

    #[test]
    fn ctrl_z_and_ctrl_shift_z_undo_and_redo() {
        let ctx = egui::Context::default();
        let mut app = app();
        let top = app.document().layers[1].id;
        app.apply(Command::SetVisible(top, false));
        frame(&ctx, &mut app, RawInput::default());
        let undo = RawInput {
            events: vec![key(Key::Z, Modifiers::COMMAND)],
            ..Default::default()
        };
        frame(&ctx, &mut app, undo);
        assert!(app.document().layers[1].visible);
        let shift = Modifiers::COMMAND.plus(Modifiers::SHIFT);
        let redo = RawInput {
            events: vec![key(Key::Z, shift)],
            ..Default::default()
        };
        frame(&ctx, &mut app, redo);
        assert!(!app.document().layers[1].visible);
    }

    #[test]
    fn a_dropped_file_is_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dropped.png");
        RgbaImage::from_pixel(3, 2, image::Rgba([1, 2, 3, 255]))
            .save(&path)
            .unwrap();
        let ctx = egui::Context::default();
        let mut app = app();
        let drop = RawInput {
            dropped_files: vec![Arc::new(Dropped(path))],
            ..Default::default()
        };
        frame(&ctx, &mut app, drop);
        // The file is read on the file thread; the next frame shows it.
        assert!(app.wait_for_files(Duration::from_secs(60)));
        let output = frame(&ctx, &mut app, RawInput::default());
        assert_eq!((app.document().width, app.document().height), (3, 2));
        let title = ViewportCommand::Title("Strata — dropped.png".into());
        assert!(output.commands.contains(&title));
    }

    #[test]
    fn quit_closes_the_window() {
        let ctx = egui::Context::default();
        let mut app = app();
        app.apply(Command::Quit);
        let output = frame(&ctx, &mut app, RawInput::default());
        assert!(output.commands.contains(&ViewportCommand::Close));
    }
}
