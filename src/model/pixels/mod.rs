//! Pixel helpers shared by every part of Strata: one definition of each conversion, box and
//! alpha statistic, so that the CPU compositor, the file formats, decomposition and the GPU
//! path (whose WGSL copies live in `shaders/prelude.wgsl`) cannot drift apart.
//!
//! The conventions, which every caller relies on:
//!
//! * **Straight alpha in storage, premultiplied in maths.** Layers and files hold straight
//!   RGBA8. Anything that averages, blends or resamples works on premultiplied `f32` in
//!   `0..=1` ([`Premul`]), because there a transparent pixel contributes nothing instead of
//!   its meaningless colour.
//! * **Rounding to nearest.** Every float → byte conversion rounds to nearest ([`to_u8`]);
//!   truncating would darken every channel by half a step on average, and the error would
//!   add up over a stack of layers. The only exception rounds alpha *up* on purpose
//!   ([`alpha_to_u8_up`]), where a colour solved for that alpha must still fit in `0..=1`.
//! * **Transparent means an alpha byte of 0.** Such a pixel's colour carries nothing, so
//!   [`unpremultiply`] turns every value whose alpha rounds to 0 into `[0, 0, 0, 0]`, the
//!   one canonical transparent pixel (files, the GPU finish pass and the CPU compositor all
//!   write it). Any alpha of 1/255 or more is visible and keeps its colour. Thresholds that
//!   mean something else (click-to-select ignoring faint fringes, a matte's confident core)
//!   are named where they are used, not here.

mod alpha;
mod bbox;
mod compare;
mod convert;
mod crop;
mod unblend;

pub use alpha::{AlphaStats, bounds_above, visible_bounds};
pub use bbox::{BBox, Coord};
pub use compare::mean_premultiplied_difference;
pub use convert::{
    Premul, alpha_to_u8_up, clamp_premul, matte_white, premultiply, to_u8, unit, unmatte_white,
    unpremultiply,
};
pub use crop::crop_in_place;
pub use unblend::{min_unblend_alpha, unblend};
