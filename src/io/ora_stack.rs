//! Parsing of OpenRaster's `stack.xml` into a tree of layers and nested stacks (groups).
//!
//! The root `<stack>` (the one directly inside `<image>`) is the picture itself, not a group:
//! its children become the top level, with its opacity, visibility and offset folded into
//! them. Every `<stack>` inside it is a group. Attributes are read by [`super::ora_attrs`].

use quick_xml::Reader;
use quick_xml::events::Event;

use super::ora::{MAX_DEPTH, OraError};
use super::ora_attrs::Attrs;
use crate::model::BlendMode;

/// A layer or group mask kept in Strata's own attributes (OpenRaster has no masks).
#[derive(Debug, Clone, PartialEq)]
pub struct StackMask {
    /// Archive entry of the mask's greyscale PNG.
    pub src: String,
    /// Position of the mask's top-left pixel, in the same frame as its element's `x`/`y`.
    pub x: i64,
    pub y: i64,
    pub background: u8,
    pub density: f32,
    pub feather: f32,
    pub enabled: bool,
    pub linked: bool,
}

/// One `<layer>` of the stack.
#[derive(Debug, Clone, PartialEq)]
pub struct StackLayer {
    pub name: String,
    pub src: String,
    /// Offset within the enclosing stack (stack offsets are added when the tree is built).
    pub x: i64,
    pub y: i64,
    pub opacity: f32,
    /// Strata's own `strata:fill-opacity`; 1 when absent.
    pub fill_opacity: f32,
    pub visible: bool,
    pub locked: bool,
    /// Strata's own `strata:clipped`.
    pub clipped: bool,
    pub blend: BlendMode,
    pub mask: Option<StackMask>,
}

/// One nested `<stack>`: a group.
#[derive(Debug, Clone, PartialEq)]
pub struct StackGroup {
    pub name: String,
    /// Offset the stack adds to everything inside it.
    pub x: i64,
    pub y: i64,
    pub opacity: f32,
    /// Strata's own `strata:fill-opacity` (a Photoshop group's fill); 1 when absent.
    pub fill_opacity: f32,
    pub visible: bool,
    pub locked: bool,
    pub collapsed: bool,
    pub pass_through: bool,
    pub blend: BlendMode,
    pub mask: Option<StackMask>,
    /// Children, top-most first as the file lists them.
    pub children: Vec<StackNode>,
}

/// A layer or a group of the parsed stack.
#[derive(Debug, Clone, PartialEq)]
pub enum StackNode {
    Layer(StackLayer),
    Group(StackGroup),
}

/// The parsed `stack.xml`: canvas size and the top level, top-most first.
#[derive(Debug, Clone, PartialEq)]
pub struct Stack {
    pub width: u32,
    pub height: u32,
    pub nodes: Vec<StackNode>,
    /// Composite-op names Strata does not know (drawn as Normal), for a notice.
    pub unknown_ops: Vec<String>,
}

