//! Keeping the stack honest: a layer with almost nothing in it is merged into the layer
//! beneath it, and a bounded count is met by merging the least significant layers into
//! their neighbours below. Merging two adjacent layers is exact (the upper composited over
//! the lower), so the stack still reproduces the picture.

use crate::decompose::LayerSpec;
use crate::model::composite_cpu::blend_pixel;
use crate::model::pixels::{BBox, Premul, bounds_above, unpremultiply};
use crate::model::{BlendMode, Offset, RgbaImage};

/// A layer needs at least this share of its pixels above half alpha (issue #14: "no layer
/// with fewer than 1% of its pixels above alpha 0.5").
pub const MIN_SOLID_SHARE: f64 = 0.01;
/// And at least this many such pixels: a smaller layer is a speck, not an element.
pub const MIN_SOLID_PIXELS: usize = 12;

/// Pixels above half alpha, and the layer's pixel count.
fn solid_pixels(spec: &LayerSpec) -> (usize, usize) {
    let raw = spec.pixels.as_raw();
    let solid = raw.chunks_exact(4).filter(|p| p[3] > 127).count();
    (solid, raw.len() / 4)
}

/// Whether `spec` carries real content (see [`MIN_SOLID_SHARE`]).
pub fn is_real(spec: &LayerSpec) -> bool {
    let (solid, total) = solid_pixels(spec);
    // A one-pixel sliver is a leftover edge of something else, not an element.
    let sliver = spec.pixels.width() < 2 || spec.pixels.height() < 2;
    !sliver && solid >= MIN_SOLID_PIXELS && solid as f64 >= MIN_SOLID_SHARE * total as f64
}

/// Total alpha of a layer, in pixels: how much of the picture it holds.
fn mass(spec: &LayerSpec) -> f64 {
    spec.pixels
        .as_raw()
        .chunks_exact(4)
        .map(|p| f64::from(p[3]) / 255.0)
        .sum()
}

/// Merges every layer above the bottom one that fails [`is_real`] into the layer beneath.
pub fn drop_ghosts(specs: &mut Vec<LayerSpec>) {
    let mut i = 1;
    while i < specs.len() {
        if is_real(&specs[i]) {
            i += 1;
        } else {
            merge_down(specs, i);
        }
    }
}

/// A layer whose box fills at least this share of the box of the layer right beneath it
/// (and lies inside it), or the other way round, is a part of the same artwork, not an
/// element placed on it.
pub const PART_OF_BOX: f64 = 0.8;
/// Slack, in pixels, for "inside": anti-aliased rims and shadows reach a little past.
const INSIDE_SLACK: i32 = 2;

/// Merges each layer that is a part of the artwork beneath it into that layer: the
/// details of a multi-colour clip art or logo (its outline or frame, its shading, its
/// inner shapes) found as nested elements lie almost exactly over or around their base,
/// where an element a designer placed on a card or panel (an icon, a label) covers only a
/// part of it.
/// Measured on the design benchmark: parts cover 0.9–1.0 of their base's box, icons on
/// cards and badges 0.1–0.3. Text is never merged, nor merged into; nor is the bottom
/// layer. Exact, like every merge here.
pub fn merge_parts(specs: &mut Vec<LayerSpec>, is_text: impl Fn(&LayerSpec) -> bool) {
    let mut i = specs.len().saturating_sub(1);
    while i >= 2 {
        let (lower, upper) = (&specs[i - 1], &specs[i]);
        let (lb, ub) = (bounds(lower), bounds(upper));
        let part = |outer: BBox<i32>, inner: BBox<i32>| {
            with_slack(outer).encloses(&inner) && area(inner) / area(outer).max(1.0) >= PART_OF_BOX
        };
        // Either way round: a detail inside its base, or an outline or frame around it.
        if (part(lb, ub) || part(ub, lb)) && !is_text(lower) && !is_text(upper) {
            merge_down(specs, i);
        }
        i -= 1;
    }
}

