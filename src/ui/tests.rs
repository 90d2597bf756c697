//! [`StrataApp::apply`] driven without a window.
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use super::{Command, FilePicker, Gesture, Picked, SaveChoice, StrataApp};
use crate::io::ExportFormat;
use crate::model::{BlendMode, Document, LayerId, RgbaImage};

/// Three 4×4 layers, "bottom", "middle", "top", with distinct colours.
fn three_layers() -> (StrataApp, [LayerId; 3]) {
    let mut doc = Document::new(4, 4);
    let mut ids = [LayerId(0); 3];
    for (i, name) in ["bottom", "middle", "top"].into_iter().enumerate() {
        let pixel = image::Rgba([60 * i as u8, 100, 200, 255]);
        ids[i] = doc.push_layer(name, RgbaImage::from_pixel(4, 4, pixel)).id;
    }
    (StrataApp::new(doc), ids)
}

/// Answers every dialog with fixed paths and counts how often it was asked.
#[derive(Default)]
struct FakePicker {
    open: Option<PathBuf>,
    save_dir: Option<PathBuf>,
    folder: Option<PathBuf>,
    asked: Rc<RefCell<Vec<String>>>,
}

impl FilePicker for FakePicker {
    fn open(&mut self) -> Picked {
        self.asked.borrow_mut().push("open".into());
        self.open.clone().into()
    }
    fn save(&mut self, default_name: &str, ext: &str) -> Picked {
        self.asked
            .borrow_mut()
            .push(format!("save {default_name} {ext}"));
        self.save_dir
            .as_ref()
            .map(|dir| dir.join(default_name))
            .into()
    }
    fn folder(&mut self) -> Picked {
        self.asked.borrow_mut().push("folder".into());
        self.folder.clone().into()
    }
}

/// Takes in the running open or export (they run on the file thread).
fn wait(app: &mut StrataApp) {
    assert!(
        app.wait_for_files(std::time::Duration::from_secs(60)),
        "no file job finished"
    );
}

fn visible(app: &StrataApp) -> Vec<bool> {
    app.document().layers.iter().map(|l| l.visible).collect()
}

#[test]
fn starts_with_top_layer_selected() {
    let (app, ids) = three_layers();
    assert_eq!(app.selected(), Some(ids[2]));
    assert_eq!(app.title(), "Strata");
}

#[test]
fn hide_then_undo_restores_and_redo_hides_again() {
    let (mut app, ids) = three_layers();
    let revision = app.revision();
    app.apply(Command::SetVisible(ids[1], false));
    assert_eq!(visible(&app), [true, false, true]);
    assert!(app.revision() > revision, "the canvas must recomposite");
    assert_eq!(app.history().undo_label(), Some("Hide layer"));
    app.apply(Command::Undo);
    assert_eq!(visible(&app), [true, true, true]);
    app.apply(Command::Redo);
    assert_eq!(visible(&app), [true, false, true]);
}

#[test]
fn solo_shows_one_layer_and_a_second_solo_restores() {
    let (mut app, ids) = three_layers();
    app.apply(Command::SetVisible(ids[0], false));
    app.apply(Command::Solo(ids[1]));
    assert_eq!(visible(&app), [false, true, false]);
    app.apply(Command::Solo(ids[1]));
    // Back to the state before the solo, including the layer that was hidden then.
    assert_eq!(visible(&app), [false, true, true]);
    app.apply(Command::Undo);
    assert_eq!(visible(&app), [false, true, false]);
    app.apply(Command::Undo);
    assert_eq!(visible(&app), [false, true, true]);
}

#[test]
fn moving_the_solo_to_another_layer_still_restores_the_visibility_from_before() {
    let (mut app, ids) = three_layers();
    app.apply(Command::SetVisible(ids[0], false));
    app.apply(Command::Solo(ids[1]));
    assert_eq!(visible(&app), [false, true, false]);
    app.apply(Command::Solo(ids[2]));
    assert_eq!(visible(&app), [false, false, true], "the solo moved");
    app.apply(Command::Solo(ids[2]));
    assert_eq!(
        visible(&app),
        [false, true, true],
        "back to before the first solo"
    );
}

