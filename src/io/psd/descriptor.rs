//! Photoshop's "Descriptor structure" (the specification's Actions section), the
//! key–value tree that layer effects (`lfx2`, `lmfx`) and most newer tagged blocks are
//! written in. We read it into a plain tree and look values up by key; nothing here writes
//! one, since the blocks it comes from are kept byte for byte.
//!
//! Every length is checked against the bytes present (through [`Cursor`]), nesting is
//! bounded, and a type we do not know ends the parse with an error: the caller then treats
//! the block as one it cannot draw, which is always safe.

use super::PsdError;
use super::bytes::Cursor;

/// Deeper nesting than any real file has; a bound so that a crafted file cannot exhaust
/// the stack.
const MAX_DEPTH: usize = 32;

/// A descriptor: its class and its items, in file order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Descriptor {
    pub class: String,
    pub items: Vec<(String, Value)>,
}

/// One value of a descriptor item or list entry.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Object(Descriptor),
    List(Vec<Value>),
    Double(f64),
    /// A unit float: the unit's four-character code (`#Pxl`, `#Prc`, `#Ang`, …) and value.
    Unit([u8; 4], f64),
    Text(String),
    /// An enumerated value: its type and the value, both keys.
    Enum(String, String),
    Long(i32),
    Large(i64),
    Bool(bool),
    /// Anything else we can skip but do not interpret (references, classes, raw data).
    Other,
}

impl Descriptor {
    /// The value of the first item named `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.items.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The descriptor under `key`.
    pub fn object(&self, key: &str) -> Option<&Descriptor> {
        match self.get(key)? {
            Value::Object(d) => Some(d),
            _ => None,
        }
    }

    /// A number under `key`, whatever its type (double, unit float or integer).
    pub fn number(&self, key: &str) -> Option<f64> {
        match self.get(key)? {
            Value::Double(v) | Value::Unit(_, v) => Some(*v),
            Value::Long(v) => Some(f64::from(*v)),
            Value::Large(v) => Some(*v as f64),
            _ => None,
        }
    }

