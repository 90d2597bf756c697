//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod ora;

use std::path::PathBuf;

pub mod gpu;
pub mod grouped;
pub mod memory;
pub mod psd_tools;

use image::{Rgba, RgbaImage};
use strata::model::{BlendMode, Document, Offset};

/// Path of a file in `../shared/fixtures/peer-files/` (written by GIMP, ImageMagick, Krita).
pub fn peer_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/peer-files")
        .join(name)
}

/// A deterministic pseudo-random generator (xorshift), so tests need no extra crates.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u32(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 32) as u32
    }
    pub fn byte(&mut self) -> u8 {
        self.next_u32() as u8
    }
    pub fn below(&mut self, n: u32) -> u32 {
        self.next_u32() % n.max(1)
    }
}

/// An image with noise, flat runs and partial alpha: exercises both PackBits branches.
pub fn patterned_image(rng: &mut Rng, width: u32, height: u32) -> RgbaImage {
    RgbaImage::from_fn(width, height, |x, y| {
        if (x / 7 + y / 5) % 3 == 0 {
            Rgba([200, 30, 90, 255])
        } else {
            Rgba([rng.byte(), rng.byte(), rng.byte(), rng.byte()])
        }
    })
}

/// A document with every kind of layer a writer must get right.
pub fn tricky_document() -> Document {
    let mut rng = Rng::new(7);
    let mut doc = Document::new(64, 48);
    doc.push_layer("Background", patterned_image(&mut rng, 64, 48));
    let layer = doc.push_layer(
        "Red box",
        RgbaImage::from_pixel(24, 20, Rgba([230, 0, 0, 160])),
    );
    layer.offset = Offset::new(30, 20);
    layer.opacity = 191.0 / 255.0;
    let layer = doc.push_layer("Noise (hidden)", patterned_image(&mut rng, 16, 16));
    layer.offset = Offset::new(-4, -4);
    layer.visible = false;
    layer.blend = BlendMode::Screen;
    let layer = doc.push_layer("Child ✓ ünï 🎨", patterned_image(&mut rng, 150, 3));
    layer.offset = Offset::new(5, 30);
    layer.blend = BlendMode::Multiply;
    layer.locked = true;
    doc
}

/// Asserts two documents have the same canvas, layer properties and pixels.
pub fn assert_same_layers(expected: &Document, actual: &Document) {
    assert_eq!(
        (expected.width, expected.height),
        (actual.width, actual.height),
        "canvas"
    );
    assert_eq!(expected.layers.len(), actual.layers.len(), "layer count");
    for (e, a) in expected.layers.iter().zip(&actual.layers) {
        assert_eq!(e.name, a.name);
        assert_eq!(e.visible, a.visible, "{}: visible", e.name);
        assert_eq!(e.opacity_u8(), a.opacity_u8(), "{}: opacity", e.name);
        assert_eq!(e.blend, a.blend, "{}: blend", e.name);
        assert_eq!(e.offset, a.offset, "{}: offset", e.name);
        assert!(*e.pixels == *a.pixels, "{}: pixels differ", e.name);
    }
}
