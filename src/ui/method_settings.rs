//! The editor's per-method settings inside the Decompose menu: the part of
//! [`MethodSettings`] that the chosen method has, if any. The settings types live in
//! `decompose`, which does not depend on egui; how they are drawn lives here.
//!
//! Today only `qwen-layered` has settings: the model folder (with a folder dialog), the
//! caption, steps, resolution, guidance and VAE tiling.

use std::path::Path;

use super::Command;
use crate::decompose::Method;
use crate::decompose::methods::qwen::{QwenSettings, WEIGHTS_ENV};
use crate::decompose::registry::MethodSettings;

/// Draws the settings of `method`, after a separator, or nothing when it has none.
pub fn method_settings_ui(
    ui: &mut egui::Ui,
    method: Method,
    settings: &mut MethodSettings,
    out: &mut Vec<Command>,
) {
    match method {
        Method::QwenLayered => {
            ui.separator();
            qwen_settings_ui(ui, &mut settings.qwen, out);
        }
        Method::Elements | Method::Objects | Method::Palette | Method::Regions => {}
    }
}

/// Draws the `qwen-layered` settings; "Choose…" asks the app to open a folder dialog.
fn qwen_settings_ui(ui: &mut egui::Ui, settings: &mut QwenSettings, out: &mut Vec<Command>) {
    ui.label("Qwen-Image-Layered");
    let folder = settings.weights_dir();
    ui.horizontal(|ui| {
        let shown = folder.as_deref().map_or("not set".to_string(), short_path);
        let label = ui.label(format!("Model folder: {shown}"));
        let hint = format!(
            "A local copy of the Hugging Face repository Qwen/Qwen-Image-Layered \
             (or set {WEIGHTS_ENV})"
        );
        label.on_hover_text(hint);
        if ui.small_button("Choose…").clicked() {
            out.push(Command::ChooseQwenWeights);
        }
    });
    ui.horizontal(|ui| {
        let label = ui.label("Caption");
        ui.add(
            egui::TextEdit::singleline(&mut settings.prompt)
                .hint_text("what the picture shows")
                .desired_width(200.0),
        )
        .labelled_by(label.id);
    });
    ui.horizontal(|ui| {
        let label = ui.label("Steps");
        ui.add(egui::DragValue::new(&mut settings.steps).range(1..=200))
            .labelled_by(label.id);
        ui.label("Resolution");
        ui.radio_value(&mut settings.resolution, 640, "640");
        ui.radio_value(&mut settings.resolution, 1024, "1024");
    });
    ui.horizontal(|ui| {
        let label = ui.label("Guidance");
        ui.add(
            egui::DragValue::new(&mut settings.true_cfg_scale)
                .range(0.0..=20.0)
                .speed(0.1),
        )
        .labelled_by(label.id);
        ui.checkbox(&mut settings.vae_tiling, "VAE tiling")
            .on_hover_text("Decode in tiles: less memory, slightly slower");
    });
}

/// The last two components of a path ("…/models/Qwen-Image-Layered").
fn short_path(path: &Path) -> String {
    let parts: Vec<_> = path.components().rev().take(2).collect();
    if parts.len() < 2 || path.components().count() <= 2 {
        return path.display().to_string();
    }
    let tail: std::path::PathBuf = parts.into_iter().rev().collect();
    format!("…/{}", tail.display())
}
