//! PSD files written by other programs (GIMP 2.10, ImageMagick 6.9, Krita 5.1) open with the
//! layers psd-tools 1.26 reports for them.
//!
//! Expected values were taken with psd-tools (`layer.name`, `.visible`, `.opacity`,
//! `.blend_mode`, `.offset`, `.size`, and `np.round(layer.numpy() * 255)` hashed with
//! FNV-1a 64 over its RGBA bytes, alpha 255 added where psd-tools returns RGB). Where psd-tools
//! is wrong we expect the right thing instead, and say so.

mod common;

use common::peer_file;
use strata::io::{self, Limits, psd};
use strata::model::{BlendMode, Document, composite};

/// One layer as psd-tools reports it.
struct Expected {
    name: &'static str,
    visible: bool,
    opacity: u8,
    blend: BlendMode,
    offset: (i32, i32),
    size: (u32, u32),
    fnv: u64,
    first_pixel: [u8; 4],
    middle_pixel: [u8; 4],
}

const BACKGROUND: Expected = Expected {
    name: "Background",
    visible: true,
    opacity: 255,
    blend: BlendMode::Normal,
    offset: (0, 0),
    size: (64, 48),
    fnv: 0x2ddd_a800_f7ab_d99d,
    first_pixel: [0, 80, 255, 255],
    middle_pixel: [129, 80, 124, 255],
};

/// Krita wrote 190 for 0.74902 (it truncates); GIMP wrote 191.
const fn red_box(opacity: u8) -> Expected {
    Expected {
        name: "Red box",
        visible: true,
        opacity,
        blend: BlendMode::Normal,
        offset: (30, 20),
        size: (24, 20),
        fnv: 0x218a_ad57_32a8_def5,
        first_pixel: [230, 0, 0, 255],
        middle_pixel: [230, 0, 0, 128],
    }
}

const NOISE: Expected = Expected {
    name: "Noise (hidden)",
    visible: false,
    opacity: 255,
    blend: BlendMode::Screen,
    offset: (-4, -4),
    size: (16, 16),
    fnv: 0x015d_2613_7218_eebe,
    first_pixel: [139, 74, 229, 255],
    middle_pixel: [129, 154, 246, 255],
};

