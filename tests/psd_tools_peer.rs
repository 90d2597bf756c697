//! psd-tools (Python), the most complete independent PSD reader, reads what we write.
//!
//! Needs `python3` with `psd_tools` importable. Without it the test is skipped with a
//! message, unless `CI=true`, where it fails (the CI script installs psd-tools).

mod common;

use std::path::Path;

use common::psd_tools::{self, run_python};
use common::tricky_document;
use image::{Rgba, RgbaImage};
use strata::io;
use strata::model::{BlendMode, Document, Offset, composite};

/// Prints the document, each top-level layer (bottom first) and the stored composite, one
/// line each, hex-encoding names and pixels so that nothing needs escaping.
const DUMP: &str = r#"
import sys
import numpy as np
from psd_tools import PSDImage

def u8(a):
    return np.round(a * 255).astype(np.uint8)

psd = PSDImage.open(sys.argv[1])
print("D", psd.width, psd.height, psd.channels, int(psd.has_preview()))
for layer in psd:
    pixels = u8(layer.numpy()).tobytes().hex() if layer.has_pixels() else "-"
    print("L", layer.name.encode().hex(), int(layer.visible), layer.opacity,
          layer.blend_mode.name, layer.left, layer.top, layer.width, layer.height, pixels)
stored = u8(psd.numpy())
print("C", stored.shape[2], stored.tobytes().hex())
"#;

/// psd-tools' `BlendMode` member name for ours.
fn psd_tools_blend(mode: BlendMode) -> &'static str {
    match mode {
        BlendMode::Normal => "NORMAL",
        BlendMode::Multiply => "MULTIPLY",
        BlendMode::Screen => "SCREEN",
        BlendMode::Overlay => "OVERLAY",
        BlendMode::Darken => "DARKEN",
        BlendMode::Lighten => "LIGHTEN",
        BlendMode::ColorDodge => "COLOR_DODGE",
        BlendMode::ColorBurn => "COLOR_BURN",
        BlendMode::HardLight => "HARD_LIGHT",
        BlendMode::SoftLight => "SOFT_LIGHT",
        BlendMode::Difference => "DIFFERENCE",
        BlendMode::Exclusion => "EXCLUSION",
        BlendMode::Add => "LINEAR_DODGE",
        BlendMode::Dissolve => "DISSOLVE",
        BlendMode::DarkerColor => "DARKER_COLOR",
        BlendMode::LighterColor => "LIGHTER_COLOR",
        BlendMode::LinearBurn => "LINEAR_BURN",
        BlendMode::LinearLight => "LINEAR_LIGHT",
        BlendMode::VividLight => "VIVID_LIGHT",
        BlendMode::PinLight => "PIN_LIGHT",
        BlendMode::HardMix => "HARD_MIX",
        BlendMode::Subtract => "SUBTRACT",
        BlendMode::Divide => "DIVIDE",
        BlendMode::Hue => "HUE",
        BlendMode::Saturation => "SATURATION",
        BlendMode::Color => "COLOR",
        BlendMode::Luminosity => "LUMINOSITY",
    }
}

fn hex(text: &str) -> Vec<u8> {
    let digit = |c: u8| (c as char).to_digit(16).expect("hex digit") as u8;
    text.as_bytes()
        .chunks_exact(2)
        .map(|p| digit(p[0]) << 4 | digit(p[1]))
        .collect()
}

/// Photoshop's matte over white and psd-tools' way of undoing it, in floats as it does.
fn matted_then_unmatted(c: u8, a: u8) -> f64 {
    let (c, a) = (f64::from(c) / 255.0, f64::from(a) / 255.0);
    let stored = ((c * a + (1.0 - a)) * 255.0).round() / 255.0;
    (stored + a - 1.0) / a * 255.0
}

