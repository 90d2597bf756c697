//! The layer tree: groups over the flat layer list.
//!
//! A document keeps its layers as one bottom-to-top list, the order a PSD file stores and a
//! painter composites, and its groups apart. The tree is implied by two rules, which every
//! edit here keeps and [`Document::check_tree`] verifies:
//!
//! 1. every parent (of a layer or of a group) is a group of the document, and no group is
//!    its own ancestor;
//! 2. every group has at least one layer under it, and all the layers under it stand next
//!    to each other in the list.
//!
//! Rule 2 is why there are no empty groups: a group's place in the stack is where its
//! members are. An edit that empties a group removes it (readers announce the ones a file
//! holds). [`Document::tree`] gives the nested view the compositors, writers and the panel
//! walk.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use super::{Document, Group, Layer, LayerId};

/// One entry of the nested view: a layer, or a group with its children (bottom first).
#[derive(Debug)]
pub enum Node<'a> {
    Layer(&'a Layer),
    Group(&'a Group, Vec<Node<'a>>),
}

impl Node<'_> {
    /// The layer's or group's id.
    pub fn id(&self) -> LayerId {
        match self {
            Node::Layer(layer) => layer.id,
            Node::Group(group, _) => group.id,
        }
    }
}

/// Why a tree edit was refused, or what is wrong with a document's tree.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TreeError {
    #[error("no layer or group has id {0}")]
    NoSuchNode(u64),
    #[error("id {0} is not a group")]
    NotAGroup(u64),
    #[error("a group cannot be moved into itself or into a group inside it")]
    IntoItself,
    #[error("\"{0}\" has no layers")]
    EmptyGroup(String),
    #[error("the layers of group \"{0}\" are not next to each other")]
    Scattered(String),
    #[error("group \"{0}\" is inside itself")]
    Cycle(String),
}

/// The groups from the outermost down to `parent` (empty for `None`). Stops at a missing
/// group or after as many steps as there are groups (a cycle; check_tree reports both).
fn chain_of<'a>(groups: &HashMap<LayerId, &'a Group>, parent: Option<LayerId>) -> Vec<&'a Group> {
    let mut chain = Vec::new();
    let mut next = parent;
    while let Some(group) = next.and_then(|id| groups.get(&id)) {
        if chain.len() > groups.len() {
            break;
        }
        chain.push(*group);
        next = group.parent;
    }
    chain.reverse();
    chain
}

impl Document {
    pub fn group(&self, id: LayerId) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    pub fn group_mut(&mut self, id: LayerId) -> Option<&mut Group> {
        self.groups.iter_mut().find(|g| g.id == id)
    }

    /// The group a layer or group belongs to (`None` at the top level or for an unknown id).
    pub fn parent_of(&self, id: LayerId) -> Option<LayerId> {
        match self.layer(id) {
            Some(layer) => layer.parent,
            None => self.group(id).and_then(|g| g.parent),
        }
    }

    /// The groups enclosing a layer or group, nearest first.
    pub fn ancestors(&self, id: LayerId) -> Vec<LayerId> {
        let mut out = Vec::new();
        let mut next = self.parent_of(id);
        while let Some(group) = next {
            if out.contains(&group) || out.len() > self.groups.len() {
                break; // a broken tree; check_tree reports it
            }
            out.push(group);
            next = self.group(group).and_then(|g| g.parent);
        }
        out
    }

    /// How many groups enclose a layer or group (0 at the top level).
    pub fn depth(&self, id: LayerId) -> usize {
        self.ancestors(id).len()
    }

    /// True when `id` is `ancestor` or lies inside it.
    pub fn is_within(&self, id: LayerId, ancestor: LayerId) -> bool {
        id == ancestor || self.ancestors(id).contains(&ancestor)
    }

    /// True when the layer or group and every group around it are visible.
    pub fn is_shown(&self, id: LayerId) -> bool {
        let own = match self.layer(id) {
            Some(layer) => layer.visible,
            None => self.group(id).is_some_and(|g| g.visible),
        };
        own && self
            .ancestors(id)
            .iter()
            .all(|g| self.group(*g).is_some_and(|g| g.visible))
    }

