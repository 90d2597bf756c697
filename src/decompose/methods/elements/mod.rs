//! The `elements` method (the default): a picture split the way a designer would have built
//! it — text blocks, graphic elements (cards, buttons, bars, icons, logos) and photographic
//! objects, each on its own layer, above a background filled in behind them.
//!
//! 1. **Analysis copy.** Everything is found on a copy at most [`ANALYSIS_SIDE`] pixels on
//!    its longer side, so a 12-megapixel photo costs about what a 1-megapixel one does;
//!    layers are then solved at full resolution from what was found ([`plan::peel`]).
//! 2. **Text.** PP-OCRv4's detector finds text lines; lines become blocks, each block a
//!    two-colour matte ([`text`]). The text is peeled off, leaving its local background.
//! 3. **Backdrop.** A smooth model (flat or gradient) is fitted from the border inwards
//!    ([`backdrop`]). When the picture has one (posters, slides, UI), every element that
//!    stands out from it becomes a layer, panels with their own children ([`graphics`]);
//!    alpha is unmixed against the known backdrop, so edges and soft shadows come out right
//!    and the background under them is the backdrop continued.
//! 4. **Art over photographs.** Without a designed backdrop, flat patches with crisp
//!    outlines (cards, bars, badges, clip art drawn over a photo) are found, the photo is
//!    inpainted beneath them, and they are separated against it as in step 3 ([`overlay`]).
//! 5. **Photographs.** Without either, salient objects come from the `objects` method
//!    (U²-Net-P, inpainted background) on the picture with its text peeled off.
//! 6. **An honest stack.** Layers with almost no content are merged down, and a bounded
//!    count (`--layers N`) is met by merging the least significant layers into their
//!    neighbours ([`stack`]); an element is never split to reach a count.
//!
//! **Order**, bottom first: the background, the elements (a panel below what sits on it),
//! the photographic objects, then the text. **Names**: "Background", "Shape n" for flat
//! shapes and panels, "Object n" for other elements and objects, and "Text: …" with the
//! words where they could be read (else "Text n").
//!
//! Pictures with transparency go to the regions method, which keeps their alpha.
//! Written here, not taken from a crate: no crate splits designs into layers.

mod backdrop;
mod field;
mod graphics;
mod overlay;
mod photo;
mod plan;
mod shadow;
mod stack;
mod text;
mod trend;

use std::borrow::Cow;

use self::field::Field;
use self::graphics::{Thresholds, Window};
use self::plan::{Kind, Plan};
use crate::decompose::inpaint;
use crate::decompose::methods::regions::RegionsDecomposer;
use crate::decompose::{
    DecomposeError, Decomposer, LayerCount, LayerSpec, Options, Progress, validate,
};
use crate::model::pixels::AlphaStats;
use crate::model::{Offset, RgbaImage};

pub use self::stack::{MIN_SOLID_PIXELS, MIN_SOLID_SHARE, is_real};

/// Longer side of the copy the picture is analysed on.
pub const ANALYSIS_SIDE: u32 = 1024;
/// Longer side the text detector sees.
pub const TEXT_SIDE: u32 = 960;
/// A designed backdrop runs smoothly along at least this share of the picture's edge.
const MIN_EDGE_STRETCH: f32 = 0.4;
/// A drop shadow reaches at most the picture's longer side over this from its element.
const SHADOW_REACH: usize = 32;
/// Share of a designed backdrop's pixels that are smooth to the byte. Measured on the three
/// design sets at 768×512: 0.96–1.0 on drawn flat and gradient fills (0.88–0.90 on
/// gradients seen only between the six cards of a grid, which therefore still go the
/// photograph's way), 0.38–0.84 on photographs that fit a smooth model; photographs
/// scaled up for a larger canvas get smoother (0.86 at 1224×816), so the margin stays on
/// the photographs' side.
const MIN_SMOOTH_BACKDROP: f32 = 0.9;

/// Text, graphic elements and objects on their own layers; see the module docs.
#[derive(Clone, Copy, Debug, Default)]
pub struct ElementsDecomposer;

/// What a decomposition found, for the editor's summary ("2 text, 3 shapes").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Found {
    pub text: usize,
    pub shapes: usize,
    pub objects: usize,
}

impl Decomposer for ElementsDecomposer {
    fn decompose(
        &self,
        image: &RgbaImage,
        options: &Options,
        progress: &Progress,
    ) -> Result<Vec<LayerSpec>, DecomposeError> {
        self.run(Cow::Borrowed(image), options, progress)
    }

    fn decompose_owned(
        &self,
        image: RgbaImage,
        options: &Options,
        progress: &Progress,
    ) -> Result<Vec<LayerSpec>, DecomposeError> {
        self.run(Cow::Owned(image), options, progress)
    }
}

