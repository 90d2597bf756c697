//! Parsing of OpenRaster's `stack.xml` into a flat list of layers.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::ora::{FILL_OPACITY_ATTRIBUTE, OraError, Stack, StackLayer, max_depth};
use crate::model::BlendMode;

/// Visibility and opacity a group passes on to everything inside it.
#[derive(Clone, Copy)]
struct Inherited {
    visible: bool,
    opacity: f32,
}

/// Parses `stack.xml`. Layers come out top-most first, as the file lists them.
pub fn parse(xml: &str) -> Result<Stack, OraError> {
    let mut reader = Reader::from_str(xml);
    let mut size: Option<(u32, u32)> = None;
    let mut groups: Vec<Inherited> = Vec::new();
    let mut layers = Vec::new();
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
                    "stack" if !is_empty => {
                        let parent = groups.last().copied().unwrap_or(Inherited {
                            visible: true,
                            opacity: 1.0,
                        });
                        if groups.len() >= max_depth() {
                            return Err(OraError::Xml(format!(
                                "groups nested deeper than {}",
                                max_depth()
                            )));
                        }
                        groups.push(Inherited {
                            visible: parent.visible && attrs.visible()?,
                            opacity: parent.opacity * attrs.opacity()?,
                        });
                    }
                    "layer" => {
                        let parent = groups.last().copied().unwrap_or(Inherited {
                            visible: true,
                            opacity: 1.0,
                        });
                        layers.push(attrs.layer(parent)?);
                    }
                    _ => {}
                }
            }
            Event::End(ref e) if e.name().0 == "stack" => {
                groups.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let (width, height) = size.ok_or_else(|| OraError::Xml("no <image> element".into()))?;
    Ok(Stack {
        width,
        height,
        layers,
    })
}

/// The attributes of one element, unescaped.
struct Attrs(Vec<(String, String)>);

impl Attrs {
    fn of(element: &BytesStart<'_>) -> Result<Self, OraError> {
        let mut out = Vec::new();
        for attr in element.attributes() {
            let attr = attr.map_err(|e| OraError::Xml(format!("bad attribute: {e}")))?;
            let key = attr.key.0.to_string();
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| OraError::Xml(format!("attribute '{key}': {e}")))?
                .into_owned();
            out.push((key, value));
        }
        Ok(Self(out))
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn dimension(&self, key: &str) -> Result<u32, OraError> {
        let raw = self
            .get(key)
            .ok_or_else(|| OraError::Xml(format!("<image> has no '{key}'")))?;
        raw.trim()
            .parse()
            .map_err(|_| OraError::Xml(format!("<image {key}=\"{raw}\"> is not a size")))
    }

    /// `x`/`y` are integers in the spec; some writers emit `12.0`, so whole floats are accepted.
    fn position(&self, key: &str) -> Result<i32, OraError> {
        let Some(raw) = self.get(key) else {
            return Ok(0);
        };
        let value: f64 = raw
            .trim()
            .parse()
            .map_err(|_| OraError::Xml(format!("{key}=\"{raw}\" is not a number")))?;
        if !value.is_finite() || value.abs() > f64::from(i32::MAX / 2) {
            return Err(OraError::Xml(format!("{key}=\"{raw}\" is out of range")));
        }
        Ok(value.round() as i32)
    }

    fn opacity(&self) -> Result<f32, OraError> {
        self.fraction("opacity")
    }

    /// A `0..=1` attribute such as `opacity`; 1 when absent.
    fn fraction(&self, key: &str) -> Result<f32, OraError> {
        let Some(raw) = self.get(key) else {
            return Ok(1.0);
        };
        let value: f32 = raw
            .trim()
            .parse()
            .map_err(|_| OraError::Xml(format!("{key}=\"{raw}\" is not a number")))?;
        if value.is_nan() {
            return Err(OraError::Xml(format!("{key} is NaN")));
        }
        Ok(value.clamp(0.0, 1.0))
    }

    fn visible(&self) -> Result<bool, OraError> {
        match self.get("visibility") {
            None | Some("visible") => Ok(true),
            Some("hidden") => Ok(false),
            Some(other) => Err(OraError::Xml(format!(
                "visibility=\"{other}\" is neither visible nor hidden"
            ))),
        }
    }

    fn layer(&self, parent: Inherited) -> Result<StackLayer, OraError> {
        let name = self.get("name").unwrap_or("Layer").to_string();
        let src = self
            .get("src")
            .ok_or_else(|| OraError::Xml(format!("layer '{name}' has no src")))?
            .to_string();
        let blend = match self.get("composite-op") {
            None => BlendMode::Normal,
            Some(op) => BlendMode::from_ora_op(op).unwrap_or_else(|| {
                tracing::warn!(
                    "layer '{name}': composite-op '{op}' is not supported; using normal"
                );
                BlendMode::Normal
            }),
        };
        Ok(StackLayer {
            x: self.position("x")?,
            y: self.position("y")?,
            opacity: parent.opacity * self.opacity()?,
            fill_opacity: self.fraction(FILL_OPACITY_ATTRIBUTE)?,
            visible: parent.visible && self.visible()?,
            locked: self.get("edit-locked") == Some("true"),
            blend,
            name,
            src,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_stacks_flatten_with_inheritance() {
        let xml = r#"<image w="10" h="8"><stack>
            <stack name="g" opacity="0.5" visibility="hidden">
              <layer name="child" src="data/a.png" x="-3" y="2" opacity="0.5"/>
            </stack>
            <layer name="A &amp; B" src="data/b.png" composite-op="svg:screen"/>
        </stack></image>"#;
        let stack = parse(xml).expect("parse");
        assert_eq!((stack.width, stack.height), (10, 8));
        assert_eq!(stack.layers.len(), 2);
        let child = &stack.layers[0];
        assert_eq!((child.x, child.y, child.visible), (-3, 2, false));
        assert!((child.opacity - 0.25).abs() < 1e-6);
        assert_eq!(stack.layers[1].name, "A & B");
        assert_eq!(stack.layers[1].blend, BlendMode::Screen);
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
        ] {
            assert!(parse(xml).is_err(), "accepted: {xml}");
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let depth = max_depth() + 1;
        let xml = format!(
            "<image w=\"1\" h=\"1\">{}{}</image>",
            "<stack>".repeat(depth),
            "</stack>".repeat(depth)
        );
        let err = parse(&xml).expect_err("too deep");
        assert!(err.to_string().contains("deeper"));
    }
}
