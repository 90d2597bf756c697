//! Layer effects read from a PSD and drawn: the flatten of a Photoshop file whose layer has
//! a drop shadow, an outer glow and a colour overlay matches the composite Photoshop stored
//! (ag-psd's `read/blend-mode` file, `tests/data/psd-kept/effects-drawn.psd`, MIT), and the
//! effects follow their layer through moves, pixel edits and a save. A group's drop
//! shadow, made from its members' composite, matches too (ag-psd's
//! `read/group-drop-shadows`, read from the corpus beside the checkout when it is there),
//! and so does a pattern overlay drawn from the document's patterns (ag-psd's
//! `read/pattern`, `tests/data/psd-kept/effects-pattern.psd`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use strata::io::{Limits, psd};
use strata::model::pixels::mean_premultiplied_difference;
use strata::model::{Document, RgbaImage, composite, kept};

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/psd-kept")
        .join(name);
    std::fs::read(path).expect("read fixture")
}

fn difference(a: &RgbaImage, b: &RgbaImage) -> f64 {
    mean_premultiplied_difference(a, b).expect("same size")
}

fn styled_index(doc: &Document) -> usize {
    doc.layers
        .iter()
        .position(|l| l.effects.is_some())
        .expect("a layer with effects")
}

#[test]
fn shadow_glow_and_overlay_match_photoshops_composite() {
    let bytes = fixture("effects-drawn.psd");
    let limits = Limits::default();
    let doc = psd::read(&bytes, &limits).expect("read");
    // The effects are what makes it match: without them it was 12.6/255 off.
    assert_effects_make_it_match(&doc, &bytes, &limits);
}

/// `doc`'s flatten is within 2/255 of the composite stored in `bytes`, and more than 5/255
/// off without its layers' effects.
fn assert_effects_make_it_match(doc: &Document, bytes: &[u8], limits: &Limits) {
    let stored = psd::read_composite(bytes, limits).expect("stored composite");
    let ours = difference(&composite(doc), &stored);
    assert!(ours <= 2.0, "flatten differs by {ours}/255");
    let mut bare = doc.clone();
    for layer in &mut bare.layers {
        layer.effects = None;
    }
    let without = difference(&composite(&bare), &stored);
    assert!(without > 5.0, "without effects only {without}/255 off");
}

#[test]
fn a_pattern_overlay_matches_photoshops_composite_and_is_not_reported() {
    let bytes = fixture("effects-pattern.psd");
    let limits = Limits::default();
    let (doc, notices) = psd::read_with_notices(&bytes, &limits).expect("read");
    let texts: Vec<&str> = notices.iter().map(|n| n.text.as_str()).collect();
    assert!(texts.iter().all(|t| !t.contains("effects")), "{texts:?}");
    // The pattern is what makes it match: without it the flatten was 9.9/255 off.
    assert_effects_make_it_match(&doc, &bytes, &limits);
}

#[test]
fn effects_move_with_their_layer_and_follow_pixel_edits() {
    let mut doc = psd::read(&fixture("effects-drawn.psd"), &Limits::default()).expect("read");
    let index = styled_index(&doc);
    let before = composite(&doc);
    doc.layers[index].translate(7, -3);
    // Moving keeps the planes current (no refresh needed) and moves the whole look.
    assert_eq!(doc.refresh_effects(), 0, "a move rasterises nothing");
    let moved = composite(&doc);
    doc.layers[index].translate(-7, 3);
    assert_eq!(composite(&doc), before, "moving back restores the canvas");
    assert_ne!(moved, before);
    // New pixels leave the planes stale, not drawn, until refreshed.
    let layer = &mut doc.layers[index];
    let mut pixels = (*layer.pixels).clone();
    pixels.pixels_mut().for_each(|p| p.0[3] = 0);
    layer.pixels = Arc::new(pixels);
    assert_eq!(doc.refresh_effects(), 1);
    let layer = &doc.layers[index];
    let planes = layer.effects.as_ref().and_then(|e| e.current(layer));
    let planes = planes.expect("current after a refresh");
    assert!(
        planes.below.is_empty() && planes.over.is_empty(),
        "a transparent layer casts no shadow and takes no overlay"
    );
}

