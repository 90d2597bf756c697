//! The "Save changes?" prompt, dirty tracking, Open Recent and the file thread, driven through
//! `apply` and through headless frames.
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

use std::path::{Path, PathBuf};
use std::time::Duration;

use egui::{Key, Modifiers, RawInput, ViewportCommand, ViewportEvent, ViewportId};

use super::super::test_frames::key;
use super::super::{Command, FilePicker, Picked, SaveChoice, StrataApp};
use crate::io::ExportFormat;
use crate::model::{Document, LayerId, RgbaImage};

const LONG: Duration = Duration::from_secs(60);

/// Saves into a fixed folder under the suggested name; opens nothing.
struct SaveInto(PathBuf);

impl FilePicker for SaveInto {
    fn open(&mut self) -> Picked {
        Picked::Cancelled
    }
    fn save(&mut self, default_name: &str, _ext: &str) -> Picked {
        Picked::Path(self.0.join(default_name))
    }
    fn folder(&mut self) -> Picked {
        Picked::Cancelled
    }
}

/// Cancels every dialog.
struct CancelAll;

impl FilePicker for CancelAll {
    fn open(&mut self) -> Picked {
        Picked::Cancelled
    }
    fn save(&mut self, _: &str, _: &str) -> Picked {
        Picked::Cancelled
    }
    fn folder(&mut self) -> Picked {
        Picked::Cancelled
    }
}

fn app() -> (StrataApp, LayerId) {
    let mut doc = Document::new(8, 6);
    let id = doc
        .push_layer(
            "paint",
            RgbaImage::from_pixel(8, 6, image::Rgba([9, 99, 199, 255])),
        )
        .id;
    (StrataApp::new(doc), id)
}

fn dirty_app() -> (StrataApp, LayerId) {
    let (mut app, id) = app();
    app.apply(Command::SetVisible(id, false));
    assert!(app.is_dirty());
    (app, id)
}

fn png(dir: &Path, name: &str, width: u32) -> PathBuf {
    let path = dir.join(name);
    RgbaImage::from_pixel(width, 2, image::Rgba([1, 2, 3, 255]))
        .save(&path)
        .unwrap();
    path
}

/// Runs one frame; returns the viewport commands it sent.
fn frame(ctx: &egui::Context, app: &mut StrataApp, input: RawInput) -> Vec<ViewportCommand> {
    super::super::test_frames::frame(ctx, app, input).commands
}

/// The input of a frame in which the window's close button was pressed.
fn close_button() -> RawInput {
    let mut input = RawInput::default();
    let root = input.viewports.entry(ViewportId::ROOT).or_default();
    root.events.push(ViewportEvent::Close);
    input
}

#[test]
fn quit_on_a_clean_document_closes_at_once() {
    let ctx = egui::Context::default();
    let (mut app, _) = app();
    assert!(!app.is_dirty());
    app.apply(Command::Quit);
    assert!(!app.is_asking_to_save());
    assert!(frame(&ctx, &mut app, RawInput::default()).contains(&ViewportCommand::Close));
    // The window answers with a close request, which now goes through.
    let next = frame(&ctx, &mut app, close_button());
    assert!(!next.contains(&ViewportCommand::CancelClose));
}

#[test]
fn quit_on_a_dirty_document_asks_and_dont_save_closes() {
    let ctx = egui::Context::default();
    let (mut app, _) = dirty_app();
    assert_eq!(app.title(), "Strata — Untitled *");
    app.apply(Command::Quit);
    assert!(app.is_asking_to_save());
    assert!(!frame(&ctx, &mut app, RawInput::default()).contains(&ViewportCommand::Close));
    app.apply(Command::AnswerSavePrompt(SaveChoice::Discard));
    assert!(!app.is_asking_to_save());
    assert!(frame(&ctx, &mut app, RawInput::default()).contains(&ViewportCommand::Close));
    let next = frame(&ctx, &mut app, close_button());
    assert!(
        !next.contains(&ViewportCommand::CancelClose),
        "agreed: let it close"
    );
}

