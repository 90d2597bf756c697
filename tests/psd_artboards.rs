//! Artboards read from a PSD and drawn: ag-psd's `read/artboards` file
//! (`tests/data/psd-kept/artboards.psd`, MIT) has a white artboard, a transparent one and an
//! empty custom-colour one, with layers that reach past their artboard's edges. Photoshop
//! draws each artboard's background under its layers and clips them to the artboard.

use std::path::Path;

use strata::io::{Limits, psd};
use strata::model::pixels::mean_premultiplied_difference;
use strata::model::{Document, RgbaImage, composite};

fn fixture() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/psd-kept/artboards.psd");
    std::fs::read(path).expect("read fixture")
}

fn difference(doc: &Document, stored: &RgbaImage) -> f64 {
    mean_premultiplied_difference(&composite(doc), stored).expect("same size")
}

#[test]
fn artboards_draw_their_background_and_clip_their_layers() {
    let bytes = fixture();
    let limits = Limits::default();
    let doc = psd::read(&bytes, &limits).expect("read");
    let stored = psd::read_composite(&bytes, &limits).expect("stored composite");
    let boards = doc.groups.iter().filter(|g| g.artboard.is_some()).count();
    assert_eq!(boards, 3, "white, transparent and custom boards");
    let ours = difference(&doc, &stored);
    assert!(ours <= 2.0, "flatten differs by {ours}/255");
    // Without the artboards, the white background is missing and layers spill over.
    let mut plain = doc.clone();
    for group in &mut plain.groups {
        group.artboard = None;
    }
    let without = difference(&plain, &stored);
    assert!(without > 20.0, "without artboards only {without}/255 off");
}

#[test]
fn artboards_survive_a_save() {
    let bytes = fixture();
    let limits = Limits::default();
    let doc = psd::read(&bytes, &limits).expect("read");
    let mut out = Vec::new();
    psd::write(&doc, &mut out).expect("write");
    let again = psd::read(&out, &limits).expect("read back");
    assert_eq!(composite(&again), composite(&doc));
    let block = |d: &Document| -> Vec<Vec<u8>> {
        d.groups
            .iter()
            .flat_map(|g| g.kept.iter().filter(|b| &b.key == b"artb"))
            .map(|b| b.data.clone())
            .collect()
    };
    assert_eq!(block(&again), block(&doc), "artboard blocks byte for byte");
    assert_eq!(block(&doc).len(), 3);
}
