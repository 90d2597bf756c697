//! Broken and hostile PSD files give clear errors, never panics or huge allocations.

mod common;

use common::{Rng, patterned_image};
use image::{Rgba, RgbaImage};
use strata::io::{self, LimitError, Limits, psd};
use strata::model::{Document, Offset};

/// A small valid file: a flat red 200×2 layer (RLE channels with known bytes), a noisy
/// layer sticking out of the canvas, and the composite.
fn small_psd() -> Vec<u8> {
    let mut doc = Document::new(200, 3);
    doc.push_layer(
        "flat",
        RgbaImage::from_pixel(200, 2, Rgba([255, 0, 0, 255])),
    );
    let mut rng = Rng::new(5);
    doc.push_layer("noise", patterned_image(&mut rng, 9, 4))
        .offset = Offset::new(-3, 1);
    let mut out = Vec::new();
    psd::write(&doc, &mut out).expect("write");
    out
}

/// The transparency channel of "flat": RLE, rows of 4 bytes (run 128 + run 72 of 0xFF).
const FLAT_ALPHA_BLOB: [u8; 14] = [
    0, 1, 0, 4, 0, 4, 0x81, 0xFF, 0xB9, 0xFF, 0x81, 0xFF, 0xB9, 0xFF,
];

fn find(bytes: &[u8], pattern: &[u8]) -> usize {
    bytes
        .windows(pattern.len())
        .position(|w| w == pattern)
        .expect("pattern present")
}

/// Offset of the layer count: header, colour mode data, resources, two section lengths.
fn layer_count_at(bytes: &[u8]) -> usize {
    let resources = u32::from_be_bytes(bytes[30..34].try_into().expect("4 bytes")) as usize;
    34 + resources + 8
}

fn read_err(bytes: &[u8]) -> String {
    match psd::read(bytes, &Limits::default()) {
        Ok(doc) => panic!("read succeeded with {} layers", doc.layers.len()),
        Err(e) => e.to_string(),
    }
}

fn patched(offset: usize, new: &[u8]) -> Vec<u8> {
    let mut bytes = small_psd();
    bytes[offset..offset + new.len()].copy_from_slice(new);
    bytes
}

fn assert_contains(message: &str, needle: &str) {
    assert!(message.contains(needle), "'{message}' lacks '{needle}'");
}

#[test]
fn the_valid_file_reads() {
    let doc = psd::read(&small_psd(), &Limits::default()).expect("valid");
    assert_eq!(doc.layers.len(), 2);
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = small_psd();
    assert_contains(&read_err(&[]), "truncated");
    for cut in 0..bytes.len() {
        let message = read_err(&bytes[..cut]);
        assert_contains(&message, "truncated");
        assert_contains(&message, &format!("ends at offset {cut}"));
    }
}

#[test]
fn header_problems_are_named() {
    let set_u16 = |at: usize, v: u16| patched(at, &v.to_be_bytes());
    assert_contains(&read_err(&patched(0, b"8BPX")), "not a PSD file");
    assert_contains(&read_err(&set_u16(4, 3)), "version 3");
    // Read as PSB, the layer section's length takes 8 bytes and claims far too much.
    assert_contains(&read_err(&set_u16(4, 2)), "truncated");
    // Other depths are read, but this file's 8-bit data is then far too short for them.
    assert_contains(&read_err(&set_u16(22, 16)), "too few for 400 bytes");
    assert_contains(&read_err(&set_u16(22, 32)), "too few for 800 bytes");
    assert_contains(&read_err(&set_u16(22, 1)), "only Bitmap files are 1-bit");
    assert_contains(&read_err(&set_u16(22, 7)), "bit depth 7");
    assert_contains(
        &read_err(&set_u16(24, 7)),
        "unsupported colour mode Multichannel",
    );
    assert_contains(&read_err(&set_u16(24, 5)), "colour mode 5");
    // Indexed needs its palette, which an RGB file's empty colour mode data lacks.
    assert_contains(&read_err(&set_u16(24, 2)), "palette has 0 bytes");
    assert_contains(&read_err(&set_u16(12, 0)), "0 channels");
    assert_contains(&read_err(&set_u16(12, 57)), "57 channels");
}

#[test]
fn huge_canvas_is_refused_by_the_limits_before_anything_else() {
    // Only the header exists: had anything been allocated or decoded first, the error
    // would be a truncation instead of the limit.
    let mut header = small_psd()[..26].to_vec();
    header[14..18].copy_from_slice(&100_000u32.to_be_bytes());
    header[18..22].copy_from_slice(&100_000u32.to_be_bytes());
    let err = psd::read(&header, &Limits::default()).expect_err("too large");
    assert!(
        matches!(err, psd::PsdError::Limit(LimitError::SideTooLong { .. })),
        "{err:?}"
    );
    assert_contains(&err.to_string(), "30000 px per side");
    // 20000² is within the side limit but not the pixel limit.
    header[14..22].copy_from_slice(&[0, 0, 0x4e, 0x20, 0, 0, 0x4e, 0x20]);
    assert_contains(&read_err(&header), "beyond the limit of 268435456 pixels");
}

