//! Synthetic layered scenes with ground truth, for scoring decompositions.
//!
//! A [`Scene`] is a stack of full-canvas, straight-alpha RGBA layers, bottom first, whose
//! composite (the reference compositor, Normal blend) is the flat picture a method gets.
//! Everything is drawn from a seed, so a scene is the same on every machine and run.
//!
//! Layer kinds, each drawn with signed distance functions and anti-aliased or feathered edges:
//! - backgrounds: an opaque two-colour gradient with low-frequency noise texture, or a
//!   "photo" texture (fractal value noise mixing two colours under a gradient);
//! - shapes: ellipses, rounded rectangles and star/convex polygons, rotated, with solid or
//!   gradient fills and one-pixel anti-aliasing;
//! - text-like layers: lines of block glyphs (two to four capsule strokes per glyph, words
//!   separated by spaces), as graphic designs have — no font rasteriser is a dependency;
//! - photo cut-outs: textured patches (fractal noise colour, shading) under a noise-warped
//!   blob with a feathered (soft) alpha edge, as a matted photo object has.

use super::draw::{self, Noise, Rng, coverage, local, mix};
use crate::model::pixels::to_u8;
use crate::model::{Document, RgbaImage, composite};

/// What a scene contains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SceneKind {
    /// Gradient background + an ellipse, a rounded rectangle and a polygon (4 layers).
    Shapes,
    /// A graphic design: light background, a panel, a badge, a text block (4 layers).
    Design,
    /// A photo-textured background with two soft-edged photo cut-outs (3 layers).
    Photo,
    /// Photo background, a cut-out, a shape and a caption (4 layers).
    Mixed,
    /// A design of clip art, cards and text over a flat colour ([`super::designs`]).
    FlatDesign,
    /// A design over a linear or radial gradient ([`super::designs`]).
    GradientDesign,
    /// A design over a photo crop ([`super::designs`]).
    PhotoDesign,
    /// A real layered file (the PSD corpus of `strata bench decompose --set psd-corpus`).
    Psd,
}

impl SceneKind {
    /// Every kind; [`suite`] cycles through them in this order.
    pub const ALL: [SceneKind; 4] = [Self::Shapes, Self::Design, Self::Photo, Self::Mixed];

    /// The background kinds of the designs set, in recipe order.
    pub const DESIGNS: [SceneKind; 3] = [Self::FlatDesign, Self::GradientDesign, Self::PhotoDesign];

    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::Shapes => "shapes",
            Self::Design => "design",
            Self::Photo => "photo",
            Self::Mixed => "mixed",
            Self::FlatDesign => "flat",
            Self::GradientDesign => "gradient",
            Self::PhotoDesign => "photo bg",
            Self::Psd => "psd",
        }
    }
}

/// A layered picture with its ground truth.
#[derive(Clone, Debug)]
pub struct Scene {
    pub kind: SceneKind,
    pub seed: u64,
    /// Full-canvas straight-alpha layers, bottom first; the bottom one is opaque.
    pub layers: Vec<RgbaImage>,
    /// One name per layer.
    pub names: Vec<String>,
}

impl Scene {
    /// Canvas width and height.
    pub fn size(&self) -> (u32, u32) {
        self.layers.first().map_or((0, 0), |l| l.dimensions())
    }

    /// The layers as a document (Normal blend, full opacity, at the origin).
    pub fn document(&self) -> Document {
        let (w, h) = self.size();
        let mut doc = Document::new(w, h);
        for (name, layer) in self.names.iter().zip(&self.layers) {
            doc.push_layer(name.clone(), layer.clone());
        }
        doc
    }

    /// The flat picture: every layer composited "over" by the reference compositor.
    pub fn composite(&self) -> RgbaImage {
        composite(&self.document())
    }
}

