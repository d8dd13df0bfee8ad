//! Preflight: before the first write, asks every step that will run whether it can succeed
//! (permissions, name availability, ...). Reads only; all steps are asked at once and every
//! problem is reported together. Steps may also ask for confirmation of a change
//! ([`StepContext::ask_confirmation`]); those requests are returned for `up` to confirm.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::checkpoint::Checkpoint;
use crate::context::{ReadOnly, StepContext};
use crate::events::EventSink;
use crate::expand::ExpandedPlan;
use crate::inputs::ResolvedInputs;
use crate::kind::StepError;
use crate::registry::KindRegistry;
use crate::render::{input_hash, lookup};

/// Runs the preflight of every step that is not already done with unchanged inputs.
/// `with` blocks are rendered with inputs and the outputs of steps done earlier; references to
/// outputs not known yet stay as `${...}` text. On success, returns the confirmations the steps
/// asked for, as `(step id, what to confirm)` in plan order.
pub async fn preflight(
    plan: &ExpandedPlan,
    registry: &KindRegistry,
    inputs: &ResolvedInputs,
    checkpoint: &Checkpoint,
    events: Arc<dyn EventSink>,
) -> Result<Vec<(String, String)>, Vec<(String, StepError)>> {
    let events = crate::redact::redacting(events, inputs);
    let redactor = crate::redact::Redactor::new(inputs);
    let mut checks = Vec::new();
    let mut asked = Vec::new();
    for step in &plan.steps {
        let done = checkpoint
            .steps
            .get(&step.id)
            .is_some_and(|r| r.is_current(&input_hash(step, inputs, checkpoint)));
        if done {
            continue;
        }
        let Some(kind) = registry.get(&step.kind).cloned() else {
            continue;
        };
        let with = crate::unknown::draft(&step.with, &|r| lookup(r, inputs, checkpoint, true));
        let record = checkpoint.steps.get(&step.id);
        let ctx = StepContext::new(
            step.id.clone(),
            record.and_then(|r| r.outputs.clone()),
            Arc::new(ReadOnly::new("during preflight, which only reads")),
            events.clone(),
            CancellationToken::new(),
        )
        .with_creating(record.is_some_and(|r| r.creating))
        .with_deployment_id(checkpoint.deployment_id.clone());
        let confirmations = crate::context::Confirmations::default();
        let ctx = ctx.with_confirmations(confirmations.clone());
        asked.push((step.id.clone(), confirmations));
        let id = step.id.clone();
        checks.push(async move {
            let result = kind.preflight(&ctx, &with).await;
            (id, result)
        });
    }
    let failures: Vec<(String, StepError)> = futures_join_all(checks)
        .await
        .into_iter()
        .filter_map(|(id, r)| r.err().map(|e| (id, redactor.error(e))))
        .collect();
    if failures.is_empty() {
        let mut confirm = Vec::new();
        for (id, list) in asked {
            let list = list.lock().map(|l| l.clone()).unwrap_or_default();
            confirm.extend(
                list.into_iter()
                    .map(|what| (id.clone(), redactor.text(&what))),
            );
        }
        Ok(confirm)
    } else {
        Err(failures)
    }
}

/// Awaits all futures concurrently, keeping their order.
async fn futures_join_all<F, T>(futures: Vec<F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for (i, f) in futures.into_iter().enumerate() {
        set.spawn(async move { (i, f.await) });
    }
    let mut out: Vec<(usize, T)> = Vec::new();
    while let Some(joined) = set.join_next().await {
        if let Ok(pair) = joined {
            out.push(pair);
        }
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, t)| t).collect()
}
