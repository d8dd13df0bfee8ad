//! The handle a running step gets from the executor: its identity, a way to make its resume
//! token durable before it waits, progress reporting, and the run's cancellation signal.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::events::{Event, EventSink};
use crate::kind::{Outputs, StepError};

/// Where a step's resume token is made durable (the checkpoint, in a real run).
#[async_trait]
pub trait TokenRecorder: Send + Sync {
    /// Saves `token` for `step_id`; returns once it is durable.
    async fn record_token(&self, step_id: &str, token: Value) -> Result<(), StepError>;

    /// Records that `step_id` found its target absent and is about to create it; returns once
    /// it is durable. Recorders that keep no state may ignore it.
    async fn record_creating(&self, _step_id: &str) -> Result<(), StepError> {
        Ok(())
    }
}

/// The recorder of walks that only read (preflight, `preview`, `verify`, the refresh): a
/// kind that tries to save a resume token there gets an error saying the walk only reads.
pub(crate) struct ReadOnly {
    during: &'static str,
}

impl ReadOnly {
    /// A read-only recorder; `during` ends the error, e.g. `during preflight, which only reads`.
    pub(crate) fn new(during: &'static str) -> Self {
        ReadOnly { during }
    }
}

#[async_trait]
impl TokenRecorder for ReadOnly {
    async fn record_token(&self, step_id: &str, _token: Value) -> Result<(), StepError> {
        Err(StepError::failed(format!(
            "step `{step_id}` tried to start work {}",
            self.during
        )))
    }
}

/// Where a preflight collects what the user must confirm before the run changes anything
/// (see [`StepContext::ask_confirmation`]).
pub(crate) type Confirmations = Arc<Mutex<Vec<String>>>;

/// What a step kind sees of the run it is part of.
#[derive(Clone)]
pub struct StepContext {
    step_id: String,
    previous_outputs: Option<Outputs>,
    recorder: Arc<dyn TokenRecorder>,
    events: Arc<dyn EventSink>,
    cancel: CancellationToken,
    creating: bool,
    reclaiming: bool,
    retiring: bool,
    outputs_current: bool,
    at_record: bool,
    deployment_id: Option<String>,
    confirmations: Option<Confirmations>,
}

impl StepContext {
    /// A context for `step_id`. The executor builds these; tests of step kinds can too.
    pub fn new(
        step_id: impl Into<String>,
        previous_outputs: Option<Outputs>,
        recorder: Arc<dyn TokenRecorder>,
        events: Arc<dyn EventSink>,
        cancel: CancellationToken,
    ) -> Self {
        StepContext {
            step_id: step_id.into(),
            previous_outputs,
            recorder,
            events,
            cancel,
            creating: false,
            reclaiming: false,
            retiring: false,
            outputs_current: false,
            at_record: false,
            deployment_id: None,
            confirmations: None,
        }
    }

    /// Tells the step that its previous outputs were recorded by a successful run with the same
    /// input fingerprint as the `with` it is given now (see
    /// [`StepContext::previous_outputs_current`]).
    pub fn with_previous_outputs_current(mut self, current: bool) -> Self {
        self.outputs_current = current;
        self
    }

    /// True when [`StepContext::previous_outputs`] come from a successful run of this same
    /// rendered `with`: ids saved in them name exactly what the `with` describes, so a read may
    /// go straight to them. The drift refresh, `verify` and `preview` set it for succeeded steps
    /// whose inputs did not change.
    pub fn previous_outputs_current(&self) -> bool {
        self.outputs_current && self.previous_outputs.is_some()
    }

    /// Tells a read that it checks what the record names (`verify`, the drift refresh): see
    /// [`StepContext::read_at_record`].
    pub fn with_read_at_record(mut self, at_record: bool) -> Self {
        self.at_record = at_record;
        self
    }

    /// True when a read must go to the target the step's record names (the id, object id or
    /// path in [`StepContext::previous_outputs`]), never to what the `with` names now: the walk
    /// checks what was deployed (`verify`, the refresh), or the outputs are current (see
    /// [`StepContext::previous_outputs_current`]).
    pub fn read_at_record(&self) -> bool {
        (self.at_record || self.outputs_current) && self.previous_outputs.is_some()
    }

    /// Tells the step which deployment it belongs to (see [`crate::deployment`]).
    pub fn with_deployment_id(mut self, id: Option<String>) -> Self {
        self.deployment_id = id;
        self
    }

    /// The deployment's id, to fold into names derived for idempotency; `None` for a
    /// checkpoint written before deployment ids existed (derive names as before).
    pub fn deployment_id(&self) -> Option<&str> {
        self.deployment_id.as_deref()
    }

    /// Tells the step that an earlier attempt recorded it was creating its target (see
    /// [`StepContext::note_creating`]).
    pub fn with_creating(mut self, creating: bool) -> Self {
        self.creating = creating;
        self
    }

