//! The one registry of decomposition methods: for each [`Method`] its name, description,
//! memory estimate, and how its decomposer is built from the [`MethodSettings`] the caller
//! holds.
//!
//! Everything that starts a decomposition — the editor, the command line, the benchmark, the
//! objects method falling back to regions — builds it through [`decomposer_for`], so no
//! caller special-cases a method. Adding a method means adding its folder under
//! [`super::methods`], a [`Method`] variant, its entry below, and a field in
//! [`MethodSettings`] if it has settings of its own.

use std::fmt;
use std::str::FromStr;

use super::methods::{elements, objects, palette, qwen, regions};
use super::{DecomposeError, Decomposer, MAX_LAYERS};

/// The decomposition methods Strata offers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Method {
    /// Text, graphic elements and objects on their own layers; the default.
    #[default]
    Elements,
    /// Salient objects (U²-Net-P) with inpainted background.
    Objects,
    /// Soft colour layers after Tan et al.: exact reconstruction, for recolouring.
    Palette,
    /// Classical colour/texture segmentation with inpainted background; needs no weights.
    Regions,
    /// Qwen-Image-Layered: semantic layers with generated background; needs the model's
    /// weights (tens of GB) and, in practice, a large GPU.
    QwenLayered,
}

/// Settings that only some methods have, one field per such method; the others need nothing
/// beyond [`Options`](super::Options). The editor keeps one of these for its menu, the
/// command line builds one from its flags.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MethodSettings {
    /// The `qwen-layered` method's model folder, caption and sampling.
    pub qwen: qwen::QwenSettings,
}

/// What the registry knows about one method.
#[derive(Debug)]
pub struct MethodInfo {
    /// The name used on the command line and in files.
    pub name: &'static str,
    /// A one-line description for menus and `--help`.
    pub description: &'static str,
    /// Working memory per picture pixel, in bytes, for [`estimated_peak_bytes`].
    pub bytes_per_pixel: u64,
    /// Builds the decomposer from the caller's settings; fails when the method is missing
    /// from this build.
    build: fn(&MethodSettings) -> Result<Box<dyn Decomposer>, DecomposeError>,
}

// Working memory per pixel comes from peak RSS measured with `/usr/bin/time -v` (objects:
// 0.9 GB at 12 Mpx; palette and regions: about 45 MB at 0.75 Mpx), rounded up.

static ELEMENTS: MethodInfo = MethodInfo {
    name: "elements",
    description: "text, shapes and objects each on their own layer, background filled in",
    // The analysis copy is bounded (about 1 Mpx) whatever the picture; per picture pixel
    // there are the working copy and the layers being solved.
    bytes_per_pixel: 24,
    build: |_| Ok(Box::new(elements::ElementsDecomposer)),
};

static OBJECTS: MethodInfo = MethodInfo {
    name: "objects",
    description: "salient objects on their own layers, background filled in",
    bytes_per_pixel: 96,
    build: |_| Ok(Box::new(objects::ObjectsDecomposer)),
};

static PALETTE: MethodInfo = MethodInfo {
    name: "palette",
    description: "soft colour layers that add up exactly, for recolouring",
    bytes_per_pixel: 64,
    build: |_| Ok(Box::new(palette::PaletteDecomposer::default())),
};

static REGIONS: MethodInfo = MethodInfo {
    name: "regions",
    description: "colour regions with filled-in background (no model needed)",
    bytes_per_pixel: 64,
    build: |_| Ok(Box::new(regions::RegionsDecomposer::default())),
};

static QWEN_LAYERED: MethodInfo = MethodInfo {
    name: "qwen-layered",
    description: "Qwen-Image-Layered: semantic layers, generated background (needs its weights)",
    // Latents and activations are small next to the weights, which are loaded one
    // safetensors shard at a time and counted by the device, not here.
    bytes_per_pixel: 64,
    build: |settings| qwen::decomposer(&settings.qwen),
};

impl Method {
    /// Every method, in menu order.
    pub const ALL: [Method; 5] = [
        Method::Elements,
        Method::Objects,
        Method::Palette,
        Method::Regions,
        Method::QwenLayered,
    ];

    /// The method's registry entry.
    pub fn info(self) -> &'static MethodInfo {
        match self {
            Method::Elements => &ELEMENTS,
            Method::Objects => &OBJECTS,
            Method::Palette => &PALETTE,
            Method::Regions => &REGIONS,
            Method::QwenLayered => &QWEN_LAYERED,
        }
    }

    /// The name used on the command line and in files.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// A one-line description for menus and `--help`.
    pub fn description(self) -> &'static str {
        self.info().description
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Method {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Method::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| format!("unknown method '{s}' (use {})", names()))
    }
}

/// Every method's name for messages: "objects, palette, regions or qwen-layered".
fn names() -> String {
    let names = Method::ALL.map(Method::name);
    match names.split_last() {
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The decomposer for `method`, with the settings of `settings` that the method has: the one
/// place decomposers are built.
pub fn decomposer_for(
    method: Method,
    settings: &MethodSettings,
) -> Result<Box<dyn Decomposer>, DecomposeError> {
    (method.info().build)(settings)
}

/// A conservative estimate of a method's peak memory for a `width`×`height` picture split
/// into `layers`: the method's working buffers per pixel, plus the output layers, plus the
/// model and the process itself.
pub fn estimated_peak_bytes(method: Method, width: u32, height: u32, layers: usize) -> u64 {
    let pixels = u64::from(width) * u64::from(height);
    let output = 4 * pixels * layers.clamp(1, MAX_LAYERS) as u64;
    pixels * method.info().bytes_per_pixel + output + (96 << 20)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for method in Method::ALL {
            assert_eq!(method.name().parse::<Method>(), Ok(method));
        }
        let mut names = Method::ALL.map(Method::name).to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Method::ALL.len());
    }

    #[test]
    fn an_unknown_name_lists_every_method() {
        let err = "layers".parse::<Method>().unwrap_err();
        assert_eq!(
            err,
            "unknown method 'layers' (use elements, objects, palette, regions or qwen-layered)"
        );
    }

    #[test]
    fn the_methods_without_settings_build_with_the_defaults() {
        let settings = MethodSettings::default();
        for method in [
            Method::Elements,
            Method::Objects,
            Method::Palette,
            Method::Regions,
        ] {
            assert!(decomposer_for(method, &settings).is_ok(), "{method}");
        }
    }

    #[test]
    fn the_estimate_grows_with_the_picture_and_the_layers() {
        let small = estimated_peak_bytes(Method::Objects, 100, 100, 5);
        assert!(estimated_peak_bytes(Method::Objects, 1000, 1000, 5) > small);
        assert!(estimated_peak_bytes(Method::Objects, 100, 100, 20) > small);
        assert!(
            estimated_peak_bytes(Method::Objects, 100, 100, 5)
                > estimated_peak_bytes(Method::Palette, 100, 100, 5)
        );
    }
}