impl ElementsDecomposer {
    /// The decomposition. The layers are peeled off a full-size picture: `image` itself
    /// when it was handed over, else a copy.
    fn run(
        &self,
        image: Cow<'_, RgbaImage>,
        options: &Options,
        progress: &Progress,
    ) -> Result<Vec<LayerSpec>, DecomposeError> {
        validate(&image, options)?;
        if !AlphaStats::of(&image).is_opaque() {
            return RegionsDecomposer::default().decompose(&image, options, progress);
        }
        if options.layers == LayerCount::AtMost(1) {
            return Ok(vec![whole(&image)]);
        }
        progress.check()?;
        progress.set(0.0, "finding text");
        let mut clock = StageClock::start();
        let lines = text::detect(&image, TEXT_SIDE)?;
        clock.lap("text detection");
        progress.check()?;
        progress.set(0.3, "finding elements");
        let (small, scale) = analysis_copy(&image);
        let mut text_plans: Vec<Plan> = Vec::new();
        let mut textured = Vec::new();
        for block in text::blocks(&lines, &image) {
            if let Some((mut plan, on_texture)) = text::plan(&small, scale, block.bbox) {
                plan.words = text::read(&image, &block)?;
                if !text::is_text(&block, plan.words.as_deref(), image.dimensions()) {
                    continue;
                }
                textured.push(on_texture);
                text_plans.push(plan);
                progress.check()?;
            }
        }
        clock.lap("text blocks and reading");
        fill_under_textured_text(&small, &mut text_plans, &textured, options.seed, progress)?;
        clock.lap("fill under textured text");
        // The text is peeled off the analysis copy itself: nothing needs it with the text.
        let mut bare = small;
        for plan in text_plans.iter().rev() {
            plan::peel(plan, &mut bare, 1.0);
        }
        progress.check()?;
        // Everything is found before the full-size copy is made, so the networks' buffers
        // and that copy are never held at once.
        let mut over_photo = false;
        let found = match designed_elements(&bare) {
            Some(plans) => Analysis::Elements(plans),
            None => match overlay::elements(&bare, options.seed, progress)? {
                Some(plans) => {
                    over_photo = true;
                    Analysis::Elements(plans)
                }
                None => Analysis::Photo(photo::find(&bare, options, progress)?),
            },
        };
        drop(bare);
        progress.check()?;
        clock.lap(match &found {
            Analysis::Elements(_) if over_photo => "art over a photograph",
            Analysis::Elements(_) => "designed elements",
            Analysis::Photo(_) => "photographic objects",
        });

        progress.set(0.5, "solving layers");
        let (width, height) = image.dimensions();
        let mut picture = image.into_owned();
        let mut texts = Vec::new();
        for (plan, &on_texture) in text_plans.iter().zip(&textured).rev() {
            if let Some(layer) = plan::peel(plan, &mut picture, scale) {
                texts.push((plan, layer, on_texture));
            }
        }
        texts.reverse();
        let mut specs = match found {
            Analysis::Elements(plans) => peel_elements(&plans, picture, scale, progress)?,
            Analysis::Photo(specs) => photo::solve(specs, picture, scale, progress)?,
        };
        progress.check()?;
        let first_text = specs.len();
        let lettering: Vec<usize> = (0..texts.len())
            .filter(|&k| !texts[k].2)
            .map(|k| first_text + k)
            .collect();
        specs.extend(texts.into_iter().map(|(plan, (pixels, offset), _)| {
            let name = match &plan.words {
                Some(words) => format!("Text: {words}"),
                None => "Text".to_string(),
            };
            LayerSpec::new(name, pixels, offset)
        }));
        let is_text = |s: &LayerSpec| s.name.starts_with("Text");
        stack::merge_lettering(&mut specs, &lettering, |s| s.name.starts_with("Object"));
        stack::merge_parts(&mut specs, is_text);
        stack::merge_rim_pieces(&mut specs, is_text);
        if over_photo {
            // Art over a photograph is separated against an inpainted guess of the photo,
            // whose errors come out as specks of "elements"; art that small was not
            // worth separating in the first place (see `overlay::MIN_ART_SHARE`).
            let area = f64::from(width) * f64::from(height);
            let min_solid = (f64::from(overlay::MIN_ART_SHARE) * area) as usize;
            stack::merge_specks(&mut specs, min_solid, is_text);
        }
        stack::drop_ghosts(&mut specs);
        if let Some(n) = options.layers.limit() {
            stack::limit(&mut specs, n);
        }
        number_names(&mut specs);
        clock.lap("solving layers at full size");
        progress.set(1.0, "done");
        Ok(specs)
    }
}

/// Logs (at debug level) how long each stage of a decomposition took, to see where the
/// time of a slow picture goes without a profiler.
struct StageClock(std::time::Instant);

impl StageClock {
    fn start() -> Self {
        Self(std::time::Instant::now())
    }

