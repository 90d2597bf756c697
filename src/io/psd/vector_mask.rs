//! Vector masks (`vmsk`, or `vsms` from Photoshop CS6 on) rasterised into layer masks.
//!
//! Photoshop usually stores a vector mask's raster copy as the user mask channel, which is
//! then drawn like any mask. Other writers (and Photoshop for some layers) store only the
//! path; we rasterise it at read time into an anti-aliased [`Mask`] flagged as coming from
//! the vector data, which the writer writes back as Photoshop's own raster copy beside the
//! kept path block (byte for byte), so the saved file stays what Photoshop writes.
//!
//! The block (Adobe's "Vector mask setting" and "Path resource format"): `u32` version,
//! `u32` flags (bit 0 invert, bit 1 not linked, bit 2 disabled), then 26-byte path
//! records: a selector, then for a subpath's length record its knot count and (since CS6)
//! its shape operation, for a knot three points (the control point before, the anchor, the
//! control point after), each as vertical then horizontal 8.24 fixed-point fractions of
//! the canvas height and width.
//!
//! A shape or fill layer whose record says its pixels are irrelevant (flag bit 4) was
//! drawn by Photoshop from this path: its pixels already hold the shape, so the path is
//! not applied again.

use super::bytes::Cursor;
use super::path_fill::{self, Point};
use super::records::Record;
use crate::io::Limits;
use crate::model::pixels::{BBox, to_u8};
use crate::model::{KeptBlock, KeptFormat, Mask, Offset};
use image::GrayImage;

/// Vector mask flags.
const FLAG_INVERT: u32 = 0x01;
const FLAG_DISABLED: u32 = 0x04;
/// Record flags bit 4: the pixel data is irrelevant to the appearance (drawn from vectors).
const RECORD_PIXELS_FROM_VECTOR: u8 = 0x10;
/// Path record selectors.
const CLOSED_LENGTH: u16 = 0;
const OPEN_LENGTH: u16 = 3;
const INITIAL_FILL: u16 = 8;
const RECORD_LEN: usize = 26;
/// 8.24 fixed point.
const FIXED_ONE: f64 = (1u32 << 24) as f64;

/// How a subpath's shape combines with what the subpaths before it made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operation {
    /// Exclude overlapping shapes (also what files before CS6 say, which have no field).
    Xor,
    /// Combine shapes.
    Union,
    /// Subtract from the shape so far.
    Subtract,
    /// Intersect with the shape so far.
    Intersect,
    /// Part of the same shape as the subpath before it (filled together, even-odd).
    Continue,
}

impl Operation {
    fn from_field(value: i16) -> Self {
        match value {
            1 => Self::Union,
            2 => Self::Subtract,
            3 => Self::Intersect,
            -1 => Self::Continue,
            _ => Self::Xor,
        }
    }
}

/// One subpath: its operation and its knots (before, anchor, after), in canvas pixels.
#[derive(Clone, Debug)]
struct Subpath {
    operation: Operation,
    knots: Vec<[Point; 3]>,
}

/// A parsed vector mask.
#[derive(Clone, Debug)]
struct VectorMask {
    invert: bool,
    disabled: bool,
    /// "Fill starts with all pixels" (an initial fill rule record of 1).
    initial_fill: bool,
    subpaths: Vec<Subpath>,
}

/// The record's vector mask block, when it has one.
pub(super) fn block(kept: &[KeptBlock]) -> Option<&KeptBlock> {
    kept.iter()
        .find(|b| b.format == KeptFormat::Psd && (&b.key == b"vsms" || &b.key == b"vmsk"))
}

/// True when the record's pixels are Photoshop's rendering of its vector data (a shape
/// layer): they already show the vector mask.
pub fn pixels_show_vector_mask(kept: &[KeptBlock], width: u32, height: u32) -> bool {
    let flagged = kept.iter().any(|b| {
        b.format == KeptFormat::PsdRecordFlags
            && b.data
                .first()
                .is_some_and(|f| f & RECORD_PIXELS_FROM_VECTOR != 0)
    });
    flagged && width > 0 && height > 0
}