#[test]
fn cancel_keeps_the_window_and_the_document() {
    let ctx = egui::Context::default();
    let (mut app, id) = dirty_app();
    app.apply(Command::Quit);
    app.apply(Command::AnswerSavePrompt(SaveChoice::Cancel));
    assert!(!app.is_asking_to_save());
    assert!(!frame(&ctx, &mut app, RawInput::default()).contains(&ViewportCommand::Close));
    assert!(!app.document().layer(id).unwrap().visible);
    assert!(app.history().can_undo());
    assert!(app.is_dirty());
}

#[test]
fn the_close_button_is_cancelled_while_asking_and_escape_cancels() {
    let ctx = egui::Context::default();
    let (mut app, _) = dirty_app();
    let output = frame(&ctx, &mut app, close_button());
    assert!(output.contains(&ViewportCommand::CancelClose));
    assert!(app.is_asking_to_save());
    // Pressed again while the prompt is up: still cancelled, still one prompt.
    let output = frame(&ctx, &mut app, close_button());
    assert!(output.contains(&ViewportCommand::CancelClose));
    // Ctrl+Z behind the modal prompt does nothing.
    let undo = RawInput {
        events: vec![key(Key::Z, Modifiers::COMMAND)],
        ..Default::default()
    };
    frame(&ctx, &mut app, undo);
    assert!(app.is_dirty(), "a shortcut went through the modal prompt");
    let escape = RawInput {
        events: vec![key(Key::Escape, Modifiers::NONE)],
        ..Default::default()
    };
    let output = frame(&ctx, &mut app, escape);
    assert!(!app.is_asking_to_save(), "Escape answers Cancel");
    assert!(!output.contains(&ViewportCommand::Close));
    assert!(app.is_dirty());
}

#[test]
fn undoing_back_to_the_saved_state_is_clean_again() {
    let (mut app, _) = dirty_app();
    app.apply(Command::Undo);
    assert!(!app.is_dirty());
    assert_eq!(app.title(), "Strata");
    app.apply(Command::Redo);
    assert!(app.is_dirty());
}

#[test]
fn export_psd_from_the_prompt_closes_only_once_written() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = dirty_app();
    let mut app = app.with_picker(Box::new(SaveInto(dir.path().to_path_buf())));
    app.apply(Command::Quit);
    app.apply(Command::AnswerSavePrompt(SaveChoice::Export));
    assert!(
        app.is_busy_with_files(),
        "the export runs on the file thread"
    );
    assert!(app.is_asking_to_save(), "the prompt waits for the export");
    assert!(!app.quit_requested);
    // Only Cancel is offered while writing; Don't Save waits like the rest.
    app.apply(Command::AnswerSavePrompt(SaveChoice::Discard));
    assert!(app.is_asking_to_save() && !app.quit_requested);
    assert!(app.wait_for_files(LONG));
    let psd = dir.path().join("untitled.psd");
    assert!(psd.is_file());
    assert!(!app.is_dirty(), "a PSD export is a save");
    assert!(app.quit_requested, "written, so the window closes");
    assert_eq!(app.recent_files(), [std::fs::canonicalize(&psd).unwrap()]);
}

#[test]
fn a_failed_export_from_the_prompt_keeps_the_window_and_asks_again() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no").join("such").join("folder");
    let (app, _) = dirty_app();
    let mut app = app.with_picker(Box::new(SaveInto(missing)));
    app.apply(Command::Quit);
    app.apply(Command::AnswerSavePrompt(SaveChoice::Export));
    assert!(app.wait_for_files(LONG));
    assert!(!app.quit_requested);
    assert!(app.is_asking_to_save(), "the choices come back");
    assert!(app.is_dirty());
    let message = app.messages().banner().unwrap();
    assert!(message.contains("untitled.psd"), "{message}");
}

#[test]
fn a_cancelled_export_dialog_keeps_asking() {
    let (app, _) = dirty_app();
    let mut app = app.with_picker(Box::new(CancelAll));
    app.apply(Command::Quit);
    app.apply(Command::AnswerSavePrompt(SaveChoice::Export));
    assert!(app.is_asking_to_save());
    assert!(!app.is_busy_with_files());
    assert!(!app.quit_requested);
}

