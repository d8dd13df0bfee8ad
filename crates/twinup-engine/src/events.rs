//! Events the executor reports while it runs, for progress displays and `--output json`.

use serde::Serialize;
use serde_json::Value;

use crate::kind::{Outputs, StepError};

/// Why a step runs in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepAction {
    /// First time it runs.
    Create,
    /// It succeeded before, but its inputs changed.
    Update,
    /// A previous run left it in flight; finish that work.
    Resume,
    /// A previous run failed (or stopped before it started its work); try again.
    Retry,
    /// `down`: delete what the step created.
    Delete,
}

/// Something that happened during a run.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The run begins with these steps to run and these already done.
    RunStarted {
        to_run: Vec<String>,
        unchanged: Vec<String>,
    },
    /// A step is skipped because it succeeded before and its inputs are unchanged.
    StepSkipped { step: String },
    /// A step starts.
    StepStarted {
        step: String,
        kind: String,
        action: StepAction,
    },
    /// A running step reports progress.
    StepProgress { step: String, message: String },
    /// A running step's request failed in a way that passes (a 503, a 429, no response) and is
    /// sent again after `wait_ms`: `attempt` is the attempt about to be made.
    StepRetry {
        step: String,
        attempt: u32,
        max_attempts: u32,
        cause: String,
        wait_ms: u64,
    },
    /// A step succeeded.
    StepSucceeded {
        step: String,
        outputs: Outputs,
        elapsed_ms: u64,
    },
    /// A step failed, or was interrupted.
    StepFailed {
        step: String,
        error: StepError,
        elapsed_ms: u64,
    },
    /// A step did not start because an earlier one failed or the run was interrupted.
    StepNotStarted { step: String },
    /// The run ended.
    RunFinished {
        status: String,
        outputs: serde_json::Map<String, Value>,
    },
}

/// Receives events. Must not block.
pub trait EventSink: Send + Sync {
    /// Handles one event.
    fn emit(&self, event: Event);
}

/// Discards every event.
pub struct NoEvents;

impl EventSink for NoEvents {
    fn emit(&self, _event: Event) {}
}

impl<F: Fn(Event) + Send + Sync> EventSink for F {
    fn emit(&self, event: Event) {
        self(event)
    }
}
