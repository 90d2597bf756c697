//! Every file dialog of the editor when the desktop's cannot be shown: Strata's own comes up
//! in the window, and its answers go through `apply` as the native ones would. Driven with
//! whole frames (typing into the focused path field), as `window`'s tests do.
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

use std::path::Path;
use std::time::Duration;

use egui::{Event, Key, Modifiers, ViewportCommand};

use super::dialogs::FALLBACK_NOTE;
use super::file_dialog::Purpose;
use super::test_frames::{frame_with, key};
use super::{Command, FilePicker, Picked, SaveChoice, StrataApp};
use crate::io::ExportFormat;
use crate::model::{Document, RgbaImage};

/// What `RfdPicker` answers on a desktop without the portal and zenity.
struct NoDialogs;

impl FilePicker for NoDialogs {
    fn open(&mut self) -> Picked {
        Picked::Unavailable("no portal, no zenity".into())
    }
    fn save(&mut self, _: &str, _: &str) -> Picked {
        Picked::Unavailable("no portal, no zenity".into())
    }
    fn folder(&mut self) -> Picked {
        Picked::Unavailable("no portal, no zenity".into())
    }
}

fn app() -> StrataApp {
    let mut doc = Document::new(4, 4);
    for name in ["bottom", "top"] {
        doc.push_layer(
            name,
            RgbaImage::from_pixel(4, 4, image::Rgba([9, 99, 199, 255])),
        );
    }
    StrataApp::new(doc).with_picker(Box::new(NoDialogs))
}

/// Draws a frame with nothing happening (the dialog appears and takes the keyboard focus).
fn idle(ctx: &egui::Context, app: &mut StrataApp) -> Vec<ViewportCommand> {
    frame_with(ctx, app, Vec::new()).commands
}

/// Types `text` into the focused field and presses Enter.
fn type_and_enter(ctx: &egui::Context, app: &mut StrataApp, text: &str) {
    let events = vec![Event::Text(text.into()), key(Key::Enter, Modifiers::NONE)];
    frame_with(ctx, app, events);
}

fn write_png(path: &Path) {
    RgbaImage::from_pixel(3, 2, image::Rgba([1, 2, 3, 255]))
        .save(path)
        .unwrap();
}

fn purpose(app: &StrataApp) -> Option<Purpose> {
    app.file_dialog().map(|d| d.purpose())
}

#[test]
fn ctrl_o_opens_the_in_window_dialog_says_why_once_and_a_typed_path_opens() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("typed.png");
    write_png(&png);
    let ctx = egui::Context::default();
    let mut app = app();
    frame_with(&ctx, &mut app, vec![key(Key::O, Modifiers::COMMAND)]);
    assert_eq!(purpose(&app), Some(Purpose::Open));
    assert_eq!(app.messages().last().unwrap().text, FALLBACK_NOTE);
    idle(&ctx, &mut app);
    type_and_enter(&ctx, &mut app, &png.display().to_string());
    assert_eq!(app.file_dialog().map(|d| d.dir().to_path_buf()), None);
    assert!(app.wait_for_files(Duration::from_secs(60)));
    assert_eq!((app.document().width, app.document().height), (3, 2));

    // The next dialog starts in the folder used, offers it as recent, and says nothing more.
    app.apply(Command::ExportDialog(ExportFormat::Ora));
    let dialog = app.file_dialog().unwrap();
    assert_eq!(dialog.dir(), dir.path());
    assert_eq!(dialog.recent(), [dir.path()]);
    assert!(app.messages().last().unwrap().text.starts_with("Opened"));
}

#[test]
fn keys_do_not_reach_the_document_behind_the_dialog_and_escape_cancels() {
    let ctx = egui::Context::default();
    let mut app = app();
    let top = app.document().layers[1].id;
    app.apply(Command::SetVisible(top, false));
    app.apply(Command::OpenDialog);
    idle(&ctx, &mut app);
    frame_with(&ctx, &mut app, vec![key(Key::Z, Modifiers::COMMAND)]);
    assert!(
        !app.document().layers[1].visible,
        "Ctrl+Z went to the path field"
    );
    frame_with(&ctx, &mut app, vec![key(Key::Escape, Modifiers::NONE)]);
    assert!(app.file_dialog().is_none());
}

#[test]
fn export_psd_and_ctrl_s_write_through_the_in_window_dialog() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = egui::Context::default();
    let mut app = app();
    app.apply(Command::ExportDialog(ExportFormat::Psd));
    idle(&ctx, &mut app);
    let target = dir.path().join("picture");
    type_and_enter(&ctx, &mut app, &target.display().to_string());
    assert!(app.file_dialog().is_none());
    assert!(app.wait_for_files(Duration::from_secs(60)));
    assert!(
        dir.path().join("picture.psd").is_file(),
        "{:?}",
        app.messages().last()
    );

    // Ctrl+S now goes to that PSD without a dialog.
    frame_with(&ctx, &mut app, vec![key(Key::S, Modifiers::COMMAND)]);
    assert!(app.file_dialog().is_none());
    assert!(app.wait_for_files(Duration::from_secs(60)));
}

