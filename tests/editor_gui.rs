//! GUI tests: `egui_kittest` drives the whole editor ([`StrataApp`] as an eframe app) with
//! pointer and key events, finds widgets by their accessible names, and renders frames with
//! wgpu, the canvas included: the app's GPU compositor runs in the harness's paint callbacks.
//!
//! Needs a wgpu adapter; on machines without a GPU, Mesa's lavapipe (`mesa-vulkan-drivers`)
//! or llvmpipe GL will do. With none the harness panics, so CI fails rather than skips.
//! Snapshots live in `tests/snapshots/` (tolerance in `kittest.toml`); create or update them
//! with `UPDATE_SNAPSHOTS=1 cargo test --test editor_gui`.

#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

use egui::{Key, Modifiers, Pos2, Rect, vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use strata::decompose::jobs::Target;
use strata::decompose::{DecomposeError, Decomposer, LayerSpec, Options, Progress};
use strata::model::{BlendMode, Document, Layer, Offset, RgbaImage};
use strata::ui::{StrataApp, Tool};

mod gui;
use gui::{drag, harness_stepping, harness_with, right_click};

/// Canvas size of the test document, in pixels.
const W: u32 = 64;
const H: u32 = 48;

/// Three layers, bottom first: an opaque "sky" over the top two thirds (the checkerboard shows
/// below it), an opaque yellow "sun" disc, and a half-transparent red "glass" bar over both.
fn document() -> Document {
    let mut doc = Document::new(W, H);
    let sky = RgbaImage::from_fn(W, H, |_, y| {
        if y < 32 {
            image::Rgba([40, 110 + 3 * y as u8, 220, 255])
        } else {
            image::Rgba([0, 0, 0, 0])
        }
    });
    let sun = RgbaImage::from_fn(W, H, |x, y| {
        let (dx, dy) = (x as f32 - 20.5, y as f32 - 18.5);
        if dx * dx + dy * dy <= 11.0 * 11.0 {
            image::Rgba([255, 210, 40, 255])
        } else {
            image::Rgba([0, 0, 0, 0])
        }
    });
    let glass = RgbaImage::from_fn(W, H, |x, y| {
        if (26..58).contains(&x) && (14..40).contains(&y) {
            image::Rgba([220, 30, 60, 128])
        } else {
            image::Rgba([0, 0, 0, 0])
        }
    });
    doc.push_layer("sky", sky);
    doc.push_layer("sun", sun);
    doc.push_layer("glass", glass);
    doc
}

fn harness() -> Harness<'static, StrataApp> {
    harness_with(document())
}

fn layer<'a>(harness: &'a Harness<'_, StrataApp>, name: &str) -> &'a Layer {
    let doc = harness.state().document();
    doc.layers
        .iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("no layer {name:?}"))
}

/// Layer names, bottom first.
fn order(harness: &Harness<'_, StrataApp>) -> Vec<String> {
    let doc = harness.state().document();
    doc.layers.iter().map(|l| l.name.clone()).collect()
}

fn visible(harness: &Harness<'_, StrataApp>) -> Vec<bool> {
    let doc = harness.state().document();
    doc.layers.iter().map(|l| l.visible).collect()
}

fn undo_steps(harness: &Harness<'_, StrataApp>) -> usize {
    harness.state().history().undo_len()
}

/// Where the eye toggle of layer `name` is.
fn eye_rect(harness: &Harness<'_, StrataApp>, name: &str) -> Rect {
    harness.get_by_label(&format!("Show layer {name}")).rect()
}

/// The centre of the drag grip in the row of layer `name` (every grip is named by its
/// tooltip, so pick the one level with that row's eye).
fn grip_of(harness: &Harness<'_, StrataApp>, name: &str) -> Pos2 {
    let eye = eye_rect(harness, name);
    let grips: Vec<Rect> = harness
        .get_all_by_label("Drag to reorder")
        .map(|node| node.rect())
        .filter(|grip| (grip.center().y - eye.center().y).abs() < eye.height() / 2.0)
        .collect();
    assert_eq!(grips.len(), 1, "one grip in the row of {name:?}: {grips:?}");
    grips[0].center()
}

