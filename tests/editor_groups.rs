//! GUI tests of groups, clipping and masks in the layer panel: `egui_kittest` drives the
//! whole editor on a grouped document (see `tests/editor_gui.rs` for the harness and what
//! it needs: a wgpu adapter, lavapipe will do).
//!
//! Snapshots live in `tests/snapshots/`; update them with
//! `UPDATE_SNAPSHOTS=1 cargo test --test editor_groups`.

#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

use egui::{Key, Modifiers, Pos2, vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use strata::model::{Document, LayerId, RgbaImage};
use strata::ui::StrataApp;

mod common;
mod gui;
use common::grouped::grouped_document;
use gui::{drag, harness_with, right_click};

fn id_of(harness: &Harness<'_, StrataApp>, name: &str) -> LayerId {
    let doc = harness.state().document();
    let layer = doc.layers.iter().find(|l| l.name == name).map(|l| l.id);
    let group = doc.groups.iter().find(|g| g.name == name).map(|g| g.id);
    layer
        .or(group)
        .unwrap_or_else(|| panic!("no layer or group {name:?}"))
}

/// True when a row for `name` is in the panel.
fn shows(harness: &Harness<'_, StrataApp>, name: &str) -> bool {
    harness.query_by_label(name).is_some()
}

fn undo_steps(harness: &Harness<'_, StrataApp>) -> usize {
    harness.state().history().undo_len()
}

/// The drag grip in the row whose eye is labelled `eye`.
fn grip(harness: &Harness<'_, StrataApp>, eye: &str) -> Pos2 {
    let eye = harness.get_by_label(eye).rect();
    let grips: Vec<Pos2> = harness
        .get_all_by_label("Drag to reorder")
        .map(|node| node.rect().center())
        .filter(|grip| (grip.y - eye.center().y).abs() < eye.height() / 2.0)
        .collect();
    assert_eq!(grips.len(), 1, "one grip beside {eye:?}");
    grips[0]
}

#[test]
fn a_grouped_document_shows_its_tree_and_folding_hides_and_shows_the_members() {
    let mut harness = harness_with(grouped_document());
    harness.run();
    // Top first; Badge is folded, so its layers have no rows.
    for name in ["Top", "Card", "Badge", "Shade", "Base", "Paper"] {
        assert!(shows(&harness, name), "{name} has a row");
    }
    for name in ["Star", "Text"] {
        assert!(!shows(&harness, name), "{name} is folded away");
    }
    let rows: Vec<f32> = ["Top", "Card", "Badge", "Shade", "Base", "Paper"]
        .iter()
        .map(|name| harness.get_by_label(name).rect().top())
        .collect();
    assert!(rows.windows(2).all(|w| w[0] < w[1]), "top first: {rows:?}");
    // Members are indented under their group.
    let left =
        |harness: &Harness<'_, StrataApp>, name: &str| harness.get_by_label(name).rect().left();
    assert!(left(&harness, "Base") > left(&harness, "Paper"));
    assert_eq!(
        left(&harness, "Show group Card"),
        left(&harness, "Show layer Base"),
        "the eyes stay in one column"
    );

    harness.get_by_label("Expand group Badge").click();
    harness.run();
    assert!(shows(&harness, "Star") && shows(&harness, "Text"));
    assert!(left(&harness, "Text") > left(&harness, "Base"));

    harness.get_by_label("Collapse group Card").click();
    harness.run();
    for name in ["Badge", "Shade", "Base", "Star"] {
        assert!(!shows(&harness, name), "{name} is inside the folded Card");
    }
    assert!(shows(&harness, "Top") && shows(&harness, "Paper"));
    assert_eq!(
        harness.get_all_by_label("Group opacity").count(),
        1,
        "Card's"
    );
    assert_eq!(
        harness.get_all_by_label("Fill opacity").count(),
        2,
        "Top's, Paper's"
    );
    assert_eq!(undo_steps(&harness), 0, "folding is no undo step");
    assert!(!harness.state().is_dirty(), "nor an unsaved change");
}

#[test]
fn ctrl_g_groups_the_selected_layer_and_ctrl_shift_g_ungroups_it() {
    let mut harness = harness_with(grouped_document());
    harness.get_by_label("Top").click();
    harness.run();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::G);
    harness.run();
    let top = id_of(&harness, "Top");
    let doc = harness.state().document();
    let group = doc.parent_of(top).expect("Top is grouped");
    assert_eq!(doc.group(group).unwrap().name, "Group 1");
    assert_eq!(harness.state().selected(), Some(group));
    assert!(shows(&harness, "Group 1"));
    assert_eq!(
        harness.state().messages().last().unwrap().text,
        "Grouped 1 layer into \"Group 1\""
    );

    harness.key_press_modifiers(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::G);
    harness.run();
    assert_eq!(harness.state().document().parent_of(top), None);
    assert!(!shows(&harness, "Group 1"));
    assert_eq!(undo_steps(&harness), 2);
}

