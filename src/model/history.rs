//! Undo/redo as transactions over whole-document snapshots.
//!
//! A snapshot is a `Document` clone, which is cheap: layer pixels are `Arc`s, so only the
//! buffers that an edit actually replaced cost memory. A gesture (a drag, a slider scrub)
//! opens one transaction at its start and commits at its end, so it is one undo step
//! however many frames it spans. The history drops its oldest steps once the pixel buffers it
//! alone keeps alive exceed a byte budget.

use std::collections::HashSet;
use std::sync::Arc;

use super::Document;

/// Default memory budget for pixel buffers kept alive only by the history: 1 GiB.
pub const DEFAULT_BYTE_CAP: usize = 1 << 30;

#[derive(Clone, Debug)]
struct Step {
    label: String,
    /// The document as it was before the step (for undo) or after it (for redo).
    state: Document,
}

/// Undo and redo stacks with an optional open transaction.
#[derive(Debug)]
pub struct History {
    undo: Vec<Step>,
    redo: Vec<Step>,
    open: Option<Step>,
    byte_cap: usize,
}

impl Default for History {
    fn default() -> Self {
        Self::with_byte_cap(DEFAULT_BYTE_CAP)
    }
}

impl History {
    /// A history that keeps at most `byte_cap` bytes of pixels alive beyond the document's own.
    pub fn with_byte_cap(byte_cap: usize) -> Self {
        Self {
            undo: Vec::new(),
            redo: Vec::new(),
            open: None,
            byte_cap,
        }
    }

    /// Starts a transaction before `doc` is changed. A transaction already open stays the
    /// one that counts (nested gestures fold into the outer one).
    pub fn begin(&mut self, label: impl Into<String>, doc: &Document) {
        if self.open.is_none() {
            self.open = Some(Step {
                label: label.into(),
                state: doc.clone(),
            });
        }
    }

    /// True while a transaction is open (e.g. during a drag).
    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// Ends the open transaction. If `doc` differs from the state at `begin`, that becomes one
    /// undo step and the redo stack is cleared. Returns true when a step was recorded.
    pub fn commit(&mut self, doc: &Document) -> bool {
        let Some(step) = self.open.take() else {
            return false;
        };
        if step.state.is_same_state(doc) {
            return false;
        }
        self.undo.push(step);
        self.redo.clear();
        self.enforce_cap(doc);
        true
    }

    /// Abandons the open transaction and puts `doc` back as it was at `begin`.
    pub fn cancel(&mut self, doc: &mut Document) {
        if let Some(step) = self.open.take() {
            *doc = step.state;
        }
    }

    /// Runs `edit` on `doc` as a single undo step.
    pub fn record<R>(
        &mut self,
        label: impl Into<String>,
        doc: &mut Document,
        edit: impl FnOnce(&mut Document) -> R,
    ) -> R {
        self.begin(label, doc);
        let result = edit(doc);
        self.commit(doc);
        result
    }

    /// Reverts the newest step; returns its label. Closes any open transaction first.
    pub fn undo(&mut self, doc: &mut Document) -> Option<String> {
        self.commit(doc);
        let step = self.undo.pop()?;
        let after = std::mem::replace(doc, step.state);
        self.redo.push(Step {
            label: step.label.clone(),
            state: after,
        });
        Some(step.label)
    }

