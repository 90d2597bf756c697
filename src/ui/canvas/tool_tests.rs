//! The canvas tools driven through whole editor frames with synthetic pointer and key events.
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

use egui::{Event, Key, Modifiers, PointerButton, Pos2, vec2};

use crate::model::{Document, LayerId, Offset, RgbaImage};
use crate::ui::test_frames::{frame_with, key as press};
use crate::ui::{Command, StrataApp, Tool};

/// A 100×80 document: an opaque background and a 20×20 opaque square at (60, 10) on top.
fn app() -> (StrataApp, LayerId, LayerId) {
    let mut doc = Document::new(100, 80);
    let background = doc
        .push_layer(
            "background",
            RgbaImage::from_pixel(100, 80, image::Rgba([200, 200, 200, 255])),
        )
        .id;
    let square = doc.push_layer(
        "square",
        RgbaImage::from_pixel(20, 20, image::Rgba([200, 10, 10, 255])),
    );
    square.offset = Offset { x: 60, y: 10 };
    let square = square.id;
    (StrataApp::new(doc), background, square)
}

struct Driver {
    ctx: egui::Context,
    app: StrataApp,
}

impl Driver {
    fn frame(&mut self, events: Vec<Event>) {
        frame_with(&self.ctx, &mut self.app, events);
    }

    /// Screen position of canvas pixel (`x`, `y`)'s centre.
    fn at(&self, x: f32, y: f32) -> Pos2 {
        let rect = self.app.canvas().screen_rect().unwrap();
        let scale = rect.width() / self.app.document().width as f32;
        rect.min + vec2(x + 0.5, y + 0.5) * scale
    }

    fn button(&mut self, pos: Pos2, pressed: bool) {
        self.frame(vec![Event::PointerButton {
            pos,
            button: PointerButton::Primary,
            pressed,
            modifiers: Modifiers::NONE,
        }]);
    }

    fn move_to(&mut self, pos: Pos2) {
        self.frame(vec![Event::PointerMoved(pos)]);
    }

    fn drag(&mut self, from: Pos2, to: Pos2) {
        self.move_to(from);
        self.button(from, true);
        for i in 1..=4 {
            self.move_to(from + (to - from) * (i as f32 / 4.0));
        }
        self.button(to, false);
        self.frame(Vec::new());
    }

    fn key(&mut self, key: Key, modifiers: Modifiers) {
        self.frame(vec![press(key, modifiers)]);
    }
}

fn driver() -> (Driver, LayerId, LayerId) {
    let (app, background, square) = app();
    let mut driver = Driver {
        ctx: egui::Context::default(),
        app,
    };
    driver.frame(Vec::new());
    driver.frame(Vec::new());
    (driver, background, square)
}

fn offset(d: &Driver, id: LayerId) -> Offset {
    d.app.document().layer(id).unwrap().offset
}

#[test]
fn move_tool_drag_moves_the_selected_layer_by_the_pointer_distance_in_one_step() {
    let (mut d, _, square) = driver();
    assert_eq!(d.app.selected(), Some(square));
    assert_eq!(d.app.canvas().tool(), Tool::Move);
    let (from, to) = (d.at(10.0, 40.0), d.at(25.0, 33.0));
    d.drag(from, to);
    assert_eq!(offset(&d, square), Offset { x: 75, y: 3 });
    assert_eq!(d.app.history().undo_len(), 1, "a drag is one undo step");
    d.app.apply(Command::Undo);
    assert_eq!(offset(&d, square), Offset { x: 60, y: 10 });
}

#[test]
fn move_tool_drag_on_a_locked_layer_moves_nothing_and_says_why() {
    let (mut d, _, square) = driver();
    d.app.apply(Command::SetLocked(square, true));
    let (from, to) = (d.at(10.0, 40.0), d.at(25.0, 33.0));
    d.drag(from, to);
    assert_eq!(offset(&d, square), Offset { x: 60, y: 10 });
    assert_eq!(d.app.history().undo_label(), Some("Lock layer"));
    let said = &d.app.messages().last().unwrap().text;
    assert_eq!(said, "\"square\" is locked; unlock it to change it.");
}

#[test]
fn click_selects_the_topmost_opaque_layer_under_the_cursor() {
    let (mut d, background, square) = driver();
    let outside_square = d.at(5.0, 5.0);
    d.move_to(outside_square);
    d.button(outside_square, true);
    d.button(outside_square, false);
    assert_eq!(d.app.selected(), Some(background));
    let on_square = d.at(65.0, 15.0);
    d.move_to(on_square);
    d.button(on_square, true);
    d.button(on_square, false);
    assert_eq!(d.app.selected(), Some(square));
    assert!(!d.app.history().can_undo(), "selecting is not an edit");
}

#[test]
fn arrow_keys_nudge_one_pixel_and_shift_ten() {
    let (mut d, _, square) = driver();
    d.key(Key::ArrowRight, Modifiers::NONE);
    d.key(Key::ArrowUp, Modifiers::SHIFT);
    assert_eq!(offset(&d, square), Offset { x: 61, y: 0 });
    assert_eq!(d.app.history().undo_len(), 2, "each nudge is a step");
}

#[test]
fn hand_tool_and_space_drag_pan_instead_of_moving() {
    let (mut d, _, square) = driver();
    d.key(Key::H, Modifiers::NONE);
    assert_eq!(d.app.canvas().tool(), Tool::Hand);
    let before = d.app.canvas().screen_rect().unwrap();
    let (from, to) = (d.at(10.0, 10.0), d.at(30.0, 10.0));
    d.drag(from, to);
    let after = d.app.canvas().screen_rect().unwrap();
    assert!((after.min - before.min - (to - from)).length() < 1.0);
    assert_eq!(offset(&d, square), Offset { x: 60, y: 10 });
    d.key(Key::V, Modifiers::NONE);
    assert_eq!(d.app.canvas().tool(), Tool::Move);
    assert!(!d.app.history().can_undo());
}

#[test]
fn layer_shortcuts_duplicate_merge_delete() {
    let (mut d, background, square) = driver();
    d.key(Key::J, Modifiers::COMMAND);
    assert_eq!(d.app.document().layers.len(), 3);
    d.key(Key::E, Modifiers::COMMAND);
    assert_eq!(d.app.document().layers.len(), 2);
    assert_eq!(d.app.selected(), Some(square));
    d.key(Key::Delete, Modifiers::NONE);
    assert_eq!(d.app.document().layers.len(), 1);
    assert_eq!(d.app.selected(), Some(background));
    d.key(Key::N, Modifiers::COMMAND.plus(Modifiers::SHIFT));
    assert_eq!(d.app.document().layers.len(), 2);
}

#[test]
fn status_bar_follows_the_cursor() {
    let (mut d, _, _) = driver();
    let p = d.at(65.0, 15.0);
    d.move_to(p);
    d.frame(Vec::new());
    assert_eq!(d.app.canvas().hover_pixel(), Some((65, 15)));
    let outside = d.at(-30.0, 15.0);
    d.move_to(outside);
    assert_eq!(d.app.canvas().hover_pixel(), None);
}
