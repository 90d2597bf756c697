//! Tone adjustment layers through a PSD round trip: a file whose adjustment layers carry
//! Photoshop's own blocks (the "Increase Contrast (RGB)" curves and an invert, as ag-psd's
//! `adjustment-layers` test file stores them) is read with both drawn and no longer
//! reported; one more adjustment that Strata cannot draw (selective colour) leaves all of
//! them undrawn and reported, as the file-wide rule of the reader says, unless it is
//! hidden.

use std::sync::Arc;

use image::{Rgba, RgbaImage};
use strata::io::{Limits, psd};
use strata::model::{Document, KeptBlock, KeptFormat, Undrawn, composite, kept};

/// Photoshop's `curv` block: composite curve through (0,0), (38,17), (212,231),
/// (231,250), (255,255) (each point output first), then its `Crv ` extension.
const CURVES: &str = "000001000000010005000000000011002600e700d400fa00e700ff00ff\
    4372762000040000000100000005000000000011002600e700d400fa00e700ff00ff00";

fn curves_block() -> Vec<u8> {
    let digits: Vec<u8> = CURVES.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).expect("ascii"), 16).expect("hex"))
        .collect()
}

fn adjustment(doc: &mut Document, name: &str, key: &[u8; 4], data: Vec<u8>) {
    let layer = doc.push_layer(name, RgbaImage::new(0, 0));
    layer.kept = Arc::new(vec![KeptBlock {
        format: KeptFormat::Psd,
        key: *key,
        data,
        undrawn: Some(Undrawn::Adjustment),
    }]);
}

fn round_trip(doc: &Document) -> Document {
    let mut bytes = Vec::new();
    psd::write(doc, &mut bytes).expect("write psd");
    psd::read(&bytes, &Limits::default()).expect("read psd")
}

fn document() -> Document {
    let mut doc = Document::new(4, 4);
    doc.push_layer(
        "grey",
        RgbaImage::from_pixel(4, 4, Rgba([38, 212, 128, 255])),
    );
    adjustment(&mut doc, "Curves 1", b"curv", curves_block());
    adjustment(&mut doc, "Invert 1", b"nvrt", Vec::new());
    doc
}

#[test]
fn photoshops_curves_and_invert_are_drawn_after_a_round_trip() {
    let opened = round_trip(&document());
    for layer in &opened.layers[1..] {
        assert!(layer.adjustment.is_some(), "{} drawn", layer.name);
        assert!(
            !kept::undrawn(&layer.kept).contains(&Undrawn::Adjustment),
            "{} not reported",
            layer.name
        );
    }
    // Curves: 38 -> 17, 212 -> 231 (its points), then inverted.
    let pixel = composite(&opened).get_pixel(1, 1).0;
    assert_eq!([pixel[0], pixel[1], pixel[3]], [238, 24, 255]);
}

#[test]
fn one_undrawn_adjustment_leaves_the_files_others_undrawn() {
    let mut doc = document();
    adjustment(&mut doc, "Selective Color 1", b"selc", vec![0; 84]);
    let opened = round_trip(&doc);
    for layer in &opened.layers[1..] {
        assert!(layer.adjustment.is_none(), "{} not drawn", layer.name);
        assert!(
            kept::undrawn(&layer.kept).contains(&Undrawn::Adjustment),
            "{} reported",
            layer.name
        );
    }
    assert_eq!(composite(&opened).get_pixel(1, 1).0, [38, 212, 128, 255]);
}

#[test]
fn a_hidden_undrawn_adjustment_does_not_hold_the_others_back() {
    let mut doc = document();
    adjustment(&mut doc, "Selective Color 1", b"selc", vec![0; 84]);
    doc.layers[3].visible = false;
    let opened = round_trip(&doc);
    assert!(opened.layers[1].adjustment.is_some());
    assert!(opened.layers[2].adjustment.is_some());
    assert!(opened.layers[3].adjustment.is_none());
    let pixel = composite(&opened).get_pixel(1, 1).0;
    assert_eq!([pixel[0], pixel[1], pixel[3]], [238, 24, 255]);
}

#[test]
fn an_adjustment_with_layers_clipped_to_it_is_not_drawn() {
    let mut doc = document();
    let clipped = doc.push_layer("clipped", RgbaImage::from_pixel(4, 4, Rgba([9, 9, 9, 255])));
    clipped.clipped = true;
    let opened = round_trip(&doc);
    // The invert is the clipping base: kept, reported, and it holds the curves back too.
    assert!(opened.layers.iter().all(|l| l.adjustment.is_none()));
    assert!(kept::undrawn(&opened.layers[2].kept).contains(&Undrawn::Adjustment));
    // With nothing clipped to it, it is drawn again.
    let mut unclipped = doc.clone();
    unclipped.layers[3].clipped = false;
    assert!(round_trip(&unclipped).layers[2].adjustment.is_some());
}
