//! Text layers: the lines PP-OCRv4's detector finds ([`crate::decompose::nn::dbnet`]) are
//! grouped into blocks (a title, a paragraph, a button label), and each block is matted with
//! two colours: the text's own colour and the local background, a smooth field fitted to the
//! block's rim and to the pixels between the glyphs. Alpha is the pixel's position between
//! the two, so anti-aliased glyph edges come out soft, and the layer keeps one colour, so
//! recolouring it recolours the text. Where the words sit on a solid block that fills their
//! box (a button's label), the local background is that block, continued under the glyphs.

use std::cell::LazyCell;

use super::backdrop::{self, border_ring};
use super::field::{Field, Rgb, distance, median, push_pull};
use super::plan::{Kind, Plan, project, unmix};
use crate::decompose::DecomposeError;
use crate::decompose::nn::{dbnet, ocr_rec};
use crate::decompose::segment::components;
use crate::decompose::segment::morphology::{erode, flood};
use crate::model::RgbaImage;
use crate::model::pixels::BBox;

/// Lines whose heights differ by more than this ratio belong to different blocks (a title
/// and its subtitle).
const HEIGHT_RATIO: f32 = 1.35;
/// Largest gap between two lines of one block, in line heights.
const LINE_GAP: f32 = 0.9;
/// Largest gap between two words of one line, in line heights.
const WORD_GAP: f32 = 1.5;
/// Text must differ at least this much from its background to be lifted out.
const MIN_CONTRAST: f32 = 0.12;

/// The text lines PP-OCRv4's detector finds in `image` (analysed with its longer side at
/// most `max_side`), as boxes in picture pixels.
pub fn detect(image: &RgbaImage, max_side: u32) -> Result<Vec<BBox>, DecomposeError> {
    let map = dbnet::text_map(image, max_side)?;
    Ok(dbnet::text_lines(&map, image.dimensions())
        .into_iter()
        .map(|line| line.bbox)
        .collect())
}

/// A block of text lines: a title, a paragraph, a button label.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// The box holding every line, in picture pixels.
    pub bbox: BBox,
    /// The lines, top first.
    pub lines: Vec<BBox>,
}

/// Groups detected lines (picture pixels of `image`) into blocks: lines of similar height
/// and one ink colour stacked closely and aligned (left, centre or overlapping), and words of
/// one line side by side. A green title over a grey subtitle is two blocks even where the
/// detector's padded boxes make their heights look alike.
pub fn blocks(lines: &[BBox], image: &RgbaImage) -> Vec<Block> {
    let inks: Vec<Rgb> = lines.iter().map(|&l| ink(image, l)).collect();
    let mut blocks: Vec<Block> = components::clusters(lines.len(), |i, j| {
        same_block(lines[i], lines[j]) && distance(inks[i], inks[j]) <= INK_TOLERANCE
    })
    .into_iter()
    .filter_map(|set| {
        let lines: Vec<BBox> = set.iter().map(|&i| lines[i]).collect();
        let bbox = lines.iter().copied().reduce(BBox::union)?;
        Some(Block { bbox, lines })
    })
    .collect();
    for b in &mut blocks {
        b.lines.sort_by_key(|l| (l.y0, l.x0));
    }
    blocks.sort_by_key(|b| (b.bbox.y0, b.bbox.x0));
    blocks
}

/// Largest difference between the ink colours of two lines of one block.
const INK_TOLERANCE: f32 = 0.2;
/// Share of a line box's pixels, the farthest from its rim's colour, taken as its ink.
const INK_SHARE: f32 = 0.1;
/// Most pixels of a line box sampled for its ink.
const INK_SAMPLES: u32 = 20_000;

