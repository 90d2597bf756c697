//! Reading a gradient overlay's gradient (`Grad` of a `GrFl` effect) into the model's
//! [`Gradient`]: custom (`CstS`) gradients aligned with the layer, in the linear, radial,
//! reflected and diamond styles. Noise gradients, the angle style and gradients laid over
//! the canvas instead of the layer are not drawn (`None`).

use super::descriptor::{Descriptor, Value};
use super::effects::color;
use crate::model::effects::{Gradient, GradientShape, Interpolation, Stop};

/// Photoshop's stop positions run from 0 to 4096.
const LOCATION_SCALE: f64 = 4096.0;

/// The gradient of the gradient overlay `d`, or `None` when Strata does not draw it.
pub fn read(d: &Descriptor) -> Option<Gradient> {
    if d.boolean("Algn") == Some(false) {
        return None;
    }
    read_fill(d)
}

/// The gradient of a gradient fill layer's descriptor (`GdFl`), which has the overlay's
/// keys; its alignment does not matter to a fill laid over the whole canvas.
pub fn read_fill(d: &Descriptor) -> Option<Gradient> {
    let grad = d.object("Grad")?;
    if grad.enumerated("GrdF") != Some("CstS") {
        return None;
    }
    let shape = match d.enumerated("Type").unwrap_or("Lnr ") {
        "Lnr " => GradientShape::Linear,
        "Rdl " => GradientShape::Radial,
        "Rflc" => GradientShape::Reflected,
        "Dmnd" => GradientShape::Diamond,
        _ => return None,
    };
    let colors = stops(grad.get("Clrs")?, |s| {
        color(s.object("Clr ")?).map(|c| c.map(|v| f32::from(v) / 255.0))
    })?;
    let opacities = match grad.get("Trns") {
        Some(list) => stops(list, |s| {
            Some((s.number("Opct")? / 100.0).clamp(0.0, 1.0) as f32)
        })?,
        None => vec![Stop {
            at: 0.0,
            value: 1.0,
            midpoint: 0.5,
        }],
    };
    Some(Gradient {
        colors,
        opacities,
        shape,
        angle: d.number("Angl").unwrap_or(90.0) as f32,
        scale: d.number("Scl ").map_or(1.0, |s| (s / 100.0) as f32),
        reverse: d.boolean("Rvrs").unwrap_or(false),
        // `gs99`, Photoshop 2022's method: absent in older files, which blend classically.
        interpolation: match d.enumerated("gs99") {
            Some("Perc") => Interpolation::Perceptual,
            Some("Lnr ") => Interpolation::Linear,
            _ => Interpolation::Classic,
        },
        // `Intr`, smoothness from 0 to 4096; Photoshop's default is the full 4096.
        smoothness: (grad.number("Intr").unwrap_or(4096.0) / 4096.0) as f32,
    })
}

/// The stops of a `Clrs` or `Trns` list, sorted by location; `None` when the list is
/// empty or a stop lacks its value.
fn stops<T>(list: &Value, value: impl Fn(&Descriptor) -> Option<T>) -> Option<Vec<Stop<T>>> {
    let Value::List(items) = list else {
        return None;
    };
    let mut out = items
        .iter()
        .map(|item| {
            let Value::Object(s) = item else {
                return None;
            };
            Some(Stop {
                at: (s.number("Lctn")? / LOCATION_SCALE).clamp(0.0, 1.0) as f32,
                value: value(s)?,
                midpoint: (s.number("Mdpn").unwrap_or(50.0) / 100.0) as f32,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    if out.is_empty() {
        return None;
    }
    out.sort_by(|a, b| a.at.total_cmp(&b.at));
    Some(out)
}
