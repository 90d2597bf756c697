//! The document model: layers, blend modes, undo history, the CPU reference compositor and
//! the pixel helpers ([`pixels`]) everything else converts with.
//!
//! This module knows nothing about windows or GPUs. Every other part of Strata (file formats,
//! decomposition, the wgpu compositor, the editor) reads and writes these types, and every other
//! compositing path is tested against [`composite_cpu`].

mod adjustment;
mod artboard;
mod blend;
pub mod blend_math;
mod blend_pixel;
pub mod composite_cpu;
#[cfg(test)]
mod composite_tree_tests;
mod document;
pub mod effects;
mod group;
mod history;
pub mod kept;
mod layer;
mod layer_ops;
mod mask;
pub mod pixels;
pub mod render_plan;
pub mod tree;

pub use adjustment::{
    Adjustment, AdjustmentKind, CHANNEL_TABLE_SIZE, CurvePoints, LevelsRecord, Lookup, Matrix,
    MixerRow, table_index,
};
pub use artboard::Artboard;
pub use blend::BlendMode;
pub use composite_cpu::{composite, composite_into, composite_shared};
pub use document::Document;
pub use group::Group;
pub use history::History;
pub use kept::{Kept, KeptBlock, KeptFormat, Undrawn};
pub use layer::{Layer, LayerId, Offset};
pub use layer_ops::{MergeError, SELECT_ALPHA_THRESHOLD};
pub use mask::{Coverage, Mask};
pub use pixels::BBox;
pub use tree::{Node, TreeError};

/// Straight-alpha 8-bit RGBA pixels, the storage format of every layer.
pub type RgbaImage = image::RgbaImage;
