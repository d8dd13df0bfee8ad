//! `up` as a configuration of the walk: dependencies first; per step skip (succeeded with
//! unchanged inputs), run (create, update, retry) or resume (a saved resume token); the run's
//! record and the plan's outputs around it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use serde_json::Value;

use super::{Decision, Direction, Ended, Failure, RunConfig, Steps, Walk, humanize, millis, walk};
use crate::checkpoint::Checkpoint;
use crate::checkpoint::{RunRecord, RunStatus, StepRecord, StepState};
use crate::context::StepContext;
use crate::errors::EngineError;
use crate::events::{Event, EventSink, StepAction};
use crate::expand::ExpandedPlan;
use crate::inputs::ResolvedInputs;
use crate::kind::{Outputs, REDACTED_OUTPUT, REPLACED_OUTPUT, StepError, StepErrorKind};
use crate::origin::converge;
use crate::recorder::{Recorder, unsaved};
use crate::registry::KindRegistry;
use crate::render::{input_hash, lookup, render_with};
use crate::session::Session;

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

/// Runs `plan` in `session` with `inputs`. The plan and inputs must already be validated.
pub async fn run(
    session: &mut Session,
    steps: Steps<'_>,
    config: &RunConfig,
) -> Result<RunReport, EngineError> {
    let Steps {
        plan,
        registry,
        inputs,
    } = steps;
    let steps = Steps::new(plan, registry, inputs);
    let events = crate::redact::redacting(config.events.clone(), inputs);
    let redactor = crate::redact::Redactor::new(inputs);
    let mut start = session.checkpoint.clone();
    start.unconfirmed_inputs = Default::default();
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
    let recorder = Arc::new(Recorder::saving(session.store.clone(), start));
    recorder.update(|_| {}).await?;

    let mut up = Up {
        plan,
        registry,
        inputs,
        recorder: recorder.clone(),
        events: events.clone(),
        config,
        redactor,
        deployment_id,
        leftovers: HashMap::new(),
        recreated: HashSet::new(),
        live_outputs: HashMap::new(),
        skipped: Vec::new(),
        announced: false,
        started: HashSet::new(),
        ran: Vec::new(),
        failures: Vec::new(),
    };
    let walked = walk(
        plan,
        Direction::DependenciesFirst,
        config.parallelism,
        &config.cancel,
        events.as_ref(),
        &mut up,
    )
    .await?;
    // Create before destroy: what replacements left behind goes once everything else is done.
    if walked.all_done && up.failures.is_empty() && !config.cancel.is_cancelled() {
        let retired =
            super::retire::retire_replaced(steps, &recorder, &events, &config.cancel, &up.redactor)
                .await?;
        up.failures.extend(retired.failures);
    }

    let mut report = RunReport {
        status: RunStatus::Running,
        nothing_to_do: false,
        outputs: serde_json::Map::new(),
        secret_outputs: Vec::new(),
        ran: std::mem::take(&mut up.ran),
        failures: std::mem::take(&mut up.failures),
    };
    let interrupted = config.cancel.is_cancelled()
        || report
            .failures
            .iter()
            .any(|(_, e)| e.kind == StepErrorKind::Interrupted);
    report.status = if interrupted {
        RunStatus::Interrupted
    } else if !report.failures.is_empty() || !walked.all_done {
        RunStatus::Failed
    } else {
        RunStatus::Succeeded
    };
    report.nothing_to_do = report.status == RunStatus::Succeeded && report.ran.is_empty();
    if report.status == RunStatus::Succeeded {
        let snapshot = with_live(&recorder.snapshot().await, &up.live_outputs).into_owned();
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
        if !report.secret_outputs.contains(name) && up.redactor.taints(value) {
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

/// The state of one `up` walk.
struct Up<'a> {
    plan: &'a ExpandedPlan,
    registry: &'a KindRegistry,
    inputs: &'a ResolvedInputs,
    recorder: Arc<Recorder>,
    events: Arc<dyn EventSink>,
    config: &'a RunConfig,
    /// Takes secret inputs' values out of step errors.
    redactor: crate::redact::Redactor,
    /// The deployment id every step derives its names from.
    deployment_id: Option<String>,
    /// Per step running now, what is left to delete once it succeeds (see
    /// [`super::reclaim::leftovers_after`]): saved with its success (`replaced`), for the
    /// run's end to delete.
    leftovers: HashMap<String, Option<Outputs>>,
    /// Steps whose target was deleted and made again in this run (or that ran after one).
    recreated: HashSet<String>,
    /// The outputs of steps that held a secret, as they are (the checkpoint has them redacted).
    live_outputs: HashMap<String, Outputs>,
    skipped: Vec<String>,
    announced: bool,
    started: HashSet<String>,
    ran: Vec<String>,
    failures: Vec<(String, StepError)>,
}

#[async_trait]
impl Walk for Up<'_> {
    type Output = Outputs;

    async fn decide(
        &mut self,
        id: &str,
        slot_free: bool,
    ) -> Result<Decision<Outputs>, EngineError> {
        let Some(step) = self.plan.step(id) else {
            return Ok(Decision::Settled);
        };
        // Read under the recorder's lock: a decision costs the step's own record, never a
        // copy of the whole checkpoint.
        let inputs = self.inputs;
        let (hash, record) = self
            .recorder
            .read(|c| (input_hash(step, inputs, c), c.steps.get(id).cloned()))
            .await;
        // A dependency deleted and made again (a same-name replacement) took what lives in it
        // (a role assignment on an instance) along: its dependents run again.
        let after_recreated = self
            .plan
            .graph()
            .dependencies(id)
            .iter()
            .any(|d| self.recreated.contains(d));
        // A step whose outputs held a secret (saved without it) runs again, so the steps after
        // it get the value.
        let current = record
            .as_ref()
            .is_some_and(|r| r.is_current(&hash) && !outputs_redacted(r));
        if !after_recreated && current {
            self.skipped.push(id.to_string());
            self.events.emit(Event::StepSkipped {
                step: id.to_string(),
            });
            return Ok(Decision::Settled);
        }
        if !slot_free {
            return Ok(Decision::NeedsSlot);
        }
        if !self.announced {
            self.announced = true;
            let skipped: HashSet<&String> = self.skipped.iter().collect();
            self.events.emit(Event::RunStarted {
                to_run: self
                    .plan
                    .graph()
                    .topological_order()
                    .iter()
                    .filter(|s| !skipped.contains(s))
                    .cloned()
                    .collect(),
                unchanged: self.skipped.clone(),
            });
        }
        let action = choose_action(record.as_ref(), &hash);
        // Validation guarantees a known kind; treat a gap as a failure, not a panic.
        let kind = self.registry.get(&step.kind).cloned();
        let live = &self.live_outputs;
        let prepared = match kind {
            None => Err(format!("unknown step kind `{}`", step.kind)),
            Some(kind) => self
                .recorder
                .read(|c| render_with(step, inputs, &with_live(c, live)))
                .await
                .map(|with| (kind, with)),
        };
        let (kind, with) = match prepared {
            Ok(prepared) => prepared,
            Err(message) => {
                let error = StepError::rejected(self.redactor.text(&message));
                return Ok(Decision::Fail(error));
            }
        };
        let previous_outputs = record.as_ref().and_then(|r| r.outputs.clone());
        let token = match action {
            StepAction::Resume => record.as_ref().and_then(|r| r.resume_token.clone()),
            _ => None,
        };
        let resume = action == StepAction::Resume;
        // `run` gave every step of the plan a record before the walk began. The start is
        // written by the step's task before its work begins, together with the starts of the
        // other steps launched meanwhile.
        let started = self
            .recorder
            .stage(id, |r| r.start(&step.kind, &hash, resume))
            .await;
        self.started.insert(id.to_string());
        self.events.emit(Event::StepStarted {
            step: id.to_string(),
            kind: step.kind.clone(),
            action,
        });
        let ctx = StepContext::new(
            id.to_string(),
            previous_outputs,
            self.recorder.clone(),
            self.events.clone(),
            self.config.cancel.child_token(),
        )
        .with_creating(record.as_ref().is_some_and(|r| r.creating))
        .with_deployment_id(self.deployment_id.clone());
        let replaced = kind.replacement(&ctx, &with);
        if after_recreated || replaced.as_ref().is_some_and(|r| r.deletes_first) {
            self.recreated.insert(id.to_string());
        }
        // Create before destroy: the recorded target goes at the run's end, after the ones
        // earlier replacements left; a leftover the plan names again is kept, and the step's.
        let replacing = replaced.is_some_and(|r| r.deletes_old && !r.deletes_first);
        let leftovers = super::reclaim::leftovers_after(
            kind.as_ref(),
            id,
            self.deployment_id.as_deref(),
            ctx.previous_outputs(),
            replacing,
            &with,
        );
        let ctx = ctx.with_reclaiming(leftovers.reclaimed);
        self.leftovers.insert(id.to_string(), leftovers.chain);
        let timeout = step.timeout.unwrap_or(self.config.default_timeout);
        let recorder = self.recorder.clone();
        Ok(Decision::Start {
            work: Box::pin(ctx.clone().scope(async move {
                recorder.flush(started).await.map_err(unsaved)?;
                converge(kind.as_ref(), &ctx, &with, token.as_ref()).await
            })),
            timeout,
            timed_out: timed_out(timeout),
        })
    }

    async fn finish(&mut self, id: &str, ended: Ended<Outputs>) -> Result<bool, EngineError> {
        let Ended { result, elapsed } = ended;
        if self.started.contains(id) {
            self.ran.push(id.to_string());
        }
        match result {
            Ok(outputs) => {
                crate::checkpoint::test_hooks::before_success(id);
                let mut saved = outputs.clone();
                let secrets = self.redactor.for_saved_values();
                if secrets.taints(&Value::Object(outputs.clone())) {
                    // A secret never reaches the checkpoint: the record says `(secret)`, the
                    // steps after it in this run get the value.
                    self.live_outputs.insert(id.to_string(), outputs.clone());
                    if let Value::Object(redacted) = secrets.value(&Value::Object(saved)) {
                        saved = redacted;
                    } else {
                        saved = Outputs::new();
                    }
                    saved.insert(REDACTED_OUTPUT.to_string(), Value::Bool(true));
                }
                if let Some(chain) = self.leftovers.remove(id).flatten() {
                    saved.insert(REPLACED_OUTPUT.to_string(), Value::Object(chain));
                }
                // Queued, not awaited: the walk goes on deciding while it is written. The
                // steps it unblocks flush their own start (queued after it) before their work
                // begins, and the run's last save holds it, so it is durable before anything
                // depends on it.
                let _queued = self.recorder.stage(id, |r| r.succeed(saved)).await;
                self.events.emit(Event::StepSucceeded {
                    step: id.to_string(),
                    outputs,
                    elapsed_ms: millis(elapsed),
                });
                Ok(true)
            }
            Err(error) => {
                let error = self.redactor.error(error);
                let failure = Failure {
                    recorder: &self.recorder,
                    events: self.events.as_ref(),
                    failures: &mut self.failures,
                };
                failure.record(id, error, elapsed, StepRecord::fail).await
            }
        }
    }
}

/// True if `record`'s outputs were saved with secret values redacted.
fn outputs_redacted(record: &StepRecord) -> bool {
    record
        .outputs
        .as_ref()
        .and_then(|o| o.get(REDACTED_OUTPUT))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// `snapshot` with the outputs of this run's secret-holding steps as they are.
fn with_live<'c>(
    snapshot: &'c Checkpoint,
    live: &HashMap<String, Outputs>,
) -> std::borrow::Cow<'c, Checkpoint> {
    if live.is_empty() {
        return std::borrow::Cow::Borrowed(snapshot);
    }
    let mut patched = snapshot.clone();
    for (id, outputs) in live {
        if let Some(record) = patched.steps.get_mut(id) {
            record.outputs = Some(outputs.clone());
        }
    }
    std::borrow::Cow::Owned(patched)
}

/// The failure of a step that ran past its timeout.
fn timed_out(timeout: Duration) -> StepError {
    StepError {
        kind: StepErrorKind::TimedOut,
        code: None,
        message: format!(
            "step did not finish within its timeout of {}",
            humanize(timeout)
        ),
        help: Some(
            "rerun to keep waiting on the work in flight, or raise the step's `timeout:` in the plan"
                .to_string(),
        ),
    }
}

/// Decides why a step that is not skipped runs (`preview` asks it what `up` would resume).
pub(super) fn choose_action(record: Option<&StepRecord>, hash: &str) -> StepAction {
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
