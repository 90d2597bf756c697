//! OpenRaster groups, masks and clipping: round trips, hand-written nested stacks, and what
//! is refused (too deep a nesting, bad mask attributes).

mod common;

use std::io::Cursor;

use common::ora::{tiny_png, to_bytes, zip_of};
use image::{GrayImage, Luma};
use strata::io::{self, Limits, ora};
use strata::model::{BlendMode, Document, Group, Mask, Node, Offset};

/// Bottom to top: "Background"; group "Outer" (isolated, 50 %, multiply, locked, with a
/// mask) holding "Base", "Clipped" (clipped to Base) and group "Inner" (pass-through,
/// hidden, collapsed) holding "Deep" (masked); then "Masked" on top, with a mask of every
/// unusual property.
fn grouped_document() -> Document {
    let mut rng = common::Rng::new(11);
    let mut doc = Document::new(40, 30);
    doc.push_layer("Background", common::patterned_image(&mut rng, 40, 30));
    let outer = doc.allocate_id();
    let mut group = Group::new(outer, "Outer");
    group.pass_through = false;
    group.opacity = 0.5;
    group.blend = BlendMode::Multiply;
    group.locked = true;
    group.mask = Some(Mask::new(
        GrayImage::from_fn(20, 10, |x, y| Luma([(x * 12 + y) as u8])),
        Offset::new(5, 6),
        255,
    ));
    doc.insert_group(group);
    let base = doc.push_layer("Base", common::patterned_image(&mut rng, 12, 9));
    base.parent = Some(outer);
    base.offset = Offset::new(3, 4);
    let clipped = doc.push_layer("Clipped", common::patterned_image(&mut rng, 7, 7));
    clipped.parent = Some(outer);
    clipped.clipped = true;
    clipped.opacity = 0.25;
    let inner = doc.allocate_id();
    let mut group = Group::new(inner, "Inner & <deep>");
    group.parent = Some(outer);
    group.visible = false;
    group.collapsed = true;
    group.blend = BlendMode::Screen;
    doc.insert_group(group);
    let deep = doc.push_layer("Deep", common::patterned_image(&mut rng, 5, 6));
    deep.parent = Some(inner);
    deep.offset = Offset::new(-2, 1);
    deep.mask = Some(Mask::new(
        GrayImage::from_fn(4, 4, |x, _| Luma([if x < 2 { 0 } else { 255 }])),
        Offset::new(-1, 0),
        0,
    ));
    let top = doc.push_layer("Masked", common::patterned_image(&mut rng, 10, 10));
    top.offset = Offset::new(20, 15);
    let mut mask = Mask::new(
        GrayImage::from_fn(8, 3, |x, y| Luma([(x * 30 + y * 7) as u8])),
        Offset::new(22, -1),
        0,
    );
    mask.density = 0.375;
    mask.feather = 2.5;
    mask.enabled = false;
    mask.linked = false;
    top.mask = Some(mask);
    doc.check_tree().expect("a valid tree");
    doc
}

fn assert_same_mask(what: &str, expected: &Option<Mask>, actual: &Option<Mask>) {
    match (expected, actual) {
        (None, None) => {}
        (Some(e), Some(a)) => {
            assert!(*e.pixels == *a.pixels, "{what}: mask pixels");
            assert_eq!(e.offset, a.offset, "{what}: mask offset");
            assert_eq!(e.background, a.background, "{what}: mask background");
            assert_eq!(e.density, a.density, "{what}: mask density");
            assert_eq!(e.feather, a.feather, "{what}: mask feather");
            assert_eq!(e.enabled, a.enabled, "{what}: mask enabled");
            assert_eq!(e.linked, a.linked, "{what}: mask linked");
        }
        _ => panic!("{what}: mask {expected:?} became {actual:?}"),
    }
}

