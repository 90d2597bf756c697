//! The attributes of `stack.xml` elements: OpenRaster's own, Krita's (`edit-locked`) and
//! Strata's (namespace [`super::ora::STRATA_NAMESPACE`], prefix `strata:`).
//!
//! Every attribute is optional, as the spec makes them; a value that is present but wrong is
//! an error naming the attribute and the value.

use quick_xml::events::BytesStart;

use super::ora::{MAX_FEATHER, OraError};
use super::ora_stack::{StackGroup, StackLayer, StackMask};
use crate::model::BlendMode;

/// Strata's attribute names. Other readers ignore them (the spec asks readers to ignore
/// attributes they do not know), so each one is only ever an addition to what the baseline
/// attributes already say.
pub mod names {
    /// Fill opacity, written below 100 % only.
    pub const FILL_OPACITY: &str = "strata:fill-opacity";
    /// `"true"` on a layer clipped to the one below (Photoshop's clipping mask; Krita's ORA
    /// has no clipping, its "inherit alpha" is a different thing).
    pub const CLIPPED: &str = "strata:clipped";
    /// `"true"` on a group collapsed in the layer panel.
    pub const COLLAPSED: &str = "strata:collapsed";
    /// Strata's own lock attribute, read as well as Krita's `edit-locked` (which is written).
    pub const LOCKED: &str = "strata:locked";
    /// Archive entry of a mask's greyscale PNG; the other mask attributes go with it.
    pub const MASK_SRC: &str = "strata:mask-src";
    pub const MASK_X: &str = "strata:mask-x";
    pub const MASK_Y: &str = "strata:mask-y";
    pub const MASK_BACKGROUND: &str = "strata:mask-background";
    pub const MASK_DENSITY: &str = "strata:mask-density";
    pub const MASK_FEATHER: &str = "strata:mask-feather";
    pub const MASK_ENABLED: &str = "strata:mask-enabled";
    pub const MASK_LINKED: &str = "strata:mask-linked";
}

/// The attributes of one element, unescaped.
pub struct Attrs(Vec<(String, String)>);

impl Attrs {
    /// Reads and unescapes every attribute of `element`.
    pub fn of(element: &BytesStart<'_>) -> Result<Self, OraError> {
        let mut out = Vec::new();
        for attr in element.attributes() {
            let attr = attr.map_err(|e| OraError::Xml(format!("bad attribute: {e}")))?;
            let key = attr.key.0.to_string();
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| OraError::Xml(format!("attribute '{key}': {e}")))?
                .into_owned();
            out.push((key, value));
        }
        Ok(Self(out))
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `w` or `h` of `<image>`: required.
    pub fn dimension(&self, key: &str) -> Result<u32, OraError> {
        let raw = self
            .get(key)
            .ok_or_else(|| OraError::Xml(format!("<image> has no '{key}'")))?;
        raw.trim()
            .parse()
            .map_err(|_| OraError::Xml(format!("<image {key}=\"{raw}\"> is not a size")))
    }

    /// `x`/`y` are integers in the spec; some writers emit `12.0`, so whole floats are
    /// accepted. Kept within ±2³⁰ so that sums over nested stacks cannot overflow `i64`
    /// and a final position that leaves `i32` is caught where the tree is built.
    fn position(&self, key: &str) -> Result<i64, OraError> {
        let Some(raw) = self.get(key) else {
            return Ok(0);
        };
        let value: f64 = raw
            .trim()
            .parse()
            .map_err(|_| OraError::Xml(format!("{key}=\"{raw}\" is not a number")))?;
        if !value.is_finite() || value.abs() > f64::from(i32::MAX / 2) {
            return Err(OraError::Xml(format!("{key}=\"{raw}\" is out of range")));
        }
        Ok(value.round() as i64)
    }

    /// A `0..=1` attribute such as `opacity`; 1 when absent.
    fn fraction(&self, key: &str) -> Result<f32, OraError> {
        let Some(raw) = self.get(key) else {
            return Ok(1.0);
        };
        let value: f32 = raw
            .trim()
            .parse()
            .map_err(|_| OraError::Xml(format!("{key}=\"{raw}\" is not a number")))?;
        if value.is_nan() {
            return Err(OraError::Xml(format!("{key} is NaN")));
        }
        Ok(value.clamp(0.0, 1.0))
    }

    /// A `"true"`/`"false"` attribute; `default` when absent.
    fn flag(&self, key: &str, default: bool) -> Result<bool, OraError> {
        match self.get(key).map(str::trim) {
            None => Ok(default),
            Some("true" | "1") => Ok(true),
            Some("false" | "0") => Ok(false),
            Some(other) => Err(OraError::Xml(format!(
                "{key}=\"{other}\" is neither true nor false"
            ))),
        }
    }

