//! The executor: runs a plan's steps in dependency order, independent ones at once (bounded),
//! recording every state change in the checkpoint before moving on. When a step fails, running
//! siblings finish and are recorded and nothing new starts; on interruption the same happens
//! and in-flight steps keep their resume tokens.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use serde_json::Value;
use tokio::sync::Mutex;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use twinup_plan::Plan;

use crate::checkpoint::{Checkpoint, CheckpointStore, RunRecord, RunStatus, StepRecord, StepState};
use crate::context::{StepContext, TokenRecorder};
use crate::errors::EngineError;
use crate::events::{Event, EventSink, StepAction};
use crate::inputs::ResolvedInputs;
use crate::kind::{Outputs, StepError, StepErrorKind};
use crate::registry::KindRegistry;
use crate::render::{input_hash, lookup, render_with};
use crate::session::Session;

/// The default time a step may take before it is stopped (its resume token is kept).
pub const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// How to run.
#[derive(Clone)]
pub struct RunConfig {
    /// At most this many steps run at once (at least 1).
    pub parallelism: usize,
    /// Timeout for steps whose plan entry sets none.
    pub default_timeout: Duration,
    /// Cancelled on Ctrl-C: no new step starts; running ones are asked to stop waiting.
    pub cancel: CancellationToken,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            parallelism: 4,
            default_timeout: DEFAULT_STEP_TIMEOUT,
            cancel: CancellationToken::new(),
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Succeeded, failed or interrupted.
    pub status: RunStatus,
    /// True when every step was already done with unchanged inputs.
    pub nothing_to_do: bool,
    /// The plan's outputs (when the run succeeded), secret ones included: show them through
    /// [`crate::mask_outputs`] with `secret_outputs`.
    pub outputs: serde_json::Map<String, Value>,
    /// The outputs that are secret: declared `secret: true`, or holding a secret input's value.
    pub secret_outputs: Vec<String>,
    /// Steps that ran in this run, in the order they finished.
    pub ran: Vec<String>,
    /// Steps that failed, with why.
    pub failures: Vec<(String, StepError)>,
}

/// The checkpoint shared by the running steps; every change is saved before it is reported.
struct Recorder {
    store: Arc<dyn CheckpointStore>,
    checkpoint: Mutex<Checkpoint>,
}

impl Recorder {
    async fn update(
        &self,
        change: impl FnOnce(&mut Checkpoint),
    ) -> Result<Checkpoint, EngineError> {
        let mut checkpoint = self.checkpoint.lock().await;
        change(&mut checkpoint);
        checkpoint.updated_at = Utc::now();
        self.store.save(&checkpoint).await?;
        Ok(checkpoint.clone())
    }

    async fn snapshot(&self) -> Checkpoint {
        self.checkpoint.lock().await.clone()
    }
}

#[async_trait]
impl TokenRecorder for Recorder {
    async fn record_token(&self, step_id: &str, token: Value) -> Result<(), StepError> {
        self.update(|c| {
            if let Some(record) = c.steps.get_mut(step_id) {
                record.resume_token = Some(token);
            }
        })
        .await
        .map_err(|e| StepError::failed(format!("cannot save progress to the checkpoint: {e}")))?;
        crate::checkpoint::test_hooks::token_saved(step_id);
        Ok(())
    }