#[test]
fn an_edit_that_says_nothing_clears_a_stale_status() {
    let (mut app, ids) = three_layers();
    app.apply(Command::SetVisible(ids[0], false));
    app.apply(Command::Undo);
    app.apply(Command::Redo);
    assert_eq!(
        app.messages().last().map(|m| m.text.as_str()),
        Some("Redid Hide layer")
    );
    app.apply(Command::Rename(ids[1], "Sky".into()));
    assert_eq!(app.messages().last(), None, "the redo message is stale now");
    // Selecting changes nothing in the document: the status stays.
    app.apply(Command::Undo);
    app.apply(Command::Select(ids[2]));
    assert_eq!(
        app.messages().last().map(|m| m.text.as_str()),
        Some("Undid Rename layer")
    );
}

#[test]
fn fill_drag_is_one_undo_step_and_locked_layers_refuse_it() {
    let (mut app, ids) = three_layers();
    let id = ids[1];
    for (fill, gesture) in [
        (0.8, Gesture::Begin),
        (0.6, Gesture::Update),
        (0.3, Gesture::End),
    ] {
        app.apply(Command::SetFillOpacity { id, fill, gesture });
    }
    let layer = &app.document().layers[1];
    assert_eq!((layer.fill_opacity, layer.opacity), (0.3, 1.0));
    assert_eq!(app.history().undo_len(), 1);
    app.apply(Command::Undo);
    assert_eq!(app.document().layers[1].fill_opacity, 1.0);

    app.apply(Command::SetLocked(id, true));
    app.apply(Command::SetFillOpacity {
        id,
        fill: 0.5,
        gesture: Gesture::Once,
    });
    assert_eq!(app.document().layers[1].fill_opacity, 1.0, "locked");
}

#[test]
fn opacity_drag_is_one_undo_step() {
    let (mut app, ids) = three_layers();
    let id = ids[2];
    app.apply(Command::SetOpacity {
        id,
        opacity: 0.9,
        gesture: Gesture::Begin,
    });
    for step in 1..=20 {
        let opacity = 0.9 - step as f32 * 0.02;
        app.apply(Command::SetOpacity {
            id,
            opacity,
            gesture: Gesture::Update,
        });
    }
    app.apply(Command::SetOpacity {
        id,
        opacity: 0.4,
        gesture: Gesture::End,
    });
    assert_eq!(app.document().layers[2].opacity, 0.4);
    assert_eq!(app.history().undo_len(), 1);
    app.apply(Command::Undo);
    assert_eq!(app.document().layers[2].opacity, 1.0);
    assert!(!app.history().can_undo());

    // A change with no drag (keyboard) is a step of its own; out-of-range values clamp.
    app.apply(Command::SetOpacity {
        id,
        opacity: 1.7,
        gesture: Gesture::Once,
    });
    assert!(!app.history().can_undo(), "clamped to 1.0, nothing changed");
    app.apply(Command::SetOpacity {
        id,
        opacity: 0.25,
        gesture: Gesture::Once,
    });
    assert_eq!(app.history().undo_len(), 1);
}

#[test]
fn blend_and_rename_are_undoable() {
    let (mut app, ids) = three_layers();
    app.apply(Command::SetBlend(ids[2], BlendMode::Multiply));
    app.apply(Command::Rename(ids[2], "  Sky  ".into()));
    app.apply(Command::Rename(ids[2], "   ".into()));
    let top = &app.document().layers[2];
    assert_eq!((top.name.as_str(), top.blend), ("Sky", BlendMode::Multiply));
    assert_eq!(app.history().undo_len(), 2, "an empty name is ignored");
    app.apply(Command::Undo);
    assert_eq!(app.document().layers[2].name, "top");
    app.apply(Command::Undo);
    assert_eq!(app.document().layers[2].blend, BlendMode::Normal);
}

#[test]
fn move_layer_and_undo() {
    let (mut app, ids) = three_layers();
    app.apply(Command::MoveLayer {
        id: ids[0],
        to_index: 2,
    });
    let order: Vec<_> = app.document().layers.iter().map(|l| l.id).collect();
    assert_eq!(order, [ids[1], ids[2], ids[0]]);
    app.apply(Command::Undo);
    let order: Vec<_> = app.document().layers.iter().map(|l| l.id).collect();
    assert_eq!(order, ids);
}

