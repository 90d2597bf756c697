//! Graphic elements on a designed backdrop: every connected set of pixels that stands out
//! from the smooth backdrop model becomes a layer; a flat, box-like element (a card, a
//! button, a bar) is a *panel*, whose own body is fitted as a backdrop in turn, so that what
//! sits on it (an icon on a card) gets a layer of its own above it.
//!
//! Each element is found with hysteresis: pixels clearly off the backdrop seed it, and it
//! grows over pixels slightly off the backdrop nearby (anti-aliased edges, soft shadows), so
//! its alpha can fade out as the picture does. Small pieces enclosed by a bigger element's
//! box (the dot of an i, the parts of a logo) join it. Specks below a minimum size stay in
//! the backdrop: they would be ghost layers.

mod silhouette;

use std::collections::VecDeque;

use image::{GrayImage, Luma};

use super::backdrop::{self, Backdrop, Reach};
use super::field::{Field, Rgb, distance};
use super::plan::{Kind, Plan};
use super::shadow::is_shadow;
use crate::decompose::segment::components;
use crate::decompose::segment::morphology::erode;
use crate::model::pixels::BBox;

/// Deepest nesting of panels (a card on a panel on the page).
const MAX_DEPTH: usize = 3;
/// A panel's body colour must cover this share of its interior.
const PANEL_BODY_SHARE: f32 = 0.5;
/// A panel fills at least this share of its bounding box (rectangles, rounded rectangles).
const PANEL_FILL: f32 = 0.74;
/// A panel's silhouette matches a rectangle, rounded rectangle, pill or ellipse at least
/// this well (intersection over union): the shapes cards, buttons, bars and badges are
/// drawn with. Clip art with a flat body (a bin, a basket) tapers or carries a rim, and
/// stays one element with what is drawn on it.
const PANEL_SHAPE: f32 = 0.93;
/// Colour tolerance of a panel's body.
const BODY_TOLERANCE: f32 = 0.04;
/// An element of one colour over this share of its interior is a shape.
const SHAPE_SHARE: f32 = 0.9;

/// Thresholds of one search, in the units of [`distance`].
#[derive(Clone, Copy, Debug)]
pub struct Thresholds {
    /// Seeds an element.
    pub strong: f32,
    /// Lets an element grow.
    pub weak: f32,
    /// Fewest pixels of an element.
    pub min_area: usize,
    /// How far (pixels) an element grows beyond its seed pixels.
    pub reach: usize,
    /// Share of a panel's interior within tolerance of its commonest colour, enough to
    /// seed the fit of its body (a gradient body spreads over several colour bins; shaded
    /// clip art, which is no panel, over many).
    pub panel_seed: f32,
    /// Whether a panel's soft shadow beyond its body is left out of the elements on it, to
    /// be given to the panel by [`super::shadow::attach`]: on a designed backdrop, whose
    /// model is exact, not over a photograph's inpainted guess.
    pub shadows: bool,
}

/// A rectangular window of the analysis picture: its pixels, the underlay beneath them,
/// where elements may be found, and its place in the picture.
pub struct Window<'a> {
    pub picture: &'a Field,
    pub underlay: &'a Field,
    pub region: &'a [bool],
    /// Known pieces of art (labels, 0 = none), when the window has them (art over a
    /// photograph): elements start only on a piece, and the parts of one piece form one
    /// element however they are connected; they grow into the inpainted margin around it.
    pub pieces: Option<&'a [u32]>,
    pub origin: (u32, u32),
}

/// Finds the elements in `window` and appends their plans, bottom first: a panel comes
/// before what sits on it. Returns the indices in `plans` of the elements that sit on the
/// window's own underlay (not those on a panel).
pub fn find(window: &Window<'_>, t: Thresholds, depth: usize, plans: &mut Vec<Plan>) -> Vec<usize> {
    let (w, h) = (window.picture.width, window.picture.height);
    let off = |i: usize| distance(window.picture.data[i], window.underlay.data[i]);
    let strong: Vec<bool> = (0..w * h)
        .map(|i| window.region[i] && window.pieces.is_none_or(|p| p[i] != 0) && off(i) > t.strong)
        .collect();
    let weak: Vec<bool> = (0..w * h)
        .map(|i| window.region[i] && off(i) > t.weak)
        .collect();
    let mut owner = match window.pieces {
        Some(pieces) => (0..w * h)
            .map(|i| if strong[i] { pieces[i] } else { 0 })
            .collect(),
        None => label_seeds(&strong, w, h, t.min_area),
    };
    grow(&mut owner, &weak, w, h, t.reach);
    let groups = join_rows(join_enclosed(&owner, w, h), w);
    let mut own = Vec::new();
    for group in groups
        .iter()
        .filter(|g| has_crisp_edge(window.picture, &g.pixels))
    {
        // `place` pushes the group's own plan first, then what sits on it.
        let index = plans.len();
        place(window, group, &strong, t, depth, plans);
        if plans.len() > index {
            own.push(index);
        }
    }
    own
}

