//! The deployment identity: which deployment a checkpoint records. Derived from the plan's name
//! and the inputs its `identity:` names (random when it names none) when the checkpoint is
//! first written, and fixed there for the checkpoint's life, so a later change of those inputs
//! is a replacement inside the same deployment. Kinds fold it into every name they derive for
//! idempotency (an app's `uniqueName`, a role assignment's name), so two deployments never meet
//! and a rerun whose checkpoint was lost derives the same names again.

use sha2::{Digest, Sha256};
use twinup_plan::Plan;

use crate::checkpoint::{Checkpoint, StepState};
use crate::inputs::ResolvedInputs;

/// The id derived from the plan name and its identifying inputs; random for a plan that
/// declares none.
pub fn derive_id(plan: &Plan, inputs: &ResolvedInputs) -> String {
    if plan.identity.is_empty() {
        return hex::encode(rand::random::<[u8; 16]>());
    }
    let mut hasher = Sha256::new();
    hasher.update(b"twinup:deployment:");
    hasher.update(plan.name.as_bytes());
    for name in &plan.identity {
        let value = inputs
            .values
            .get(name)
            .map(canonical_text)
            .unwrap_or_default();
        hasher.update(b"\n");
        hasher.update(name.as_bytes());
        hasher.update(b"=");
        hasher.update(value.as_bytes());
    }
    hex::encode(&hasher.finalize()[..16])
}

/// Values as text, strings case-folded (Azure names are case-insensitive).
fn canonical_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.to_ascii_lowercase(),
        other => other.to_string(),
    }
}

/// True when the checkpoint holds nothing deployed: no step has started or recorded outputs.
fn is_fresh(checkpoint: &Checkpoint) -> bool {
    checkpoint
        .steps
        .values()
        .all(|r| r.state == StepState::Pending && r.outputs.is_none() && !r.creating)
}

/// True when the checkpoint was written by a twinup without deployment ids and records work:
/// its names are derived as before (without an id).
pub fn is_legacy(checkpoint: &Checkpoint) -> bool {
    checkpoint.deployment_id.is_none() && !is_fresh(checkpoint)
}

/// The deployment id a run on `checkpoint` uses: the recorded one; for a checkpoint with
/// nothing deployed, a new one from `plan` and `inputs`; none for a legacy checkpoint.
pub fn planned_id(plan: &Plan, inputs: &ResolvedInputs, checkpoint: &Checkpoint) -> Option<String> {
    match &checkpoint.deployment_id {
        Some(id) => Some(id.clone()),
        None if is_fresh(checkpoint) => Some(derive_id(plan, inputs)),
        None => None,
    }
}