#[test]
fn select_ignores_unknown_layers() {
    let (mut app, ids) = three_layers();
    app.apply(Command::Select(ids[0]));
    assert_eq!(app.selected(), Some(ids[0]));
    app.apply(Command::Select(LayerId(999)));
    assert_eq!(app.selected(), Some(ids[0]));
    assert!(!app.history().can_undo(), "selection is not an edit");
}

#[test]
fn opening_a_converted_file_says_so_in_the_banner() {
    let (mut app, _) = three_layers();
    let dir = tempfile::tempdir().unwrap();
    let deep = dir.path().join("deep.psd");
    // 2×1 px, one 16-bit grey channel, no colour data, resources or layers, raw data.
    let mut file = b"8BPS\0\x01\0\0\0\0\0\0\0\x01".to_vec();
    file.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2, 0, 16, 0, 1]);
    file.extend_from_slice(&[0; 12]);
    file.extend_from_slice(&[0, 0, 0xFF, 0xFF, 0, 0]);
    std::fs::write(&deep, &file).unwrap();
    app.apply(Command::Open(deep));
    wait(&mut app);
    assert_eq!(app.document().width, 2);
    let note = app.messages().banner_message().unwrap();
    assert_eq!(
        note.level,
        super::status::Level::Info,
        "a note, not an error"
    );
    assert_eq!(
        note.text,
        "deep.psd: converted from 16-bit Grayscale to 8-bit RGB"
    );
    assert!(
        app.messages()
            .last()
            .unwrap()
            .text
            .starts_with("Opened deep.psd")
    );
    app.apply(Command::DismissError);
    assert!(app.messages().banner().is_none());
}

#[test]
fn opening_a_bad_file_reports_and_keeps_the_document() {
    let (mut app, ids) = three_layers();
    app.apply(Command::SetVisible(ids[0], false));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.png");
    std::fs::write(&bad, b"this is not a picture").unwrap();
    app.apply(Command::Open(bad));
    // The hidden layer is an unsaved change: the editor asks first.
    assert!(app.is_asking_to_save());
    app.apply(Command::AnswerSavePrompt(SaveChoice::Discard));
    wait(&mut app);
    let message = app.messages().last().unwrap();
    assert_eq!(message.level, super::status::Level::Error);
    assert!(message.text.contains("broken.png"), "{}", message.text);
    assert!(app.messages().banner().is_some());
    assert_eq!(app.document().layers.len(), 3);
    assert!(app.history().can_undo(), "history survives a failed open");
    app.apply(Command::DismissError);
    assert!(app.messages().banner().is_none());

    app.apply(Command::Open(dir.path().join("missing.psd")));
    app.apply(Command::AnswerSavePrompt(SaveChoice::Discard));
    wait(&mut app);
    assert_eq!(app.document().layers.len(), 3);
}

#[test]
fn opening_a_picture_replaces_document_and_history() {
    let (mut app, ids) = three_layers();
    app.apply(Command::SetVisible(ids[0], false));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flat.png");
    RgbaImage::from_pixel(6, 5, image::Rgba([1, 2, 3, 255]))
        .save(&path)
        .unwrap();
    app.apply(Command::Open(path));
    app.apply(Command::AnswerSavePrompt(SaveChoice::Discard));
    assert!(app.is_busy_with_files(), "opening runs on the file thread");
    wait(&mut app);
    assert_eq!((app.document().width, app.document().height), (6, 5));
    assert_eq!(app.document().layers.len(), 1);
    assert!(!app.history().can_undo());
    assert_eq!(app.selected(), app.document().layers.last().map(|l| l.id));
    assert_eq!(app.title(), "Strata — flat.png");
}