#[test]
fn opening_another_file_while_dirty_asks_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = png(dir.path(), "other.png", 5);
    let (mut app, _) = dirty_app();
    app.apply(Command::Open(path.clone()));
    assert!(app.is_asking_to_save());
    assert!(
        !app.is_busy_with_files(),
        "nothing is read before the answer"
    );
    app.apply(Command::AnswerSavePrompt(SaveChoice::Discard));
    assert!(app.wait_for_files(LONG));
    assert_eq!(app.document().width, 5);
    assert!(!app.is_dirty());
    assert!(!app.history().can_undo());
    assert_eq!(app.title(), "Strata — other.png");
    assert_eq!(app.recent_files(), [std::fs::canonicalize(&path).unwrap()]);
}

#[test]
fn edits_made_while_a_file_loads_are_not_thrown_away_unasked() {
    let dir = tempfile::tempdir().unwrap();
    let path = png(dir.path(), "slow.png", 7);
    let (mut app, id) = app();
    app.apply(Command::Open(path));
    assert!(app.is_busy_with_files());
    app.apply(Command::SetVisible(id, false));
    assert!(app.wait_for_files(LONG));
    assert!(
        app.is_asking_to_save(),
        "the edit is unsaved: ask before replacing"
    );
    assert_eq!(app.document().width, 8);
    app.apply(Command::AnswerSavePrompt(SaveChoice::Discard));
    assert_eq!(app.document().width, 7);
    assert!(!app.is_dirty());
}

#[test]
fn closing_during_an_export_waits_for_it_then_closes() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, _) = dirty_app();
    app.apply(Command::ExportAs(dir.path().join("keep.ora")));
    // A second job while one runs is refused, naming both files.
    app.apply(Command::ExportAs(dir.path().join("second.psd")));
    let refused = app.messages().banner().unwrap().to_string();
    assert!(
        refused.contains("second.psd") && refused.contains("keep.ora"),
        "{refused}"
    );
    app.apply(Command::Quit);
    assert!(app.is_asking_to_save() && !app.quit_requested);
    assert!(app.wait_for_files(LONG));
    assert!(!app.is_dirty(), "an ORA export is a save");
    assert!(app.quit_requested);
    assert!(!dir.path().join("second.psd").exists());
}

#[test]
fn a_flat_png_export_is_not_a_save() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, _) = dirty_app();
    app.apply(Command::ExportAs(dir.path().join("flat.png")));
    assert!(app.wait_for_files(LONG));
    assert!(dir.path().join("flat.png").is_file());
    assert!(app.is_dirty(), "a flat PNG drops the layers");
    assert!(app.recent_files().is_empty());
}

#[test]
fn open_recent_persists_in_the_settings_dir() {
    let config = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let picture = png(files.path(), "a.png", 3);
    let settings = Some(config.path().to_path_buf());
    let (app, _) = app();
    let mut app = app.with_settings_dir(settings.clone());
    app.apply(Command::Open(picture.clone()));
    assert!(app.wait_for_files(LONG));
    let mut app = app.with_picker(Box::new(SaveInto(files.path().to_path_buf())));
    app.apply(Command::ExportDialog(ExportFormat::Ora));
    assert!(app.wait_for_files(LONG));
    let ora = std::fs::canonicalize(files.path().join("a.ora")).unwrap();
    let picture = std::fs::canonicalize(picture).unwrap();
    assert_eq!(app.recent_files(), [ora.clone(), picture.clone()]);

    let (again, _) = self::app();
    let mut again = again.with_settings_dir(settings.clone());
    assert_eq!(again.recent_files(), [ora, picture]);
    again.apply(Command::ClearRecentFiles);
    let (third, _) = self::app();
    assert!(third.with_settings_dir(settings).recent_files().is_empty());

    let (plain, _) = self::app();
    assert!(
        plain.recent.store().is_none(),
        "new() never touches a config folder"
    );
}

#[test]
fn a_recent_file_that_is_gone_fails_and_leaves_the_list() {
    let files = tempfile::tempdir().unwrap();
    let picture = png(files.path(), "gone.png", 3);
    let (mut app, _) = app();
    app.apply(Command::Open(picture.clone()));
    assert!(app.wait_for_files(LONG));
    assert_eq!(app.recent_files().len(), 1);
    std::fs::remove_file(&picture).unwrap();
    app.apply(Command::Open(picture));
    assert!(app.wait_for_files(LONG));
    assert!(app.messages().banner().unwrap().contains("gone.png"));
    assert!(app.recent_files().is_empty());
    assert_eq!(app.document().width, 3, "the document stays");
}
