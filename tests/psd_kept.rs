//! What Strata keeps but does not draw: a PSD's effects (those it does not draw),
//! adjustment and fill settings, editable text, smart objects (with their embedded files),
//! vector masks and unknown tagged blocks survive a round trip byte for byte, are announced
//! once per file, and are listed by `strata info`. Effects Strata draws are kept the same
//! way but not announced. Fixtures: Photoshop files from ag-psd's test suite
//! (`tests/data/psd-kept/`, MIT).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::psd_tools::{self, run_python};
use strata::io::{Limits, psd};
use strata::model::{Document, Kept, KeptBlock, Node, Undrawn, kept};

/// Each fixture and the kind of undrawn data it must be found to hold, if any (the
/// pattern overlay is drawn, and kept all the same).
const FIXTURES: [(&str, Option<Undrawn>); 4] = [
    ("effects-pattern.psd", None),
    ("smart-object.psd", Some(Undrawn::SmartObject)),
    ("text-layer.psd", Some(Undrawn::Type)),
    ("vector-layer.psd", Some(Undrawn::Adjustment)),
];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/psd-kept")
        .join(name)
}

fn read(bytes: &[u8]) -> Document {
    psd::read(bytes, &Limits::default()).expect("read psd")
}

fn write(doc: &Document) -> Vec<u8> {
    let mut out = Vec::new();
    psd::write(doc, &mut out).expect("write psd");
    out
}

