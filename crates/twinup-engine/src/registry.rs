//! The set of step kinds a run knows, looked up by the name plans use in `kind:`.

use std::collections::BTreeMap;
use std::sync::Arc;

use twinup_plan::KindCatalog;

use crate::kind::StepKind;

/// Step kinds by name.
#[derive(Clone, Default)]
pub struct KindRegistry {
    kinds: BTreeMap<&'static str, Arc<dyn StepKind>>,
}

impl KindRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        KindRegistry::default()
    }

    /// A registry with the engine's built-in kinds (`file`).
    pub fn with_builtins() -> Self {
        let mut registry = KindRegistry::new();
        registry.register(Arc::new(crate::kinds::FileKind));
        registry
    }

    /// Adds `kind`, replacing any kind of the same name.
    pub fn register(&mut self, kind: Arc<dyn StepKind>) {
        self.kinds.insert(kind.name(), kind);
    }

    /// The kind called `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn StepKind>> {
        self.kinds.get(name)
    }
}

impl KindCatalog for KindRegistry {
    fn kind_names(&self) -> Vec<String> {
        self.kinds.keys().map(|k| k.to_string()).collect()
    }

    fn has_kind(&self, kind: &str) -> bool {
        self.kinds.contains_key(kind)
    }

    fn outputs_of(&self, kind: &str) -> Option<Vec<String>> {
        self.kinds
            .get(kind)
            .map(|k| k.outputs().iter().map(|o| o.to_string()).collect())
    }
}