const CHILD: Expected = Expected {
    name: "Child ✓ ünï",
    visible: true,
    opacity: 255,
    blend: BlendMode::Normal,
    offset: (5, 30),
    size: (10, 10),
    fnv: 0x7aa4_12f1_1bfe_b2e5,
    first_pixel: [0, 255, 0, 200],
    middle_pixel: [0, 255, 0, 200],
};

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn open(name: &str) -> Document {
    io::open(&peer_file(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn check_layers(file: &str, doc: &Document, expected: &[Expected]) {
    assert_eq!((doc.width, doc.height), (64, 48), "{file}: canvas");
    let names: Vec<&str> = doc.layers.iter().map(|l| l.name.as_str()).collect();
    let expected_names: Vec<&str> = expected.iter().map(|e| e.name).collect();
    assert_eq!(names, expected_names, "{file}: layer names, bottom first");
    for (layer, e) in doc.layers.iter().zip(expected) {
        let at = format!("{file}: layer '{}'", e.name);
        assert_eq!(layer.visible, e.visible, "{at}: visible");
        assert_eq!(layer.opacity_u8(), e.opacity, "{at}: opacity");
        assert_eq!(layer.blend, e.blend, "{at}: blend");
        assert_eq!((layer.offset.x, layer.offset.y), e.offset, "{at}: offset");
        assert_eq!((layer.width(), layer.height()), e.size, "{at}: size");
        assert_eq!(
            layer.pixels.get_pixel(0, 0).0,
            e.first_pixel,
            "{at}: pixel (0, 0)"
        );
        let (mx, my) = (e.size.0 / 2, e.size.1 / 2);
        assert_eq!(
            layer.pixels.get_pixel(mx, my).0,
            e.middle_pixel,
            "{at}: middle pixel"
        );
        assert_eq!(fnv1a(layer.pixels.as_raw()), e.fnv, "{at}: pixel hash");
    }
}

/// Our composite of the layers against the file's own stored composite.
fn max_composite_diff(file: &str, doc: &Document) -> u8 {
    let bytes = std::fs::read(peer_file(file)).expect("read fixture");
    let stored =
        strata::io::psd::read_composite(&bytes, &Limits::default()).expect("stored composite");
    let ours = composite(doc);
    assert_eq!(
        stored.dimensions(),
        ours.dimensions(),
        "{file}: composite size"
    );
    let mut max = 0;
    for (s, o) in stored.pixels().zip(ours.pixels()) {
        max = max.max(s[3].abs_diff(o[3]));
        if s[3] > 0 {
            (0..3).for_each(|c| max = max.max(s[c].abs_diff(o[c])));
        }
    }
    max
}

#[test]
fn gimp_file_keeps_its_group() {
    // GIMP puts "Child ✓ ünï" into "Group 1" (divider and folder records around it); the
    // group is read as a group and the child keeps its own properties.
    let doc = open("by_gimp.psd");
    check_layers(
        "by_gimp.psd",
        &doc,
        &[BACKGROUND, red_box(191), NOISE, CHILD],
    );
    doc.check_tree().expect("a valid tree");
    let group = doc.groups.first().expect("GIMP's group");
    assert_eq!(group.name, "Group 1");
    assert_eq!(doc.layers[3].parent, Some(group.id));
    // GIMP's composite has no alpha channel (3 channels): it is read as opaque.
    assert!(max_composite_diff("by_gimp.psd", &doc) <= 2);
}

#[test]
fn imagemagick_file_with_zip_channels_opens() {
    // ImageMagick compresses layer channels with ZIP (compression 2); its background layer
    // has no transparency channel (opaque), and its "Box" lists -1 after the colours.
    let doc = open("by_imagemagick.psd");
    let background = Expected {
        fnv: 0x5481_d838_1175_5da5,
        first_pixel: [0, 0, 255, 255],
        middle_pixel: [130, 130, 255, 255],
        ..BACKGROUND
    };
    let boxed = Expected {
        name: "Box",
        opacity: 255,
        fnv: 0xca30_569f_e485_d8e5,
        first_pixel: [230, 0, 0, 153],
        middle_pixel: [230, 0, 0, 153],
        ..red_box(255)
    };
    check_layers("by_imagemagick.psd", &doc, &[background, boxed]);
    assert!(max_composite_diff("by_imagemagick.psd", &doc) <= 2);
}

#[test]
fn krita_names_lose_their_nul() {
    // Krita counts a NUL in `luni` (psd-tools reports 'Red box\x00'); we strip it.
    let doc = open("krita_from_ora.psd");
    check_layers(
        "krita_from_ora.psd",
        &doc,
        &[BACKGROUND, red_box(190), NOISE, CHILD],
    );
    assert!(max_composite_diff("krita_from_ora.psd", &doc) <= 2);
}

#[test]
fn krita_straight_composite_is_not_unmatted() {
    // Krita stores its composite straight (black where transparent) instead of matted over
    // white; psd-tools un-mattes it anyway and gets it wrong by up to 255. We detect it.
    let doc = open("transp_by_krita.psd");
    check_layers("transp_by_krita.psd", &doc, &[red_box(190)]);
    assert!(max_composite_diff("transp_by_krita.psd", &doc) <= 2);
    let bytes = std::fs::read(peer_file("transp_by_krita.psd")).expect("read");
    let stored = psd::read_composite(&bytes, &Limits::default()).expect("composite");
    assert_eq!(stored.get_pixel(0, 0).0, [0, 0, 0, 0]);
    // 230·128/255·190/255 → alpha 96, colour unchanged by matting.
    assert_eq!(stored.get_pixel(32, 24).0[0], 230);
}
