//! The layer-tree commands through [`StrataApp::apply`]: each is one undo step (or, for
//! folding, none), redoes, keeps the tree valid, and obeys the lock rule.
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

use image::{GrayImage, Luma, Rgba};

use super::{Command, Gesture, StrataApp};
use crate::model::{BlendMode, Document, Group, LayerId, Mask, Offset, RgbaImage};

/// Ids of [`grouped`]'s nodes.
struct Ids {
    paper: LayerId,
    base: LayerId,
    shade: LayerId,
    top: LayerId,
    card: LayerId,
}

/// Bottom first: "paper"; group "Card" holding "base" and "shade"; "top" (with a mask).
/// Built by hand, as a reader would build it.
fn grouped() -> (StrataApp, Ids) {
    let mut doc = Document::new(8, 8);
    let solid = |v| RgbaImage::from_pixel(4, 4, Rgba([v, 100, 200, 255]));
    let paper = doc.push_layer("paper", solid(10)).id;
    let card = LayerId(100);
    doc.insert_group(Group::new(card, "Card"));
    let base = doc.push_layer("base", solid(60));
    base.parent = Some(card);
    let base = base.id;
    let shade = doc.push_layer("shade", solid(120));
    shade.parent = Some(card);
    shade.offset = Offset::new(2, 1);
    let shade = shade.id;
    let top = doc.push_layer("top", solid(200));
    top.mask = Some(Mask::new(
        GrayImage::from_pixel(2, 2, Luma([0])),
        Offset::new(1, 1),
        255,
    ));
    let top = top.id;
    doc.check_tree().unwrap();
    let ids = Ids {
        paper,
        base,
        shade,
        top,
        card,
    };
    (StrataApp::new(doc), ids)
}

fn order(app: &StrataApp) -> Vec<&str> {
    app.document()
        .layers
        .iter()
        .map(|l| l.name.as_str())
        .collect()
}

fn last_message(app: &StrataApp) -> String {
    app.messages()
        .last()
        .map(|m| m.text.clone())
        .unwrap_or_default()
}

/// Undoes and redoes the newest step, checking the document goes back and forth.
fn assert_undo_redo(app: &mut StrataApp, label: &str) {
    assert_eq!(app.history().undo_label(), Some(label));
    let after = app.document().clone();
    app.apply(Command::Undo);
    assert!(
        !app.document().is_same_state(&after),
        "{label}: undo changed nothing"
    );
    app.document().check_tree().unwrap();
    app.apply(Command::Redo);
    assert!(
        app.document().is_same_state(&after),
        "{label}: redo differs"
    );
}

#[test]
fn ctrl_g_wraps_the_selection_in_a_pass_through_group_and_selects_it() {
    let (mut app, ids) = grouped();
    app.apply(Command::GroupLayers(ids.top));
    let group = app.selected().unwrap();
    let doc = app.document();
    let made = doc.group(group).expect("a group is selected");
    assert_eq!(made.name, "Group 1");
    assert!(made.pass_through);
    assert_eq!(doc.parent_of(ids.top), Some(group));
    assert_eq!(last_message(&app), "Grouped 1 layer into \"Group 1\"");
    assert_undo_redo(&mut app, "Group layers");
    // A group can be grouped too: everything in it counts.
    app.apply(Command::GroupLayers(ids.card));
    assert_eq!(app.document().parent_of(ids.card), app.selected());
    assert!(last_message(&app).starts_with("Grouped 2 layers"));
}

#[test]
fn ungroup_dissolves_a_group_in_place_and_refuses_a_layer() {
    let (mut app, ids) = grouped();
    app.apply(Command::Ungroup(ids.base));
    assert!(last_message(&app).contains("Select a group"));
    assert_eq!(app.history().undo_len(), 0);
    app.apply(Command::Ungroup(ids.card));
    assert!(app.document().groups.is_empty());
    assert_eq!(order(&app), ["paper", "base", "shade", "top"]);
    assert_eq!(app.selected(), Some(ids.shade), "the top former member");
    assert_eq!(last_message(&app), "Ungrouped \"Card\" (2 layers)");
    assert_undo_redo(&mut app, "Ungroup");
}

