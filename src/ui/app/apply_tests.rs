//! `apply` is the one place the document changes: the file and decomposition threads and
//! recovered autosaves reach the document only as commands, the revision moves once per
//! changing command, and the lock rule refuses in one place.
//!
//! The compiler already keeps code outside `apply` from changing the document (see the
//! `ui::app` docs); these tests pin down the other half, that the polling paths hand their
//! results to `apply` instead of dropping or applying them on the side.
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

use std::path::Path;
use std::time::{Duration, Instant};

use egui::RawInput;

use crate::decompose::jobs::Target;
use crate::decompose::{Method, Options};
use crate::model::{Document, LayerId, Offset, RgbaImage};
use crate::ui::autosave::RecoveryChoice;
use crate::ui::test_frames::frame;
use crate::ui::{Command, Gesture, SaveChoice, StrataApp};

const LONG: Duration = Duration::from_secs(120);

/// Two flat shapes on a flat background, 24 × 16, as three layers.
fn scene() -> Document {
    let mut doc = Document::new(24, 16);
    let colours = [[240, 230, 200, 255], [220, 40, 40, 255], [30, 60, 220, 255]];
    for (i, name) in ["paper", "red", "blue"].into_iter().enumerate() {
        let layer = doc.push_layer(name, RgbaImage::from_pixel(6, 5, image::Rgba(colours[i])));
        layer.offset = Offset::new(4 * i as i32, 3 * i as i32);
    }
    doc
}

fn ids(app: &StrataApp) -> Vec<LayerId> {
    app.document().layers.iter().map(|l| l.id).collect()
}

fn regions(layers: usize) -> Options {
    Options {
        method: Method::Regions,
        layers: layers.into(),
        seed: 1,
    }
}

/// A 3 × 2 PNG at `dir/name`.
fn png(dir: &Path, name: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    RgbaImage::from_pixel(3, 2, image::Rgba([1, 2, 3, 255]))
        .save(&path)
        .unwrap();
    path
}

/// The document and its revision at one moment.
struct Before {
    doc: Document,
    revision: u64,
}

impl Before {
    fn of(app: &StrataApp) -> Self {
        Self {
            doc: app.document().clone(),
            revision: app.revision(),
        }
    }

    /// Neither the document nor the revision moved since.
    fn assert_unchanged(&self, app: &StrataApp, during: &str) {
        assert!(
            app.document().is_same_state(&self.doc),
            "{during} changed the document"
        );
        assert_eq!(app.revision(), self.revision, "{during} moved the revision");
    }

    /// The document changed, and the revision moved exactly once.
    fn assert_one_change(&self, app: &StrataApp, during: &str) {
        assert!(
            !app.document().is_same_state(&self.doc),
            "{during} did not change the document"
        );
        assert_eq!(app.revision(), self.revision + 1, "{during}: one revision");
    }
}