/// Merges every layer other than text with fewer than `min_solid` pixels above half alpha
/// into the highest layer beneath it that its box overlaps (the background at worst), not
/// simply the next one down: a speck beside an element must not widen that element.
/// Exact: no layer between the two overlaps the speck, so moving it down to just above its
/// target changes nothing before the merge.
pub fn merge_specks(
    specs: &mut Vec<LayerSpec>,
    min_solid: usize,
    is_text: impl Fn(&LayerSpec) -> bool,
) {
    let mut i = specs.len().saturating_sub(1);
    while i >= 1 {
        if !is_text(&specs[i]) && solid_pixels(&specs[i]).0 < min_solid {
            merge_into(specs, i, lying_on(specs, i).unwrap_or(0));
        }
        i -= 1;
    }
}

/// A piece this small next to the layer it lies on (share of that layer's box) is a part of
/// its rim: the rounded end of a pill button, a corner of a badge. Measured on the design
/// benchmark: such pieces are 2–4 % of their button; icons and labels a designer places on
/// a card keep clear of its edge.
pub const RIM_PIECE: f64 = 0.05;

/// Merges every layer other than text that lies inside the box of the highest layer beneath
/// it that it overlaps, touches the edge of that layer's body (its pixels above half alpha,
/// not its soft shadow's reach) and is under [`RIM_PIECE`] of its box, into that layer. Never into the bottom layer or into text. Exact, as [`merge_specks`].
pub fn merge_rim_pieces(specs: &mut Vec<LayerSpec>, is_text: impl Fn(&LayerSpec) -> bool) {
    let mut i = specs.len().saturating_sub(1);
    while i >= 2 {
        let piece = bounds(&specs[i]);
        let target = lying_on(specs, i);
        if let Some(j) = target.filter(|&j| j >= 1 && !is_text(&specs[j]) && !is_text(&specs[i])) {
            let base = bounds(&specs[j]);
            // The edge of its body, not of its soft shadow's reach.
            let body = solid_bounds(&specs[j]).unwrap_or(base);
            let touches = piece.x0 - body.x0 <= INSIDE_SLACK
                || piece.y0 - body.y0 <= INSIDE_SLACK
                || body.x1 - piece.x1 <= INSIDE_SLACK
                || body.y1 - piece.y1 <= INSIDE_SLACK;
            if with_slack(base).encloses(&piece) && touches && area(piece) < RIM_PIECE * area(base)
            {
                merge_into(specs, i, j);
            }
        }
        i -= 1;
    }
}

/// Share of a text layer's box that the artwork beneath must cover with solid pixels for
/// the words to be drawn on it rather than placed beside or across it.
pub const ON_ART: f64 = 0.75;

/// Merges each text layer of `lettering` (indices into `specs`) into the artwork it is
/// drawn on: the highest layer beneath it that its box overlaps, when that layer is
/// multi-colour art (`is_art`: clip art, a logo, an illustration, not a one-colour shape
/// or panel), encloses the text's box and covers at least [`ON_ART`] of it with solid
/// pixels. Lettering painted on a drawing (a slogan on a recycling bin, a brand on a
/// product) belongs to the drawing, as it does in the file it came from, while words a
/// designer sets on a card, a button or a banner (one-colour or smooth shapes) stay text.
/// The caller passes only text on flat colour: words across a photograph are set on it,
/// not part of it. Exact, as [`merge_specks`].
pub fn merge_lettering(
    specs: &mut Vec<LayerSpec>,
    lettering: &[usize],
    is_art: impl Fn(&LayerSpec) -> bool,
) {
    let mut order = lettering.to_vec();
    order.sort_unstable_by(|a, b| b.cmp(a));
    // Highest first: merging layer i into j leaves the indices of the layers below i as
    // they were (it is removed above them and put back, merged, at j).
    for i in order {
        let Some(j) = lying_on(specs, i).filter(|&j| j >= 1 && is_art(&specs[j])) else {
            continue;
        };
        let text = bounds(&specs[i]);
        if with_slack(bounds(&specs[j])).encloses(&text) && solid_share(&specs[j], text) >= ON_ART {
            merge_into(specs, i, j);
        }
    }
}