#[test]
fn move_node_goes_into_and_out_of_groups_as_one_step() {
    let (mut app, ids) = grouped();
    app.apply(Command::MoveNode {
        id: ids.top,
        parent: Some(ids.card),
        position: 0,
    });
    assert_eq!(order(&app), ["paper", "top", "base", "shade"]);
    assert_eq!(app.document().parent_of(ids.top), Some(ids.card));
    assert_undo_redo(&mut app, "Move layer");
    app.apply(Command::MoveNode {
        id: ids.card,
        parent: None,
        position: 0,
    });
    assert_eq!(order(&app), ["top", "base", "shade", "paper"]);
    assert_undo_redo(&mut app, "Move group");
    // Into itself: refused, and said.
    let inner = {
        app.apply(Command::GroupLayers(ids.base));
        app.selected().unwrap()
    };
    let steps = app.history().undo_len();
    app.apply(Command::MoveNode {
        id: ids.card,
        parent: Some(inner),
        position: 0,
    });
    assert_eq!(app.history().undo_len(), steps);
    assert!(last_message(&app).contains("into itself"));
}

#[test]
fn clipping_is_refused_for_the_bottom_layer_of_a_group_and_of_the_document() {
    let (mut app, ids) = grouped();
    app.apply(Command::SetClipped(ids.base, true));
    assert!(last_message(&app).contains("bottom layer of its group"));
    app.apply(Command::SetClipped(ids.paper, true));
    assert!(last_message(&app).contains("bottom layer of the document"));
    assert_eq!(app.history().undo_len(), 0);
    app.apply(Command::SetClipped(ids.shade, true));
    assert!(app.document().layer(ids.shade).unwrap().clipped);
    assert_eq!(last_message(&app), "Clipped \"shade\" to \"base\"");
    assert_undo_redo(&mut app, "Create clipping mask");
    app.apply(Command::SetClipped(ids.shade, false));
    assert!(!app.document().layer(ids.shade).unwrap().clipped);
    assert_undo_redo(&mut app, "Release clipping mask");
}

#[test]
fn folding_a_group_is_no_undo_step_and_no_unsaved_change() {
    let (mut app, ids) = grouped();
    let revision = app.revision();
    app.apply(Command::SetCollapsed(ids.card, true));
    assert!(app.document().group(ids.card).unwrap().collapsed);
    assert_eq!(app.history().undo_len(), 0);
    assert!(!app.is_dirty(), "folding is a view setting");
    assert_eq!(app.revision(), revision, "nothing to recomposite");
    // Undoing an earlier edit leaves the folding as it is now.
    app.apply(Command::SetCollapsed(ids.card, false));
    app.apply(Command::Rename(ids.card, "Box".into()));
    app.apply(Command::SetCollapsed(ids.card, true));
    app.apply(Command::Undo);
    let card = app.document().group(ids.card).unwrap();
    assert_eq!(card.name, "Card");
    assert!(card.collapsed, "undo did not unfold the group");
    assert!(!app.is_dirty());
}

#[test]
fn selecting_a_layer_in_a_folded_group_unfolds_it() {
    let (mut app, ids) = grouped();
    app.apply(Command::SetCollapsed(ids.card, true));
    app.apply(Command::Select(ids.card));
    assert_eq!(app.selected(), Some(ids.card), "a group can be selected");
    assert!(app.document().group(ids.card).unwrap().collapsed);
    app.apply(Command::Select(ids.shade));
    assert!(!app.document().group(ids.card).unwrap().collapsed);
    assert!(!app.is_dirty());
}

#[test]
fn group_properties_reuse_the_layer_commands() {
    let (mut app, ids) = grouped();
    let card = |app: &StrataApp| app.document().group(ids.card).unwrap().clone();
    app.apply(Command::SetVisible(ids.card, false));
    assert!(!card(&app).visible);
    assert_undo_redo(&mut app, "Hide group");
    app.apply(Command::SetOpacity {
        id: ids.card,
        opacity: 0.25,
        gesture: Gesture::Once,
    });
    assert_eq!(card(&app).opacity, 0.25);
    assert_undo_redo(&mut app, "Group opacity");
    app.apply(Command::SetBlend(ids.card, BlendMode::Multiply));
    assert_eq!(card(&app).blend, BlendMode::Multiply);
    assert!(!card(&app).pass_through, "a mode ends passing through");
    assert_undo_redo(&mut app, "Blend mode");
    app.apply(Command::SetPassThrough(ids.card, true));
    assert!(card(&app).pass_through);
    assert_undo_redo(&mut app, "Pass through");
    app.apply(Command::Rename(ids.card, "Box".into()));
    assert_eq!(card(&app).name, "Box");
    assert_undo_redo(&mut app, "Rename group");
    app.apply(Command::SetLocked(ids.card, true));
    assert!(card(&app).locked);
    assert_undo_redo(&mut app, "Lock group");
}

