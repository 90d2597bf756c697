//! Building a [`Document`] from a parsed stack: layer and mask PNGs from the archive, groups
//! from nested stacks, each stack's offset added to everything inside it (our groups have no
//! offset of their own).

use std::io::{Read, Seek};

use image::{GrayImage, ImageFormat};
use zip::ZipArchive;

use super::ora::{OraError, read_entry};
use super::ora_stack::{Stack, StackGroup, StackMask, StackNode};
use super::{Limits, Notice, raster};
use crate::model::{Document, Group, LayerId, Mask, Offset};

/// At most this many names are listed in one notice.
const NAMES_IN_A_NOTICE: usize = 5;

/// Builds the document `stack` describes, reading pixels from `archive`. What could not be
/// kept (empty groups, unreadable masks, unknown blend modes) comes back as notices.
pub fn build<R: Read + Seek>(
    stack: &Stack,
    archive: &mut ZipArchive<R>,
    limits: &Limits,
) -> Result<(Document, Vec<Notice>), OraError> {
    let mut builder = Builder {
        archive,
        limits,
        doc: Document::new(stack.width, stack.height),
        total_bytes: 0,
        empty_groups: 0,
        bad_masks: Vec::new(),
    };
    // The tree rules hold by construction: a group is added just before its members, which
    // are pushed one after another, and empty groups are never added. `check_tree` is not
    // called here because it takes time cubic in the number of groups, which a hostile file
    // could make large; the tests check every tree the reader makes.
    builder.nodes(&stack.nodes, None, (0, 0))?;
    let mut notices = Vec::new();
    if builder.empty_groups > 0 {
        notices.push(Notice::new(format!(
            "left out {} empty group{} (Strata keeps no group without layers)",
            builder.empty_groups,
            plural(builder.empty_groups)
        )));
    }
    if !builder.bad_masks.is_empty() {
        notices.push(Notice::new(format!(
            "opened without {} mask{} that could not be read: {}",
            builder.bad_masks.len(),
            plural(builder.bad_masks.len()),
            listed(&builder.bad_masks)
        )));
    }
    if !stack.unknown_ops.is_empty() {
        notices.push(Notice::new(format!(
            "drew blend mode{} Strata does not have as Normal: {}",
            plural(stack.unknown_ops.len()),
            listed(&stack.unknown_ops)
        )));
    }
    Ok((builder.doc, notices))
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The first few items joined by commas, with a count of the rest.
fn listed(items: &[String]) -> String {
    let mut out = items
        .iter()
        .take(NAMES_IN_A_NOTICE)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > NAMES_IN_A_NOTICE {
        out.push_str(&format!(" and {} more", items.len() - NAMES_IN_A_NOTICE));
    }
    out
}

/// How many groups `group` is, counting those inside it.
fn group_count(group: &StackGroup) -> usize {
    1 + group
        .children
        .iter()
        .map(|child| match child {
            StackNode::Group(inner) => group_count(inner),
            StackNode::Layer(_) => 0,
        })
        .sum::<usize>()
}

struct Builder<'a, R> {
    archive: &'a mut ZipArchive<R>,
    limits: &'a Limits,
    doc: Document,
    /// Bytes of pixels decoded so far, checked against the limits as they grow.
    total_bytes: u64,
    empty_groups: usize,
    /// "'owner' (src: reason)" for each mask left out.
    bad_masks: Vec<String>,
}

