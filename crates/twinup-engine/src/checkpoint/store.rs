//! The storage contract for checkpoints, so a local file and remote backends behave alike.

use async_trait::async_trait;

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
}