/// Draws the scene of `kind` for `seed` on a `size` canvas.
pub fn scene(kind: SceneKind, seed: u64, size: (u32, u32)) -> Scene {
    let mut rng = draw::scene_rng(seed.wrapping_mul(31).wrapping_add(kind as u64));
    let mut layers: Vec<(String, RgbaImage)> = Vec::new();
    match kind {
        SceneKind::Shapes => {
            layers.push(("background".into(), gradient_background(&mut rng, size)));
            let mut order = [Shape::Ellipse, Shape::RoundedRect, Shape::Polygon];
            let first = rng.below(3);
            order.swap(0, first);
            for shape in order {
                layers.push((shape.name().into(), shape_layer(&mut rng, size, shape)));
            }
        }
        SceneKind::Design => {
            layers.push(("background".into(), gradient_background(&mut rng, size)));
            layers.push(("panel".into(), panel_layer(&mut rng, size)));
            let badge = if rng.unit() < 0.5 {
                Shape::Ellipse
            } else {
                Shape::Polygon
            };
            layers.push(("badge".into(), shape_layer(&mut rng, size, badge)));
            layers.push(("text".into(), text_layer(&mut rng, size, 3)));
        }
        SceneKind::Photo => {
            layers.push(("background".into(), photo_background(&mut rng, size)));
            layers.push(("cut-out 1".into(), cutout_layer(&mut rng, size)));
            layers.push(("cut-out 2".into(), cutout_layer(&mut rng, size)));
        }
        // The kinds of other sets have no procedural recipe: they draw the mixed scene.
        SceneKind::Mixed
        | SceneKind::FlatDesign
        | SceneKind::GradientDesign
        | SceneKind::PhotoDesign
        | SceneKind::Psd => {
            layers.push(("background".into(), photo_background(&mut rng, size)));
            layers.push(("cut-out".into(), cutout_layer(&mut rng, size)));
            let shape = [Shape::Ellipse, Shape::RoundedRect, Shape::Polygon][rng.below(3)];
            layers.push((shape.name().into(), shape_layer(&mut rng, size, shape)));
            layers.push(("caption".into(), text_layer(&mut rng, size, 2)));
        }
    }
    let (names, layers) = layers.into_iter().unzip();
    Scene {
        kind,
        seed,
        layers,
        names,
    }
}

/// `count` scenes cycling through [`SceneKind::ALL`], seeds `seed, seed + 1, …`.
pub fn suite(count: usize, seed: u64, size: (u32, u32)) -> Vec<Scene> {
    (0..count)
        .map(|i| {
            let kind = SceneKind::ALL[i % SceneKind::ALL.len()];
            scene(kind, seed.wrapping_add(i as u64), size)
        })
        .collect()
}

/// Paints a full-canvas layer from `f(x, y) -> (coverage, straight colour)` at pixel centres.
fn paint(size: (u32, u32), f: impl Fn(f32, f32) -> (f32, [f32; 3])) -> RgbaImage {
    RgbaImage::from_fn(size.0, size.1, |x, y| {
        let (cov, rgb) = f(x as f32 + 0.5, y as f32 + 0.5);
        let alpha = to_u8(cov);
        if alpha == 0 {
            return image::Rgba([0, 0, 0, 0]);
        }
        let c = rgb.map(to_u8);
        image::Rgba([c[0], c[1], c[2], alpha])
    })
}

fn min_side(size: (u32, u32)) -> f32 {
    size.0.min(size.1).max(1) as f32
}

/// A random point with `margin` (fraction of the canvas) kept free at the edges.
fn place(rng: &mut Rng, size: (u32, u32), margin: f32) -> (f32, f32) {
    let (w, h) = (size.0 as f32, size.1 as f32);
    (
        rng.range(w * margin, w * (1.0 - margin)),
        rng.range(h * margin, h * (1.0 - margin)),
    )
}

/// A linear ramp parameter `0..1` along direction `angle` across the canvas.
fn ramp(size: (u32, u32), angle: f32) -> impl Fn(f32, f32) -> f32 {
    let (s, c) = angle.sin_cos();
    let (w, h) = (size.0 as f32, size.1 as f32);
    let span = (w * c.abs() + h * s.abs()).max(1.0);
    move |x, y| ((x - w / 2.0) * c + (y - h / 2.0) * s) / span + 0.5
}

fn gradient_background(rng: &mut Rng, size: (u32, u32)) -> RgbaImage {
    let (a, b) = (draw::colour(rng, 0.35, 0.9), draw::colour(rng, 0.5, 0.7));
    let t = ramp(size, rng.range(0.0, std::f32::consts::TAU));
    let noise = Noise::new(rng, 3, 3, size);
    paint(size, |x, y| {
        let shade = 1.0 + 0.16 * (noise.at(x, y) - 0.5);
        (1.0, mix(a, b, t(x, y)).map(|v| v * shade))
    })
}

fn photo_background(rng: &mut Rng, size: (u32, u32)) -> RgbaImage {
    let (sky, ground) = (draw::colour(rng, 0.45, 0.85), draw::colour(rng, 0.6, 0.45));
    let t = ramp(size, rng.range(1.2, 1.9));
    let noise = Noise::new(rng, 6, 5, size);
    paint(size, |x, y| {
        let n = noise.at(x, y);
        let c = mix(sky, ground, (t(x, y) + 1.2 * (n - 0.5)).clamp(0.0, 1.0));
        (1.0, c.map(|v| v * (0.7 + 0.6 * n)))
    })
}

