//! The in-window file dialog through `egui_kittest`: widgets found by their accessible names
//! and clicked through AccessKit, as a screen reader would (pointer clicks inside the modal
//! did not open the format combo under kittest; not yet understood). No renderer is needed for that, so
//! these run with the unit tests (the canvas composites on the CPU).
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

use std::fs;
use std::time::Duration;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable};

use super::picker::Picked;
use super::{Command, FilePicker, StrataApp};
use crate::model::{Document, RgbaImage};

struct NoDialogs;

impl FilePicker for NoDialogs {
    fn open(&mut self) -> Picked {
        Picked::Unavailable("test".into())
    }
    fn save(&mut self, _: &str, _: &str) -> Picked {
        Picked::Unavailable("test".into())
    }
    fn folder(&mut self) -> Picked {
        Picked::Unavailable("test".into())
    }
}

/// An editor showing `opened.png` from a folder that also holds a PSD, a text file and a
/// sub-folder; the picture is on Open Recent, so its folder is a recent folder.
fn harness() -> (Harness<'static, StrataApp>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("opened.png");
    RgbaImage::from_pixel(3, 2, image::Rgba([1, 2, 3, 255]))
        .save(&png)
        .unwrap();
    fs::write(dir.path().join("layers.psd"), b"x").unwrap();
    fs::write(dir.path().join("notes.txt"), b"x").unwrap();
    fs::create_dir(dir.path().join("sub")).unwrap();
    let mut app = StrataApp::new(Document::new(0, 0)).with_picker(Box::new(NoDialogs));
    app.apply(Command::Open(png));
    assert!(app.wait_for_files(Duration::from_secs(60)));
    let harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut StrataApp| app.show(ui), app);
    (harness, dir)
}

#[test]
fn every_widget_of_the_dialog_has_a_name() {
    let (mut harness, _dir) = harness();
    harness.state_mut().apply(Command::OpenDialog);
    harness.run();
    for role in [Role::TextInput, Role::ComboBox, Role::Button] {
        for node in harness.get_all_by_role(role) {
            let label = node.accesskit_node().label().unwrap_or_default();
            assert!(!label.trim().is_empty(), "a {role:?} without a name");
        }
    }
    harness.get_by_role_and_label(Role::TextInput, "Path:");
    harness.get_by_role_and_label(Role::ComboBox, "Format:");
    for button in ["Up", "Open", "Cancel"] {
        harness.get_by_role_and_label(Role::Button, button);
    }
}

#[test]
fn the_format_filter_hides_other_files() {
    let (mut harness, dir) = harness();
    harness.state_mut().apply(Command::OpenDialog);
    harness.run();
    // Starts in the picture's folder, showing pictures only.
    assert!(harness.query_by_label("opened.png").is_some());
    assert!(harness.query_by_label("layers.psd").is_some());
    assert!(harness.query_by_label("notes.txt").is_none());
    harness
        .get_by_role_and_label(Role::ComboBox, "Format:")
        .click_accesskit();
    harness.run();
    harness.get_by_label("PSD").click_accesskit();
    harness.run();
    assert!(harness.query_by_label("opened.png").is_none());
    assert!(harness.query_by_label("layers.psd").is_some());
    let _ = dir;
}

#[test]
fn a_typed_path_and_a_recent_folder_button_move_the_dialog() {
    let (mut harness, dir) = harness();
    let sub = dir.path().join("sub");
    fs::write(sub.join("inside.png"), b"x").unwrap();
    harness.state_mut().apply(Command::OpenDialog);
    harness.run();
    assert!(harness.query_by_label("inside.png").is_none());
    // Type the sub-folder's path and press Enter: the dialog shows that folder.
    harness
        .get_by_role_and_label(Role::TextInput, "Path:")
        .focus();
    harness.run();
    harness
        .get_by_role_and_label(Role::TextInput, "Path:")
        .set_text_value_accesskit(&sub.display().to_string());
    harness.run();
    harness.key_press(egui::Key::Enter);
    harness.run();
    assert!(harness.query_by_label("inside.png").is_some());
    assert!(harness.query_by_label("opened.png").is_none());
    // The picture's folder is a recent folder: its button goes back there.
    let name = dir
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    harness
        .get_by_role_and_label(Role::Button, &name)
        .click_accesskit();
    harness.run();
    assert!(harness.query_by_label("opened.png").is_some());
    assert!(harness.query_by_label("inside.png").is_none());
}
