//! Strata: decompose flat pictures into editable RGBA layers, edit them, export layered files.
//!
//! Modules depend one way: [`model`] ← [`io`] and the rest. See `ARCHITECTURE.md`.

#[cfg(feature = "app")]
pub mod decompose;
#[cfg(feature = "app")]
pub mod gpu;
pub mod io;
pub mod model;
#[cfg(feature = "app")]
pub mod ui;
pub mod worker;
