//! Every action the editor's widgets can ask for.
//!
//! Panels never touch the document: they push [`Command`]s, and
//! [`StrataApp::apply`](super::StrataApp::apply) carries them out after the frame is drawn.
//! Work finished on the editor's threads comes back as commands too. That keeps undo
//! recording and the lock rule in one place and lets tests drive the editor without a window.

use std::path::PathBuf;

use super::unsaved::SaveChoice;
use crate::decompose::jobs::Target;
use crate::decompose::{Decomposer, Options};
use crate::io::ExportFormat;
use crate::model::{BlendMode, Document, LayerId, Offset};

/// Where a value that a drag gesture changes stands in that gesture.
///
/// A slider scrub spans many frames but must be one undo step: the first change opens a
/// history transaction, later changes update the document inside it, and the release commits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gesture {
    /// The first change of a drag: opens the undo transaction.
    Begin,
    /// A change in the middle of a drag.
    Update,
    /// The drag ended: commits the transaction (one undo step, or none if nothing changed).
    End,
    /// A change with no drag around it (keyboard, typed value): one undo step by itself.
    Once,
}

/// What a primary-button drag on the canvas does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tool {
    /// Drag moves the selected layer; a click selects the topmost layer under the cursor (V).
    #[default]
    Move,
    /// Drag pans the view (H; Space or the middle button pan with any tool).
    Hand,
}

/// A decomposition method from outside Strata, for [`Command::DecomposeWith`].
pub struct CustomDecomposer(pub Box<dyn Decomposer>);

impl std::fmt::Debug for CustomDecomposer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CustomDecomposer(..)")
    }
}

/// A request from the UI, or work finished on one of the editor's threads. Applied in order,
/// once per frame, by the app.
#[derive(Debug)]
pub enum Command {
    /// Ask the file picker for a picture to open, then open it.
    OpenDialog,
    /// Open this file on the file thread, replacing the document (and clearing undo
    /// history) when it arrives; asks first if there are unsaved changes.
    Open(PathBuf),
    /// Ask the file picker where to export in this format, then export there.
    ExportDialog(ExportFormat),
    /// Export again to the last PSD path, or ask for one (Ctrl+S).
    QuickExport,
    /// Write the document to this path; the extension picks PSD, ORA or flat PNG.
    ExportAs(PathBuf),
    /// Ask the file picker for a folder, then export each layer as a PNG into it.
    ExportLayersDialog,
    /// Write one PNG per layer into this folder.
    ExportLayers(PathBuf),
    /// A job of the file thread finished (sent by the editor, not by panels): an opened file
    /// replaces the document (after asking, if the document was edited while it loaded), an
    /// export records what was saved and lets a "Save changes?" prompt waiting for it go on.
    FileJobFinished(Box<super::file_jobs::Finished>),
    /// Show or hide a layer.
    SetVisible(LayerId, bool),
    /// Show only this layer; applied again, bring back the visibility from before (Alt-click).
    Solo(LayerId),
    /// Change a layer's opacity (`0.0..=1.0`), as part of `gesture`.
    SetOpacity {
        /// The layer.
        id: LayerId,
        /// New opacity, `0.0..=1.0`.
        opacity: f32,
        /// Where the change stands in a drag.
        gesture: Gesture,
    },
    /// Change a layer's fill opacity (`0.0..=1.0`), as part of `gesture`.
    SetFillOpacity {
        /// The layer.
        id: LayerId,
        /// New fill opacity, `0.0..=1.0`.
        fill: f32,
        /// Where the change stands in a drag.
        gesture: Gesture,
    },
    /// Change a layer's blend mode.
    SetBlend(LayerId, BlendMode),
    /// Rename a layer.
    Rename(LayerId, String),
    /// Make this the selected layer (not an undo step).
    Select(LayerId),
    /// Move a layer to stack position `to_index` (0 = bottom).
    MoveLayer {
        /// The layer.
        id: LayerId,
        /// Stack position after the move, 0 = bottom.
        to_index: usize,
    },
    /// Add a transparent canvas-sized layer above the selected one (or on top), and select it.
    NewLayer,
    /// Copy a layer just above itself and select the copy (Ctrl+J).
    DuplicateLayer(LayerId),
    /// Delete a layer (Delete); refused for a locked layer.
    DeleteLayer(LayerId),
    /// Merge a layer into the one below (Ctrl+E); refused for the bottom or a locked layer.
    MergeDown(LayerId),
    /// Refill the layer below this one where this one covers it (Layer ▸ Fill behind this
    /// layer), on the worker, as one undo step; refused when the layer below is locked.
    FillBehind(LayerId),
    /// Lock or unlock a layer: a locked layer cannot be moved, deleted, merged, restyled or
    /// replaced by decomposition.
    SetLocked(LayerId, bool),
    /// Move a layer to `offset` (its top-left corner on the canvas), as part of `gesture`:
    /// a move-tool drag is one undo step, each arrow-key nudge is one.
    SetOffset {
        /// The layer.
        id: LayerId,
        /// New top-left corner, in canvas pixels.
        offset: Offset,
        /// Where the change stands in a drag.
        gesture: Gesture,
    },
    /// Pick the canvas tool.
    SetTool(Tool),
    /// Revert the newest undo step.
    Undo,
    /// Re-apply the newest undone step.
    Redo,
    /// Fit the whole canvas into the view (and keep fitting when the window resizes).
    ZoomFit,
    /// Show one canvas pixel per screen pixel.
    Zoom100,
    /// Zoom in or out by this factor around the view centre.
    ZoomBy(f32),
    /// Hide the error banner.
    DismissError,
    /// Decompose the whole picture or one layer (recursive decomposition) on the worker.
    Decompose { target: Target, options: Options },
    /// Decompose `target` with the options last chosen in the Decompose menu (the layer
    /// panel's "Decompose this layer").
    DecomposeWithMenuOptions(Target),
    /// Decompose `target` with a method from outside Strata (see
    /// [`StrataApp::decompose_with`](super::StrataApp::decompose_with)).
    DecomposeWith {
        /// The whole picture or one layer.
        target: Target,
        /// Layer count and seed (the method is `decomposer`).
        options: Options,
        /// The method.
        decomposer: CustomDecomposer,
    },
    /// A decomposition finished on the worker (sent by the editor, not by panels): its
    /// layers replace the picture or the layer as one undo step, or the status line says
    /// why there are none.
    DecompositionFinished(Box<crate::decompose::jobs::Finished>),
    /// Ask the file picker for the Qwen-Image-Layered model folder.
    ChooseQwenWeights,
    /// Use this folder as the Qwen-Image-Layered model folder.
    SetQwenWeights(PathBuf),
    /// Strata's in-window file dialog was answered (sent by the editor, not by panels): the
    /// chosen path for this purpose, or `None` if it was cancelled. Carried out as the
    /// native dialog's answer would be; a "Save changes?" prompt waiting on the dialog
    /// goes on.
    FileDialogAnswered(super::file_dialog::Purpose, Option<PathBuf>),
    /// Stop the running decomposition; the document stays as it is.
    CancelDecompose,
    /// Close the window (asking first if there are unsaved changes).
    Quit,
    /// Answer the "Save changes?" prompt.
    AnswerSavePrompt(SaveChoice),
    /// Empty File › Open Recent.
    ClearRecentFiles,
    /// Answer "Recover unsaved work?" (an autosave left by a crash).
    AnswerRecovery(super::autosave::RecoveryChoice),
}

