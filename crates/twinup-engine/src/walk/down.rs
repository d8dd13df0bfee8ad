//! `down` as a configuration of the walk: dependents first; per step delete (twinup created
//! it), keep (it existed before twinup touched it), nothing (not deployed) or blocked (an
//! operation of `up` is in flight). Each delete is recorded before it starts so an
//! interrupted `down` resumes the deletes in flight; every finished step goes back to a fresh
//! `pending` record, so `up` on the same checkpoint deploys again with the saved inputs.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;

use super::{Decision, Direction, Ended, Failure, RunConfig, Steps, Walk, millis, walk};
use crate::checkpoint::{Checkpoint, StepRecord, StepState};
use crate::context::StepContext;
use crate::errors::EngineError;
use crate::events::{Event, EventSink, StepAction};
use crate::expand::ExpandedPlan;
use crate::inputs::ResolvedInputs;
use crate::kind::{StepError, StepErrorKind};
use crate::origin::{created_by_step, found_reason, turned_off_reason};
use crate::recorder::{Recorder, unsaved};
use crate::registry::{KindRegistry, KindSchemas};
use crate::render::render_with;
use crate::session::Session;

/// True if `record` is in the middle of a `down` (its delete started and did not finish).
pub fn delete_in_progress(record: &StepRecord) -> bool {
    record.is_deleting()
}

/// The steps of `checkpoint` whose delete started and did not finish.
pub fn unfinished_deletes(checkpoint: &Checkpoint) -> Vec<String> {
    checkpoint
        .steps
        .iter()
        .filter(|(_, r)| r.is_deleting())
        .map(|(id, _)| id.clone())
        .collect()
}

/// What `down` does (or did) with one step.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Disposal {
    /// Twinup created it: delete it.
    Delete,
    /// It existed before twinup touched it: keep it.
    Keep { reason: String },
    /// Nothing recorded as deployed.
    Nothing,
    /// Cannot be handled by `down` as things stand.
    Blocked { reason: String },
}

/// The plan of a `down`: every step (dependents first) and what happens to it. `registry`
/// says which kinds make nothing (see [`crate::KindSchema::makes_nothing`]); it need not be
/// connected.
pub fn disposals(
    plan: &ExpandedPlan,
    checkpoint: &Checkpoint,
    registry: &KindSchemas,
) -> Vec<(String, Disposal)> {
    let mut order: Vec<String> = plan.graph().topological_order().to_vec();
    order.reverse();
    order
        .into_iter()
        .map(|id| {
            let makes_nothing = plan
                .step(&id)
                .and_then(|s| registry.schema(&s.kind))
                .is_some_and(|k| k.makes_nothing());
            let d = match checkpoint.steps.get(&id) {
                None => Disposal::Nothing,
                Some(r) => disposal_of(r, makes_nothing),
            };
            (id, d)
        })
        .collect()
}

/// What `down` does with `record`; `makes_nothing` for a kind that leaves nothing behind, so
/// a step of it that stopped before recording outputs has nothing to keep or check.
fn disposal_of(record: &StepRecord, makes_nothing: bool) -> Disposal {
    if record.is_deleting() {
        return Disposal::Delete;
    }
    match record.state {
        StepState::Pending => Disposal::Nothing,
        StepState::Running if record.resume_token.is_some() => Disposal::Blocked {
            reason: "an operation of `twinup up` is still in flight; run `twinup up` to finish it, then `twinup down`".into(),
        },
        StepState::Succeeded
            if record
                .outputs
                .as_ref()
                .and_then(turned_off_reason)
                .is_some() =>
        {
            // (What it made before it was turned off, if not deleted yet, is a leftover: see
            // [`crate::leftovers`].)
            Disposal::Nothing
        }
        StepState::Succeeded | StepState::Running | StepState::Failed => {
            match record.outputs.as_ref().map(created_by_step) {
                Some(Some(true)) => Disposal::Delete,
                Some(Some(false)) => Disposal::Keep {
                    reason: match record.outputs.as_ref().and_then(found_reason) {
                        Some(why) => format!("it existed before twinup; kept ({why})"),
                        None => "it existed before twinup; kept".into(),
                    },
                },
                Some(None) => Disposal::Keep {
                    reason: "the checkpoint does not say whether twinup created it (written by an older twinup); kept, delete it by hand if you want it gone".into(),
                },
                None if record.state == StepState::Succeeded || makes_nothing => {
                    Disposal::Nothing
                }
                None => Disposal::Keep {
                    reason: format!(
                        "the step {} before it finished, so twinup does not know what it made; check and delete by hand",
                        if record.state == StepState::Failed { "failed" } else { "stopped" }
                    ),
                },
            }
        }
    }
}

