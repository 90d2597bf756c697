//! OpenRaster: round trips through our reader, Krita's file, and hostile archives.

mod common;

use std::io::Cursor;

use common::ora::{tiny_png, to_bytes, zip_of};
use common::{assert_same_layers, peer_file, tricky_document};
use strata::io::{self, Limits, ora};
use strata::model::{BlendMode, Offset, composite};

#[test]
fn round_trip_keeps_everything() {
    let doc = tricky_document();
    let back = ora::read(&to_bytes(&doc), &Limits::default()).expect("read back");
    assert_same_layers(&doc, &back);
    assert!(back.layers[3].locked, "edit-locked survives");
    assert_eq!(
        back.layers[1].opacity, doc.layers[1].opacity,
        "opacity is exact"
    );
}

#[test]
fn layout_follows_the_spec() {
    let bytes = to_bytes(&tricky_document());
    assert!(io::sniff(&bytes[..64]) == Some(io::Format::Ora));
    let mut zip = zip::ZipArchive::new(Cursor::new(&bytes)).expect("zip");
    let first = zip.by_index(0).expect("first entry");
    assert_eq!(first.name().expect("entry name"), "mimetype");
    assert_eq!(first.compression(), zip::CompressionMethod::Stored);
    drop(first);
    for name in ["stack.xml", "mergedimage.png", "Thumbnails/thumbnail.png"] {
        zip.by_name(name)
            .unwrap_or_else(|_| panic!("{name} missing"));
    }
    let mut merged = Vec::new();
    std::io::Read::read_to_end(
        &mut zip.by_name("mergedimage.png").expect("merged"),
        &mut merged,
    )
    .expect("read merged");
    let merged = image::load_from_memory(&merged).expect("png").into_rgba8();
    assert!(merged == composite(&tricky_document()));
    let mut thumb = Vec::new();
    std::io::Read::read_to_end(
        &mut zip.by_name("Thumbnails/thumbnail.png").expect("thumb"),
        &mut thumb,
    )
    .expect("read thumb");
    let thumb = image::load_from_memory(&thumb).expect("png");
    assert!(thumb.width() <= 256 && thumb.height() <= 256);
}

#[test]
fn reads_krita_export() {
    let doc = io::open(&peer_file("krita_from_psd.ora")).expect("open Krita's ORA");
    assert_eq!((doc.width, doc.height), (64, 48));
    let names: Vec<&str> = doc.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(
        names,
        ["Background", "Red box", "Noise (hidden)", "Child ✓ ünï"]
    );
    let red = &doc.layers[1];
    assert_eq!(red.offset, Offset::new(30, 20));
    assert_eq!(red.opacity_u8(), 191);
    let noise = &doc.layers[2];
    assert!(!noise.visible);
    assert_eq!(noise.blend, BlendMode::Screen);
    assert_eq!(noise.offset, Offset::new(-4, -4));
    assert_eq!(doc.layers[3].offset, Offset::new(5, 30));
    // Krita's root stack is the picture; its "Group 1" is a pass-through group.
    assert_eq!(doc.groups.len(), 1);
    let group = &doc.groups[0];
    assert_eq!(group.name, "Group 1");
    assert!(group.pass_through && group.visible && group.parent.is_none());
    assert_eq!(doc.layers[3].parent, Some(group.id));
    assert!(doc.layers[..3].iter().all(|l| l.parent.is_none()));

    // Our composite of Krita's layers must match Krita's own mergedimage.png.
    let bytes = std::fs::read(peer_file("krita_from_psd.ora")).expect("read");
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("zip");
    let mut merged = Vec::new();
    std::io::Read::read_to_end(
        &mut zip.by_name("mergedimage.png").expect("merged"),
        &mut merged,
    )
    .expect("read merged");
    let merged = image::load_from_memory(&merged).expect("png").into_rgba8();
    let ours = composite(&doc);
    let mut worst = 0;
    for (a, b) in ours.pixels().zip(merged.pixels()) {
        if a[3] == 0 && b[3] == 0 {
            continue;
        }
        for c in 0..4 {
            worst = worst.max(a[c].abs_diff(b[c]));
        }
    }
    assert!(worst <= 2, "composite differs from Krita's by {worst}");
}

