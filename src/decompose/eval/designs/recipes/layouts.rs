//! Three more templates, of the kinds people bring that the first five lack: an app screen
//! (a header bar, list rows each with an icon and a label, a button), a grid of six cards
//! each holding a piece of clip art, and a slide (a title over an accent rule, bullet
//! points, an illustration). They have many small elements and several lines of text, as
//! UI mockups and slides do. No threshold of the decomposers was tuned on them.

use super::{Ctx, DesignError, Rgb};
use crate::decompose::eval::designs::render::{Card, Text};

const ROW_LABELS: [&str; 8] = [
    "Messages", "Calendar", "Photos", "Settings", "Music", "Weather", "Notes", "Friends",
];

/// Dark text on the near-white cards of the app screen.
const CARD_INK: Rgb = [40, 44, 56];

/// Draws layout template `template` (0..3).
pub(super) fn draw(ctx: &mut Ctx, template: usize, on_bg: Rgb) -> Result<(), DesignError> {
    match template % 3 {
        0 => app_screen(ctx),
        1 => card_grid(ctx, on_bg),
        _ => slide(ctx, on_bg),
    }
}

/// A shadowed header bar with a heading, three list rows (card, icon, label) on the left,
/// an illustration on the right and a button below it: fourteen elements.
fn app_screen(ctx: &mut Ctx) -> Result<(), DesignError> {
    let (w, h) = (ctx.w(), ctx.h());
    let bar_h = h * ctx.rng.range(0.13, 0.17);
    let fill = ctx.colour(0.7, 0.45);
    ctx.card(
        "header bar",
        &Card {
            rect: (0.0, 0.0, w, bar_h),
            radius: 0.0,
            fill,
            fill2: None,
            shadow: Some((4.0 * ctx.unit, 2.0 * ctx.unit)),
        },
    )?;
    let heading_px = (32.0 * ctx.unit).max(24.0);
    let heading = ctx.pick(&super::TITLES);
    ctx.text(
        "heading",
        &Text {
            text: heading,
            family: "Roboto",
            weight: "bold",
            px: heading_px,
            at: (w * 0.05, bar_h * 0.5 + heading_px * 0.35),
            centred: false,
            colour: [255, 255, 255],
        },
    )?;
    let (row_w, row_h) = (w * ctx.rng.range(0.48, 0.56), h * 0.14);
    let first = ctx.rng.below(ROW_LABELS.len());
    for i in 0..3 {
        let (x, y) = (w * 0.05, bar_h + h * 0.07 + i as f32 * row_h * 1.3);
        let fill = ctx.colour(0.04, 0.99);
        ctx.card(
            "row",
            &Card {
                rect: (x, y, row_w, row_h),
                radius: 10.0 * ctx.unit,
                fill,
                fill2: None,
                shadow: Some((4.0 * ctx.unit, 3.0 * ctx.unit)),
            },
        )?;
        let icon = row_h * 0.76;
        ctx.clipart((x + row_h * 0.12, y + row_h * 0.12, icon, icon))?;
        let px = (20.0 * ctx.unit).max(12.0);
        ctx.text(
            "row label",
            &Text {
                text: ROW_LABELS[(first + i) % ROW_LABELS.len()],
                family: "Open Sans",
                weight: "normal",
                px,
                at: (x + row_h * 1.1, y + row_h * 0.5 + px * 0.35),
                centred: false,
                colour: CARD_INK,
            },
        )?;
    }
    let side = h * ctx.rng.range(0.36, 0.44);
    let cx = w * 0.05 + row_w + (w * 0.95 - w * 0.05 - row_w) / 2.0;
    ctx.clipart((cx - side / 2.0, bar_h + h * 0.06, side, side))?;
    ctx.button((cx, h * 0.86))
}

/// A centred title over a 3×2 grid of shadowed cards, each with clip art on it:
/// thirteen elements.
fn card_grid(ctx: &mut Ctx, on_bg: Rgb) -> Result<(), DesignError> {
    let (w, h) = (ctx.w(), ctx.h());
    ctx.title((w / 2.0, h * 0.14), true, on_bg)?;
    let (cell_w, cell_h) = (w / 3.0, h * 0.39);
    let (card_w, card_h) = (cell_w * 0.8, cell_h * 0.86);
    let sat = ctx.rng.range(0.1, 0.45);
    for row in 0..2 {
        for col in 0..3 {
            let x = cell_w * col as f32 + (cell_w - card_w) / 2.0;
            let y = h * 0.2 + cell_h * row as f32;
            let fill = ctx.colour(sat, 0.95);
            ctx.card(
                "card",
                &Card {
                    rect: (x, y, card_w, card_h),
                    radius: 12.0 * ctx.unit,
                    fill,
                    fill2: None,
                    shadow: Some((5.0 * ctx.unit, 4.0 * ctx.unit)),
                },
            )?;
            let side = card_h * 0.72;
            ctx.clipart((x + (card_w - side) / 2.0, y + card_h * 0.14, side, side))?;
        }
    }
    Ok(())
}

/// A slide: a left-aligned title over a thin accent rule, three bullet points (a dot and
/// a line of text each) and an illustration on the right: nine elements.
fn slide(ctx: &mut Ctx, on_bg: Rgb) -> Result<(), DesignError> {
    let (w, h) = (ctx.w(), ctx.h());
    let left = w * 0.07;
    ctx.title((left, h * 0.2), false, on_bg)?;
    let accent = ctx.colour(0.75, 0.75);
    ctx.card(
        "accent rule",
        &Card {
            rect: (left, h * 0.255, w * 0.2, (6.0 * ctx.unit).max(3.0)),
            radius: 0.0,
            fill: accent,
            fill2: None,
            shadow: None,
        },
    )?;
    let px = (22.0 * ctx.unit).max(12.0);
    let first = ctx.rng.below(super::SUBTITLES.len());
    for i in 0..3 {
        let y = h * (0.42 + 0.13 * i as f32);
        let r = px * 0.22;
        ctx.card(
            "bullet",
            &Card {
                rect: (left, y - px * 0.35 - r, 2.0 * r, 2.0 * r),
                radius: r,
                fill: accent,
                fill2: None,
                shadow: None,
            },
        )?;
        ctx.text(
            "bullet text",
            &Text {
                text: super::SUBTITLES[(first + 2 * i) % super::SUBTITLES.len()],
                family: "Open Sans",
                weight: "normal",
                px,
                at: (left + px * 1.1, y),
                centred: false,
                colour: on_bg,
            },
        )?;
    }
    let side = (h * 0.6).min(w * 0.3);
    ctx.clipart((w * 0.95 - side, h * 0.22, side, side))
}