#[test]
fn the_eye_hides_a_layer_and_ctrl_z_shows_it_again() {
    let mut harness = harness();
    assert_eq!(visible(&harness), [true, true, true]);

    harness.get_by_label("Show layer sun").click();
    harness.run();
    assert!(!layer(&harness, "sun").visible);
    assert_eq!(visible(&harness), [true, false, true]);
    assert_eq!(undo_steps(&harness), 1);

    // The eye toggle says so to screen readers too.
    harness.run();
    let eye = harness.get_by_label("Show layer sun");
    assert_eq!(
        eye.accesskit_node().toggled(),
        Some(egui::accesskit::Toggled::False)
    );

    harness.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    harness.run();
    assert_eq!(visible(&harness), [true, true, true]);
    assert_eq!(undo_steps(&harness), 0);
}

#[test]
fn alt_click_on_an_eye_solos_the_layer_and_again_brings_the_others_back() {
    let mut harness = harness();
    harness.get_by_label("Show layer glass").click();
    harness.run();
    assert_eq!(visible(&harness), [true, true, false]);

    harness
        .get_by_label("Show layer sun")
        .click_modifiers(Modifiers::ALT);
    harness.run();
    assert_eq!(visible(&harness), [false, true, false], "only the sun");

    harness
        .get_by_label("Show layer sun")
        .click_modifiers(Modifiers::ALT);
    harness.run();
    assert_eq!(
        visible(&harness),
        [true, true, false],
        "the visibility from before the solo, glass still hidden"
    );
    assert_eq!(undo_steps(&harness), 3);
}

#[test]
fn dragging_a_grip_onto_another_row_reorders_the_layers_in_one_undo_step() {
    let mut harness = harness();
    assert_eq!(order(&harness), ["sky", "sun", "glass"]);

    // The top row lists "glass"; its first line (eye and name) is its upper half, which
    // drops the dragged layer above it.
    let from = grip_of(&harness, "sky");
    let onto = harness.get_by_label("glass").rect().center();
    drag(&mut harness, from, onto);
    assert_eq!(order(&harness), ["sun", "glass", "sky"]);
    assert_eq!(undo_steps(&harness), 1, "one drag, one undo step");

    harness.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    harness.run();
    assert_eq!(order(&harness), ["sky", "sun", "glass"]);
}

#[test]
fn snapshots_show_the_gpu_composited_canvas() {
    let mut harness = harness();
    harness.snapshot("editor_initial");

    harness.get_by_label("Show layer sun").click();
    harness.remove_cursor();
    harness.run();
    assert!(!layer(&harness, "sun").visible);
    harness.snapshot("editor_sun_hidden");
}

#[test]
fn a_move_tool_drag_on_the_canvas_moves_the_selected_layer_in_one_undo_step() {
    let mut harness = harness();
    harness.key_press(Key::V);
    harness.run();
    assert_eq!(harness.state().canvas().tool(), Tool::Move);

    // The canvas is fitted into the view, centred; canvas pixel (x, y) is at
    // `centre + ((x, y) - canvas size / 2) * zoom` (one screen pixel per point here).
    let zoom = harness.state().canvas().zoom();
    let centre = harness.get_by_label("Canvas").rect().center();
    let at = |x: f32, y: f32| centre + (vec2(x, y) - vec2(W as f32, H as f32) / 2.0) * zoom;

    // A click selects the topmost layer under the pointer: the sun's centre is outside the
    // glass bar.
    let sun = layer(&harness, "sun").id;
    assert_ne!(harness.state().selected(), Some(sun));
    harness.hover_at(at(18.5, 18.5));
    harness.run();
    harness.drag_at(at(18.5, 18.5));
    harness.drop_at(at(18.5, 18.5));
    harness.run();
    assert_eq!(harness.state().selected(), Some(sun));
    assert_eq!(undo_steps(&harness), 0, "selecting is no edit");

    // Dragging moves it by the drag distance in canvas pixels, wherever the drag starts.
    drag(&mut harness, at(40.0, 30.0), at(40.0 + 10.0, 30.0 - 5.0));
    assert_eq!(layer(&harness, "sun").offset, Offset { x: 10, y: -5 });
    for other in ["sky", "glass"] {
        assert_eq!(layer(&harness, other).offset, Offset::default(), "{other}");
    }
    assert_eq!(undo_steps(&harness), 1, "one drag, one undo step");
    // What the compositor's drag path (layers below and above cached) left on screen.
    harness.snapshot("editor_sun_moved");

    harness.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    harness.run();
    assert_eq!(layer(&harness, "sun").offset, Offset::default());
}

