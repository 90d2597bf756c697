//! Decomposition from the editor: the Decompose menu, the progress bar with Cancel, and
//! putting finished layers into the document as one undo step.
//!
//! Work runs on [`Jobs`]' worker thread; the UI only polls it once a frame, so the window stays
//! live. A failed, panicked or cancelled decomposition leaves the document exactly as it was.

use std::sync::Arc;
use std::time::Duration;

use super::app::Applying;
use super::{Command, StrataApp};
use crate::decompose::jobs::{Finished, JobRequest, Jobs, Target};
use crate::decompose::methods::elements;
use crate::decompose::registry::{MethodSettings, decomposer_for};
use crate::decompose::{
    DecomposeError, Decomposer, LayerCount, MAX_LAYERS, Method, Options, apply,
};
use crate::model::{LayerId, composite_shared};

/// The editor's decomposition state: the job runner and the options the menu shows.
#[derive(Default)]
pub struct DecomposeState {
    jobs: Jobs,
    /// What the Decompose menu will run next.
    pub options: Options,
    /// The settings of the methods that have any (the qwen-layered model folder, caption,
    /// sampling), kept across method changes.
    pub settings: MethodSettings,
    /// Woken by the worker when it finishes, so the result shows without input events.
    repaint: Option<egui::Context>,
}

impl DecomposeState {
    /// Fraction done and stage of the running job, if any.
    pub fn running(&self) -> Option<(f32, String)> {
        self.jobs
            .running()
            .map(|(_, fraction, stage)| (fraction, stage))
    }
}

impl StrataApp {
    /// Starts decomposing the whole picture or one layer (replacing any running job).
    pub(super) fn start_decompose(&mut self, target: Target, options: Options) {
        self.start_decompose_with(target, options, None);
    }

    /// Decomposes `target` with `decomposer` instead of the method `options` names, on the
    /// same worker, with the same progress bar, Cancel and failure handling (for methods
    /// outside Strata; the tests inject failing ones).
    pub fn decompose_with(
        &mut self,
        target: Target,
        options: Options,
        decomposer: Box<dyn Decomposer>,
    ) {
        // Through `apply`, like every start: the lock rule may refuse it.
        self.apply(Command::DecomposeWith {
            target,
            options,
            decomposer: super::CustomDecomposer(decomposer),
        });
    }

    /// Starts [`Command::DecomposeWith`].
    pub(super) fn start_custom_decompose(
        &mut self,
        target: Target,
        options: Options,
        decomposer: Box<dyn Decomposer>,
    ) {
        self.start_decompose_with(target, options, Some(decomposer));
    }

    /// Decompositions started from now on fail at once, leaving the document alone, when
    /// their estimated peak memory exceeds `bytes` (default 8 GiB or
    /// `STRATA_MEMORY_BUDGET_MB`).
    pub fn set_decompose_memory_budget(&mut self, bytes: u64) {
        self.decompose.jobs.set_memory_budget(bytes);
    }

    fn start_decompose_with(
        &mut self,
        target: Target,
        options: Options,
        decomposer: Option<Box<dyn Decomposer>>,
    ) {
        // The document's own pixels are lent, not copied, wherever they are the picture: the
        // method copies what it changes, and a method that only reads needs no copy at all.
        let image = match target {
            Target::Document => composite_shared(&self.doc),
            // `apply` has refused a locked layer already.
            Target::Layer(id) | Target::Refill(id) => match self.doc.layer(id) {
                Some(layer) => Arc::clone(&layer.pixels),
                None if self.doc.group(id).is_some() => {
                    return self
                        .messages
                        .info("Select a layer to decompose: a group has no pixels of its own.");
                }
                None => return self.messages.error("That layer no longer exists."),
            },
        };
        if image.width() == 0 || image.height() == 0 {
            return self
                .messages
                .error("There is nothing to decompose: the picture is empty.");
        }
        let repaint = self.decompose.repaint.clone();
        let request = JobRequest {
            image,
            options: options.clone(),
            target,
        };
        // The registry builds the method with the settings the menu holds beyond `Options`.
        let decomposer = match decomposer {
            Some(decomposer) => decomposer,
            None => match decomposer_for(options.method, &self.decompose.settings) {
                Ok(decomposer) => decomposer,
                Err(err) => return self.messages.error(format!("Cannot decompose: {err}")),
            },
        };
        let wake = move || {
            if let Some(ctx) = &repaint {
                ctx.request_repaint();
            }
        };
        self.decompose.jobs.start_with(request, decomposer, wake);
        if matches!(target, Target::Refill(_)) {
            self.messages.info("Filling behind the layer…");
        } else {
            self.messages
                .info(format!("Decomposing with the {} method…", options.method));
        }
    }