/// Share of the canvas box `area` that `spec`'s pixels above half alpha cover.
fn solid_share(spec: &LayerSpec, area: BBox<i32>) -> f64 {
    let total = area.width().max(0) as usize * area.height().max(0) as usize;
    if total == 0 {
        return 0.0;
    }
    let covered = (area.y0..area.y1)
        .flat_map(|y| (area.x0..area.x1).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let (lx, ly) = (x - spec.offset.x, y - spec.offset.y);
            lx >= 0
                && ly >= 0
                && (lx as u32) < spec.pixels.width()
                && (ly as u32) < spec.pixels.height()
                && spec.pixels.get_pixel(lx as u32, ly as u32).0[3] > 127
        })
        .count();
    covered as f64 / total as f64
}

/// The highest layer beneath layer `i` whose box overlaps its box.
fn lying_on(specs: &[LayerSpec], i: usize) -> Option<usize> {
    let b = bounds(&specs[i]);
    (0..i)
        .rev()
        .find(|&j| !bounds(&specs[j]).intersect(b).is_empty())
}

/// Merges layer `i` into layer `j` beneath it. Exact when no layer between the two overlaps
/// layer `i` ([`lying_on`]): moving it down to just above `j` then changes nothing.
fn merge_into(specs: &mut Vec<LayerSpec>, i: usize, j: usize) {
    let moved = specs.remove(i);
    specs.insert(j + 1, moved);
    merge_down(specs, j + 1);
}

/// `b` grown by [`INSIDE_SLACK`] on every side.
fn with_slack(b: BBox<i32>) -> BBox<i32> {
    BBox::new(
        b.x0 - INSIDE_SLACK,
        b.y0 - INSIDE_SLACK,
        b.x1 + INSIDE_SLACK,
        b.y1 + INSIDE_SLACK,
    )
}

/// A layer's box on the picture.
fn bounds(spec: &LayerSpec) -> BBox<i32> {
    BBox::at(
        spec.offset.x,
        spec.offset.y,
        spec.pixels.width() as i32,
        spec.pixels.height() as i32,
    )
}

/// The canvas box of the pixels of `spec` above half alpha; `None` when it has none.
fn solid_bounds(spec: &LayerSpec) -> Option<BBox<i32>> {
    let b = bounds_above(&spec.pixels, 127)?;
    Some(BBox::at(
        spec.offset.x + b.x0 as i32,
        spec.offset.y + b.y0 as i32,
        b.width() as i32,
        b.height() as i32,
    ))
}

fn area(b: BBox<i32>) -> f64 {
    f64::from(b.width().max(0)) * f64::from(b.height().max(0))
}

/// Merges the least significant layers (smallest alpha mass, never the bottom one) into
/// their neighbours below until at most `limit` remain.
pub fn limit(specs: &mut Vec<LayerSpec>, limit: usize) {
    while specs.len() > limit.max(1) {
        let Some(smallest) =
            (1..specs.len()).min_by(|&a, &b| mass(&specs[a]).total_cmp(&mass(&specs[b])))
        else {
            return;
        };
        merge_down(specs, smallest);
    }
}

