//! The step kinds this binary knows, for validating plans: the schemas of the engine's
//! built-ins and of the Azure kinds. No client, token or network: `up` connects the kinds
//! once it has signed in.

use twinup_engine::KindSchemas;

/// Built-ins plus the Azure kinds' schemas: enough to validate any plan.
pub fn validation_registry() -> KindSchemas {
    let mut schemas = KindSchemas::with_builtins();
    twinup_azure::kinds::register_schemas(&mut schemas);
    schemas
}