    /// Cancels the running decomposition; the document stays as it is.
    pub(super) fn cancel_decompose(&mut self) {
        if self.decompose.jobs.running().is_some() {
            self.decompose.jobs.cancel();
            self.messages.info("Decomposition cancelled");
        }
    }

    /// The finished decomposition, if any, as the command that takes it in; changes nothing
    /// itself. Called once per frame.
    pub(super) fn poll_decompose(&mut self, ctx: Option<&egui::Context>) -> Option<Command> {
        if let Some(ctx) = ctx {
            self.decompose.repaint = Some(ctx.clone());
            if self.decompose.jobs.running().is_some() {
                // Keep the progress bar moving even when no input arrives.
                ctx.request_repaint_after(Duration::from_millis(100));
            }
        }
        let finished = self.decompose.jobs.poll()?;
        Some(Command::DecompositionFinished(Box::new(finished)))
    }

    /// Blocks until the running decomposition finishes and applies it (tests, scripts).
    /// Returns false if nothing finished within `timeout`.
    pub fn wait_for_decomposition(&mut self, timeout: Duration) -> bool {
        match self.decompose.jobs.wait(timeout) {
            Some(finished) => {
                self.apply(Command::DecompositionFinished(Box::new(finished)));
                true
            }
            None => false,
        }
    }

    /// True while a decomposition runs.
    pub fn is_decomposing(&self) -> bool {
        self.decompose.jobs.running().is_some()
    }

    /// Puts a finished decomposition's layers into the document as one undo step
    /// ([`Command::DecompositionFinished`]; `apply` has refused a locked layer already).
    pub(super) fn finish_decompose(&mut self, applying: &Applying, finished: Finished) {
        if let Target::Refill(id) = finished.target {
            return self.finish_refill(applying, id, finished.result);
        }
        let specs = match finished.result {
            Ok(specs) if !specs.is_empty() => specs,
            Ok(_) => return self.messages.error("Decomposition produced no layers."),
            Err(DecomposeError::Cancelled) => {
                return self.messages.info("Decomposition cancelled");
            }
            Err(err) => return self.messages.error(failure_message(&err)),
        };
        let method = finished.options.method;
        let kinds = elements::found(&specs).describe();
        let label = format!("Decompose ({method})");
        let doc = self.doc.edit(applying);
        let new_ids: Option<Vec<LayerId>> = match finished.target {
            Target::Document => {
                let ids = self
                    .history
                    .record(label, doc, |doc| apply::replace_document(doc, specs));
                Some(ids)
            }
            Target::Layer(id) => self
                .history
                .record(label, doc, |doc| apply::replace_layer(doc, id, specs)),
            Target::Refill(_) => None,
        };
        match new_ids {
            Some(ids) => {
                self.selected = ids.last().copied();
                self.messages
                    .info(decomposed_message(ids.len(), method, &kinds));
            }
            None => self
                .messages
                .error("The layer was deleted while it was being decomposed."),
        }
    }
}

impl StrataApp {
    /// Puts a finished fill (Layer ▸ Fill behind this layer) in place of layer `id`'s pixels
    /// as one undo step.
    fn finish_refill(
        &mut self,
        applying: &Applying,
        id: LayerId,
        result: Result<Vec<crate::decompose::LayerSpec>, DecomposeError>,
    ) {
        let filled = match result {
            Ok(mut specs) if specs.len() == 1 => specs.remove(0).pixels,
            Ok(_) => return self.messages.error("The fill produced no layer."),
            Err(DecomposeError::Cancelled) => return self.messages.info("Fill cancelled"),
            Err(err) => return self.messages.error(format!("Cannot fill: {err}")),
        };
        let doc = self.doc.edit(applying);
        let done = self.history.record("Fill behind layer", doc, |doc| {
            super::fill_behind::refill(doc, id, filled)
        });
        match (done, self.doc.layer(id)) {
            (Some(()), Some(layer)) => self.messages.info(format!("Filled {}", layer.name)),
            _ => self
                .messages
                .error("The layer was deleted while it was being filled."),
        }
    }
}

/// What the banner says when a decomposition fails, by kind: what went wrong, and what the
/// person can do about it.
fn failure_message(err: &DecomposeError) -> String {
    match err {
        DecomposeError::WeightsFile { .. } => format!(
            "Cannot decompose: a model file is unusable: {err}. Choose another model folder, \
             or reinstall Strata if the file came with it."
        ),
        DecomposeError::InvalidInput(_) | DecomposeError::Unavailable(_) => {
            format!("Cannot decompose: {err}")
        }
        DecomposeError::OverMemoryBudget { .. } | DecomposeError::OutOfMemory { .. } => {
            format!("Not enough memory: {err}")
        }
        DecomposeError::Cancelled
        | DecomposeError::Compute { .. }
        | DecomposeError::Panicked { .. } => format!("Decomposition failed: {err}"),
    }
}