#[test]
fn a_saved_file_draws_the_same_effects() {
    let doc = psd::read(&fixture("effects-drawn.psd"), &Limits::default()).expect("read");
    let mut out = Vec::new();
    psd::write(&doc, &mut out).expect("write");
    let again = psd::read(&out, &Limits::default()).expect("read back");
    assert!(again.layers[styled_index(&again)].effects.is_some());
    assert_eq!(composite(&again), composite(&doc));
}

/// A corpus file, or `None` (with a message) where the corpus is not beside the checkout.
fn corpus_file(name: &str) -> Option<Vec<u8>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/psd-corpus")
        .join(name);
    let bytes = std::fs::read(&path).ok();
    if bytes.is_none() {
        eprintln!("skipping: {} is missing", path.display());
    }
    bytes
}

#[test]
fn a_group_drop_shadow_matches_photoshops_composite_and_is_not_reported() {
    let Some(bytes) = corpus_file("test_read_group-drop-shadows_src.psd") else {
        return;
    };
    let limits = Limits::default();
    let (doc, notices) = psd::read_with_notices(&bytes, &limits).expect("read");
    let stored = psd::read_composite(&bytes, &limits).expect("stored composite");
    let group = doc
        .groups
        .iter()
        .find(|g| g.effects.is_some())
        .expect("the group's shadow is read");
    assert!(kept::undrawn(&group.kept).is_empty(), "still reported");
    let texts: Vec<&str> = notices.iter().map(|n| n.text.as_str()).collect();
    assert!(texts.iter().all(|t| !t.contains("effects")), "{texts:?}");
    let ours = difference(&composite(&doc), &stored);
    assert!(ours <= 2.0, "flatten differs by {ours}/255");
    // The shadow is what makes it match: without it the flatten was 7/255 off.
    let mut bare = doc.clone();
    bare.groups.iter_mut().for_each(|g| g.effects = None);
    let without = difference(&composite(&bare), &stored);
    assert!(without > 5.0, "without the shadow only {without}/255 off");
}

/// The part of `image` inside `(x, y, width, height)`.
fn crop(image: &RgbaImage, (x, y, w, h): (u32, u32, u32, u32)) -> RgbaImage {
    image::imageops::crop_imm(image, x, y, w, h).to_image()
}

#[test]
fn a_smooth_inner_bevel_matches_photoshops_composite_and_is_not_reported() {
    let Some(bytes) = corpus_file("test_read_effects_src.psd") else {
        return;
    };
    let limits = Limits::default();
    let doc = psd::read(&bytes, &limits).expect("read");
    let stored = psd::read_composite(&bytes, &limits).expect("stored composite");
    let index = doc
        .layers
        .iter()
        .position(|l| l.name == "bevel")
        .expect("the bevel layer");
    assert!(
        kept::undrawn(&doc.layers[index].kept).is_empty(),
        "still reported"
    );
    // Around the layer (4..64 × 166..196, with its margin); the rest of the file has a
    // noise gradient Strata does not draw.
    let region = (0, 160, 72, 40);
    let ours = difference(&crop(&composite(&doc), region), &crop(&stored, region));
    assert!(ours <= 2.5, "the bevel's region differs by {ours}/255");
    // The bevel is what makes it match: without it the region was 9.4/255 off.
    let mut bare = doc.clone();
    bare.layers[index].effects = None;
    let without = difference(&crop(&composite(&bare), region), &crop(&stored, region));
    assert!(without > 6.0, "without the bevel only {without}/255 off");
}

#[test]
fn a_moved_layer_saves_its_linked_pattern_where_it_is_drawn() {
    let mut doc = psd::read(&fixture("effects-pattern.psd"), &Limits::default()).expect("read");
    let index = styled_index(&doc);
    doc.layers[index].translate(7, -3);
    let moved = composite(&doc);
    let mut out = Vec::new();
    psd::write(&doc, &mut out).expect("write");
    let again = psd::read(&out, &Limits::default()).expect("read back");
    // The effects reference point (`fxrp`) moved with the layer, so the tiling read back
    // starts where Strata drew it, not where the layer was.
    assert_eq!(composite(&again), moved);
}
