//! The step kinds this binary knows, for validating plans: the engine's built-ins and the
//! Azure kinds (not yet connected; `up` connects them once it has signed in).

use twinup_engine::KindRegistry;

use crate::failure::Failure;

/// Built-ins plus the Azure kinds, unconnected: enough to validate any plan.
pub fn validation_registry() -> Result<KindRegistry, Failure> {
    crate::azure_session::validation_registry()
}
