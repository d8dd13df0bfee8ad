//! `down`: deletes what a checkpoint's steps created, dependents before what they depend on,
//! independent steps at once (bounded), each delete recorded in the checkpoint before it
//! starts so an interrupted `down` resumes the deletes in flight. A step whose outputs say it
//! found its target already there (`created: false`) is kept, never deleted.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio::task::JoinSet;
use twinup_plan::Plan;

use crate::checkpoint::{Checkpoint, CheckpointStore, StepRecord, StepState};
use crate::context::{StepContext, TokenRecorder};
use crate::errors::EngineError;
use crate::events::{Event, EventSink, StepAction};
use crate::executor::RunConfig;
use crate::inputs::ResolvedInputs;
use crate::kind::{StepError, StepErrorKind, created_by_step};
use crate::registry::KindRegistry;
use crate::render::render_with;
use crate::session::Session;

/// The key of the resume token that marks a step whose delete has started.
const DELETE_MARK: &str = "twinup_delete";

/// True if `record` is in the middle of a `down` (its delete started and did not finish).
pub fn delete_in_progress(record: &StepRecord) -> bool {
    record
        .resume_token
        .as_ref()
        .is_some_and(|t| t.get(DELETE_MARK).is_some())
}

/// The steps of `checkpoint` whose delete started and did not finish.
pub fn unfinished_deletes(checkpoint: &Checkpoint) -> Vec<String> {
    checkpoint
        .steps
        .iter()
        .filter(|(_, r)| delete_in_progress(r))
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

/// The plan of a `down`: every step (dependents first) and what happens to it.
pub fn disposals(plan: &Plan, checkpoint: &Checkpoint) -> Vec<(String, Disposal)> {
    let mut order: Vec<String> = plan.graph().topological_order().to_vec();
    order.reverse();
    order
        .into_iter()
        .map(|id| {
            let d = match checkpoint.steps.get(&id) {
                None => Disposal::Nothing,
                Some(r) => disposal_of(r),
            };
            (id, d)
        })
        .collect()
}

fn disposal_of(record: &StepRecord) -> Disposal {
    if delete_in_progress(record) {
        return Disposal::Delete;
    }
    match record.state {
        StepState::Pending => Disposal::Nothing,
        StepState::Running if record.resume_token.is_some() => Disposal::Blocked {
            reason: "an operation of `twinup up` is still in flight; run `twinup up` to finish it, then `twinup down`".into(),
        },
        StepState::Succeeded | StepState::Running | StepState::Failed => {
            match record.outputs.as_ref().map(created_by_step) {
                Some(Some(true)) => Disposal::Delete,
                Some(Some(false)) => Disposal::Keep {
                    reason: match record.outputs.as_ref().and_then(crate::kind::found_reason) {
                        Some(why) => format!("it existed before twinup; kept ({why})"),
                        None => "it existed before twinup; kept".into(),
                    },
                },
                Some(None) => Disposal::Keep {
                    reason: "the checkpoint does not say whether twinup created it (written by an older twinup); kept, delete it by hand if you want it gone".into(),
                },
                None if record.state == StepState::Succeeded => Disposal::Nothing,
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
    /// Steps whose delete failed (or was blocked), with why.
    pub failures: Vec<(String, StepError)>,
    /// True when the run was interrupted.
    pub interrupted: bool,
}

struct Recorder {
    store: Arc<dyn CheckpointStore>,
    checkpoint: Mutex<Checkpoint>,
}

impl Recorder {
    async fn update(&self, change: impl FnOnce(&mut Checkpoint)) -> Result<(), EngineError> {
        let mut checkpoint = self.checkpoint.lock().await;
        change(&mut checkpoint);
        checkpoint.updated_at = Utc::now();
        self.store.save(&checkpoint).await?;
        Ok(())
    }
}

#[async_trait]
impl TokenRecorder for Recorder {
    async fn record_token(&self, step_id: &str, token: Value) -> Result<(), StepError> {
        self.update(|c| {
            if let Some(r) = c.steps.get_mut(step_id) {
                r.resume_token = Some(json!({ DELETE_MARK: token }));
            }
        })
        .await
        .map_err(|e| StepError::failed(format!("cannot save progress to the checkpoint: {e}")))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Waiting,
    Running,
    Done,
    Failed,
}

/// Deletes what the checkpoint in `session` says its steps created. `inputs` render the steps'
/// `with` (use [`crate::saved_inputs`]). Every finished step, deleted or kept, goes back to
/// `pending`, so a later `up` creates everything again from the same checkpoint.
pub async fn destroy(
    session: &mut Session,
    plan: &Plan,
    registry: &KindRegistry,
    inputs: &ResolvedInputs,
    events: Arc<dyn EventSink>,
    config: &RunConfig,
) -> Result<DestroyReport, EngineError> {
    let snapshot = session.checkpoint.clone();
    let events = crate::redact::redacting(events, inputs);
    let redactor = crate::redact::Redactor::new(inputs);
    let plan_steps = disposals(plan, &snapshot);
    let recorder = Arc::new(Recorder {
        store: session.store.clone(),
        checkpoint: Mutex::new(snapshot.clone()),
    });
    let mut report = DestroyReport::default();
    let mut phase: HashMap<String, Phase> = HashMap::new();
    let mut todo: HashMap<String, Disposal> = HashMap::new();
    for (id, d) in &plan_steps {
        phase.insert(id.clone(), Phase::Waiting);
        todo.insert(id.clone(), d.clone());
    }
    let order: Vec<String> = plan_steps.iter().map(|(id, _)| id.clone()).collect();
    let mut tasks: JoinSet<(String, Result<(), StepError>, Duration)> = JoinSet::new();
    let parallelism = config.parallelism.max(1);
    let mut stop = false;

    loop {
        if !stop && !config.cancel.is_cancelled() {
            for id in &order {
                if phase[id] != Phase::Waiting {
                    continue;
                }
                // Dependents go first: wait until every step that depends on this one is done.
                let dependents_done = plan
                    .graph()
                    .dependents(id)
                    .iter()
                    .all(|d| phase.get(d) == Some(&Phase::Done));
                if !dependents_done {
                    continue;
                }
                let Some(step) = plan.step(id) else { continue };
                match todo[id].clone() {
                    Disposal::Nothing => {
                        reset(&recorder, id, &step.kind).await?;
                        phase.insert(id.clone(), Phase::Done);
                        continue;
                    }
                    Disposal::Keep { reason } => {
                        events.emit(Event::StepProgress {
                            step: id.clone(),
                            message: format!("kept: {reason}"),
                        });
                        reset(&recorder, id, &step.kind).await?;
                        report.kept.push((id.clone(), reason));
                        phase.insert(id.clone(), Phase::Done);
                        continue;
                    }
                    Disposal::Blocked { reason } => {
                        let error = StepError::rejected(reason);
                        report.failures.push((id.clone(), error.clone()));
                        events.emit(Event::StepFailed {
                            step: id.clone(),
                            error,
                            elapsed_ms: 0,
                        });
                        phase.insert(id.clone(), Phase::Failed);
                        stop = true;
                        break;
                    }
                    Disposal::Delete => {}
                }
                if tasks.len() >= parallelism {
                    continue;
                }
                let record = snapshot.steps.get(id).cloned();
                let token = record
                    .as_ref()
                    .and_then(|r| r.resume_token.as_ref())
                    .and_then(|t| t.get(DELETE_MARK))
                    .filter(|t| !t.is_null())
                    .cloned();
                let Some(kind) = registry.get(&step.kind).cloned() else {
                    let error = StepError::rejected(format!("unknown step kind `{}`", step.kind));
                    report.failures.push((id.clone(), error));
                    phase.insert(id.clone(), Phase::Failed);
                    stop = true;
                    break;
                };
                let with = match render_with(step, inputs, &snapshot) {
                    Ok(with) => with,
                    Err(message) => {
                        let error = StepError::rejected(format!(
                            "cannot tell what to delete: {message}"
                        ))
                        .with_help(
                            "secret inputs are not saved: pass them with --set or TWINUP_<NAME>",
                        );
                        fail(&recorder, &events, id, error.clone(), Duration::ZERO).await?;
                        report.failures.push((id.clone(), error));
                        phase.insert(id.clone(), Phase::Failed);
                        stop = true;
                        break;
                    }
                };
                recorder
                    .update(|c| {
                        if let Some(r) = c.steps.get_mut(id) {
                            r.state = StepState::Running;
                            r.error = None;
                            r.started_at = Some(Utc::now());
                            r.finished_at = None;
                            if !delete_in_progress(r) {
                                r.resume_token = Some(json!({ DELETE_MARK: null }));
                            }
                        }
                    })
                    .await?;
                events.emit(Event::StepStarted {
                    step: id.clone(),
                    kind: step.kind.clone(),
                    action: StepAction::Delete,
                });
                let ctx = StepContext::new(
                    id.clone(),
                    record.and_then(|r| r.outputs),
                    recorder.clone(),
                    events.clone(),
                    config.cancel.child_token(),
                )
                .with_deployment_id(snapshot.deployment_id.clone());
                let step_id = id.clone();
                let timeout = step.timeout.unwrap_or(config.default_timeout);
                tasks.spawn(async move {
                    let started = Instant::now();
                    let work = kind.delete(&ctx, &with, token.as_ref());
                    let result = match tokio::time::timeout(timeout, work).await {
                        Ok(r) => r,
                        Err(_) => Err(StepError {
                            kind: StepErrorKind::TimedOut,
                            code: None,
                            message: "the delete did not finish within the step's timeout".into(),
                            help: Some("run `twinup down` again to keep waiting".into()),
                        }),
                    };
                    (step_id, result, started.elapsed())
                });
                phase.insert(id.clone(), Phase::Running);
            }
        }
        if tasks.is_empty() {
            break;
        }
        let joined = tokio::select! {
            joined = tasks.join_next() => joined,
            _ = config.cancel.cancelled(), if !stop => {
                stop = true;
                continue;
            }
        };
        let Some(joined) = joined else { break };
        let Ok((id, result, elapsed)) = joined else {
            stop = true;
            report
                .failures
                .push(("<unknown>".into(), StepError::failed("a delete crashed")));
            continue;
        };
        match result {
            Ok(()) => {
                let kind = plan.step(&id).map(|s| s.kind.clone()).unwrap_or_default();
                reset(&recorder, &id, &kind).await?;
                phase.insert(id.clone(), Phase::Done);
                report.deleted.push(id.clone());
                events.emit(Event::StepSucceeded {
                    step: id,
                    outputs: Default::default(),
                    elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
                });
            }
            Err(error) => {
                let error = redactor.error(error);
                if error.kind == StepErrorKind::Interrupted {
                    report.interrupted = true;
                }
                fail(&recorder, &events, &id, error.clone(), elapsed).await?;
                phase.insert(id.clone(), Phase::Failed);
                report.failures.push((id, error));
                stop = true;
            }
        }
    }
    if config.cancel.is_cancelled() {
        report.interrupted = true;
    }
    for id in &order {
        if phase[id] == Phase::Waiting {
            events.emit(Event::StepNotStarted { step: id.clone() });
        }
    }
    let all_done = phase.values().all(|p| *p == Phase::Done);
    recorder
        .update(|c| {
            if all_done {
                c.outputs = serde_json::Map::new();
                c.last_run = None;
            }
        })
        .await?;
    session.checkpoint = recorder.checkpoint.lock().await.clone();
    Ok(report)
}

/// Puts a step back to `pending`: nothing of it is deployed any more.
async fn reset(recorder: &Recorder, id: &str, kind: &str) -> Result<(), EngineError> {
    recorder
        .update(|c| {
            if let Some(r) = c.steps.get_mut(id) {
                *r = StepRecord::pending(kind);
            }
        })
        .await
}

async fn fail(
    recorder: &Recorder,
    events: &Arc<dyn EventSink>,
    id: &str,
    error: StepError,
    elapsed: Duration,
) -> Result<(), EngineError> {
    recorder
        .update(|c| {
            if let Some(r) = c.steps.get_mut(id) {
                r.state = StepState::Failed;
                r.error = Some(error.clone());
                r.finished_at = Some(Utc::now());
            }
        })
        .await?;
    events.emit(Event::StepFailed {
        step: id.to_string(),
        error,
        elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
    });
    Ok(())
}