/// The record's vector mask rasterised, for a record with a vector mask and neither a
/// raster copy of it nor pixels drawn from it. `area` bounds the mask (the canvas and the
/// layer's rectangle): the path may reach far beyond both, where nothing is drawn.
pub fn rasterise(
    record: &Record<'_>,
    canvas: (u32, u32),
    area: BBox<i64>,
    limits: &Limits,
) -> Option<Mask> {
    if record.channels.iter().any(|c| c.id == -2 || c.id == -3)
        || pixels_show_vector_mask(&record.kept, record.width, record.height)
    {
        return None;
    }
    let data = &block(&record.kept)?.data;
    let Some(parsed) = parse(data, canvas) else {
        tracing::warn!(
            "layer '{}': unreadable vector mask; it is kept but not drawn",
            record.name
        );
        return None;
    };
    let region = parsed.region(area);
    let (w, h) = (region.width() as u64, region.height() as u64);
    // A coverage plane and an accumulator of f32 a pixel while rasterising.
    if let Err(e) = limits
        .check_size("vector mask", w, h)
        .and_then(|()| limits.check_total(w * h * 8))
    {
        tracing::warn!("layer '{}': vector mask not drawn: {e}", record.name);
        return None;
    }
    Some(parsed.to_mask(region))
}

fn parse(data: &[u8], (width, height): (u32, u32)) -> Option<VectorMask> {
    let mut c = Cursor::new(data);
    let _version = c.u32("vector mask version").ok()?;
    let flags = c.u32("vector mask flags").ok()?;
    let mut mask = VectorMask {
        invert: flags & FLAG_INVERT != 0,
        disabled: flags & FLAG_DISABLED != 0,
        initial_fill: false,
        subpaths: Vec::new(),
    };
    let (w, h) = (f64::from(width), f64::from(height));
    while c.remaining() >= RECORD_LEN {
        let record = c.take(RECORD_LEN as u64, "path record").ok()?;
        let mut r = Cursor::new(record);
        let selector = r.u16("path record selector").ok()?;
        match selector {
            CLOSED_LENGTH | OPEN_LENGTH => {
                let _count = r.u16("knot count").ok()?;
                let operation = Operation::from_field(r.i16("shape operation").ok()?);
                mask.subpaths.push(Subpath {
                    operation,
                    knots: Vec::new(),
                });
            }
            1 | 2 | 4 | 5 => {
                let mut points = [(0.0, 0.0); 3];
                for point in &mut points {
                    let y = f64::from(r.i32("knot y").ok()?) / FIXED_ONE * h;
                    let x = f64::from(r.i32("knot x").ok()?) / FIXED_ONE * w;
                    *point = (x, y);
                }
                // A knot before any length record starts a subpath of its own.
                if mask.subpaths.is_empty() {
                    mask.subpaths.push(Subpath {
                        operation: Operation::Xor,
                        knots: Vec::new(),
                    });
                }
                mask.subpaths.last_mut()?.knots.push(points);
            }
            INITIAL_FILL => mask.initial_fill = r.u16("initial fill rule").ok()? == 1,
            _ => {} // fill rule and clipboard records: nothing to draw
        }
    }
    Some(mask)
}

impl VectorMask {
    /// The shapes grouped as Photoshop combines them: each starts at a subpath with an
    /// operation and takes the `Continue` subpaths after it.
    fn shapes(&self) -> Vec<(Operation, Vec<&Subpath>)> {
        let mut shapes: Vec<(Operation, Vec<&Subpath>)> = Vec::new();
        for subpath in &self.subpaths {
            match (subpath.operation, shapes.last_mut()) {
                (Operation::Continue, Some((_, members))) => members.push(subpath),
                (Operation::Continue, None) => shapes.push((Operation::Union, vec![subpath])),
                (op, _) => shapes.push((op, vec![subpath])),
            }
        }
        shapes
    }

    /// The pixels the path can touch (a Bezier stays inside its control points' hull),
    /// or `None` without knots.
    fn reach(&self) -> Option<BBox<i64>> {
        self.subpaths
            .iter()
            .flat_map(|s| s.knots.iter().flatten())
            .fold(None::<BBox<i64>>, |acc, &(x, y)| {
                let point = BBox::new(
                    x.floor() as i64,
                    y.floor() as i64,
                    x.ceil() as i64 + 1,
                    y.ceil() as i64 + 1,
                );
                Some(acc.map_or(point, |a| a.union(point)))
            })
    }