/// Every node's kept blocks, top first, with its name; the document's last.
fn all_blocks(doc: &Document) -> Vec<(String, Vec<KeptBlock>)> {
    fn walk(nodes: &[Node<'_>], out: &mut Vec<(String, Vec<KeptBlock>)>) {
        for node in nodes.iter().rev() {
            match node {
                Node::Layer(l) => out.push((l.name.clone(), l.kept.to_vec())),
                Node::Group(g, children) => {
                    out.push((g.name.clone(), g.kept.to_vec()));
                    walk(children, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(&doc.tree(), &mut out);
    out.push(("(document)".into(), doc.kept.to_vec()));
    out
}

/// [`all_blocks`] as keys and sizes, for readable failures.
fn summary(blocks: &[(String, Vec<KeptBlock>)]) -> Vec<String> {
    blocks
        .iter()
        .map(|(node, list)| {
            let keys: Vec<String> = list
                .iter()
                .map(|b| format!("{} {}", String::from_utf8_lossy(&b.key), b.data.len()))
                .collect();
            format!("{node}: {}", keys.join(", "))
        })
        .collect()
}

/// Fails with the summaries first, then with the full blocks.
fn assert_same_blocks(actual: &Document, expected: &Document, what: &str) {
    let (actual, expected) = (all_blocks(actual), all_blocks(expected));
    assert_eq!(summary(&actual), summary(&expected), "{what}");
    assert!(
        actual == expected,
        "{what}: same keys and sizes, other bytes"
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn kept_blocks_survive_a_round_trip_byte_for_byte() {
    for (name, kind) in FIXTURES {
        let original = std::fs::read(fixture(name)).expect("read fixture");
        let first = read(&original);
        let blocks = all_blocks(&first);
        let count: usize = blocks.iter().map(|(_, b)| b.len()).sum();
        assert!(count > 0, "{name}: nothing kept");
        let kinds: Vec<Undrawn> = first
            .layers
            .iter()
            .flat_map(|l| kept::undrawn(&l.kept))
            .collect();
        match kind {
            Some(kind) => assert!(
                kinds.contains(&kind),
                "{name}: {kind:?} not found in {kinds:?}"
            ),
            None => assert!(kinds.is_empty(), "{name}: {kinds:?} reported"),
        }
        // The blocks are the file's own bytes, not something we re-encoded.
        for (node, list) in &blocks {
            for block in list {
                let key = String::from_utf8_lossy(&block.key);
                assert!(
                    contains(&original, &block.data),
                    "{name}: {node}'s {key} is not the file's bytes"
                );
            }
        }
        let written = write(&first);
        let second = read(&written);
        assert_same_blocks(&second, &first, name);
        assert_eq!(write(&second), written, "{name}: a second save differs");
    }
}

#[test]
fn psb_keeps_the_blocks_too() {
    let original = std::fs::read(fixture("smart-object.psd")).expect("read fixture");
    let doc = read(&original);
    let mut psb = Vec::new();
    psd::write_version(&doc, &mut psb, psd::Version::Psb).expect("write psb");
    assert_eq!(psb[4..6], [0, 2], "a PSB header");
    assert_same_blocks(&read(&psb), &doc, "psb");
}

#[test]
fn undrawn_data_is_announced_once_per_file() {
    // Without the document's patterns the pattern overlay has no tile to draw.
    let mut doc = read(&std::fs::read(fixture("effects-pattern.psd")).expect("read fixture"));
    doc.kept = std::sync::Arc::new(
        doc.kept
            .iter()
            .filter(|b| &b.key != b"Patt")
            .cloned()
            .collect(),
    );
    let bytes = write(&doc);
    let (_, notices) = psd::read_with_notices(&bytes, &Limits::default()).expect("read");
    let about: Vec<&str> = notices
        .iter()
        .map(|n| n.text.as_str())
        .filter(|t| t.contains("not drawn"))
        .collect();
    assert_eq!(about.len(), 1, "{notices:?}");
    assert!(
        about[0].contains("effects that are not drawn"),
        "{}",
        about[0]
    );
    assert!(
        about[0].contains("the canvas differs from Photoshop's"),
        "{}",
        about[0]
    );
    assert!(
        about[0].contains("Saving as PSD keeps all of it"),
        "{}",
        about[0]
    );

    let bytes = std::fs::read(fixture("text-layer.psd")).expect("read fixture");
    let (_, notices) = psd::read_with_notices(&bytes, &Limits::default()).expect("read");
    let text: Vec<&str> = notices.iter().map(|n| n.text.as_str()).collect();
    assert!(
        text.iter()
            .any(|t| t.contains("editable text, shown as its stored pixels")),
        "{text:?}"
    );
}

#[test]
fn drawn_effects_are_kept_byte_for_byte_but_not_announced() {
    for name in [
        "effects-stroke.psd",
        "effects-drawn.psd",
        "effects-pattern.psd",
    ] {
        let original = std::fs::read(fixture(name)).expect("read fixture");
        let (first, notices) = psd::read_with_notices(&original, &Limits::default()).expect("read");
        assert!(
            notices.iter().all(|n| !n.text.contains("effects")),
            "{name}: {notices:?}"
        );
        let styled: Vec<_> = first
            .layers
            .iter()
            .filter(|l| l.effects.is_some())
            .collect();
        assert!(!styled.is_empty(), "{name}: no layer's effects were read");
        for layer in styled {
            assert!(
                kept::undrawn(&layer.kept).is_empty(),
                "{name}: {}",
                layer.name
            );
            let lfx2 = layer.kept.iter().find(|b| &b.key == b"lfx2");
            assert!(
                lfx2.is_some_and(|b| contains(&original, &b.data)),
                "{name}: lfx2 is not the file's bytes"
            );
        }
        let written = write(&first);
        assert_same_blocks(&read(&written), &first, name);
    }
}

#[test]
fn a_copy_gets_no_layer_id_and_a_merge_keeps_nothing() {
    let bytes = std::fs::read(fixture("effects-stroke.psd")).expect("read fixture");
    let mut doc = read(&bytes);
    let styled = doc
        .layers
        .iter()
        .find(|l| l.kept.iter().any(|b| &b.key == b"lfx2"))
        .map(|l| l.id)
        .expect("a layer with effects");
    let source = doc.layer(styled).expect("layer").kept.clone();
    assert!(
        source.iter().any(|b| &b.key == b"lyid"),
        "Photoshop writes lyid"
    );
    let copy = doc.duplicate_layer(styled).expect("duplicate");
    let copied: &Kept = &doc.layer(copy).expect("copy").kept;
    assert!(copied.iter().all(|b| &b.key != b"lyid"));
    assert_eq!(copied.len(), source.len() - 1, "everything else is copied");
    let merged = doc.merge_down(copy).expect("merge down");
    let merged = doc.layer(merged).expect("merged");
    assert!(merged.kept.is_empty());
    assert!(
        merged.effects.is_none(),
        "the effects are in the merged pixels"
    );
}

#[test]
fn info_lists_what_is_kept_and_not_drawn() {
    let output = Command::new(env!("CARGO_BIN_EXE_strata"))
        .arg("info")
        .arg(fixture("smart-object.psd"))
        .output()
        .expect("run strata info");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("not drawn: smart object; kept for PSD: "),
        "{text}"
    );
    assert!(text.contains("SoLd "), "{text}");
    assert!(text.contains("document data kept for PSD: "), "{text}");
    assert!(text.contains("lnk2 "), "{text}");
}

/// Each layer as psd-tools sees it: name, kind, effects, vector mask, and for smart objects
/// the embedded file's name (found through the document-level `lnk2` block).
const KINDS: &str = r#"
import sys
from psd_tools import PSDImage
psd = PSDImage.open(sys.argv[1])
for layer in psd.descendants():
    embedded = layer.smart_object.filename if layer.kind == 'smartobject' else '-'
    print(ascii(layer.name), layer.kind, layer.has_effects(), layer.has_vector_mask(), embedded)
"#;

#[test]
fn psd_tools_sees_the_same_text_effects_shapes_and_smart_objects_after_a_round_trip() {
    if !psd_tools::available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, _) in FIXTURES {
        let path = fixture(name);
        let ours = dir.path().join(name);
        std::fs::write(&ours, write(&read(&std::fs::read(&path).expect("read")))).expect("save");
        let before = run_python(&["-c".as_ref(), KINDS.as_ref(), path.as_os_str()]);
        let after = run_python(&["-c".as_ref(), KINDS.as_ref(), ours.as_os_str()]);
        assert!(
            !before.trim().is_empty(),
            "{name}: psd-tools sees no layers"
        );
        assert_eq!(after, before, "{name}: psd-tools' view changed");
    }
}

/// Where the ag-psd corpus is beside the checkout, every file Strata opens keeps its blocks.
#[test]
fn corpus_files_keep_their_blocks() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/psd-corpus");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("skipping: the PSD corpus is missing ({})", dir.display());
        return;
    };
    let mut checked = 0;
    for path in entries.map(|e| e.expect("corpus entry").path()) {
        let small = std::fs::metadata(&path).is_ok_and(|m| m.len() < 2_000_000);
        let is_psd = path.extension().is_some_and(|e| e == "psd" || e == "psb");
        if !small || !is_psd {
            continue;
        }
        let bytes = std::fs::read(&path).expect("read corpus file");
        let Ok(doc) = psd::read(&bytes, &Limits::default()) else {
            continue;
        };
        let again = read(&write(&doc));
        assert_same_blocks(&again, &doc, &path.display().to_string());
        checked += 1;
    }
    assert!(checked > 50, "only {checked} corpus files checked");
}