    /// True when the layer or group, or any group around it, is locked.
    pub fn is_locked(&self, id: LayerId) -> bool {
        let own = match self.layer(id) {
            Some(layer) => layer.locked,
            None => self.group(id).is_some_and(|g| g.locked),
        };
        own || self
            .ancestors(id)
            .iter()
            .any(|g| self.group(*g).is_some_and(|g| g.locked))
    }

    /// The positions in [`Document::layers`] a layer or group spans.
    pub fn node_range(&self, id: LayerId) -> Option<Range<usize>> {
        if let Some(index) = self.index_of(id) {
            return Some(index..index + 1);
        }
        self.group(id)?;
        let first = self.layers.iter().position(|l| self.is_within(l.id, id))?;
        let count = self.layers[first..]
            .iter()
            .take_while(|l| self.is_within(l.id, id))
            .count();
        Some(first..first + count)
    }

    /// The ids of the direct children of `parent` (`None`: the top level), bottom first.
    pub fn children(&self, parent: Option<LayerId>) -> Vec<LayerId> {
        let mut out: Vec<LayerId> = Vec::new();
        for layer in &self.layers {
            let mut chain = vec![layer.id];
            chain.extend(self.ancestors(layer.id));
            let child = match parent {
                None => chain.last().copied(),
                Some(p) => chain
                    .iter()
                    .position(|&id| id == p)
                    .and_then(|i| i.checked_sub(1))
                    .map(|i| chain[i]),
            };
            if let Some(child) = child.filter(|c| out.last() != Some(c)) {
                out.push(child);
            }
        }
        out
    }

