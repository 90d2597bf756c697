//! The reference compositor on layer trees: groups (pass-through and isolated), masks and
//! clipping, each checked against values worked out by hand from Photoshop's rules.

#![allow(clippy::unwrap_used)] // Tests may unwrap: a panic is a failure report.

use image::{GrayImage, Luma, Rgba};

use super::{BlendMode, Document, LayerId, Mask, Offset, RgbaImage, composite};

fn solid(w: u32, h: u32, px: [u8; 4]) -> RgbaImage {
    RgbaImage::from_pixel(w, h, Rgba(px))
}

fn pixel(doc: &Document, x: u32, y: u32) -> [u8; 4] {
    composite(doc).get_pixel(x, y).0
}

fn close(a: [u8; 4], b: [u8; 4]) -> bool {
    a.iter().zip(b).all(|(a, b)| a.abs_diff(b) <= 1)
}

/// A grey backdrop with a red and a green layer above it, the two upper ones grouped.
fn backdrop_and_group() -> (Document, LayerId) {
    let mut doc = Document::new(4, 4);
    doc.push_layer("bg", solid(4, 4, [128, 128, 128, 255]));
    doc.push_layer("red", solid(4, 4, [255, 0, 0, 255]));
    doc.push_layer("green", solid(2, 4, [0, 255, 0, 255]));
    let red = doc.layers[1].id;
    let group = doc.group_node(red).unwrap();
    let green = doc.layers[2].id;
    doc.move_node(green, Some(group), 1).unwrap();
    doc.check_tree().unwrap();
    (doc, group)
}

#[test]
fn a_full_pass_through_group_is_as_if_ungrouped() {
    let (mut doc, _) = backdrop_and_group();
    doc.layers[1].blend = BlendMode::Screen;
    let grouped = composite(&doc);
    let mut flat = doc.clone();
    flat.groups.clear();
    for layer in &mut flat.layers {
        layer.parent = None;
    }
    assert_eq!(grouped, composite(&flat));
}

#[test]
fn an_isolated_group_hides_its_members_modes_from_the_backdrop() {
    let (mut doc, group) = backdrop_and_group();
    doc.layers[1].blend = BlendMode::Multiply;
    // Pass-through: red multiplies the grey backdrop.
    assert!(close(pixel(&doc, 3, 0), [128, 0, 0, 255]));
    // Isolated: red multiplies nothing, so the group is plain red over the grey.
    doc.group_mut(group).unwrap().pass_through = false;
    assert_eq!(pixel(&doc, 3, 0), [255, 0, 0, 255]);
}

#[test]
fn group_opacity_fades_the_group_not_each_member() {
    let (mut doc, group) = backdrop_and_group();
    doc.group_mut(group).unwrap().opacity = 0.5;
    // Where green covers red, only green shows, at half strength over grey, whether the
    // group is isolated or passes through (the members are normal and opaque).
    let expected = [64, 191, 64, 255];
    assert!(
        close(pixel(&doc, 0, 0), expected),
        "{:?}",
        pixel(&doc, 0, 0)
    );
    doc.group_mut(group).unwrap().pass_through = false;
    assert!(close(pixel(&doc, 0, 0), expected));
    // Ungrouped at 50 % each, red would show through green.
    assert!(close(pixel(&doc, 3, 0), [191, 64, 64, 255]));
}

#[test]
fn a_multiply_group_multiplies_its_composite() {
    let (mut doc, group) = backdrop_and_group();
    let g = doc.group_mut(group).unwrap();
    g.pass_through = false;
    g.blend = BlendMode::Multiply;
    assert!(close(pixel(&doc, 0, 0), [0, 128, 0, 255]));
    assert!(close(pixel(&doc, 3, 0), [128, 0, 0, 255]));
}

#[test]
fn a_hidden_group_hides_its_members() {
    let (mut doc, group) = backdrop_and_group();
    doc.group_mut(group).unwrap().visible = false;
    assert_eq!(pixel(&doc, 0, 0), [128, 128, 128, 255]);
}

fn half_mask() -> Mask {
    // Black on the left two columns, white on the right; white outside.
    let pixels = GrayImage::from_fn(4, 4, |x, _| Luma([if x < 2 { 0 } else { 255 }]));
    Mask::new(pixels, Offset::new(0, 0), 255)
}

#[test]
fn a_layer_mask_hides_with_density_and_can_be_disabled() {
    let mut doc = Document::new(6, 4);
    doc.push_layer("bg", solid(6, 4, [0, 0, 255, 255]));
    doc.push_layer("top", solid(6, 4, [255, 255, 255, 255]))
        .mask = Some(half_mask());
    assert_eq!(pixel(&doc, 0, 0), [0, 0, 255, 255], "black hides");
    assert_eq!(pixel(&doc, 3, 0), [255, 255, 255, 255], "white keeps");
    assert_eq!(
        pixel(&doc, 5, 0),
        [255, 255, 255, 255],
        "background outside"
    );
    doc.layers[1].mask.as_mut().unwrap().density = 0.5;
    assert!(close(pixel(&doc, 0, 0), [128, 128, 255, 255]));
    doc.layers[1].mask.as_mut().unwrap().enabled = false;
    assert_eq!(pixel(&doc, 0, 0), [255, 255, 255, 255]);
}