fn check_layers(doc: &Document, lines: &[&str]) {
    let layers: Vec<Vec<&str>> = lines
        .iter()
        .filter(|l| l.starts_with("L "))
        .map(|l| l.split(' ').collect())
        .collect();
    assert_eq!(layers.len(), doc.layers.len(), "layer count");
    for (ours, f) in doc.layers.iter().zip(&layers) {
        let at = &ours.name;
        assert_eq!(String::from_utf8(hex(f[1])).expect("utf-8 name"), ours.name);
        assert_eq!(f[2], if ours.visible { "1" } else { "0" }, "{at}: visible");
        assert_eq!(f[3], ours.opacity_u8().to_string(), "{at}: opacity");
        assert_eq!(f[4], psd_tools_blend(ours.blend), "{at}: blend");
        assert_eq!(
            f[5..7],
            [ours.offset.x.to_string(), ours.offset.y.to_string()],
            "{at}: offset"
        );
        assert_eq!(
            f[7..9],
            [ours.width().to_string(), ours.height().to_string()],
            "{at}: size"
        );
        if ours.width() > 0 && ours.height() > 0 {
            assert!(hex(f[9]) == *ours.pixels.as_raw(), "{at}: pixels differ");
        }
    }
}

fn check_composite(doc: &Document, line: &str) {
    let fields: Vec<&str> = line.split(' ').collect();
    assert_eq!(fields[1], "4", "the composite has merged transparency");
    let stored = hex(fields[2]);
    let ours = composite(doc);
    assert_eq!(stored.len(), ours.as_raw().len(), "composite size");
    for (s, o) in stored.chunks_exact(4).zip(ours.pixels()) {
        assert_eq!(s[3], o[3], "alpha");
        if o[3] == 0 {
            continue; // psd-tools leaves the white matte where nothing is visible
        }
        for c in 0..3 {
            let expected = matted_then_unmatted(o[c], o[3]);
            assert!(
                (f64::from(s[c]) - expected).abs() <= 1.0,
                "{s:?} vs ours {o:?}"
            );
            if o[3] >= 128 {
                // Where alpha is high, matting loses nothing: within 1/255 of the truth.
                assert!(s[c].abs_diff(o[c]) <= 1, "{s:?} vs ours {o:?}");
            }
        }
    }
}

fn peer_check(doc: &Document, dir: &Path) {
    peer_check_as(doc, dir, "peer.psd");
}

/// [`peer_check`] of the file saved as `name` (`.psb` writes the large document format).
fn peer_check_as(doc: &Document, dir: &Path, name: &str) {
    let path = dir.join(name);
    io::save(doc, &path).expect("save psd");
    let version = if name.ends_with(".psb") { 2u8 } else { 1 };
    let written = std::fs::read(&path).expect("read back");
    assert_eq!(written[4..6], [0, version], "header version");
    let out = run_python(&["-c".as_ref(), DUMP.as_ref(), path.as_os_str()]);
    let lines: Vec<&str> = out.lines().collect();
    let header = format!("D {} {} 4 1", doc.width, doc.height);
    assert_eq!(
        lines.first().copied(),
        Some(header.as_str()),
        "size, channels, preview"
    );
    check_layers(doc, &lines);
    check_composite(
        doc,
        lines
            .iter()
            .find(|l| l.starts_with("C "))
            .expect("composite line"),
    );

    // The shared inspection script also checks each layer's array against its bbox.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/inspect_psd.py");
    if script.exists() {
        let report = run_python(&[script.as_os_str(), path.as_os_str()]);
        assert!(report.contains("has_preview=True"), "{report}");
    }
}

