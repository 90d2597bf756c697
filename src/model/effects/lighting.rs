//! Bevel & Emboss and Satin, after Photoshop's documented behaviour.
//!
//! A bevel treats the layer's shape as a relief: the shape blurred over the bevel's size
//! is a height map (Photoshop's "smooth" technique), scaled by the depth. Each pixel's
//! surface normal is lit by a light at the effect's angle and altitude; where the surface
//! faces the light more than flat ground does, the highlight shows, and where less, the
//! shadow. The two halves are separate planes with their own colour, mode and opacity.
//! The style says where the relief lies: inside the edge (inner bevel), outside it (outer
//! bevel), across it (emboss), or across it with the outside sunk (pillow emboss).
//!
//! Satin is the shape's interior shading: two copies of the shape, moved `distance` pixels
//! either way along the angle and blurred by the size, differ near the edges facing that
//! direction; the difference, mapped through the contour (optionally inverted) and kept
//! inside the shape, is the satin's alpha.

use super::raster::Field;

/// Where a bevel's relief lies relative to the layer's edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BevelStyle {
    Inner,
    Outer,
    Emboss,
    Pillow,
}

/// One half of a bevel (its highlight or its shadow), with the relief's geometry in pixels.
#[derive(Clone, Debug, PartialEq)]
pub struct Bevel {
    pub style: BevelStyle,
    /// Relief height per pixel of size: 1.0 is Photoshop's 100 %.
    pub depth: f32,
    /// Direction "up" (raised); false sinks the relief.
    pub up: bool,
    pub size: f32,
    /// Blur of the lighting, in pixels.
    pub soften: f32,
    /// The light's direction in degrees (90 is from above) and its height over the ground.
    pub angle: f32,
    pub altitude: f32,
    /// True for the highlight half, false for the shadow half.
    pub highlight: bool,
}

impl Bevel {
    /// How far beyond the layer the bevel reaches.
    pub(super) fn reach(&self) -> f32 {
        match self.style {
            BevelStyle::Inner => self.soften,
            _ => 2.0 * self.size + self.soften,
        }
    }

    /// The alpha of this half over the shape's field.
    pub(super) fn alpha(&self, shape: &Field) -> Field {
        let height = shape.blurred(self.size, 0.0);
        let scale = self.size * self.depth * if self.up { 1.0 } else { -1.0 };
        let (azimuth, altitude) = (self.angle.to_radians(), self.altitude.to_radians());
        // Toward the light; canvas y grows downward, so a light from above has −y.
        let light = [
            altitude.cos() * azimuth.cos(),
            -altitude.cos() * azimuth.sin(),
            altitude.sin(),
        ];
        let flat = light[2];
        let (w, h) = (shape.width, shape.height);
        let mut out = Field::filled(w, h, 0.0);
        let at = |x: usize, y: usize| height.values[y * w + x];
        for y in 0..h {
            for x in 0..w {
                let a = shape.values[y * w + x];
                // Where the relief shows, and which way it faces there.
                let (weight, sign) = match self.style {
                    BevelStyle::Inner => (a, 1.0),
                    BevelStyle::Outer => (1.0 - a, 1.0),
                    BevelStyle::Emboss => (1.0, 1.0),
                    BevelStyle::Pillow => (1.0, if a >= 0.5 { 1.0 } else { -1.0 }),
                };
                if weight <= 0.0 {
                    continue;
                }
                // Central differences (one-sided at the field's border).
                let (xl, xr) = (x.saturating_sub(1), (x + 1).min(w - 1));
                let (yt, yb) = (y.saturating_sub(1), (y + 1).min(h - 1));
                let k = scale * sign;
                let gx = k * (at(xr, y) - at(xl, y)) / (xr - xl).max(1) as f32;
                let gy = k * (at(x, yb) - at(x, yt)) / (yb - yt).max(1) as f32;
                let norm = (gx * gx + gy * gy + 1.0).sqrt();
                let lit = (-gx * light[0] - gy * light[1] + light[2]) / norm;
                let amount = if self.highlight {
                    ((lit - flat) / (1.0 - flat).max(1e-3)).clamp(0.0, 1.0)
                } else {
                    ((flat - lit) / flat.max(1e-3)).clamp(0.0, 1.0)
                };
                out.values[y * w + x] = amount * weight;
            }
        }
        if self.soften > 0.0 {
            out.blurred(self.soften, 0.0)
        } else {
            out
        }
    }
}

/// A satin's geometry and contour.
#[derive(Clone, Debug, PartialEq)]
pub struct Satin {
    pub angle: f32,
    pub distance: f32,
    pub size: f32,
    pub invert: bool,
    /// The contour: (input, output) points in `0.0..=1.0`, by increasing input; empty is
    /// linear.
    pub contour: Vec<(f32, f32)>,
}

