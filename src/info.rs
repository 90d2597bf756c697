//! The `strata info` report: canvas size, then the layer tree top first, as a layer panel
//! shows it. Group members are indented under their group; clipped layers are marked `↳`;
//! a mask is described on its own line under its layer or group.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use strata::model::{Document, Group, Kept, Layer, LayerId, Mask, Node, kept};

/// Indentation per group level, in the name column.
const INDENT: &str = "  ";

/// The `info` report: a header line, a column header, then one row per layer and group.
pub fn describe(path: &Path, doc: &Document) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "{}: {}×{} px, {} layer{}",
        path.display(),
        doc.width,
        doc.height,
        doc.layers.len(),
        plural(doc.layers.len())
    );
    if !doc.groups.is_empty() {
        let _ = write!(
            out,
            ", {} group{}",
            doc.groups.len(),
            plural(doc.groups.len())
        );
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "{:>3}  {:<24} {:<7} {:>7} {:>6}  {:<18} {:>13}  {:>11}",
        "#", "name", "visible", "opacity", "fill", "blend", "offset", "size"
    );
    let index: HashMap<LayerId, usize> = doc
        .layers
        .iter()
        .enumerate()
        .map(|(i, layer)| (layer.id, i + 1))
        .collect();
    rows(&mut out, &index, &doc.tree(), 0);
    if !doc.kept.is_empty() {
        let _ = writeln!(out, "document data kept for PSD: {}", block_list(&doc.kept));
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Rows for `nodes` (bottom first, as [`Document::tree`] gives them), top first. `index`
/// gives each layer's number, 1 at the bottom.
fn rows(out: &mut String, index: &HashMap<LayerId, usize>, nodes: &[Node<'_>], depth: usize) {
    let indent = INDENT.repeat(depth);
    for node in nodes.iter().rev() {
        match node {
            Node::Layer(layer) => {
                let number = index.get(&layer.id).copied().unwrap_or_default();
                layer_row(out, number, &indent, layer);
                if let Some(mask) = &layer.mask {
                    mask_row(out, &indent, mask);
                }
                kept_row(out, &indent, &layer.kept);
            }
            Node::Group(group, children) => {
                group_row(out, &indent, group, children.len());
                if let Some(mask) = &group.mask {
                    mask_row(out, &indent, mask);
                }
                kept_row(out, &indent, &group.kept);
                rows(out, index, children, depth + 1);
            }
        }
    }
}

fn layer_row(out: &mut String, index: usize, indent: &str, layer: &Layer) {
    let name = format!(
        "{indent}{}{}",
        if layer.clipped { "↳ " } else { "" },
        layer.name
    );
    let offset = format!("({}, {})", layer.offset.x, layer.offset.y);
    let size = format!("{}×{}", layer.width(), layer.height());
    let mut notes = Vec::new();
    if layer.clipped {
        notes.push("clipped");
    }
    if layer.locked {
        notes.push("locked");
    }
    let _ = writeln!(
        out,
        "{:>3}  {:<24} {:<7} {:>6.1}% {:>5.1}%  {:<18} {:>13}  {:>11}{}",
        index,
        name,
        yes_no(layer.visible),
        layer.opacity * 100.0,
        layer.fill_opacity * 100.0,
        layer.blend.label(),
        offset,
        size,
        notes_text(&notes),
    );
}

fn group_row(out: &mut String, indent: &str, group: &Group, children: usize) {
    let name = format!("{indent}▾ {}", group.name);
    // A pass-through group's own mode is kept but not drawn; say what is drawn.
    let blend = if group.pass_through {
        "Pass Through".to_string()
    } else {
        group.blend.label().to_string()
    };
    let size = format!("{children} item{}", plural(children));
    // Groups show a fill column only when Photoshop's group fill is below full.
    let group_fill = if group.fill_opacity < 1.0 {
        format!("{:.1}%", group.fill_opacity * 100.0)
    } else {
        String::new()
    };
    let mut notes = vec![if group.passes_through() {
        "pass-through"
    } else if group.pass_through {
        "pass-through, isolated by its fill"
    } else {
        "isolated"
    }];
    if group.locked {
        notes.push("locked");
    }
    if group.collapsed {
        notes.push("collapsed");
    }
    let _ = writeln!(
        out,
        "{:>3}  {:<24} {:<7} {:>6.1}% {:>6}  {:<18} {:>13}  {:>11}{}",
        "",
        name,
        yes_no(group.visible),
        group.opacity * 100.0,
        group_fill,
        blend,
        "group",
        size,
        notes_text(&notes),
    );
}

fn mask_row(out: &mut String, indent: &str, mask: &Mask) {
    let mut text = format!(
        "{:>3}  {indent}  mask {}×{} at ({}, {}), outside {}, density {:.0}%, feather {:.1} px",
        "",
        mask.pixels.width(),
        mask.pixels.height(),
        mask.offset.x,
        mask.offset.y,
        mask.background,
        mask.density * 100.0,
        mask.feather,
    );
    if !mask.enabled {
        text.push_str(", disabled");
    }
    if !mask.linked {
        text.push_str(", unlinked");
    }
    out.push_str(&text);
    out.push('\n');
}

/// What the file held for a layer or group that is kept but not interpreted: what of it
/// is not drawn, then every block with its size ("not drawn: effects; kept for PSD: lfx2
/// 1.2 KB, lyid 4 B").
fn kept_row(out: &mut String, indent: &str, blocks: &Kept) {
    if blocks.is_empty() {
        return;
    }
    let undrawn: Vec<&str> = kept::undrawn(blocks).iter().map(|k| k.label()).collect();
    let not_drawn = if undrawn.is_empty() {
        String::new()
    } else {
        format!("not drawn: {}; ", undrawn.join(", "))
    };
    let _ = writeln!(
        out,
        "{:>3}  {indent}  {not_drawn}kept for PSD: {}",
        "",
        block_list(blocks)
    );
}

/// "lfx2 1.2 KB, lyid 4 B": each kept block's key and size.
fn block_list(blocks: &Kept) -> String {
    let items: Vec<String> = blocks
        .iter()
        .map(|b| format!("{} {}", String::from_utf8_lossy(&b.key), size(b.data.len())))
        .collect();
    items.join(", ")
}

fn size(bytes: usize) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MB", bytes as f64 / 1_048_576.0),
    }
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

fn notes_text(notes: &[&str]) -> String {
    if notes.is_empty() {
        String::new()
    } else {
        format!("  {}", notes.join(", "))
    }
}
