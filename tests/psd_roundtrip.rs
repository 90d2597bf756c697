//! Our PSD writer against our reader, the `psd` crate (an independent reader) and fixed bytes.

mod common;

use common::grouped::grouped_document;
use common::{Rng, assert_same_layers, patterned_image, tricky_document};
use image::{Rgba, RgbaImage};
use strata::io::{Limits, psd as ours};
use strata::model::{BBox, BlendMode, Document, Mask, Offset, composite};

fn to_bytes(doc: &Document) -> Vec<u8> {
    let mut out = Vec::new();
    ours::write(doc, &mut out).expect("write psd");
    out
}

fn read_back(doc: &Document) -> Document {
    ours::read(&to_bytes(doc), &Limits::default()).expect("read our own psd")
}

/// A 300-byte name: the Pascal field keeps 255 bytes at most, `luni` keeps it whole.
fn long_name() -> String {
    "Lång".repeat(60)
}

/// A document with every property a layer can have, seeded so each run differs in pixels.
fn random_document(seed: u64) -> Document {
    let mut rng = Rng::new(seed);
    let (width, height) = (40 + rng.below(200), 30 + rng.below(100));
    let mut doc = Document::new(width, height);
    doc.push_layer("Background", patterned_image(&mut rng, width, height));
    let names = ["Child ✓ ünï", "🎨 paint 👩‍🎨", "plain", "\u{0}odd\u{7f}"];
    for (i, mode) in BlendMode::ALL.into_iter().enumerate() {
        let (w, h) = (1 + rng.below(300), 1 + rng.below(20));
        let name = format!("{} {i}", names[i % names.len()]);
        let layer = doc.push_layer(name, patterned_image(&mut rng, w, h));
        layer.blend = mode;
        layer.visible = rng.below(3) != 0;
        layer.opacity = rng.below(256) as f32 / 255.0;
        layer.locked = rng.below(4) == 0;
        // Full fill (no iOpa block) or any other byte.
        if rng.below(2) == 0 {
            layer.fill_opacity = rng.below(256) as f32 / 255.0;
        }
        // Offsets anywhere: negative, inside, or entirely past the canvas.
        let x = rng.below(width + 2 * w) as i32 - w as i32;
        let y = rng.below(height + 2 * h) as i32 - h as i32;
        layer.offset = Offset::new(x, y);
    }
    doc.push_layer(long_name(), RgbaImage::new(0, 0)).offset = Offset::new(3, -2);
    doc.push_layer("empty row", RgbaImage::new(17, 0));
    doc.push_layer(
        "opacity 0.749",
        RgbaImage::from_pixel(3, 3, Rgba([1, 2, 3, 4])),
    )
    .opacity = 0.749;
    doc
}

fn assert_exact(expected: &Document, actual: &Document) {
    assert_same_layers(expected, actual);
    for (e, a) in expected.layers.iter().zip(&actual.layers) {
        assert_eq!(e.locked, a.locked, "{}: locked", e.name);
        assert_eq!(
            a.opacity,
            f32::from(e.opacity_u8()) / 255.0,
            "{}: opacity is n/255",
            e.name
        );
        assert_eq!(
            a.fill_opacity,
            f32::from(e.fill_opacity_u8()) / 255.0,
            "{}: fill opacity is n/255",
            e.name
        );
    }
}

#[test]
fn random_documents_round_trip_exactly() {
    for seed in 1..=12 {
        let doc = random_document(seed);
        let back = read_back(&doc);
        assert_exact(&doc, &back);
        assert_eq!(
            back.layers[BlendMode::ALL.len() + 1].name.len(),
            300,
            "long name kept whole"
        );
        assert_eq!(
            back.layers.last().map(|l| l.opacity_u8()),
            Some(191),
            "0.749 rounds to 191"
        );
    }
    let tricky = tricky_document();
    assert_exact(&tricky, &read_back(&tricky));
}

#[test]
fn wide_rows_with_long_runs_and_literals_round_trip() {
    // 333 px: runs over 128 and noise stretches over 128 in the same row.
    let mut rng = Rng::new(99);
    let image = RgbaImage::from_fn(333, 5, |x, y| match (x + y * 7) % 333 {
        0..=140 => Rgba([10, 20, 30, 255]),
        141..=290 => Rgba([rng.byte(), rng.byte(), rng.byte(), rng.byte()]),
        _ => Rgba([0, 0, 0, 0]),
    });
    let mut doc = Document::new(333, 5);
    doc.push_layer("wide", image);
    let bytes = to_bytes(&doc);
    assert!(
        bytes.len() < 333 * 5 * 4 * 2,
        "RLE keeps the file small: {} bytes",
        bytes.len()
    );
    assert_exact(&doc, &ours::read(&bytes, &Limits::default()).expect("read"));
}

