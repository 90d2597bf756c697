//! Canvas tools: the move tool (drag moves the selected layer, click selects the topmost layer
//! under the cursor), panning (Hand tool, Space-drag, middle button) and arrow-key nudges.
//!
//! Like every panel, the tools only push [`Command`]s. A move drag is sent as
//! `Begin`/`Update`/`End` gestures so the whole drag becomes one undo step.

use egui::{CursorIcon, Key, Modifiers, PointerButton, Pos2, Rect, Response, Vec2};

use super::CanvasView;
use crate::model::{Document, LayerId, Offset};
use crate::ui::{Command, Gesture, Tool};

/// Arrow-key nudge with Shift held, in canvas pixels (Photoshop's step).
const BIG_NUDGE: i32 = 10;

/// A move-tool drag in progress.
#[derive(Clone, Copy, Debug)]
pub(super) struct MoveDrag {
    /// The layer or group being moved.
    pub(super) id: LayerId,
    /// A group moves all its layers; it has no offset of its own, so `start` is (0, 0) and
    /// each step is sent as the change since the last.
    group: bool,
    /// Its offset when the drag began.
    start: Offset,
    /// The offset last sent, so unchanged frames send nothing.
    last: Offset,
}

impl MoveDrag {
    /// The command that brings the dragged layer to `offset`, or the dragged group's layers
    /// by the step from the last offset sent to `offset`.
    fn command(&self, offset: Offset, gesture: Gesture) -> Command {
        if self.group {
            Command::TranslateGroup {
                id: self.id,
                dx: offset.x.saturating_sub(self.last.x),
                dy: offset.y.saturating_sub(self.last.y),
                gesture,
            }
        } else {
            Command::SetOffset {
                id: self.id,
                offset,
                gesture,
            }
        }
    }
}

impl CanvasView {
    /// Handles the pointer and keys on the canvas for the current tool. `canvas` is where the
    /// canvas lies on screen.
    pub(super) fn handle_tools(
        &mut self,
        ui: &egui::Ui,
        response: &Response,
        doc: &Document,
        canvas: Rect,
        selected: Option<LayerId>,
        out: &mut Vec<Command>,
    ) {
        let typing = ui.ctx().egui_wants_keyboard_input();
        let space = !typing && ui.input(|i| i.key_down(Key::Space));
        let panning_tool = space || self.tool == Tool::Hand;

        let primary_drag = response.dragged_by(PointerButton::Primary);
        if response.dragged_by(PointerButton::Middle)
            || (primary_drag && panning_tool && self.move_drag.is_none())
        {
            self.pan += response.drag_delta();
            self.fit = false;
        }

        if self.tool == Tool::Move && !space && response.drag_started_by(PointerButton::Primary) {
            self.begin_move(doc, selected, out);
        }
        self.continue_move(ui, response, out);

        self.hover = response
            .hover_pos()
            .map(|p| self.canvas_pixel(canvas, p))
            .filter(|&(x, y)| {
                x >= 0 && y >= 0 && x < i64::from(doc.width) && y < i64::from(doc.height)
            });

        if response.clicked() && self.tool == Tool::Move && !space {
            let hit = response
                .interact_pointer_pos()
                .map(|p| self.canvas_pixel(canvas, p))
                .and_then(|(x, y)| doc.layer_at(x, y));
            if let Some(id) = hit {
                out.push(Command::Select(id));
            }
        }
        if response.double_clicked() && self.tool == Tool::Hand {
            self.fit();
        }
        if !typing && self.tool == Tool::Move && self.move_drag.is_none() {
            nudge(ui, doc, selected, out);
        }
        self.set_cursor(ui, response, panning_tool);
    }

    /// The canvas pixel (column, row) under screen point `p`.
    fn canvas_pixel(&self, canvas: Rect, p: Pos2) -> (i64, i64) {
        let at = (p - canvas.min) * self.pixels_per_point / self.zoom;
        (at.x.floor() as i64, at.y.floor() as i64)
    }

