//! The decomposition methods, one folder each, holding only what is specific to that
//! method. What several methods share lives next to this folder: the candle networks in
//! [`super::nn`], background filling in [`super::inpaint`], classical segmentation in
//! [`super::segment`]. [`super::registry`] is the one place that names the methods and
//! builds their decomposers.
//!
//! * [`elements`] — text, graphic elements and objects on their own layers (the default);
//! * [`objects`] — salient objects (U²-Net-P) on their own layers, background inpainted;
//! * [`palette`] — soft colour layers that add up exactly (Tan et al.);
//! * [`regions`] — colour/texture regions with inpainted background, no model needed;
//! * [`qwen`] — Qwen-Image-Layered in candle; its settings compile always, its networks
//!   only with the `qwen` feature.

pub mod elements;
pub mod objects;
pub mod palette;
pub mod qwen;
pub mod regions;
