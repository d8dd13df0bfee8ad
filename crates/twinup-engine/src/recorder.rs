//! The [`Recorder`]: the one copy of a checkpoint a walk changes, saved after every change
//! before the change is acted on. A recorder without a store (the drift refresh) keeps its
//! changes in memory for the run that follows to save.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::checkpoint::{Appended, Checkpoint, CheckpointStore, JournalEntry, StepRecord};
use crate::context::TokenRecorder;
use crate::errors::EngineError;
use crate::kind::StepError;

/// The checkpoint shared by the steps of one walk.
///
/// A step's change is applied under the checkpoint's lock and queued; then the change waits
/// until it is durable. One waiter at a time writes everything queued so far in one append
/// (group commit), so concurrent steps share a flush and nothing holds the checkpoint while
/// the disk works. Whole-checkpoint changes ([`Recorder::update`]) are saved whole, which also
/// compacts the journal.
pub(crate) struct Recorder {
    store: Option<Arc<dyn CheckpointStore>>,
    checkpoint: Mutex<Checkpoint>,
    /// Step changes applied to `checkpoint` and not yet durable, numbered from 1.
    queued: std::sync::Mutex<Queue>,
    /// Held while writing; the number of the last change that is durable.
    durable: Mutex<Durable>,
}

/// A step change queued by [`Recorder::stage`], not known to be durable yet.
#[must_use = "a staged change must be flushed before it is acted on"]
pub(crate) struct Staged(u64);

#[derive(Default)]
struct Queue {
    entries: Vec<JournalEntry>,
    last: u64,
}

#[derive(Default)]
struct Durable {
    upto: u64,
    /// Set when a write failed: the checkpoint on disk is behind, so nothing more is saved.
    broken: Option<String>,
}

impl Recorder {
    /// A recorder that saves every change to `store`.
    pub(crate) fn saving(store: Arc<dyn CheckpointStore>, checkpoint: Checkpoint) -> Self {
        Recorder {
            store: Some(store),
            checkpoint: Mutex::new(checkpoint),
            queued: std::sync::Mutex::new(Queue::default()),
            durable: Mutex::new(Durable::default()),
        }
    }

    /// A recorder that keeps its changes in memory.
    pub(crate) fn in_memory(checkpoint: Checkpoint) -> Self {
        Recorder {
            store: None,
            checkpoint: Mutex::new(checkpoint),
            queued: std::sync::Mutex::new(Queue::default()),
            durable: Mutex::new(Durable::default()),
        }
    }

    /// Applies `change` and saves the whole checkpoint; returns it as saved.
    pub(crate) async fn update(
        &self,
        change: impl FnOnce(&mut Checkpoint),
    ) -> Result<Checkpoint, EngineError> {
        let Some(store) = &self.store else {
            let mut checkpoint = self.checkpoint.lock().await;
            change(&mut checkpoint);
            return Ok(checkpoint.clone());
        };
        let mut durable = self.durable.lock().await;
        durable.usable(store.as_ref())?;
        let (snapshot, upto) = {
            let mut checkpoint = self.checkpoint.lock().await;
            change(&mut checkpoint);
            checkpoint.updated_at = Utc::now();
            // Every queued step change is in this snapshot (they are queued under the lock).
            (checkpoint.clone(), self.take_queue().1)
        };
        durable.record(store.save(&snapshot).await)?;
        durable.upto = durable.upto.max(upto);
        Ok(snapshot)
    }

    /// Applies `change` to the record of step `id` (when there is one) and saves it.
    pub(crate) async fn step(
        &self,
        id: &str,
        change: impl FnOnce(&mut StepRecord),
    ) -> Result<(), EngineError> {
        if let Some(store) = self.store.as_ref().filter(|s| !s.appends()) {
            return self.save_whole(store.as_ref(), id, change).await;
        }
        let staged = self.queue(id, change).await;
        self.flush(staged).await
    }

    /// For a store without a journal: applies `change` and saves the whole checkpoint at once,
    /// one save per transition in the order they happen (never grouped, so crash points are
    /// numbered the same in every run).
    async fn save_whole(
        &self,
        store: &dyn CheckpointStore,
        id: &str,
        change: impl FnOnce(&mut StepRecord),
    ) -> Result<(), EngineError> {
        let mut durable = self.durable.lock().await;
        durable.usable(store)?;
        let snapshot = {
            let mut checkpoint = self.checkpoint.lock().await;
            let Some(record) = checkpoint.steps.get_mut(id) else {
                return Ok(());
            };
            change(record);
            checkpoint.updated_at = Utc::now();
            checkpoint.clone()
        };
        durable.record(store.save(&snapshot).await)?;
        Ok(())
    }