/// How a `down` ended.
#[derive(Debug, Clone, Default)]
pub struct DestroyReport {
    /// Steps deleted in this run, in the order they finished.
    pub deleted: Vec<String>,
    /// Steps kept, with why.
    pub kept: Vec<(String, String)>,
    /// Steps whose replaced targets (see [`crate::leftovers`]) were deleted in this run, in
    /// the order they went.
    pub retired: Vec<String>,
    /// Steps whose delete failed (or was blocked), with why.
    pub failures: Vec<(String, StepError)>,
    /// True when the run was interrupted.
    pub interrupted: bool,
}

/// Deletes what the checkpoint in `session` says its steps created. `inputs` render the steps'
/// `with` (use [`crate::saved_inputs`]). Every finished step, deleted or kept, goes back to
/// `pending`, so a later `up` creates everything again from the same checkpoint.
pub async fn destroy(
    session: &mut Session,
    steps: Steps<'_>,
    config: &RunConfig,
) -> Result<DestroyReport, EngineError> {
    let snapshot = session.checkpoint.clone();
    let events = crate::redact::redacting(config.events.clone(), steps.inputs);
    let todo: HashMap<String, Disposal> = disposals(steps.plan, &snapshot, steps.registry)
        .into_iter()
        .collect();
    let recorder = Arc::new(Recorder::saving(session.store.clone(), snapshot.clone()));
    // What an unfinished replacement left behind goes first (it may live in what follows).
    let redactor = crate::redact::Redactor::new(steps.inputs);
    let retired =
        super::retire::retire_replaced(steps, &recorder, &events, &config.cancel, &redactor)
            .await?;
    if !retired.failures.is_empty() {
        session.checkpoint = recorder.snapshot().await;
        return Ok(DestroyReport {
            retired: retired.deleted,
            failures: retired.failures,
            ..DestroyReport::default()
        });
    }
    let snapshot = recorder.snapshot().await;
    let mut down = Down {
        plan: steps.plan,
        registry: steps.registry,
        inputs: steps.inputs,
        snapshot,
        todo,
        recorder: recorder.clone(),
        events: events.clone(),
        config,
        redactor,
        report: DestroyReport {
            retired: retired.deleted,
            ..DestroyReport::default()
        },
    };
    let walked = walk(
        steps.plan,
        Direction::DependentsFirst,
        config.parallelism,
        &config.cancel,
        events.as_ref(),
        &mut down,
    )
    .await?;
    let mut report = down.report;
    if config.cancel.is_cancelled() {
        report.interrupted = true;
    }
    session.checkpoint = recorder
        .update(|c| {
            if walked.all_done {
                c.outputs = serde_json::Map::new();
                c.last_run = None;
            }
        })
        .await?;
    Ok(report)
}

/// The state of one `down` walk.
struct Down<'a> {
    plan: &'a ExpandedPlan,
    registry: &'a KindRegistry,
    inputs: &'a ResolvedInputs,
    /// The checkpoint as `down` found it: what each step made.
    snapshot: Checkpoint,
    todo: HashMap<String, Disposal>,
    recorder: Arc<Recorder>,
    events: Arc<dyn EventSink>,
    config: &'a RunConfig,
    /// Takes secret inputs' values out of step errors.
    redactor: crate::redact::Redactor,
    report: DestroyReport,
}

