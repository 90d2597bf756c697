//! The rows the panel shows and where drops land, without a window.
#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

use super::*;
use crate::model::RgbaImage;

/// Bottom first: "a"; group "g" holding "b" and "c"; "d".
fn grouped() -> (Document, [LayerId; 5]) {
    let mut doc = Document::new(4, 4);
    let ids: Vec<LayerId> = ["a", "b", "c", "d"]
        .into_iter()
        .map(|n| doc.push_layer(n, RgbaImage::new(1, 1)).id)
        .collect();
    let g = doc.group_node(ids[1]).unwrap();
    doc.move_node(ids[2], Some(g), 1).unwrap();
    doc.group_mut(g).unwrap().name = "g".into();
    (doc, [ids[0], ids[1], ids[2], ids[3], g])
}

fn names(doc: &Document) -> Vec<(String, usize)> {
    rows(doc)
        .into_iter()
        .map(|row| {
            let name = match row.kind {
                RowKind::Layer(l) => l.name.clone(),
                RowKind::Group(g) => format!("[{}]", g.name),
            };
            (name, row.depth)
        })
        .collect()
}

fn apply(doc: &mut Document, command: Option<Command>) {
    match command {
        Some(Command::MoveNode {
            id,
            parent,
            position,
        }) => doc.move_node(id, parent, position).unwrap(),
        other => panic!("expected a move, got {other:?}"),
    }
}

/// Drops `dragged` on `target`'s row at `place`, as the panel would.
fn drop_on(doc: &mut Document, dragged: LayerId, target: LayerId, place: Place) {
    let command = drop_command(doc, dragged, target, place);
    apply(doc, command);
}

fn order(doc: &Document) -> Vec<&str> {
    doc.layers.iter().map(|l| l.name.as_str()).collect()
}

#[test]
fn rows_list_the_tree_top_first_and_hide_a_folded_groups_members() {
    let (mut doc, [.., g]) = grouped();
    let expect = |v: &[(&str, usize)]| -> Vec<(String, usize)> {
        v.iter().map(|(n, d)| (n.to_string(), *d)).collect()
    };
    assert_eq!(
        names(&doc),
        expect(&[("d", 0), ("[g]", 0), ("c", 1), ("b", 1), ("a", 0)])
    );
    doc.group_mut(g).unwrap().collapsed = true;
    assert_eq!(names(&doc), expect(&[("d", 0), ("[g]", 0), ("a", 0)]));
}

#[test]
fn drops_above_and_below_reorder_a_flat_stack_like_before() {
    // Every move of every layer onto every other row, above and below.
    for n in 2..5 {
        for from in 0..n {
            for onto in 0..n {
                for place in [Place::Above, Place::Below] {
                    let mut doc = Document::new(1, 1);
                    let ids: Vec<LayerId> = (0..n)
                        .map(|i| doc.push_layer(format!("{i}"), RgbaImage::new(1, 1)).id)
                        .collect();
                    let command = drop_command(&doc, ids[from], ids[onto], place);
                    let Some(command) = command else {
                        // Nothing moves: onto itself, or already in that place.
                        let expected = if place == Place::Above {
                            onto + 1
                        } else {
                            onto.wrapping_sub(1)
                        };
                        assert!(from == onto || from == expected, "{from}->{onto} {place:?}");
                        continue;
                    };
                    apply(&mut doc, Some(command));
                    let (m, t) = (doc.index_of(ids[from]), doc.index_of(ids[onto]));
                    let (Some(m), Some(t)) = (m, t) else {
                        panic!("layer lost")
                    };
                    let want = if place == Place::Above { t + 1 } else { t - 1 };
                    assert_eq!(m, want, "{from}->{onto} {place:?}");
                }
            }
        }
    }
}

#[test]
fn a_drop_into_a_group_puts_the_layer_on_top_of_its_members() {
    let (mut doc, [a, _, _, _, g]) = grouped();
    drop_on(&mut doc, a, g, Place::Into);
    assert_eq!(order(&doc), ["b", "c", "a", "d"]);
    assert_eq!(doc.parent_of(a), Some(g));
    doc.check_tree().unwrap();
}

#[test]
fn a_drop_beside_a_top_level_row_takes_a_layer_out_of_its_group() {
    let (mut doc, [_, b, _, d, g]) = grouped();
    drop_on(&mut doc, b, d, Place::Above);
    assert_eq!(order(&doc), ["a", "c", "d", "b"]);
    assert_eq!(doc.parent_of(b), None);
    assert_eq!(doc.parent_of(doc.layers[1].id), Some(g));
    doc.check_tree().unwrap();
}

#[test]
fn a_drop_beside_a_member_joins_its_group() {
    let (mut doc, [_, b, c, d, g]) = grouped();
    drop_on(&mut doc, d, b, Place::Above);
    assert_eq!(order(&doc), ["a", "b", "d", "c"]);
    assert_eq!(doc.parent_of(d), Some(g));
    drop_on(&mut doc, d, c, Place::Above);
    assert_eq!(order(&doc), ["a", "b", "c", "d"]);
}

#[test]
fn a_group_cannot_be_dropped_into_itself_or_next_to_its_own_members() {
    let (doc, [_, b, _, _, g]) = grouped();
    assert!(drop_command(&doc, g, g, Place::Into).is_none());
    assert!(drop_command(&doc, g, b, Place::Above).is_none());
    let mut nested = doc.clone();
    let inner = nested.group_node(b).unwrap();
    assert!(drop_command(&nested, g, inner, Place::Into).is_none());
    // A drop onto a layer row "into" is no place at all.
    assert!(drop_command(&doc, b, doc.layers[0].id, Place::Into).is_none());
}

#[test]
fn a_whole_group_moves_with_its_members() {
    let (mut doc, [_, _, _, d, g]) = grouped();
    drop_on(&mut doc, g, d, Place::Above);
    assert_eq!(order(&doc), ["a", "d", "b", "c"]);
    doc.check_tree().unwrap();
}
