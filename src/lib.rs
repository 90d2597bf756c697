//! Strata: decompose flat pictures into editable RGBA layers, edit them, export layered files.
//!
//! Modules depend one way: [`model`] ← [`io`] and the rest. See `ARCHITECTURE.md`.

pub mod decompose;
pub mod gpu;
pub mod io;
pub mod model;
pub mod ui;
