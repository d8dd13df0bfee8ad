//! What a step's record says is still to be deleted once `up` has run it: the `replaced`
//! chain (the targets its replacements left behind, newest first, each record holding the
//! one before it). A leftover the step's `with` names again (turned back on, or changed back
//! before the old target went) leaves the chain, so the run's end does not delete what the
//! step now uses, and the step owns it again ([`crate::StepContext::reclaims`]). Entry point:
//! [`leftovers_after`], called by `up` before a step runs.

use std::sync::Arc;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::context::{ReadOnly, StepContext};
use crate::events::NoEvents;
use crate::kind::{Outputs, REPLACED_OUTPUT, StepKind};
use crate::origin::created_by_step;

/// The chain to record with the step's new outputs, and whether a leftover in it is the
/// step's target again.
#[derive(Debug, Default)]
pub(crate) struct Leftovers {
    /// The `replaced` output to record (`None`: nothing left to delete).
    pub chain: Option<Outputs>,
    /// A leftover this deployment made is what the step's `with` names again.
    pub reclaimed: bool,
}

/// What is left to delete after the step runs `with`. `record`: its recorded outputs;
/// `replacing`: `up` replaces the recorded target, which then heads the chain.
pub(crate) fn leftovers_after(
    kind: &dyn StepKind,
    step_id: &str,
    deployment_id: Option<&str>,
    record: Option<&Outputs>,
    replacing: bool,
    with: &Value,
) -> Leftovers {
    let mut reclaimed = false;
    let mut names_again = |old: &Outputs| {
        let ctx = StepContext::new(
            step_id.to_string(),
            Some(old.clone()),
            Arc::new(ReadOnly::new("while a replaced target was compared")),
            Arc::new(NoEvents),
            CancellationToken::new(),
        )
        .with_deployment_id(deployment_id.map(str::to_string));
        let again = created_by_step(old) == Some(true) && kind.replacement(&ctx, with).is_none();
        reclaimed |= again;
        again
    };
    let earlier = record
        .and_then(|r| r.get(REPLACED_OUTPUT))
        .and_then(Value::as_object)
        .cloned()
        .and_then(|old| trimmed(old, &mut names_again));
    let chain = match (replacing, record) {
        (true, Some(head)) => {
            let mut head = head.clone();
            head.remove(REPLACED_OUTPUT);
            if let Some(earlier) = earlier {
                head.insert(REPLACED_OUTPUT.to_string(), Value::Object(earlier));
            }
            Some(head)
        }
        _ => earlier,
    };
    Leftovers { chain, reclaimed }
}

/// `old` and the leftovers recorded inside it, without those `names_again` says the step
/// uses again.
fn trimmed(mut old: Outputs, names_again: &mut dyn FnMut(&Outputs) -> bool) -> Option<Outputs> {
    let inner = old
        .remove(REPLACED_OUTPUT)
        .and_then(|v| v.as_object().cloned())
        .and_then(|inner| trimmed(inner, names_again));
    if names_again(&old) {
        return inner;
    }
    if let Some(inner) = inner {
        old.insert(REPLACED_OUTPUT.to_string(), Value::Object(inner));
    }
    Some(old)
}