/// The shapes a shape layer can be.
#[derive(Clone, Copy, Debug)]
enum Shape {
    Ellipse,
    RoundedRect,
    Polygon,
}

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::Ellipse => "ellipse",
            Shape::RoundedRect => "rounded rectangle",
            Shape::Polygon => "polygon",
        }
    }
}

fn shape_layer(rng: &mut Rng, size: (u32, u32), shape: Shape) -> RgbaImage {
    let side = min_side(size);
    let centre = place(rng, size, 0.22);
    let angle = rng.range(0.0, std::f32::consts::PI);
    let r = (rng.range(0.12, 0.24) * side, rng.range(0.12, 0.24) * side);
    let corner = rng.range(0.05, 0.4) * r.0.min(r.1);
    let points: Vec<(f32, f32)> = match shape {
        Shape::Polygon => {
            let n = 5 + rng.below(3);
            let star = rng.unit() < 0.5;
            (0..n * if star { 2 } else { 1 })
                .map(|i| {
                    let k = if star { 2 * n } else { n };
                    let a = i as f32 / k as f32 * std::f32::consts::TAU;
                    let len = if star && i % 2 == 1 { 0.5 } else { 1.0 } * rng.range(0.85, 1.0);
                    (a.cos() * r.0 * len, a.sin() * r.0 * len)
                })
                .collect()
        }
        _ => Vec::new(),
    };
    let (c0, c1) = (draw::colour(rng, 0.7, 0.85), draw::colour(rng, 0.7, 0.6));
    let gradient = rng.unit() < 0.5;
    let t = ramp(size, angle);
    paint(size, move |x, y| {
        let p = local((x, y), centre, angle);
        let sd = match shape {
            Shape::Ellipse => draw::ellipse(p, r),
            Shape::RoundedRect => draw::rounded_rect(p, r, corner),
            Shape::Polygon => draw::polygon(p, &points),
        };
        let fill = if gradient { mix(c0, c1, t(x, y)) } else { c0 };
        (coverage(sd, 1.0), fill)
    })
}

/// A large rounded panel, as designs put behind text.
fn panel_layer(rng: &mut Rng, size: (u32, u32)) -> RgbaImage {
    let (w, h) = (size.0 as f32, size.1 as f32);
    let half = (rng.range(0.25, 0.38) * w, rng.range(0.22, 0.35) * h);
    let centre = (
        rng.range(half.0, (w - half.0).max(half.0)),
        rng.range(half.1, (h - half.1).max(half.1)),
    );
    let radius = rng.range(0.0, 0.15) * min_side(size);
    let value = rng.range(0.3, 0.95);
    let fill = draw::colour(rng, 0.6, value);
    paint(size, move |x, y| {
        let sd = draw::rounded_rect((x - centre.0, y - centre.1), half, radius);
        (coverage(sd, 1.0), fill)
    })
}

/// Lines of block glyphs: each glyph is 2–4 capsule strokes between fixed anchor points.
fn text_layer(rng: &mut Rng, size: (u32, u32), max_lines: usize) -> RgbaImage {
    let glyph_h = (0.07 * min_side(size)).max(8.0);
    let advance = glyph_h * 0.75;
    let line_h = glyph_h * 1.6;
    let stroke = (glyph_h * 0.14).max(1.3);
    let lines = 1 + rng.below(max_lines.max(1));
    let per_line = ((size.0 as f32 * rng.range(0.4, 0.75)) / advance).max(3.0) as usize;
    let left = rng.range(0.05, 0.25) * size.0 as f32;
    let top = rng
        .range(0.1, 0.9 - lines as f32 * line_h / size.1.max(1) as f32)
        .max(0.02)
        * size.1 as f32;
    // Anchors in the glyph cell (fractions of advance × glyph height) and the strokes
    // between them a glyph picks from: verticals, bars, diagonals, a half stem.
    const ANCHORS: [(f32, f32); 6] = [
        (0.1, 0.0),
        (0.7, 0.0),
        (0.1, 0.5),
        (0.7, 0.5),
        (0.1, 1.0),
        (0.7, 1.0),
    ];
    const STROKES: [(usize, usize); 9] = [
        (0, 4),
        (1, 5),
        (0, 1),
        (2, 3),
        (4, 5),
        (0, 5),
        (1, 4),
        (3, 5),
        (2, 4),
    ];
    let glyphs: Vec<Vec<(usize, usize)>> = (0..lines * per_line)
        .map(|i| {
            let in_line = i % per_line;
            if in_line > 0 && in_line + 1 < per_line && rng.unit() < 0.16 {
                return Vec::new(); // a space between words
            }
            let mut strokes: Vec<(usize, usize)> = Vec::new();
            while strokes.len() < 2 + rng.below(3) {
                let s = STROKES[rng.below(STROKES.len())];
                if !strokes.contains(&s) {
                    strokes.push(s);
                }
            }
            strokes
        })
        .collect();
    let colour = if rng.unit() < 0.5 {
        draw::hsv(rng.unit(), 0.3, 0.12)
    } else {
        draw::hsv(rng.unit(), 0.1, 0.97)
    };
    paint(size, move |x, y| {
        let (lx, ly) = (x - left, y - top);
        if lx < -stroke || ly < -stroke {
            return (0.0, colour);
        }
        let line = (ly / line_h).floor().max(0.0) as usize;
        let cell = (lx / advance).floor().max(0.0) as usize;
        if line >= lines || cell >= per_line {
            return (0.0, colour);
        }
        let origin = (cell as f32 * advance, line as f32 * line_h);
        let p = (lx - origin.0, ly - origin.1);
        let at = |k: usize| (ANCHORS[k].0 * advance, ANCHORS[k].1 * glyph_h);
        let sd = glyphs[line * per_line + cell]
            .iter()
            .map(|&(a, b)| draw::segment(p, at(a), at(b)) - stroke / 2.0)
            .fold(f32::INFINITY, f32::min);
        (coverage(sd, 1.0), colour)
    })
}