#[test]
fn a_group_mask_hides_the_whole_group() {
    let (mut doc, group) = backdrop_and_group();
    doc.group_mut(group).unwrap().mask = Some(half_mask());
    assert_eq!(pixel(&doc, 0, 0), [128, 128, 128, 255]);
    assert_eq!(pixel(&doc, 3, 0), [255, 0, 0, 255]);
}

/// A grey backdrop, a 2×2 blue base in the top-left corner, and a red layer over the whole
/// canvas clipped to it.
fn clipped_doc() -> Document {
    let mut doc = Document::new(4, 4);
    doc.push_layer("bg", solid(4, 4, [128, 128, 128, 255]));
    doc.push_layer("base", solid(2, 2, [0, 0, 255, 255]));
    doc.push_layer("clipped", solid(4, 4, [255, 0, 0, 255]))
        .clipped = true;
    doc
}

#[test]
fn a_clipped_layer_shows_only_inside_its_base() {
    let mut doc = clipped_doc();
    assert_eq!(pixel(&doc, 0, 0), [255, 0, 0, 255]);
    assert_eq!(pixel(&doc, 3, 3), [128, 128, 128, 255]);
    // The base's opacity fades the clipped layer too.
    doc.layers[1].opacity = 0.5;
    assert!(close(pixel(&doc, 0, 0), [191, 64, 64, 255]));
    // A hidden base hides what is clipped to it.
    doc.layers[1].visible = false;
    assert_eq!(pixel(&doc, 0, 0), [128, 128, 128, 255]);
}

#[test]
fn a_clipped_multiply_layer_multiplies_its_base() {
    let mut doc = clipped_doc();
    doc.layers[2].pixels = std::sync::Arc::new(solid(4, 4, [128, 255, 255, 255]));
    doc.layers[2].blend = BlendMode::Multiply;
    assert!(close(pixel(&doc, 0, 0), [0, 0, 255, 255]));
    assert_eq!(pixel(&doc, 3, 3), [128, 128, 128, 255]);
}

#[test]
fn color_at_agrees_with_the_composite_on_a_tree() {
    let (mut doc, group) = backdrop_and_group();
    let g = doc.group_mut(group).unwrap();
    g.pass_through = false;
    g.opacity = 0.7;
    g.blend = BlendMode::Overlay;
    doc.layers[2].mask = Some(half_mask());
    let full = composite(&doc);
    for (x, y) in [(0, 0), (1, 2), (3, 3), (2, 1)] {
        assert_eq!(
            doc.color_at(i64::from(x), i64::from(y)),
            Some(full.get_pixel(x, y).0)
        );
    }
}

#[test]
fn layer_at_skips_hidden_groups_and_masked_out_pixels() {
    let (mut doc, group) = backdrop_and_group();
    let (red, green) = (doc.layers[1].id, doc.layers[2].id);
    assert_eq!(doc.layer_at(0, 0), Some(green));
    doc.layers[2].mask = Some(half_mask());
    assert_eq!(doc.layer_at(0, 0), Some(red));
    doc.group_mut(group).unwrap().visible = false;
    assert_eq!(doc.layer_at(0, 0), Some(doc.layers[0].id));
}

#[test]
fn merge_down_bakes_masks_and_clipping() {
    let mut doc = clipped_doc();
    doc.layers[1].mask = Some(Mask::new(
        GrayImage::from_fn(2, 2, |x, _| Luma([if x == 0 { 255 } else { 0 }])),
        Offset::new(0, 0),
        0,
    ));
    let before = composite(&doc);
    let clipped = doc.layers[2].id;
    doc.merge_down(clipped).unwrap();
    assert_eq!(doc.layers.len(), 2);
    assert!(doc.layers[1].mask.is_none());
    assert_eq!(composite(&doc), before);
}

#[test]
fn a_pass_through_group_below_full_fill_is_isolated_and_faded() {
    use super::{Adjustment, AdjustmentKind};
    let (mut doc, group) = backdrop_and_group();
    // An invert inside the group, over both members.
    let invert = doc.push_layer("invert", RgbaImage::new(0, 0));
    invert.adjustment = Some(Adjustment::new(AdjustmentKind::Invert));
    let invert = invert.id;
    doc.move_node(invert, Some(group), 2).unwrap();
    doc.check_tree().unwrap();
    // Passing through, the invert maps what lies below it: red becomes cyan.
    assert_eq!(pixel(&doc, 3, 0), [0, 255, 255, 255]);
    // At 40 % fill Photoshop composites the members on their own, merges them in normal
    // mode and fades them by the fill: cyan at 40 % over the grey.
    doc.group_mut(group).unwrap().fill_opacity = 0.4;
    let faded = pixel(&doc, 3, 0);
    assert!(close(faded, [77, 179, 179, 255]), "{faded:?}");
    // Members' modes no longer reach the backdrop either: a multiply red over nothing
    // is red.
    doc.layers.retain(|l| l.id != invert);
    doc.layers[1].blend = BlendMode::Multiply;
    let isolated = pixel(&doc, 3, 0);
    assert!(close(isolated, [179, 77, 77, 255]), "{isolated:?}");
    assert!(!doc.group(group).unwrap().passes_through());
}