impl<R: Read + Seek> Builder<'_, R> {
    /// Adds `nodes` (top-most first, as listed) under `parent`, bottom first as the model
    /// stores them. `origin` is the sum of the enclosing stacks' offsets.
    fn nodes(
        &mut self,
        nodes: &[StackNode],
        parent: Option<LayerId>,
        origin: (i64, i64),
    ) -> Result<(), OraError> {
        for node in nodes.iter().rev() {
            match node {
                StackNode::Layer(entry) => {
                    let png = read_entry(self.archive, &entry.src, self.limits.max_file_bytes)?;
                    let layer_err = |reason: String| OraError::LayerImage {
                        name: entry.name.clone(),
                        src: entry.src.clone(),
                        reason,
                    };
                    let format = image::guess_format(&png).unwrap_or(ImageFormat::Png);
                    let pixels = raster::decode(&png, format, self.limits)
                        .map_err(|e| layer_err(e.to_string()))?;
                    self.count(pixels.width(), pixels.height(), 4)?;
                    let offset = canvas_offset(origin, entry.x, entry.y, &entry.name)?;
                    let mask = self.mask(entry.mask.as_ref(), &entry.name, origin)?;
                    let layer = self.doc.push_layer(entry.name.clone(), pixels);
                    layer.offset = offset;
                    layer.opacity = entry.opacity;
                    layer.fill_opacity = entry.fill_opacity;
                    layer.visible = entry.visible;
                    layer.locked = entry.locked;
                    layer.blend = entry.blend;
                    layer.clipped = entry.clipped;
                    layer.parent = parent;
                    layer.mask = mask;
                }
                StackNode::Group(entry) => {
                    if !entry.has_layers() {
                        self.empty_groups += group_count(entry);
                        continue;
                    }
                    let id = self.doc.allocate_id();
                    let mut group = Group::new(id, entry.name.clone());
                    group.visible = entry.visible;
                    group.opacity = entry.opacity;
                    group.fill_opacity = entry.fill_opacity;
                    group.blend = entry.blend;
                    group.pass_through = entry.pass_through;
                    group.locked = entry.locked;
                    group.collapsed = entry.collapsed;
                    group.parent = parent;
                    group.mask = self.mask(entry.mask.as_ref(), &entry.name, origin)?;
                    self.doc.insert_group(group);
                    let inner = (origin.0 + entry.x, origin.1 + entry.y);
                    self.nodes(&entry.children, Some(id), inner)?;
                }
            }
        }
        Ok(())
    }

    /// Adds an image of `width`×`height` at `channels` bytes a pixel to the running total.
    fn count(&mut self, width: u32, height: u32, channels: u64) -> Result<(), OraError> {
        self.total_bytes += u64::from(width) * u64::from(height) * channels;
        self.limits.check_total(self.total_bytes)?;
        Ok(())
    }

    /// The mask `entry` describes. A mask whose PNG is missing or unreadable is left out
    /// with a notice, not refused: the layer itself is intact, and masks are Strata's own
    /// addition that no other reader would have drawn either.
    fn mask(
        &mut self,
        entry: Option<&StackMask>,
        owner: &str,
        origin: (i64, i64),
    ) -> Result<Option<Mask>, OraError> {
        let Some(entry) = entry else {
            return Ok(None);
        };
        let offset = canvas_offset(origin, entry.x, entry.y, owner)?;
        let pixels = match self.mask_pixels(&entry.src) {
            Ok(pixels) => pixels,
            Err(reason) => {
                self.bad_masks
                    .push(format!("'{owner}' ({}: {reason})", entry.src));
                return Ok(None);
            }
        };
        self.count(pixels.width(), pixels.height(), 1)?;
        let mut mask = Mask::new(pixels, offset, entry.background);
        mask.density = entry.density;
        mask.feather = entry.feather;
        mask.enabled = entry.enabled;
        mask.linked = entry.linked;
        Ok(Some(mask))
    }

    /// A mask PNG as grey values (Strata writes 8-bit grey; an RGB mask another program
    /// saved is reduced to its luma).
    fn mask_pixels(&mut self, src: &str) -> Result<GrayImage, String> {
        let png =
            read_entry(self.archive, src, self.limits.max_file_bytes).map_err(|e| match e {
                OraError::MissingEntry(_) => "missing".to_string(),
                other => other.to_string(),
            })?;
        let format = image::guess_format(&png).unwrap_or(ImageFormat::Png);
        let rgba = raster::decode(&png, format, self.limits).map_err(|e| e.to_string())?;
        Ok(image::DynamicImage::ImageRgba8(rgba).to_luma8())
    }
}

/// A position inside stacks offset by `origin`, on the canvas, where it must fit `i32`.
fn canvas_offset(origin: (i64, i64), x: i64, y: i64, owner: &str) -> Result<Offset, OraError> {
    let (cx, cy) = (origin.0 + x, origin.1 + y);
    match (i32::try_from(cx), i32::try_from(cy)) {
        (Ok(x), Ok(y)) => Ok(Offset::new(x, y)),
        _ => Err(OraError::Xml(format!(
            "'{owner}' lies out of range at ({cx}, {cy}) after adding its stacks' offsets"
        ))),
    }
}