#[test]
fn stored_composite_is_the_model_composite() {
    let doc = tricky_document();
    let stored = ours::read_composite(&to_bytes(&doc), &Limits::default()).expect("composite");
    let expected = composite(&doc);
    for (s, e) in stored.pixels().zip(expected.pixels()) {
        assert_eq!(s[3], e[3], "alpha is stored exactly");
        // Un-matting loses precision where alpha is small: ±255/(2a), rounded up.
        let tolerance = 1 + 128 / u32::from(e[3].max(1));
        for c in 0..3 {
            if e[3] > 0 {
                assert!(
                    u32::from(s[c].abs_diff(e[c])) <= tolerance,
                    "{s:?} vs {e:?}"
                );
            }
        }
    }
}

#[test]
fn psb_round_trips_and_is_chosen_beyond_30000_px() {
    for seed in 0..3 {
        let doc = random_document(seed);
        let mut psb = Vec::new();
        ours::write_version(&doc, &mut psb, ours::Version::Psb).expect("write psb");
        assert_eq!(&psb[..6], b"8BPS\0\x02", "version 2");
        let back = ours::read(&psb, &Limits::default()).expect("read our own psb");
        assert_exact(&doc, &back);
        assert_eq!(
            ours::read_composite(&psb, &Limits::default()).expect("composite"),
            ours::read_composite(&to_bytes(&doc), &Limits::default()).expect("psd composite"),
            "the same composite as the PSD"
        );
    }
    // Too wide for PSD: written as PSB without being asked, and read back whole.
    let mut wide = Document::from_flat("x", RgbaImage::from_pixel(30_001, 2, Rgba([9, 8, 7, 255])));
    wide.push_layer("tall", RgbaImage::from_pixel(1, 30_001, Rgba([1, 2, 3, 4])));
    let bytes = to_bytes(&wide);
    assert_eq!(&bytes[..6], b"8BPS\0\x02", "PSB chosen");
    let roomy = Limits {
        max_side: 40_000,
        ..Limits::default()
    };
    assert_exact(&wide, &ours::read(&bytes, &roomy).expect("read wide psb"));
}

#[test]
fn refuses_what_psb_cannot_hold() {
    let mut out = Vec::new();
    let too_wide = Document::from_flat("x", RgbaImage::new(300_001, 1));
    let err = ours::write(&too_wide, &mut out).expect_err("300001 px");
    assert!(err.to_string().contains("300000"), "{err}");
    assert!(out.is_empty(), "nothing written before the check");
    let mut big_layer = Document::new(10, 10);
    big_layer.push_layer("huge", RgbaImage::new(1, 300_001));
    let err = ours::write(&big_layer, &mut out).expect_err("300001 px layer");
    assert!(err.to_string().contains("huge"), "{err}");
    let mut far = Document::new(10, 10);
    far.push_layer("far", RgbaImage::new(5, 5)).offset = Offset::new(i32::MAX - 2, 0);
    assert!(ours::write(&far, &mut out).is_err(), "right edge past i32");
}

/// A writer that fails after `left` bytes, like a full disk.
struct FullDisk {
    left: usize,
}

impl std::io::Write for FullDisk {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::other("disk full"));
        }
        let n = buf.len().min(self.left);
        self.left -= n;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn write_errors_surface() {
    let err = ours::write(&tricky_document(), FullDisk { left: 100 }).expect_err("disk full");
    assert!(matches!(err, ours::PsdError::Io(_)), "{err:?}");
    assert!(err.to_string().contains("disk full"), "{err}");
}

