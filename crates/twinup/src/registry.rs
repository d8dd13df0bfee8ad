//! The step kinds this binary knows: the engine's built-ins and the Azure kinds.

use twinup_engine::KindRegistry;

use crate::cli::CloudArgs;
use crate::failure::Failure;

/// The registry for a run against the chosen cloud.
pub fn build_registry(_cloud: &CloudArgs) -> Result<KindRegistry, Failure> {
    Ok(KindRegistry::with_builtins())
}