impl Command {
    /// The layers this command would change in a way a lock forbids: their pixels, position,
    /// opacity, fill, blend mode or existence (Photoshop's "Lock all"; visibility, name, stack
    /// order and the lock itself stay free). [`StrataApp::apply`](super::StrataApp::apply)
    /// refuses the command if one of them is locked.
    ///
    /// The end of a drag is not counted, so a drag that began before the lock still commits
    /// what it did. Every command is listed, so a new one must say what it changes.
    pub fn layers_it_changes(&self, doc: &Document) -> Vec<LayerId> {
        match self {
            Self::SetOpacity { id, gesture, .. }
            | Self::SetFillOpacity { id, gesture, .. }
            | Self::SetOffset { id, gesture, .. } => {
                if *gesture == Gesture::End {
                    Vec::new()
                } else {
                    vec![*id]
                }
            }
            Self::SetBlend(id, _) | Self::DeleteLayer(id) => vec![*id],
            // The layer below takes the merged pixels.
            Self::MergeDown(id) => {
                let below = doc
                    .index_of(*id)
                    .and_then(|index| index.checked_sub(1))
                    .and_then(|index| doc.layers.get(index))
                    .map(|layer| layer.id);
                std::iter::once(*id).chain(below).collect()
            }
            Self::Decompose {
                target: Target::Layer(id) | Target::Refill(id),
                ..
            }
            | Self::DecomposeWithMenuOptions(Target::Layer(id) | Target::Refill(id))
            | Self::DecomposeWith {
                target: Target::Layer(id) | Target::Refill(id),
                ..
            } => vec![*id],
            // The layer below is the one refilled.
            Self::FillBehind(id) => crate::ui::fill_behind::layer_below(doc, *id)
                .map(|layer| layer.id)
                .into_iter()
                .collect(),
            // Asked again when the layers arrive: the layer may have been locked meanwhile.
            // A failed decomposition changes nothing and says so itself.
            Self::DecompositionFinished(finished) => match (&finished.target, &finished.result) {
                (Target::Layer(id) | Target::Refill(id), Ok(specs)) if !specs.is_empty() => {
                    vec![*id]
                }
                _ => Vec::new(),
            },
            Self::OpenDialog
            | Self::Open(_)
            | Self::ExportDialog(_)
            | Self::QuickExport
            | Self::ExportAs(_)
            | Self::ExportLayersDialog
            | Self::ExportLayers(_)
            | Self::FileJobFinished(_)
            | Self::SetVisible(..)
            | Self::Solo(_)
            | Self::Rename(..)
            | Self::Select(_)
            | Self::MoveLayer { .. }
            | Self::NewLayer
            | Self::DuplicateLayer(_)
            | Self::SetLocked(..)
            | Self::SetTool(_)
            | Self::Undo
            | Self::Redo
            | Self::ZoomFit
            | Self::Zoom100
            | Self::ZoomBy(_)
            | Self::DismissError
            | Self::Decompose {
                target: Target::Document,
                ..
            }
            | Self::DecomposeWithMenuOptions(Target::Document)
            | Self::DecomposeWith {
                target: Target::Document,
                ..
            }
            | Self::ChooseQwenWeights
            | Self::SetQwenWeights(_)
            | Self::FileDialogAnswered(..)
            | Self::CancelDecompose
            | Self::Quit
            | Self::AnswerSavePrompt(_)
            | Self::ClearRecentFiles
            | Self::AnswerRecovery(_) => Vec::new(),
        }
    }
}