    /// A boolean under `key`.
    pub fn boolean(&self, key: &str) -> Option<bool> {
        match self.get(key)? {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The value (not the type) of an enumerated item under `key`.
    pub fn enumerated(&self, key: &str) -> Option<&str> {
        match self.get(key)? {
            Value::Enum(_, value) => Some(value),
            _ => None,
        }
    }
}

/// Reads a descriptor (class name, class id, item count, items) from `c`.
pub fn read(c: &mut Cursor<'_>) -> Result<Descriptor, PsdError> {
    read_descriptor(c, 0)
}

fn read_descriptor(c: &mut Cursor<'_>, depth: usize) -> Result<Descriptor, PsdError> {
    if depth > MAX_DEPTH {
        return Err(PsdError::corrupt("descriptor nested too deeply"));
    }
    let _name = unicode(c)?;
    let class = key(c)?;
    let count = c.u32("descriptor item count")?;
    // Each item needs at least a 4-byte key length, a key and a type.
    if u64::from(count) * 12 > c.remaining() as u64 {
        return Err(c.truncated(format!("{count} descriptor items"), u64::from(count) * 12));
    }
    let mut items = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let name = key(c)?;
        let value = value(c, depth)?;
        items.push((name, value));
    }
    Ok(Descriptor { class, items })
}

/// A key or class id: a `u32` length, then that many bytes, or four bytes when it is 0.
fn key(c: &mut Cursor<'_>) -> Result<String, PsdError> {
    let len = c.u32("descriptor key length")?;
    let len = if len == 0 { 4 } else { u64::from(len) };
    let bytes = c.take(len, "descriptor key")?;
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// A Unicode string: a `u32` count of UTF-16 units, then the units (often with a NUL).
fn unicode(c: &mut Cursor<'_>) -> Result<String, PsdError> {
    let units = c.u32("unicode string length")?;
    let bytes = c.take(u64::from(units) * 2, "unicode string")?;
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .collect();
    Ok(String::from_utf16_lossy(&units)
        .trim_end_matches('\0')
        .to_owned())
}

fn f64_be(c: &mut Cursor<'_>) -> Result<f64, PsdError> {
    c.u64("descriptor double").map(f64::from_bits)
}

fn value(c: &mut Cursor<'_>, depth: usize) -> Result<Value, PsdError> {
    let kind = c.tag("descriptor value type")?;
    Ok(match &kind {
        b"Objc" | b"GlbO" => Value::Object(read_descriptor(c, depth + 1)?),
        b"VlLs" => {
            let count = c.u32("list length")?;
            if u64::from(count) * 4 > c.remaining() as u64 {
                return Err(c.truncated(format!("a list of {count}"), u64::from(count) * 4));
            }
            let mut list = Vec::with_capacity(count as usize);
            for _ in 0..count {
                list.push(value(c, depth + 1)?);
            }
            Value::List(list)
        }
        b"doub" => Value::Double(f64_be(c)?),
        b"UntF" => {
            let unit = c.tag("unit")?;
            Value::Unit(unit, f64_be(c)?)
        }
        b"TEXT" => Value::Text(unicode(c)?),
        b"enum" => {
            let kind = key(c)?;
            Value::Enum(kind, key(c)?)
        }
        b"long" => Value::Long(c.i32("descriptor long")?),
        b"comp" => Value::Large(c.u64("descriptor comp")? as i64),
        b"bool" => Value::Bool(c.u8("descriptor bool")? != 0),
        b"type" | b"GlbC" => {
            let _name = unicode(c)?;
            let _class = key(c)?;
            Value::Other
        }
        b"alis" | b"tdta" | b"Pth " => {
            let len = c.u32("raw data length")?;
            c.skip(u64::from(len), "raw data")?;
            Value::Other
        }
        b"UnFl" => {
            let _unit = c.tag("unit")?;
            let count = c.u32("unit float count")?;
            c.skip(u64::from(count) * 8, "unit floats")?;
            Value::Other
        }
        b"obj " => {
            reference(c)?;
            Value::Other
        }
        other => {
            return Err(PsdError::Unsupported(format!(
                "descriptor value type {:?}",
                String::from_utf8_lossy(other)
            )));
        }
    })
}

/// Skips a reference: a count of items, each a type and its fields.
fn reference(c: &mut Cursor<'_>) -> Result<(), PsdError> {
    let count = c.u32("reference item count")?;
    for _ in 0..count {
        match &c.tag("reference item type")? {
            b"prop" => {
                unicode(c)?;
                key(c)?;
                key(c)?;
            }
            b"Clss" => {
                unicode(c)?;
                key(c)?;
            }
            b"Enmr" => {
                unicode(c)?;
                key(c)?;
                key(c)?;
                key(c)?;
            }
            b"rele" => {
                unicode(c)?;
                key(c)?;
                c.u32("relative offset")?;
            }
            b"Idnt" | b"indx" => {
                c.u32("reference index")?;
            }
            b"name" => {
                unicode(c)?;
                key(c)?;
                unicode(c)?;
            }
            other => {
                return Err(PsdError::Unsupported(format!(
                    "descriptor reference type {:?}",
                    String::from_utf8_lossy(other)
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A kept PSD block of `key` holding `data`, marked as an undrawn adjustment, as the
    /// reader keeps an adjustment or fill layer's block.
    pub(crate) fn adjustment_block(key: &[u8; 4], data: Vec<u8>) -> crate::model::KeptBlock {
        crate::model::KeptBlock {
            format: crate::model::KeptFormat::Psd,
            key: *key,
            data,
            undrawn: Some(crate::model::kept::Undrawn::Adjustment),
        }
    }

    /// Test helpers that write descriptor bytes (the reader's inverse, for fixtures).
    pub(crate) fn put_key(out: &mut Vec<u8>, key: &str) {
        if key.len() == 4 {
            out.extend_from_slice(&0u32.to_be_bytes());
        } else {
            out.extend_from_slice(&(key.len() as u32).to_be_bytes());
        }
        out.extend_from_slice(key.as_bytes());
    }

    pub(crate) fn put_header(out: &mut Vec<u8>, class: &str, count: u32) {
        out.extend_from_slice(&1u32.to_be_bytes());
        out.extend_from_slice(&[0, 0]); // one NUL unit: the empty name
        put_key(out, class);
        out.extend_from_slice(&count.to_be_bytes());
    }

    pub(crate) fn put_unit(out: &mut Vec<u8>, key: &str, unit: &[u8; 4], v: f64) {
        put_key(out, key);
        out.extend_from_slice(b"UntF");
        out.extend_from_slice(unit);
        out.extend_from_slice(&v.to_bits().to_be_bytes());
    }

    pub(crate) fn put_double(out: &mut Vec<u8>, key: &str, v: f64) {
        put_key(out, key);
        out.extend_from_slice(b"doub");
        out.extend_from_slice(&v.to_bits().to_be_bytes());
    }

    pub(crate) fn put_bool(out: &mut Vec<u8>, key: &str, v: bool) {
        put_key(out, key);
        out.extend_from_slice(b"bool");
        out.push(u8::from(v));
    }

    pub(crate) fn put_enum(out: &mut Vec<u8>, key: &str, kind: &str, v: &str) {
        put_key(out, key);
        out.extend_from_slice(b"enum");
        put_key(out, kind);
        put_key(out, v);
    }

    pub(crate) fn put_text(out: &mut Vec<u8>, key: &str, v: &str) {
        put_key(out, key);
        out.extend_from_slice(b"TEXT");
        let units: Vec<u16> = v.encode_utf16().chain([0]).collect();
        out.extend_from_slice(&(units.len() as u32).to_be_bytes());
        for unit in units {
            out.extend_from_slice(&unit.to_be_bytes());
        }
    }

    pub(crate) fn put_object(out: &mut Vec<u8>, key: &str, class: &str, count: u32) {
        put_key(out, key);
        out.extend_from_slice(b"Objc");
        put_header(out, class, count);
    }

    #[test]
    fn reads_nested_items_and_long_keys() {
        let mut bytes = Vec::new();
        put_header(&mut bytes, "null", 3);
        put_unit(&mut bytes, "Scl ", b"#Prc", 100.0);
        put_bool(&mut bytes, "masterFXSwitch", true);
        put_object(&mut bytes, "SoFi", "SoFi", 2);
        put_enum(&mut bytes, "Md  ", "BlnM", "Mltp");
        put_double(&mut bytes, "Opct", 50.0);
        let d = read(&mut Cursor::new(&bytes)).expect("valid");
        assert_eq!(d.class, "null");
        assert_eq!(d.number("Scl "), Some(100.0));
        assert_eq!(d.boolean("masterFXSwitch"), Some(true));
        let fill = d.object("SoFi").expect("object");
        assert_eq!(fill.enumerated("Md  "), Some("Mltp"));
        assert_eq!(fill.number("Opct"), Some(50.0));
    }

    #[test]
    fn unknown_types_and_short_data_are_errors() {
        let mut bytes = Vec::new();
        put_header(&mut bytes, "null", 1);
        put_key(&mut bytes, "what");
        bytes.extend_from_slice(b"zzzz");
        assert!(read(&mut Cursor::new(&bytes)).is_err());
        let mut short = Vec::new();
        put_header(&mut short, "null", 1000);
        assert!(read(&mut Cursor::new(&short)).is_err());
    }
}
