//! The storage contract for checkpoints, so a local file and remote backends behave alike.

use async_trait::async_trait;

use super::journal::JournalEntry;
use super::model::Checkpoint;
use crate::errors::CheckpointError;

/// Held while a run uses a checkpoint; dropping it releases the lock.
pub trait CheckpointLock: Send + Sync {}

/// Where a checkpoint lives.
#[async_trait]
pub trait CheckpointStore: Send + Sync {
    /// Where it is, for messages: a path or a URL.
    fn location(&self) -> String;

    /// Takes the exclusive lock, failing at once (naming the holder) when another run has it.
    async fn lock(&self) -> Result<Box<dyn CheckpointLock>, CheckpointError>;

    /// Reads the checkpoint; `None` when there is none yet. Never repairs or replaces a bad one.
    async fn load(&self) -> Result<Option<Checkpoint>, CheckpointError>;

    /// Replaces the checkpoint atomically: afterwards it is either wholly old or wholly new.
    async fn save(&self, checkpoint: &Checkpoint) -> Result<(), CheckpointError>;

    /// Whether [`append_steps`](Self::append_steps) can save step records (a journal). A store
    /// that cannot has every transition saved whole, one save per transition, as it happens.
    fn appends(&self) -> bool {
        false
    }

    /// Saves changed step records at a cost in proportion to their size (one durable append
    /// for all of them), continuing the checkpoint last saved or loaded through this store.
    /// [`Appended::Unsupported`] (the default) asks the caller to [`save`](Self::save) the
    /// whole checkpoint instead; [`Appended::Compact`] says the records are saved and a whole
    /// save would now be cheaper than letting the journal grow.
    async fn append_steps(&self, _entries: &[JournalEntry]) -> Result<Appended, CheckpointError> {
        Ok(Appended::Unsupported)
    }
}

/// What [`CheckpointStore::append_steps`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// The records are saved.
    Saved,
    /// The records are saved; the journal has outgrown the snapshot, so save it whole.
    Compact,
    /// Nothing was saved: this store keeps whole checkpoints only.
    Unsupported,
}