#[test]
fn hostile_archives_give_clear_errors() {
    let png = tiny_png();
    let stack = br#"<image w="2" h="2"><stack><layer src="data/a.png"/></stack></image>"#;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("not a zip", b"PK\x03\x04garbage".to_vec(), "zip"),
        (
            "no stack",
            zip_of(&[("mimetype", b"image/openraster")]),
            "stack.xml",
        ),
        (
            "wrong mimetype",
            zip_of(&[("mimetype", b"image/png"), ("stack.xml", stack)]),
            "mimetype",
        ),
        (
            "missing layer png",
            zip_of(&[("mimetype", b"image/openraster"), ("stack.xml", stack)]),
            "data/a.png",
        ),
        (
            "zip-slip src",
            zip_of(&[
                ("mimetype", b"image/openraster"),
                (
                    "stack.xml",
                    br#"<image w="2" h="2"><stack><layer src="../../etc/passwd"/></stack></image>"#,
                ),
                ("data/a.png", &png),
            ]),
            "../../etc/passwd",
        ),
        (
            "zero canvas",
            zip_of(&[
                ("mimetype", b"image/openraster"),
                ("stack.xml", br#"<image w="0" h="0"><stack/></image>"#),
            ]),
            "no pixels",
        ),
        (
            "corrupt layer png",
            zip_of(&[
                ("mimetype", b"image/openraster"),
                ("stack.xml", stack),
                ("data/a.png", b"\x89PNG\r\n\x1a\nxx"),
            ]),
            "data/a.png",
        ),
    ];
    for (what, bytes, needle) in cases {
        let err = ora::read(&bytes, &Limits::default()).expect_err(what);
        assert!(
            err.to_string().contains(needle),
            "{what}: '{err}' lacks '{needle}'"
        );
    }
}

#[test]
fn zip_bomb_stops_at_the_limit() {
    // 64 MiB of zeros deflate to ~64 KiB; with a 1 MiB file limit the reader must stop early.
    let zeros = vec![0u8; 64 << 20];
    let bytes = zip_of(&[
        ("mimetype", b"image/openraster"),
        (
            "stack.xml",
            br#"<image w="2" h="2"><stack><layer src="data/a.png"/></stack></image>"#,
        ),
        ("data/a.png", &zeros),
    ]);
    assert!(bytes.len() < 1 << 20);
    let limits = Limits {
        max_file_bytes: 1 << 20,
        ..Limits::default()
    };
    let err = ora::read(&bytes, &limits).expect_err("bomb");
    assert!(err.to_string().contains("larger than"), "{err}");
}

#[test]
fn layer_beyond_limits_is_refused() {
    let big = strata::io::raster::png_bytes(&image::RgbaImage::new(300, 10)).expect("png");
    let bytes = zip_of(&[
        ("mimetype", b"image/openraster"),
        (
            "stack.xml",
            br#"<image w="2" h="2"><stack><layer src="data/a.png"/></stack></image>"#,
        ),
        ("data/a.png", &big),
    ]);
    let limits = Limits {
        max_side: 100,
        ..Limits::default()
    };
    let err = ora::read(&bytes, &limits).expect_err("too wide");
    assert!(err.to_string().contains("limit"), "{err}");
}

#[test]
fn deep_nesting_and_absolute_paths_are_refused_by_name() {
    let png = tiny_png();
    let deep = format!(
        r#"<image w="2" h="2">{}<layer src="data/a.png"/>{}</image>"#,
        "<stack>".repeat(10_000),
        "</stack>".repeat(10_000)
    );
    let cases: Vec<(&str, String, &str)> = vec![
        ("10 000 nested stacks", deep, "nested deeper"),
        (
            "absolute src",
            r#"<image w="2" h="2"><stack><layer src="/etc/passwd"/></stack></image>"#.into(),
            "/etc/passwd",
        ),
        (
            "canvas beyond the PSD maximum",
            r#"<image w="30001" h="30001"><stack/></image>"#.into(),
            "30001",
        ),
        (
            "negative size",
            r#"<image w="-5" h="2"><stack/></image>"#.into(),
            "-5",
        ),
    ];
    for (what, stack, needle) in cases {
        let bytes = zip_of(&[
            ("mimetype", b"image/openraster"),
            ("stack.xml", stack.as_bytes()),
            ("data/a.png", &png),
        ]);
        let err = ora::read(&bytes, &Limits::default()).expect_err(what);
        assert!(
            err.to_string().contains(needle),
            "{what}: '{err}' lacks '{needle}'"
        );
    }
}

