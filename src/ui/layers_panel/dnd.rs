//! Dropping a dragged row: above or below another row, or into a group.
//!
//! A layer row splits in halves: the upper half puts the dragged layer or group above it,
//! the lower half below it, in the same group. A group row keeps a band at its top for
//! "above"; the rest drops into the group, on top of its members, except that the bottom
//! band of a folded group drops below it (an open group's members are right under its
//! header, so "below the header" is "into it" there, as in Photoshop).

use egui::{Stroke, StrokeKind};

use super::{Row, RowKind};
use crate::model::{Document, LayerId};
use crate::ui::Command;

/// Where a drop on a row puts the dragged layer or group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// Just above the row's layer or group, beside it.
    Above,
    /// Just below the row's layer or group, beside it.
    Below,
    /// Into the row's group, on top of its members.
    Into,
}

/// Where a drop at height `y` on `row` (drawn in `rect`) lands.
fn place_at(row: Row<'_>, rect: egui::Rect, y: f32) -> Place {
    let t = (y - rect.top()) / rect.height().max(1.0);
    match row.kind {
        RowKind::Layer(_) if t < 0.5 => Place::Above,
        RowKind::Layer(_) => Place::Below,
        RowKind::Group(_) if t < 0.25 => Place::Above,
        RowKind::Group(group) if group.collapsed && t > 0.75 => Place::Below,
        RowKind::Group(_) => Place::Into,
    }
}

/// Accepts a layer or group dragged by its grip onto `row`; shows where it would land.
pub(super) fn drop_target(
    ui: &egui::Ui,
    response: &egui::Response,
    doc: &Document,
    row: Row<'_>,
    out: &mut Vec<Command>,
) {
    let Some(y) = ui.input(|i| i.pointer.interact_pos()).map(|p| p.y) else {
        return;
    };
    let place = place_at(row, response.rect, y);
    if let Some(dragged) = response.dnd_hover_payload::<LayerId>()
        && drop_command(doc, *dragged, row.id(), place).is_some()
    {
        let stroke = Stroke::new(2.0, ui.visuals().selection.stroke.color);
        let rect = response.rect;
        match place {
            Place::Above => {
                ui.painter().hline(rect.x_range(), rect.top(), stroke);
            }
            Place::Below => {
                ui.painter().hline(rect.x_range(), rect.bottom(), stroke);
            }
            Place::Into => {
                ui.painter()
                    .rect_stroke(rect, 4.0, stroke, StrokeKind::Inside);
            }
        }
    }
    if let Some(dragged) = response.dnd_release_payload::<LayerId>()
        && let Some(command) = drop_command(doc, *dragged, row.id(), place)
    {
        out.push(command);
    }
}

/// The command that moves `dragged` to `place` relative to `target`, or `None` when the
/// drop would change nothing or is impossible (a group into itself or into a group inside
/// it).
pub fn drop_command(
    doc: &Document,
    dragged: LayerId,
    target: LayerId,
    place: Place,
) -> Option<Command> {
    if dragged == target {
        return None;
    }
    let (parent, position) = match place {
        Place::Into => {
            doc.group(target)?;
            let members = doc
                .children(Some(target))
                .into_iter()
                .filter(|c| *c != dragged)
                .count();
            (Some(target), members)
        }
        Place::Above | Place::Below => {
            let parent = doc.parent_of(target);
            let siblings: Vec<LayerId> = doc
                .children(parent)
                .into_iter()
                .filter(|c| *c != dragged)
                .collect();
            let at = siblings.iter().position(|s| *s == target)?;
            (parent, if place == Place::Above { at + 1 } else { at })
        }
    };
    if parent.is_some_and(|p| doc.is_within(p, dragged)) {
        return None;
    }
    // Where it is now, counted the same way: no command for a drop that moves nothing.
    let now_parent = doc.parent_of(dragged);
    let now = doc
        .children(now_parent)
        .iter()
        .position(|c| *c == dragged)?;
    if (now_parent, now) == (parent, position) {
        return None;
    }
    Some(Command::MoveNode {
        id: dragged,
        parent,
        position,
    })
}