/// Asserts two layer trees match node for node: every property, pixels and masks exact.
fn assert_same_tree(expected: &[Node<'_>], actual: &[Node<'_>]) {
    assert_eq!(expected.len(), actual.len(), "children");
    for (e, a) in expected.iter().zip(actual) {
        match (e, a) {
            (Node::Layer(e), Node::Layer(a)) => {
                let what = e.name.as_str();
                assert_eq!(e.name, a.name);
                assert_eq!(e.visible, a.visible, "{what}: visible");
                assert_eq!(e.opacity, a.opacity, "{what}: opacity");
                assert_eq!(e.fill_opacity, a.fill_opacity, "{what}: fill");
                assert_eq!(e.blend, a.blend, "{what}: blend");
                assert_eq!(e.offset, a.offset, "{what}: offset");
                assert_eq!(e.locked, a.locked, "{what}: locked");
                assert_eq!(e.clipped, a.clipped, "{what}: clipped");
                assert!(*e.pixels == *a.pixels, "{what}: pixels");
                assert_same_mask(what, &e.mask, &a.mask);
            }
            (Node::Group(e, ec), Node::Group(a, ac)) => {
                let what = e.name.as_str();
                assert_eq!(e.name, a.name);
                assert_eq!(e.visible, a.visible, "{what}: visible");
                assert_eq!(e.opacity, a.opacity, "{what}: opacity");
                assert_eq!(e.fill_opacity, a.fill_opacity, "{what}: fill");
                assert_eq!(e.blend, a.blend, "{what}: blend");
                assert_eq!(e.pass_through, a.pass_through, "{what}: pass-through");
                assert_eq!(e.locked, a.locked, "{what}: locked");
                assert_eq!(e.collapsed, a.collapsed, "{what}: collapsed");
                assert_same_mask(what, &e.mask, &a.mask);
                assert_same_tree(ec, ac);
            }
            _ => panic!("{e:?} became {a:?}"),
        }
    }
}

/// The stack.xml of a written file.
fn stack_of(bytes: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("zip");
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("stack.xml").expect("stack"), &mut xml)
        .expect("read stack");
    xml
}