    async fn record_creating(&self, step_id: &str) -> Result<(), StepError> {
        self.update(|c| {
            if let Some(record) = c.steps.get_mut(step_id) {
                record.creating = true;
            }
        })
        .await
        .map(|_| ())
        .map_err(|e| StepError::failed(format!("cannot save progress to the checkpoint: {e}")))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Waiting,
    Running,
    Done,
    Failed,
}

/// Runs `plan` in `session` with `inputs`. The plan and inputs must already be validated.
pub async fn run(
    session: &mut Session,
    plan: &Plan,
    registry: &KindRegistry,
    inputs: &ResolvedInputs,
    events: Arc<dyn EventSink>,
    config: &RunConfig,
) -> Result<RunReport, EngineError> {
    let expanded = crate::expand::expand_plan(plan, inputs)?;
    let plan: &Plan = &expanded;
    let events = crate::redact::redacting(events, inputs);
    let redactor = crate::redact::Redactor::new(inputs);
    let mut start = session.checkpoint.clone();
    if start.deployment_id.is_none() {
        start.deployment_id = crate::deployment::planned_id(plan, inputs, &start);
    }
    let deployment_id = start.deployment_id.clone();
    start.plan.hash = plan.hash();
    start.inputs = inputs.non_secret();
    for step in &plan.steps {
        start
            .steps
            .entry(step.id.clone())
            .or_insert_with(|| StepRecord::pending(&step.kind));
    }
    start.last_run = Some(RunRecord {
        started_at: Utc::now(),
        finished_at: None,
        status: RunStatus::Running,
    });
    let recorder = Arc::new(Recorder {
        store: session.store.clone(),
        checkpoint: Mutex::new(start),
    });
    recorder.update(|_| {}).await?;

    let order: Vec<String> = plan.graph().topological_order().to_vec();
    let mut phase: HashMap<String, Phase> = order
        .iter()
        .map(|id| (id.clone(), Phase::Waiting))
        .collect();
    let mut tasks: JoinSet<(String, Result<Outputs, StepError>, Duration)> = JoinSet::new();
    let mut stop = false;
    let mut report = RunReport {
        status: RunStatus::Running,
        nothing_to_do: false,
        outputs: serde_json::Map::new(),
        secret_outputs: Vec::new(),
        ran: Vec::new(),
        failures: Vec::new(),
    };
    let mut skipped = Vec::new();
    let parallelism = config.parallelism.max(1);
    let mut announced = false;
    // Steps found ready and not skippable that wait for a free slot: a pass over a large plan
    // (a fleet) at full parallelism then costs no snapshot and no rendering.
    let mut must_run: HashSet<String> = HashSet::new();

    loop {
        if !stop && !config.cancel.is_cancelled() {
            let mut running = tasks.len();
            // One snapshot per pass: the steps started in this pass change only their own records.
            let mut pass_snapshot: Option<Checkpoint> = None;
            for id in &order {
                if phase[id] != Phase::Waiting {
                    continue;
                }
                if running >= parallelism && must_run.contains(id) {
                    continue;
                }
                let deps_done = plan
                    .graph()
                    .dependencies(id)
                    .iter()
                    .all(|d| phase.get(d) == Some(&Phase::Done));
                if !deps_done {
                    continue;
                }
                let Some(step) = plan.step(id) else { continue };
                if pass_snapshot.is_none() {
                    pass_snapshot = Some(recorder.snapshot().await);
                }
                let Some(snapshot) = pass_snapshot.as_ref() else {
                    continue;
                };
                let hash = input_hash(step, inputs, snapshot);
                let record = snapshot.steps.get(id).cloned();
                let unchanged = record.as_ref().is_some_and(|r| {
                    r.state == StepState::Succeeded && r.input_hash.as_deref() == Some(&hash)
                });
                if unchanged {
                    phase.insert(id.clone(), Phase::Done);
                    skipped.push(id.clone());
                    events.emit(Event::StepSkipped { step: id.clone() });
                    continue;
                }
                if running >= parallelism {
                    must_run.insert(id.clone());
                    continue;
                }
                if !announced {
                    announced = true;
                    events.emit(Event::RunStarted {
                        to_run: order
                            .iter()
                            .filter(|s| !skipped.contains(s))
                            .cloned()
                            .collect(),
                        unchanged: skipped.clone(),
                    });
                }
                let action = choose_action(record.as_ref(), &hash);
                // Validation guarantees a known kind; treat a gap as a failure, not a panic.
                let prepared = registry
                    .get(&step.kind)
                    .cloned()
                    .ok_or_else(|| format!("unknown step kind `{}`", step.kind))
                    .and_then(|kind| Ok((kind, render_with(step, inputs, snapshot)?)));
                let (kind, with) = match prepared {
                    Ok(prepared) => prepared,
                    Err(message) => {
                        let error = StepError::rejected(redactor.text(&message));
                        fail_step(&recorder, &events, id, error.clone(), Duration::ZERO).await?;
                        phase.insert(id.clone(), Phase::Failed);
                        report.failures.push((id.clone(), error));
                        stop = true;
                        break;
                    }
                };
                let previous_outputs = record.as_ref().and_then(|r| r.outputs.clone());
                let token = match action {
                    StepAction::Resume => record.as_ref().and_then(|r| r.resume_token.clone()),
                    _ => None,
                };
                recorder
                    .update(|c| {
                        let r = c
                            .steps
                            .entry(id.clone())
                            .or_insert_with(|| StepRecord::pending(&step.kind));
                        r.kind = step.kind.clone();
                        r.state = StepState::Running;
                        r.input_hash = Some(hash.clone());
                        r.error = None;
                        r.started_at = Some(Utc::now());
                        r.finished_at = None;
                        r.attempts += 1;
                        if action != StepAction::Resume {
                            r.resume_token = None;
                        }
                    })
                    .await?;
                events.emit(Event::StepStarted {
                    step: id.clone(),
                    kind: step.kind.clone(),
                    action,
                });
                let was_creating = record.as_ref().is_some_and(|r| r.creating);
                let ctx = StepContext::new(
                    id.clone(),
                    previous_outputs,
                    recorder.clone(),
                    events.clone(),
                    config.cancel.child_token(),
                )
                .with_creating(was_creating)
                .with_deployment_id(deployment_id.clone());
                let timeout = step.timeout.unwrap_or(config.default_timeout);
                let step_id = id.clone();
                tasks.spawn(async move {
                    let started = Instant::now();
                    let work = async {
                        match &token {
                            Some(token) => kind.resume(&ctx, &with, token).await,
                            None => kind.apply(&ctx, &with).await,
                        }
                    };
                    let result = match tokio::time::timeout(timeout, work).await {
                        Ok(result) => result,
                        Err(_) => Err(StepError {
                            kind: StepErrorKind::TimedOut,
                            code: None,
                            message: format!(
                                "step did not finish within its timeout of {}",
                                humanize(timeout)
                            ),
                            help: Some(
                                "rerun to keep waiting on the work in flight, or raise the step's `timeout:` in the plan".to_string(),
                            ),
                        }),
                    };
                    (step_id, result, started.elapsed())
                });
                phase.insert(id.clone(), Phase::Running);
                running += 1;
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
        let (id, result, elapsed) = match joined {
            Ok(done) => done,
            Err(join_error) => {
                // A panicking step kind is a bug; it must not take the checkpoint down with it.
                stop = true;
                report.failures.push((
                    "<unknown>".to_string(),
                    StepError::failed(format!("a step crashed: {join_error}")),
                ));
                continue;
            }
        };
        match result {
            Ok(outputs) => {
                crate::checkpoint::test_hooks::before_success(&id);
                recorder
                    .update(|c| {
                        if let Some(r) = c.steps.get_mut(&id) {
                            r.state = StepState::Succeeded;
                            r.outputs = Some(outputs.clone());
                            r.resume_token = None;
                            r.creating = false;
                            r.error = None;
                            r.finished_at = Some(Utc::now());
                        }
                    })
                    .await?;
                phase.insert(id.clone(), Phase::Done);
                report.ran.push(id.clone());
                events.emit(Event::StepSucceeded {
                    step: id,
                    outputs,
                    elapsed_ms: millis(elapsed),
                });
            }
            Err(error) => {
                let error = redactor.error(error);
                fail_step(&recorder, &events, &id, error.clone(), elapsed).await?;
                phase.insert(id.clone(), Phase::Failed);
                report.ran.push(id.clone());
                report.failures.push((id, error));
                stop = true;
            }
        }
    }

    for id in &order {
        if phase[id] == Phase::Waiting {
            events.emit(Event::StepNotStarted { step: id.clone() });
        }
    }
    let interrupted = config.cancel.is_cancelled()
        || report
            .failures
            .iter()
            .any(|(_, e)| e.kind == StepErrorKind::Interrupted);
    report.status = if interrupted {
        RunStatus::Interrupted
    } else if !report.failures.is_empty() || phase.values().any(|p| *p != Phase::Done) {
        RunStatus::Failed
    } else {
        RunStatus::Succeeded
    };
    report.nothing_to_do = report.status == RunStatus::Succeeded && report.ran.is_empty();
    if report.status == RunStatus::Succeeded {
        let snapshot = recorder.snapshot().await;
        for (name, template) in &plan.outputs {
            let value = template
                .render(&|r| lookup(r, inputs, &snapshot, true))
                .map_err(|e| EngineError::Render {
                    step: format!("outputs.{name}"),
                    message: e.to_string(),
                })?;
            report.outputs.insert(name.clone(), value);
        }
    }
    let status = report.status;
    // Secret outputs, and any whose value holds a secret, never reach the checkpoint or the
    // events.
    report.secret_outputs = plan.secret_outputs.clone();
    for (name, value) in &report.outputs {
        if !report.secret_outputs.contains(name) && redactor.taints(value) {
            report.secret_outputs.push(name.clone());
        }
    }
    let mut saved_outputs = report.outputs.clone();
    saved_outputs.retain(|name, _| !report.secret_outputs.contains(name));
    let final_checkpoint = recorder
        .update(|c| {
            if status == RunStatus::Succeeded {
                c.outputs = saved_outputs;
            }
            if let Some(run) = c.last_run.as_mut() {
                run.status = status;
                run.finished_at = Some(Utc::now());
            }
        })
        .await?;
    session.checkpoint = final_checkpoint;
    events.emit(Event::RunFinished {
        status: status.to_string(),
        outputs: crate::redact::mask_outputs(&report.outputs, &report.secret_outputs),
    });
    Ok(report)
}

/// Decides why a step that is not skipped runs.
fn choose_action(record: Option<&StepRecord>, hash: &str) -> StepAction {
    let Some(record) = record else {
        return StepAction::Create;
    };
    let same_inputs = record.input_hash.as_deref() == Some(hash);
    match record.state {
        StepState::Pending => StepAction::Create,
        StepState::Succeeded => StepAction::Update,
        StepState::Running | StepState::Failed if same_inputs && record.resume_token.is_some() => {
            StepAction::Resume
        }
        StepState::Running | StepState::Failed => StepAction::Retry,
    }
}

/// Records a failed (or interrupted) attempt. Interrupted and timed-out steps keep their
/// resume token so the next run continues the work in flight.
async fn fail_step(
    recorder: &Recorder,
    events: &Arc<dyn EventSink>,
    id: &str,
    error: StepError,
    elapsed: Duration,
) -> Result<(), EngineError> {
    recorder
        .update(|c| {
            if let Some(r) = c.steps.get_mut(id) {
                match error.kind {
                    StepErrorKind::Interrupted => r.state = StepState::Running,
                    StepErrorKind::TimedOut => r.state = StepState::Failed,
                    StepErrorKind::Failed | StepErrorKind::Rejected => {
                        r.state = StepState::Failed;
                        r.resume_token = None;
                    }
                }
                r.error = Some(error.clone());
                r.finished_at = Some(Utc::now());
            }
        })
        .await?;
    events.emit(Event::StepFailed {
        step: id.to_string(),
        error,
        elapsed_ms: millis(elapsed),
    });
    Ok(())
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A duration as a person says it: `90s`, `30m`, `2h`.
pub fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s >= 60 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}
