//! The design recipes: a background of the scene's kind plus 2–6 elements laid out by one
//! of five templates (poster, banner, stickers, badge, hero). Recipe `i` uses template
//! `(i / 3) % 5` and the generator seeded with `i`, so the 30 recipes cover every template
//! on every background kind. The [`LAYOUTS`](super::LAYOUTS) recipes use the three
//! templates of [`layouts`] instead (9–14 elements). Positions and sizes are fractions of
//! the canvas; type sizes scale with it but a title never gets below 24 px.

mod layouts;

use super::render::{self, Card, Rgb, Text};
use super::{Assets, DesignError};
use crate::decompose::eval::draw::{self, Rng};
use crate::decompose::eval::scenes::SceneKind;
use crate::model::RgbaImage;

const TITLES: [&str; 12] = [
    "Summer Sale",
    "Fresh Market",
    "Open House",
    "Team Meetup",
    "Garden Party",
    "Big Launch",
    "Weekend Deals",
    "Coffee Break",
    "Science Fair",
    "Movie Night",
    "Grand Opening",
    "Book Club",
];

const SUBTITLES: [&str; 8] = [
    "Everything must go this week",
    "Local produce every Saturday",
    "Join us at 7 pm downtown",
    "Free entry for the whole family",
    "New arrivals in every store",
    "Limited seats, register today",
    "Snacks & drinks on the house",
    "Bring a friend along",
];

const LABELS: [&str; 6] = [
    "Shop now",
    "Learn more",
    "Sign up",
    "Book a seat",
    "Get started",
    "Join us",
];

/// Title faces: (family, weight). Subtitles use Open Sans, button labels Roboto Bold.
const TITLE_FACES: [(&str, &str); 2] = [("Roboto", "bold"), ("DejaVu Serif", "bold")];

type Layers = Vec<(String, RgbaImage)>;

/// Shared state of one recipe being drawn.
struct Ctx<'a> {
    assets: &'a Assets,
    size: (u32, u32),
    rng: Rng,
    /// Canvas scale relative to the 768×512 design size.
    unit: f32,
    layers: Layers,
}

impl Ctx<'_> {
    fn w(&self) -> f32 {
        self.size.0 as f32
    }

    fn h(&self) -> f32 {
        self.size.1 as f32
    }

    fn pick<'s>(&mut self, list: &[&'s str]) -> &'s str {
        list[self.rng.below(list.len())]
    }

    /// A saturated colour as 8-bit RGB.
    fn colour(&mut self, sat: f32, value: f32) -> Rgb {
        draw::colour(&mut self.rng, sat, value).map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
    }

    fn push(&mut self, name: &str, layer: RgbaImage) {
        self.layers.push((name.to_owned(), layer));
    }

    /// A clip-art layer fitted into `rect`; a different file each time within a recipe.
    fn clipart(&mut self, rect: (f32, f32, f32, f32)) -> Result<(), DesignError> {
        let count = self.assets.clipart.len();
        let mut index = self.rng.below(count);
        while self
            .layers
            .iter()
            .any(|(n, _)| *n == self.assets.clipart[index].0)
        {
            index = (index + 1) % count;
        }
        let (name, tree) = &self.assets.clipart[index];
        let layer = render::fit_tree(tree, rect, self.size)?;
        self.push(&name.clone(), layer);
        Ok(())
    }

    fn card(&mut self, name: &str, card: &Card) -> Result<(), DesignError> {
        let layer = render::snippet(&card.svg(), self.size, &self.assets.fontdb)?;
        self.push(name, layer);
        Ok(())
    }

    fn text(&mut self, name: &str, text: &Text) -> Result<(), DesignError> {
        let layer = render::snippet(&text.svg(), self.size, &self.assets.fontdb)?;
        self.push(name, layer);
        Ok(())
    }

    fn title_px(&self) -> f32 {
        (44.0 * self.unit).max(24.0)
    }

    fn subtitle_px(&self) -> f32 {
        (20.0 * self.unit).max(12.0)
    }

    /// A title at `at` (baseline start, or centre) in a random title face.
    fn title(&mut self, at: (f32, f32), centred: bool, colour: Rgb) -> Result<(), DesignError> {
        let face = TITLE_FACES[self.rng.below(TITLE_FACES.len())];
        let text = self.pick(&TITLES);
        let px = self.title_px();
        self.text(
            "title",
            &Text {
                text,
                family: face.0,
                weight: face.1,
                px,
                at,
                centred,
                colour,
            },
        )
    }

    fn subtitle(&mut self, at: (f32, f32), centred: bool, colour: Rgb) -> Result<(), DesignError> {
        let text = self.pick(&SUBTITLES);
        let px = self.subtitle_px();
        self.text(
            "subtitle",
            &Text {
                text,
                family: "Open Sans",
                weight: "normal",
                px,
                at,
                centred,
                colour,
            },
        )
    }

    /// A pill button (gradient fill, small shadow) and its label: two layers.
    fn button(&mut self, centre: (f32, f32)) -> Result<(), DesignError> {
        let px = (18.0 * self.unit).max(11.0);
        let label = self.pick(&LABELS);
        let (bw, bh) = (px * 0.62 * label.len() as f32 + 2.0 * px, 2.2 * px);
        let fill = self.colour(0.75, 0.8);
        let fill2 = fill.map(|c| (f32::from(c) * 0.75) as u8);
        self.card(
            "button",
            &Card {
                rect: (centre.0 - bw / 2.0, centre.1 - bh / 2.0, bw, bh),
                radius: bh / 2.0,
                fill,
                fill2: Some(fill2),
                shadow: Some((2.0 * self.unit, 2.0 * self.unit)),
            },
        )?;
        self.text(
            "button label",
            &Text {
                text: label,
                family: "Roboto",
                weight: "bold",
                px,
                at: (centre.0, centre.1 + 0.35 * px),
                centred: true,
                colour: [255, 255, 255],
            },
        )
    }
}