/// A textured patch under a noise-warped blob with a feathered edge.
fn cutout_layer(rng: &mut Rng, size: (u32, u32)) -> RgbaImage {
    let side = min_side(size);
    let centre = place(rng, size, 0.25);
    let r = (rng.range(0.14, 0.24) * side, rng.range(0.14, 0.24) * side);
    let angle = rng.range(0.0, std::f32::consts::PI);
    let feather = (0.035 * side).max(3.0);
    let warp = Noise::new(rng, 4, 2, size);
    let texture = Noise::new(rng, 10, 4, size);
    let (base, accent) = (draw::colour(rng, 0.65, 0.75), draw::colour(rng, 0.55, 0.45));
    let shade = ramp(size, rng.range(0.0, std::f32::consts::TAU));
    paint(size, move |x, y| {
        let p = local((x, y), centre, angle);
        let sd = draw::ellipse(p, r) + (warp.at(x, y) - 0.5) * 0.5 * r.0.min(r.1);
        let n = texture.at(x, y);
        let c = mix(base, accent, (2.0 * n - 0.5).clamp(0.0, 1.0));
        let light = 0.75 + 0.4 * shade(x, y);
        (coverage(sd, feather), c.map(|v| v * light))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pixels::AlphaStats;

    #[test]
    fn scenes_are_deterministic_and_well_formed() {
        for kind in SceneKind::ALL {
            let a = scene(kind, 11, (96, 64));
            let b = scene(kind, 11, (96, 64));
            assert_eq!(a.layers, b.layers, "{kind:?}");
            assert_eq!(a.layers.len(), a.names.len());
            assert!(a.layers.len() >= 3);
            assert!(a.layers.iter().all(|l| l.dimensions() == (96, 64)));
            assert!(
                AlphaStats::of(&a.layers[0]).is_opaque(),
                "opaque background"
            );
            for (name, layer) in a.names.iter().zip(&a.layers).skip(1) {
                let covered = AlphaStats::of(layer).visible;
                assert!(covered > 20, "{kind:?} {name}: {covered} px");
                assert!(covered < 96 * 64, "{kind:?} {name} covers everything");
            }
            assert!(AlphaStats::of(&a.composite()).is_opaque());
        }
        assert_ne!(
            scene(SceneKind::Photo, 1, (64, 64)).layers,
            scene(SceneKind::Photo, 2, (64, 64)).layers
        );
    }

    #[test]
    fn edges_are_soft() {
        let s = scene(SceneKind::Photo, 5, (128, 128));
        let partial = AlphaStats::of(&s.layers[1]).partial();
        assert!(
            partial > 100,
            "feathered cut-out has {partial} partial pixels"
        );
    }

    #[test]
    fn suite_cycles_kinds() {
        let kinds: Vec<SceneKind> = suite(5, 0, (32, 32)).iter().map(|s| s.kind).collect();
        assert_eq!(kinds[..4], SceneKind::ALL);
        assert_eq!(kinds[4], SceneKind::Shapes);
    }
}