/// Expected bytes of the 2×2 document below, section by section.
fn golden_2x2() -> Vec<u8> {
    let mut f: Vec<u8> = Vec::new();
    // File header: 8BPS, version 1, 6 reserved, 4 channels, height 2, width 2, depth 8, RGB.
    f.extend(b"8BPS\0\x01\0\0\0\0\0\0\0\x04\0\0\0\x02\0\0\0\x02\0\x08\0\x03");
    f.extend(b"\0\0\0\0"); // colour mode data: empty
    f.extend(b"\0\0\0\x52"); // image resources: 82 bytes
    // 1057 version info: 41 bytes (odd, so one pad byte): version 1, hasRealMergedData 1,
    // writer and reader "Strata" as counted UTF-16, file version 1.
    f.extend(b"8BIM\x04\x21\0\0\0\0\0\x29\0\0\0\x01\x01");
    for _ in 0..2 {
        f.extend(b"\0\0\0\x06\0S\0t\0r\0a\0t\0a");
    }
    f.extend(b"\0\0\0\x01\0");
    // 1005 resolution: 72 dpi (16.16 fixed), units inches, horizontally and vertically.
    f.extend(b"8BIM\x03\xed\0\0\0\0\0\x10");
    f.extend(b"\0\x48\0\0\0\x01\0\x01\0\x48\0\0\0\x01\0\x01");
    f.extend(b"\0\0\0\x7c"); // layer and mask section: 124 bytes
    f.extend(b"\0\0\0\x74"); // layer info: 116 bytes, a multiple of 4
    f.extend(b"\xff\xff"); // layer count -1: the composite has merged transparency
    f.extend(b"\0\0\0\0\0\0\0\0\0\0\0\x02\0\0\0\x02"); // top 0, left 0, bottom 2, right 2
    f.extend(b"\0\x04\xff\xff\0\0\0\x06\0\0\0\0\0\x06\0\x01\0\0\0\x06\0\x02\0\0\0\x06"); // -1,0,1,2: 6 bytes each
    f.extend(b"8BIMmul \xbf\0\x0a\0"); // multiply, opacity 191, base, flags hidden|PS5
    f.extend(b"\0\0\0\x20"); // extra data: 32 bytes
    f.extend(b"\0\0\0\0\0\0\0\0"); // no mask, no blending ranges
    f.extend(b"\x01A\0\0"); // Pascal name, padded to 4 with its length byte
    f.extend(b"8BIMluni\0\0\0\x08\0\0\0\x01\0A\0\0"); // 1 UTF-16 unit, padding counted
    // Channel data: 2×2 planes are smaller raw (0) than RLE, in the order -1, R, G, B.
    f.extend(b"\0\0\xff\xff\x80\0");
    f.extend(b"\0\0\x01\x04\x07\x0a\0\0\x02\x05\x08\x0b\0\0\x03\x06\x09\x0c");
    f.extend(b"\0\0\0\0"); // global layer mask info: none
    // Image data, raw: R, G, B, A planes of the composite matted over white. The layer is
    // hidden, so the composite is empty: white, alpha 0.
    f.extend(b"\0\0");
    f.extend([255; 12]);
    f.extend([0; 4]);
    f
}

#[test]
fn golden_bytes_of_a_2x2_document() {
    let pixels = [
        [1, 2, 3, 255],
        [4, 5, 6, 255],
        [7, 8, 9, 128],
        [10, 11, 12, 0],
    ];
    let image = RgbaImage::from_fn(2, 2, |x, y| Rgba(pixels[(y * 2 + x) as usize]));
    let mut doc = Document::new(2, 2);
    let layer = doc.push_layer("A", image);
    layer.blend = BlendMode::Multiply;
    layer.opacity = 0.749;
    layer.visible = false;
    let bytes = to_bytes(&doc);
    let golden = golden_2x2();
    for (i, (a, e)) in bytes.iter().zip(&golden).enumerate() {
        assert_eq!(a, e, "first difference at byte {i:#x}");
    }
    assert_eq!(bytes.len(), golden.len());

    // Visible: the composite is the layer itself, matted over white.
    doc.layers[0].visible = true;
    doc.layers[0].blend = BlendMode::Normal;
    doc.layers[0].opacity = 1.0;
    let bytes = to_bytes(&doc);
    let image_data = &bytes[bytes.len() - 18..];
    // (7, 8, 9) at alpha 128: C·a/255 + 255 − a = 130.51, 131.02, 131.52 → 131, 131, 132.
    let mut expected = vec![0, 0];
    expected.extend([
        1, 4, 131, 255, 2, 5, 131, 255, 3, 6, 132, 255, 255, 255, 128, 0,
    ]);
    assert_eq!(image_data, expected);
}

/// The `psd` crate's name for one of our blend modes (its enum differs only for Add).
fn psd_crate_blend(mode: BlendMode) -> String {
    match mode {
        BlendMode::Add => "LinearDodge".into(),
        other => format!("{other:?}"),
    }
}

/// `layer` drawn alone on a transparent canvas, as the `psd` crate's `PsdLayer::rgba` does.
fn on_canvas(doc: &Document, layer: &strata::model::Layer) -> Vec<u8> {
    let mut canvas = RgbaImage::new(doc.width, doc.height);
    image::imageops::replace(
        &mut canvas,
        layer.pixels.as_ref(),
        i64::from(layer.offset.x),
        i64::from(layer.offset.y),
    );
    canvas.into_raw()
}