/// The colour of a line's ink: the mean of the [`INK_SHARE`] of its box's pixels farthest
/// from the colour of the box's rim (per-channel median), which the detector's padding puts
/// on the background.
fn ink(image: &RgbaImage, line: BBox) -> Rgb {
    let (w, h) = image.dimensions();
    let b = BBox::new(
        line.x0.min(w),
        line.y0.min(h),
        line.x1.min(w),
        line.y1.min(h),
    );
    if b.width() == 0 || b.height() == 0 {
        return [0.0; 3];
    }
    let area = u64::from(b.width()) * u64::from(b.height());
    let stride = ((area as f64 / f64::from(INK_SAMPLES)).sqrt().ceil() as u32).max(1);
    let at = |x: u32, y: u32| {
        let p = image.get_pixel(x, y).0;
        [p[0], p[1], p[2]].map(|v| f32::from(v) / 255.0)
    };
    let mut rim: Vec<Rgb> = Vec::new();
    let mut inside: Vec<Rgb> = Vec::new();
    for y in (b.y0..b.y1).step_by(stride as usize) {
        for x in (b.x0..b.x1).step_by(stride as usize) {
            let edge =
                x < b.x0 + stride || y < b.y0 + stride || x + stride >= b.x1 || y + stride >= b.y1;
            if edge {
                rim.push(at(x, y));
            }
            inside.push(at(x, y));
        }
    }
    let background = median(&rim);
    inside.sort_by(|p, q| distance(*q, background).total_cmp(&distance(*p, background)));
    let n = ((inside.len() as f32 * INK_SHARE).ceil() as usize).clamp(1, inside.len());
    let sum = inside[..n]
        .iter()
        .fold([0.0f32; 3], |acc, p| std::array::from_fn(|c| acc[c] + p[c]));
    sum.map(|v| v / n as f32)
}

/// The words of a block, read line by line from `image` (at most [`READ_LINES`] lines,
/// shortened to [`NAME_CHARS`] characters); `None` when nothing legible was read.
pub fn read(image: &RgbaImage, block: &Block) -> Result<Option<String>, DecomposeError> {
    let mut words = Vec::new();
    for line in block.lines.iter().take(READ_LINES) {
        let crop = image::imageops::crop_imm(image, line.x0, line.y0, line.width(), line.height())
            .to_image();
        let (text, confidence) = ocr_rec::recognize_line(&crop)?;
        if confidence >= MIN_CONFIDENCE && !text.trim().is_empty() {
            words.push(text.trim().to_string());
        }
    }
    let joined = words.join(" ");
    if joined.is_empty() {
        return Ok(None);
    }
    let mut name: String = joined.chars().take(NAME_CHARS).collect();
    if joined.chars().count() > NAME_CHARS {
        name.push('…');
    }
    Ok(Some(name))
}

/// Whether a detected block is text, given its reading: a block that is barely read is
/// judged by its shape ([`weakly_read`], [`unread_not_text`]), and a giant line must be
/// read as words. The detector can take a whole grid of cards with icons on them, or a
/// large illustration, for one line of huge letters (measured: boxes of 0.8–0.9 of the
/// picture's height read as "88" or "8"); real lines that large are headlines of several
/// letters, which the recogniser reads.
pub fn is_text(block: &Block, words: Option<&str>, picture: (u32, u32)) -> bool {
    let tallest = block.lines.iter().map(BBox::height).max().unwrap_or(0);
    let giant = tallest * GIANT_LINE_SHARE_INV > picture.0.min(picture.1);
    let letters = words.map_or(0, |w| w.chars().filter(|c| c.is_alphanumeric()).count());
    if giant && letters < GIANT_MIN_LETTERS {
        return false;
    }
    !(weakly_read(words) && unread_not_text(block, picture))
}

/// A line taller than this fraction (1/n) of the picture's shorter side is giant.
const GIANT_LINE_SHARE_INV: u32 = 3;
/// Letters or digits a giant line must be read as to be text.
const GIANT_MIN_LETTERS: usize = 3;

/// Whether a block the recogniser could not read is better left to the element and object
/// passes than made a text layer. The detector also fires on things that are not text: a
/// bold icon or a cluster of flowers taken for a line of huge letters, a handle, a stripe,
/// a window in a clip-art building. Real lines that tall are rare and, being large, are
/// read; and a line of text that the recogniser cannot read (an unusual script or face)
/// still runs for several characters, so it is much wider than tall. An unread block is
/// text only when it is not too tall and some line of it is that long.
pub fn unread_not_text(block: &Block, (width, height): (u32, u32)) -> bool {
    let tallest = block.lines.iter().map(BBox::height).max().unwrap_or(0);
    let too_tall = tallest * MAX_UNREAD_LINE_SHARE_INV > width.min(height);
    let runs_on = block
        .lines
        .iter()
        .any(|l| l.width() >= MIN_UNREAD_LINE_ASPECT * l.height());
    too_tall || !runs_on
}

