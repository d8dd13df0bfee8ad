//! A session on one checkpoint: takes the lock, loads (or starts) the checkpoint and checks it
//! belongs to the plan. Everything that changes a checkpoint goes through a session.

use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::Value;
use twinup_plan::Plan;

use crate::checkpoint::{Checkpoint, CheckpointLock, CheckpointStore};
use crate::errors::CheckpointError;

/// An open, locked checkpoint.
pub struct Session {
    pub(crate) store: Arc<dyn CheckpointStore>,
    pub(crate) checkpoint: Checkpoint,
    existed: bool,
    _lock: Box<dyn CheckpointLock>,
}

impl Session {
    /// Locks the checkpoint in `store` and loads it (or starts a new one) for `plan`.
    /// Nothing is written until a run starts.
    pub async fn open(
        store: Arc<dyn CheckpointStore>,
        plan: &Plan,
    ) -> Result<Session, CheckpointError> {
        let lock = store.lock().await?;
        let loaded = load_for_plan(store.as_ref(), plan).await?;
        let existed = loaded.is_some();
        let checkpoint = loaded.unwrap_or_else(|| Checkpoint::new(&plan.name, &plan.hash()));
        Ok(Session {
            store,
            checkpoint,
            existed,
            _lock: lock,
        })
    }

    /// The checkpoint as loaded or as the last run left it.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// Whether a checkpoint existed before this session.
    pub fn existed(&self) -> bool {
        self.existed
    }

    /// Input values saved by earlier runs: those a run used, then the answers a run that
    /// stopped before changing anything kept (see [`Session::keep_unconfirmed`]).
    pub fn saved_inputs(&self) -> IndexMap<String, Value> {
        self.checkpoint.saved_inputs()
    }

    /// Writes `kept` (answers typed at prompts, secrets already left out) into the checkpoint
    /// as unconfirmed, with what this session's checkpoint records otherwise unchanged: the run
    /// stopped before changing anything, and the next one should ask only for what was wrong.
    pub async fn keep_unconfirmed(
        &mut self,
        kept: crate::checkpoint::UnconfirmedInputs,
    ) -> Result<(), CheckpointError> {
        self.checkpoint.unconfirmed_inputs = kept;
        self.checkpoint.updated_at = chrono::Utc::now();
        self.store.save(&self.checkpoint).await
    }

    /// Fixes the deployment id in memory for this run (see [`crate::deployment`]): the
    /// recorded one, or a new one for a checkpoint with nothing deployed. The run writes it.
    pub fn fix_deployment_id(&mut self, plan: &Plan, inputs: &crate::inputs::ResolvedInputs) {
        self.checkpoint.deployment_id =
            crate::deployment::planned_id(plan, inputs, &self.checkpoint);
    }

    /// Sets `key` of the checkpoint's `environment` (where the deployment lives); written with
    /// the run's first checkpoint write, so nothing is recorded by a run that changes nothing.
    pub fn set_environment(&mut self, key: &str, value: Value) {
        self.checkpoint.environment.insert(key.to_string(), value);
    }

    /// Where the checkpoint is stored.
    pub fn location(&self) -> String {
        self.store.location()
    }
}

/// Loads the checkpoint in `store` without locking it, checking it belongs to `plan`
/// (for read-only commands such as `status`).
pub async fn load_for_plan(
    store: &dyn CheckpointStore,
    plan: &Plan,
) -> Result<Option<Checkpoint>, CheckpointError> {
    let Some(checkpoint) = store.load().await? else {
        return Ok(None);
    };
    if checkpoint.plan.name != plan.name {
        return Err(CheckpointError::ForeignPlan {
            location: store.location(),
            found: checkpoint.plan.name,
            expected: plan.name.clone(),
        });
    }
    Ok(Some(checkpoint))
}
