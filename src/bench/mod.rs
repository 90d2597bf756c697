//! `strata bench …`: measurements against peers, run in the same process on the same data.
//!
//! - [`composite`]: GPU compositing vs the CPU reference and ImageMagick.

mod composite;

pub use composite::{CompositeBench, run_composite};