#[test]
fn psd_crate_reads_our_output() {
    for seed in [3, 8] {
        let doc = random_document(seed);
        let bytes = to_bytes(&doc);
        let peer = psd::Psd::from_bytes(&bytes).expect("the psd crate parses our file");
        assert_eq!((peer.width(), peer.height()), (doc.width, doc.height));
        assert_eq!(peer.layers().len(), doc.layers.len());
        let mut compared = 0;
        // The crate lists layers top-first, the reverse of the file and of our model.
        for (ours, theirs) in doc.layers.iter().rev().zip(peer.layers()) {
            let at = &ours.name;
            assert_eq!(theirs.name(), ours.name, "name via luni");
            assert_eq!(theirs.opacity(), ours.opacity_u8(), "{at}: opacity");
            assert_eq!(
                format!("{:?}", theirs.blend_mode()),
                psd_crate_blend(ours.blend),
                "{at}"
            );
            assert_eq!(theirs.layer_left(), ours.offset.x, "{at}: left");
            assert_eq!(theirs.layer_top(), ours.offset.y, "{at}: top");
            // psd 0.3.5 returns the flag bit itself, which is set for HIDDEN layers
            // (its bug #55, fixed after 0.3.5): so it must be the opposite of ours.
            assert_eq!(theirs.visible(), !ours.visible, "{at}: visibility bit");
            let canvas = BBox::new(0, 0, i64::from(doc.width), i64::from(doc.height));
            let inside = canvas.encloses(&ours.bounds());
            // The crate places pixels by flat index, so rows of a layer that sticks out of
            // the canvas wrap around; compare only layers that lie inside it.
            if inside && ours.width() > 0 && ours.height() > 0 {
                assert!(theirs.rgba() == on_canvas(&doc, ours), "{at}: pixels");
                compared += 1;
            }
        }
        assert!(
            compared >= 2,
            "only {compared} layers lay inside the canvas"
        );
        // The crate returns the stored composite as is: matted over white.
        let matted: Vec<u8> = composite(&doc)
            .pixels()
            .flat_map(|p| {
                let a = u32::from(p[3]);
                let c = |v: u8| ((u32::from(v) * a + 255 * (255 - a) + 127) / 255) as u8;
                [c(p[0]), c(p[1]), c(p[2]), p[3]]
            })
            .collect();
        assert!(peer.rgba() == matted, "stored composite, matted over white");
    }
}

/// Everything about a mask that a file keeps, pixels included.
fn mask_state(mask: &Option<Mask>) -> String {
    match mask {
        None => "no mask".into(),
        Some(m) => format!(
            "mask {}x{} at {:?} bg {} on {} density {} feather {} pixels {:x}",
            m.pixels.width(),
            m.pixels.height(),
            m.offset,
            m.background,
            m.enabled,
            (m.density * 255.0).round(),
            m.feather,
            m.pixels
                .as_raw()
                .iter()
                .fold(0u64, |h, &b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
        ),
    }
}

/// The tree of a document as text: every layer and group, bottom first, with its parent's
/// name and what a file keeps of it.
fn tree_state(doc: &Document) -> Vec<String> {
    let parent_name = |id: Option<strata::model::LayerId>| {
        id.and_then(|id| doc.group(id))
            .map_or("-".to_string(), |g| g.name.clone())
    };
    let mut out: Vec<String> = doc
        .layers
        .iter()
        .map(|l| {
            format!(
                "layer {} in {} clipped {} {}",
                l.name,
                parent_name(l.parent),
                l.clipped,
                mask_state(&l.mask)
            )
        })
        .collect();
    out.extend(doc.groups.iter().map(|g| {
        format!(
            "group {} in {} shown {} opacity {} fill {} blend {:?} pass {} collapsed {} locked {} {}",
            g.name,
            parent_name(g.parent),
            g.visible,
            g.opacity_u8(),
            g.fill_opacity,
            (!g.pass_through).then_some(g.blend),
            g.pass_through,
            g.collapsed,
            g.locked,
            mask_state(&g.mask)
        )
    }));
    out.sort();
    out
}

#[test]
fn groups_masks_and_clipping_round_trip() {
    let mut doc = grouped_document();
    // A group's fill opacity (Photoshop's `iOpa` on its folder record) survives too.
    doc.groups[0].fill_opacity = 0.4;
    for version in [ours::Version::Psd, ours::Version::Psb] {
        let mut bytes = Vec::new();
        ours::write_version(&doc, &mut bytes, version).expect("write");
        let back = ours::read(&bytes, &Limits::default()).expect("read our own file");
        back.check_tree().expect("a valid tree");
        assert_same_layers(&doc, &back);
        assert_eq!(tree_state(&doc), tree_state(&back), "{version:?}");
        assert_eq!(composite(&doc), composite(&back), "{version:?}");
    }
}

#[test]
fn the_stored_composite_shows_groups_masks_and_clipping() {
    let doc = grouped_document();
    let stored = ours::read_composite(&to_bytes(&doc), &Limits::default()).expect("composite");
    let flat = composite(&doc);
    // The stored composite is matted over white; where the picture is opaque it is exact.
    for (s, f) in stored.pixels().zip(flat.pixels()) {
        if f.0[3] == 255 {
            assert_eq!(s.0, f.0);
        }
    }
    // And the tree matters: without the group's multiply the picture differs.
    let mut plain = doc.clone();
    plain.groups.iter_mut().for_each(|g| g.pass_through = true);
    assert_ne!(composite(&plain), flat);
}
