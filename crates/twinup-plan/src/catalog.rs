//! `KindCatalog`: what `Plan::validate` needs to know about step kinds, and a
//! simple in-memory implementation.

use indexmap::IndexMap;

/// The step kinds a twinup build knows, and the outputs each declares.
pub trait KindCatalog {
    /// Every known kind name (used for "did you mean" suggestions).
    fn kind_names(&self) -> Vec<String>;
    /// True when `kind` is known.
    fn has_kind(&self, kind: &str) -> bool;
    /// The outputs `kind` declares; `None` means any output name is allowed.
    fn outputs_of(&self, kind: &str) -> Option<Vec<String>>;
}

/// A catalog held in memory: kind name to declared outputs (`None` = any).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SimpleCatalog {
    kinds: IndexMap<String, Option<Vec<String>>>,
}

impl SimpleCatalog {
    /// An empty catalog.
    pub fn new() -> SimpleCatalog {
        SimpleCatalog::default()
    }

    /// Adds a kind with the given outputs (`None` = any output allowed).
    pub fn with_kind(mut self, kind: &str, outputs: Option<&[&str]>) -> SimpleCatalog {
        self.kinds.insert(
            kind.to_string(),
            outputs.map(|o| o.iter().map(|s| (*s).to_string()).collect()),
        );
        self
    }
}

impl KindCatalog for SimpleCatalog {
    fn kind_names(&self) -> Vec<String> {
        self.kinds.keys().cloned().collect()
    }

    fn has_kind(&self, kind: &str) -> bool {
        self.kinds.contains_key(kind)
    }

    fn outputs_of(&self, kind: &str) -> Option<Vec<String>> {
        self.kinds.get(kind).cloned().flatten()
    }
}