/// The Decompose menu: method, layer count, and what to decompose.
pub fn decompose_menu(
    ui: &mut egui::Ui,
    state: &mut DecomposeState,
    selected: Option<LayerId>,
    has_picture: bool,
    out: &mut Vec<Command>,
) {
    ui.menu_button("Decompose", |ui| {
        ui.label("Method");
        for method in Method::ALL {
            ui.radio_value(&mut state.options.method, method, method.name())
                .on_hover_text(method.description());
        }
        ui.separator();
        layer_count_ui(ui, &mut state.options.layers);
        let method = state.options.method;
        super::method_settings::method_settings_ui(ui, method, &mut state.settings, out);
        ui.separator();
        let options = state.options.clone();
        let picture = ui.add_enabled(has_picture, egui::Button::new("Decompose picture"));
        if picture.clicked() {
            out.push(Command::Decompose {
                target: Target::Document,
                options: options.clone(),
            });
            ui.close();
        }
        let layer = ui
            .add_enabled(
                selected.is_some(),
                egui::Button::new("Decompose selected layer"),
            )
            .on_disabled_hover_text("Select a layer (not a group) to decompose it");
        if let (true, Some(id)) = (layer.clicked(), selected) {
            out.push(Command::Decompose {
                target: Target::Layer(id),
                options,
            });
            ui.close();
        }
    });
}

/// The progress bar and Cancel button shown in the status bar while a job runs.
pub fn progress_ui(ui: &mut egui::Ui, state: &DecomposeState, out: &mut Vec<Command>) {
    if let Some((fraction, stage)) = state.running() {
        if ui.button("Cancel").clicked() {
            out.push(Command::CancelDecompose);
        }
        let text = if stage.is_empty() {
            "Decomposing…".to_string()
        } else {
            stage
        };
        ui.add(
            egui::ProgressBar::new(fraction)
                .desired_width(220.0)
                .text(text),
        );
        ui.separator();
    }
}

/// The status line after a decomposition: how many layers, by which method, and which
/// kinds of layers were found ("Decomposed into 6 layers (elements): 2 text, 3 shapes").
fn decomposed_message(layers: usize, method: Method, kinds: &str) -> String {
    let noun = if layers == 1 { "layer" } else { "layers" };
    if kinds.is_empty() {
        format!("Decomposed into {layers} {noun} ({method})")
    } else {
        format!("Decomposed into {layers} {noun} ({method}): {kinds}")
    }
}

/// The bound offered when the person unticks "auto".
const LAYERS_WHEN_BOUNDED: usize = 5;