/// Whether a block's reading says little about whether it is text at all: none, or a single
/// letter or digit. A ring reads as "O", a bar as "I" or "l", so a one-character reading of
/// a graphic is no evidence; such a block is judged as an unread one ([`unread_not_text`]).
pub fn weakly_read(words: Option<&str>) -> bool {
    words.is_none_or(|w| w.chars().filter(|c| c.is_alphanumeric()).count() < 2)
}

/// An unread line taller than this fraction (1/n) of the picture's shorter side is not
/// taken for text.
const MAX_UNREAD_LINE_SHARE_INV: u32 = 6;
/// An unread block is text only if one of its lines is at least this many times wider
/// than tall (about four characters or more). Measured on the design benchmark: every
/// unread block narrower than that (icons, handles, stripes: 1.0–2.4) was not text, and
/// every real line was read.
const MIN_UNREAD_LINE_ASPECT: u32 = 3;

/// Lines of a block read for its name.
const READ_LINES: usize = 2;
/// Longest layer name, in characters, before "…".
const NAME_CHARS: usize = 32;
/// Mean character confidence below which a reading is not used as a name.
const MIN_CONFIDENCE: f32 = 0.6;

fn same_block(a: BBox, b: BBox) -> bool {
    let (ha, hb) = (a.height() as f32, b.height() as f32);
    if ha.max(hb) > HEIGHT_RATIO * ha.min(hb) {
        return false;
    }
    let h = ha.min(hb);
    let v_overlap = a.y1.min(b.y1) as f32 - a.y0.max(b.y0) as f32;
    let h_gap = (a.x0.max(b.x0) as f32 - a.x1.min(b.x1) as f32).max(0.0);
    if v_overlap > 0.5 * h {
        return h_gap <= WORD_GAP * h;
    }
    let v_gap = (a.y0.max(b.y0) as f32 - a.y1.min(b.y1) as f32).max(0.0);
    let centre = |b: BBox| (b.x0 + b.x1) as f32 / 2.0;
    let aligned = a.x0.max(b.x0) < a.x1.min(b.x1)
        || (a.x0 as f32 - b.x0 as f32).abs() <= 0.5 * h
        || (centre(a) - centre(b)).abs() <= 0.5 * h;
    v_gap <= LINE_GAP * h && aligned
}

/// Texture of a block's surroundings (median distance of its rim to the smooth fit) above
/// which the background under the text is inpainted rather than continued smoothly.
const TEXTURED_RIM: f32 = 0.003;

/// The text plan for `block` (picture pixels) on `picture` (analysis resolution, `scale`
/// picture pixels per analysis pixel), and whether the text sits on texture (a photograph,
/// smoke) rather than a flat or gradient fill; `None` when the block holds no text that
/// stands out from its background.
pub fn plan(picture: &RgbaImage, scale: f32, block: BBox) -> Option<(Plan, bool)> {
    let (pw, ph) = picture.dimensions();
    let line = (block.height() as f32 / scale).max(1.0);
    let margin = (0.2 * line).round().max(2.0) as u32;
    let x0 = ((block.x0 as f32 / scale) as u32).saturating_sub(margin);
    let y0 = ((block.y0 as f32 / scale) as u32).saturating_sub(margin);
    let x1 = (((block.x1 as f32 / scale).ceil() as u32) + margin).min(pw);
    let y1 = (((block.y1 as f32 / scale).ceil() as u32) + margin).min(ph);
    if x1 <= x0 + 2 || y1 <= y0 + 2 {
        return None;
    }
    let bbox = BBox::new(x0, y0, x1, y1);
    let crop = image::imageops::crop_imm(picture, x0, y0, x1 - x0, y1 - y0).to_image();
    let field = Field::from_image(&crop);
    let (w, h) = (field.width, field.height);
    let fit = backdrop::fit(
        &field,
        &vec![true; w * h],
        &border_ring(w, h, 2),
        backdrop::Reach::Connected,
    );
    let (colour, block_colour) = text_colour(&field, &fit.model, &fit.inlier)?;
    let underlay = match block_colour {
        // The block the words sit on is what lies beneath them, not the page around it.
        Some(block) => {
            let known: Vec<bool> = (0..w * h)
                .map(|i| fit.inlier[i] || distance(field.data[i], block) < NEAR_COLOUR)
                .collect();
            push_pull(&field, &known, true)
        }
        None => fit.model,
    };
    let mut alphas: Vec<f32> = (0..w * h)
        .map(|i| {
            if fit.inlier[i] {
                0.0
            } else {
                unmix(field.data[i], underlay.data[i], colour)
            }
        })
        .collect();
    let explained = explained_pixels(&field, &underlay, colour, &alphas);
    detach_other_marks(&explained, &mut alphas, (w, h));
    let covered = alphas.iter().filter(|&&a| a > 0.5).count();
    if covered < 10 || covered * 100 < w * h {
        return None;
    }
    // Every explained pixel stays attached, so this is their share of the solid ones.
    let explained_count = explained.iter().filter(|&&e| e).count();
    if (explained_count as f32 / covered as f32) < MIN_EXPLAINED {
        return None;
    }
    let contrast = (0..w * h)
        .filter(|&i| !fit.inlier[i])
        .map(|i| distance(colour, underlay.data[i]))
        .fold(0.0f32, f32::max);
    if contrast < MIN_CONTRAST {
        return None;
    }
    let textured = fit.seed_median > TEXTURED_RIM;
    let plan = Plan {
        kind: Kind::Text,
        bbox,
        mask: alphas.iter().map(|&a| a > 0.0).collect(),
        solid: vec![false; w * h],
        colour: Field::filled(w, h, colour),
        underlay,
        words: None,
        alpha: None,
    };
    Some((plan, textured))
}