/// The ways a decomposition worker can fail, for the tests below.
enum Fault {
    /// Panics inside the method.
    Panic,
    /// Works until cancelled, then says when it stopped.
    UntilCancelled(Arc<AtomicBool>),
}

struct Faulty(Fault);

impl Decomposer for Faulty {
    fn decompose(
        &self,
        _image: &RgbaImage,
        _options: &Options,
        progress: &Progress,
    ) -> Result<Vec<LayerSpec>, DecomposeError> {
        match &self.0 {
            Fault::Panic => panic!("injected fault in the worker"),
            Fault::UntilCancelled(stopped) => loop {
                progress.set(0.5, "working forever");
                if let Err(err) = progress.check() {
                    stopped.store(true, Ordering::SeqCst);
                    return Err(err);
                }
                std::thread::sleep(Duration::from_millis(5));
            },
        }
    }
}

/// Steps frames (the worker wakes the UI) until no decomposition runs, for at most 20 s.
fn step_until_idle(harness: &mut Harness<'_, StrataApp>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while harness.state().is_decomposing() {
        assert!(
            Instant::now() < deadline,
            "the decomposition never finished"
        );
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.step();
    harness.step();
}

#[test]
fn a_panic_in_the_worker_shows_an_error_and_leaves_the_document_as_it_was() {
    let mut harness = harness();
    let before = harness.state().document().clone();
    harness.state_mut().decompose_with(
        Target::Document,
        Options::default(),
        Box::new(Faulty(Fault::Panic)),
    );
    step_until_idle(&mut harness);
    assert!(harness.state().document().is_same_state(&before));
    assert_eq!(undo_steps(&harness), 0);
    // In the error banner and the status line.
    let shown = harness.get_all_by_label_contains("crashed: injected fault");
    assert!(shown.count() >= 1);
    // The editor still works: hiding a layer is one step as usual.
    harness.get_by_label("Show layer sun").click();
    harness.run();
    assert!(!layer(&harness, "sun").visible);
}

#[test]
fn a_decomposition_over_the_memory_budget_is_refused_and_changes_nothing() {
    let mut harness = harness();
    let before = harness.state().document().clone();
    harness.state_mut().set_decompose_memory_budget(1 << 20);
    harness.get_by_label("Decompose").click();
    harness.run();
    harness.get_by_label("Decompose picture").click();
    harness.step();
    step_until_idle(&mut harness);
    assert!(harness.state().document().is_same_state(&before));
    assert_eq!(undo_steps(&harness), 0);
    let shown = harness.get_all_by_label_contains("1 MiB budget");
    assert!(shown.count() >= 1);
}

#[test]
fn cancel_in_the_status_bar_stops_the_worker_and_keeps_the_document() {
    let mut harness = harness();
    let before = harness.state().document().clone();
    let stopped = Arc::new(AtomicBool::new(false));
    harness.state_mut().decompose_with(
        Target::Document,
        Options::default(),
        Box::new(Faulty(Fault::UntilCancelled(Arc::clone(&stopped)))),
    );
    harness.step();
    harness.step();
    assert!(harness.state().is_decomposing());
    harness.get_by_label("Cancel").click();
    harness.step();
    assert!(!harness.state().is_decomposing());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !stopped.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "the worker did not stop");
        std::thread::sleep(Duration::from_millis(5));
    }
    step_until_idle(&mut harness);
    assert!(harness.state().document().is_same_state(&before));
    assert_eq!(undo_steps(&harness), 0);
}