#[test]
fn psd_tools_reads_our_layers_and_composite() {
    if !psd_tools::available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    peer_check(&tricky_document(), dir.path());

    // Every blend mode, partial opacities, a 300-byte name and an off-canvas layer.
    let mut doc = Document::new(40, 30);
    doc.push_layer(
        "Background",
        RgbaImage::from_fn(40, 30, |x, y| Rgba([x as u8 * 6, y as u8 * 8, 90, 255])),
    );
    for (i, mode) in BlendMode::ALL.into_iter().enumerate() {
        let i = i as u32;
        let image = RgbaImage::from_fn(12, 9, |x, y| {
            Rgba([
                (x * 20) as u8,
                (i * 19) as u8,
                (y * 27) as u8,
                (40 + i * 15) as u8,
            ])
        });
        let layer = doc.push_layer(format!("{mode} ✓"), image);
        layer.blend = mode;
        layer.opacity = 0.3 + i as f32 * 0.05;
        layer.offset = Offset::new(i as i32 * 3 - 4, i as i32 * 2 - 3);
        layer.visible = i % 5 != 4;
    }
    doc.push_layer(
        "é".repeat(150),
        RgbaImage::from_pixel(3, 3, Rgba([5, 6, 7, 200])),
    )
    .offset = Offset::new(45, 2);
    peer_check(&doc, dir.path());
}

#[test]
fn psd_tools_reads_our_psb() {
    if !psd_tools::available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    peer_check_as(&tricky_document(), dir.path(), "peer.psb");
}

/// Writes a 16-bit RGBA document with psd-tools (argv[1]), then prints its layers and
/// composite as psd-tools reads them, scaled to 8 bits.
const MAKE_16_BIT: &str = r#"
import sys
import numpy as np
from psd_tools import PSDImage

def u8(a):
    return np.round(a * 255).astype(np.uint8)

psd = PSDImage.new("RGBA", (7, 5), color=(255, 255, 255, 0), depth=16)
rng = np.random.default_rng(3)
deep = (np.round(rng.random((4, 6, 4)) * 65535) / 65535).astype(np.float32)
layer = psd.create_pixel_layer_from_array(deep, name="deep", top=2, left=-1, opacity=200)
layer.name = "deep ✓"
hidden = psd.create_pixel_layer_from_array(deep[:2, :3], name="hidden", top=0, left=3)
hidden.visible = False
psd.save(sys.argv[1])

psd = PSDImage.open(sys.argv[1])
for layer in psd:
    print("L", layer.name.encode().hex(), int(layer.visible), layer.opacity,
          layer.blend_mode.name, layer.left, layer.top, layer.width, layer.height,
          u8(layer.numpy()).tobytes().hex())
print("C", 4, u8(psd.numpy()).tobytes().hex())
"#;

#[test]
fn we_read_psd_tools_16_bit_files() {
    if !psd_tools::available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("deep.psd");
    let out = run_python(&["-c".as_ref(), MAKE_16_BIT.as_ref(), path.as_os_str()]);
    let doc = io::open(&path).expect("open psd-tools' 16-bit file");
    let lines: Vec<&str> = out.lines().collect();
    let layers: Vec<Vec<&str>> = lines
        .iter()
        .filter(|l| l.starts_with("L "))
        .map(|l| l.split(' ').collect())
        .collect();
    assert_eq!(layers.len(), doc.layers.len(), "layer count");
    for (ours, f) in doc.layers.iter().zip(&layers) {
        assert_eq!(String::from_utf8(hex(f[1])).expect("utf-8"), ours.name);
        assert_eq!(
            f[2],
            if ours.visible { "1" } else { "0" },
            "{}: visible",
            ours.name
        );
        assert_eq!(f[3], ours.opacity_u8().to_string());
        assert_eq!(
            f[5..7],
            [ours.offset.x.to_string(), ours.offset.y.to_string()]
        );
        assert_eq!(
            f[7..9],
            [ours.width().to_string(), ours.height().to_string()]
        );
        // Both scale 16-bit samples to 8 bits by rounding; psd-tools goes through float32.
        let theirs = hex(f[9]);
        assert_eq!(
            theirs.len(),
            ours.pixels.as_raw().len(),
            "{}: size",
            ours.name
        );
        for (t, o) in theirs.iter().zip(ours.pixels.as_raw()) {
            assert!(t.abs_diff(*o) <= 1, "{}: {t} vs {o}", ours.name);
        }
    }
    assert_eq!(doc.layers[0].name, "deep ✓");
    assert!(!doc.layers[1].visible);

    // psd-tools saves this document with an empty (transparent) preview; what matters is
    // that the 16-bit composite decodes to the same size and alpha.
    let composite_line = lines
        .iter()
        .find(|l| l.starts_with("C "))
        .expect("composite");
    let stored = hex(composite_line.split(' ').nth(2).expect("pixels"));
    let bytes = std::fs::read(&path).expect("read");
    let ours =
        strata::io::psd::read_composite(&bytes, &strata::io::Limits::default()).expect("composite");
    assert_eq!(stored.len(), ours.as_raw().len(), "composite size");
    for (t, o) in stored.chunks_exact(4).zip(ours.pixels()) {
        assert!(t[3].abs_diff(o[3]) <= 1, "alpha {t:?} vs {o:?}");
        // We un-matte after scaling to 8 bits, psd-tools before: allow for that at low alpha.
        let tolerance = 1 + 128 / u32::from(o[3].max(1));
        for c in 0..3 {
            if o[3] > 0 {
                assert!(
                    u32::from(t[c].abs_diff(o[c])) <= tolerance,
                    "{t:?} vs {o:?}"
                );
            }
        }
    }
}