/// The text's colour: the commonest colour among the block's pixels that stand clearly off
/// the background, as the median of the pixels near it; and, where the text sits on a
/// solid block of another colour that fills its box, that block's colour.
///
/// The commonest, not the strongest: glyphs are drawn in one colour, while on a photograph
/// the texture around them (grass across a sky) can stand further off the smooth background
/// model than the glyphs do, but spreads over many colours.
fn text_colour(field: &Field, model: &Field, inlier: &[bool]) -> Option<(Rgb, Option<Rgb>)> {
    let off: Vec<(f32, Rgb)> = (0..field.data.len())
        .filter(|&i| !inlier[i])
        .map(|i| (distance(field.data[i], model.data[i]), field.data[i]))
        .collect();
    let strongest = off.iter().map(|(d, _)| *d).fold(0.0f32, f32::max);
    let clear: Vec<Rgb> = off
        .iter()
        .filter(|(d, _)| *d >= 0.4 * strongest && *d > 0.0)
        .map(|(_, c)| *c)
        .collect();
    // 4 bits a channel: anti-aliased edges scatter over many bins, glyph cores share one.
    let bin = |c: &Rgb| -> usize {
        let q = c.map(|v| ((v * 15.0).round() as usize).min(15));
        q[0] * 256 + q[1] * 16 + q[2]
    };
    let mut counts = vec![(0usize, [0.0f32; 3]); 4096];
    for c in &clear {
        let b = &mut counts[bin(c)];
        b.0 += 1;
        for (acc, v) in b.1.iter_mut().zip(c) {
            *acc += v;
        }
    }
    let mut ranked: Vec<(usize, Rgb)> = counts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, sum)| (*n, sum.map(|s| s / *n as f32)))
        .collect();
    ranked.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
    let &(top_count, top) = ranked.first()?;
    // Glyphs are strokes. When the commonest colour is a solid block instead (white words
    // on a dark box that fills the text's box, the page around it), a clearly thinner,
    // common enough colour is the text's, and the block is its local background.
    // Measured only when some colour is common enough to be asked about: most blocks
    // have one colour of glyphs and none.
    let thickness = |colour: Rgb| solid_share(field, inlier, colour);
    let top_thickness = LazyCell::new(|| thickness(top));
    let page = LazyCell::new(|| median_colour(model, inlier));
    let thinner = ranked
        .iter()
        .skip(1)
        .take(3)
        .filter(|(n, _)| *n * 4 >= top_count)
        // Not an anti-aliased mixture of the block and the page around it.
        .filter(|(_, c)| mixture_distance(*c, top, *page) > NEAR_COLOUR)
        .filter(|_| *top_thickness >= SOLID)
        .map(|&(_, c)| (thickness(c), c))
        .filter(|&(t, _)| t < THINNER * *top_thickness)
        .min_by(|a, b| a.0.total_cmp(&b.0));
    let (mode, block) = match thinner {
        Some((_, c)) => (c, Some(top)),
        None => (top, None),
    };
    let near: Vec<Rgb> = clear
        .into_iter()
        .filter(|c| distance(*c, mode) < NEAR_COLOUR)
        .collect();
    Some((median(&near), block))
}

