//! The [`Recorder`]: the one copy of a checkpoint a walk changes, saved after every change
//! before the change is acted on. A recorder without a store (the drift refresh) keeps its
//! changes in memory for the run that follows to save.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::checkpoint::{Checkpoint, CheckpointStore, StepRecord};
use crate::context::TokenRecorder;
use crate::errors::EngineError;
use crate::kind::StepError;

/// The checkpoint shared by the steps of one walk.
pub(crate) struct Recorder {
    store: Option<Arc<dyn CheckpointStore>>,
    checkpoint: Mutex<Checkpoint>,
}

impl Recorder {
    /// A recorder that saves every change to `store`.
    pub(crate) fn saving(store: Arc<dyn CheckpointStore>, checkpoint: Checkpoint) -> Self {
        Recorder {
            store: Some(store),
            checkpoint: Mutex::new(checkpoint),
        }
    }

    /// A recorder that keeps its changes in memory.
    pub(crate) fn in_memory(checkpoint: Checkpoint) -> Self {
        Recorder {
            store: None,
            checkpoint: Mutex::new(checkpoint),
        }
    }

    /// Applies `change` and saves the result; returns the checkpoint as saved.
    pub(crate) async fn update(
        &self,
        change: impl FnOnce(&mut Checkpoint),
    ) -> Result<Checkpoint, EngineError> {
        let mut checkpoint = self.checkpoint.lock().await;
        change(&mut checkpoint);
        if let Some(store) = &self.store {
            checkpoint.updated_at = Utc::now();
            store.save(&checkpoint).await?;
        }
        Ok(checkpoint.clone())
    }

    /// Applies `change` to the record of step `id` (when there is one) and saves.
    pub(crate) async fn step(
        &self,
        id: &str,
        change: impl FnOnce(&mut StepRecord),
    ) -> Result<(), EngineError> {
        self.update(|c| {
            if let Some(record) = c.steps.get_mut(id) {
                change(record);
            }
        })
        .await
        .map(|_| ())
    }

    /// The checkpoint as it stands.
    pub(crate) async fn snapshot(&self) -> Checkpoint {
        self.checkpoint.lock().await.clone()
    }
}

fn unsaved(e: EngineError) -> StepError {
    StepError::failed(format!("cannot save progress to the checkpoint: {e}"))
}

#[async_trait]
impl TokenRecorder for Recorder {
    async fn record_token(&self, step_id: &str, token: Value) -> Result<(), StepError> {
        self.step(step_id, |r| r.save_token(token))
            .await
            .map_err(unsaved)?;
        crate::checkpoint::test_hooks::token_saved(step_id);
        Ok(())
    }

    async fn record_creating(&self, step_id: &str) -> Result<(), StepError> {
        self.step(step_id, StepRecord::note_creating)
            .await
            .map_err(unsaved)
    }
}