    fn begin_move(&mut self, doc: &Document, selected: Option<LayerId>, out: &mut Vec<Command>) {
        if let Some(group) = selected.and_then(|id| doc.group(id)) {
            // A group drag is sent as steps; a locked member makes `apply` refuse each.
            self.move_drag = Some(MoveDrag {
                id: group.id,
                group: true,
                start: Offset::default(),
                last: Offset::default(),
            });
            out.push(Command::TranslateGroup {
                id: group.id,
                dx: 0,
                dy: 0,
                gesture: Gesture::Begin,
            });
            return;
        }
        let Some(layer) = selected.and_then(|id| doc.layer(id)) else {
            return;
        };
        // A locked layer is dragged like any other: `apply` refuses each step and says why.
        self.move_drag = Some(MoveDrag {
            id: layer.id,
            group: false,
            start: layer.offset,
            last: layer.offset,
        });
        out.push(Command::SetOffset {
            id: layer.id,
            offset: layer.offset,
            gesture: Gesture::Begin,
        });
    }

    /// Follows the pointer during a move drag; ends the gesture when the button is released
    /// (or the drag is lost, e.g. the window lost focus).
    fn continue_move(&mut self, ui: &egui::Ui, response: &Response, out: &mut Vec<Command>) {
        let Some(drag) = &mut self.move_drag else {
            return;
        };
        let moved = ui.input(
            |i| match (i.pointer.press_origin(), i.pointer.latest_pos()) {
                (Some(from), Some(to)) => to - from,
                _ => Vec2::ZERO,
            },
        );
        let delta = moved * self.pixels_per_point / self.zoom;
        let offset = Offset {
            x: drag.start.x.saturating_add(delta.x.round() as i32),
            y: drag.start.y.saturating_add(delta.y.round() as i32),
        };
        if !response.dragged_by(PointerButton::Primary) {
            out.push(drag.command(drag.last, Gesture::End));
            self.move_drag = None;
        } else if offset != drag.last {
            out.push(drag.command(offset, Gesture::Update));
            drag.last = offset;
        }
    }

    fn set_cursor(&self, ui: &egui::Ui, response: &Response, panning_tool: bool) {
        let icon = if response.dragged() && (panning_tool || self.move_drag.is_none()) {
            CursorIcon::Grabbing
        } else if panning_tool {
            CursorIcon::Grab
        } else if self.move_drag.is_some() || self.tool == Tool::Move {
            CursorIcon::Move
        } else {
            return;
        };
        if response.hovered() || response.dragged() {
            ui.ctx().set_cursor_icon(icon);
        }
    }

    /// The layer being dragged by the move tool, if any (the GPU compositor caches the
    /// layers below and above it while it moves; a dragged group is drawn whole).
    pub fn dragging(&self) -> Option<LayerId> {
        self.move_drag.filter(|d| !d.group).map(|d| d.id)
    }
}

/// Arrow keys move the selected layer (or every layer of the selected group) by one pixel,
/// ten with Shift; each frame's presses become one step.
fn nudge(ui: &egui::Ui, doc: &Document, selected: Option<LayerId>, out: &mut Vec<Command>) {
    let layer = selected.and_then(|id| doc.layer(id));
    let group = selected.filter(|id| doc.group(*id).is_some());
    if layer.is_none() && group.is_none() {
        return;
    }
    let steps = [
        (Key::ArrowLeft, -1, 0),
        (Key::ArrowRight, 1, 0),
        (Key::ArrowUp, 0, -1),
        (Key::ArrowDown, 0, 1),
    ];
    let (mut dx, mut dy) = (0i32, 0i32);
    ui.ctx().input_mut(|input| {
        for (key, x, y) in steps {
            // Shift first: a plain-arrow pattern would also match Shift+arrow.
            while input.consume_key(Modifiers::SHIFT, key) {
                dx += x * BIG_NUDGE;
                dy += y * BIG_NUDGE;
            }
            while input.consume_key(Modifiers::NONE, key) {
                dx += x;
                dy += y;
            }
        }
    });
    if let Some(id) = group
        && (dx, dy) != (0, 0)
    {
        out.push(Command::TranslateGroup {
            id,
            dx,
            dy,
            gesture: Gesture::Once,
        });
    } else if let Some(layer) = layer
        && (dx, dy) != (0, 0)
    {
        out.push(Command::SetOffset {
            id: layer.id,
            offset: Offset {
                x: layer.offset.x.saturating_add(dx),
                y: layer.offset.y.saturating_add(dy),
            },
            gesture: Gesture::Once,
        });
    }
}
