//! The end of a run that replaced targets (create before destroy): once every step succeeded,
//! the targets replacements left behind, each kept in its step's record (the `replaced`
//! output) until it is gone, are deleted with their kind's `delete` acting on that old record,
//! dependents first (an old instance before its old group). A delete that fails fails the run
//! and stays recorded, so the next `up` tries it again (its resume token included).
//! [`leftovers`] lists what is still to go, for `down` to show before it deletes.

use std::sync::Arc;
use std::time::Instant;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::{Failure, Steps};
use crate::checkpoint::{Checkpoint, StepRecord};
use crate::context::StepContext;
use crate::errors::EngineError;
use crate::events::{Event, EventSink};
use crate::expand::ExpandedPlan;
use crate::kind::{Outputs, REPLACED_OUTPUT, StepError};
use crate::origin::created_by_step;
use crate::recorder::Recorder;
use crate::redact::Redactor;
use crate::render::render_with;

/// The replaced targets this deployment made that are still to be deleted, per step in run
/// order (newest first within a step): what `up` deletes at its end and `down` first, for a
/// person to see before either does.
pub fn leftovers(plan: &ExpandedPlan, checkpoint: &Checkpoint) -> Vec<(String, Outputs)> {
    let mut found = Vec::new();
    for id in plan.graph().topological_order() {
        let mut next = checkpoint.steps.get(id).and_then(replaced_of);
        while let Some(old) = next {
            next = replaced_of_outputs(Some(&old));
            if created_by_step(&old) == Some(true) {
                found.push((id.clone(), old));
            }
        }
    }
    found
}

/// How retiring the replaced targets went.
#[derive(Debug, Default)]
pub(crate) struct Retired {
    /// Steps whose replaced target was deleted, in the order they went.
    pub deleted: Vec<String>,
    /// The deletes that failed.
    pub failures: Vec<(String, StepError)>,
}

/// Deletes every replaced target recorded in `recorder`'s checkpoint.
pub(crate) async fn retire_replaced(
    steps: Steps<'_>,
    recorder: &Arc<Recorder>,
    events: &Arc<dyn EventSink>,
    cancel: &CancellationToken,
    redactor: &Redactor,
) -> Result<Retired, EngineError> {
    let mut retired = Retired::default();
    let failures = &mut retired.failures;
    let leftovers = recorder
        .read(|c| c.steps.values().any(|r| replaced_of(r).is_some()))
        .await;
    if !leftovers {
        return Ok(retired);
    }
    // The new targets' records are durable before an old target goes.
    recorder.update(|_| {}).await?;
    // Popped from the end: dependents first.
    let mut order = steps.plan.graph().topological_order().to_vec();
    let mut again = Vec::new();
    while let Some(id) = again.pop().or_else(|| order.pop()) {
        let snapshot = recorder.snapshot().await;
        let Some(record) = snapshot.steps.get(&id) else {
            continue;
        };
        let Some(old) = replaced_of(record) else {
            continue;
        };
        let (Some(step), true) = (steps.plan.step(&id), created_by_step(&old) == Some(true)) else {
            recorder.step(&id, StepRecord::retire_replaced).await?;
            continue;
        };
        let Some(kind) = steps.registry.get(&step.kind).cloned() else {
            continue;
        };
        let with = render_with(step, steps.inputs, &snapshot).unwrap_or(Value::Null);
        // (A record `down` is deleting holds that delete's token, not this one's.)
        let token = record
            .resume_token
            .clone()
            .filter(|_| !record.is_deleting());
        events.emit(Event::StepProgress {
            step: id.clone(),
            message: "deleting the target it replaced".to_string(),
        });
        let ctx = StepContext::new(
            id.clone(),
            Some(old),
            recorder.clone(),
            events.clone(),
            cancel.child_token(),
        )
        .with_deployment_id(snapshot.deployment_id.clone())
        .with_retiring(true);
        let started = Instant::now();
        // An earlier replacement's leftover, recorded inside this one, goes next.
        let earlier = replaced_of_outputs(ctx.previous_outputs());
        match kind.delete(&ctx, &with, token.as_ref()).await {
            Ok(()) => {
                retired.deleted.push(id.clone());
                match earlier {
                    None => recorder.step(&id, StepRecord::retire_replaced).await?,
                    Some(earlier) => {
                        recorder
                            .step(&id, |r| r.retire_replaced_by(earlier))
                            .await?;
                        again.push(id);
                    }
                }
            }
            Err(error) => {
                let error = redactor.error(StepError {
                    message: format!(
                        "the new target is in place, but deleting the one it replaced failed: {}",
                        error.message
                    ),
                    ..error
                });
                let failure = Failure {
                    recorder,
                    events: events.as_ref(),
                    failures,
                };
                failure
                    .record(&id, error, started.elapsed(), StepRecord::refuse)
                    .await?;
                // What it depends on (the group around an instance) stays until it is gone.
                break;
            }
        }
    }
    Ok(retired)
}

/// The record of the target a replacement left behind, if the step holds one.
pub(crate) fn replaced_of(record: &StepRecord) -> Option<Outputs> {
    replaced_of_outputs(record.outputs.as_ref())
}

fn replaced_of_outputs(outputs: Option<&Outputs>) -> Option<Outputs> {
    outputs?.get(REPLACED_OUTPUT)?.as_object().cloned()
}