    /// Applies `change` to the record of step `id` (when there is one) and queues it for
    /// saving without waiting: nothing may act on the change before [`Recorder::flush`] of
    /// the returned number says it is durable. Lets the walk start many steps whose start
    /// records are then written together. A store without a journal saves it whole at once
    /// (one save per transition, as it happens; a failure is reported by the next flush).
    pub(crate) async fn stage(&self, id: &str, change: impl FnOnce(&mut StepRecord)) -> Staged {
        if let Some(store) = self.store.as_ref().filter(|s| !s.appends()) {
            // A failure is kept (`broken`) and reported by the next save or flush.
            let _ = self.save_whole(store.as_ref(), id, change).await;
            return Staged(0);
        }
        self.queue(id, change).await
    }

    /// Applies `change` to the record of step `id` and queues it.
    async fn queue(&self, id: &str, change: impl FnOnce(&mut StepRecord)) -> Staged {
        let number = {
            let mut checkpoint = self.checkpoint.lock().await;
            let now = Utc::now();
            let Some(record) = checkpoint.steps.get_mut(id) else {
                return Staged(0);
            };
            change(record);
            if self.store.is_none() {
                return Staged(0);
            }
            let entry = JournalEntry {
                at: now,
                step: id.to_string(),
                record: record.clone(),
            };
            checkpoint.updated_at = now;
            let mut queue = self.lock_queue();
            queue.entries.push(entry);
            queue.last += 1;
            queue.last
        };
        Staged(number)
    }

    /// Waits until the staged change is durable, writing it (with every change queued with
    /// it) when no other waiter already did.
    pub(crate) async fn flush(&self, staged: Staged) -> Result<(), EngineError> {
        let Staged(number) = staged;
        let Some(store) = &self.store else {
            return Ok(());
        };
        let mut durable = self.durable.lock().await;
        // After a failed save nothing is acted on, even a change saved before it.
        durable.usable(store.as_ref())?;
        if durable.upto >= number {
            return Ok(());
        }
        let (entries, upto) = self.take_queue();
        let whole = match store.append_steps(&entries).await {
            Ok(Appended::Saved) => None,
            Ok(Appended::Compact | Appended::Unsupported) => {
                Some(self.checkpoint.lock().await.clone())
            }
            Err(e) => return durable.record(Err(e)),
        };
        if let Some(snapshot) = whole {
            // Holds every change queued since, too; those will be written again, harmlessly.
            durable.record(store.save(&snapshot).await)?;
        }
        durable.upto = durable.upto.max(upto);
        Ok(())
    }

    fn lock_queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queued
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes the queued changes and the number of the last one.
    fn take_queue(&self) -> (Vec<JournalEntry>, u64) {
        let mut queue = self.lock_queue();
        (std::mem::take(&mut queue.entries), queue.last)
    }

    /// The checkpoint as it stands.
    pub(crate) async fn snapshot(&self) -> Checkpoint {
        self.checkpoint.lock().await.clone()
    }

    /// Reads the checkpoint as it stands without copying it.
    pub(crate) async fn read<T>(&self, read: impl FnOnce(&Checkpoint) -> T) -> T {
        let checkpoint = self.checkpoint.lock().await;
        read(&checkpoint)
    }
}

impl Durable {
    /// Passes a write's result on, remembering a failure so nothing more is saved.
    fn record(
        &mut self,
        written: Result<(), crate::errors::CheckpointError>,
    ) -> Result<(), EngineError> {
        written.map_err(|e| {
            self.broken = Some(e.to_string());
            e.into()
        })
    }

    /// Fails when an earlier write failed.
    fn usable(&self, store: &dyn CheckpointStore) -> Result<(), EngineError> {
        match &self.broken {
            None => Ok(()),
            Some(message) => Err(EngineError::Checkpoint(
                crate::errors::CheckpointError::Remote {
                    location: store.location(),
                    message: format!("an earlier save failed ({message}); nothing more is saved"),
                },
            )),
        }
    }
}

pub(crate) fn unsaved(e: EngineError) -> StepError {
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
