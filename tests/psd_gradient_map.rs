//! A gradient map adjustment layer read from Photoshop's file and drawn: ag-psd's
//! `read/gradient-overlay-2` (MIT; a grey fill under a perceptual gradient map, read from
//! the corpus beside the checkout, skipped where it is missing) flattens within 2/255 of
//! the composite Photoshop stored, and the map is no longer reported as not drawn.

use std::path::PathBuf;

use strata::io::{Limits, psd};
use strata::model::pixels::mean_premultiplied_difference;
use strata::model::{Undrawn, composite, kept};

#[test]
fn a_gradient_map_matches_photoshops_composite() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/psd-corpus/test_read_gradient-overlay-2_src.psd");
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!("skipping: the PSD corpus is missing ({})", path.display());
        return;
    };
    let limits = Limits::default();
    let doc = psd::read(&bytes, &limits).expect("read");
    let stored = psd::read_composite(&bytes, &limits).expect("stored composite");
    let map = doc
        .layers
        .iter()
        .position(|l| l.adjustment.is_some())
        .expect("a gradient map");
    assert!(
        !kept::undrawn(&doc.layers[map].kept).contains(&Undrawn::Adjustment),
        "a drawn gradient map is not reported"
    );
    let ours = mean_premultiplied_difference(&composite(&doc), &stored).expect("same size");
    assert!(ours <= 2.0, "flatten differs by {ours}/255");
    // The map is what makes it match: without it the grey fill shows (9/255 off).
    let mut bare = doc.clone();
    bare.layers[map].adjustment = None;
    let without = mean_premultiplied_difference(&composite(&bare), &stored).expect("same size");
    assert!(without > 5.0, "without the map only {without}/255 off");
}