    fn visible(&self) -> Result<bool, OraError> {
        match self.get("visibility") {
            None | Some("visible") => Ok(true),
            Some("hidden") => Ok(false),
            Some(other) => Err(OraError::Xml(format!(
                "visibility=\"{other}\" is neither visible nor hidden"
            ))),
        }
    }

    /// Locked by Krita's `edit-locked` (compared as Krita does) or Strata's own attribute.
    fn locked(&self) -> Result<bool, OraError> {
        Ok(self.get("edit-locked") == Some("true") || self.flag(names::LOCKED, false)?)
    }

    /// `composite-op`; a name Strata does not know is drawn as Normal and remembered for
    /// the reader's notice.
    fn blend(&self, what: &str, unknown: &mut Vec<String>) -> BlendMode {
        match self.get("composite-op") {
            None => BlendMode::Normal,
            Some(op) => BlendMode::from_ora_op(op).unwrap_or_else(|| {
                tracing::warn!("{what}: composite-op '{op}' is not supported; using normal");
                if !unknown.iter().any(|u| u == op) {
                    unknown.push(op.to_string());
                }
                BlendMode::Normal
            }),
        }
    }

    /// Strata's mask attributes, if the element has a mask.
    fn mask(&self) -> Result<Option<StackMask>, OraError> {
        let Some(src) = self.get(names::MASK_SRC) else {
            return Ok(None);
        };
        let background = match self.get(names::MASK_BACKGROUND) {
            None => 255,
            Some(raw) => raw.trim().parse().map_err(|_| {
                OraError::Xml(format!(
                    "{}=\"{raw}\" is not a value from 0 to 255",
                    names::MASK_BACKGROUND
                ))
            })?,
        };
        let feather = match self.get(names::MASK_FEATHER) {
            None => 0.0,
            Some(raw) => raw
                .trim()
                .parse::<f32>()
                .ok()
                .filter(|f| (0.0..=MAX_FEATHER).contains(f))
                .ok_or_else(|| {
                    OraError::Xml(format!(
                        "{}=\"{raw}\" is not a radius from 0 to {MAX_FEATHER} px",
                        names::MASK_FEATHER
                    ))
                })?,
        };
        Ok(Some(StackMask {
            src: src.to_string(),
            x: self.position(names::MASK_X)?,
            y: self.position(names::MASK_Y)?,
            background,
            density: self.fraction(names::MASK_DENSITY)?,
            feather,
            enabled: self.flag(names::MASK_ENABLED, true)?,
            linked: self.flag(names::MASK_LINKED, true)?,
        }))
    }

    /// A `<layer>` element.
    pub fn layer(&self, unknown_ops: &mut Vec<String>) -> Result<StackLayer, OraError> {
        let name = self.get("name").unwrap_or("Layer").to_string();
        let src = self
            .get("src")
            .ok_or_else(|| OraError::Xml(format!("layer '{name}' has no src")))?
            .to_string();
        Ok(StackLayer {
            x: self.position("x")?,
            y: self.position("y")?,
            opacity: self.fraction("opacity")?,
            fill_opacity: self.fraction(names::FILL_OPACITY)?,
            visible: self.visible()?,
            locked: self.locked()?,
            clipped: self.flag(names::CLIPPED, false)?,
            blend: self.blend(&format!("layer '{name}'"), unknown_ops),
            mask: self.mask()?,
            name,
            src,
        })
    }

    /// A `<stack>` element. `isolation="isolate"` is an isolated group; `auto` (the spec's
    /// default, also when absent) is read as pass-through, as Krita reads and writes it. The
    /// spec would still isolate an `auto` stack below full opacity or with another
    /// composite-op, but Krita is the one writer whose groups carry the difference, and it
    /// means pass-through by `auto` whatever the opacity. GIMP writes no isolation and
    /// always isolates; for its usual groups (normal members) the two draw alike.
    pub fn group(&self, unknown_ops: &mut Vec<String>) -> Result<StackGroup, OraError> {
        let name = self.get("name").unwrap_or("Group").to_string();
        let pass_through = match self.get("isolation").map(str::trim) {
            None | Some("auto") => true,
            Some("isolate") => false,
            Some(other) => {
                return Err(OraError::Xml(format!(
                    "group '{name}': isolation=\"{other}\" is neither auto nor isolate"
                )));
            }
        };
        Ok(StackGroup {
            x: self.position("x")?,
            y: self.position("y")?,
            opacity: self.fraction("opacity")?,
            fill_opacity: self.fraction(names::FILL_OPACITY)?,
            visible: self.visible()?,
            locked: self.locked()?,
            collapsed: self.flag(names::COLLAPSED, false)?,
            pass_through,
            blend: self.blend(&format!("group '{name}'"), unknown_ops),
            mask: self.mask()?,
            children: Vec::new(),
            name,
        })
    }
}