/// The layers of recipe `index`, bottom first, with their names.
pub(super) fn build(
    assets: &Assets,
    index: usize,
    kind: SceneKind,
    size: (u32, u32),
) -> Result<Layers, DesignError> {
    let unit = (size.0 as f32 / 768.0).min(size.1 as f32 / 512.0);
    let mut ctx = Ctx {
        assets,
        size,
        rng: draw::scene_rng(0xDE51_0000 + index as u64),
        unit,
        layers: Vec::new(),
    };
    // Whether text straight on the background should be dark (light backgrounds) or white.
    let light = background(&mut ctx, index, kind)?;
    let on_bg: Rgb = if light { [28, 32, 44] } else { [255, 255, 255] };
    if super::LAYOUTS.contains(&index) {
        layouts::draw(&mut ctx, (index - super::LAYOUTS.start) / 3, on_bg)?;
        return Ok(ctx.layers);
    }
    match (index / 3) % 5 {
        0 => poster(&mut ctx)?,
        1 => banner(&mut ctx, on_bg)?,
        2 => stickers(&mut ctx, on_bg)?,
        3 => badge(&mut ctx, on_bg)?,
        _ => hero(&mut ctx, on_bg)?,
    }
    Ok(ctx.layers)
}

/// Pushes the background of `kind`; returns whether it is light.
fn background(ctx: &mut Ctx, index: usize, kind: SceneKind) -> Result<bool, DesignError> {
    let light = ctx.rng.unit() < 0.5;
    let value = if light { 0.93 } else { 0.35 };
    let layer = match kind {
        SceneKind::GradientDesign => {
            let stops: Vec<Rgb> = (0..2 + ctx.rng.below(2))
                .map(|_| {
                    let v = value + ctx.rng.range(-0.08, 0.05);
                    ctx.colour(0.45, v)
                })
                .collect();
            let radial =
                (ctx.rng.unit() < 0.4).then(|| (ctx.rng.range(0.2, 0.8), ctx.rng.range(0.2, 0.8)));
            let angle = ctx.rng.range(0.0, std::f32::consts::TAU);
            render::gradient(ctx.size, &stops, radial, angle, &ctx.assets.fontdb)?
        }
        SceneKind::PhotoDesign => {
            let photos = &ctx.assets.photos;
            let photo = &photos[(index / 3) % photos.len()].1;
            let zoom = ctx.rng.range(1.0, 1.6);
            let at = (ctx.rng.unit(), ctx.rng.unit());
            let crop = render::photo_crop(photo, ctx.size, zoom, at);
            let mean = crop.as_raw().iter().map(|&v| u64::from(v)).sum::<u64>()
                / (crop.as_raw().len() as u64).max(1);
            ctx.push("background", crop);
            // Alpha (255) is a quarter of the bytes: mean RGB ≈ (4·mean − 255) / 3.
            return Ok((4 * mean).saturating_sub(255) / 3 > 140);
        }
        _ => {
            let sat = ctx.rng.range(0.1, 0.5);
            let colour = ctx.colour(sat, value);
            render::flat(ctx.size, colour)
        }
    };
    ctx.push("background", layer);
    Ok(light)
}

