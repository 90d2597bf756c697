//! Which layers and groups a command would change in a way a lock forbids.

use super::{Command, Gesture};
use crate::decompose::jobs::Target;
use crate::model::{Document, LayerId};

impl Command {
    /// The layers and groups this command would change in a way a lock forbids: their
    /// pixels, position, opacity, fill, blend mode, clipping, mask or existence (Photoshop's
    /// "Lock all"; visibility, name, stack order, grouping and the lock itself stay free).
    /// [`StrataApp::apply`](crate::ui::StrataApp::apply) refuses the command if one of them
    /// is locked, or lies in a locked group.
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
            // Every member moves, and each may be locked on its own.
            Self::TranslateGroup { id, gesture, .. } => {
                if *gesture == Gesture::End {
                    Vec::new()
                } else {
                    with_members(doc, *id)
                }
            }
            Self::DeleteLayer(id) => with_members(doc, *id),
            // Ungrouping drops the group's own opacity, mode and mask.
            Self::SetBlend(id, _)
            | Self::SetPassThrough(id, _)
            | Self::SetClipped(id, _)
            | Self::SetMaskEnabled(id, _)
            | Self::DeleteMask(id)
            | Self::Ungroup(id) => vec![*id],
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
            | Self::MoveNode { .. }
            | Self::GroupLayers(_)
            | Self::SetCollapsed(..)
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

/// `id` and, for a group, every layer and group inside it.
fn with_members(doc: &Document, id: LayerId) -> Vec<LayerId> {
    if doc.group(id).is_none() {
        return vec![id];
    }
    let layers = doc.layers.iter().map(|l| l.id);
    let groups = doc.groups.iter().map(|g| g.id);
    layers
        .chain(groups)
        .filter(|member| doc.is_within(*member, id))
        .collect()
}