/// Polls as the frame does until the running job comes back as a command, checking after
/// every poll that polling itself changed nothing.
fn poll_until(app: &mut StrataApp, poll: fn(&mut StrataApp) -> Option<Command>) -> Command {
    let deadline = Instant::now() + LONG;
    loop {
        let before = Before::of(app);
        let polled = poll(app);
        before.assert_unchanged(app, "polling");
        if let Some(command) = polled {
            return command;
        }
        assert!(Instant::now() < deadline, "the job did not finish");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn an_opened_file_reaches_the_document_only_through_apply() {
    let dir = tempfile::tempdir().unwrap();
    let path = png(dir.path(), "opened.png");
    let mut app = StrataApp::new(scene());
    let before = Before::of(&app);
    app.apply(Command::Open(path));
    before.assert_unchanged(&app, "starting an open");
    let arrived = poll_until(&mut app, |app| app.poll_files(None));
    assert!(
        matches!(arrived, Command::FileJobFinished(_)),
        "{arrived:?}"
    );
    app.apply(arrived);
    before.assert_one_change(&app, "the opened file");
    assert_eq!((app.document().width, app.document().height), (3, 2));
    assert_eq!(app.selected(), ids(&app).last().copied());
}

#[test]
fn a_file_that_arrives_after_an_edit_is_shown_by_the_answer_to_the_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let path = png(dir.path(), "late.png");
    let mut app = StrataApp::new(scene());
    app.apply(Command::Open(path));
    let paper = ids(&app)[0];
    app.apply(Command::SetVisible(paper, false));
    let arrived = poll_until(&mut app, |app| app.poll_files(None));
    let before = Before::of(&app);
    app.apply(arrived);
    before.assert_unchanged(&app, "a file that needs asking first");
    assert!(app.is_asking_to_save());
    app.apply(Command::AnswerSavePrompt(SaveChoice::Discard));
    before.assert_one_change(&app, "Don't Save");
    assert_eq!(app.document().width, 3);
}

#[test]
fn a_decomposition_reaches_the_document_only_through_apply() {
    let mut app = StrataApp::new(scene());
    let before = Before::of(&app);
    app.apply(Command::Decompose {
        target: Target::Document,
        options: regions(3),
    });
    before.assert_unchanged(&app, "starting a decomposition");
    let arrived = poll_until(&mut app, |app| app.poll_decompose(None));
    assert!(matches!(arrived, Command::DecompositionFinished(_)));
    app.apply(arrived);
    before.assert_one_change(&app, "the finished decomposition");
    assert_eq!(app.document().layers.len(), 3);
    assert_eq!(app.history().undo_label(), Some("Decompose (regions)"));
}

#[test]
fn frames_take_finished_work_in_through_apply() {
    let ctx = egui::Context::default();
    let mut app = StrataApp::new(scene());
    let before = Before::of(&app);
    app.apply(Command::Decompose {
        target: Target::Document,
        options: regions(2),
    });
    let deadline = Instant::now() + LONG;
    while app.is_decomposing() {
        assert!(
            Instant::now() < deadline,
            "the decomposition did not finish"
        );
        frame(&ctx, &mut app, RawInput::default());
        std::thread::sleep(Duration::from_millis(5));
    }
    before.assert_one_change(&app, "the frame that took the decomposition in");
    assert_eq!(app.document().layers.len(), 2);
}

#[test]
fn a_recovered_autosave_reaches_the_document_only_through_apply() {
    let data = tempfile::tempdir().unwrap();
    let mut crashed = StrataApp::new(scene()).with_data_dir(Some(data.path().to_path_buf()));
    let paper = ids(&crashed)[0];
    crashed.apply(Command::SetVisible(paper, false));
    assert!(crashed.autosave_now());
    assert!(crashed.wait_for_autosave(LONG));
    let autosaved = crashed.document().clone();
    // Dropped without `finish_session`: the slot stays behind, as after a crash.
    drop(crashed);

    let mut app = StrataApp::new(Document::new(0, 0)).with_data_dir(Some(data.path().into()));
    let before = Before::of(&app);
    assert_eq!(app.look_for_recovery(), 1);
    before.assert_unchanged(&app, "offering the autosave");
    app.apply(Command::AnswerRecovery(RecoveryChoice::Recover));
    before.assert_one_change(&app, "recovering");
    assert_eq!(app.document().layers.len(), autosaved.layers.len());
    assert!(!app.document().layers[0].visible);
    assert!(app.is_recovered() && app.is_dirty());
}

#[test]
fn each_edit_moves_the_revision_once_and_other_commands_not_at_all() {
    let mut app = StrataApp::new(scene());
    let [paper, red, _] = ids(&app)[..] else {
        panic!("three layers")
    };
    for edit in [
        Command::SetVisible(red, false),
        Command::Solo(paper),
        Command::MergeDown(red),
        Command::Undo,
        Command::NewLayer,
    ] {
        let before = Before::of(&app);
        let name = format!("{edit:?}");
        app.apply(edit);
        before.assert_one_change(&app, &name);
    }
    for other in [
        Command::Select(paper),
        Command::ZoomBy(2.0),
        Command::SetVisible(LayerId(999), false),
        Command::Rename(red, "   ".into()),
    ] {
        let before = Before::of(&app);
        let name = format!("{other:?}");
        app.apply(other);
        before.assert_unchanged(&app, &name);
    }
}

#[test]
fn merging_into_a_locked_layer_is_refused_by_the_lock_rule() {
    let mut app = StrataApp::new(scene());
    let [_, red, blue] = ids(&app)[..] else {
        panic!("three layers")
    };
    app.apply(Command::SetLocked(red, true));
    let before = Before::of(&app);
    app.apply(Command::MergeDown(blue));
    before.assert_unchanged(&app, "merging into a locked layer");
    let said = &app.messages().last().unwrap().text;
    assert_eq!(said, "\"red\" is locked; unlock it to change it.");
}

#[test]
fn a_move_drag_on_a_locked_layer_changes_nothing_and_says_why() {
    let mut app = StrataApp::new(scene());
    let red = ids(&app)[1];
    app.apply(Command::SetLocked(red, true));
    let before = Before::of(&app);
    for (x, gesture) in [(0, Gesture::Begin), (3, Gesture::Update), (3, Gesture::End)] {
        let offset = Offset::new(x, 0);
        app.apply(Command::SetOffset {
            id: red,
            offset,
            gesture,
        });
    }
    before.assert_unchanged(&app, "dragging a locked layer");
    assert_eq!(app.history().undo_label(), Some("Lock layer"));
    let said = &app.messages().last().unwrap().text;
    assert_eq!(said, "\"red\" is locked; unlock it to change it.");
}

/// Splits any picture into two copies of itself, after a pause long enough to lock the layer.
struct SlowCopies;

impl crate::decompose::Decomposer for SlowCopies {
    fn decompose(
        &self,
        image: &RgbaImage,
        _: &Options,
        _: &crate::decompose::Progress,
    ) -> Result<Vec<crate::decompose::LayerSpec>, crate::decompose::DecomposeError> {
        std::thread::sleep(Duration::from_millis(50));
        let copy =
            |name: &str| crate::decompose::LayerSpec::new(name, image.clone(), Offset::new(0, 0));
        Ok(vec![copy("a"), copy("b")])
    }
}

#[test]
fn a_layer_locked_while_it_is_decomposed_keeps_its_pixels() {
    let mut app = StrataApp::new(scene());
    let red = ids(&app)[1];
    app.decompose_with(Target::Layer(red), regions(2), Box::new(SlowCopies));
    assert!(app.is_decomposing());
    app.apply(Command::SetLocked(red, true));
    let before = Before::of(&app);
    assert!(app.wait_for_decomposition(LONG));
    before.assert_unchanged(&app, "a decomposition of a locked layer");
    let said = &app.messages().last().unwrap().text;
    assert_eq!(said, "\"red\" is locked; unlock it to decompose it.");
    // And a locked layer is not even started on.
    app.decompose_with(Target::Layer(red), regions(2), Box::new(SlowCopies));
    assert!(!app.is_decomposing());
}