    /// Re-applies the newest undone step; returns its label.
    pub fn redo(&mut self, doc: &mut Document) -> Option<String> {
        self.commit(doc);
        let step = self.redo.pop()?;
        let before = std::mem::replace(doc, step.state);
        self.undo.push(Step {
            label: step.label.clone(),
            state: before,
        });
        Some(step.label)
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    /// Label of the step that `undo` would revert.
    pub fn undo_label(&self) -> Option<&str> {
        self.undo.last().map(|s| s.label.as_str())
    }

    /// Label of the step that `redo` would re-apply.
    pub fn redo_label(&self) -> Option<&str> {
        self.redo.last().map(|s| s.label.as_str())
    }

    /// Number of undoable steps.
    pub fn undo_len(&self) -> usize {
        self.undo.len()
    }

    /// Forgets everything (e.g. after opening another file).
    pub fn clear(&mut self) {
        self.undo.clear();
        self.redo.clear();
        self.open = None;
    }

    /// Bytes of pixel buffers that only the history keeps alive (not shared with `doc`).
    pub fn retained_bytes(&self, doc: &Document) -> usize {
        let live: HashSet<*const _> = doc.layers.iter().map(|l| Arc::as_ptr(&l.pixels)).collect();
        let mut seen = HashSet::new();
        let steps = self.undo.iter().chain(&self.redo).chain(&self.open);
        steps
            .flat_map(|s| &s.state.layers)
            .filter(|l| {
                let ptr = Arc::as_ptr(&l.pixels);
                !live.contains(&ptr) && seen.insert(ptr)
            })
            .map(|l| l.pixel_bytes())
            .sum()
    }

    /// Drops the oldest undo steps (never the newest one) until the budget holds.
    fn enforce_cap(&mut self, doc: &Document) {
        while self.undo.len() > 1 && self.retained_bytes(doc) > self.byte_cap {
            self.undo.remove(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Offset, RgbaImage};

    fn doc_with_layer() -> Document {
        let mut doc = Document::new(8, 8);
        doc.push_layer("a", RgbaImage::new(8, 8));
        doc
    }

    #[test]
    fn a_drag_is_one_step() {
        let mut doc = doc_with_layer();
        let mut history = History::default();
        history.begin("Move", &doc);
        for x in 1..=10 {
            doc.layers[0].offset = Offset::new(x, 0);
        }
        assert!(history.commit(&doc));
        assert_eq!(history.undo_len(), 1);
        history.undo(&mut doc);
        assert_eq!(doc.layers[0].offset, Offset::new(0, 0));
        history.redo(&mut doc);
        assert_eq!(doc.layers[0].offset, Offset::new(10, 0));
    }

    #[test]
    fn no_change_records_nothing() {
        let mut doc = doc_with_layer();
        let mut history = History::default();
        history.record("noop", &mut doc, |_| ());
        assert!(!history.can_undo());
    }

    #[test]
    fn new_edit_clears_redo() {
        let mut doc = doc_with_layer();
        let mut history = History::default();
        history.record("hide", &mut doc, |d| d.layers[0].visible = false);
        history.undo(&mut doc);
        assert!(history.can_redo());
        history.record("rename", &mut doc, |d| d.layers[0].name = "b".into());
        assert!(!history.can_redo());
    }

    #[test]
    fn byte_cap_drops_oldest_steps() {
        let mut doc = doc_with_layer(); // 8*8*4 = 256 bytes per buffer
        let mut history = History::with_byte_cap(600);
        for i in 0..5 {
            history.record(format!("paint {i}"), &mut doc, |d| {
                d.layers[0].pixels = Arc::new(RgbaImage::new(8, 8));
            });
        }
        assert!(history.retained_bytes(&doc) <= 600);
        assert_eq!(history.undo_len(), 2);
        assert_eq!(history.undo_label(), Some("paint 4"));
    }

    #[test]
    fn cancel_restores() {
        let mut doc = doc_with_layer();
        let mut history = History::default();
        history.begin("Opacity", &doc);
        doc.layers[0].opacity = 0.1;
        history.cancel(&mut doc);
        assert_eq!(doc.layers[0].opacity, 1.0);
        assert!(!history.can_undo());
    }

    #[test]
    fn a_fill_change_is_an_undo_step() {
        let mut doc = doc_with_layer();
        let mut history = History::default();
        history.record("Fill", &mut doc, |d| d.layers[0].fill_opacity = 0.4);
        assert!(history.can_undo(), "fill is part of the compared state");
        history.undo(&mut doc);
        assert_eq!(doc.layers[0].fill_opacity, 1.0);
    }
}