#[async_trait]
impl Walk for Down<'_> {
    type Output = ();

    async fn decide(&mut self, id: &str, slot_free: bool) -> Result<Decision<()>, EngineError> {
        let Some(step) = self.plan.step(id) else {
            return Ok(Decision::Settled);
        };
        match self.todo.get(id).cloned().unwrap_or(Disposal::Nothing) {
            Disposal::Nothing => {
                self.recorder.step(id, StepRecord::reset).await?;
                return Ok(Decision::Settled);
            }
            Disposal::Keep { reason } => {
                self.events.emit(Event::StepProgress {
                    step: id.to_string(),
                    message: format!("kept: {reason}"),
                });
                self.recorder.step(id, StepRecord::reset).await?;
                self.report.kept.push((id.to_string(), reason));
                return Ok(Decision::Settled);
            }
            Disposal::Blocked { reason } => {
                return Ok(Decision::Fail(StepError::rejected(reason)));
            }
            Disposal::Delete => {}
        }
        if !slot_free {
            return Ok(Decision::NeedsSlot);
        }
        let record = self.snapshot.steps.get(id).cloned();
        let token = record.as_ref().and_then(StepRecord::delete_token);
        let Some(kind) = self.registry.get(&step.kind).cloned() else {
            return Ok(Decision::Fail(StepError::rejected(format!(
                "unknown step kind `{}`",
                step.kind
            ))));
        };
        let with = match render_with(step, self.inputs, &self.snapshot) {
            Ok(with) => with,
            Err(message) => {
                return Ok(Decision::Fail(
                    StepError::rejected(format!("cannot tell what to delete: {message}"))
                        .with_help(
                            "secret inputs are not saved: pass them with --set or TWINUP_<NAME>",
                        ),
                ));
            }
        };
        // Written by the step's task before the delete begins, together with other starts.
        let started = self.recorder.stage(id, StepRecord::start_delete).await;
        self.events.emit(Event::StepStarted {
            step: id.to_string(),
            kind: step.kind.clone(),
            action: StepAction::Delete,
        });
        let ctx = StepContext::new(
            id.to_string(),
            record.and_then(|r| r.outputs),
            self.recorder.clone(),
            self.events.clone(),
            self.config.cancel.child_token(),
        )
        .with_deployment_id(self.snapshot.deployment_id.clone());
        let recorder = self.recorder.clone();
        Ok(Decision::Start {
            work: Box::pin(ctx.clone().scope(async move {
                recorder.flush(started).await.map_err(unsaved)?;
                kind.delete(&ctx, &with, token.as_ref()).await
            })),
            timeout: step.timeout.unwrap_or(self.config.default_timeout),
            timed_out: StepError {
                kind: StepErrorKind::TimedOut,
                code: None,
                message: "the delete did not finish within the step's timeout".into(),
                help: Some("run `twinup down` again to keep waiting".into()),
            },
        })
    }

    async fn finish(&mut self, id: &str, ended: Ended<()>) -> Result<bool, EngineError> {
        let Ended { result, elapsed } = ended;
        match result {
            Ok(()) => {
                // Queued, not awaited (as `up` records a success): the steps it unblocks
                // flush their own start first, and the walk's last save holds it.
                let _queued = self.recorder.stage(id, StepRecord::reset).await;
                self.report.deleted.push(id.to_string());
                self.events.emit(Event::StepSucceeded {
                    step: id.to_string(),
                    outputs: Default::default(),
                    elapsed_ms: millis(elapsed),
                });
            }
            Err(error) => {
                let error = self.redactor.error(error);
                if error.kind == StepErrorKind::Interrupted {
                    self.report.interrupted = true;
                }
                // A blocked step is left as `up` left it, for `up` to finish.
                let transition = match self.todo.get(id) {
                    Some(Disposal::Blocked { .. }) => StepRecord::refuse,
                    _ => StepRecord::fail,
                };
                let failure = Failure {
                    recorder: &self.recorder,
                    events: self.events.as_ref(),
                    failures: &mut self.report.failures,
                };
                return failure.record(id, error, elapsed, transition).await;
            }
        }
        Ok(true)
    }
}
