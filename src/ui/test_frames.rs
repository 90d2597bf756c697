//! Running whole editor frames without a window, for the `ui` unit tests: one place that
//! builds the input (a 1280×800 screen), runs [`StrataApp::show`] and reads the output.
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

use std::time::Duration;

use egui::{Event, Key, Modifiers, RawInput, Rect, ViewportCommand, ViewportId, pos2, vec2};

use super::StrataApp;

/// What the tests look at in a frame's output.
pub struct FrameOutput {
    /// Viewport commands the frame sent (title, close, cancel close).
    pub commands: Vec<ViewportCommand>,
    /// Textures uploaded in the frame.
    pub uploads: usize,
    /// How soon the frame asked to be repainted.
    pub repaint_delay: Option<Duration>,
}

/// Runs one frame of `app` with `input` on a 1280×800 screen (unless `input` sets one).
pub fn frame(ctx: &egui::Context, app: &mut StrataApp, input: RawInput) -> FrameOutput {
    let screen = Rect::from_min_size(pos2(0.0, 0.0), vec2(1280.0, 800.0));
    let input = RawInput {
        screen_rect: input.screen_rect.or(Some(screen)),
        ..input
    };
    let full = ctx.run_ui(input, |ui| app.show(ui));
    let root = full.viewport_output.get(&ViewportId::ROOT);
    let output = FrameOutput {
        commands: root.map(|v| v.commands.clone()).unwrap_or_default(),
        uploads: full.textures_delta.set.len(),
        repaint_delay: root.map(|v| v.repaint_delay),
    };
    // There is no renderer to hand the texture uploads to.
    full.drop_without_applying_deltas();
    output
}

/// Runs one frame with these input events.
pub fn frame_with(ctx: &egui::Context, app: &mut StrataApp, events: Vec<Event>) -> FrameOutput {
    let input = RawInput {
        events,
        ..Default::default()
    };
    frame(ctx, app, input)
}

/// A key press.
pub fn key(key: Key, modifiers: Modifiers) -> Event {
    Event::Key {
        key,
        physical_key: None,
        pressed: true,
        repeat: false,
        modifiers,
    }
}