    /// The part of `area` the path can touch; empty without knots (the mask's background
    /// then says it all).
    fn region(&self, area: BBox<i64>) -> BBox<i64> {
        let empty = BBox::new(area.x0, area.y0, area.x0, area.y0);
        self.reach().map_or(empty, |r| r.intersect(area))
    }

    /// The mask over `region`; everywhere else it has the value the combination gives
    /// where no shape is.
    fn to_mask(&self, region: BBox<i64>) -> Mask {
        let shapes = self.shapes();
        let (w, h) = (
            (region.x1 - region.x0).max(0) as usize,
            (region.y1 - region.y0).max(0) as usize,
        );
        // One more value than the region holds: the value outside every shape.
        let start = if self.initial_fill && self.subpaths.is_empty() {
            1.0
        } else {
            0.0
        };
        let mut values = vec![start; w * h + 1];
        let origin = (region.x0 as f64, region.y0 as f64);
        for (i, (operation, members)) in shapes.iter().enumerate() {
            let contours: Vec<Vec<Point>> = members.iter().map(|s| contour(s, origin)).collect();
            let mut plane = path_fill::coverage(&contours, w, h);
            plane.push(0.0);
            combine(&mut values, &plane, *operation, i == 0);
        }
        if self.invert {
            values.iter_mut().for_each(|v| *v = 1.0 - *v);
        }
        let background = to_u8(values.pop().unwrap_or(0.0));
        let bytes: Vec<u8> = values.iter().map(|&v| to_u8(v)).collect();
        let pixels =
            GrayImage::from_raw(w as u32, h as u32, bytes).unwrap_or_else(|| GrayImage::new(0, 0));
        let mut mask = Mask::new(
            pixels,
            Offset::new(region.x0 as i32, region.y0 as i32),
            background,
        );
        mask.enabled = !self.disabled;
        mask.from_vector = true;
        mask
    }
}

/// Applies one shape's coverage `plane` to the mask so far. A first shape that subtracts
/// or intersects does so from everything (Photoshop's empty start is then "all").
fn combine(values: &mut [f32], plane: &[f32], operation: Operation, first: bool) {
    if first && matches!(operation, Operation::Subtract | Operation::Intersect) {
        values.iter_mut().for_each(|v| *v = 1.0 - *v);
    }
    for (m, &p) in values.iter_mut().zip(plane) {
        *m = match operation {
            Operation::Xor => *m + p - 2.0 * *m * p,
            Operation::Union | Operation::Continue => *m + p - *m * p,
            Operation::Subtract => (*m - p).max(0.0),
            Operation::Intersect => *m * p,
        }
        .clamp(0.0, 1.0);
    }
}

