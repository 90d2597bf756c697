//! The in-window dialog's rules, without drawing it.
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

use std::fs;
use std::path::Path;

use super::*;

/// A folder with a sub-folder, pictures of several formats, a text file and a dot file.
fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("Sub")).unwrap();
    for name in [
        "b.png",
        "a.psd",
        "c.ora",
        "notes.txt",
        ".hidden.png",
        "D.jpg",
    ] {
        fs::write(dir.path().join(name), b"x").unwrap();
    }
    dir
}

fn names(dialog: &FileDialog) -> Vec<&str> {
    dialog.entries().iter().map(|e| e.name.as_str()).collect()
}

fn open_in(dir: &Path) -> FileDialog {
    FileDialog::new(Purpose::Open, dir.to_path_buf(), Vec::new(), "")
}

#[test]
fn folders_come_first_then_files_by_name_through_the_filter() {
    let dir = folder();
    let mut dialog = open_in(dir.path());
    assert_eq!(names(&dialog), ["Sub", "a.psd", "b.png", "c.ora", "D.jpg"]);
    let index = |name| {
        filters(Purpose::Open)
            .iter()
            .position(|f| f.name == name)
            .unwrap()
    };
    dialog.set_filter(index("PSD"));
    assert_eq!(names(&dialog), ["Sub", "a.psd"]);
    dialog.set_filter(index("All files"));
    assert_eq!(
        names(&dialog),
        ["Sub", "a.psd", "b.png", "c.ora", "D.jpg", "notes.txt"]
    );
}

#[test]
fn a_folder_dialog_lists_only_folders_and_chooses_the_one_shown() {
    let dir = folder();
    let mut dialog = FileDialog::new(Purpose::ExportLayers, dir.path().into(), vec![], "");
    assert_eq!(names(&dialog), ["Sub"]);
    assert_eq!(dialog.confirm(), Some(Outcome::Picked(dir.path().into())));
    dialog.path_text = "notes.txt".into();
    assert_eq!(dialog.submit_path(), None);
    assert!(dialog.error().unwrap().contains("not a folder"));
}

#[test]
fn a_typed_folder_is_shown_and_a_typed_file_is_picked() {
    let dir = folder();
    let mut dialog = open_in(Path::new("/"));
    dialog.path_text = dir.path().display().to_string();
    assert_eq!(dialog.submit_path(), None);
    assert_eq!(dialog.dir(), dir.path());
    assert_eq!(dialog.path_text, "", "the field is ready for the next name");
    // Relative to the folder shown.
    dialog.path_text = "b.png".into();
    let picked = dir.path().join("b.png");
    assert_eq!(dialog.submit_path(), Some(Outcome::Picked(picked)));
    dialog.path_text = "missing.png".into();
    assert_eq!(dialog.submit_path(), None);
    assert!(dialog.error().unwrap().contains("not a file"));
}

#[test]
fn double_click_opens_a_folder_and_up_goes_back() {
    let dir = folder();
    let mut dialog = open_in(dir.path());
    let sub = dialog.entries()[0].clone();
    assert_eq!(dialog.activate(&sub), None);
    assert_eq!(dialog.dir(), dir.path().join("Sub"));
    dialog.go_up();
    assert_eq!(dialog.dir(), dir.path());
    let file = dialog.entries()[1].clone();
    let picked = Some(Outcome::Picked(file.path.clone()));
    assert_eq!(dialog.activate(&file), picked);
}

#[test]
fn saving_adds_the_extension_and_asks_before_replacing() {
    let dir = folder();
    let purpose = Purpose::Export(ExportFormat::Psd);
    let mut dialog = FileDialog::new(purpose, dir.path().into(), vec![], "untitled.psd");
    assert_eq!(names(&dialog), ["Sub", "a.psd"]);
    dialog.name_text = "new".into();
    let new = dir.path().join("new.psd");
    assert_eq!(dialog.submit_name(), Some(Outcome::Picked(new)));
    dialog.name_text = "a".into();
    assert_eq!(dialog.submit_name(), None, "a.psd exists");
    assert_eq!(dialog.answer_overwrite(false), None);
    assert_eq!(dialog.submit_name(), None);
    let existing = dir.path().join("a.psd");
    assert_eq!(
        dialog.answer_overwrite(true),
        Some(Outcome::Picked(existing))
    );
    dialog.name_text = "nowhere/x".into();
    assert_eq!(dialog.submit_name(), None);
    assert!(dialog.error().unwrap().contains("no folder"));
}

#[cfg(unix)]
#[test]
fn an_unreadable_folder_says_why_and_up_still_works() {
    let dir = folder();
    let mut dialog = open_in(dir.path());
    dialog.go_to(dir.path().join("no such folder"));
    let error = dialog.error().unwrap();
    assert!(error.starts_with("Cannot read the folder"), "{error}");
    assert!(dialog.entries().is_empty());
    dialog.go_up();
    assert_eq!(dialog.error(), None);
    assert_eq!(names(&dialog).len(), 5);
}

#[test]
fn recent_folders_are_the_used_ones_then_those_of_recent_files_each_once() {
    let a = folder();
    let b = folder();
    let files = [
        a.path().join("b.png"),
        b.path().join("a.psd"),
        a.path().join("c.ora"),
    ];
    let used = [b.path().to_path_buf(), a.path().join("gone")];
    let folders = recent_folders(&files, &used);
    assert_eq!(folders, [b.path(), a.path()]);
}
