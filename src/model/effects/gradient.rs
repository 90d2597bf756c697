//! The gradient of a gradient overlay: colour and opacity stops with midpoints, laid out
//! linearly, radially, reflected or as a diamond across the layer's box.

/// How the gradient runs across its box.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GradientShape {
    Linear,
    Radial,
    Reflected,
    Diamond,
}

/// The colour space stops are blended in (Photoshop's gradient "method").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interpolation {
    /// The stored sRGB values, as Photoshop did before 2022 ("Classic").
    Classic,
    /// Oklab ("Perceptual"), which the stored composites match.
    Perceptual,
    /// Linear light ("Linear").
    Linear,
}

/// One stop: where it sits (`0.0..=1.0`), its value, and the midpoint (`0.0..=1.0` of the
/// way to the next stop) where the blend toward that stop is half done.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stop<T> {
    pub at: f32,
    pub value: T,
    pub midpoint: f32,
}

/// A gradient overlay's gradient and geometry.
#[derive(Clone, Debug, PartialEq)]
pub struct Gradient {
    /// Colour stops, sorted by position; at least one.
    pub colors: Vec<Stop<[f32; 3]>>,
    /// Opacity stops (`0.0..=1.0`), sorted by position; at least one.
    pub opacities: Vec<Stop<f32>>,
    pub shape: GradientShape,
    /// Direction in degrees, Photoshop's: 90 runs from the bottom (start) to the top.
    pub angle: f32,
    /// Length relative to the box (`1.0` spans it).
    pub scale: f32,
    pub reverse: bool,
    pub interpolation: Interpolation,
    /// Photoshop's "Smoothness" (`0.0..=1.0`): how far each blend between two stops eases
    /// in and out instead of running linearly.
    pub smoothness: f32,
}

/// Entries of [`Gradient::table`]: finer than 8-bit output can show.
pub const TABLE_SIZE: usize = 1024;

impl Gradient {
    /// The gradient laid over the box `(x0, y0, x1, y1)` (the layer's, on the canvas).
    pub fn over(&self, (x0, y0, x1, y1): (f32, f32, f32, f32)) -> Layout {
        let radians = self.angle.to_radians();
        let (dx, dy) = (radians.cos(), -radians.sin());
        let (w, h) = (x1 - x0, y1 - y0);
        // The box's extent along the direction: a linear gradient spans it end to end.
        let length = ((w * dx).abs() + (h * dy).abs()).max(1.0) * self.scale.max(0.01);
        Layout {
            center: ((x0 + x1) / 2.0, (y0 + y1) / 2.0),
            direction: (dx, dy),
            length,
            shape: self.shape,
            reverse: self.reverse,
        }
    }

    /// Colour (sRGB, `0.0..=1.0`) and opacity at [`TABLE_SIZE`] even steps of the
    /// position, so that a large layer blends its stops once, not per pixel.
    pub fn table(&self) -> Vec<([f32; 3], f32)> {
        let space = self.interpolation;
        let colors: Vec<Stop<[f32; 3]>> = self
            .colors
            .iter()
            .map(|s| Stop {
                value: to_space(s.value, space),
                ..*s
            })
            .collect();
        (0..TABLE_SIZE)
            .map(|i| {
                let t = i as f32 / (TABLE_SIZE - 1) as f32;
                let smooth = |u: f32| ease(u, self.smoothness);
                let color = interpolate(&colors, t, [0.0; 3], |a, b, u| {
                    let u = smooth(u);
                    [
                        a[0] + (b[0] - a[0]) * u,
                        a[1] + (b[1] - a[1]) * u,
                        a[2] + (b[2] - a[2]) * u,
                    ]
                });
                let opacity =
                    interpolate(&self.opacities, t, 1.0, |a, b, u| a + (b - a) * smooth(u));
                (from_space(color, space), opacity)
            })
            .collect()
    }
}

/// A gradient placed over a box: what [`Layout::position`] needs per pixel, computed once.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    center: (f32, f32),
    direction: (f32, f32),
    length: f32,
    shape: GradientShape,
    reverse: bool,
}