#[test]
fn export_through_fake_picker_writes_files() {
    let dir = tempfile::tempdir().unwrap();
    let asked = Rc::new(RefCell::new(Vec::new()));
    let picker = FakePicker {
        save_dir: Some(dir.path().to_path_buf()),
        folder: Some(dir.path().join("layers")),
        asked: Rc::clone(&asked),
        ..FakePicker::default()
    };
    let (app, _) = three_layers();
    let mut app = app.with_picker(Box::new(picker));

    app.apply(Command::ExportDialog(ExportFormat::FlatPng));
    wait(&mut app);
    let flat = dir.path().join("untitled-flat.png");
    assert!(flat.is_file(), "{:?}", app.messages().last());
    assert_eq!(image::open(&flat).unwrap().width(), 4);

    app.apply(Command::ExportDialog(ExportFormat::Ora));
    wait(&mut app);
    assert!(
        dir.path().join("untitled.ora").is_file(),
        "{:?}",
        app.messages().last()
    );

    app.apply(Command::ExportLayersDialog);
    wait(&mut app);
    let written = std::fs::read_dir(dir.path().join("layers"))
        .unwrap()
        .count();
    assert_eq!(written, 3);
    assert_eq!(
        *asked.borrow(),
        [
            "save untitled-flat.png png",
            "save untitled.ora ora",
            "folder"
        ]
    );
}

#[test]
fn quick_export_asks_once_then_reuses_the_psd_path() {
    let dir = tempfile::tempdir().unwrap();
    let asked = Rc::new(RefCell::new(Vec::new()));
    let picker = FakePicker {
        save_dir: Some(dir.path().to_path_buf()),
        asked: Rc::clone(&asked),
        ..FakePicker::default()
    };
    let (app, _) = three_layers();
    let mut app = app.with_picker(Box::new(picker));
    app.apply(Command::QuickExport);
    wait(&mut app);
    app.apply(Command::QuickExport);
    wait(&mut app);
    assert_eq!(*asked.borrow(), ["save untitled.psd psd"]);
    assert!(dir.path().join("untitled.psd").is_file());
    let message = app.messages().last().unwrap();
    assert_eq!(
        message.level,
        super::status::Level::Info,
        "{}",
        message.text
    );
}

#[test]
fn cancelled_dialogs_change_nothing() {
    let (app, _) = three_layers();
    let mut app = app.with_picker(Box::new(FakePicker::default()));
    for command in [
        Command::OpenDialog,
        Command::ExportDialog(ExportFormat::Psd),
        Command::ExportLayersDialog,
    ] {
        app.apply(command);
    }
    assert_eq!(app.document().layers.len(), 3);
    assert!(app.messages().last().is_none());
}

#[test]
fn export_with_unknown_extension_reports_error() {
    let (mut app, _) = three_layers();
    let dir = tempfile::tempdir().unwrap();
    app.apply(Command::ExportAs(dir.path().join("picture.xyz")));
    let message = app.messages().last().unwrap();
    assert_eq!(message.level, super::status::Level::Error);
}

#[test]
fn quit_sets_the_flag_for_the_window() {
    let (mut app, _) = three_layers();
    app.apply(Command::Quit);
    assert!(app.quit_requested);
}

#[test]
fn new_duplicate_merge_and_delete_are_undo_steps_that_keep_a_valid_selection() {
    let (mut app, ids) = three_layers();
    app.apply(Command::Select(ids[1]));
    app.apply(Command::NewLayer);
    let new = app.selected().unwrap();
    assert_eq!(app.document().index_of(new), Some(2), "above the selection");
    app.apply(Command::DuplicateLayer(ids[0]));
    let copy = app.selected().unwrap();
    assert_eq!(app.document().layer(copy).unwrap().name, "bottom copy");
    assert_eq!(app.document().layers.len(), 5);
    app.apply(Command::MergeDown(copy));
    assert_eq!(app.selected(), Some(ids[0]), "the merged layer is selected");
    assert_eq!(app.document().layers.len(), 4);
    app.apply(Command::DeleteLayer(ids[2]));
    assert_eq!(app.document().layers.len(), 3);
    assert!(app.document().layer(app.selected().unwrap()).is_some());
    for expected in [4, 5, 4, 3] {
        app.apply(Command::Undo);
        assert_eq!(app.document().layers.len(), expected);
    }
    assert!(!app.history().can_undo());
}