/// A picture whose every pixel says where it is: red rises with the column, green with the
/// row. Opaque, so the screen shows the picture itself, not the checkerboard through it.
fn coordinate_document() -> Document {
    let mut doc = Document::new(W, H);
    let ramp = RgbaImage::from_fn(W, H, |x, y| {
        image::Rgba([x as u8 * 4, y as u8 * 5, 160, 255])
    });
    doc.push_layer("ramp", ramp);
    doc
}

/// Renders a frame through egui and wgpu and checks, for a grid of canvas pixels, that the
/// screen pixel at the centre of the pixel's on-screen square shows that canvas pixel, and
/// that hovering there reads out the same pixel in the status bar. A shift of the drawn
/// picture (the canvas drawn 25 px too high: the shader read framebuffer coordinates as
/// viewport ones) shows as colours from other rows.
fn assert_screen_shows_the_document(harness: &mut Harness<'_, StrataApp>, case: &str) {
    harness.run();
    let screen = harness.render().expect("render");
    let canvas = harness.state().canvas();
    let rect = canvas.screen_rect().expect("the canvas is shown");
    let zoom = canvas.zoom();
    let doc = harness.state().document().clone();
    let picture = doc.layers[0].pixels.clone();
    // Zoomed out, a screen pixel averages a few canvas pixels (and a ramp averages to its
    // middle); a shift of one row is 5 levels of green, of the 25-px bug far more.
    let tolerance = if zoom < 1.0 { 6 } else { 2 };
    let mut checked = 0;
    for y in (0..H).step_by(3) {
        for x in (0..W).step_by(3) {
            let at = rect.min + vec2((x as f32 + 0.5) * zoom, (y as f32 + 0.5) * zoom);
            // Well inside the canvas panel: clear of the menu bar and banner above, the
            // layer panel to the right and the status bar below.
            let inside = at.x >= 5.0 && at.y >= 90.0 && at.x < 560.0 && at.y < 520.0;
            // The selected layer's dashed outline is drawn along the canvas edge.
            if !inside || !rect.shrink(3.0).contains(at) {
                continue;
            }
            let shown = screen.get_pixel(at.x as u32, at.y as u32).0;
            let wanted = picture.get_pixel(x, y).0;
            let off = (0..3)
                .map(|c| shown[c].abs_diff(wanted[c]))
                .max()
                .unwrap_or(0);
            assert!(
                off <= tolerance,
                "{case}: canvas pixel ({x}, {y}) at screen {at:?} shows {shown:?}, not {wanted:?}"
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 12,
        "{case}: only {checked} pixels were on screen"
    );
    // The status bar's readout agrees with what is drawn there.
    let (x, y) = (W / 2, H / 3);
    let at = rect.min + vec2((x as f32 + 0.5) * zoom, (y as f32 + 0.5) * zoom);
    harness.hover_at(at);
    harness.run();
    assert_eq!(
        harness.state().canvas().hover_pixel(),
        Some((i64::from(x), i64::from(y))),
        "{case}: the readout under the pointer"
    );
}

#[test]
fn the_canvas_on_screen_shows_the_documents_pixels_at_every_zoom_and_offset() {
    use strata::ui::Command;
    let mut harness = harness_with(coordinate_document());
    assert_screen_shows_the_document(&mut harness, "fit, below the menu bar");
    harness.state_mut().apply(Command::Zoom100);
    assert_screen_shows_the_document(&mut harness, "100 %");
    harness.state_mut().apply(Command::ZoomBy(0.5));
    assert_screen_shows_the_document(&mut harness, "50 %");
    harness.state_mut().apply(Command::ZoomBy(5.0));
    assert_screen_shows_the_document(&mut harness, "250 %");
    // An error banner pushes the canvas panel further down the window.
    harness
        .state_mut()
        .apply(Command::ExportAs("picture.unknown-format".into()));
    harness.run();
    assert!(
        harness.state().messages().banner().is_some(),
        "the refused export shows a banner"
    );
    harness.state_mut().apply(Command::ZoomFit);
    assert_screen_shows_the_document(&mut harness, "fit, below the error banner");
    harness.state_mut().apply(Command::ZoomBy(3.0));
    assert_screen_shows_the_document(&mut harness, "zoomed in, below the error banner");
}

#[test]
fn a_pinch_zoom_settles_on_the_exact_picture() {
    let mut harness = harness_with(coordinate_document());
    assert_screen_shows_the_document(&mut harness, "fit");
    let before = harness.state().canvas().zoom();
    let rect = harness
        .state()
        .canvas()
        .screen_rect()
        .expect("the canvas is shown");
    harness.hover_at(rect.center());
    // Gesture frames resample the last composite; once the pinch stops the canvas is
    // composited exactly again, without any further input.
    for _ in 0..3 {
        harness.event(egui::Event::Zoom(1.25));
        harness.step();
        harness.render().expect("render a gesture frame");
    }
    assert!(
        harness.state().canvas().zoom() > before * 1.5,
        "the pinch zoomed in"
    );
    assert_screen_shows_the_document(&mut harness, "after a pinch zoom");
}

#[test]
fn renaming_starts_with_the_old_name_selected_so_typing_replaces_it() {
    let mut harness = harness();
    // Right-click the row beside the thumbnail (the name itself takes clicks), then
    // "Rename…".
    let at = eye_rect(&harness, "sky").center() + vec2(56.0, 0.0);
    right_click(&mut harness, at);
    harness.get_by_label("Rename…").click();
    harness.run();
    harness
        .get_by_role(egui::accesskit::Role::TextInput)
        .type_text("clouds");
    harness.run();
    harness.key_press(Key::Enter);
    harness.run();
    assert_eq!(order(&harness), ["clouds", "sun", "glass"]);
    assert_eq!(undo_steps(&harness), 1);
}

#[test]
fn a_double_click_on_a_layer_name_starts_renaming() {
    let mut harness = harness_stepping(document(), 1.0 / 30.0);
    let at = harness.get_by_label("sun").rect().center();
    harness.hover_at(at);
    harness.step();
    for pressed in [true, false, true, false] {
        harness.event(egui::Event::PointerButton {
            pos: at,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: Modifiers::NONE,
        });
        harness.step();
    }
    harness.run();
    harness
        .get_by_role(egui::accesskit::Role::TextInput)
        .type_text("moon");
    harness.run();
    harness.key_press(Key::Enter);
    harness.run();
    assert_eq!(order(&harness), ["sky", "moon", "glass"]);
}

#[test]
fn the_blend_menu_stays_put_whatever_the_opacity() {
    let mut doc = document();
    for (layer, opacity) in doc.layers.iter_mut().zip([1.0, 0.5, 0.05]) {
        layer.opacity = opacity;
    }
    let mut harness = harness_with(doc);
    harness.run();
    let lefts: Vec<f32> = harness
        .get_all_by_label("Blend mode")
        .map(|menu| menu.rect().left())
        .collect();
    assert_eq!(lefts.len(), 3, "one blend menu a layer");
    assert!(
        lefts.iter().all(|x| (x - lefts[0]).abs() < 0.5),
        "blend menus at {lefts:?} for opacities 100 %, 50 % and 5 %"
    );
}

#[test]
fn the_blend_menu_lists_every_photoshop_mode_and_sets_one() {
    let mut harness = harness_with(document());
    harness.run();
    harness
        .get_all_by_label("Blend mode")
        .next()
        .expect("a blend menu")
        .click();
    harness.run();
    for mode in BlendMode::ALL {
        assert!(
            harness.query_all_by_label(mode.label()).next().is_some(),
            "{mode:?} is not in the menu"
        );
    }
    harness.get_by_label("Vivid Light").click();
    harness.run();
    let doc = harness.state().document();
    let vivid = doc
        .layers
        .iter()
        .filter(|l| l.blend == BlendMode::VividLight)
        .count();
    assert_eq!(vivid, 1, "one layer switched to Vivid Light");
    assert_eq!(undo_steps(&harness), 1);
}

#[test]
fn every_layer_has_a_fill_slider_beside_its_opacity() {
    let mut harness = harness_with(document());
    harness.run();
    let layers = harness.state().document().layers.len();
    assert_eq!(harness.get_all_by_label("Layer opacity").count(), layers);
    assert_eq!(harness.get_all_by_label("Fill opacity").count(), layers);
}