#[test]
fn a_locked_group_refuses_changes_to_itself_and_its_members() {
    let (mut app, ids) = grouped();
    app.apply(Command::SetLocked(ids.card, true));
    let before = app.document().clone();
    let refused = [
        Command::SetOpacity {
            id: ids.card,
            opacity: 0.5,
            gesture: Gesture::Once,
        },
        Command::SetBlend(ids.card, BlendMode::Screen),
        Command::SetPassThrough(ids.card, false),
        Command::Ungroup(ids.card),
        Command::DeleteLayer(ids.card),
        Command::SetOffset {
            id: ids.base,
            offset: Offset::new(3, 3),
            gesture: Gesture::Once,
        },
        Command::SetClipped(ids.shade, true),
        Command::DeleteLayer(ids.shade),
        Command::TranslateGroup {
            id: ids.card,
            dx: 1,
            dy: 1,
            gesture: Gesture::Once,
        },
    ];
    for command in refused {
        let what = format!("{command:?}");
        app.apply(command);
        assert!(app.document().is_same_state(&before), "{what} went through");
        assert_eq!(
            last_message(&app),
            "\"Card\" is locked; unlock it to change it."
        );
    }
    // A locked member stops a delete or move of the whole group.
    app.apply(Command::SetLocked(ids.card, false));
    app.apply(Command::SetLocked(ids.base, true));
    app.apply(Command::DeleteLayer(ids.card));
    assert!(app.document().group(ids.card).is_some());
    assert!(last_message(&app).contains("\"base\" is locked"));
    // Visibility, folding and grouping stay free.
    app.apply(Command::SetVisible(ids.base, false));
    assert!(!app.document().layer(ids.base).unwrap().visible);
}

#[test]
fn masks_turn_off_and_on_and_delete_as_undo_steps() {
    let (mut app, ids) = grouped();
    let mask = |app: &StrataApp| app.document().layer(ids.top).unwrap().mask.clone();
    app.apply(Command::SetMaskEnabled(ids.top, false));
    assert!(!mask(&app).unwrap().enabled);
    assert_eq!(last_message(&app), "Mask of \"top\" off");
    assert_undo_redo(&mut app, "Disable mask");
    app.apply(Command::SetMaskEnabled(ids.top, true));
    assert!(mask(&app).unwrap().enabled);
    app.apply(Command::DeleteMask(ids.top));
    assert!(mask(&app).is_none());
    assert_undo_redo(&mut app, "Delete mask");
    // No mask: nothing to do, and no step.
    let steps = app.history().undo_len();
    app.apply(Command::SetMaskEnabled(ids.paper, false));
    app.apply(Command::DeleteMask(ids.paper));
    assert_eq!(app.history().undo_len(), steps);
    // Locked: refused.
    app.apply(Command::Undo);
    app.apply(Command::SetLocked(ids.top, true));
    app.apply(Command::DeleteMask(ids.top));
    assert!(mask(&app).is_some());
}

#[test]
fn delete_on_a_group_removes_it_with_its_members_in_one_step() {
    let (mut app, ids) = grouped();
    app.apply(Command::Select(ids.card));
    app.apply(Command::DeleteLayer(ids.card));
    assert_eq!(order(&app), ["paper", "top"]);
    assert!(app.document().groups.is_empty());
    assert_eq!(app.selected(), Some(ids.paper), "what was below it");
    assert_eq!(
        last_message(&app),
        "Deleted group \"Card\" and its 2 layers"
    );
    assert_undo_redo(&mut app, "Delete group");
}