impl Layout {
    /// Where canvas point (`x`, `y`) (pixel centres) falls along the gradient: `0.0` at
    /// the first stop, `1.0` at the last.
    pub fn position(&self, x: f32, y: f32) -> f32 {
        let (dx, dy) = self.direction;
        let (px, py) = (x - self.center.0, y - self.center.1);
        let along = px * dx + py * dy;
        let half = self.length / 2.0;
        let t = match self.shape {
            GradientShape::Linear => 0.5 + along / self.length,
            GradientShape::Reflected => (along / half).abs(),
            GradientShape::Radial => (px * px + py * py).sqrt() / half,
            GradientShape::Diamond => {
                let across = -px * dy + py * dx;
                (along.abs() + across.abs()) / half
            }
        };
        let t = t.clamp(0.0, 1.0);
        if self.reverse { 1.0 - t } else { t }
    }
}

/// `u` eased by `smoothness`: at full smoothness halfway between linear and smoothstep,
/// which is what the composite of ag-psd's read-write/gradient-mode file shows (fitted
/// along its gradient; smoothstep alone overshoots).
fn ease(u: f32, smoothness: f32) -> f32 {
    let smoothstep = u * u * (3.0 - 2.0 * u);
    u + 0.5 * smoothness.clamp(0.0, 1.0) * (smoothstep - u)
}

/// sRGB (`0.0..=1.0`) to the interpolation space.
fn to_space(rgb: [f32; 3], space: Interpolation) -> [f32; 3] {
    match space {
        Interpolation::Classic => rgb,
        Interpolation::Linear => rgb.map(to_linear),
        Interpolation::Perceptual => oklab(rgb.map(to_linear)),
    }
}

/// The interpolation space back to sRGB (`0.0..=1.0`).
fn from_space(value: [f32; 3], space: Interpolation) -> [f32; 3] {
    let rgb = match space {
        Interpolation::Classic => value,
        Interpolation::Linear => value.map(to_srgb),
        Interpolation::Perceptual => oklab_to_linear(value).map(to_srgb),
    };
    rgb.map(|c| c.clamp(0.0, 1.0))
}

