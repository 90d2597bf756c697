//! Layer ▸ Fill behind this layer, through `apply` and through the menu with `egui_kittest`
//! (no renderer needed: the canvas composites on the CPU).
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable};

use super::COVER_ALPHA;
use crate::model::{Document, LayerId, RgbaImage};
use crate::ui::{Command, StrataApp};

const W: u32 = 96;
const H: u32 = 64;

/// Vertical stripes under a red ball (the ball also printed into the stripes, as a
/// decomposition leaves it before the background is refilled), bottom first.
fn scene() -> (Document, [LayerId; 2]) {
    let inside = |x: u32, y: u32| (x as f32 - 48.0).powi(2) + (y as f32 - 30.0).powi(2) <= 144.0;
    let stripes = |x: u32| {
        if x % 6 < 3 {
            image::Rgba([40, 90, 200, 255])
        } else {
            image::Rgba([230, 230, 210, 255])
        }
    };
    let mut doc = Document::new(W, H);
    let ground = RgbaImage::from_fn(W, H, |x, y| {
        if inside(x, y) {
            image::Rgba([250, 0, 0, 255])
        } else {
            stripes(x)
        }
    });
    let ball = RgbaImage::from_fn(W, H, |x, y| {
        if inside(x, y) {
            image::Rgba([250, 0, 0, 255])
        } else {
            image::Rgba([0, 0, 0, COVER_ALPHA / 2])
        }
    });
    let ground = doc.push_layer("ground", ground).id;
    let ball = doc.push_layer("ball", ball).id;
    (doc, [ground, ball])
}

fn red_left(app: &StrataApp, id: LayerId) -> usize {
    let layer = app.document().layer(id).unwrap();
    layer
        .pixels
        .pixels()
        .filter(|p| p.0[0] > 200 && p.0[1] < 60)
        .count()
}

#[test]
fn filling_behind_refills_only_under_the_layer_as_one_undo_step() {
    let (doc, [ground, ball]) = scene();
    let before = doc.layer(ground).unwrap().pixels.clone();
    let mut app = StrataApp::new(doc);
    app.apply(Command::FillBehind(ball));
    assert!(app.is_decomposing(), "the fill runs on the worker");
    assert!(app.wait_for_decomposition(Duration::from_secs(60)));
    assert_eq!(red_left(&app, ground), 0, "the ball's old copy is gone");
    let after = app.document().layer(ground).unwrap().pixels.clone();
    let mut changed = 0;
    for (x, y, p) in after.enumerate_pixels() {
        let far = (x as f32 - 48.0).powi(2) + (y as f32 - 30.0).powi(2) > 16.0 * 16.0;
        if far {
            assert_eq!(
                p,
                before.get_pixel(x, y),
                "({x}, {y}) is not under the ball"
            );
        }
        changed += usize::from(p != before.get_pixel(x, y));
    }
    assert!(changed > 400, "{changed} pixels refilled");
    assert_eq!(app.history().undo_label(), Some("Fill behind layer"));
    assert_eq!(app.history().undo_len(), 1);
    assert_eq!(
        app.document().layers[0].id,
        ground,
        "same layer, same place"
    );
    app.apply(Command::Undo);
    assert_eq!(*app.document().layer(ground).unwrap().pixels, *before);
}

#[test]
fn a_cancelled_fill_changes_nothing_and_a_locked_layer_below_is_refused() {
    let (mut doc, [ground, ball]) = scene();
    let big = RgbaImage::from_fn(900, 700, |x, y| {
        image::Rgba([(x % 7 * 30) as u8, (y % 5 * 40) as u8, 90, 255])
    });
    doc.layer_mut(ground).unwrap().pixels = std::sync::Arc::new(big);
    let mut ball_pixels = RgbaImage::new(900, 700);
    for y in 100..600 {
        for x in 100..800 {
            ball_pixels.put_pixel(x, y, image::Rgba([255, 0, 0, 255]));
        }
    }
    doc.layer_mut(ball).unwrap().pixels = std::sync::Arc::new(ball_pixels);
    let mut app = StrataApp::new(doc.clone());
    app.apply(Command::FillBehind(ball));
    std::thread::sleep(Duration::from_millis(50));
    app.apply(Command::CancelDecompose);
    assert!(!app.is_decomposing());
    assert!(app.document().is_same_state(&doc));
    assert_eq!(app.history().undo_len(), 0);

    app.apply(Command::SetLocked(ground, true));
    app.apply(Command::FillBehind(ball));
    assert!(!app.is_decomposing(), "a locked layer is not refilled");
}

/// The editor showing the scene with the ball selected.
fn harness() -> (Harness<'static, StrataApp>, [LayerId; 2]) {
    let (doc, ids) = scene();
    let app = StrataApp::new(doc);
    let harness = Harness::builder()
        .with_size(egui::vec2(1100.0, 700.0))
        .build_ui_state(|ui, app: &mut StrataApp| app.show(ui), app);
    (harness, ids)
}

#[test]
fn the_layer_menu_fills_behind_the_selected_layer_on_the_worker() {
    let (mut harness, [ground, _]) = harness();
    harness.run();
    harness.get_by_label("Layer").click();
    harness.run();
    harness.get_by_label("Fill behind this layer").click();
    harness.step();
    let deadline = Instant::now() + Duration::from_secs(60);
    while harness.state().is_decomposing() {
        assert!(Instant::now() < deadline, "the fill never finished");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.step();
    harness.step();
    assert_eq!(red_left(harness.state(), ground), 0);
    assert_eq!(harness.state().history().undo_len(), 1);
}

#[test]
fn the_menu_item_is_disabled_without_a_layer_below() {
    let (mut harness, [ground, _]) = harness();
    harness.state_mut().apply(Command::Select(ground));
    harness.run();
    harness.get_by_label("Layer").click();
    harness.run();
    let item = harness.get_by_label("Fill behind this layer");
    assert!(item.accesskit_node().is_disabled());
}
