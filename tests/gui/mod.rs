//! The editor in an `egui_kittest` harness, shared by the GUI test files: a fixed window,
//! wgpu rendering (the canvas on the app's GPU compositor), and a pointer drag.
#![allow(dead_code)] // Each test file uses its own share.

use eframe::egui_wgpu::WgpuSetup;
use egui::{Modifiers, Pos2, Vec2, vec2};
use egui_kittest::Harness;

use strata::model::Document;
use strata::ui::StrataApp;

/// Window size of every test, in points (one pixel per point).
pub const WINDOW: Vec2 = vec2(900.0, 560.0);

/// The editor's own device settings (float32 blending where available, the adapter's full
/// texture size) on the adapter kittest prefers (a software rasteriser if there is one, so
/// snapshots match across machines).
pub fn wgpu_setup() -> WgpuSetup {
    let WgpuSetup::CreateNew(editor) = strata::ui::wgpu_options().wgpu_setup else {
        panic!("the editor creates its own wgpu device");
    };
    let WgpuSetup::CreateNew(mut setup) = egui_kittest::wgpu::default_wgpu_setup() else {
        panic!("kittest creates its own wgpu device");
    };
    setup.device_descriptor = editor.device_descriptor;
    WgpuSetup::CreateNew(setup)
}

/// The editor showing `doc` in a fixed-size window, with the canvas on the GPU compositor.
pub fn harness_with(doc: Document) -> Harness<'static, StrataApp> {
    harness_stepping(doc, 0.25)
}

/// [`harness_with`], with `step_dt` seconds a frame (egui's double-click needs less than
/// kittest's default quarter second between the clicks).
pub fn harness_stepping(doc: Document, step_dt: f32) -> Harness<'static, StrataApp> {
    let harness = Harness::builder()
        .with_step_dt(step_dt)
        .with_size(WINDOW)
        .with_pixels_per_point(1.0)
        .with_render_cursor(false)
        .wgpu_setup(wgpu_setup())
        .build_eframe(|cc| {
            let render_state = cc
                .wgpu_render_state
                .as_ref()
                .expect("the wgpu test renderer hands eframe its render state");
            let mut app = StrataApp::new(doc);
            app.install_gpu(render_state);
            app
        });
    assert!(
        harness.state().canvas().is_gpu(),
        "the canvas is on the GPU"
    );
    harness
}

/// Presses the primary button at `from`, moves to `to` in a few steps (a frame each) and
/// releases there.
pub fn drag(harness: &mut Harness<'_, StrataApp>, from: Pos2, to: Pos2) {
    harness.hover_at(from);
    harness.run();
    harness.drag_at(from);
    harness.run();
    const STEPS: usize = 5;
    for i in 1..=STEPS {
        harness.hover_at(from.lerp(to, i as f32 / STEPS as f32));
        harness.run();
    }
    harness.drop_at(to);
    harness.run();
}

/// A right-click at `at`.
pub fn right_click(harness: &mut Harness<'_, StrataApp>, at: Pos2) {
    harness.hover_at(at);
    harness.step();
    for pressed in [true, false] {
        harness.event(egui::Event::PointerButton {
            pos: at,
            button: egui::PointerButton::Secondary,
            pressed,
            modifiers: Modifiers::NONE,
        });
    }
    harness.run();
}
