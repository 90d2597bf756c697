//! Files in other colour modes and depths, and PSB, built byte by byte here (the ag-psd
//! corpus in `tests/psd_corpus.rs` holds Photoshop's own): each opens as 8-bit RGB with one
//! notice saying what was converted.

use strata::io::{self, Limits, psd};

/// Header fields of a hand-made file.
struct Spec {
    psb: bool,
    mode: u16,
    depth: u16,
    channels: u16,
    width: u32,
    height: u32,
}

/// A file without layers: header, colour mode data, no resources, an empty layer section,
/// and `planes` (already in stored form, one after another) as raw image data.
fn flat_file(spec: &Spec, color_data: &[u8], planes: &[u8]) -> Vec<u8> {
    let mut out = b"8BPS".to_vec();
    out.extend_from_slice(&(if spec.psb { 2u16 } else { 1 }).to_be_bytes());
    out.extend_from_slice(&[0; 6]);
    out.extend_from_slice(&spec.channels.to_be_bytes());
    out.extend_from_slice(&spec.height.to_be_bytes());
    out.extend_from_slice(&spec.width.to_be_bytes());
    out.extend_from_slice(&spec.depth.to_be_bytes());
    out.extend_from_slice(&spec.mode.to_be_bytes());
    out.extend_from_slice(&(color_data.len() as u32).to_be_bytes());
    out.extend_from_slice(color_data);
    out.extend_from_slice(&0u32.to_be_bytes()); // image resources
    if spec.psb {
        out.extend_from_slice(&0u64.to_be_bytes());
    } else {
        out.extend_from_slice(&0u32.to_be_bytes());
    }
    out.extend_from_slice(&0u16.to_be_bytes()); // raw
    out.extend_from_slice(planes);
    out
}

fn open(bytes: &[u8]) -> (Vec<[u8; 4]>, Vec<String>) {
    let opened = io::read_bytes_with_notices(bytes, "flat", &Limits::default()).expect("opens");
    let doc = opened.document;
    assert_eq!(doc.layers.len(), 1);
    let pixels = doc.layers[0].pixels.pixels().map(|p| p.0).collect();
    let notices = opened.notices.iter().map(ToString::to_string).collect();
    (pixels, notices)
}

fn spec(mode: u16, depth: u16, channels: u16, width: u32) -> Spec {
    Spec {
        psb: false,
        mode,
        depth,
        channels,
        width,
        height: 1,
    }
}

#[test]
fn cmyk_converts_naively_from_inverted_ink() {
    // Two pixels: no ink at all (white), and full cyan (stored 0) with no black.
    let planes = [255, 0, 255, 255, 255, 255, 255, 255];
    let (pixels, notices) = open(&flat_file(&spec(4, 8, 4, 2), &[], &planes));
    assert_eq!(pixels, [[255, 255, 255, 255], [0, 255, 255, 255]]);
    assert_eq!(notices, ["converted from 8-bit CMYK to 8-bit RGB"]);
}

#[test]
fn sixteen_and_thirty_two_bit_scale_to_bytes() {
    let mut planes = Vec::new();
    for v in [0xFFFFu16, 0x8000, 0x0000] {
        planes.extend_from_slice(&v.to_be_bytes());
    }
    let (pixels, notices) = open(&flat_file(&spec(1, 16, 1, 3), &[], &planes));
    assert_eq!(pixels, [[255; 4], [128, 128, 128, 255], [0, 0, 0, 255]]);
    assert_eq!(notices, ["converted from 16-bit Grayscale to 8-bit RGB"]);

    // 32-bit RGB: linear 0.5 is sRGB 188.
    let mut planes = Vec::new();
    for v in [0.5f32, 0.0, 1.0] {
        planes.extend_from_slice(&v.to_be_bytes());
    }
    let (pixels, notices) = open(&flat_file(&spec(3, 32, 3, 1), &[], &planes));
    assert_eq!(pixels, [[188, 0, 255, 255]]);
    assert_eq!(notices, ["converted from 32-bit RGB to 8-bit RGB"]);
}

#[test]
fn indexed_uses_the_palette_and_bitmap_sets_black() {
    let mut palette = vec![0u8; 768];
    palette[3] = 200; // index 3: (200, 100, 50)
    palette[256 + 3] = 100;
    palette[512 + 3] = 50;
    let (pixels, notices) = open(&flat_file(&spec(2, 8, 1, 2), &palette, &[3, 0]));
    assert_eq!(pixels, [[200, 100, 50, 255], [0, 0, 0, 255]]);
    assert_eq!(notices, ["converted from Indexed Color to 8-bit RGB"]);
    let short = flat_file(&spec(2, 8, 1, 2), &palette[..767], &[3, 0]);
    let err = io::read_bytes(&short, "x", &Limits::default()).expect_err("short palette");
    assert!(err.to_string().contains("palette"), "{err}");

    // Ten pixels in two bytes: a set bit is black.
    let (pixels, notices) = open(&flat_file(
        &spec(0, 1, 1, 10),
        &[],
        &[0b1000_0001, 0b0100_0000],
    ));
    let grey: Vec<u8> = pixels.iter().map(|p| p[0]).collect();
    assert_eq!(grey, [0, 255, 255, 255, 255, 255, 255, 0, 255, 0]);
    assert_eq!(notices, ["converted from Bitmap (1-bit) to 8-bit RGB"]);
}

#[test]
fn lab_goes_through_xyz_to_srgb() {
    // L 100 / a 0 / b 0 is white, L 0 black.
    let (pixels, notices) = open(&flat_file(
        &spec(9, 8, 3, 2),
        &[],
        &[255, 0, 128, 128, 128, 128],
    ));
    assert_eq!(pixels, [[255, 255, 255, 255], [0, 0, 0, 255]]);
    assert_eq!(notices, ["converted from 8-bit Lab to 8-bit RGB"]);
}

#[test]
fn multichannel_is_refused_by_name_and_rgb_says_nothing() {
    let err = io::read_bytes(
        &flat_file(&spec(7, 8, 3, 1), &[], &[0; 3]),
        "x",
        &Limits::default(),
    )
    .expect_err("multichannel");
    assert!(
        err.to_string()
            .contains("unsupported colour mode Multichannel"),
        "{err}"
    );
    let (_, notices) = open(&flat_file(&spec(3, 8, 3, 1), &[], &[1, 2, 3]));
    assert!(notices.is_empty(), "{notices:?}");
}

#[test]
fn a_flat_psb_reads() {
    let spec = Spec {
        psb: true,
        ..spec(3, 8, 3, 2)
    };
    let (pixels, notices) = open(&flat_file(&spec, &[], &[1, 2, 3, 4, 5, 6]));
    assert_eq!(pixels, [[1, 3, 5, 255], [2, 4, 6, 255]]);
    assert!(notices.is_empty(), "PSB loses nothing: {notices:?}");
    let _ = psd::MAX_SIDE_PSB;
}
