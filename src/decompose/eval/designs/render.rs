//! Rasterising the parts of a design, each onto its own transparent full-canvas layer:
//! clip art (`usvg` trees), SVG snippets for shapes and text (parsed against our own font
//! database), and backgrounds (flat colour, SVG gradient, photo crop).
//!
//! resvg draws into a premultiplied 8-bit pixmap; [`straight`] turns that into the
//! straight-alpha layers a [`Scene`](super::super::Scene) holds.

use std::sync::Arc;

use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg::{self, fontdb};

use super::DesignError;
use crate::model::RgbaImage;
use crate::model::pixels::{Premul, unit, unpremultiply};

/// A straight-alpha 8-bit colour, `#rrggbb` in SVG.
pub type Rgb = [u8; 3];

/// `#rrggbb` for SVG attributes.
pub fn hex(c: Rgb) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// A blank canvas-sized pixmap.
fn pixmap(size: (u32, u32)) -> Result<Pixmap, DesignError> {
    Pixmap::new(size.0, size.1).ok_or(DesignError::Canvas(size))
}

/// The pixmap as a straight-alpha layer. Fully transparent pixels become `[0, 0, 0, 0]`,
/// as everywhere else in the model.
fn straight(pixmap: &Pixmap) -> RgbaImage {
    let (w, h) = (pixmap.width(), pixmap.height());
    let mut out = RgbaImage::new(w, h);
    for (dst, src) in out
        .as_mut()
        .chunks_exact_mut(4)
        .zip(pixmap.data().chunks_exact(4))
    {
        let p: Premul = [unit(src[0]), unit(src[1]), unit(src[2]), unit(src[3])];
        dst.copy_from_slice(&unpremultiply(p));
    }
    out
}

/// Parses an SVG document; text in it can only use the fonts of `fontdb`.
pub fn parse_svg(data: &[u8], fontdb: &Arc<fontdb::Database>) -> Result<usvg::Tree, usvg::Error> {
    let options = usvg::Options {
        fontdb: Arc::clone(fontdb),
        // Never a system font: an unknown family falls back to the first of ours.
        font_family: "Roboto".to_owned(),
        ..usvg::Options::default()
    };
    usvg::Tree::from_data(data, &options)
}

/// Renders `tree` scaled to fit the box `(x, y, w, h)` (aspect kept, centred in the box).
pub fn fit_tree(
    tree: &usvg::Tree,
    rect: (f32, f32, f32, f32),
    size: (u32, u32),
) -> Result<RgbaImage, DesignError> {
    let (x, y, w, h) = rect;
    let tree_size = tree.size();
    let scale = (w / tree_size.width()).min(h / tree_size.height());
    let (dw, dh) = (tree_size.width() * scale, tree_size.height() * scale);
    let transform = Transform::from_row(
        scale,
        0.0,
        0.0,
        scale,
        x + (w - dw) / 2.0,
        y + (h - dh) / 2.0,
    );
    let mut canvas = pixmap(size)?;
    resvg::render(tree, transform, &mut canvas.as_mut());
    Ok(straight(&canvas))
}

/// Renders an SVG snippet (the inside of an `<svg>` element in canvas pixel units) as one
/// full-canvas layer.
pub fn snippet(
    body: &str,
    size: (u32, u32),
    fontdb: &Arc<fontdb::Database>,
) -> Result<RgbaImage, DesignError> {
    let document = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">{body}</svg>"#,
        w = size.0,
        h = size.1
    );
    let tree = parse_svg(document.as_bytes(), fontdb).map_err(|e| DesignError::Svg {
        name: "generated snippet".into(),
        message: e.to_string(),
    })?;
    let mut canvas = pixmap(size)?;
    resvg::render(&tree, Transform::identity(), &mut canvas.as_mut());
    Ok(straight(&canvas))
}

/// A rounded rectangle with an optional soft drop shadow (part of the same layer, as
/// Crello and LayerD treat an element's shadow), filled with `fill` or a vertical gradient
/// from `fill` to `fill2`.
pub struct Card {
    pub rect: (f32, f32, f32, f32),
    pub radius: f32,
    pub fill: Rgb,
    pub fill2: Option<Rgb>,
    /// Shadow blur (standard deviation) and offset in pixels; `None`: no shadow.
    pub shadow: Option<(f32, f32)>,
}

