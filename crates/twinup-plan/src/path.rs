//! `PathSeg`: a path into the YAML document (`steps[2].with.name`), and the
//! lookup of the node a path names.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::yaml::{Node, NodeKind, Pos};

/// One step of a path into the YAML document: a mapping key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PathSeg {
    /// A key of a mapping.
    Key(String),
    /// A 0-based index into a list.
    Index(usize),
}

impl From<&str> for PathSeg {
    fn from(key: &str) -> Self {
        PathSeg::Key(key.to_string())
    }
}

impl From<usize> for PathSeg {
    fn from(index: usize) -> Self {
        PathSeg::Index(index)
    }
}

/// Writes a path as `steps[2].with.name`.
pub fn display_path(path: &[PathSeg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            PathSeg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            PathSeg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

impl fmt::Display for PathSeg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathSeg::Key(k) => write!(f, "{k}"),
            PathSeg::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// The node at `path` below `root`.
pub(crate) fn find<'a>(root: &'a Node, path: &[PathSeg]) -> Option<&'a Node> {
    let mut node = root;
    for seg in path {
        node = match (seg, &node.kind) {
            (PathSeg::Key(k), NodeKind::Map(_)) => node.get(k)?,
            (PathSeg::Index(i), NodeKind::Seq(items)) => items.get(*i)?,
            _ => return None,
        };
    }
    Some(node)
}

/// The position of the node at `path`; for a path ending in a mapping key
/// whose value is missing, nothing.
pub(crate) fn position(root: &Node, path: &[PathSeg]) -> Option<Pos> {
    find(root, path).map(|n| n.pos)
}

/// The position of the key that ends `path` (or of the node, for an index).
pub(crate) fn key_position(root: &Node, path: &[PathSeg]) -> Option<Pos> {
    match path.split_last() {
        Some((PathSeg::Key(k), parent)) => find(root, parent)?.entry(k).map(|e| e.key_pos),
        _ => position(root, path),
    }
}

/// The value at `path` inside a JSON value.
pub(crate) fn value_at<'a>(
    value: &'a serde_json::Value,
    path: &[PathSeg],
) -> Option<&'a serde_json::Value> {
    let mut at = value;
    for seg in path {
        at = match seg {
            PathSeg::Key(k) => at.get(k.as_str())?,
            PathSeg::Index(i) => at.get(*i)?,
        };
    }
    Some(at)
}