/// The `composite-op` of every `<layer>` in a written file's stack.xml, in file order.
fn written_ops(bytes: &[u8]) -> Vec<String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("zip");
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("stack.xml").expect("stack"), &mut xml)
        .expect("read stack");
    xml.split("composite-op=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn every_blend_mode_is_written_as_the_spec_or_krita_names_it() {
    let mut doc = strata::model::Document::new(4, 4);
    for mode in BlendMode::ALL {
        doc.push_layer(mode.label(), image::RgbaImage::new(2, 2))
            .blend = mode;
    }
    let bytes = to_bytes(&doc);
    let ops = written_ops(&bytes);
    // Spec names where the spec has the mode; Krita's for the rest (it reads
    // `svg:exclusion` as Normal, so exclusion must not be written that way).
    for (mode, op) in [
        (BlendMode::Multiply, "svg:multiply"),
        (BlendMode::Luminosity, "svg:luminosity"),
        (BlendMode::Exclusion, "krita:exclusion"),
        (BlendMode::DarkerColor, "krita:darker color"),
        (BlendMode::LinearLight, "krita:linear light"),
        (BlendMode::HardMix, "krita:hard_mix_photoshop"),
        (BlendMode::Dissolve, "krita:dissolve"),
    ] {
        assert!(ops.iter().any(|o| o == op), "{mode:?}: {op} not in {ops:?}");
    }
    let back = ora::read(&bytes, &Limits::default()).expect("read back");
    let modes: Vec<BlendMode> = back.layers.iter().map(|l| l.blend).collect();
    assert_eq!(modes, BlendMode::ALL.to_vec());
}

#[test]
fn krita_and_svg_names_are_both_read() {
    let cases = [
        ("krita:darker color", BlendMode::DarkerColor),
        ("krita:lighter color", BlendMode::LighterColor),
        ("krita:linear_burn", BlendMode::LinearBurn),
        ("krita:linear light", BlendMode::LinearLight),
        ("krita:vivid_light", BlendMode::VividLight),
        ("krita:pin_light", BlendMode::PinLight),
        ("krita:hard_mix_photoshop", BlendMode::HardMix),
        ("krita:subtract", BlendMode::Subtract),
        ("krita:divide", BlendMode::Divide),
        ("krita:dissolve", BlendMode::Dissolve),
        ("krita:exclusion", BlendMode::Exclusion),
        ("svg:exclusion", BlendMode::Exclusion),
        ("krita:hue", BlendMode::Hue),
        ("svg:hue", BlendMode::Hue),
        ("krita:saturation", BlendMode::Saturation),
        ("svg:saturation", BlendMode::Saturation),
        ("krita:color", BlendMode::Color),
        ("svg:color", BlendMode::Color),
        ("krita:luminize", BlendMode::Luminosity),
        ("svg:luminosity", BlendMode::Luminosity),
        ("krita:linear_dodge", BlendMode::Add),
        ("svg:plus", BlendMode::Add),
        ("krita:burn", BlendMode::ColorBurn),
        ("svg:color-burn", BlendMode::ColorBurn),
        // Unknown names fall back to Normal, with a warning.
        ("krita:hard mix", BlendMode::Normal),
    ];
    let layers: String = cases
        .iter()
        .map(|(op, _)| format!(r#"<layer src="data/a.png" composite-op="{op}"/>"#))
        .collect();
    let stack = format!(r#"<image w="2" h="2"><stack>{layers}</stack></image>"#);
    let png = tiny_png();
    let bytes = zip_of(&[
        ("mimetype", b"image/openraster"),
        ("stack.xml", stack.as_bytes()),
        ("data/a.png", &png),
    ]);
    let (doc, notices) = ora::read_with_notices(&bytes, &Limits::default()).expect("read");
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0].text.contains("krita:hard mix"), "{notices:?}");
    // The stack lists layers top first; the document keeps them bottom first.
    let read: Vec<BlendMode> = doc.layers.iter().rev().map(|l| l.blend).collect();
    let expected: Vec<BlendMode> = cases.iter().map(|(_, mode)| *mode).collect();
    assert_eq!(read, expected);
}

#[test]
fn fill_opacity_round_trips_in_strata_s_own_attribute() {
    let mut doc = strata::model::Document::new(3, 3);
    doc.push_layer("full", image::RgbaImage::new(2, 2));
    let part = doc.push_layer("part", image::RgbaImage::new(2, 2));
    part.fill_opacity = 0.375;
    part.blend = BlendMode::LinearLight;
    let bytes = to_bytes(&doc);
    let mut zip = zip::ZipArchive::new(Cursor::new(&bytes)).expect("zip");
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("stack.xml").expect("stack"), &mut xml)
        .expect("read stack");
    assert!(
        xml.contains(r#"xmlns:strata="urn:strata:openraster""#),
        "{xml}"
    );
    assert_eq!(
        xml.matches("strata:fill-opacity=").count(),
        1,
        "only below 100 %"
    );
    let back = ora::read(&bytes, &Limits::default()).expect("read back");
    assert_eq!(back.layers[0].fill_opacity, 1.0);
    assert_eq!(back.layers[1].fill_opacity, 0.375);
}