impl Card {
    /// The card's SVG snippet.
    pub fn svg(&self) -> String {
        let (x, y, w, h) = self.rect;
        let mut defs = String::new();
        let mut attrs = String::new();
        let fill = match self.fill2 {
            Some(f2) => {
                defs.push_str(&format!(
                    r#"<linearGradient id="f" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="{}"/><stop offset="1" stop-color="{}"/></linearGradient>"#,
                    hex(self.fill),
                    hex(f2)
                ));
                "url(#f)".to_owned()
            }
            None => hex(self.fill),
        };
        if let Some((blur, offset)) = self.shadow {
            defs.push_str(&format!(
                r##"<filter id="s" x="-50%" y="-50%" width="200%" height="200%"><feDropShadow dx="0" dy="{offset}" stdDeviation="{blur}" flood-color="#000" flood-opacity="0.35"/></filter>"##
            ));
            attrs.push_str(r#" filter="url(#s)""#);
        }
        format!(
            r#"<defs>{defs}</defs><rect x="{x}" y="{y}" width="{w}" height="{h}" rx="{r}" fill="{fill}"{attrs}/>"#,
            r = self.radius
        )
    }
}

/// One line of text in one colour.
pub struct Text<'a> {
    pub text: &'a str,
    /// Font family and weight (`bold` / `normal`) among the committed fonts.
    pub family: &'a str,
    pub weight: &'a str,
    pub px: f32,
    /// Baseline start, or centre when `centred`.
    pub at: (f32, f32),
    pub centred: bool,
    pub colour: Rgb,
}

impl Text<'_> {
    /// The text's SVG snippet (the strings are our own: no escaping is needed beyond `&`).
    pub fn svg(&self) -> String {
        let anchor = if self.centred { "middle" } else { "start" };
        format!(
            r#"<text x="{}" y="{}" font-family="{}" font-weight="{}" font-size="{}" text-anchor="{anchor}" fill="{}">{}</text>"#,
            self.at.0,
            self.at.1,
            self.family,
            self.weight,
            self.px,
            hex(self.colour),
            self.text.replace('&', "&amp;")
        )
    }
}

/// An opaque background of one colour.
pub fn flat(size: (u32, u32), colour: Rgb) -> RgbaImage {
    RgbaImage::from_pixel(
        size.0,
        size.1,
        image::Rgba([colour[0], colour[1], colour[2], 255]),
    )
}

/// An opaque gradient background: linear at `angle` (radians) or radial from a point.
pub fn gradient(
    size: (u32, u32),
    stops: &[Rgb],
    radial: Option<(f32, f32)>,
    angle: f32,
    fontdb: &Arc<fontdb::Database>,
) -> Result<RgbaImage, DesignError> {
    let n = stops.len().max(2) - 1;
    let stop_tags: String = stops
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!(
                r#"<stop offset="{}" stop-color="{}"/>"#,
                i as f32 / n as f32,
                hex(*c)
            )
        })
        .collect();
    let gradient = match radial {
        Some((cx, cy)) => format!(
            r#"<radialGradient id="g" cx="{cx}" cy="{cy}" r="0.9">{stop_tags}</radialGradient>"#
        ),
        None => {
            let (dx, dy) = (angle.cos() / 2.0, angle.sin() / 2.0);
            format!(
                r#"<linearGradient id="g" x1="{}" y1="{}" x2="{}" y2="{}">{stop_tags}</linearGradient>"#,
                0.5 - dx,
                0.5 - dy,
                0.5 + dx,
                0.5 + dy
            )
        }
    };
    let body = format!(
        r#"<defs>{gradient}</defs><rect width="{}" height="{}" fill="url(#g)"/>"#,
        size.0, size.1
    );
    snippet(&body, size, fontdb)
}

/// An opaque crop of `photo`: the window of the canvas's aspect ratio at `zoom` (≥ 1, of
/// the largest such window) with its top-left at fraction `at` of the free room, resampled
/// to `size`.
pub fn photo_crop(photo: &RgbaImage, size: (u32, u32), zoom: f32, at: (f32, f32)) -> RgbaImage {
    let (pw, ph) = (photo.width() as f32, photo.height() as f32);
    let aspect = size.0 as f32 / size.1.max(1) as f32;
    let (mut cw, mut ch) = if pw / ph > aspect {
        (ph * aspect, ph)
    } else {
        (pw, pw / aspect)
    };
    cw /= zoom.max(1.0);
    ch /= zoom.max(1.0);
    let x = ((pw - cw) * at.0.clamp(0.0, 1.0)) as u32;
    let y = ((ph - ch) * at.1.clamp(0.0, 1.0)) as u32;
    let crop = image::imageops::crop_imm(photo, x, y, cw as u32, ch as u32).to_image();
    let mut out =
        image::imageops::resize(&crop, size.0, size.1, image::imageops::FilterType::Triangle);
    for px in out.pixels_mut() {
        px.0[3] = 255;
    }
    out
}
