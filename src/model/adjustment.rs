//! Adjustment layers Strata draws: a layer that changes what lies below it instead of
//! adding pixels of its own. Today that is Photoshop's gradient map; the others stay kept
//! and reported as not drawn (see [`super::kept`]).
//!
//! In the render plan ([`super::render_plan`]) an adjustment is a pass-through canvas: a
//! copy of the backdrop, mapped pixel by pixel, then merged back through the layer's
//! opacity, mask and blend mode. Both compositors map with the same 8-bit table, so they
//! agree exactly.

use super::effects::{Gradient, TABLE_SIZE};
use super::pixels::{Premul, unit};

/// What an adjustment layer does to its backdrop.
#[derive(Clone, Debug)]
pub enum Adjustment {
    /// Photoshop's gradient map (`grdm`): each pixel's luminosity picks a colour of the
    /// gradient, darkest at its start.
    GradientMap(GradientMap),
}

impl Adjustment {
    /// A gradient map over `gradient` (its opacity stops are ignored, as Photoshop does).
    pub fn gradient_map(gradient: Gradient) -> Self {
        let table = gradient
            .table()
            .into_iter()
            .map(|(rgb, _)| rgb.map(|c| (c.clamp(0.0, 1.0) * 255.0).round() as u8))
            .collect();
        Self::GradientMap(GradientMap { gradient, table })
    }

    /// The colour table the adjustment maps through: [`TABLE_SIZE`] sRGB entries indexed
    /// by luminosity (see [`table_index`]).
    pub fn table(&self) -> &[[u8; 3]] {
        match self {
            Self::GradientMap(map) => &map.table,
        }
    }

    /// `px` (premultiplied) mapped: its colour replaced, its alpha kept.
    pub fn apply(&self, px: Premul) -> Premul {
        let a = px[3];
        if a <= 0.0 {
            return px;
        }
        let rgb = [px[0] / a, px[1] / a, px[2] / a].map(|c| c.clamp(0.0, 1.0));
        let entry = self.table()[table_index(rgb)];
        [
            unit(entry[0]) * a,
            unit(entry[1]) * a,
            unit(entry[2]) * a,
            a,
        ]
    }
}

/// A gradient map: the gradient and its table, made once when the layer is read.
#[derive(Clone, Debug)]
pub struct GradientMap {
    pub gradient: Gradient,
    table: Vec<[u8; 3]>,
}

/// The table entry of straight colour `rgb`: its luminosity (Photoshop's weights 0.3,
/// 0.59, 0.11, as the luminosity blend modes use) over the table's length, rounded half
/// up (`floor(x + 0.5)`, as `plan.wgsl`'s `map_pixel` computes it: WGSL's `round` rounds
/// half to even).
pub fn table_index(rgb: [f32; 3]) -> usize {
    let lum = (0.3 * rgb[0] + 0.59 * rgb[1] + 0.11 * rgb[2]).clamp(0.0, 1.0);
    ((lum * (TABLE_SIZE - 1) as f32 + 0.5).floor() as usize).min(TABLE_SIZE - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::effects::{GradientShape, Interpolation, Stop};

    fn stop<T>(at: f32, value: T) -> Stop<T> {
        Stop {
            at,
            value,
            midpoint: 0.5,
        }
    }

    /// The gradient of ag-psd's `gradient-overlay-2` gradient map: black, orange, yellow,
    /// white, perceptual, smoothness 100 %.
    fn photoshop_map() -> Adjustment {
        let c = |v: u16| f32::from(v) / 65535.0;
        Adjustment::gradient_map(Gradient {
            colors: vec![
                stop(0.0, [0.0; 3]),
                stop(1424.0 / 4096.0, [c(0xf9f9), c(0x4b4c), c(0x0202)]),
                stop(2722.0 / 4096.0, [c(0xffff), c(0x9e19), c(0x1f20)]),
                stop(1.0, [1.0; 3]),
            ],
            opacities: vec![stop(0.0, 1.0), stop(1.0, 1.0)],
            shape: GradientShape::Linear,
            angle: 90.0,
            scale: 1.0,
            reverse: false,
            interpolation: Interpolation::Perceptual,
            smoothness: 1.0,
        })
    }

    #[test]
    fn maps_luminosity_to_the_gradient_and_keeps_alpha() {
        let map = photoshop_map();
        // Photoshop's stored composite maps the file's grey of 13 to (3, 0, 0).
        let grey = unit(13);
        let out = map.apply([grey, grey, grey, 1.0]);
        let bytes = out.map(|c| (c * 255.0).round() as u8);
        assert_eq!(bytes, [3, 0, 0, 255]);
        // Black and white map to the ends; a half-covered pixel keeps its coverage.
        assert_eq!(map.apply([0.0, 0.0, 0.0, 1.0]), [0.0, 0.0, 0.0, 1.0]);
        assert_eq!(map.apply([0.5, 0.5, 0.5, 0.5]), [0.5, 0.5, 0.5, 0.5]);
        assert_eq!(map.apply([0.0; 4]), [0.0; 4]);
        // Luminosity, not the mean: pure green (0.59) is brighter than pure red (0.3).
        let red = map.apply([1.0, 0.0, 0.0, 1.0]);
        let green = map.apply([0.0, 1.0, 0.0, 1.0]);
        assert!(green[1] > red[1], "{red:?} {green:?}");
    }
}