    /// Logs the time since the last lap (or the start) under `stage`.
    fn lap(&mut self, stage: &str) {
        let now = std::time::Instant::now();
        tracing::debug!(
            stage,
            seconds = (now - self.0).as_secs_f64(),
            "elements stage"
        );
        self.0 = now;
    }
}

/// What the analysis copy showed: graphic elements to peel, or a photograph's objects.
enum Analysis {
    Elements(Vec<Plan>),
    Photo(Vec<LayerSpec>),
}

/// Peels the element plans (bottom first) off `picture` at full size, top first, and
/// returns the background left behind and the elements, bottom first.
fn peel_elements(
    plans: &[Plan],
    mut picture: RgbaImage,
    scale: f32,
    progress: &Progress,
) -> Result<Vec<LayerSpec>, DecomposeError> {
    let mut layers = Vec::new();
    for plan in plans.iter().rev() {
        if let Some(layer) = plan::peel(plan, &mut picture, scale) {
            layers.push((plan.kind, layer));
        }
        progress.check()?;
    }
    layers.reverse();
    let mut specs = vec![LayerSpec::new("Background", picture, Offset::default())];
    specs.extend(
        layers
            .into_iter()
            .map(|(kind, (pixels, offset))| LayerSpec::new(kind_name(kind), pixels, offset)),
    );
    Ok(specs)
}

/// Replaces the smooth underlay of text on texture (a sign on a photo, a title over smoke)
/// by the picture inpainted under the glyphs, so hiding the text shows texture rather than
/// a smooth, letter-shaped patch. The text's colours are solved against this underlay, so
/// the stack still reproduces the picture.
fn fill_under_textured_text(
    small: &RgbaImage,
    plans: &mut [Plan],
    textured: &[bool],
    seed: u64,
    progress: &Progress,
) -> Result<(), DecomposeError> {
    if !textured.iter().any(|&t| t) {
        return Ok(());
    }
    let mut hole = image::GrayImage::new(small.width(), small.height());
    for (plan, _) in plans.iter().zip(textured).filter(|(_, t)| **t) {
        let b = plan.bbox;
        let bw = b.width() as usize;
        for (li, _) in plan.mask.iter().enumerate().filter(|(_, m)| **m) {
            let (x, y) = (b.x0 + (li % bw) as u32, b.y0 + (li / bw) as u32);
            // The glyph and a pixel around it, so no anti-aliased edge is copied inwards.
            for ny in y.saturating_sub(1)..(y + 2).min(small.height()) {
                for nx in x.saturating_sub(1)..(x + 2).min(small.width()) {
                    hole.put_pixel(nx, ny, image::Luma([255]));
                }
            }
        }
    }
    // Every text block, grown by two pixels, is off limits as a source: otherwise a
    // neighbouring word can be copied into the hole.
    let mut text = image::GrayImage::new(small.width(), small.height());
    for plan in plans.iter() {
        let bw = plan.bbox.width() as usize;
        for (li, _) in plan.mask.iter().enumerate().filter(|(_, m)| **m) {
            let (x, y) = (
                plan.bbox.x0 + (li % bw) as u32,
                plan.bbox.y0 + (li / bw) as u32,
            );
            text.put_pixel(x, y, image::Luma([255]));
        }
    }
    let exclude = inpaint::grow(&text, 2);
    let scoped = progress.scoped(0.3, 0.4);
    let filled = match inpaint::inpaint_excluding(small, &hole, Some(&exclude), &scoped, seed) {
        Ok(filled) => filled.image,
        Err(DecomposeError::Cancelled) => return Err(DecomposeError::Cancelled),
        // Text over almost the whole picture: nothing to copy from; keep the smooth fill.
        Err(_) => return Ok(()),
    };
    let field = Field::from_image(&filled);
    for (plan, _) in plans.iter_mut().zip(textured).filter(|(_, t)| **t) {
        let b = plan.bbox;
        let bw = b.width() as usize;
        for (li, u) in plan.underlay.data.iter_mut().enumerate() {
            let (x, y) = (b.x0 as usize + li % bw, b.y0 as usize + li / bw);
            *u = field.at(x, y);
        }
    }
    Ok(())
}

/// The analysis copy of `image` and its scale (picture pixels per analysis pixel).
fn analysis_copy(image: &RgbaImage) -> (RgbaImage, f32) {
    let (w, h) = image.dimensions();
    let longer = w.max(h);
    if longer <= ANALYSIS_SIDE {
        return (image.clone(), 1.0);
    }
    let sw = ((w as f32 * ANALYSIS_SIDE as f32 / longer as f32).round() as u32).max(1);
    let sh = ((h as f32 * ANALYSIS_SIDE as f32 / longer as f32).round() as u32).max(1);
    // Triangle (area-like) filtering keeps an edge pixel a mixture of the colours on either
    // side, which is what the unmixing expects.
    let small = image::imageops::resize(image, sw, sh, image::imageops::FilterType::Triangle);
    (small, w as f32 / sw as f32)
}