/// The layer count: "auto" (as many as the picture holds, the default) or an upper bound.
fn layer_count_ui(ui: &mut egui::Ui, count: &mut LayerCount) {
    ui.horizontal(|ui| {
        let label = ui.label("Layers");
        let mut auto = *count == LayerCount::Auto;
        if ui
            .checkbox(&mut auto, "auto")
            .on_hover_text("as many layers as the picture holds")
            .changed()
        {
            *count = if auto {
                LayerCount::Auto
            } else {
                LayerCount::AtMost(LAYERS_WHEN_BOUNDED)
            };
        }
        if let LayerCount::AtMost(n) = count {
            ui.add(egui::DragValue::new(n).range(2..=MAX_LAYERS))
                .on_hover_text("at most this many: the least significant layers are merged")
                .labelled_by(label.id);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Document, Offset, RgbaImage, composite};
    use image::Rgba;

    const LONG: Duration = Duration::from_secs(120);

    /// Two flat shapes on a flat background: every method finds something in it.
    fn scene() -> Document {
        let image = RgbaImage::from_fn(48, 32, |x, y| {
            if (8..20).contains(&x) && (6..18).contains(&y) {
                Rgba([220, 40, 40, 255])
            } else if (28..42).contains(&x) && (12..28).contains(&y) {
                Rgba([30, 60, 220, 255])
            } else {
                Rgba([240, 230, 200, 255])
            }
        });
        Document::from_flat("scene", image)
    }

    fn regions(layers: usize) -> Options {
        Options {
            method: Method::Regions,
            layers: layers.into(),
            seed: 1,
        }
    }

    #[test]
    fn decomposing_the_picture_is_one_undo_step() {
        let mut app = StrataApp::new(scene());
        let original = app.document().clone();
        app.apply(Command::Decompose {
            target: Target::Document,
            options: regions(3),
        });
        assert!(app.is_decomposing());
        assert!(app.wait_for_decomposition(LONG), "no result");
        assert_eq!(app.document().layers.len(), 3);
        let reference = composite(&original);
        let rebuilt = composite(app.document());
        let worst = reference
            .pixels()
            .zip(rebuilt.pixels())
            .flat_map(|(a, b)| (0..4).map(move |c| a[c].abs_diff(b[c])))
            .max();
        assert!(worst <= Some(3), "composite changed by {worst:?}");
        app.apply(Command::Undo);
        assert!(app.document().is_same_state(&original));
    }

    #[test]
    fn a_failed_decomposition_leaves_the_document_alone() {
        let mut app = StrataApp::new(scene());
        let original = app.document().clone();
        let bad = Options {
            layers: 0.into(),
            ..regions(3)
        };
        app.apply(Command::Decompose {
            target: Target::Document,
            options: bad,
        });
        assert!(app.wait_for_decomposition(LONG));
        assert!(app.document().is_same_state(&original));
        assert!(!app.history().can_undo());
        let last = app.messages().last().expect("a message");
        assert!(
            last.text.starts_with("Cannot decompose: layer count 0"),
            "{}",
            last.text
        );
    }

    #[test]
    fn cancel_leaves_the_document_alone() {
        let mut app = StrataApp::new(scene());
        let original = app.document().clone();
        app.apply(Command::Decompose {
            target: Target::Document,
            options: regions(3),
        });
        app.apply(Command::CancelDecompose);
        assert!(!app.is_decomposing());
        std::thread::sleep(Duration::from_millis(200));
        if let Some(finished) = app.poll_decompose(None) {
            app.apply(finished);
        }
        assert!(app.document().is_same_state(&original));
    }

    #[test]
    fn a_layer_can_be_decomposed_again_in_place() {
        let mut doc = Document::new(60, 40);
        doc.push_layer(
            "paper",
            RgbaImage::from_pixel(60, 40, Rgba([255, 255, 255, 255])),
        );
        let art = scene().layers[0].pixels.as_ref().clone();
        let art = doc.push_layer("art", art);
        art.offset = Offset::new(6, 4);
        let art = art.id;
        doc.push_layer("top", RgbaImage::from_pixel(2, 2, Rgba([0, 0, 0, 255])));
        let mut app = StrataApp::new(doc);
        app.apply(Command::Decompose {
            target: Target::Layer(art),
            options: regions(2),
        });
        assert!(app.wait_for_decomposition(LONG));
        let names: Vec<&str> = app
            .document()
            .layers
            .iter()
            .map(|l| l.name.as_str())
            .collect();
        assert_eq!(names.len(), 4, "{names:?}");
        assert_eq!(names[0], "paper");
        assert_eq!(names[3], "top");
        let group = app.document().layers[1]
            .parent
            .expect("the pieces are grouped");
        assert_eq!(app.document().layers[2].parent, Some(group), "{names:?}");
        assert_eq!(
            app.document().group(group).map(|g| g.name.as_str()),
            Some("art")
        );
        assert!(app.document().layer(art).is_none());
        assert_eq!(
            app.document().layers[1].offset.x,
            6,
            "sub-layers keep the parent's position"
        );
    }

    /// A method that fails with `error` at once.
    struct Failing(DecomposeError);

    impl Decomposer for Failing {
        fn decompose(
            &self,
            _: &RgbaImage,
            _: &Options,
            _: &crate::decompose::Progress,
        ) -> Result<Vec<crate::decompose::LayerSpec>, DecomposeError> {
            Err(self.0.clone())
        }
    }

    fn fail_with(error: DecomposeError) -> StrataApp {
        let mut app = StrataApp::new(scene());
        app.decompose_with(Target::Document, regions(3), Box::new(Failing(error)));
        assert!(app.wait_for_decomposition(LONG));
        app
    }

    #[test]
    fn each_kind_of_failure_says_what_went_wrong_and_a_cancel_is_no_error() {
        let broken = fail_with(DecomposeError::weights_file(
            "/models/vae/weights.safetensors",
            "truncated",
        ));
        let banner = broken.messages().banner().expect("an error banner");
        assert!(
            banner.contains("/models/vae/weights.safetensors: truncated")
                && banner.contains("Choose another model folder"),
            "{banner}"
        );
        let memory = fail_with(DecomposeError::OutOfMemory {
            stage: "denoising".into(),
        });
        let banner = memory.messages().banner().expect("an error banner");
        assert!(banner.starts_with("Not enough memory"), "{banner}");

        let cancelled = fail_with(DecomposeError::Cancelled);
        assert_eq!(cancelled.messages().banner(), None, "a cancel is no error");
        let last = cancelled.messages().last().expect("a message");
        assert_eq!(last.text, "Decomposition cancelled");
        assert!(!cancelled.history().can_undo(), "the document is untouched");
    }

    #[test]
    fn the_status_says_which_kinds_of_layers_were_found() {
        assert_eq!(
            decomposed_message(6, Method::Elements, "2 text, 3 shapes"),
            "Decomposed into 6 layers (elements): 2 text, 3 shapes"
        );
        assert_eq!(
            decomposed_message(1, Method::Regions, ""),
            "Decomposed into 1 layer (regions)"
        );
    }
}
