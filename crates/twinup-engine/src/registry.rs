//! The step kinds a run knows, looked up by the name plans use in `kind:`: [`KindSchemas`]
//! (what validating a plan needs: names, fields, outputs; no connection) and
//! [`KindRegistry`] (those schemas with each kind's connected behaviour, for the walks).

use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::Arc;

use twinup_plan::KindCatalog;

use crate::kind::{KindSchema, StepKind};

/// Step kinds' schemas by name: enough to validate a plan, with nothing connected.
#[derive(Clone, Default)]
pub struct KindSchemas {
    schemas: BTreeMap<&'static str, &'static dyn KindSchema>,
}

impl KindSchemas {
    /// No schemas.
    pub fn new() -> Self {
        KindSchemas::default()
    }

    /// The schemas of the engine's built-in kinds (`file`).
    pub fn with_builtins() -> Self {
        let mut schemas = KindSchemas::new();
        schemas.register(&crate::kinds::FileKind);
        schemas
    }

    /// Adds `schema`, replacing any of the same name.
    pub fn register(&mut self, schema: &'static dyn KindSchema) {
        self.schemas.insert(schema.name(), schema);
    }

    /// The schema of the kind called `name`.
    pub fn schema(&self, name: &str) -> Option<&'static dyn KindSchema> {
        self.schemas.get(name).copied()
    }
}

impl KindCatalog for KindSchemas {
    fn kind_names(&self) -> Vec<String> {
        self.schemas.keys().map(|k| k.to_string()).collect()
    }

    fn has_kind(&self, kind: &str) -> bool {
        self.schemas.contains_key(kind)
    }

    fn outputs_of(&self, kind: &str) -> Option<Vec<String>> {
        self.schemas
            .get(kind)
            .map(|k| k.outputs().iter().map(|o| o.to_string()).collect())
    }
}

/// Step kinds by name, connected (each with its schema, which it derefs to: whatever
/// validates with [`KindSchemas`] validates with a registry).
#[derive(Clone, Default)]
pub struct KindRegistry {
    kinds: BTreeMap<&'static str, Arc<dyn StepKind>>,
    schemas: KindSchemas,
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

    /// Adds `kind` and its schema, replacing any kind of the same name.
    pub fn register(&mut self, kind: Arc<dyn StepKind>) {
        let schema = kind.schema();
        self.schemas.register(schema);
        self.kinds.insert(schema.name(), kind);
    }

    /// The kind called `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn StepKind>> {
        self.kinds.get(name)
    }
}

impl Deref for KindRegistry {
    type Target = KindSchemas;

    fn deref(&self) -> &KindSchemas {
        &self.schemas
    }
}
