//! What each fuzz target checks, shared with `tests/fuzz_regressions.rs` (which replays the
//! saved crashing inputs under plain `cargo test`). Uses only Strata's public API and std, so
//! both the fuzz crate and the main crate's tests can include it with `#[path]`.
//!
//! Every reader must return `Ok` or `Err` (never panic, hang or allocate beyond the limits),
//! and whatever it returns `Ok` must be a well-formed document within the limits.
#![allow(dead_code)] // Each includer uses a subset.

use strata::io::{self, Limits};
use strata::model::{BlendMode, Document, Layer, Offset, RgbaImage};

/// Tight limits, so a hostile header can never make a fuzz run allocate more than a few
/// hundred MB (libFuzzer's default RSS limit is 2 GB): 4096 px sides, 4 Mpx per image,
/// 64 MB of pixels per document, 16 MB files.
pub fn limits() -> Limits {
    Limits {
        max_side: 4096,
        max_pixels: 4 << 20,
        max_total_bytes: 64 << 20,
        max_file_bytes: 16 << 20,
    }
}

/// The PSD reader on arbitrary bytes.
pub fn psd_read(data: &[u8]) {
    if let Ok(doc) = io::psd::read(data, &limits()) {
        assert_well_formed(&doc, &limits());
    }
}

/// The OpenRaster reader (zip + XML stack + PNGs) on arbitrary bytes.
pub fn ora_read(data: &[u8]) {
    if let Ok(doc) = io::ora::read(data, &limits()) {
        assert_well_formed(&doc, &limits());
    }
}

/// Opening any file: content sniffing, then PSD, ORA or one of the `image` decoders.
pub fn open_bytes(data: &[u8]) {
    if let Ok(doc) = io::read_bytes(data, "fuzz", &limits()) {
        assert_well_formed(&doc, &limits());
    }
}

/// A document built from the bytes, written as PSD and read back, must come back identical
/// (names, visibility, opacity to 8 bits, blend mode, offset, every pixel).
pub fn psd_roundtrip(data: &[u8]) {
    let doc = document_from_bytes(data);
    let mut bytes = Vec::new();
    if let Err(err) = io::psd::write(&doc, &mut bytes) {
        panic!("writing a valid document failed: {err}");
    }
    let back = match io::psd::read(&bytes, &Limits::default()) {
        Ok(back) => back,
        Err(err) => panic!("reading our own PSD failed: {err}"),
    };
    assert_eq!((doc.width, doc.height), (back.width, back.height), "canvas");
    assert_eq!(doc.layers.len(), back.layers.len(), "layer count");
    for (a, b) in doc.layers.iter().zip(&back.layers) {
        assert_eq!(a.name, b.name, "name");
        assert_eq!(a.visible, b.visible, "{}: visible", a.name);
        assert_eq!(a.opacity_u8(), b.opacity_u8(), "{}: opacity", a.name);
        assert_eq!(a.blend, b.blend, "{}: blend", a.name);
        assert_eq!(a.offset, b.offset, "{}: offset", a.name);
        assert!(*a.pixels == *b.pixels, "{}: pixels differ", a.name);
    }
}

/// Invariants of any document a reader returns.
fn assert_well_formed(doc: &Document, limits: &Limits) {
    assert!(doc.width > 0 && doc.height > 0, "empty canvas accepted");
    assert!(doc.width <= limits.max_side && doc.height <= limits.max_side);
    let mut total = 0u64;
    for layer in &doc.layers {
        let (w, h) = (u64::from(layer.width()), u64::from(layer.height()));
        assert_eq!(layer.pixels.as_raw().len() as u64, w * h * 4, "buffer size");
        assert!(w <= u64::from(limits.max_side) && h <= u64::from(limits.max_side));
        assert!(
            (0.0..=1.0).contains(&layer.opacity),
            "opacity {}",
            layer.opacity
        );
        total += w * h * 4;
    }
    assert!(total <= limits.max_total_bytes, "{total} bytes of layers");
}

/// Reads bytes one at a time, as zeros once they run out.
struct Bytes<'a>(std::slice::Iter<'a, u8>);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        self.0.next().copied().unwrap_or(0)
    }
    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + u32::from(self.u8()) % (hi - lo + 1)
    }
    fn i16(&mut self) -> i32 {
        i32::from(i16::from_le_bytes([self.u8(), self.u8()]))
    }
}

/// A small document (canvas up to 64×64, 1 to 6 layers up to 48×48 anywhere within ±32 Ki
/// of the canvas, any name, opacity, blend mode) decoded from fuzz bytes.
pub fn document_from_bytes(data: &[u8]) -> Document {
    let mut b = Bytes(data.iter());
    let mut doc = Document::new(b.range(1, 64), b.range(1, 64));
    // At least one layer: a PSD without layer records is a flat picture, which reads back
    // as one "Background" layer (io::save refuses layerless documents for that reason).
    let count = b.range(1, 6);
    for _ in 0..count {
        let (w, h) = (b.range(1, 48), b.range(1, 48));
        let name_len = b.range(0, 12) as usize;
        let name: String = (0..name_len)
            .map(|_| {
                // Mostly ASCII, sometimes any code point (names are stored as UTF-16 too).
                let c = b.u8();
                if c < 200 {
                    char::from(b' ' + c % 95)
                } else {
                    char::from_u32(u32::from(c) << 8 | u32::from(b.u8())).unwrap_or('?')
                }
            })
            .collect();
        let mut pixels = RgbaImage::new(w, h);
        for p in pixels.as_mut().iter_mut() {
            *p = b.u8();
        }
        let id = doc.allocate_id();
        let mut layer = Layer::new(id, name, pixels);
        layer.offset = Offset {
            x: b.i16(),
            y: b.i16(),
        };
        layer.opacity = f32::from(b.u8()) / 255.0;
        layer.visible = b.u8() % 4 != 0;
        layer.blend = BlendMode::ALL[b.u8() as usize % BlendMode::ALL.len()];
        let index = doc.layers.len();
        doc.insert_layer(index, layer);
    }
    doc
}
