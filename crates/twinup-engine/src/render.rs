//! Renders a step's `with` block from resolved inputs and earlier steps' outputs, and
//! fingerprints it so a rerun can tell whether the step's inputs changed.

use serde_json::Value;
use sha2::{Digest, Sha256};
use twinup_plan::{Reference, Step};

use crate::checkpoint::{Checkpoint, StepState};
use crate::inputs::ResolvedInputs;

/// Looks up what a reference points at: an input, or a succeeded step's output.
pub(crate) fn lookup(
    reference: &Reference,
    inputs: &ResolvedInputs,
    checkpoint: &Checkpoint,
    include_secrets: bool,
) -> Option<Value> {
    match reference {
        Reference::Input(name) => {
            if !include_secrets && inputs.secrets.contains(name) {
                return None;
            }
            inputs.values.get(name).cloned()
        }
        Reference::StepOutput { step, output } => checkpoint
            .steps
            .get(step)
            .filter(|r| r.state == StepState::Succeeded)
            .and_then(|r| r.outputs.as_ref())
            .and_then(|o| o.get(output))
            .cloned(),
        // Filled in when the plan is expanded; never looked up.
        Reference::Each(_) => None,
    }
}

/// The step's `with`, fully rendered; fails when a referenced output is not available.
pub(crate) fn render_with(
    step: &Step,
    inputs: &ResolvedInputs,
    checkpoint: &Checkpoint,
) -> Result<Value, String> {
    step.with
        .render(&|r| lookup(r, inputs, checkpoint, true))
        .map_err(|e| e.to_string())
}

/// The fingerprint of a step's inputs: its kind and `with`, with secret inputs left
/// unrendered so no secret is derivable from the checkpoint.
pub(crate) fn input_hash(step: &Step, inputs: &ResolvedInputs, checkpoint: &Checkpoint) -> String {
    let rendered = step
        .with
        .render_partial(&|r| lookup(r, inputs, checkpoint, false))
        .to_string();
    let mut hasher = Sha256::new();
    hasher.update(step.kind.as_bytes());
    hasher.update(b"\n");
    hasher.update(rendered.as_bytes());
    hex::encode(hasher.finalize())
}