    /// The nested view of the whole document, bottom first. One pass over the layers
    /// (each with its chain of groups), so it stays fast with thousands of groups.
    pub fn tree(&self) -> Vec<Node<'_>> {
        let groups = self.group_index();
        // Open groups, outermost first, with the children gathered so far.
        let mut open: Vec<(&Group, Vec<Node<'_>>)> = Vec::new();
        let mut top: Vec<Node<'_>> = Vec::new();
        fn close<'a>(open: &mut Vec<(&'a Group, Vec<Node<'a>>)>, top: &mut Vec<Node<'a>>) {
            if let Some((group, children)) = open.pop() {
                let node = Node::Group(group, children);
                match open.last_mut() {
                    Some((_, siblings)) => siblings.push(node),
                    None => top.push(node),
                }
            }
        }
        for layer in &self.layers {
            let chain = chain_of(&groups, layer.parent);
            let shared = open
                .iter()
                .zip(&chain)
                .take_while(|((g, _), c)| g.id == c.id)
                .count();
            while open.len() > shared {
                close(&mut open, &mut top);
            }
            for group in &chain[shared..] {
                open.push((group, Vec::new()));
            }
            match open.last_mut() {
                Some((_, children)) => children.push(Node::Layer(layer)),
                None => top.push(Node::Layer(layer)),
            }
        }
        while !open.is_empty() {
            close(&mut open, &mut top);
        }
        top
    }

    /// The groups by id.
    fn group_index(&self) -> HashMap<LayerId, &Group> {
        self.groups.iter().map(|g| (g.id, g)).collect()
    }

    /// Puts a layer or group into a new group in its place (Photoshop's Ctrl+G) and returns
    /// the new group's id. The group is named "Group N" with the first N not in use.
    pub fn group_node(&mut self, id: LayerId) -> Result<LayerId, TreeError> {
        if self.layer(id).is_none() && self.group(id).is_none() {
            return Err(TreeError::NoSuchNode(id.0));
        }
        let name = (1..)
            .map(|n| format!("Group {n}"))
            .find(|name| self.groups.iter().all(|g| &g.name != name))
            .unwrap_or_else(|| "Group".to_string());
        let group_id = self.allocate_id();
        let mut group = Group::new(group_id, name);
        group.parent = self.parent_of(id);
        self.groups.push(group);
        self.set_parent(id, Some(group_id));
        Ok(group_id)
    }

    /// Dissolves a group (Ctrl+Shift+G): its children move up into its parent, in place.
    /// The group's own opacity, mode and mask go with it, as in Photoshop.
    pub fn ungroup(&mut self, id: LayerId) -> Result<(), TreeError> {
        let parent = self.group(id).ok_or(TreeError::NotAGroup(id.0))?.parent;
        for child in self.children(Some(id)) {
            self.set_parent(child, parent);
        }
        self.groups.retain(|g| g.id != id);
        Ok(())
    }

    /// Moves a layer or group to be child number `position` (0 = bottom, clamped to the
    /// top) of `parent` (`None`: the top level). A group left empty is removed.
    pub fn move_node(
        &mut self,
        id: LayerId,
        parent: Option<LayerId>,
        position: usize,
    ) -> Result<(), TreeError> {
        let range = self.node_range(id).ok_or(TreeError::NoSuchNode(id.0))?;
        if let Some(p) = parent {
            if self.group(p).is_none() {
                return Err(TreeError::NotAGroup(p.0));
            }
            if self.is_within(p, id) {
                return Err(TreeError::IntoItself);
            }
        }
        // Where to insert, found before anything moves: before the child now at `position`,
        // or after the last child.
        let siblings: Vec<LayerId> = self
            .children(parent)
            .into_iter()
            .filter(|c| *c != id)
            .collect();
        let anchor = match siblings.get(position) {
            Some(next) => self.node_range(*next).map_or(range.start, |r| r.start),
            None => match siblings.last() {
                Some(last) => self.node_range(*last).map_or(range.start, |r| r.end),
                None if parent.is_none() => 0,
                None => range.start, // its own parent, which it alone fills: stays in place
            },
        };
        let moved: Vec<Layer> = self.layers.drain(range.clone()).collect();
        let at = if anchor >= range.end {
            anchor - range.len()
        } else {
            anchor
        };
        self.layers.splice(at..at, moved);
        self.set_parent(id, parent);
        self.prune_empty_groups();
        Ok(())
    }

    /// Removes a group together with every layer and group inside it.
    pub fn remove_group(&mut self, id: LayerId) -> Result<(), TreeError> {
        self.group(id).ok_or(TreeError::NotAGroup(id.0))?;
        let inside: Vec<LayerId> = self
            .groups
            .iter()
            .map(|g| g.id)
            .filter(|g| self.is_within(*g, id))
            .collect();
        self.layers
            .retain(|l| !inside.iter().any(|g| l.parent == Some(*g)));
        self.groups.retain(|g| !inside.contains(&g.id));
        self.prune_empty_groups();
        Ok(())
    }

    /// Checks the two rules of the module documentation.
    pub fn check_tree(&self) -> Result<(), TreeError> {
        let groups = self.group_index();
        let parents = self.layers.iter().filter_map(|l| l.parent);
        if let Some(bad) = parents
            .chain(self.groups.iter().filter_map(|g| g.parent))
            .find(|p| !groups.contains_key(p))
        {
            return Err(TreeError::NotAGroup(bad.0));
        }
        for group in &self.groups {
            let mut next = group.parent;
            for _ in 0..=self.groups.len() {
                match next {
                    Some(id) if id == group.id => {
                        return Err(TreeError::Cycle(group.name.clone()));
                    }
                    Some(id) => next = groups.get(&id).and_then(|g| g.parent),
                    None => break,
                }
            }
        }
        // Per group: first and last position of its members, and how many there are.
        let mut spans: HashMap<LayerId, (usize, usize, usize)> = HashMap::new();
        for (index, layer) in self.layers.iter().enumerate() {
            for group in chain_of(&groups, layer.parent) {
                let span = spans.entry(group.id).or_insert((index, index, 0));
                span.1 = index;
                span.2 += 1;
            }
        }
        for group in &self.groups {
            match spans.get(&group.id) {
                None => return Err(TreeError::EmptyGroup(group.name.clone())),
                Some(&(first, last, count)) if last - first + 1 != count => {
                    return Err(TreeError::Scattered(group.name.clone()));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Removes every group that no layer lies under (rule 2). The groups around a kept one
    /// hold its layers, so they are kept too and no parent needs mending.
    pub fn prune_empty_groups(&mut self) {
        let used: HashSet<LayerId> = {
            let groups = self.group_index();
            self.layers
                .iter()
                .flat_map(|l| chain_of(&groups, l.parent))
                .map(|g| g.id)
                .collect()
        };
        self.groups.retain(|g| used.contains(&g.id));
    }

    /// The innermost group holding both neighbours of stack position `index` (the layer
    /// just below it and the one now at it): where a layer dropped there belongs.
    pub(super) fn group_between(&self, index: usize) -> Option<LayerId> {
        let below = index.checked_sub(1).and_then(|i| self.layers.get(i))?;
        let above = self.layers.get(index)?;
        let above_groups = self.ancestors(above.id);
        self.ancestors(below.id)
            .into_iter()
            .find(|g| above_groups.contains(g))
    }

    fn set_parent(&mut self, id: LayerId, parent: Option<LayerId>) {
        if let Some(layer) = self.layer_mut(id) {
            layer.parent = parent;
        } else if let Some(group) = self.group_mut(id) {
            group.parent = parent;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::model::RgbaImage;

    /// bottom "a", then group "g" holding "b" and "c", then "d" on top.
    fn sample() -> (Document, [LayerId; 5]) {
        let mut doc = Document::new(4, 4);
        let a = doc.push_layer("a", RgbaImage::new(1, 1)).id;
        let b = doc.push_layer("b", RgbaImage::new(1, 1)).id;
        let c = doc.push_layer("c", RgbaImage::new(1, 1)).id;
        let d = doc.push_layer("d", RgbaImage::new(1, 1)).id;
        let g = doc.group_node(b).unwrap();
        doc.move_node(c, Some(g), 1).unwrap();
        (doc, [a, b, c, d, g])
    }

    fn names(doc: &Document) -> Vec<String> {
        doc.layers.iter().map(|l| l.name.clone()).collect()
    }

    #[test]
    fn the_tree_nests_group_members() {
        let (doc, [a, b, c, d, g]) = sample();
        doc.check_tree().unwrap();
        assert_eq!(doc.children(None), vec![a, g, d]);
        assert_eq!(doc.children(Some(g)), vec![b, c]);
        assert_eq!(doc.node_range(g), Some(1..3));
        let tree = doc.tree();
        assert!(matches!(&tree[1], Node::Group(group, kids) if group.id == g && kids.len() == 2));
        assert_eq!(doc.depth(c), 1);
    }

    #[test]
    fn moving_a_group_carries_its_members_and_keeps_them_together() {
        let (mut doc, [_, _, _, d, g]) = sample();
        doc.move_node(g, None, 3).unwrap();
        assert_eq!(names(&doc), ["a", "d", "b", "c"]);
        doc.move_node(d, Some(g), 0).unwrap();
        assert_eq!(names(&doc), ["a", "d", "b", "c"]);
        assert_eq!(doc.parent_of(d), Some(g));
        doc.check_tree().unwrap();
        assert_eq!(doc.move_node(g, Some(g), 0), Err(TreeError::IntoItself));
    }

    #[test]
    fn nested_groups_and_ungroup() {
        let (mut doc, [a, b, c, _, g]) = sample();
        let inner = doc.group_node(c).unwrap();
        assert_eq!(doc.ancestors(c), vec![inner, g]);
        doc.move_node(a, Some(inner), 0).unwrap();
        assert_eq!(names(&doc), ["b", "a", "c", "d"]);
        doc.check_tree().unwrap();
        doc.ungroup(g).unwrap();
        assert_eq!(doc.parent_of(inner), None);
        assert_eq!(doc.parent_of(b), None);
        doc.check_tree().unwrap();
    }

    #[test]
    fn a_group_emptied_by_an_edit_goes() {
        let (mut doc, [_, b, c, _, g]) = sample();
        doc.move_node(b, None, 0).unwrap();
        doc.remove_layer(c);
        assert!(doc.group(g).is_none());
        doc.check_tree().unwrap();
    }

    #[test]
    fn move_layer_joins_the_group_it_lands_in() {
        let (mut doc, [a, _, _, d, g]) = sample();
        assert!(doc.move_layer(d, 2));
        assert_eq!(doc.parent_of(d), Some(g));
        assert!(doc.move_layer(a, 3));
        assert_eq!(
            doc.parent_of(a),
            None,
            "on top of the stack, outside every group"
        );
        doc.check_tree().unwrap();
    }

    #[test]
    fn check_tree_finds_scattered_members() {
        let (mut doc, _) = sample();
        doc.layers.swap(0, 1);
        assert!(matches!(doc.check_tree(), Err(TreeError::Scattered(_))));
    }
}
