//! Autosave and recovery, driven through `StrataApp` with a temporary data folder. A crash is
//! simulated by dropping an editor without [`StrataApp::finish_session`]: that releases its
//! slot's lock exactly as the operating system does when a process dies.
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use egui::{Event, Key, Modifiers};

use super::recovery::autosaved_ago;
use super::slot::SlotInfo;
use super::*;
use crate::model::{Document, RgbaImage};
use crate::ui::test_frames::{frame_with, key};
use crate::ui::{Command, StrataApp};

const LONG: Duration = Duration::from_secs(60);

/// A two-layer ORA file, `picture.ora`, in `dir`.
fn picture(dir: &Path) -> PathBuf {
    let mut doc = Document::new(6, 4);
    doc.push_layer(
        "paper",
        RgbaImage::from_pixel(6, 4, image::Rgba([250, 240, 220, 255])),
    );
    let ink = doc.push_layer(
        "ink",
        RgbaImage::from_pixel(3, 2, image::Rgba([10, 20, 200, 180])),
    );
    ink.offset = crate::model::Offset::new(2, 1);
    let path = dir.join("picture.ora");
    crate::io::save(&doc, &path).unwrap();
    path
}

fn editor(data: &Path, file: &Path) -> StrataApp {
    StrataApp::open(file).with_data_dir(Some(data.to_path_buf()))
}

/// An editor that has hidden its top layer and autosaved that.
fn edited_and_autosaved(data: &Path, file: &Path) -> StrataApp {
    let mut app = editor(data, file);
    let top = app.document().layers[1].id;
    app.apply(Command::SetVisible(top, false));
    assert!(app.autosave_now(), "a changed document is autosaved");
    assert!(app.wait_for_autosave(LONG));
    assert!(app.autosave_file().unwrap().is_file());
    app
}

/// The names of the slot files in the autosave folder.
fn slot_files(data: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data.join("autosave"))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn assert_same_layers(a: &Document, b: &Document) {
    assert_eq!((a.width, a.height), (b.width, b.height));
    assert_eq!(a.layers.len(), b.layers.len());
    for (x, y) in a.layers.iter().zip(&b.layers) {
        assert_eq!(
            (&x.name, x.visible, x.opacity, x.blend, x.offset, x.locked),
            (&y.name, y.visible, y.opacity, y.blend, y.offset, y.locked)
        );
        assert!(*x.pixels == *y.pixels, "pixels of {} differ", x.name);
    }
}

#[test]
fn an_edit_survives_a_crash_and_is_recovered() {
    let (data, files) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let file = picture(files.path());
    let crashed = edited_and_autosaved(data.path(), &file);
    let edited = crashed.document().clone();
    let sidecar = std::fs::read(crashed.autosave_file().unwrap().with_extension("txt")).unwrap();
    let info = SlotInfo::parse(&sidecar);
    assert_eq!(info.pid, Some(std::process::id()));
    assert_eq!(info.layers, Some(2));
    assert_eq!(info.file.as_deref(), Some(file.as_path()));
    drop(crashed);

    let mut app = editor(data.path(), &file);
    assert_eq!(app.look_for_recovery(), 1);
    assert!(app.is_offering_recovery());
    let question = app.recovery_question().unwrap();
    assert!(
        question.contains("picture.ora") && question.contains("autosaved just now"),
        "{question}"
    );
    app.apply(Command::AnswerRecovery(RecoveryChoice::Recover));
    assert!(!app.is_offering_recovery());
    assert_same_layers(app.document(), &edited);
    assert!(!app.document().layers[1].visible, "the edit came back");
    assert!(app.is_dirty() && app.is_recovered());
    assert_eq!(app.title(), "Strata — picture.ora (recovered) *");
    // The work stays on disk, now in this session's slot, until saved or closed cleanly.
    let own = app.autosave_file().unwrap();
    assert!(own.is_file());
    assert_eq!(
        slot_files(data.path()).len(),
        3,
        "{:?}",
        slot_files(data.path())
    );
    assert!(
        !app.autosave_now(),
        "the recovered state is already on disk"
    );

    app.finish_session();
    assert!(
        slot_files(data.path()).is_empty(),
        "{:?}",
        slot_files(data.path())
    );
    assert_eq!(editor(data.path(), &file).look_for_recovery(), 0);
}