/// A step between neighbouring pixels this big counts as a drawn edge.
const MIN_EDGE: f32 = 0.08;
/// Share of an element's box half-perimeter that must be drawn edge.
const MIN_EDGE_SHARE: f32 = 0.25;

/// Whether the pixels have a drawn element's crisp outline: drawn elements (cards, icons,
/// text) step sharply from their backdrop along much of their outline, while the blobs that
/// stand out of a soft photographic backdrop (a highlight, a blurred leaf) fade in.
fn has_crisp_edge(picture: &Field, pixels: &[usize]) -> bool {
    let w = picture.width;
    let Some(bbox) = pixel_box(pixels, w) else {
        return false;
    };
    let edges = pixels
        .iter()
        .filter(|&&i| {
            let (x, y) = (i % w, i / w);
            neighbours(x, y, w, picture.height)
                .any(|(nx, ny)| distance(picture.data[i], picture.data[ny * w + nx]) >= MIN_EDGE)
        })
        .count();
    edges as f32 >= MIN_EDGE_SHARE * (bbox.width() + bbox.height()) as f32
}

/// Plans one group of pixels: a panel with what sits on it or overhangs it, or one element.
fn place(
    window: &Window<'_>,
    group: &Group,
    strong: &[bool],
    t: Thresholds,
    depth: usize,
    plans: &mut Vec<Plan>,
) {
    let Some(bbox) = pixel_box(&group.pixels, window.picture.width) else {
        return;
    };
    if depth + 1 < MAX_DEPTH
        && !group.text
        && let Some(panel) = panel(window, &group.pixels, bbox, strong, t)
    {
        let (mut plan, _) = element(window, &panel.shape, panel.bbox, strong);
        plan.kind = Kind::Shape;
        plans.push(plan);
        let (bw, bh) = (bbox.width() as usize, bbox.height() as usize);
        let child_window = Window {
            picture: &crop(window.picture, window.picture.width, bbox),
            underlay: &panel.underlay,
            region: &panel.rest,
            pieces: None,
            origin: (bbox.x0 + window.origin.0, bbox.y0 + window.origin.1),
        };
        debug_assert_eq!(panel.rest.len(), bw * bh);
        find(&child_window, t, depth + 1, plans);
        return;
    }
    let (mut plan, _) = element(window, &group.pixels, bbox, strong);
    if group.text {
        plan.kind = Kind::Text;
    }
    plans.push(plan);
}

/// The box of window pixels `pixels`.
fn pixel_box(pixels: &[usize], w: usize) -> Option<BBox> {
    BBox::enclosing(pixels.iter().map(|&i| ((i % w) as u32, (i / w) as u32)))
}

/// `field` cropped to `bbox` (window coordinates; `w` is the field's width).
fn crop(field: &Field, w: usize, bbox: BBox) -> Field {
    let (bw, bh) = (bbox.width() as usize, bbox.height() as usize);
    Field::from_fn(bw, bh, |x, y| {
        field.data[(bbox.y0 as usize + y) * w + bbox.x0 as usize + x]
    })
}

/// Component labels (1-based, 0 = none) of the seed pixels, specks dropped.
fn label_seeds(seeds: &[bool], w: usize, h: usize, min_area: usize) -> Vec<u32> {
    let mask = GrayImage::from_fn(w as u32, h as u32, |x, y| {
        Luma([if seeds[y as usize * w + x as usize] {
            255
        } else {
            0
        }])
    });
    let labels = components::label(&mask, 127);
    let mut owner = vec![0u32; w * h];
    for c in labels.components.iter().filter(|c| c.area >= min_area) {
        for &p in &c.pixels {
            owner[p as usize] = c.label;
        }
    }
    owner
}