/// Pixels within this distance of a colour are that colour's (anti-aliasing aside).
const NEAR_COLOUR: f32 = 0.08;
/// Radius of the erosion that tells strokes from solid blocks, in analysis pixels: it
/// removes strokes up to four pixels wide, those of text 24 pixels tall and more.
const STROKE_PROBE: usize = 2;
/// A colour whose pixels survive the erosion less than this share as often as the
/// commonest colour's are strokes on a block of that colour.
const THINNER: f32 = 0.5;

/// The commonest colour's erosion survival above which it is a solid block, not strokes.
const SOLID: f32 = 0.3;

/// Median of the `inlier` pixels of `model`, per channel (the page around the text).
fn median_colour(model: &Field, inlier: &[bool]) -> Rgb {
    let page: Vec<Rgb> = model
        .data
        .iter()
        .zip(inlier)
        .filter(|(_, i)| **i)
        .map(|(p, _)| *p)
        .collect();
    median(&page)
}

/// The pixels that are solid text colour over the background: alpha above one half, and a
/// mixture of the text's colour and the background beneath that the two-colour model
/// explains.
fn explained_pixels(field: &Field, underlay: &Field, colour: Rgb, alphas: &[f32]) -> Vec<bool> {
    alphas
        .iter()
        .enumerate()
        .map(|(i, &a)| {
            a > 0.5
                && mixture_distance(field.data[i], underlay.data[i], colour) < EXPLAINED_DISTANCE
        })
        .collect()
}

/// Clears the alpha of every patch of the block that touches no glyph: connected pixels
/// with some alpha none of which is `explained` ([`explained_pixels`]). A bullet dot in an
/// accent colour beside a line, an icon in front of a label, a speck of photograph inside
/// the box: unmixed against the text's colour they get some alpha, which would split them
/// between the text layer and the layer beneath. Left out, they stay whole for the element
/// passes. Anti-aliased edges, a glyph's shadow and the photograph's grain along the
/// strokes touch the glyphs and stay.
fn detach_other_marks(explained: &[bool], alphas: &mut [f32], (w, h): (usize, usize)) {
    let open: Vec<bool> = alphas.iter().map(|&a| a > 0.0).collect();
    let attached = flood(&open, |i| explained[i], w, h);
    for (a, keep) in alphas.iter_mut().zip(attached) {
        if !keep {
            *a = 0.0;
        }
    }
}

/// A pixel this close to a mixture of the text's colour and its background is explained.
const EXPLAINED_DISTANCE: f32 = 0.04;
/// A block whose solid pixels the two-colour model explains less than this share is not
/// one colour of text on a background but a picture (clip art with lettering in it, a
/// panel of icons) and is left to the element passes. Measured on the design benchmarks:
/// text 0.65–1.0 (the lowest on photographs), such blocks 0.21–0.48.
const MIN_EXPLAINED: f32 = 0.35;

/// Distance of `c` from the nearest mixture of `a` and `b`.
fn mixture_distance(c: Rgb, a: Rgb, b: Rgb) -> f32 {
    let (t, _) = project(c, a, b);
    distance(c, std::array::from_fn(|k| a[k] + t * (b[k] - a[k])))
}

/// Share of the off-backdrop pixels near `colour` that survive an erosion by
/// [`STROKE_PROBE`]: small for glyph strokes, large for a solid block.
fn solid_share(field: &Field, inlier: &[bool], colour: Rgb) -> f32 {
    let (w, h) = (field.width, field.height);
    let mask: Vec<bool> = (0..w * h)
        .map(|i| !inlier[i] && distance(field.data[i], colour) < NEAR_COLOUR)
        .collect();
    let total = mask.iter().filter(|&&m| m).count();
    if total == 0 {
        return 1.0;
    }
    let kept = erode(&mask, w, h, STROKE_PROBE)
        .iter()
        .filter(|&&m| m)
        .count();
    kept as f32 / total as f32
}

#[cfg(test)]
mod tests;