#[test]
fn layers_beyond_the_limits_are_refused() {
    let mut doc = Document::new(10, 10);
    doc.push_layer("wide", RgbaImage::new(50, 1));
    let mut bytes = Vec::new();
    psd::write(&doc, &mut bytes).expect("write");
    let narrow = Limits {
        max_side: 20,
        ..Limits::default()
    };
    let err = psd::read(&bytes, &narrow).expect_err("50 px layer");
    assert_contains(
        &err.to_string(),
        "layer is 50×1 px, beyond the limit of 20 px per side",
    );
    let tight = Limits {
        max_total_bytes: 1000,
        ..Limits::default()
    };
    let err = psd::read(&small_psd(), &tight).expect_err("total");
    assert_contains(
        &err.to_string(),
        "layers need 1600 bytes of pixels together",
    );
}

#[test]
fn lying_lengths_are_caught() {
    let bytes = small_psd();
    let count = layer_count_at(&bytes);
    assert_eq!(
        bytes[count..count + 2],
        [0xff, 0xfe],
        "count -2 where expected"
    );
    let message = read_err(&patched(count, &[0x7f, 0xff]));
    assert_contains(&message, "truncated: the records of 32767 layers");
    assert_contains(&read_err(&patched(count, &[0x80, 0x00])), "32768 layers");

    // The first channel length of the first record (after rectangle, count and id).
    let first_len = count + 2 + 16 + 2 + 2;
    assert_eq!(bytes[first_len..first_len + 4], [0, 0, 0, 14]);
    let message = read_err(&patched(first_len, &[0x7f, 0xff, 0xff, 0xff]));
    assert_contains(
        &message,
        "layer record 0 channel -1 data needs 2147483647 bytes",
    );
    // Too short for any encoding of 200×2 pixels: refused before allocating the layer.
    let message = read_err(&patched(first_len, &[0, 0, 0, 6]));
    assert_contains(
        &message,
        "layer record 0 channel -1: 6 bytes of channel data cannot hold 200×2",
    );

    let rect = count + 2;
    let message = read_err(&patched(rect, &[0, 0, 0, 9])); // top 9 > bottom 2
    assert_contains(&message, "layer record 0: rectangle");
    assert_contains(&message, "inside out");
    let message = read_err(&patched(rect + 16, &[0xff, 0xff]));
    assert_contains(&message, "65535 channels");
}

#[test]
fn broken_rle_is_caught() {
    let blob = find(&small_psd(), &FLAT_ALPHA_BLOB);
    let context = "layer record 0 ('flat') channel -1";
    let message = read_err(&patched(blob + 2, &[0, 9]));
    assert_contains(
        &message,
        &format!("truncated: {context} RLE row 0 needs 9 bytes"),
    );
    let message = read_err(&patched(blob + 2, &[0, 2, 0, 6]));
    assert_contains(
        &message,
        &format!("corrupt {context}: RLE row 0: decodes to 128 bytes, expected 200"),
    );
    let message = read_err(&patched(blob + 8, &[0xB8]));
    assert_contains(
        &message,
        "RLE row 0: a run of 73 bytes at pixel 128 runs past the row end (200 px)",
    );
    let message = read_err(&patched(blob + 1, &[7]));
    assert_contains(&message, "compression method 7");
}

#[test]
fn random_damage_never_panics() {
    let good = small_psd();
    let mut rng = Rng::new(1234);
    let mut failures = 0;
    for _ in 0..4000 {
        let mut bytes = good.clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(bytes.len() as u32) as usize;
            bytes[at] = rng.byte();
        }
        if rng.below(4) == 0 {
            bytes.truncate(rng.below(bytes.len() as u32) as usize);
        }
        failures += usize::from(psd::read(&bytes, &Limits::default()).is_err());
        let _ = psd::read_composite(&bytes, &Limits::default());
    }
    assert!(
        failures > 500,
        "damage should usually be detected ({failures} of 4000)"
    );
}

#[test]
fn open_names_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = small_psd();
    let cases: [(&str, Vec<u8>, &str); 3] = [
        ("cut.psd", bytes[..bytes.len() / 2].to_vec(), "truncated"),
        ("multichannel.psd", patched(24, &[0, 7]), "Multichannel"),
        (
            "bad-rle.psd",
            patched(find(&bytes, &FLAT_ALPHA_BLOB) + 8, &[0xB8]),
            "RLE row 0",
        ),
    ];
    for (name, content, needle) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, content).expect("write fixture");
        let message = io::open(&path).expect_err("must fail").to_string();
        assert_contains(&message, &path.display().to_string());
        assert_contains(&message, "PSD");
        assert_contains(&message, needle);
    }
}
