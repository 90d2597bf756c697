//! Vector masks stored without a raster copy (as psd-tools, ag-psd and other writers store
//! them) are rasterised when the file is read, drawn like a layer mask, and written back
//! as Photoshop writes its own raster copy, beside the path block kept byte for byte.

mod common;

use std::sync::Arc;

use common::psd_tools::{self, run_python};
use strata::io::{Limits, psd};
use strata::model::{Document, KeptBlock, KeptFormat, RgbaImage, Undrawn, composite, kept};

const SIZE: u32 = 40;
/// 8.24 fixed point.
const ONE: f64 = (1u32 << 24) as f64;

/// A 26-byte path record.
fn record(selector: u16, body: &[u8]) -> Vec<u8> {
    let mut out = selector.to_be_bytes().to_vec();
    out.extend_from_slice(body);
    out.resize(26, 0);
    out
}

/// A `vmsk` block holding one closed, combined rectangle; corners as canvas fractions.
fn rectangle_mask(x0: f64, y0: f64, x1: f64, y1: f64) -> Vec<u8> {
    let mut out = 3u32.to_be_bytes().to_vec();
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend(record(6, &[]));
    out.extend(record(0, &[0, 4, 0, 1]));
    for (x, y) in [(x0, y0), (x1, y0), (x1, y1), (x0, y1)] {
        let mut knot = Vec::new();
        for _ in 0..3 {
            knot.extend_from_slice(&((y * ONE) as i32).to_be_bytes());
            knot.extend_from_slice(&((x * ONE) as i32).to_be_bytes());
        }
        out.extend(record(2, &knot));
    }
    out
}

/// One opaque red layer covering the canvas, with the vector mask only.
fn document(vmsk: &[u8]) -> Document {
    let mut doc = Document::new(SIZE, SIZE);
    let pixels = RgbaImage::from_pixel(SIZE, SIZE, image::Rgba([220, 30, 40, 255]));
    let layer = doc.push_layer("Masked", pixels);
    layer.kept = Arc::new(vec![KeptBlock {
        format: KeptFormat::Psd,
        key: *b"vmsk",
        data: vmsk.to_vec(),
        undrawn: Some(Undrawn::VectorMask),
    }]);
    doc
}

fn write(doc: &Document) -> Vec<u8> {
    let mut out = Vec::new();
    psd::write(doc, &mut out).expect("write psd");
    out
}

fn read(bytes: &[u8]) -> Document {
    psd::read(bytes, &Limits::default()).expect("read psd")
}

#[test]
fn a_vector_mask_without_raster_copy_is_drawn_and_written_back_as_photoshop_does() {
    // x from 10 to 30.5 px, y from 8 to 30 px: the right edge halves column 30.
    let vmsk = rectangle_mask(0.25, 0.2, 30.5 / 40.0, 0.75);
    let opened = read(&write(&document(&vmsk)));
    let layer = &opened.layers[0];
    let mask = layer.mask.as_ref().expect("the vector mask, rasterised");
    assert!(mask.from_vector && mask.enabled);
    assert!(
        kept::undrawn(&layer.kept).is_empty(),
        "a drawn vector mask is not reported: {:?}",
        kept::undrawn(&layer.kept)
    );
    let flat = composite(&opened);
    let alpha = |x, y| flat.get_pixel(x, y).0[3];
    assert_eq!(alpha(20, 20), 255);
    assert_eq!((alpha(9, 20), alpha(20, 7), alpha(31, 20)), (0, 0, 0));
    assert!((127..=128).contains(&alpha(30, 20)), "{}", alpha(30, 20));

    // Written again: the same path bytes, and the raster copy marked as one.
    let again = read(&write(&opened));
    let layer = &again.layers[0];
    let block = layer.kept.iter().find(|b| &b.key == b"vmsk").expect("vmsk");
    assert_eq!(block.data, vmsk);
    let mask_again = layer.mask.as_ref().expect("mask");
    assert!(mask_again.from_vector);
    assert_eq!(mask_again.pixels.as_raw(), mask.pixels.as_raw());
    assert_eq!(composite(&again).as_raw(), flat.as_raw());
}

#[test]
fn a_disabled_vector_mask_is_kept_but_not_applied() {
    let mut vmsk = rectangle_mask(0.25, 0.25, 0.75, 0.75);
    vmsk[7] |= 0x04;
    let opened = read(&write(&document(&vmsk)));
    let mask = opened.layers[0].mask.as_ref().expect("mask");
    assert!(!mask.enabled);
    assert_eq!(composite(&opened).get_pixel(2, 2).0[3], 255);
}

const PEER: &str = r#"
import sys
import numpy as np
from psd_tools import PSDImage
psd = PSDImage.open(sys.argv[1])
layer = psd[0]
print(layer.has_vector_mask(), len(layer.vector_mask.paths))
alpha = np.asarray(psd.composite(ignore_preview=True).convert("RGBA"))[..., 3]
np.save(sys.argv[2], alpha)
"#;

#[test]
fn psd_tools_sees_the_vector_mask_and_draws_what_we_draw() {
    if !psd_tools::available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("vector.psd");
    let vmsk = rectangle_mask(0.2, 0.3, 0.7, 0.9);
    let opened = read(&write(&document(&vmsk)));
    std::fs::write(&path, write(&opened)).expect("save");
    let npy = dir.path().join("alpha.npy");
    let out = run_python(&[
        "-c".as_ref(),
        PEER.as_ref(),
        path.as_os_str(),
        npy.as_os_str(),
    ]);
    assert_eq!(out.trim(), "True 1");
    // The .npy body is the last SIZE² bytes (u8, C order).
    let bytes = std::fs::read(&npy).expect("npy");
    let theirs = &bytes[bytes.len() - (SIZE * SIZE) as usize..];
    let ours = composite(&opened);
    let worst = ours
        .pixels()
        .zip(theirs)
        .map(|(p, &t)| p.0[3].abs_diff(t))
        .max()
        .unwrap_or(0);
    assert!(worst <= 2, "alpha differs from psd-tools' by {worst}");
}

/// Shape layers from Photoshop (ag-psd's corpus, beside the checkout) store their pixels
/// already drawn from the vector mask: the mask is not applied a second time, and it is
/// not reported as undrawn either.
#[test]
fn shape_layers_are_drawn_from_their_pixels_not_masked_again() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/psd-corpus/test_read-write_shapes_src.psd");
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!("skipping: {} is missing", path.display());
        return;
    };
    let doc = read(&bytes);
    let shapes: Vec<_> = doc
        .layers
        .iter()
        .filter(|l| {
            l.kept
                .iter()
                .any(|b| &b.key == b"vmsk" || &b.key == b"vsms")
        })
        .collect();
    assert_eq!(shapes.len(), 5, "the file's five shapes");
    for layer in shapes {
        assert!(layer.mask.is_none(), "{}: masked again", layer.name);
        assert!(
            !kept::undrawn(&layer.kept).contains(&Undrawn::VectorMask),
            "{}: reported as not drawn",
            layer.name
        );
    }
}