/// Parses `stack.xml`. Nodes come out top-most first, as the file lists them.
pub fn parse(xml: &str) -> Result<Stack, OraError> {
    let mut reader = Reader::from_str(xml);
    let mut size: Option<(u32, u32)> = None;
    // open[0] gathers the top level; every open <stack> adds one frame.
    let mut open: Vec<StackGroup> = vec![StackGroup::root()];
    let mut unknown_ops = Vec::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| OraError::Xml(format!("at byte {}: {e}", reader.buffer_position())))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_empty = matches!(event, Event::Empty(_));
                let attrs = Attrs::of(e)?;
                match e.name().0 {
                    "image" => size = Some((attrs.dimension("w")?, attrs.dimension("h")?)),
                    "stack" => {
                        // open[0] is the top level and open[1] the root stack: groups start
                        // at open[2].
                        if open.len() > MAX_DEPTH + 1 {
                            return Err(OraError::Xml(format!(
                                "groups nested deeper than {MAX_DEPTH}"
                            )));
                        }
                        let group = attrs.group(&mut unknown_ops)?;
                        if is_empty {
                            close(&mut open, group);
                        } else {
                            open.push(group);
                        }
                    }
                    "layer" => {
                        let layer = attrs.layer(&mut unknown_ops)?;
                        if let Some(frame) = open.last_mut() {
                            frame.children.push(StackNode::Layer(layer));
                        }
                    }
                    _ => {}
                }
            }
            Event::End(ref e) if e.name().0 == "stack" => {
                // quick-xml checks that end tags match, so a frame is open here; the guard
                // only keeps the top level from being popped by a hostile file.
                if open.len() > 1
                    && let Some(group) = open.pop()
                {
                    close(&mut open, group);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let (width, height) = size.ok_or_else(|| OraError::Xml("no <image> element".into()))?;
    if open.len() > 1 {
        return Err(OraError::Xml("the file ends inside a <stack>".into()));
    }
    let nodes = open.swap_remove(0).children;
    Ok(Stack {
        width,
        height,
        nodes,
        unknown_ops,
    })
}

/// Adds a finished `<stack>` to the frame that holds it. A stack directly in the top level
/// is the root stack: it dissolves into the top level, passing its opacity, visibility and
/// offset on to its children (what a reader that flattens the root draws).
fn close(open: &mut [StackGroup], group: StackGroup) {
    let is_root = open.len() == 1;
    let Some(parent) = open.last_mut() else {
        return;
    };
    if !is_root {
        parent.children.push(StackNode::Group(group));
        return;
    }
    for mut child in group.children {
        match &mut child {
            StackNode::Layer(layer) => {
                layer.opacity *= group.opacity;
                layer.visible &= group.visible;
                layer.x += group.x;
                layer.y += group.y;
                if let Some(mask) = layer.mask.as_mut() {
                    mask.x += group.x;
                    mask.y += group.y;
                }
            }
            StackNode::Group(inner) => {
                inner.opacity *= group.opacity;
                inner.visible &= group.visible;
                inner.x += group.x;
                inner.y += group.y;
                if let Some(mask) = inner.mask.as_mut() {
                    mask.x += group.x;
                    mask.y += group.y;
                }
            }
        }
        parent.children.push(child);
    }
}

impl StackGroup {
    /// The frame that gathers the top level (not written as any element).
    fn root() -> Self {
        Self {
            name: String::new(),
            x: 0,
            y: 0,
            opacity: 1.0,
            fill_opacity: 1.0,
            visible: true,
            locked: false,
            collapsed: false,
            pass_through: false,
            blend: BlendMode::Normal,
            mask: None,
            children: Vec::new(),
        }
    }

    /// True when any layer lies inside this group, at any depth.
    pub fn has_layers(&self) -> bool {
        self.children.iter().any(|child| match child {
            StackNode::Layer(_) => true,
            StackNode::Group(group) => group.has_layers(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_stacks_become_groups() {
        let xml = r#"<image w="10" h="8"><stack opacity="0.5" x="1">
            <stack name="g" opacity="0.5" visibility="hidden" isolation="isolate" x="2" y="3"
                   composite-op="svg:multiply" edit-locked="true" strata:collapsed="true">
              <layer name="child" src="data/a.png" x="-3" y="2" opacity="0.5"
                     strata:clipped="true"/>
              <stack name="inner"><layer src="data/c.png"/></stack>
            </stack>
            <layer name="A &amp; B" src="data/b.png" composite-op="svg:screen"/>
        </stack></image>"#;
        let stack = parse(xml).expect("parse");
        assert_eq!((stack.width, stack.height), (10, 8));
        assert_eq!(stack.nodes.len(), 2);
        let StackNode::Group(g) = &stack.nodes[0] else {
            panic!("not a group: {:?}", stack.nodes[0]);
        };
        assert_eq!((g.name.as_str(), g.x, g.y, g.visible), ("g", 3, 3, false));
        assert!((g.opacity - 0.25).abs() < 1e-6, "root opacity folds in");
        assert!(!g.pass_through && g.locked && g.collapsed);
        assert_eq!(g.blend, BlendMode::Multiply);
        let StackNode::Layer(child) = &g.children[0] else {
            panic!("not a layer");
        };
        assert_eq!((child.x, child.y, child.opacity), (-3, 2, 0.5));
        assert!(child.clipped);
        let StackNode::Group(inner) = &g.children[1] else {
            panic!("not a group");
        };
        assert!(
            inner.pass_through,
            "no isolation attribute: auto, as Krita reads it"
        );
        let StackNode::Layer(top) = &stack.nodes[1] else {
            panic!("not a layer");
        };
        assert_eq!(
            (top.name.as_str(), top.blend, top.x),
            ("A & B", BlendMode::Screen, 1)
        );
    }

    #[test]
    fn bad_stacks_give_errors() {
        for xml in [
            "<stack/>",
            r#"<image w="x" h="1"/>"#,
            r#"<image w="1" h="1"><stack><layer name="n"/></stack></image>"#,
            r#"<image w="1" h="1"><stack><layer src="a" x="1e300"/></stack></image>"#,
            r#"<image w="1" h="1"><stack><layer src="a" visibility="maybe"/></stack></image>"#,
            r#"<image w="1" h="1"><stack><layer src="a" opacity="NaN"/></stack></image>"#,
            r#"<image w="1" h="1"><stack><layer src="a" strata:fill-opacity="x"/></stack></image>"#,
            "<image w=\"1\" h=\"1\"><stack><layer src=\"a\" name=\"&bogus;\"/></stack></image>",
            r#"<image w="1" h="1"><stack><stack isolation="maybe"/></stack></image>"#,
            r#"<image w="1" h="1"><stack><layer src="a" strata:clipped="yes"/></stack></image>"#,
            r#"<image w="1" h="1"><stack><layer src="a" strata:mask-src="m" strata:mask-feather="1e9"/></stack></image>"#,
            r#"<image w="1" h="1"><stack><layer src="a" strata:mask-src="m" strata:mask-background="300"/></stack></image>"#,
            r#"<image w="1" h="1"><stack><stack></layer></stack></image>"#,
            r#"<image w="1" h="1"><stack><stack><layer src="a"/>"#,
        ] {
            assert!(parse(xml).is_err(), "accepted: {xml}");
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let ok = MAX_DEPTH + 1; // the root stack and MAX_DEPTH groups
        let xml = |depth: usize| {
            format!(
                "<image w=\"1\" h=\"1\">{}<layer src=\"a\"/>{}</image>",
                "<stack>".repeat(depth),
                "</stack>".repeat(depth)
            )
        };
        parse(&xml(ok)).expect("at the limit");
        let err = parse(&xml(ok + 1)).expect_err("too deep");
        assert!(err.to_string().contains("deeper than 64"), "{err}");
    }
}