/// A shadowed card with clip art on it (nested), a title and subtitle on the card, and a
/// button below: six elements.
fn poster(ctx: &mut Ctx) -> Result<(), DesignError> {
    let (w, h) = (ctx.w(), ctx.h());
    let (cw, ch) = (w * ctx.rng.range(0.42, 0.55), h * ctx.rng.range(0.72, 0.84));
    let (cx, cy) = (w * ctx.rng.range(0.06, 0.94) - cw * 0.5, (h - ch) / 2.0);
    let cx = cx.clamp(0.04 * w, 0.96 * w - cw);
    let fill = ctx.colour(0.08, 0.98);
    ctx.card(
        "card",
        &Card {
            rect: (cx, cy, cw, ch),
            radius: 18.0 * ctx.unit,
            fill,
            fill2: None,
            shadow: Some((8.0 * ctx.unit, 6.0 * ctx.unit)),
        },
    )?;
    ctx.clipart((cx + cw * 0.2, cy + ch * 0.06, cw * 0.6, ch * 0.4))?;
    let ink = ctx.colour(0.7, 0.35);
    ctx.title((cx + cw / 2.0, cy + ch * 0.6), true, ink)?;
    ctx.subtitle((cx + cw / 2.0, cy + ch * 0.72), true, [90, 96, 110])?;
    ctx.button((cx + cw / 2.0, cy + ch * 0.86))
}

/// A full-width bar at the bottom with the title on it, and two overlapping clip-art
/// pieces above: four elements.
fn banner(ctx: &mut Ctx, _on_bg: Rgb) -> Result<(), DesignError> {
    let (w, h) = (ctx.w(), ctx.h());
    let bar_h = h * ctx.rng.range(0.22, 0.3);
    let fill = ctx.colour(0.7, 0.45);
    ctx.card(
        "bar",
        &Card {
            rect: (0.0, h - bar_h, w, bar_h),
            radius: 0.0,
            fill,
            fill2: None,
            shadow: Some((6.0 * ctx.unit, -3.0 * ctx.unit)),
        },
    )?;
    let side = h * ctx.rng.range(0.45, 0.6);
    let x0 = w * ctx.rng.range(0.1, 0.4);
    ctx.clipart((x0, h * 0.08, side, side))?;
    ctx.clipart((x0 + side * 0.65, h * 0.16, side * 0.9, side * 0.9))?;
    ctx.title((w * 0.06, h - bar_h * 0.38), false, [255, 255, 255])
}

/// Three clip-art stickers side by side (not overlapping), a title above and a subtitle
/// below: five elements.
fn stickers(ctx: &mut Ctx, on_bg: Rgb) -> Result<(), DesignError> {
    let (w, h) = (ctx.w(), ctx.h());
    let title_y = h * 0.18;
    ctx.title((w / 2.0, title_y), true, on_bg)?;
    let cell = w / 3.0;
    let side = (cell * 0.75).min(h * 0.45);
    for i in 0..3 {
        let x = cell * i as f32 + (cell - side) / 2.0 + ctx.rng.range(-0.05, 0.05) * cell;
        let y = h * 0.28 + ctx.rng.range(0.0, 0.08) * h;
        ctx.clipart((x, y, side, side))?;
    }
    ctx.subtitle((w / 2.0, h * 0.92), true, on_bg)
}

/// A round badge with clip art overlapping its edge, a title beside it and a button:
/// five elements.
fn badge(ctx: &mut Ctx, on_bg: Rgb) -> Result<(), DesignError> {
    let (w, h) = (ctx.w(), ctx.h());
    let r = h * ctx.rng.range(0.24, 0.3);
    let (bx, by) = (w * 0.06 + r, h * 0.5);
    let fill = ctx.colour(0.55, 0.85);
    ctx.card(
        "badge",
        &Card {
            rect: (bx - r, by - r, 2.0 * r, 2.0 * r),
            radius: r,
            fill,
            fill2: Some(fill.map(|c| (f32::from(c) * 0.8) as u8)),
            shadow: Some((6.0 * ctx.unit, 4.0 * ctx.unit)),
        },
    )?;
    ctx.clipart((bx - r * 0.4, by - r * 0.9, r * 1.5, r * 1.5))?;
    let tx = bx + r * 1.35;
    ctx.title((tx, h * 0.42), false, on_bg)?;
    let label_w = (w - tx) * 0.35;
    ctx.button((tx + label_w, h * 0.62))
}

/// One large clip-art piece and a title: two elements.
fn hero(ctx: &mut Ctx, on_bg: Rgb) -> Result<(), DesignError> {
    let (w, h) = (ctx.w(), ctx.h());
    let side = h * ctx.rng.range(0.5, 0.65);
    let left = ctx.rng.unit() < 0.5;
    let x = if left { w * 0.06 } else { w * 0.94 - side };
    ctx.clipart((x, (h - side) / 2.0, side, side))?;
    let tx = if left {
        w * 0.06 + side + w * 0.04
    } else {
        w * 0.06
    };
    ctx.title((tx, h * 0.52), false, on_bg)
}