#[test]
fn dragging_a_row_onto_a_group_puts_it_in_the_group_and_out_again() {
    let mut harness = harness_with(grouped_document());
    harness.run();
    // The middle of the Card row (its second line, the opacity slider) drops into it.
    let from = grip(&harness, "Show layer Top");
    let card = harness.get_by_label("Card").rect().center() + vec2(0.0, 22.0);
    drag(&mut harness, from, card);
    let (top, card_id) = (id_of(&harness, "Top"), id_of(&harness, "Card"));
    let doc = harness.state().document();
    assert_eq!(doc.parent_of(top), Some(card_id));
    assert_eq!(
        doc.children(Some(card_id)).last(),
        Some(&top),
        "on top of the group"
    );
    doc.check_tree().unwrap();
    assert_eq!(undo_steps(&harness), 1);

    // Onto the upper half of Paper, a top-level layer: out of the group, above Paper.
    let from = grip(&harness, "Show layer Top");
    let paper = harness.get_by_label("Paper").rect().center();
    drag(&mut harness, from, paper);
    let doc = harness.state().document();
    assert_eq!(doc.parent_of(top), None);
    assert_eq!(doc.layers[1].id, top, "just above Paper");
    assert_eq!(undo_steps(&harness), 2);
}

#[test]
fn the_clipping_arrow_and_menu_release_and_clip_a_layer() {
    let mut harness = harness_with(grouped_document());
    harness.run();
    let shade = id_of(&harness, "Shade");
    assert_eq!(
        harness
            .get_all_by_label("Clipped to the layer below")
            .count(),
        1
    );
    let at = harness.get_by_label("Show layer Shade").rect().center() + vec2(80.0, 0.0);
    right_click(&mut harness, at);
    harness.get_by_label("Release clipping mask").click();
    harness.run();
    assert!(!harness.state().document().layer(shade).unwrap().clipped);
    assert_eq!(
        harness
            .query_all_by_label("Clipped to the layer below")
            .count(),
        0
    );

    // Ctrl+Alt+G clips the selected layer again.
    harness.get_by_label("Shade").click();
    harness.run();
    harness.key_press_modifiers(Modifiers::COMMAND.plus(Modifiers::ALT), Key::G);
    harness.run();
    assert!(harness.state().document().layer(shade).unwrap().clipped);
    assert_eq!(undo_steps(&harness), 2);
}

#[test]
fn shift_click_on_a_mask_thumbnail_turns_the_mask_on_and_its_menu_deletes_it() {
    let mut harness = harness_with(grouped_document());
    harness.run();
    let top = id_of(&harness, "Top");
    let mask = |harness: &Harness<'_, StrataApp>| {
        harness.state().document().layer(top).unwrap().mask.clone()
    };
    assert!(!mask(&harness).unwrap().enabled, "Top's mask starts off");
    harness
        .get_by_label("Mask of Top")
        .click_modifiers(Modifiers::SHIFT);
    harness.run();
    assert!(mask(&harness).unwrap().enabled);

    let at = harness.get_by_label("Mask of Top").rect().center();
    right_click(&mut harness, at);
    harness.get_by_label("Delete mask").click();
    harness.run();
    assert!(mask(&harness).is_none());
    assert!(harness.query_by_label("Mask of Top").is_none());
    assert_eq!(undo_steps(&harness), 2);
}

