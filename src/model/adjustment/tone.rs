//! The per-channel tone maps: invert, posterize, levels, curves and exposure, each a
//! function from an 8-bit channel value to an 8-bit value, which
//! [`super::Adjustment::new`] tabulates.
//!
//! Exposure works in linear light. Photoshop converts through the document's colour
//! profile; for sRGB documents a plain power of [`EXPOSURE_GAMMA`] stands in for the
//! profile's curve (measured on psd-tools' `exposure_rgb` test file, whose four exposure
//! layers Photoshop flattened: within 1/255 of its stored composite on average).
//!
//! Where a kind has a composite record and per-channel ones (levels, curves), a channel's
//! own record is applied first and the composite after it, as Photoshop's dialogs show
//! the composite as acting on the whole image.

use super::AdjustmentKind;

/// One channel's record of a levels adjustment, in 8-bit values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LevelsRecord {
    /// Input values at or below this become the output floor.
    pub input_floor: u8,
    /// Input values at or above this become the output ceiling.
    pub input_ceiling: u8,
    pub output_floor: u8,
    pub output_ceiling: u8,
    /// The midtone gamma (1.0 leaves the midtones; above 1 lightens them).
    pub gamma: f32,
}

impl LevelsRecord {
    /// The record that changes nothing.
    pub const IDENTITY: Self = Self {
        input_floor: 0,
        input_ceiling: 255,
        output_floor: 0,
        output_ceiling: 255,
        gamma: 1.0,
    };

    /// `v` (`0.0..=255.0`) through this record.
    fn map(&self, v: f32) -> f32 {
        let (floor, ceiling) = (f32::from(self.input_floor), f32::from(self.input_ceiling));
        let span = (ceiling - floor).max(1.0);
        let t = ((v - floor) / span).clamp(0.0, 1.0);
        let t = t.powf(1.0 / self.gamma.max(0.01));
        let (low, high) = (f32::from(self.output_floor), f32::from(self.output_ceiling));
        low + t * (high - low)
    }
}

/// A curve's points as `(input, output)` pairs, inputs increasing; at least two.
#[derive(Clone, Debug, PartialEq)]
pub struct CurvePoints(Vec<(u8, u8)>);

impl CurvePoints {
    /// The curve through `points` (in any order; a repeated input keeps its first
    /// output), or `None` with fewer than two distinct inputs.
    pub fn new(mut points: Vec<(u8, u8)>) -> Option<Self> {
        points.sort_by_key(|p| p.0);
        points.dedup_by_key(|p| p.0);
        (points.len() >= 2).then_some(Self(points))
    }

    /// The points, inputs increasing.
    pub fn points(&self) -> &[(u8, u8)] {
        &self.0
    }

    /// `v` (`0.0..=255.0`) through the natural cubic spline of the points; flat beyond the
    /// end points, clamped to the 8-bit range.
    fn map(&self, v: f32) -> f32 {
        let xs: Vec<f32> = self.0.iter().map(|p| f32::from(p.0)).collect();
        let ys: Vec<f32> = self.0.iter().map(|p| f32::from(p.1)).collect();
        let n = xs.len();
        if v <= xs[0] {
            return ys[0];
        }
        if v >= xs[n - 1] {
            return ys[n - 1];
        }
        let m = second_derivatives(&xs, &ys);
        let i = xs.windows(2).position(|w| v <= w[1]).unwrap_or(n - 2);
        let h = xs[i + 1] - xs[i];
        let (a, b) = ((xs[i + 1] - v) / h, (v - xs[i]) / h);
        let y = a * ys[i]
            + b * ys[i + 1]
            + ((a * a * a - a) * m[i] + (b * b * b - b) * m[i + 1]) * h * h / 6.0;
        y.clamp(0.0, 255.0)
    }
}

/// The second derivatives at each knot of the natural cubic spline through `(xs, ys)`
/// (zero at both ends), by the tridiagonal (Thomas) solve.
fn second_derivatives(xs: &[f32], ys: &[f32]) -> Vec<f32> {
    let n = xs.len();
    let mut m = vec![0.0f32; n];
    if n < 3 {
        return m;
    }
    // Forward sweep over the interior knots 1..n-1.
    let mut c_prime = vec![0.0f32; n];
    let mut d_prime = vec![0.0f32; n];
    for i in 1..n - 1 {
        let (h0, h1) = (xs[i] - xs[i - 1], xs[i + 1] - xs[i]);
        let (a, b, c) = (h0, 2.0 * (h0 + h1), h1);
        let d = 6.0 * ((ys[i + 1] - ys[i]) / h1 - (ys[i] - ys[i - 1]) / h0);
        let denom = b - a * c_prime[i - 1];
        c_prime[i] = c / denom;
        d_prime[i] = (d - a * d_prime[i - 1]) / denom;
    }
    for i in (1..n - 1).rev() {
        m[i] = d_prime[i] - c_prime[i] * m[i + 1];
    }
    m
}

/// The power that takes an sRGB value to linear light for the exposure adjustment.
pub const EXPOSURE_GAMMA: f32 = 2.2;

/// `x` (`0.0..=255.0`) through an exposure adjustment's settings.
fn expose(x: f32, exposure: f32, offset: f32, gamma: f32) -> f32 {
    let linear = (x / 255.0).powf(EXPOSURE_GAMMA);
    let exposed = (linear * exposure.exp2() + offset).clamp(0.0, 1.0);
    // Photoshop's dialog allows gamma 0.01 to 9.99.
    let corrected = exposed.powf(1.0 / gamma.clamp(0.01, 9.99));
    corrected.powf(1.0 / EXPOSURE_GAMMA) * 255.0
}

/// Channel `channel` (0 red, 1 green, 2 blue) value `v` through a per-channel `kind`.
pub(super) fn map_channel(kind: &AdjustmentKind, channel: usize, v: u8) -> u8 {
    let x = f32::from(v);
    let out = match kind {
        AdjustmentKind::Invert => 255.0 - x,
        AdjustmentKind::Posterize { levels } => {
            // The 256 values fall into `levels` equal bins (value × levels / 256, rounded
            // down), each bin taking one of `levels` evenly spaced tones, whose values
            // Photoshop truncates (eight levels: 0, 36, 72, 109, 145, 182, 218, 255).
            let levels = f32::from((*levels).max(2));
            let bin = (x * levels / 256.0).floor();
            (bin * 255.0 / (levels - 1.0)).floor()
        }
        AdjustmentKind::Levels(records) => records[0].map(records[channel + 1].map(x)),
        AdjustmentKind::Curves(curves) => {
            let own = curves[channel + 1].as_ref().map_or(x, |c| c.map(x));
            curves[0].as_ref().map_or(own, |c| c.map(own))
        }
        AdjustmentKind::Exposure {
            exposure,
            offset,
            gamma,
        } => expose(x, *exposure, *offset, *gamma),
        // Looked up by luminosity or a matrix, not per channel (see `Adjustment::lookup`).
        AdjustmentKind::GradientMap(_)
        | AdjustmentKind::Threshold { .. }
        | AdjustmentKind::ChannelMixer { .. } => x,
    };
    out.round().clamp(0.0, 255.0) as u8
}