#[test]
fn duplicate_and_merge_down_on_a_group_change_nothing_and_say_why() {
    let (mut app, ids) = grouped();
    let before = app.document().clone();
    app.apply(Command::DuplicateLayer(ids.card));
    assert!(last_message(&app).contains("group"));
    app.apply(Command::MergeDown(ids.card));
    assert!(last_message(&app).contains("group"));
    assert!(app.document().is_same_state(&before));
    assert_eq!(app.history().undo_len(), 0);
}

#[test]
fn a_group_drag_moves_every_member_in_one_step() {
    let (mut app, ids) = grouped();
    let steps = [
        (0, 0, Gesture::Begin),
        (2, 1, Gesture::Update),
        (1, 1, Gesture::Update),
        (0, 0, Gesture::End),
    ];
    for (dx, dy, gesture) in steps {
        app.apply(Command::TranslateGroup {
            id: ids.card,
            dx,
            dy,
            gesture,
        });
    }
    let offset = |app: &StrataApp, id| app.document().layer(id).unwrap().offset;
    assert_eq!(offset(&app, ids.base), Offset::new(3, 2));
    assert_eq!(offset(&app, ids.shade), Offset::new(5, 3));
    assert_eq!(offset(&app, ids.top), Offset::new(0, 0), "not a member");
    assert_eq!(app.history().undo_len(), 1);
    assert_undo_redo(&mut app, "Move group");
}

#[test]
fn a_new_layer_over_a_selected_group_goes_on_top_inside_it_and_shows() {
    let (mut app, ids) = grouped();
    app.apply(Command::SetCollapsed(ids.card, true));
    app.apply(Command::Select(ids.card));
    app.apply(Command::NewLayer);
    let new = app.selected().unwrap();
    let doc = app.document();
    assert_eq!(doc.parent_of(new), Some(ids.card));
    assert_eq!(doc.children(Some(ids.card)).last(), Some(&new));
    assert!(
        !doc.group(ids.card).unwrap().collapsed,
        "unfolded to show it"
    );
    doc.check_tree().unwrap();
    // Beside a member: in the same group, just above it.
    app.apply(Command::Select(ids.base));
    app.apply(Command::NewLayer);
    let beside = app.selected().unwrap();
    let doc = app.document();
    assert_eq!(doc.parent_of(beside), Some(ids.card));
    assert_eq!(doc.index_of(beside), doc.index_of(ids.base).map(|i| i + 1));
    doc.check_tree().unwrap();
}

#[test]
fn moving_a_layer_moves_its_linked_mask_in_one_step() {
    let (mut app, ids) = grouped();
    let mask_at = |app: &StrataApp| app.document().layer(ids.top).unwrap().mask.clone().unwrap();
    let drag = [
        (Offset::new(1, 0), Gesture::Begin),
        (Offset::new(3, -1), Gesture::Update),
        (Offset::new(4, 2), Gesture::End),
    ];
    for (offset, gesture) in drag {
        app.apply(Command::SetOffset {
            id: ids.top,
            offset,
            gesture,
        });
    }
    assert_eq!(
        app.document().layer(ids.top).unwrap().offset,
        Offset::new(4, 2)
    );
    assert_eq!(
        mask_at(&app).offset,
        Offset::new(5, 3),
        "the mask went along"
    );
    assert_eq!(app.history().undo_len(), 1);
    app.apply(Command::Undo);
    assert_eq!(mask_at(&app).offset, Offset::new(1, 1));
    // A nudge too; an unlinked mask stays where it is.
    app.apply(Command::SetOffset {
        id: ids.top,
        offset: Offset::new(0, 1),
        gesture: Gesture::Once,
    });
    assert_eq!(mask_at(&app).offset, Offset::new(1, 2));
    app.apply(Command::Undo);
    let mut doc = app.document().clone();
    doc.layer_mut(ids.top)
        .unwrap()
        .mask
        .as_mut()
        .unwrap()
        .linked = false;
    let mut app = StrataApp::new(doc);
    app.apply(Command::SetOffset {
        id: ids.top,
        offset: Offset::new(2, 2),
        gesture: Gesture::Once,
    });
    assert_eq!(
        app.document().layer(ids.top).unwrap().offset,
        Offset::new(2, 2)
    );
    assert_eq!(
        mask_at(&app).offset,
        Offset::new(1, 1),
        "unlinked: not moved"
    );
}