/// The polyline of a subpath (always closed for filling), relative to `origin`.
fn contour(subpath: &Subpath, origin: Point) -> Vec<Point> {
    let shift = |(x, y): Point| (x - origin.0, y - origin.1);
    let knots = &subpath.knots;
    let mut out = Vec::new();
    let Some(first) = knots.first() else {
        return out;
    };
    out.push(shift(first[1]));
    for (i, knot) in knots.iter().enumerate() {
        let next = &knots[(i + 1) % knots.len()];
        path_fill::flatten_cubic(
            shift(knot[1]),
            shift(knot[2]),
            shift(next[0]),
            shift(next[1]),
            &mut out,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A path record: a selector and up to 24 bytes, zero-padded.
    fn record(selector: u16, body: &[u8]) -> Vec<u8> {
        let mut out = selector.to_be_bytes().to_vec();
        out.extend_from_slice(body);
        out.resize(RECORD_LEN, 0);
        out
    }

    /// A closed polygon subpath with `operation`, corners as fractions (x, y) of the canvas.
    fn polygon(operation: i16, corners: &[(f64, f64)]) -> Vec<u8> {
        let count = corners.len() as u16;
        let mut body = count.to_be_bytes().to_vec();
        body.extend_from_slice(&operation.to_be_bytes());
        let mut out = record(CLOSED_LENGTH, &body);
        for &(x, y) in corners {
            let mut knot = Vec::new();
            for _ in 0..3 {
                knot.extend_from_slice(&((y * FIXED_ONE) as i32).to_be_bytes());
                knot.extend_from_slice(&((x * FIXED_ONE) as i32).to_be_bytes());
            }
            out.extend(record(2, &knot));
        }
        out
    }

    fn block(flags: u32, subpaths: &[Vec<u8>]) -> Vec<u8> {
        let mut out = 3u32.to_be_bytes().to_vec();
        out.extend_from_slice(&flags.to_be_bytes());
        out.extend(record(6, &[])); // the fill rule record Photoshop writes first
        subpaths.iter().for_each(|s| out.extend_from_slice(s));
        out
    }

    fn square(operation: i16, lo: f64, hi: f64) -> Vec<u8> {
        polygon(operation, &[(lo, lo), (hi, lo), (hi, hi), (lo, hi)])
    }

    fn mask_of(data: &[u8]) -> Mask {
        let parsed = parse(data, (40, 40)).unwrap();
        parsed.to_mask(parsed.region(BBox::at(0, 0, 40, 40)))
    }

    fn value(mask: &Mask, x: i64, y: i64) -> u8 {
        let c = mask.coverage().unwrap();
        (c.at(x, y) * 255.0).round() as u8
    }

    #[test]
    fn a_square_path_becomes_an_antialiased_mask_from_the_vector() {
        // 0.2625 × 40 = 10.5: the square's left and top edges halve their pixels.
        let mask = mask_of(&block(0, &[square(1, 0.2625, 0.75)]));
        assert!(mask.from_vector && mask.enabled);
        assert_eq!(mask.background, 0);
        assert_eq!(value(&mask, 20, 20), 255);
        // Half of 255, give or take the rounding of 8.24 fixed point.
        assert!((127..=128).contains(&value(&mask, 10, 20)));
        assert_eq!(value(&mask, 9, 20), 0);
        assert_eq!(value(&mask, 30, 20), 0);
        assert_eq!(value(&mask, 0, 0), 0);
    }

    #[test]
    fn shape_operations_combine_like_photoshop() {
        let outer = square(1, 0.1, 0.9);
        let inner = square(2, 0.4, 0.6);
        let subtracted = mask_of(&block(0, &[outer.clone(), inner.clone()]));
        assert_eq!(value(&subtracted, 8, 8), 255);
        assert_eq!(value(&subtracted, 20, 20), 0);
        let intersected = mask_of(&block(0, &[outer.clone(), square(3, 0.4, 0.6)]));
        assert_eq!(value(&intersected, 8, 8), 0);
        assert_eq!(value(&intersected, 20, 20), 255);
        // A first shape that subtracts cuts a hole in everything.
        let hole = mask_of(&block(0, &[inner]));
        assert_eq!(hole.background, 255);
        assert_eq!(value(&hole, 2, 2), 255);
        assert_eq!(value(&hole, 20, 20), 0);
        // Subpaths continuing one shape fill together, even-odd.
        let ring = mask_of(&block(0, &[outer, square(-1, 0.4, 0.6)]));
        assert_eq!(value(&ring, 20, 20), 0);
        assert_eq!(value(&ring, 8, 8), 255);
    }

    #[test]
    fn invert_and_disable_flags_are_read() {
        let inverted = mask_of(&block(FLAG_INVERT, &[square(1, 0.25, 0.75)]));
        assert_eq!(inverted.background, 255);
        assert_eq!(value(&inverted, 20, 20), 0);
        let disabled = mask_of(&block(FLAG_DISABLED, &[square(1, 0.25, 0.75)]));
        assert!(!disabled.enabled);
    }

    #[test]
    fn truncated_blocks_and_empty_paths_do_not_fail() {
        assert!(parse(&[0, 0, 0, 3], (10, 10)).is_none());
        let data = block(0, &[square(1, 0.25, 0.75)]);
        // A cut record is ignored; the whole ones before it still count.
        let parsed = parse(&data[..data.len() - 5], (40, 40)).unwrap();
        assert_eq!(parsed.subpaths[0].knots.len(), 3);
        let empty = mask_of(&block(0, &[]));
        assert_eq!((empty.pixels.width(), empty.background), (0, 0));
    }
}