#[test]
fn ctrl_s_export_layers_and_the_model_folder_each_open_it() {
    let cases = [
        (Command::QuickExport, Purpose::Export(ExportFormat::Psd)),
        (Command::ExportLayersDialog, Purpose::ExportLayers),
        (Command::ChooseQwenWeights, Purpose::QwenWeights),
    ];
    for (command, expected) in cases {
        let mut app = app();
        app.apply(command);
        assert_eq!(purpose(&app), Some(expected));
    }
}

#[test]
fn chosen_folders_export_the_layers_and_set_the_model_folder() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app();
    app.apply(Command::ExportLayersDialog);
    let answer = Some(dir.path().to_path_buf());
    app.apply(Command::FileDialogAnswered(
        Purpose::ExportLayers,
        answer.clone(),
    ));
    assert!(app.wait_for_files(Duration::from_secs(60)));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    app.apply(Command::ChooseQwenWeights);
    app.apply(Command::FileDialogAnswered(
        Purpose::QwenWeights,
        answer.clone(),
    ));
    assert_eq!(app.decompose.settings.qwen.weights, answer);
    assert!(app.file_dialog().is_none());
}

/// A dirty editor with the quit prompt answered "Export PSD…": the dialog is up.
fn quitting_into_the_dialog(ctx: &egui::Context) -> StrataApp {
    let mut app = app();
    let top = app.document().layers[1].id;
    app.apply(Command::SetVisible(top, false));
    app.apply(Command::Quit);
    app.apply(Command::AnswerSavePrompt(SaveChoice::Export));
    assert_eq!(purpose(&app), Some(Purpose::Export(ExportFormat::Psd)));
    assert!(
        app.is_asking_to_save(),
        "the prompt waits behind the dialog"
    );
    idle(ctx, &mut app);
    app
}

#[test]
fn the_quit_prompts_export_through_the_dialog_writes_then_closes() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = egui::Context::default();
    let mut app = quitting_into_the_dialog(&ctx);
    let target = dir.path().join("saved.psd");
    type_and_enter(&ctx, &mut app, &target.display().to_string());
    assert!(app.wait_for_files(Duration::from_secs(60)));
    assert!(target.is_file());
    assert!(!app.is_dirty());
    assert!(idle(&ctx, &mut app).contains(&ViewportCommand::Close));
}

#[test]
fn cancelling_the_dialog_brings_the_quit_prompt_back() {
    let ctx = egui::Context::default();
    let mut app = quitting_into_the_dialog(&ctx);
    frame_with(&ctx, &mut app, vec![key(Key::Escape, Modifiers::NONE)]);
    assert!(app.file_dialog().is_none());
    assert!(app.is_asking_to_save());
    // The prompt offers its choices again: Discard closes.
    app.apply(Command::AnswerSavePrompt(SaveChoice::Discard));
    assert!(idle(&ctx, &mut app).contains(&ViewportCommand::Close));
}

#[test]
fn an_export_that_cannot_start_leaves_the_prompt_asking_not_waiting() {
    let ctx = egui::Context::default();
    let mut app = quitting_into_the_dialog(&ctx);
    // An unknown extension is refused at once (the dialog would have added ".psd").
    let answer = Some(std::env::temp_dir().join("picture.xyz"));
    let purpose = Purpose::Export(ExportFormat::Psd);
    app.apply(Command::FileDialogAnswered(purpose, answer));
    assert!(
        app.messages()
            .banner()
            .unwrap()
            .starts_with("Export failed")
    );
    assert!(app.is_asking_to_save());
    // Not waiting: Discard is taken at once.
    app.apply(Command::AnswerSavePrompt(SaveChoice::Discard));
    assert!(idle(&ctx, &mut app).contains(&ViewportCommand::Close));
}

#[test]
fn a_second_dialog_while_one_is_open_is_refused_with_a_banner() {
    let mut app = app();
    let top = app.document().layers[1].id;
    app.apply(Command::SetVisible(top, false));
    app.apply(Command::OpenDialog);
    app.apply(Command::Quit);
    app.apply(Command::AnswerSavePrompt(SaveChoice::Export));
    let banner = app.messages().banner().unwrap();
    assert!(banner.starts_with("Cannot show a file dialog"), "{banner}");
    assert_eq!(purpose(&app), Some(Purpose::Open), "the open one stays");
    assert!(app.is_asking_to_save(), "the prompt asks again");
}
