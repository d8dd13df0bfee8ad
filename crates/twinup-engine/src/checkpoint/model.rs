//! The checkpoint document: everything a rerun needs to pick up where a run stopped.

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::kind::{Outputs, StepError};

/// The checkpoint schema this build writes and the newest it can read.
pub const SCHEMA_VERSION: u32 = 1;

/// The record of a deployment: which plan, with which inputs, and where every step stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// Format version; a checkpoint from a newer twinup is refused rather than misread.
    pub schema_version: u32,
    /// The plan this checkpoint belongs to.
    pub plan: PlanIdentity,
    /// The deployment's identity, fixed when the checkpoint is first written (see
    /// [`crate::deployment`]); absent in checkpoints written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// When the first run began.
    pub created_at: DateTime<Utc>,
    /// When this file was last written.
    pub updated_at: DateTime<Utc>,
    /// Resolved input values, secrets excluded.
    pub inputs: IndexMap<String, Value>,
    /// Every step's record, by id, in plan order.
    pub steps: IndexMap<String, StepRecord>,
    /// The plan's outputs, once a run has succeeded.
    #[serde(default)]
    pub outputs: serde_json::Map<String, Value>,
    /// The most recent run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<RunRecord>,
    /// Where the deployment lives, as the binary describes it (its cloud and endpoints), so
    /// every later command on this checkpoint reaches the same place. Never credentials; the
    /// engine does not interpret it.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub environment: IndexMap<String, Value>,
    /// Answers typed at the prompts of a run that stopped at validation or preflight, before
    /// changing anything, so the next run asks only for what was wrong. Secrets excluded;
    /// cleared when a run starts.
    #[serde(default, skip_serializing_if = "UnconfirmedInputs::is_empty")]
    pub unconfirmed_inputs: UnconfirmedInputs,
}

/// Answers not yet used by a run (see [`Checkpoint::unconfirmed_inputs`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnconfirmedInputs {
    /// The answers, by input name.
    pub values: IndexMap<String, Value>,
    /// Inputs the failure blamed: asked again, offering the kept answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ask_again: Vec<String>,
}

impl UnconfirmedInputs {
    /// True when nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && self.ask_again.is_empty()
    }
}

/// Which plan a checkpoint was written for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanIdentity {
    /// The plan's `name`.
    pub name: String,
    /// SHA-256 of the plan text the last run used.
    pub hash: String,
}

/// Where one step stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepRecord {
    /// The step's kind when it last ran.
    pub kind: String,
    /// The state machine's current state.
    pub state: StepState,
    /// Fingerprint of the step's rendered `with` (secrets left out) when it last started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_hash: Option<String>,
    /// In-flight work a rerun resumes instead of starting again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_token: Option<Value>,
    /// Outputs of the last success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Outputs>,
    /// Why the last attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<StepError>,
    /// When the last attempt started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    /// When the last attempt ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// How many times the step has been started.
    #[serde(default)]
    pub attempts: u32,
    /// The step found its target absent and is creating it; kept until the step succeeds, so
    /// a rerun after a crash knows that what it now finds was created by this step.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub creating: bool,
}

/// The step state machine: pending -> running -> succeeded | failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    /// Not started yet.
    Pending,
    /// Started and not finished; `resume_token` says what is in flight, if anything.
    Running,
    /// Finished; `outputs` holds what it produced.
    Succeeded,
    /// The last attempt failed; `error` says why.
    Failed,
}

impl std::fmt::Display for StepState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StepState::Pending => "pending",
            StepState::Running => "running",
            StepState::Succeeded => "succeeded",
            StepState::Failed => "failed",
        })
    }
}

/// How the most recent run went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRecord {
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended; absent while running or if the process died.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// How it ended.
    pub status: RunStatus,
}

/// The outcome of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Still running (or the process died).
    Running,
    /// Every step succeeded.
    Succeeded,
    /// A step failed.
    Failed,
    /// The user interrupted the run.
    Interrupted,
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
        })
    }
}

impl Checkpoint {
    /// A fresh checkpoint for a plan that has never run.
    pub fn new(plan_name: &str, plan_hash: &str) -> Self {
        let now = Utc::now();
        Checkpoint {
            schema_version: SCHEMA_VERSION,
            plan: PlanIdentity {
                name: plan_name.to_string(),
                hash: plan_hash.to_string(),
            },
            deployment_id: None,
            created_at: now,
            updated_at: now,
            inputs: IndexMap::new(),
            steps: IndexMap::new(),
            outputs: serde_json::Map::new(),
            last_run: None,
            environment: IndexMap::new(),
            unconfirmed_inputs: UnconfirmedInputs::default(),
        }
    }

    /// The input values a next run starts from: those a run used, then the unconfirmed
    /// answers of a run that stopped before changing anything.
    pub fn saved_inputs(&self) -> IndexMap<String, Value> {
        let mut saved = self.inputs.clone();
        for (name, value) in &self.unconfirmed_inputs.values {
            saved.insert(name.clone(), value.clone());
        }
        saved
    }

    /// The record of `step`, if the step has ever been seen.
    pub fn step(&self, step: &str) -> Option<&StepRecord> {
        self.steps.get(step)
    }
}

impl StepRecord {
    /// A record for a step that has not started.
    pub fn pending(kind: &str) -> Self {
        StepRecord {
            kind: kind.to_string(),
            state: StepState::Pending,
            input_hash: None,
            resume_token: None,
            outputs: None,
            error: None,
            started_at: None,
            finished_at: None,
            attempts: 0,
            creating: false,
        }
    }
}
