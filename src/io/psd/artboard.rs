//! Reading a group's artboard block (`artb`, or `artd`/`abdd` as other Photoshop versions
//! name it) into the model's [`Artboard`]. The block itself stays kept and is written back
//! unchanged.
//!
//! The block is a descriptor: `artboardRect` (`Top `, `Left`, `Btom`, `Rght` in pixels),
//! `artboardBackgroundType` (1 white, 2 black, 3 transparent, 4 the custom colour `Clr `
//! with `Rd  `, `Grn `, `Bl  ` in 0..=255).

use super::bytes::Cursor;
use super::descriptor::{self, Descriptor};
use crate::model::{Artboard, BBox, KeptBlock, LayerId};

/// The artboard of group `group` from its kept blocks, on a canvas of `canvas` pixels, or
/// `None` when it has no artboard block or the block cannot be read (the group is then
/// drawn as a plain group, as before).
pub fn read(kept: &[KeptBlock], group: LayerId, canvas: (u32, u32)) -> Option<Artboard> {
    let block = find(kept)?;
    let mut c = Cursor::new(&block.data);
    c.u32("artboard descriptor version").ok()?;
    let root = descriptor::read(&mut c).ok()?;
    let (rect, background) = from_descriptor(&root)?;
    Some(Artboard::new(group, rect, background, canvas))
}

/// The artboard block among a record's kept blocks.
pub fn find(kept: &[KeptBlock]) -> Option<&KeptBlock> {
    kept.iter()
        .find(|b| matches!(&b.key, b"artb" | b"artd" | b"abdd"))
}

/// The rectangle and background colour (`None`: transparent) a descriptor holds.
fn from_descriptor(root: &Descriptor) -> Option<(BBox<i64>, Option<[u8; 3]>)> {
    let r = root.object("artboardRect")?;
    let edge = |k: &str| r.number(k).map(|v| v.round() as i64);
    let rect = BBox::new(edge("Left")?, edge("Top ")?, edge("Rght")?, edge("Btom")?);
    let custom = || {
        let c = root.object("Clr ")?;
        let channel = |k: &str| c.number(k).map(|v| v.round().clamp(0.0, 255.0) as u8);
        Some([channel("Rd  ")?, channel("Grn ")?, channel("Bl  ")?])
    };
    let background = match root.number("artboardBackgroundType").map(|t| t as i64) {
        Some(2) => Some([0, 0, 0]),
        Some(3) => None,
        Some(4) => Some(custom()?),
        // 1 and files without the field: Photoshop's default white.
        _ => Some([255, 255, 255]),
    };
    Some((rect, background))
}