/// The element plans of a picture on a designed backdrop (bottom first), or `None` when it
/// has no such backdrop.
fn designed_elements(bare: &RgbaImage) -> Option<Vec<Plan>> {
    let field = Field::from_image(bare);
    let (w, h) = (field.width, field.height);
    let all = vec![true; w * h];
    let (seeds, stretch) = backdrop::edge_seeds(&field);
    if stretch < MIN_EDGE_STRETCH {
        return None;
    }
    let fit = backdrop::fit_page(&field, &seeds, stretch);
    if !fit.is_designed() {
        return None;
    }
    // A drawn fill is smooth to the byte; a photograph's sky or blur, though it fits a
    // smooth model as well, has grain.
    let flat = overlay::flat_pixels(&field);
    let inliers = fit.inlier.iter().filter(|&&i| i).count().max(1);
    let smooth = fit
        .inlier
        .iter()
        .zip(&flat)
        .filter(|(i, f)| **i && **f)
        .count();
    if (smooth as f32) < MIN_SMOOTH_BACKDROP * inliers as f32 {
        return None;
    }
    let thresholds = Thresholds {
        strong: 0.03,
        weak: 0.006,
        min_area: (w * h / 20_000).max(12),
        reach: (w.max(h) / 100).max(3),
        panel_seed: 0.3,
        shadows: true,
    };
    let window = Window {
        picture: &field,
        underlay: &fit.model,
        region: &all,
        pieces: None,
        origin: (0, 0),
    };
    let mut plans = Vec::new();
    let top = graphics::find(&window, thresholds, 0, &mut plans);
    shadow::attach(&field, &mut plans, &top, (w.max(h) / SHADOW_REACH).max(3));
    Some(plans)
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Text => "Text",
        Kind::Shape => "Shape",
        Kind::Graphic => "Object",
    }
}

/// Numbers the layers of each kind bottom-up ("Shape 1", "Shape 2", "Text 1"), leaving
/// "Background" and named text ("Text: Summer sale") alone.
fn number_names(specs: &mut [LayerSpec]) {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for spec in specs.iter_mut().skip(1) {
        let base = spec
            .name
            .trim_end_matches(|c: char| c.is_ascii_digit() || c == ' ')
            .to_string();
        if spec.name.contains(':') || base.is_empty() {
            continue;
        }
        let n = match counts.iter_mut().find(|(b, _)| *b == base) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                counts.push((base.clone(), 1));
                1
            }
        };
        spec.name = format!("{base} {n}");
    }
}

/// `image` as one full-canvas layer.
fn whole(image: &RgbaImage) -> LayerSpec {
    LayerSpec::new("Background", image.clone(), Offset::default())
}

impl Found {
    /// "2 text, 3 shapes, 1 object"; empty when nothing but a background was found.
    pub fn describe(&self) -> String {
        let part = |n: usize, one: &str, many: &str| match n {
            0 => None,
            1 => Some(format!("1 {one}")),
            n => Some(format!("{n} {many}")),
        };
        [
            part(self.text, "text", "text"),
            part(self.shapes, "shape", "shapes"),
            part(self.objects, "object", "objects"),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// Counts the kinds of layers in a decomposition (background first) by their names.
pub fn found(specs: &[LayerSpec]) -> Found {
    let mut found = Found::default();
    for spec in specs.iter().skip(1) {
        if spec.name.starts_with("Text") {
            found.text += 1;
        } else if spec.name.starts_with("Shape") {
            found.shapes += 1;
        } else {
            found.objects += 1;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str) -> LayerSpec {
        LayerSpec::new(name, RgbaImage::new(1, 1), Offset::default())
    }

    #[test]
    fn the_kinds_found_are_counted_and_described() {
        let specs: Vec<LayerSpec> = ["Background", "Shape 1", "Shape 2", "Object 1", "Text: Sale"]
            .into_iter()
            .map(named)
            .collect();
        let found = found(&specs);
        assert_eq!(
            found,
            Found {
                text: 1,
                shapes: 2,
                objects: 1
            }
        );
        assert_eq!(found.describe(), "1 text, 2 shapes, 1 object");
        assert_eq!(Found::default().describe(), "");
    }

    #[test]
    fn layers_are_numbered_per_kind_and_read_text_keeps_its_words() {
        let mut specs: Vec<LayerSpec> =
            ["Background", "Shape", "Object", "Shape", "Text: Hi", "Text"]
                .into_iter()
                .map(named)
                .collect();
        number_names(&mut specs);
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Background",
                "Shape 1",
                "Object 1",
                "Shape 2",
                "Text: Hi",
                "Text 1"
            ]
        );
    }
}