/// Composites layer `i` over layer `i − 1` into one layer (the lower one's name, blend and
/// place in the stack; the union of their boxes).
pub fn merge_down(specs: &mut Vec<LayerSpec>, i: usize) {
    if i == 0 || i >= specs.len() {
        return;
    }
    let upper = specs.remove(i);
    let lower = &mut specs[i - 1];
    let area = bounds(lower).union(bounds(&upper));
    let mut out = RgbaImage::new(area.width() as u32, area.height() as u32);
    for (spec, opacity) in [(&*lower, lower.opacity), (&upper, upper.opacity)] {
        let (dx, dy) = (spec.offset.x - area.x0, spec.offset.y - area.y0);
        for (x, y, p) in spec.pixels.enumerate_pixels() {
            let (ox, oy) = ((x as i32 + dx) as u32, (y as i32 + dy) as u32);
            let below = out.get_pixel(ox, oy).0;
            let acc: Premul = crate::model::pixels::premultiply(below);
            let blended = blend_pixel(acc, p.0, opacity, BlendMode::Normal);
            out.put_pixel(ox, oy, image::Rgba(unpremultiply(blended)));
        }
    }
    lower.pixels = out;
    lower.offset = Offset::new(area.x0, area.y0);
    lower.opacity = 1.0;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decompose::eval::{canvas_layers, document_of};
    use crate::model::composite;

    fn square(name: &str, at: (i32, i32), side: u32, colour: [u8; 4]) -> LayerSpec {
        LayerSpec::new(
            name,
            RgbaImage::from_pixel(side, side, image::Rgba(colour)),
            Offset::new(at.0, at.1),
        )
    }

    #[test]
    fn merging_keeps_the_composite() {
        let mut specs = vec![
            square("Background", (0, 0), 16, [10, 20, 30, 255]),
            square("a", (2, 2), 6, [200, 0, 0, 128]),
            square("b", (5, 5), 8, [0, 200, 0, 255]),
        ];
        let before = composite(&document_of(&specs, (16, 16)));
        limit(&mut specs, 2);
        assert_eq!(specs.len(), 2);
        assert_eq!(composite(&document_of(&specs, (16, 16))), before);
        assert_eq!(canvas_layers(&specs, (16, 16)).len(), 2);
    }

    #[test]
    fn a_part_lying_over_its_base_joins_it_and_an_icon_on_a_card_does_not() {
        let is_text = |s: &LayerSpec| s.name.starts_with("Text");
        let mut specs = vec![
            square("Background", (0, 0), 40, [10, 20, 30, 255]),
            square("Shape", (4, 4), 20, [200, 0, 0, 255]),
            square("Detail", (5, 5), 19, [0, 0, 200, 128]),
            square("Card", (26, 0), 14, [250, 250, 250, 255]),
            square("Icon", (28, 2), 5, [0, 200, 0, 255]),
            square("Text", (26, 0), 14, [0, 0, 0, 255]),
        ];
        let before = composite(&document_of(&specs, (40, 40)));
        merge_parts(&mut specs, is_text);
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Background", "Shape", "Card", "Icon", "Text"]);
        assert_eq!(composite(&document_of(&specs, (40, 40))), before);
    }

    #[test]
    fn a_frame_around_its_base_joins_it_and_a_wide_panel_under_a_card_does_not() {
        let is_text = |s: &LayerSpec| s.name.starts_with("Text");
        let mut specs = vec![
            square("Background", (0, 0), 60, [10, 20, 30, 255]),
            square("Body", (5, 5), 18, [0, 0, 200, 255]),
            square("Frame", (4, 4), 20, [250, 250, 250, 128]),
            square("Panel", (30, 30), 30, [200, 200, 200, 255]),
            square("Card", (32, 32), 12, [250, 0, 0, 255]),
        ];
        let before = composite(&document_of(&specs, (60, 60)));
        merge_parts(&mut specs, is_text);
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Background", "Body", "Panel", "Card"]);
        assert_eq!(composite(&document_of(&specs, (60, 60))), before);
    }

    /// The names left after [`merge_rim_pieces`] on a 60×60 canvas, whose composite it
    /// must leave as it was.
    fn rim_pieces_merged(mut specs: Vec<LayerSpec>) -> Vec<String> {
        let is_text = |s: &LayerSpec| s.name.starts_with("Text");
        let before = composite(&document_of(&specs, (60, 60)));
        merge_rim_pieces(&mut specs, is_text);
        assert_eq!(composite(&document_of(&specs, (60, 60))), before);
        specs.into_iter().map(|s| s.name).collect()
    }

    #[test]
    fn a_piece_at_a_buttons_edge_joins_it_and_an_icon_clear_of_the_edge_does_not() {
        let button = LayerSpec::new(
            "Button",
            RgbaImage::from_pixel(40, 12, image::Rgba([40, 40, 200, 255])),
            Offset::new(10, 20),
        );
        let specs = vec![
            square("Background", (0, 0), 60, [10, 20, 30, 255]),
            button,
            square("End", (47, 28), 3, [30, 30, 150, 255]),
            square("Icon", (14, 23), 3, [250, 250, 0, 255]),
            square("Text", (20, 22), 6, [255, 255, 255, 255]),
        ];
        assert_eq!(
            rim_pieces_merged(specs),
            ["Background", "Button", "Icon", "Text"]
        );
    }

    #[test]
    fn a_piece_at_the_edge_of_a_buttons_body_joins_it_beyond_its_shadow() {
        // A 40×12 body with a soft shadow 6 px wide all round: the layer's box is the
        // shadow's, 6 px beyond the body's edge where the end piece lies.
        let button = RgbaImage::from_fn(52, 24, |x, y| {
            let body = (6..46).contains(&x) && (6..18).contains(&y);
            image::Rgba(if body {
                [40, 40, 200, 255]
            } else {
                [0, 0, 0, 60]
            })
        });
        let specs = vec![
            square("Background", (0, 0), 60, [10, 20, 30, 255]),
            LayerSpec::new("Button", button, Offset::new(4, 14)),
            square("End", (47, 28), 3, [30, 30, 150, 255]),
            square("Icon", (14, 23), 3, [250, 250, 0, 255]),
        ];
        assert_eq!(rim_pieces_merged(specs), ["Background", "Button", "Icon"]);
    }

    #[test]
    fn a_speck_joins_the_layer_it_lies_on_not_its_neighbour() {
        let is_text = |s: &LayerSpec| s.name.starts_with("Text");
        let mut specs = vec![
            square("Background", (0, 0), 40, [10, 20, 30, 255]),
            square("Left", (0, 0), 10, [200, 0, 0, 255]),
            square("Right", (30, 30), 10, [0, 200, 0, 255]),
            square("speck", (2, 2), 2, [255, 255, 255, 255]),
            square("Text", (20, 2), 2, [0, 0, 0, 255]),
        ];
        let before = composite(&document_of(&specs, (40, 40)));
        let right_box = (specs[2].offset, specs[2].pixels.dimensions());
        merge_specks(&mut specs, 10, is_text);
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["Background", "Left", "Right", "Text"],
            "text is kept"
        );
        assert_eq!((specs[2].offset, specs[2].pixels.dimensions()), right_box);
        assert_eq!(composite(&document_of(&specs, (40, 40))), before);
    }

    #[test]
    fn a_faint_layer_is_merged_down() {
        let mut specs = vec![
            square("Background", (0, 0), 16, [10, 20, 30, 255]),
            square("faint", (0, 0), 16, [255, 255, 255, 20]),
        ];
        drop_ghosts(&mut specs);
        assert_eq!(specs.len(), 1);
    }

    #[test]
    fn lettering_on_art_joins_it_and_words_on_a_shape_or_across_an_edge_stay_text() {
        let is_art = |s: &LayerSpec| s.name.starts_with("Object");
        let specs = vec![
            square("Background", (0, 0), 60, [10, 20, 30, 255]),
            square("Object", (2, 2), 20, [0, 0, 0, 255]),
            square("Shape", (30, 2), 20, [250, 250, 250, 255]),
            square("Object", (2, 30), 20, [200, 0, 0, 255]),
            // On the art, well inside it.
            square("Text: on art", (6, 6), 8, [255, 255, 255, 255]),
            // On a one-colour shape: words set on a button.
            square("Text: on shape", (34, 6), 8, [0, 0, 0, 255]),
            // Across the edge of the art: half of its box is on the page.
            square("Text: across", (16, 36), 10, [255, 255, 255, 255]),
        ];
        let before = composite(&document_of(&specs, (60, 60)));
        let mut merged = specs.clone();
        merge_lettering(&mut merged, &[4, 5, 6], is_art);
        let names: Vec<&str> = merged.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Background",
                "Object",
                "Shape",
                "Object",
                "Text: on shape",
                "Text: across"
            ]
        );
        assert_eq!(composite(&document_of(&merged, (60, 60))), before);
        // Only the listed layers are candidates: words on textured fill are not passed.
        let mut untouched = specs.clone();
        merge_lettering(&mut untouched, &[5, 6], is_art);
        assert_eq!(untouched.len(), specs.len());
    }
}