#[test]
fn a_locked_layer_refuses_moves_style_merge_delete_and_decomposition() {
    let (mut app, ids) = three_layers();
    app.apply(Command::SetLocked(ids[1], true));
    let before = app.document().clone();
    let moved = crate::model::Offset { x: 3, y: 1 };
    app.apply(Command::SetOffset {
        id: ids[1],
        offset: moved,
        gesture: Gesture::Once,
    });
    app.apply(Command::SetOpacity {
        id: ids[1],
        opacity: 0.2,
        gesture: Gesture::Once,
    });
    app.apply(Command::SetBlend(ids[1], BlendMode::Screen));
    app.apply(Command::DeleteLayer(ids[1]));
    app.apply(Command::MergeDown(ids[1]));
    app.apply(Command::MergeDown(ids[2]));
    app.apply(Command::Decompose {
        target: crate::decompose::jobs::Target::Layer(ids[1]),
        options: Default::default(),
    });
    assert!(app.document().is_same_state(&before));
    assert!(app.messages().last().unwrap().text.contains("locked"));
    // Visibility and name still change, and unlocking frees it again.
    app.apply(Command::SetVisible(ids[1], false));
    app.apply(Command::SetLocked(ids[1], false));
    app.apply(Command::SetOffset {
        id: ids[1],
        offset: moved,
        gesture: Gesture::Once,
    });
    assert_eq!(app.document().layer(ids[1]).unwrap().offset, moved);
    app.apply(Command::Undo);
    app.apply(Command::Undo);
    assert!(app.document().layer(ids[1]).unwrap().locked, "undo relocks");
    app.apply(Command::Undo);
    assert!(app.document().layer(ids[1]).unwrap().visible);
}

#[test]
fn a_move_drag_is_one_undo_step() {
    let (mut app, ids) = three_layers();
    let id = ids[2];
    let at = |x, y| crate::model::Offset { x, y };
    let steps = [
        (at(0, 0), Gesture::Begin),
        (at(1, 0), Gesture::Update),
        (at(5, -2), Gesture::Update),
        (at(5, -2), Gesture::End),
    ];
    for (offset, gesture) in steps {
        app.apply(Command::SetOffset {
            id,
            offset,
            gesture,
        });
    }
    assert_eq!(app.document().layer(id).unwrap().offset, at(5, -2));
    assert_eq!(app.history().undo_len(), 1);
    assert_eq!(app.history().undo_label(), Some("Move layer"));
    app.apply(Command::Undo);
    assert_eq!(app.document().layer(id).unwrap().offset, at(0, 0));
}

#[test]
fn qwen_layered_uses_the_chosen_model_folder_and_is_one_undo_step() {
    let tiny = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/qwen/tiny-model"
    ));
    let picker = FakePicker {
        folder: Some(tiny.clone()),
        ..FakePicker::default()
    };
    let (app, _) = three_layers();
    let mut app = app.with_picker(Box::new(picker));
    // Without a folder (and without STRATA_QWEN_WEIGHTS) the method says what it needs.
    let options = crate::decompose::Options {
        method: crate::decompose::Method::QwenLayered,
        layers: 2.into(),
        seed: 1,
    };
    if std::env::var_os(crate::decompose::methods::qwen::WEIGHTS_ENV).is_none() {
        app.apply(Command::Decompose {
            target: crate::decompose::jobs::Target::Document,
            options: options.clone(),
        });
        assert!(app.wait_for_decomposition(std::time::Duration::from_secs(60)));
        let message = &app.messages().last().unwrap().text;
        assert!(message.contains("--weights"), "{message}");
    }
    app.apply(Command::ChooseQwenWeights);
    assert_eq!(
        app.decompose.settings.qwen.weights.as_deref(),
        Some(tiny.as_path())
    );
    app.decompose.settings.qwen.steps = 1;
    let before = app.document().clone();
    app.apply(Command::Decompose {
        target: crate::decompose::jobs::Target::Document,
        options,
    });
    assert!(app.wait_for_decomposition(std::time::Duration::from_secs(300)));
    let names: Vec<&str> = app
        .document()
        .layers
        .iter()
        .map(|l| l.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["Background", "Layer 2"],
        "{:?}",
        app.messages().last()
    );
    assert_eq!(app.history().undo_len(), 1);
    app.apply(Command::Undo);
    assert!(app.document().is_same_state(&before));
}
