//! Every bad input to `io::open` gives an error that names the file, never a panic.

use std::path::Path;

use image::{Rgba, RgbaImage};
use strata::io::{self, Limits};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write fixture");
    path
}

fn png(width: u32, height: u32) -> Vec<u8> {
    io::raster::png_bytes(&RgbaImage::from_pixel(width, height, Rgba([9, 8, 7, 255]))).expect("png")
}

/// CRC-32 (IEEE), to build PNG chunks with valid checksums.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG whose header claims `width`×`height` but whose data is tiny.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = png(1, 1);
    // IHDR data starts at 16 (8 signature + 4 length + 4 type); its CRC follows at 29.
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

fn assert_error(path: &Path, limits: &Limits, needle: &str) {
    let err = io::open_with_limits(path, limits).expect_err("must fail");
    let message = err.to_string();
    let name = path.file_name().expect("name").to_string_lossy();
    assert!(
        message.contains(name.as_ref()),
        "'{message}' does not name the file"
    );
    assert!(
        message.to_lowercase().contains(needle),
        "'{message}' lacks '{needle}'"
    );
}

#[test]
fn bad_files_give_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let limits = Limits::default();
    assert_error(&d.join("missing.png"), &limits, "cannot read");
    assert_error(&write(d, "empty.png", b""), &limits, "empty");
    assert_error(
        &write(d, "text.png", b"hello, I am not a picture"),
        &limits,
        "not a picture",
    );
    let good = png(40, 30);
    assert_error(
        &write(d, "truncated.png", &good[..good.len() / 2]),
        &limits,
        "decode",
    );
    let mut corrupt = good.clone();
    let mid = corrupt.len() / 2;
    corrupt[mid..mid + 8].copy_from_slice(b"garbage!");
    assert_error(&write(d, "corrupt.png", &corrupt), &limits, "decode");
    assert_error(&write(d, "zero.png", &png_claiming(0, 0)), &limits, "");
    assert_error(
        &write(d, "huge.png", &png_claiming(100_000, 100_000)),
        &limits,
        "limit",
    );
    assert_error(
        &write(d, "wide.png", &png_claiming(30_001, 2)),
        &limits,
        "limit",
    );
}

#[test]
fn every_truncation_of_a_png_fails_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = png(5, 4);
    let original = io::open(&write(dir.path(), "whole.png", &good)).expect("whole file opens");
    for cut in 0..good.len() {
        let path = write(dir.path(), "cut.png", &good[..cut]);
        // A cut inside the trailing IEND chunk loses no pixels, and decoders accept it;
        // every other cut must fail.
        match io::open(&path) {
            Err(_) => {}
            Ok(doc) => {
                assert!(
                    cut >= good.len() - 12,
                    "cut at {cut} of {} was accepted",
                    good.len()
                );
                assert!(
                    *doc.layers[0].pixels == *original.layers[0].pixels,
                    "cut at {cut}"
                );
            }
        }
    }
}

#[test]
fn decompression_bomb_is_refused_by_the_limit() {
    // A real, valid 2000×2000 PNG of one colour: a few KiB on disk, 16 MB decoded.
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = png(2000, 2000);
    assert!(bytes.len() < 100_000);
    let path = write(dir.path(), "bomb.png", &bytes);
    let limits = Limits {
        max_pixels: 1_000_000,
        ..Limits::default()
    };
    assert_error(&path, &limits, "limit");
    // And within limits the same file opens.
    let doc = io::open(&path).expect("opens under default limits");
    assert_eq!((doc.width, doc.height), (2000, 2000));
}

#[test]
fn file_size_limit_is_checked_before_reading() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "big.png", &png(64, 64));
    let limits = Limits {
        max_file_bytes: 10,
        ..Limits::default()
    };
    assert_error(&path, &limits, "limit");
}

#[test]
fn flat_formats_open_as_one_layer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let img =
        image::DynamicImage::ImageRgba8(RgbaImage::from_pixel(6, 5, Rgba([10, 200, 30, 255])));
    for (ext, format) in [
        ("png", image::ImageFormat::Png),
        ("bmp", image::ImageFormat::Bmp),
        ("tiff", image::ImageFormat::Tiff),
        ("gif", image::ImageFormat::Gif),
        ("webp", image::ImageFormat::WebP),
    ] {
        let path = dir.path().join(format!("flat.{ext}"));
        img.save_with_format(&path, format).expect("encode");
        let doc = io::open(&path).expect(ext);
        assert_eq!(
            (doc.width, doc.height, doc.layers.len()),
            (6, 5, 1),
            "{ext}"
        );
        assert_eq!(doc.layers[0].name, "flat");
        assert_eq!(
            doc.layers[0].pixels.get_pixel(2, 2).0,
            [10, 200, 30, 255],
            "{ext}"
        );
    }
    let jpeg_path = dir.path().join("photo.jpg");
    image::DynamicImage::ImageRgb8(img.to_rgb8())
        .save(&jpeg_path)
        .expect("jpeg");
    let doc = io::open(&jpeg_path).expect("jpeg opens");
    let px = doc.layers[0].pixels.get_pixel(2, 2).0;
    assert!(px[1] > 180 && px[3] == 255, "{px:?}");
}

#[test]
fn save_refuses_unknown_extension_and_empty_documents() {
    let dir = tempfile::tempdir().expect("tempdir");
    let doc = strata::model::Document::from_flat("a", RgbaImage::new(2, 2));
    let err = io::save(&doc, &dir.path().join("out.xyz")).expect_err("xyz");
    assert!(err.to_string().contains("out.xyz"));
    let empty = strata::model::Document::new(2, 2);
    let err = io::save(&empty, &dir.path().join("out.psd")).expect_err("no layers");
    assert!(err.to_string().contains("no layers"));
}

#[test]
fn write_into_missing_folder_fails_and_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let doc = strata::model::Document::from_flat("a", RgbaImage::new(2, 2));
    let path = dir.path().join("no/such/folder/out.png");
    let err = io::save(&doc, &path).expect_err("missing folder");
    assert!(err.to_string().contains("out.png"), "{err}");
}

#[test]
fn export_layers_writes_one_png_each() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut doc = strata::model::Document::new(4, 4);
    doc.push_layer(
        "sky/../x",
        RgbaImage::from_pixel(4, 4, Rgba([1, 2, 3, 255])),
    );
    doc.push_layer("Text", RgbaImage::from_pixel(2, 1, Rgba([9, 9, 9, 128])));
    let out = dir.path().join("layers");
    let written = io::export_layers(&doc, &out).expect("export");
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["01-sky_.._x.png", "02-Text.png"]);
    let text = image::open(&written[1]).expect("png").into_rgba8();
    assert_eq!(text.dimensions(), (2, 1));
    assert_eq!(text.get_pixel(0, 0).0, [9, 9, 9, 128]);
}
