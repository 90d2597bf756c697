//! A bounds-checked big-endian reader over a byte slice.
//!
//! Every PSD length is a claim made by the file, and a broken or hostile file makes false
//! claims. All reads therefore go through [`Cursor`], which never indexes out of range and
//! never panics: a read past the end returns [`PsdError::Truncated`] naming what was being
//! read, where, and where the enclosing section ends, so the person seeing the message can
//! tell a cut-off download from a corrupt length field.

use super::PsdError;

/// A read position inside `data`, whose first byte sits at absolute file offset `base`.
///
/// Sub-cursors over a section keep absolute offsets, so error messages always point at the
/// byte in the file, not in the section.
#[derive(Clone, Debug)]
pub struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
    scope: &'static str,
}

impl<'a> Cursor<'a> {
    /// A cursor over a whole file.
    pub fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            pos: 0,
            base: 0,
            scope: "the file",
        }
    }

    /// Absolute file offset of the next byte.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Bytes left before the end of this cursor's scope.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The error for `what` needing `needed` bytes at the current position.
    pub fn truncated(&self, what: impl Into<String>, needed: u64) -> PsdError {
        PsdError::Truncated {
            what: what.into(),
            needed,
            offset: self.offset(),
            scope: self.scope,
            end: self.base + self.data.len() as u64,
        }
    }

    /// Takes the next `len` bytes, or fails without moving.
    pub fn take(&mut self, len: u64, what: impl Into<String>) -> Result<&'a [u8], PsdError> {
        match usize::try_from(len) {
            Ok(n) if n <= self.remaining() => {
                let bytes = &self.data[self.pos..self.pos + n];
                self.pos += n;
                Ok(bytes)
            }
            _ => Err(self.truncated(what, len)),
        }
    }

    /// Skips `len` bytes.
    pub fn skip(&mut self, len: u64, what: impl Into<String>) -> Result<(), PsdError> {
        self.take(len, what).map(|_| ())
    }

    /// Skips up to `len` bytes, stopping at the end: for padding that some writers omit at
    /// the very end of a section.
    pub fn skip_lenient(&mut self, len: usize) {
        self.pos += len.min(self.remaining());
    }

    /// A cursor over the next `len` bytes, called `scope` in error messages; `self` moves
    /// past them.
    pub fn section(&mut self, len: u64, scope: &'static str) -> Result<Cursor<'a>, PsdError> {
        let base = self.offset();
        let data = self.take(len, scope)?;
        Ok(Cursor {
            data,
            pos: 0,
            base,
            scope,
        })
    }

    /// Everything left in this cursor's scope, without consuming it.
    pub fn rest(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }

    /// The next `n` bytes without consuming them, if there are that many.
    pub fn peek(&self, n: usize) -> Option<&'a [u8]> {
        self.data.get(self.pos..self.pos.checked_add(n)?)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], PsdError> {
        let bytes = self.take(N as u64, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    pub fn u8(&mut self, what: &str) -> Result<u8, PsdError> {
        Ok(self.array::<1>(what)?[0])
    }

    pub fn u16(&mut self, what: &str) -> Result<u16, PsdError> {
        self.array(what).map(u16::from_be_bytes)
    }

    pub fn i16(&mut self, what: &str) -> Result<i16, PsdError> {
        self.array(what).map(i16::from_be_bytes)
    }

    pub fn u32(&mut self, what: &str) -> Result<u32, PsdError> {
        self.array(what).map(u32::from_be_bytes)
    }

    pub fn i32(&mut self, what: &str) -> Result<i32, PsdError> {
        self.array(what).map(i32::from_be_bytes)
    }

    pub fn u64(&mut self, what: &str) -> Result<u64, PsdError> {
        self.array(what).map(u64::from_be_bytes)
    }

    /// A section or channel length: `u32` in PSD, `u64` in PSB (`large`).
    pub fn length(&mut self, large: bool, what: &str) -> Result<u64, PsdError> {
        if large {
            self.u64(what)
        } else {
            self.u32(what).map(u64::from)
        }
    }

    /// The length of the tagged block `key`: `u64` for the keys [`has_long_length`] lists
    /// in PSB files, `u32` otherwise.
    pub fn block_length(&mut self, key: &[u8; 4], large: bool) -> Result<u64, PsdError> {
        self.length(large && has_long_length(key), "tagged block length")
    }

    /// Four raw bytes: signatures and keys such as `8BIM` or `norm`.
    pub fn tag(&mut self, what: &str) -> Result<[u8; 4], PsdError> {
        self.array(what)
    }
}

/// Tagged blocks whose length is a `u64` in PSB files (the specification's list under
/// "Additional Layer Information"; the rest keep a `u32`).
pub fn has_long_length(key: &[u8; 4]) -> bool {
    matches!(
        key,
        b"LMsk"
            | b"Lr16"
            | b"Lr32"
            | b"Layr"
            | b"Mt16"
            | b"Mt32"
            | b"Mtrn"
            | b"Alph"
            | b"FMsk"
            | b"lnk2"
            | b"FEid"
            | b"FXid"
            | b"PxSD"
    )
}

/// Rounds `len` up to a multiple of `align` (a power of two).
pub fn padded(len: u64, align: u64) -> u64 {
    len.div_ceil(align) * align
}

/// Bytes quoted as hexadecimal text, separators skipped: how tests quote the blocks
/// Photoshop wrote.
#[cfg(test)]
pub(crate) fn from_hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_big_endian_and_stops_at_the_end() {
        let mut c = Cursor::new(&[0x00, 0x01, 0xff, 0xfe, 0x12]);
        assert_eq!(c.u16("a").ok(), Some(1));
        assert_eq!(c.i16("b").ok(), Some(-2));
        let err = c.u32("the count").expect_err("only one byte left");
        assert_eq!(
            err.to_string(),
            "truncated: the count needs 4 bytes at offset 4, the file ends at offset 5"
        );
        assert_eq!(c.u8("c").ok(), Some(0x12), "a failed read does not move");
        assert!(c.is_empty());
    }

    #[test]
    fn sections_keep_absolute_offsets() {
        let data = [0u8; 10];
        let mut c = Cursor::new(&data);
        c.skip(2, "x").expect("skip");
        let mut s = c.section(4, "the layer info").expect("section");
        assert_eq!(c.offset(), 6);
        s.skip(3, "y").expect("skip");
        let err = s.u16("a length").expect_err("past the section");
        assert!(
            err.to_string()
                .contains("at offset 5, the layer info ends at offset 6"),
            "{err}"
        );
        assert!(c.take(u64::MAX, "huge").is_err());
        assert!(c.section(5, "z").is_err());
    }

    #[test]
    fn padding_rounds_up() {
        assert_eq!(padded(0, 4), 0);
        assert_eq!(padded(5, 4), 8);
        assert_eq!(padded(8, 2), 8);
    }
}
