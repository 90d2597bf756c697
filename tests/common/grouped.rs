//! A document with a layer tree: nested groups (pass-through and isolated), masks with
//! density and feather, and clipping, for the writers' round trips.

use image::{GrayImage, Luma, Rgba, RgbaImage};
use strata::model::{BlendMode, Document, Mask, Offset};

use super::{Rng, patterned_image};

/// Bottom to top: "Paper"; group "Card" (isolated, multiply, 80 %, with a mask) holding
/// "Base", "Shade" (clipped to Base, multiply) and group "Badge" (pass-through, collapsed,
/// hidden) holding "Star" (masked: density 60 %, feather 2.5, disabled=false) and "Text";
/// then "Top" with a disabled mask whose default colour is white.
pub fn grouped_document() -> Document {
    let mut rng = Rng::new(11);
    let mut doc = Document::new(48, 40);
    doc.push_layer("Paper", patterned_image(&mut rng, 48, 40));
    let base = doc.push_layer(
        "Base",
        RgbaImage::from_pixel(30, 20, Rgba([20, 120, 220, 255])),
    );
    base.offset = Offset::new(4, 6);
    let base = base.id;
    let shade = doc.push_layer("Shade", patterned_image(&mut rng, 40, 12));
    shade.clipped = true;
    shade.blend = BlendMode::Multiply;
    shade.offset = Offset::new(0, 10);
    let star = doc.push_layer("Star", patterned_image(&mut rng, 10, 10));
    star.offset = Offset::new(12, 12);
    let mut star_mask = Mask::new(
        GrayImage::from_fn(8, 8, |x, y| Luma([((x * 30 + y * 7) % 256) as u8])),
        Offset::new(13, 13),
        0,
    );
    star_mask.density = 0.6;
    star_mask.feather = 2.5;
    star.mask = Some(star_mask);
    let star = star.id;
    let text = doc.push_layer("Text", patterned_image(&mut rng, 14, 5)).id;
    let top = doc.push_layer("Top", RgbaImage::from_pixel(6, 6, Rgba([250, 250, 0, 200])));
    let mut top_mask = Mask::new(
        GrayImage::from_pixel(3, 3, Luma([0])),
        Offset::new(0, 0),
        255,
    );
    top_mask.enabled = false;
    top.mask = Some(top_mask);

    let card = doc.group_node(base).expect("group Base");
    let shade_id = doc.layers[2].id;
    doc.move_node(shade_id, Some(card), 1)
        .expect("Shade into Card");
    let badge = doc.group_node(star).expect("group Star");
    doc.move_node(badge, Some(card), 2)
        .expect("Badge into Card");
    doc.move_node(text, Some(badge), 1)
        .expect("Text into Badge");
    let g = doc.group_mut(card).expect("card");
    g.name = "Card".into();
    g.pass_through = false;
    g.blend = BlendMode::Multiply;
    g.opacity = 0.8;
    g.mask = Some(Mask::new(
        GrayImage::from_fn(20, 20, |x, _| Luma([if x < 10 { 255 } else { 90 }])),
        Offset::new(2, 2),
        255,
    ));
    let g = doc.group_mut(badge).expect("badge");
    g.name = "Badge".into();
    g.collapsed = true;
    g.visible = false;
    doc.check_tree().expect("a valid tree");
    doc
}