#[test]
fn discard_deletes_and_later_keeps_for_next_time() {
    let (data, files) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let file = picture(files.path());
    drop(edited_and_autosaved(data.path(), &file));
    drop(edited_and_autosaved(data.path(), &file));
    assert_eq!(slot_files(data.path()).len(), 6);

    let mut app = editor(data.path(), &file);
    assert_eq!(app.look_for_recovery(), 2);
    app.apply(Command::AnswerRecovery(RecoveryChoice::Later));
    assert!(app.is_offering_recovery(), "the second one is offered next");
    app.apply(Command::AnswerRecovery(RecoveryChoice::Discard));
    assert!(!app.is_offering_recovery());
    assert!(!app.is_dirty(), "the document was left alone");
    assert_eq!(
        slot_files(data.path()).len(),
        3,
        "only the kept slot is left"
    );
    app.finish_session();

    let mut next = editor(data.path(), &file);
    assert_eq!(next.look_for_recovery(), 1);
    next.apply(Command::AnswerRecovery(RecoveryChoice::Discard));
    assert!(slot_files(data.path()).is_empty());
}

#[test]
fn a_clean_exit_deletes_the_autosave_and_a_live_editor_is_not_offered() {
    let (data, files) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let file = picture(files.path());
    let mut running = edited_and_autosaved(data.path(), &file);
    assert_eq!(
        editor(data.path(), &file).look_for_recovery(),
        0,
        "its editor is still running"
    );
    running.finish_session();
    assert!(slot_files(data.path()).is_empty());
    drop(running);
    assert_eq!(editor(data.path(), &file).look_for_recovery(), 0);
}

#[test]
fn nothing_is_written_without_changes_and_saving_removes_the_autosave() {
    let (data, files) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let file = picture(files.path());
    let mut app = editor(data.path(), &file).with_autosave_interval(Duration::ZERO);
    assert!(
        !app.autosave_now(),
        "an unchanged document is not autosaved"
    );
    app.poll_autosave(None);
    assert!(!app.is_autosaving());
    assert!(slot_files(data.path()).is_empty());

    // A zero interval writes on the next frame after a change, and once only.
    let top = app.document().layers[1].id;
    app.apply(Command::SetVisible(top, false));
    app.poll_autosave(None);
    assert!(app.is_autosaving());
    assert!(app.wait_for_autosave(LONG));
    app.poll_autosave(None);
    assert!(!app.is_autosaving() && !app.autosave_now());

    // Saved as ORA: the autosave has nothing left to recover.
    app.apply(Command::ExportAs(files.path().join("saved.ora")));
    assert!(app.wait_for_files(LONG));
    assert!(!app.is_dirty());
    app.poll_autosave(None);
    assert!(!app.autosave_file().unwrap().exists());
    drop(app);
    assert_eq!(editor(data.path(), &file).look_for_recovery(), 0);
}

#[test]
fn the_interval_waits_and_an_editor_without_a_data_folder_never_writes() {
    let (data, files) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let file = picture(files.path());
    let mut app = editor(data.path(), &file).with_autosave_interval(Duration::from_secs(3600));
    let top = app.document().layers[1].id;
    app.apply(Command::SetVisible(top, false));
    app.poll_autosave(None);
    assert!(!app.is_autosaving(), "not due for an hour");
    assert!(app.autosave.due.is_some());

    let mut off = StrataApp::open(&file);
    off.apply(Command::SetVisible(top, false));
    assert!(!off.autosave_now() && off.autosave_file().is_none());
    assert_eq!(off.look_for_recovery(), 0);
}

