//! Every action the editor's widgets can ask for.
//!
//! Panels never touch the document: they push [`Command`]s, and
//! [`StrataApp::apply`](super::StrataApp::apply) carries them out after the frame is drawn.
//! Work finished on the editor's threads comes back as commands too. That keeps undo
//! recording and the lock rule in one place and lets tests drive the editor without a window.

use std::path::PathBuf;

use super::unsaved::SaveChoice;

mod lock_rule;
use crate::decompose::jobs::Target;
use crate::decompose::{Decomposer, Options};
use crate::io::ExportFormat;
use crate::model::{BlendMode, LayerId, Offset};

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
    /// Show or hide a layer or group.
    SetVisible(LayerId, bool),
    /// Show only this layer; applied again, bring back the visibility from before (Alt-click).
    Solo(LayerId),
    /// Change a layer's or group's opacity (`0.0..=1.0`), as part of `gesture`.
    SetOpacity {
        /// The layer or group.
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
    /// Change a layer's blend mode, or a group's (which then stops passing through).
    SetBlend(LayerId, BlendMode),
    /// Rename a layer or group.
    Rename(LayerId, String),
    /// Make this layer or group the selected one (not an undo step). Collapsed groups
    /// around a selected layer open, so its row can be seen.
    Select(LayerId),
    /// Move a layer to stack position `to_index` (0 = bottom).
    MoveLayer {
        /// The layer.
        id: LayerId,
        /// Stack position after the move, 0 = bottom.
        to_index: usize,
    },
    /// Move a layer or group to be child number `position` (0 = bottom) of `parent` (`None`:
    /// the top level): a drop in the layer panel, into, out of or within a group.
    MoveNode {
        /// The layer or group.
        id: LayerId,
        /// The group it goes into, `None` for the top level.
        parent: Option<LayerId>,
        /// Its place among the parent's other children after the move, 0 = bottom.
        position: usize,
    },
    /// Put a layer or group into a new pass-through group "Group N" in its place, and
    /// select the group (Ctrl+G).
    GroupLayers(LayerId),
    /// Dissolve a group: its members move up into its parent, in place (Ctrl+Shift+G).
    Ungroup(LayerId),
    /// Clip a layer to the layer or group below it, or release it (Ctrl+Alt+G); refused for
    /// the bottom layer of a group or of the document, which has nothing to clip to.
    SetClipped(LayerId, bool),
    /// Fold or unfold a group's rows in the layer panel. A view setting, as in Photoshop:
    /// no undo step, and the document does not count as edited.
    SetCollapsed(LayerId, bool),
    /// Make a group pass-through (its members blend straight into what is below), or
    /// isolated with its blend mode.
    SetPassThrough(LayerId, bool),
    /// Turn a layer's or group's mask on or off (Shift-click on the mask thumbnail).
    SetMaskEnabled(LayerId, bool),
    /// Throw a layer's or group's mask away.
    DeleteMask(LayerId),
    /// Move every layer of a group (and linked masks) by (`dx`, `dy`) canvas pixels, as
    /// part of `gesture`: a move-tool drag on a selected group.
    TranslateGroup {
        /// The group.
        id: LayerId,
        /// Horizontal step since the previous command of the gesture.
        dx: i32,
        /// Vertical step since the previous command of the gesture.
        dy: i32,
        /// Where the change stands in a drag.
        gesture: Gesture,
    },
    /// Add a transparent canvas-sized layer above the selected one (or on top), and select it.
    NewLayer,
    /// Copy a layer just above itself and select the copy (Ctrl+J).
    DuplicateLayer(LayerId),
    /// Delete a layer, or a group with everything in it (Delete); refused when something
    /// it would delete is locked.
    DeleteLayer(LayerId),
    /// Merge a layer into the one below (Ctrl+E); refused for the bottom or a locked layer.
    MergeDown(LayerId),
    /// Refill the layer below this one where this one covers it (Layer ▸ Fill behind this
    /// layer), on the worker, as one undo step; refused when the layer below is locked.
    FillBehind(LayerId),
    /// Lock or unlock a layer or group: a locked layer (or any layer in a locked group)
    /// cannot be moved, deleted, merged, restyled or replaced by decomposition.
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
