//! `strata bench …`: measurements against peers, run in the same process on the same data.
//!
//! - [`composite`]: GPU compositing vs the CPU reference and ImageMagick.
//! - [`decompose`]: decomposition quality (LayerD / Qwen-Image-Layered protocol) and speed
//!   of every available method on synthetic layered scenes.

mod composite;
mod decompose;

pub use composite::{CompositeBench, run_composite};
pub use decompose::{DecomposeBench, parse_size, run_decompose};