/// Grows labelled pixels over `allowed` pixels, at most `reach` steps (breadth first, so a
/// contested pixel goes to the nearer element).
pub(super) fn grow(owner: &mut [u32], allowed: &[bool], w: usize, h: usize, reach: usize) {
    let mut queue: VecDeque<(usize, usize)> = (0..w * h)
        .filter(|&i| owner[i] != 0)
        .map(|i| (i, 0))
        .collect();
    while let Some((i, steps)) = queue.pop_front() {
        if steps >= reach {
            continue;
        }
        let (x, y) = (i % w, i / w);
        for (nx, ny) in neighbours(x, y, w, h) {
            let j = ny * w + nx;
            if owner[j] == 0 && allowed[j] {
                owner[j] = owner[i];
                queue.push_back((j, steps + 1));
            }
        }
    }
}

/// The 8 neighbours of `(x, y)` inside a `w`×`h` grid.
fn neighbours(x: usize, y: usize, w: usize, h: usize) -> impl Iterator<Item = (usize, usize)> {
    (-1i64..=1)
        .flat_map(|dy| (-1i64..=1).map(move |dx| (dx, dy)))
        .filter(|&d| d != (0, 0))
        .filter_map(move |(dx, dy)| {
            let (nx, ny) = (x as i64 + dx, y as i64 + dy);
            (nx >= 0 && ny >= 0 && nx < w as i64 && ny < h as i64)
                .then_some((nx as usize, ny as usize))
        })
}

/// Pixels that form one element, and whether they read as a row of glyphs.
pub struct Group {
    pub pixels: Vec<usize>,
    pub text: bool,
}

/// The labelled pixels as groups; a group whose box lies inside a bigger group's box joins
/// it (the dot of an i, the pieces of a logo, a ring's centre).
fn join_enclosed(owner: &[u32], w: usize, _h: usize) -> Vec<(BBox, Vec<usize>)> {
    let count = owner.iter().copied().max().unwrap_or(0) as usize;
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); count + 1];
    for (i, &o) in owner.iter().enumerate() {
        if o != 0 {
            groups[o as usize].push(i);
        }
    }
    let mut groups: Vec<(BBox, Vec<usize>)> = groups
        .into_iter()
        .filter_map(|g| Some((pixel_box(&g, w)?, g)))
        .collect();
    groups.sort_by_key(|(_, g)| std::cmp::Reverse(g.len()));
    let mut kept: Vec<(BBox, Vec<usize>)> = Vec::new();
    for (b, g) in groups {
        match kept.iter_mut().find(|(k, _)| k.encloses(&b)) {
            Some((_, into)) => into.extend(g),
            None => kept.push((b, g)),
        }
    }
    kept
}

/// Joins small groups that stand in a row like the glyphs of a word (similar heights,
/// overlapping vertically, gaps under a glyph's height), and rows stacked like the lines of
/// a paragraph. A row of three or more becomes one text group: text the detector missed
/// still comes out as one layer, not a layer per letter.
fn join_rows(groups: Vec<(BBox, Vec<usize>)>, w: usize) -> Vec<Group> {
    let small = |b: &BBox| b.height() <= GLYPH_MAX_HEIGHT && b.width() <= 3 * GLYPH_MAX_HEIGHT;
    let members = components::clusters(groups.len(), |i, j| {
        let (a, b) = (groups[i].0, groups[j].0);
        small(&a) && small(&b) && glyph_neighbours(a, b)
    });
    let mut rows: Vec<(BBox, Group)> = Vec::new();
    let mut groups: Vec<Option<Vec<usize>>> = groups.into_iter().map(|(_, g)| Some(g)).collect();
    for m in members {
        let text = m.len() >= 3;
        let pixels: Vec<usize> = m
            .iter()
            .filter_map(|&i| groups[i].take())
            .flatten()
            .collect();
        if let Some(b) = pixel_box(&pixels, w) {
            rows.push((b, Group { pixels, text }));
        }
    }
    // Pieces inside a row's box (the bars of an E, an accent) belong to the row.
    rows.sort_by_key(|(b, _)| std::cmp::Reverse(u64::from(b.width()) * u64::from(b.height())));
    let mut out: Vec<(BBox, Group)> = Vec::new();
    for (b, g) in rows {
        match out.iter_mut().find(|(k, kg)| kg.text && k.encloses(&b)) {
            Some((_, into)) => into.pixels.extend(g.pixels),
            None => out.push((b, g)),
        }
    }
    out.into_iter().map(|(_, g)| g).collect()
}