/// Prints the layer tree psd-tools sees, depth-first from the top of each stack (its
/// order), one line per layer or group: depth, kind, hex name, visibility, opacity, blend
/// mode, clipping, and the mask's rectangle, default colour and disabled flag.
const TREE_DUMP: &str = r#"
import sys
from psd_tools import PSDImage

def walk(stack, depth):
    for layer in reversed(list(stack)):
        m = layer.mask
        mask = "-" if m is None else "%d,%d,%d,%d,%d,%d" % (
            m.left, m.top, m.width, m.height, m.background_color, int(m.disabled))
        print(depth, "group" if layer.is_group() else "pixel", layer.name.encode().hex(),
              int(layer.visible), layer.opacity, layer.blend_mode.name,
              int(layer.clipping), mask)
        if layer.is_group():
            walk(layer, depth + 1)

walk(PSDImage.open(sys.argv[1]), 0)
"#;

/// The lines [`TREE_DUMP`] should print for `doc`.
fn expected_tree(doc: &Document) -> Vec<String> {
    fn mask(m: &Option<strata::model::Mask>) -> String {
        m.as_ref().map_or("-".into(), |m| {
            format!(
                "{},{},{},{},{},{}",
                m.offset.x,
                m.offset.y,
                m.pixels.width(),
                m.pixels.height(),
                m.background,
                u8::from(!m.enabled)
            )
        })
    }
    fn hexed(name: &str) -> String {
        name.bytes().map(|b| format!("{b:02x}")).collect()
    }
    fn walk(nodes: &[strata::model::Node<'_>], depth: usize, out: &mut Vec<String>) {
        for node in nodes.iter().rev() {
            match node {
                strata::model::Node::Layer(l) => out.push(format!(
                    "{depth} pixel {} {} {} {} {} {}",
                    hexed(&l.name),
                    u8::from(l.visible),
                    l.opacity_u8(),
                    psd_tools_blend(l.blend),
                    u8::from(l.clipped),
                    mask(&l.mask)
                )),
                strata::model::Node::Group(g, children) => {
                    let blend = if g.pass_through {
                        "PASS_THROUGH"
                    } else {
                        psd_tools_blend(g.blend)
                    };
                    out.push(format!(
                        "{depth} group {} {} {} {blend} 0 {}",
                        hexed(&g.name),
                        u8::from(g.visible),
                        g.opacity_u8(),
                        mask(&g.mask)
                    ));
                    walk(children, depth + 1, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(&doc.tree(), 0, &mut out);
    out
}

#[test]
fn psd_tools_sees_our_groups_masks_and_clipping() {
    if !psd_tools::available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let doc = common::grouped::grouped_document();
    let path = dir.path().join("tree.psd");
    io::save(&doc, &path).expect("save psd");
    let out = run_python(&["-c".as_ref(), TREE_DUMP.as_ref(), path.as_os_str()]);
    let seen: Vec<&str> = out.lines().collect();
    assert_eq!(seen, expected_tree(&doc));
}