#[test]
fn groups_masks_and_clipping_round_trip() {
    let mut doc = grouped_document();
    // A Photoshop group's fill opacity travels in Strata's own attribute.
    doc.groups[0].fill_opacity = 0.25;
    let bytes = to_bytes(&doc);
    let (back, notices) = ora::read_with_notices(&bytes, &Limits::default()).expect("read");
    assert!(notices.is_empty(), "{notices:?}");
    back.check_tree().expect("a valid tree");
    assert_eq!((back.width, back.height), (40, 30));
    assert_eq!(back.groups.len(), 2);
    assert_same_tree(&doc.tree(), &back.tree());
    // The names of the flat list and each layer's group, bottom first.
    let parents: Vec<(String, Option<String>)> = back
        .layers
        .iter()
        .map(|l| {
            let group = l.parent.and_then(|g| back.group(g)).map(|g| g.name.clone());
            (l.name.clone(), group)
        })
        .collect();
    let outer = Some("Outer".to_string());
    assert_eq!(
        parents,
        [
            ("Background".into(), None),
            ("Base".into(), outer.clone()),
            ("Clipped".into(), outer),
            ("Deep".into(), Some("Inner & <deep>".to_string())),
            ("Masked".into(), None),
        ]
    );

    // What Krita and GIMP read: isolation, Krita's lock, our own attributes.
    let xml = stack_of(&bytes);
    assert!(xml.contains(r#"isolation="isolate""#), "{xml}");
    assert!(xml.contains(r#"isolation="auto""#), "{xml}");
    assert!(xml.contains(r#"composite-op="svg:multiply" isolation="isolate" edit-locked="true""#));
    assert_eq!(xml.matches("strata:clipped=\"true\"").count(), 1);
    assert_eq!(xml.matches("strata:mask-src=").count(), 3);
    assert!(
        xml.find("name=\"Masked\"") < xml.find("name=\"Outer\""),
        "top first"
    );
    // Written again, the stack is the same to the byte.
    assert_eq!(stack_of(&to_bytes(&back)), xml);
}

/// A zip with `stack` and a 2×2 PNG under each of `pngs`.
fn ora_with(stack: &str, pngs: &[&str]) -> Vec<u8> {
    let png = tiny_png();
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("mimetype", b"image/openraster"),
        ("stack.xml", stack.as_bytes()),
    ];
    entries.extend(pngs.iter().map(|name| (*name, png.as_slice())));
    zip_of(&entries)
}

#[test]
fn hand_written_nested_stacks_read_into_the_tree() {
    // Krita-style root stack; a GIMP-style group (no isolation); a Krita-style isolated,
    // locked group with an offset that moves its members; an empty group; three levels.
    let stack = r#"<?xml version="1.0"?>
<image w="20" h="10" xmlns:strata="urn:strata:openraster">
 <stack name="root" isolation="isolate" composite-op="svg:src-over" x="0" y="0">
  <layer name="top" src="data/top.png" x="1" y="1"/>
  <stack name="gimp group" opacity="0.5" visibility="visible" composite-op="svg:screen">
   <stack name="krita group" isolation="isolate" edit-locked="true" x="10" y="-5">
    <layer name="inner" src="data/inner.png" x="2" y="3" strata:clipped="true"/>
    <stack name="innermost" visibility="hidden"><layer src="data/deep.png"/></stack>
   </stack>
   <stack name="nothing here"><stack name="nor here"/></stack>
   <layer name="lower" src="data/lower.png"/>
  </stack>
  <layer name="bottom" src="data/bottom.png"/>
 </stack>
</image>"#;
    let bytes = ora_with(
        stack,
        &[
            "data/top.png",
            "data/inner.png",
            "data/deep.png",
            "data/lower.png",
            "data/bottom.png",
        ],
    );
    let (doc, notices) = ora::read_with_notices(&bytes, &Limits::default()).expect("read");
    doc.check_tree().expect("a valid tree");
    let names: Vec<&str> = doc.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["bottom", "lower", "Layer", "inner", "top"]);
    assert_eq!(
        doc.groups.len(),
        3,
        "the root stack is no group, empty ones go"
    );
    let group = |name: &str| {
        doc.groups
            .iter()
            .find(|g| g.name == name)
            .unwrap_or_else(|| panic!("no group {name}"))
    };
    let (gimp, krita, innermost) = (
        group("gimp group"),
        group("krita group"),
        group("innermost"),
    );
    assert!(gimp.pass_through && gimp.parent.is_none());
    assert_eq!((gimp.opacity, gimp.blend), (0.5, BlendMode::Screen));
    assert!(!krita.pass_through && krita.locked);
    assert_eq!(krita.parent, Some(gimp.id));
    assert_eq!(innermost.parent, Some(krita.id));
    assert!(!innermost.visible);
    let inner = &doc.layers[3];
    assert_eq!(inner.parent, Some(krita.id));
    assert!(inner.clipped);
    assert_eq!(
        inner.offset,
        Offset::new(12, -2),
        "the stack's x/y moves its members"
    );
    assert_eq!(doc.layers[2].offset, Offset::new(10, -5));
    assert_eq!(doc.layers[2].parent, Some(innermost.id));
    assert_eq!(doc.layers[4].offset, Offset::new(1, 1));
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(
        notices[0].text.contains("2 empty groups"),
        "{}",
        notices[0].text
    );
}

#[test]
fn a_missing_mask_is_a_notice_and_bad_mask_values_are_errors() {
    let stack = r#"<image w="4" h="4"><stack>
        <layer name="m" src="data/a.png" strata:mask-src="data/gone.png"/>
    </stack></image>"#;
    let (doc, notices) =
        ora::read_with_notices(&ora_with(stack, &["data/a.png"]), &Limits::default())
            .expect("a missing mask leaves the layer readable");
    assert!(doc.layers[0].mask.is_none());
    assert_eq!(notices.len(), 1);
    assert!(
        notices[0].text.contains("'m' (data/gone.png: missing)"),
        "{notices:?}"
    );

    for (attrs, needle) in [
        (r#"strata:mask-feather="5000""#, "mask-feather"),
        (r#"strata:mask-density="lots""#, "mask-density"),
        (r#"strata:mask-enabled="perhaps""#, "mask-enabled"),
        (r#"strata:mask-x="1e12""#, "mask-x"),
    ] {
        let stack = format!(
            r#"<image w="4" h="4"><stack><layer src="data/a.png" strata:mask-src="data/a.png" {attrs}/></stack></image>"#
        );
        let err =
            ora::read(&ora_with(&stack, &["data/a.png"]), &Limits::default()).expect_err(attrs);
        assert!(err.to_string().contains(needle), "{attrs}: {err}");
    }
}

#[test]
fn too_deep_nesting_is_refused_naming_the_file() {
    let stack = format!(
        r#"<image w="2" h="2"><stack>{}<layer src="data/a.png"/>{}</stack></image>"#,
        "<stack>".repeat(65),
        "</stack>".repeat(65)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("deep-groups.ora");
    std::fs::write(&path, ora_with(&stack, &["data/a.png"])).expect("write");
    let err = io::open(&path).expect_err("too deep").to_string();
    assert!(err.contains("deep-groups.ora"), "{err}");
    assert!(err.contains("nested deeper than 64"), "{err}");

    // And Strata does not write what it would refuse to read.
    let mut doc = Document::new(2, 2);
    let mut id = doc.push_layer("a", image::RgbaImage::new(1, 1)).id;
    for _ in 0..65 {
        id = doc.group_node(id).expect("group");
    }
    let err = ora::write(&doc, Cursor::new(Vec::new())).expect_err("too deep to write");
    assert!(err.to_string().contains("deeper than 64"), "{err}");
}

#[test]
fn thousands_of_groups_read_quickly() {
    // 3000 one-layer groups in a chain of ten levels: reading is linear in the stack, so a
    // file of many groups cannot stall the reader.
    let mut stack = String::from(r#"<image w="2" h="2"><stack>"#);
    for _ in 0..300 {
        for level in 0..10 {
            stack.push_str(&format!(
                r#"<stack name="g{level}"><layer src="data/a.png"/>"#
            ));
        }
        stack.push_str(&"</stack>".repeat(10));
    }
    stack.push_str("</stack></image>");
    let start = std::time::Instant::now();
    let doc = ora::read(&ora_with(&stack, &["data/a.png"]), &Limits::default()).expect("read");
    let took = start.elapsed();
    assert_eq!((doc.layers.len(), doc.groups.len()), (3000, 3000));
    assert!(took.as_secs() < 20, "took {took:?}");
    let deepest = doc.layers.first().expect("a layer").id;
    assert_eq!(doc.depth(deepest), 10);
}

#[test]
fn a_broken_tree_still_writes_a_readable_file() {
    // A group that is its own parent, and a layer naming a group that does not exist: the
    // writer must neither loop nor write unbalanced stacks.
    let mut doc = Document::new(4, 4);
    let id = doc.allocate_id();
    let mut group = Group::new(id, "self");
    group.parent = Some(id);
    doc.insert_group(group);
    doc.push_layer("in", image::RgbaImage::new(1, 1)).parent = Some(id);
    doc.push_layer("lost", image::RgbaImage::new(1, 1)).parent = Some(strata::model::LayerId(999));
    let back = ora::read(&to_bytes(&doc), &Limits::default()).expect("readable");
    back.check_tree().expect("a valid tree");
    assert_eq!(back.groups.len(), 1);
    assert_eq!(back.layers[0].parent, Some(back.groups[0].id));
    assert_eq!(back.layers[1].parent, None);
}