impl Satin {
    /// The satin's alpha over the shape's field.
    pub(super) fn alpha(&self, shape: &Field) -> Field {
        let radians = self.angle.to_radians();
        let dx = (self.distance * radians.cos()).round() as i64;
        let dy = (-self.distance * radians.sin()).round() as i64;
        let one = shape.shifted(dx, dy, 0.0).blurred(self.size, 0.0);
        let other = shape.shifted(-dx, -dy, 0.0).blurred(self.size, 0.0);
        let difference = one.zip(&other, |a, b| (a - b).abs());
        difference.zip(shape, |d, a| {
            let v = contour(&self.contour, d);
            (if self.invert { 1.0 - v } else { v }) * a
        })
    }
}

/// `curve` at `t`, linear between its points (and the identity without points).
pub fn contour(curve: &[(f32, f32)], t: f32) -> f32 {
    let t = t.clamp(0.0, 1.0);
    let Some(&(x0, y0)) = curve.first() else {
        return t;
    };
    if t <= x0 {
        return y0;
    }
    for pair in curve.windows(2) {
        let ((xa, ya), (xb, yb)) = (pair[0], pair[1]);
        if t <= xb {
            let u = if xb > xa { (t - xa) / (xb - xa) } else { 1.0 };
            return ya + (yb - ya) * u;
        }
    }
    curve.last().map_or(t, |&(_, y)| y)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disc(size: usize, radius: f32) -> Field {
        let mut field = Field::filled(size, size, 0.0);
        let c = size as f32 / 2.0;
        for y in 0..size {
            for x in 0..size {
                let d = ((x as f32 + 0.5 - c).powi(2) + (y as f32 + 0.5 - c).powi(2)).sqrt();
                field.values[y * size + x] = (radius - d + 0.5).clamp(0.0, 1.0);
            }
        }
        field
    }

    fn bevel(style: BevelStyle, up: bool, highlight: bool) -> Bevel {
        Bevel {
            style,
            depth: 1.0,
            up,
            size: 5.0,
            soften: 0.0,
            angle: 90.0,
            altitude: 30.0,
            highlight,
        }
    }

    #[test]
    fn a_raised_inner_bevel_lights_the_edge_facing_the_light() {
        let shape = disc(40, 14.0);
        let at = |f: &Field, x: usize, y: usize| f.values[y * 40 + x];
        let light = bevel(BevelStyle::Inner, true, true).alpha(&shape);
        let dark = bevel(BevelStyle::Inner, true, false).alpha(&shape);
        // The light is above: the top edge is lit, the bottom edge shaded, the flat middle
        // neither, and nothing falls outside the shape.
        assert!(at(&light, 20, 8) > 0.3 && at(&dark, 20, 8) == 0.0);
        assert!(at(&dark, 20, 32) > 0.3 && at(&light, 20, 32) == 0.0);
        assert!(at(&light, 20, 20) < 0.05 && at(&dark, 20, 20) < 0.05);
        assert_eq!(at(&light, 20, 2), 0.0);
        // Sunk, the edges swap.
        let sunk = bevel(BevelStyle::Inner, false, true).alpha(&shape);
        assert!(at(&sunk, 20, 32) > 0.3 && at(&sunk, 20, 8) == 0.0);
    }

    #[test]
    fn an_outer_bevel_lies_outside_and_an_emboss_across_the_edge() {
        let shape = disc(40, 12.0);
        let at = |f: &Field, x: usize, y: usize| f.values[y * 40 + x];
        let outer = bevel(BevelStyle::Outer, true, true).alpha(&shape);
        assert!(at(&outer, 20, 6) > 0.2, "lit just outside the top edge");
        assert_eq!(at(&outer, 20, 12), 0.0, "nothing inside");
        let emboss = bevel(BevelStyle::Emboss, true, true).alpha(&shape);
        assert!(at(&emboss, 20, 6) > 0.2 && at(&emboss, 20, 10) > 0.2);
        // A pillow sinks the outside: lit below the bottom edge instead of above the top.
        let pillow = bevel(BevelStyle::Pillow, true, true).alpha(&shape);
        assert!(at(&pillow, 20, 34) > 0.2 && at(&pillow, 20, 6) == 0.0);
    }

    #[test]
    fn satin_shades_inside_the_shape_and_inverts() {
        let shape = disc(40, 14.0);
        let satin = Satin {
            angle: 0.0,
            distance: 6.0,
            size: 4.0,
            invert: false,
            contour: Vec::new(),
        };
        let plain = satin.alpha(&shape);
        let at = |f: &Field, x: usize, y: usize| f.values[y * 40 + x];
        // Copies moved sideways differ at the left and right edges, not in the middle.
        assert!(at(&plain, 9, 20) > 0.5 && at(&plain, 20, 20) < 0.05);
        assert_eq!(at(&plain, 2, 20), 0.0, "nothing outside");
        let inverted = Satin {
            invert: true,
            ..satin
        }
        .alpha(&shape);
        assert!(at(&inverted, 20, 20) > 0.95);
    }

    #[test]
    fn contour_is_linear_between_points() {
        let curve = [(0.0, 0.0), (0.5, 0.8), (1.0, 1.0)];
        assert!((contour(&curve, 0.25) - 0.4).abs() < 1e-6);
        assert!((contour(&curve, 0.75) - 0.9).abs() < 1e-6);
        assert_eq!(contour(&[], 0.3), 0.3);
    }
}