/// Tallest glyph, in analysis pixels, that row joining considers.
const GLYPH_MAX_HEIGHT: u32 = 64;

/// Whether two glyph-sized boxes sit like neighbouring letters or lines.
fn glyph_neighbours(a: BBox, b: BBox) -> bool {
    let (ha, hb) = (a.height() as f32, b.height() as f32);
    let (lo, hi) = (ha.min(hb), ha.max(hb));
    let v_overlap = a.y1.min(b.y1) as f32 - a.y0.max(b.y0) as f32;
    let h_gap = a.x0.max(b.x0) as f32 - a.x1.min(b.x1) as f32;
    if v_overlap >= 0.5 * lo && hi <= 2.5 * lo.max(2.0) {
        return h_gap <= 0.8 * hi;
    }
    let v_gap = a.y0.max(b.y0) as f32 - a.y1.min(b.y1) as f32;
    v_gap >= 0.0 && v_gap <= 0.6 * hi && hi <= 1.6 * lo && h_gap <= 0.8 * hi
}

/// The plan of one element (window pixels `pixels`, box `bbox` in window coordinates).
fn element(window: &Window<'_>, pixels: &[usize], bbox: BBox, strong: &[bool]) -> (Plan, f32) {
    let w = window.picture.width;
    let (bw, bh) = (bbox.width() as usize, bbox.height() as usize);
    let local = |i: usize| (i % w - bbox.x0 as usize) + (i / w - bbox.y0 as usize) * bw;
    let mut mask = vec![false; bw * bh];
    for &i in pixels {
        mask[local(i)] = true;
    }
    let at = |li: usize| (bbox.y0 as usize + li / bw) * w + bbox.x0 as usize + li % bw;
    let solid = interior(&mask, bw, bh, |li| strong[at(li)]);
    let picture = crop(window.picture, w, bbox);
    let colour = nearest_colour(&picture, &solid, &mask, |li| strong[at(li)]);
    let share = dominant(&picture, &solid).map_or(0.0, |(_, share)| share);
    let kind = if share >= SHAPE_SHARE {
        Kind::Shape
    } else {
        Kind::Graphic
    };
    let (ox, oy) = window.origin;
    let plan = Plan {
        kind,
        bbox: BBox::new(bbox.x0 + ox, bbox.y0 + oy, bbox.x1 + ox, bbox.y1 + oy),
        mask,
        solid,
        colour,
        underlay: crop(window.underlay, w, bbox),
        words: None,
        alpha: None,
    };
    (plan, share)
}

/// Mask pixels (of a `bw`×`bh` grid) that pass `keep` and whose 8 neighbours are all in
/// the mask.
fn interior(mask: &[bool], bw: usize, bh: usize, keep: impl Fn(usize) -> bool) -> Vec<bool> {
    (0..bw * bh)
        .map(|li| {
            let (x, y) = (li % bw, li / bw);
            mask[li]
                && keep(li)
                && neighbours(x, y, bw, bh).count() == 8
                && neighbours(x, y, bw, bh).all(|(nx, ny)| mask[ny * bw + nx])
        })
        .collect()
}

/// Width, in pixels, of the rim that seeds a gradient panel's body.
const RIM_WIDTH: usize = 3;
/// Share of a gradient panel's rim that its smooth body model must explain. Measured on
/// the design benchmark: 0.84 on a shaded badge whose clip art overlaps its edge, 0.61 on
/// one whose clip art covers a third of its rim, 0.56 and less on shaded clip art (which the
/// panel's shape test then turns away as well).
const SMOOTH_RIM_SHARE: f32 = 0.6;

/// The pixels of `solid` within [`RIM_WIDTH`] of its edge.
fn rim(solid: &[bool], bw: usize, bh: usize) -> Vec<bool> {
    let inner = erode(solid, bw, bh, RIM_WIDTH);
    solid.iter().zip(&inner).map(|(&s, &i)| s && !i).collect()
}

