//! The step state machine's transitions, as methods on [`StepRecord`]: every walk changes a
//! record only through these, so `up`, `down` and the drift refresh agree on what each state
//! means.

use chrono::Utc;
use serde_json::{Value, json};

use super::model::{StepRecord, StepState};
use crate::kind::{Outputs, StepError, StepErrorKind};

/// The key of the resume token that marks a step whose delete has started.
const DELETE_MARK: &str = "twinup_delete";

impl StepRecord {
    /// True when the step succeeded with the input fingerprint `hash`: `up` has nothing to do.
    pub fn is_current(&self, hash: &str) -> bool {
        self.state == StepState::Succeeded && self.input_hash.as_deref() == Some(hash)
    }

    /// True while a delete of `down` is started and not finished.
    pub fn is_deleting(&self) -> bool {
        self.resume_token
            .as_ref()
            .is_some_and(|t| t.get(DELETE_MARK).is_some())
    }

    /// The token an interrupted delete saved, for the kind to continue that delete.
    pub fn delete_token(&self) -> Option<Value> {
        self.resume_token
            .as_ref()
            .and_then(|t| t.get(DELETE_MARK))
            .filter(|t| !t.is_null())
            .cloned()
    }

    /// `up` starts the step's work for input fingerprint `hash`; `resume` keeps the resume
    /// token so the kind continues the work in flight.
    pub fn start(&mut self, kind: &str, hash: &str, resume: bool) {
        self.kind = kind.to_string();
        self.state = StepState::Running;
        self.input_hash = Some(hash.to_string());
        self.error = None;
        self.started_at = Some(Utc::now());
        self.finished_at = None;
        self.attempts += 1;
        if !resume {
            self.resume_token = None;
        }
    }

    /// `down` starts deleting the step's target; a delete already in flight keeps its token.
    pub fn start_delete(&mut self) {
        self.state = StepState::Running;
        self.error = None;
        self.started_at = Some(Utc::now());
        self.finished_at = None;
        if !self.is_deleting() {
            self.resume_token = Some(json!({ DELETE_MARK: null }));
        }
    }

    /// Saves the token of work in flight (inside the delete mark while deleting).
    pub fn save_token(&mut self, token: Value) {
        self.resume_token = Some(if self.is_deleting() {
            json!({ DELETE_MARK: token })
        } else {
            token
        });
    }

    /// The step found its target absent and is about to create it.
    pub fn note_creating(&mut self) {
        self.creating = true;
    }

    /// The step's work finished with `outputs`.
    pub fn succeed(&mut self, outputs: Outputs) {
        self.state = StepState::Succeeded;
        self.outputs = Some(outputs);
        self.resume_token = None;
        self.creating = false;
        self.error = None;
        self.finished_at = Some(Utc::now());
    }

    /// The step's work (or the walk's attempt to start it) failed. Interrupted and timed-out
    /// work keeps its resume token so the next run continues it, and so does a delete, so the
    /// next `down` resumes it; any other failure ends the work in flight.
    pub fn fail(&mut self, error: StepError) {
        match error.kind {
            StepErrorKind::Interrupted => self.state = StepState::Running,
            StepErrorKind::TimedOut => self.state = StepState::Failed,
            StepErrorKind::Failed | StepErrorKind::Rejected => {
                self.state = StepState::Failed;
                if !self.is_deleting() {
                    self.resume_token = None;
                }
            }
        }
        self.error = Some(error);
        self.finished_at = Some(Utc::now());
    }

    /// The walk refused to act on the step as it stands (`down` on a step `up` left in
    /// flight): says why, and leaves state and resume token for the run that can finish it.
    pub fn refuse(&mut self, error: StepError) {
        self.error = Some(error);
        self.finished_at = Some(Utc::now());
    }

    /// Nothing of the step is deployed any more (deleted, kept, never deployed): a fresh
    /// `pending` record, so `up` deploys it again.
    pub fn reset(&mut self) {
        *self = StepRecord::pending(&self.kind);
    }

    /// The step's target was deleted outside twinup: `up` runs it again as a create. Its
    /// outputs stay, so the step still knows what it created.
    pub fn target_gone(&mut self) {
        self.state = StepState::Pending;
    }

    /// The target a replacement made this step stop using is deleted (or kept: the step did
    /// not create it): its record and the delete's resume token go.
    pub fn retire_replaced(&mut self) {
        if let Some(outputs) = self.outputs.as_mut() {
            outputs.remove(crate::kind::REPLACED_OUTPUT);
        }
        if !self.is_deleting() {
            self.resume_token = None;
        }
        self.error = None;
    }

    /// Like [`StepRecord::retire_replaced`], when the deleted target's record held the leftover
    /// of an earlier replacement: that one is next.
    pub fn retire_replaced_by(&mut self, earlier: crate::kind::Outputs) {
        self.retire_replaced();
        if let Some(outputs) = self.outputs.as_mut() {
            outputs.insert(
                crate::kind::REPLACED_OUTPUT.to_string(),
                serde_json::Value::Object(earlier),
            );
        }
    }

    /// The step's target (or a dependency's) changed outside twinup: `up` runs it again as an
    /// update.
    pub fn target_changed(&mut self) {
        self.input_hash = None;
    }
}
