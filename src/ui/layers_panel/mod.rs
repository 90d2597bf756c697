//! The layer list, top first as in Photoshop: groups with a disclosure triangle and their
//! members indented under them, clipped layers with an arrow, layers with a mask thumbnail
//! beside their thumbnail; per row the eye, name, lock, opacity and blend mode (and fill
//! for layers); a toolbar below for new, duplicate, merge down and delete.
//!
//! The panel only reads the document and pushes [`Command`]s; the little state it keeps is
//! about widgets in progress (a rename being typed, an opacity slider being dragged).
//!
//! * [`rows`]: which rows are shown (the tree top first, folded groups without members).
//! * `layer_row`, `group_row`: drawing one row; `common`: the widgets both share.
//! * `dnd`: where a dragged row lands; `menu`: the right-click menus; `toolbar`.
//! * `masks`: the mask thumbnails.

use std::collections::HashSet;

use egui::{Align, Layout};

use super::thumbnails::Thumbnails;
use super::{Command, group_edits};
use crate::model::{Document, Group, Layer, LayerId, Node};

mod common;
mod dnd;
mod group_row;
mod layer_row;
mod masks;
mod menu;
mod toolbar;

#[cfg(test)]
mod tests;

pub use dnd::{Place, drop_command};

/// Width of the blend-mode menu, in points (room for "Pass Through").
const BLEND_WIDTH: f32 = 108.0;
/// Room for the slider's value box ("100 %"), the combo's arrow and the spacing between
/// widgets, in points (measured: less than this and the panel grows to fit the row).
const VALUE_WIDTH: f32 = 76.0;
/// Width of the slider's value box, wide enough for "100 %", in points.
const VALUE_BOX_WIDTH: f32 = 52.0;
/// Indent of a row's second line, so it starts under the name.
const INDENT: f32 = 26.0;
/// Indent per level of nesting, in points.
const DEPTH_INDENT: f32 = 14.0;

/// Which of a layer's two opacity sliders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Amount {
    /// Layer opacity: the pixels and (in Photoshop) the effects.
    Opacity,
    /// Fill opacity: the pixels only.
    Fill,
    /// A group's opacity, applied to what its members composite to.
    Group,
}

/// One row of the panel.
#[derive(Clone, Copy, Debug)]
pub enum RowKind<'a> {
    /// A layer.
    Layer(&'a Layer),
    /// A group header.
    Group(&'a Group),
}

/// A row the panel shows, with how deep in groups it sits.
#[derive(Clone, Copy, Debug)]
pub struct Row<'a> {
    /// The layer or group.
    pub kind: RowKind<'a>,
    /// How many groups enclose it (0 at the top level).
    pub depth: usize,
}

impl Row<'_> {
    /// The layer's or group's id.
    pub fn id(&self) -> LayerId {
        match self.kind {
            RowKind::Layer(layer) => layer.id,
            RowKind::Group(group) => group.id,
        }
    }
}

/// The rows of the panel, top first: every group's header above its members, and no
/// members under a folded group.
pub fn rows(doc: &Document) -> Vec<Row<'_>> {
    fn walk<'a>(nodes: &[Node<'a>], depth: usize, out: &mut Vec<Row<'a>>) {
        for node in nodes.iter().rev() {
            match node {
                Node::Layer(layer) => out.push(Row {
                    kind: RowKind::Layer(layer),
                    depth,
                }),
                Node::Group(group, children) => {
                    out.push(Row {
                        kind: RowKind::Group(group),
                        depth,
                    });
                    if !group.collapsed {
                        walk(children, depth + 1, out);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(&doc.tree(), 0, &mut out);
    out
}

/// Widget state of the layers panel between frames.
#[derive(Debug, Default)]
pub struct LayersPanel {
    /// The layer or group being renamed and the text typed so far.
    renaming: Option<(LayerId, String)>,
    /// Give the rename field keyboard focus on the next frame it is shown.
    focus_rename: bool,
    /// The layer and slider held down (an open undo transaction).
    slider_drag: Option<(LayerId, Amount)>,
    /// Thumbnail textures, rebuilt when a layer's pixels change.
    thumbnails: Thumbnails,
    /// Mask thumbnail textures, rebuilt when a mask's pixels change.
    masks: masks::MaskThumbnails,
    /// The selection the list last showed: when it changes (a click on the canvas), the
    /// list scrolls to the selected row.
    shown_selection: Option<LayerId>,
}

/// What every row needs to know about the document around it.
struct Context<'a> {
    doc: &'a Document,
    selected: Option<LayerId>,
    /// The layers and groups that clipped layers clip to (their names are underlined).
    bases: HashSet<LayerId>,
}

impl LayersPanel {
    /// Draws the panel and pushes the commands the person asked for into `out`.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        doc: &Document,
        selected: Option<LayerId>,
        out: &mut Vec<Command>,
    ) {
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            ui.heading("Layers");
            ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                ui.weak(format!("{}", doc.layers.len()));
            });
        });
        ui.separator();
        self.thumbnails.retain(doc);
        self.masks.retain(doc);
        egui::Panel::bottom("layer-toolbar")
            .show_separator_line(true)
            .show(ui, |ui| toolbar::toolbar(ui, doc, selected, out));
        if doc.layers.is_empty() {
            ui.weak("No layers.");
            return;
        }
        let bases = doc
            .layers
            .iter()
            .filter_map(|l| group_edits::clip_base(doc, l.id))
            .collect();
        let cx = Context {
            doc,
            selected,
            bases,
        };
        let reveal = std::mem::replace(&mut self.shown_selection, selected) != selected;
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                for row in rows(doc) {
                    let response = match row.kind {
                        RowKind::Layer(layer) => self.layer_row(ui, &cx, layer, row.depth, out),
                        RowKind::Group(group) => self.group_row(ui, &cx, group, row.depth, out),
                    };
                    if response.clicked() {
                        out.push(Command::Select(row.id()));
                    }
                    if reveal && selected == Some(row.id()) {
                        response.scroll_to_me(None);
                    }
                    dnd::drop_target(ui, &response, doc, row, out);
                    ui.add_space(2.0);
                }
            });
    }
}