/// The sRGB transfer function's inverse (IEC 61966-2-1).
fn to_linear(c: f32) -> f32 {
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

fn to_srgb(c: f32) -> f32 {
    let c = c.max(0.0);
    if c <= 0.003_130_8 {
        12.92 * c
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    }
}

/// Linear sRGB to Oklab (Björn Ottosson's published matrices).
fn oklab([r, g, b]: [f32; 3]) -> [f32; 3] {
    let l = (0.412_221_46 * r + 0.536_332_55 * g + 0.051_445_995 * b).cbrt();
    let m = (0.211_903_5 * r + 0.680_699_5 * g + 0.107_396_96 * b).cbrt();
    let s = (0.088_302_46 * r + 0.281_718_85 * g + 0.629_978_7 * b).cbrt();
    [
        0.210_454_26 * l + 0.793_617_8 * m - 0.004_072_047 * s,
        1.977_998_5 * l - 2.428_592_2 * m + 0.450_593_7 * s,
        0.025_904_037 * l + 0.782_771_77 * m - 0.808_675_77 * s,
    ]
}

/// Oklab back to linear sRGB.
fn oklab_to_linear([l, a, b]: [f32; 3]) -> [f32; 3] {
    let l_ = (l + 0.396_337_78 * a + 0.215_803_76 * b).powi(3);
    let m_ = (l - 0.105_561_346 * a - 0.063_854_17 * b).powi(3);
    let s_ = (l - 0.089_484_18 * a - 1.291_485_5 * b).powi(3);
    [
        4.076_741_7 * l_ - 3.307_711_6 * m_ + 0.230_969_94 * s_,
        -1.268_438 * l_ + 2.609_757_4 * m_ - 0.341_319_38 * s_,
        -0.004_196_086_3 * l_ - 0.703_418_6 * m_ + 1.707_614_7 * s_,
    ]
}

/// The value of `stops` at `t`, blending neighbours with their midpoint.
/// `empty` when there are no stops (the reader refuses such gradients).
fn interpolate<T: Copy>(stops: &[Stop<T>], t: f32, empty: T, mix: impl Fn(T, T, f32) -> T) -> T {
    let (Some(first), Some(last)) = (stops.first(), stops.last()) else {
        return empty;
    };
    if t <= first.at {
        return first.value;
    }
    if t >= last.at {
        return last.value;
    }
    for pair in stops.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if t <= b.at {
            let span = (b.at - a.at).max(f32::EPSILON);
            let u = (t - a.at) / span;
            let m = a.midpoint.clamp(0.01, 0.99);
            // The midpoint maps to half: two linear pieces either side of it.
            let u = if u < m {
                0.5 * u / m
            } else {
                0.5 + 0.5 * (u - m) / (1.0 - m)
            };
            return mix(a.value, b.value, u);
        }
    }
    last.value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_stops(shape: GradientShape) -> Gradient {
        let stop = |at, value| Stop {
            at,
            value,
            midpoint: 0.5,
        };
        Gradient {
            colors: vec![stop(0.0, [0.0; 3]), stop(1.0, [1.0; 3])],
            opacities: vec![Stop {
                at: 0.0,
                value: 1.0,
                midpoint: 0.5,
            }],
            shape,
            angle: 90.0,
            scale: 1.0,
            reverse: false,
            interpolation: Interpolation::Classic,
            smoothness: 0.0,
        }
    }

    /// The colour at canvas point (`x`, `y`), through the table.
    fn at(g: &Gradient, x: f32, y: f32, bx: (f32, f32, f32, f32)) -> ([f32; 3], f32) {
        let table = g.table();
        let t = g.over(bx).position(x, y);
        table[(t * (TABLE_SIZE - 1) as f32).round() as usize]
    }

    #[test]
    fn linear_at_ninety_degrees_runs_bottom_to_top() {
        let g = two_stops(GradientShape::Linear);
        let bx = (0.0, 0.0, 10.0, 100.0);
        assert!(at(&g, 5.0, 99.5, bx).0[0] < 0.01, "start at the bottom");
        assert!(at(&g, 5.0, 0.5, bx).0[0] > 0.99, "end at the top");
        assert!((at(&g, 5.0, 50.0, bx).0[0] - 0.5).abs() < 0.01);
        let reversed = Gradient { reverse: true, ..g };
        assert!(at(&reversed, 5.0, 99.5, bx).0[0] > 0.99);
    }

    #[test]
    fn radial_grows_from_the_centre_and_midpoints_bend() {
        let mut g = two_stops(GradientShape::Radial);
        let bx = (0.0, 0.0, 100.0, 100.0);
        assert!(at(&g, 50.0, 50.0, bx).0[0] < 0.01);
        assert!(at(&g, 50.0, 0.0, bx).0[0] > 0.99);
        g.colors[0].midpoint = 0.25;
        let quarter = at(&g, 50.0, 50.0 - 12.5, bx).0[0];
        assert!((quarter - 0.5).abs() < 0.02, "{quarter}");
    }

    #[test]
    fn smoothness_eases_halfway_to_smoothstep() {
        let mut g = two_stops(GradientShape::Linear);
        let bx = (0.0, 0.0, 10.0, 100.0);
        // A quarter of the way up from the bottom: t = 0.25.
        let linear = at(&g, 5.0, 75.0, bx).0[0];
        g.smoothness = 1.0;
        let smooth = at(&g, 5.0, 75.0, bx).0[0];
        assert!((linear - 0.25).abs() < 0.01, "{linear}");
        // 0.25 + (0.15625 - 0.25) / 2
        assert!((smooth - 0.203).abs() < 0.01, "{smooth}");
    }

    #[test]
    fn perceptual_blends_in_oklab() {
        // Orange to blue: the middle is a neutral grey-green in Oklab (the stored composite
        // of ag-psd's read-write/gradient-mode file shows (152, 156, 151) there), and a
        // darker green in plain sRGB.
        let mut g = two_stops(GradientShape::Linear);
        g.colors[0].value = [225.0 / 255.0, 153.4 / 255.0, 51.2 / 255.0];
        g.colors[1].value = [41.7 / 255.0, 144.8 / 255.0, 217.0 / 255.0];
        let bx = (0.0, 0.0, 10.0, 100.0);
        let classic = at(&g, 5.0, 50.0, bx).0.map(|c| c * 255.0);
        g.interpolation = Interpolation::Perceptual;
        let perceptual = at(&g, 5.0, 50.0, bx).0.map(|c| c * 255.0);
        assert!((classic[0] - 133.0).abs() < 2.0, "{classic:?}");
        for (got, want) in perceptual.iter().zip([150.0, 155.6, 152.2]) {
            assert!((got - want).abs() < 2.0, "{perceptual:?}");
        }
    }
}