/// A panel found in a group: its shape (window pixels), box, what lies beneath the pixels
/// of the group's box that are not the panel's body (its body model inside the panel, the
/// window's underlay outside), and those pixels (the group's box, row-major).
struct Panel {
    shape: Vec<usize>,
    bbox: BBox,
    underlay: Field,
    rest: Vec<bool>,
}

/// The panel in a group: a flat or gradient body that fills most of its own box (a card, a
/// button, a bar), with other elements on it or overhanging its edge.
fn panel(
    window: &Window<'_>,
    pixels: &[usize],
    bbox: BBox,
    strong: &[bool],
    t: Thresholds,
) -> Option<Panel> {
    let w = window.picture.width;
    let (bw, bh) = (bbox.width() as usize, bbox.height() as usize);
    let mut mask = vec![false; bw * bh];
    for &i in pixels {
        mask[(i % w - bbox.x0 as usize) + (i / w - bbox.y0 as usize) * bw] = true;
    }
    let at = |li: usize| (bbox.y0 as usize + li / bw) * w + bbox.x0 as usize + li % bw;
    let solid = interior(&mask, bw, bh, |li| strong[at(li)]);
    let picture = crop(window.picture, w, bbox);
    // A flat body is seeded by its commonest colour. A gradient body (a shaded badge, a
    // glossy button) spreads over many colours, so it is seeded by its rim instead, as the
    // page's backdrop is by the picture's border: what sits on a panel rarely covers much
    // of its edge. Most of that rim must then fit one smooth model: shaded clip art, whose
    // outline changes colour all around, is no panel.
    let (seeds, from_rim) = match dominant(&picture, &solid) {
        Some((colour, share)) if share >= t.panel_seed => {
            let seeds = (0..bw * bh)
                .map(|li| solid[li] && distance(picture.data[li], colour) < BODY_TOLERANCE)
                .collect();
            (seeds, false)
        }
        _ => (rim(&solid, bw, bh), true),
    };
    let fit: Backdrop = body_fit(&picture, &mask, &seeds);
    if from_rim && fit.seed_share < SMOOTH_RIM_SHARE {
        return None;
    }
    let body: Vec<usize> = (0..bw * bh).filter(|&li| fit.inlier[li]).collect();
    let body_box = pixel_box(&body, bw)?;
    // The body's box, grown by the panel's anti-aliased rim.
    let rim = BBox::new(
        body_box.x0.saturating_sub(2),
        body_box.y0.saturating_sub(2),
        (body_box.x1 + 2).min(bw as u32),
        (body_box.y1 + 2).min(bh as u32),
    );
    let in_box = |li: usize| rim.contains((li % bw) as u32, (li / bw) as u32);
    let covered = (0..bw * bh).filter(|&li| mask[li] && in_box(li)).count();
    let box_area = body_box.width() as usize * body_box.height() as usize;
    if body.len() < 300
        || (covered as f32) < PANEL_FILL * box_area as f32
        || (body.len() as f32) < PANEL_BODY_SHARE * covered as f32
        || silhouette::designed_shape_match(&mask, bw, rim) < PANEL_SHAPE
    {
        return None;
    }
    // Over a photograph the group grew from the known pieces of art into the margin where
    // the photo was inpainted; where that guess misses the photo (grass, foliage) the growth
    // takes photograph too. Off the panel's body and off every piece, such pixels are
    // photograph: left in the panel, they formed a ring around it that, as a child,
    // enclosed (and so swallowed) what sits on the panel.
    let grown_into_photo =
        |li: usize| !fit.inlier[li] && window.pieces.is_some_and(|p| p[at(li)] == 0);
    let shape_local: Vec<bool> = (0..bw * bh)
        .map(|li| mask[li] && in_box(li) && !grown_into_photo(li))
        .collect();
    // The panel's own edge (anti-aliased against the backdrop) stays with the panel.
    let core = interior(&shape_local, bw, bh, |_| true);
    let outside = crop(window.underlay, w, bbox);
    // Beyond its body, a panel's soft shadow is no element of its own: it is left out here
    // and given to the panel's layer with the other shadows (see `shadow`).
    let rest: Vec<bool> = (0..bw * bh)
        .map(|li| {
            let on_body = body_box.contains((li % bw) as u32, (li / bw) as u32);
            let part_of_rest = if shape_local[li] {
                // The panel's anti-aliased rim, around its body's box, is the panel's; where
                // its shadow widens the mask, that rim is no longer at the mask's edge.
                core[li] && (on_body || !t.shadows)
            } else {
                !(t.shadows && is_shadow(picture.data[li], outside.data[li]))
            };
            mask[li] && !fit.inlier[li] && !grown_into_photo(li) && part_of_rest
        })
        .collect();
    if !rest.iter().any(|&r| r) {
        return None;
    }
    let underlay = Field::from_fn(bw, bh, |x, y| {
        let li = y * bw + x;
        if shape_local[li] {
            fit.model.data[li]
        } else {
            outside.data[li]
        }
    });
    let shape: Vec<usize> = (0..bw * bh).filter(|&li| shape_local[li]).map(at).collect();
    let panel_box = pixel_box(&shape, w)?;
    Some(Panel {
        shape,
        bbox: panel_box,
        underlay,
        rest,
    })
}