/// Sky at the bottom, then the sun in a folded group "Sky things".
fn sun_in_a_folded_group() -> Document {
    let (w, h) = (64, 48);
    let mut doc = Document::new(w, h);
    doc.push_layer(
        "sky",
        RgbaImage::from_pixel(w, h, image::Rgba([40, 110, 220, 255])),
    );
    let sun = RgbaImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 - 20.5, y as f32 - 18.5);
        if dx * dx + dy * dy <= 11.0 * 11.0 {
            image::Rgba([255, 210, 40, 255])
        } else {
            image::Rgba([0, 0, 0, 0])
        }
    });
    let sun = doc.push_layer("sun", sun).id;
    let group = doc.group_node(sun).unwrap();
    let group = doc.group_mut(group).unwrap();
    group.name = "Sky things".into();
    group.collapsed = true;
    doc
}

#[test]
fn a_canvas_click_on_a_layer_in_a_folded_group_unfolds_it_and_a_group_drag_moves_it_whole() {
    let mut harness = harness_with(sun_in_a_folded_group());
    harness.run();
    assert!(!shows(&harness, "sun"));
    let zoom = harness.state().canvas().zoom();
    let centre = harness.get_by_label("Canvas").rect().center();
    let at = |x: f32, y: f32| centre + (vec2(x, y) - vec2(64.0, 48.0) / 2.0) * zoom;
    harness.hover_at(at(20.5, 18.5));
    harness.run();
    harness.drag_at(at(20.5, 18.5));
    harness.drop_at(at(20.5, 18.5));
    harness.run();
    let sun = id_of(&harness, "sun");
    assert_eq!(harness.state().selected(), Some(sun));
    assert!(shows(&harness, "sun"), "the group unfolded to show the row");
    assert!(!harness.state().is_dirty());

    // Select the group and drag on the canvas: its layer moves, as one step.
    harness.get_by_label("Sky things").click();
    harness.run();
    drag(&mut harness, at(40.0, 30.0), at(46.0, 27.0));
    let doc = harness.state().document();
    assert_eq!(
        doc.layer(sun).unwrap().offset,
        strata::model::Offset::new(6, -3)
    );
    assert_eq!(
        doc.layers[0].offset,
        strata::model::Offset::default(),
        "sky stays"
    );
    assert_eq!(undo_steps(&harness), 1, "one drag, one undo step");
}

#[test]
fn snapshot_of_the_grouped_panel() {
    let mut harness = harness_with(grouped_document());
    harness.get_by_label("Expand group Badge").click();
    harness.run();
    harness.snapshot("editor_groups");
}

#[test]
fn a_groups_blend_menu_offers_pass_through() {
    let mut harness = harness_with(grouped_document());
    harness.run();
    let card = id_of(&harness, "Card");
    let name = harness.get_by_label("Card").rect();
    let menu = harness
        .get_all_by_label("Blend mode")
        .find(|menu| {
            let y = menu.rect().center().y;
            y > name.bottom() && y < name.bottom() + 40.0
        })
        .expect("Card's blend menu");
    menu.click();
    harness.run();
    // The open menu lists it first, over the Normal … Luminosity modes.
    harness.get_by_label("Pass Through").click();
    harness.run();
    let group = harness.state().document().group(card).unwrap();
    assert!(group.pass_through);
    assert_eq!(undo_steps(&harness), 1);
}

/// A layer that holds effects or a smart object from a PSD is marked in the panel ("fx",
/// "SO"), and the badge says what is not drawn; a plain layer has none.
#[test]
fn layers_with_undrawn_data_carry_a_badge() {
    use std::sync::Arc;
    use strata::model::{KeptBlock, KeptFormat, Undrawn};
    let block = |key: &[u8; 4], undrawn| KeptBlock {
        format: KeptFormat::Psd,
        key: *key,
        data: vec![0; 8],
        undrawn,
    };
    let mut doc = grouped_document();
    let paper = doc.layers.iter_mut().find(|l| l.name == "Paper").unwrap();
    paper.kept = Arc::new(vec![
        block(b"lfx2", Some(Undrawn::Effects)),
        block(b"SoLd", Some(Undrawn::SmartObject)),
        block(b"lyid", None),
    ]);
    let top = doc.layers.iter_mut().find(|l| l.name == "Top").unwrap();
    top.kept = Arc::new(vec![block(b"lyid", None)]);
    let mut harness = harness_with(doc);
    harness.run();
    assert!(shows(&harness, "effects, smart object of layer Paper"));
    assert!(
        harness.query_by_label_contains("of layer Top").is_none(),
        "a layer with only metadata kept has no badge"
    );
    let badge = harness.get_by_label("effects, smart object of layer Paper");
    assert!(badge.rect().width() > 4.0, "the badge is drawn");
}