    /// True when an earlier, unfinished attempt of this step found the target absent and set
    /// out to create it: whatever the step finds now is its own.
    pub fn was_creating(&self) -> bool {
        self.creating
    }

    /// Tells the step that a target an earlier replacement of it left behind (still to be
    /// deleted, in [`StepContext::previous_outputs`]' `replaced` chain) is what its `with`
    /// names again: see [`StepContext::reclaims`].
    pub fn with_reclaiming(mut self, reclaiming: bool) -> Self {
        self.reclaiming = reclaiming;
        self
    }

    /// True when the step's `with` names again a target this deployment made and replaced
    /// (turned back on, or changed back) before it was deleted: that target is the step's own
    /// again, and no longer deleted at the run's end.
    pub fn reclaims(&self) -> bool {
        self.reclaiming
    }

    /// Tells a `delete` that it deletes a target a replacement left behind: see
    /// [`StepContext::retiring`].
    pub fn with_retiring(mut self, retiring: bool) -> Self {
        self.retiring = retiring;
        self
    }

    /// True when a `delete` acts on a target a replacement left behind
    /// ([`StepContext::previous_outputs`] is that old record) while the step's current target
    /// is what the `with` it is given names: a part of the old record the `with` still uses
    /// (a shared DNS zone, say) is kept.
    pub fn retiring(&self) -> bool {
        self.retiring
    }

    /// Records, durably, that the target is absent and this step is about to create it. Call it
    /// right before the create request, so a crash between creation and the success record
    /// does not make the rerun mistake the step's own resource for one it found.
    pub async fn note_creating(&self) -> Result<(), StepError> {
        self.recorder.record_creating(&self.step_id).await
    }

    /// The step's id in the plan.
    pub fn step_id(&self) -> &str {
        &self.step_id
    }

    /// The outputs of this step's last successful run, when it is being run again as an update.
    pub fn previous_outputs(&self) -> Option<&Outputs> {
        self.previous_outputs.as_ref()
    }

    /// Makes `token` durable in the checkpoint; call before waiting on long-running work, so a
    /// rerun after a crash resumes that work instead of starting it again.
    pub async fn save_resume_token(&self, token: Value) -> Result<(), StepError> {
        self.recorder.record_token(&self.step_id, token).await
    }

    /// Reports progress (e.g. the status of a long-running operation) to the user interface.
    pub fn progress(&self, message: impl Into<String>) {
        self.events.emit(Event::StepProgress {
            step: self.step_id.clone(),
            message: message.into(),
        });
    }

    /// Collects this context's confirmation requests in `into` (preflight does this).
    pub(crate) fn with_confirmations(mut self, into: Confirmations) -> Self {
        self.confirmations = Some(into);
        self
    }

    /// Asks that the user confirm `what` (a change with consequences beyond the step, e.g.
    /// disabling an identity that endpoints use) before the run changes anything: `up` lists
    /// it with any replacements and asks at a terminal, or needs `--yes`. Only preflight
    /// collects these; elsewhere the request is shown as progress.
    pub fn ask_confirmation(&self, what: impl Into<String>) {
        let what = what.into();
        match &self.confirmations {
            Some(list) => {
                if let Ok(mut list) = list.lock() {
                    list.push(what);
                }
            }
            None => self.progress(format!("warning: {what}")),
        }
    }

    /// Cancelled when the user interrupts the run: stop waiting, keep the resume token.
    pub fn cancellation(&self) -> &CancellationToken {
        &self.cancel
    }

    /// Reports that a request of this step is sent again (attempt `attempt` of
    /// `max_attempts`) after `wait`, because of `cause` (e.g. `HTTP 503`).
    pub fn retrying(&self, attempt: u32, max_attempts: u32, cause: &str, wait: Duration) {
        self.events.emit(Event::StepRetry {
            step: self.step_id.clone(),
            attempt,
            max_attempts,
            cause: cause.to_string(),
            wait_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
        });
    }

    /// Runs `work` (this step's apply, resume or delete) with this context as the current
    /// step's, so code deep below the kind (a shared HTTP client) can [`report_retry`].
    pub async fn scope<F: Future>(self, work: F) -> F::Output {
        CURRENT_STEP.scope(self, work).await
    }
}

tokio::task_local! {
    /// The context of the step whose work the current task runs (see [`StepContext::scope`]).
    static CURRENT_STEP: StepContext;
}

/// Reports a retry to the step whose work is running on this task, if any (outside a step,
/// e.g. while signing in, it does nothing): the HTTP client calls it before it waits.
pub fn report_retry(attempt: u32, max_attempts: u32, cause: &str, wait: Duration) {
    let _ = CURRENT_STEP.try_with(|ctx| ctx.retrying(attempt, max_attempts, cause, wait));
}