/// Share of a panel's body, fitted anywhere, that must connect to its seeds or its edge for
/// the body to be one surface.
const CONNECTED_BODY: f32 = 0.9;

/// A panel's body. A card's body is one surface, and what is shut inside a child drawn on it
/// (the pale faces of an outlined icon on a pale card) is the child's, however close its
/// colour. But shaded clip art that passes for a panel (an outlined box in perspective) is
/// cut into faces by its own strokes; its body, fitted connected, would lose whole faces to
/// "children". So the connected fit is taken when it keeps nearly all of the body.
fn body_fit(picture: &Field, mask: &[bool], seeds: &[bool]) -> Backdrop {
    let anywhere = backdrop::fit(picture, mask, seeds, Reach::Anywhere);
    let connected = backdrop::fit(picture, mask, seeds, Reach::Connected);
    let count = |b: &Backdrop| b.inlier.iter().filter(|&&v| v).count() as f32;
    if count(&connected) >= CONNECTED_BODY * count(&anywhere) {
        connected
    } else {
        anywhere
    }
}

/// Each pixel's element colour: its own where it is a seed, else that of the nearest seed.
fn nearest_colour(
    picture: &Field,
    solid: &[bool],
    mask: &[bool],
    seed: impl Fn(usize) -> bool,
) -> Field {
    let (w, h) = (picture.width, picture.height);
    let mut colour = picture.clone();
    let mut done = vec![false; w * h];
    let mut queue = VecDeque::new();
    for li in 0..w * h {
        if mask[li] && (solid[li] || seed(li)) {
            done[li] = true;
            queue.push_back(li);
        }
    }
    if queue.is_empty() {
        return colour;
    }
    while let Some(i) = queue.pop_front() {
        for (nx, ny) in neighbours(i % w, i / w, w, h) {
            let j = ny * w + nx;
            if !done[j] {
                done[j] = true;
                colour.data[j] = colour.data[i];
                queue.push_back(j);
            }
        }
    }
    colour
}

/// The most common colour among the `interior` pixels (4 bits a channel) and the share of
/// the interior within [`BODY_TOLERANCE`] of it.
fn dominant(picture: &Field, interior: &[bool]) -> Option<(Rgb, f32)> {
    let mut bins = vec![(0u32, [0.0f32; 3]); 4096];
    let mut total = 0usize;
    for (p, _) in picture.data.iter().zip(interior).filter(|(_, s)| **s) {
        let q = p.map(|v| ((v * 15.0).round() as usize).min(15));
        let bin = &mut bins[q[0] * 256 + q[1] * 16 + q[2]];
        bin.0 += 1;
        for (acc, v) in bin.1.iter_mut().zip(p) {
            *acc += v;
        }
        total += 1;
    }
    let (count, sum) = bins.iter().max_by_key(|(n, _)| *n).copied()?;
    if count == 0 {
        return None;
    }
    let colour = sum.map(|s| s / count as f32);
    let close = picture
        .data
        .iter()
        .zip(interior)
        .filter(|(p, s)| **s && distance(**p, colour) < BODY_TOLERANCE)
        .count();
    Some((colour, close as f32 / total as f32))
}

#[cfg(test)]
mod tests;