#[test]
fn a_failing_autosave_is_said_once_on_the_status_line() {
    let files = tempfile::tempdir().unwrap();
    let file = picture(files.path());
    // The data "folder" is a file: the autosave folder cannot be created.
    let blocker = files.path().join("not-a-folder");
    std::fs::write(&blocker, b"x").unwrap();
    let mut app = editor(&blocker, &file);
    let top = app.document().layers[1].id;
    app.apply(Command::SetVisible(top, false));
    assert!(!app.autosave_now());
    let said = app.messages().last().unwrap().text.clone();
    assert!(said.starts_with("Autosave failed"), "{said}");
    assert!(app.messages().banner().is_none(), "no banner for autosave");
    app.apply(Command::Undo);
    app.apply(Command::Redo);
    assert!(!app.autosave_now());
    let last = &app.messages().last().unwrap().text;
    assert!(last.starts_with("Redid"), "said only once, not {last}");
    assert!(
        !app.document().layers[1].visible,
        "the document is untouched"
    );
}

#[test]
fn escape_answers_later_and_the_prompt_blocks_shortcuts() {
    let (data, files) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let file = picture(files.path());
    drop(edited_and_autosaved(data.path(), &file));
    let mut app = editor(data.path(), &file);
    assert_eq!(app.look_for_recovery(), 1);
    let ctx = egui::Context::default();
    let frame = |app: &mut StrataApp, events: Vec<Event>| {
        frame_with(&ctx, app, events);
    };
    frame(&mut app, Vec::new());
    // Ctrl+Shift+N would add a layer behind the modal.
    frame(
        &mut app,
        vec![key(Key::N, Modifiers::COMMAND.plus(Modifiers::SHIFT))],
    );
    assert_eq!(app.document().layers.len(), 2);
    assert!(app.is_offering_recovery());
    frame(&mut app, vec![key(Key::Escape, Modifiers::NONE)]);
    assert!(!app.is_offering_recovery());
    assert_eq!(slot_files(data.path()).len(), 3, "Later keeps the files");
}

#[test]
fn sidecar_round_trip_and_ages() {
    let info = SlotInfo {
        pid: Some(42),
        saved: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
        layers: Some(7),
        file: Some(PathBuf::from("/pictures/a b=c.psd")),
    };
    assert_eq!(SlotInfo::parse(&info.to_bytes()), info);
    assert_eq!(
        SlotInfo::parse(b"garbage\npid=x\nlayers=3\r\n"),
        SlotInfo {
            layers: Some(3),
            ..Default::default()
        }
    );
    let saved = info.saved.unwrap();
    let at = |secs| autosaved_ago(&info, saved + Duration::from_secs(secs));
    assert_eq!(at(5), "autosaved just now");
    assert_eq!(at(60), "autosaved 1 minute ago");
    assert_eq!(at(7200), "autosaved 2 hours ago");
    assert_eq!(at(3 * 86400), "autosaved 3 days ago");
}

#[test]
fn stale_temporary_files_and_empty_slots_are_tidied() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("autosave");
    std::fs::create_dir_all(&dir).unwrap();
    let old = SystemTime::now() - Duration::from_secs(2 * 3600);
    for name in [".strata-old.part", "strata-1-2-3.lock", "strata-1-2-3.txt"] {
        std::fs::File::create(dir.join(name))
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    std::fs::write(dir.join(".strata-new.part"), b"being written").unwrap();
    std::fs::write(dir.join("strata-4-5-6.lock"), b"").unwrap();
    let mut app = StrataApp::new(Document::new(0, 0)).with_data_dir(Some(data.path().into()));
    assert_eq!(app.look_for_recovery(), 0);
    assert_eq!(
        slot_files(data.path()),
        [".strata-new.part", "strata-4-5-6.lock"],
        "young files may belong to an editor starting up"
    );
}
