//! `strata bench …`: measurements against peers, run in the same process on the same data.
//!
//! - [`composite`]: GPU compositing vs the CPU reference and ImageMagick.
//! - [`decompose`]: decomposition quality (LayerD / Qwen-Image-Layered protocol) and speed
//!   of every available method on layered designs, synthetic scenes or real PSDs
//!   ([`decompose_report`] prints the tables, [`psd_corpus`] reads the PSDs).
//! - [`psd_open`]: real Photoshop files opened, refused or crashed, and our flatten against
//!   the composite they store, beside psd-tools' compositor.
//! - [`inpaint`]: image completion on photos with object-shaped holes vs OpenCV and GIMP's
//!   Resynthesizer ([`inpaint_metrics`] scores a fill).

mod composite;
mod decompose;
mod decompose_report;
mod inpaint;
mod inpaint_gimp;
mod inpaint_metrics;
mod psd_corpus;
mod psd_open;

pub use composite::{CompositeBench, run_composite};
pub use decompose::{DecomposeBench, SceneSet, parse_size, run_decompose};
pub use inpaint::{InpaintBench, run_inpaint};
pub use psd_open::{PsdOpenBench, run_psd_open};
