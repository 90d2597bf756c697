//! The editor window (eframe + egui, wgpu renderer).
//!
//! Data flows one way each frame: panels read the [`Document`](crate::model::Document) and
//! push [`Command`]s; after drawing, [`StrataApp::apply`] carries them out and records undo
//! steps; work finished on the file and decomposition threads arrives as commands too.
//! Nothing else changes the document, so [`StrataApp`] is fully usable without a
//! window, which is how its tests run.
//!
//! * [`app`]: the state, and why `apply` (in `app::apply`, with the lock rule and the
//!   revision) is the one place the document changes.
//! * [`window`]: the `eframe::App` frame: panel layout, file drops, window title.
//! * [`menu`], [`layers_panel`], [`canvas`], [`status`]: the panels.
//! * [`picker`]: file dialogs behind a trait, so tests can stand in for them, telling a
//!   cancel from a dialog that cannot be shown; [`file_dialog`]: Strata's own in-window
//!   dialog for then; [`dialogs`]: asking through one or the other.
//! * [`file_jobs`], `files`: opening and exporting on a worker thread; [`recent`]: File ›
//!   Open Recent; [`unsaved`]: the "Save changes?" prompt before closing or opening;
//!   [`autosave`]: autosave every few minutes and recovery after a crash.

pub mod app;
pub mod autosave;
pub mod canvas;
pub mod command;
pub mod decompose;
pub mod dialogs;
pub mod file_dialog;
pub mod file_jobs;
mod files;
pub mod fill_behind;
mod gpu_canvas;
mod group_edits;
pub mod icons;
mod layer_edits;
pub mod layer_menu;
pub mod layers_panel;
pub mod menu;
mod method_settings;
pub mod picker;
pub mod recent;
pub mod screenshot;
pub mod status;
mod thumbnails;
pub mod unsaved;
mod window;

#[cfg(test)]
mod dialog_gui_tests;
#[cfg(test)]
mod dialog_tests;
#[cfg(test)]
mod group_tests;
#[cfg(test)]
mod test_frames;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use app::StrataApp;
pub use command::{Command, CustomDecomposer, Gesture, Tool};
pub use gpu_canvas::wgpu_options;
pub use picker::{FilePicker, Picked, RfdPicker};
pub use unsaved::SaveChoice;

use crate::model::Document;

/// Initial window size, in points.
const WINDOW_SIZE: [f32; 2] = [1280.0, 800.0];

/// Opens the editor window with `path`, or with the bundled sample picture when `path` is
/// `None`, and returns when the window closes.
///
/// A file that cannot be opened shows its error in the window; only failing to create the
/// window at all (no display, no graphics adapter) is an error here.
pub fn run(path: Option<PathBuf>) -> anyhow::Result<()> {
    let first_run = path.is_none();
    let app = match path.or_else(sample_path) {
        Some(path) => StrataApp::open(&path),
        None => {
            tracing::warn!("the sample picture assets/sample.png was not found");
            StrataApp::new(Document::new(0, 0))
        }
    };
    // Open Recent persists in the user's config folder (or STRATA_CONFIG_DIR); a file named
    // on the command line joins it, the bundled sample does not.
    let mut app = app.with_settings_dir(recent::config_dir());
    if !first_run {
        app.remember_opened_file();
    }
    // Autosave goes to the user's data folder (or STRATA_DATA_DIR); what a crashed session
    // left there is offered back in the window.
    let mut app = app
        .with_data_dir(autosave::data_dir())
        .with_autosave_interval(autosave::interval_from_env());
    app.look_for_recovery();
    if first_run && !app.document().layers.is_empty() {
        // A new user sees layers at once: the sample is decomposed by the default method
        // while the window opens (on the worker; the window stays live).
        let options = crate::decompose::Options::default();
        app.apply(Command::Decompose {
            target: crate::decompose::jobs::Target::Document,
            options,
        });
    }
    app.screenshot = screenshot::ScreenshotHook::from_env();
    let title = app.title();
    let options = eframe::NativeOptions {
        renderer: eframe::Renderer::Wgpu,
        wgpu_options: gpu_canvas::wgpu_options(),
        viewport: egui::ViewportBuilder::default()
            .with_title(title.clone())
            .with_app_id("strata")
            .with_inner_size(WINDOW_SIZE)
            .with_min_inner_size([640.0, 400.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    let creator: eframe::AppCreator<'_> = Box::new(move |cc| {
        // Ctrl+Plus/Minus/0 zoom the canvas here, not the whole interface.
        cc.egui_ctx.options_mut(|o| o.zoom_with_keyboard = false);
        match cc.wgpu_render_state.as_ref() {
            Some(render_state) => app.install_gpu(render_state),
            None => app
                .messages
                .info("No GPU renderer: the canvas is composited on the CPU."),
        }
        Ok(Box::new(app))
    });
    eframe::run_native(&title, options, creator)
        .map_err(|err| anyhow::anyhow!("cannot open the editor window: {err}"))
}

/// The bundled sample picture: in the source tree, or in `assets/` next to the executable
/// (for installed copies). `None` if neither exists.
pub fn sample_path() -> Option<PathBuf> {
    let in_tree = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/sample.png"));
    let next_to_exe = std::env::current_exe().ok().and_then(|exe| {
        exe.parent()
            .map(|dir| dir.join("assets").join("sample.png"))
    });
    std::iter::once(in_tree)
        .chain(next_to_exe)
        .find(|p| Path::is_file(p))
}
