//! The checkpoint: its document model, where it is stored, and the lock that keeps two runs
//! from using one checkpoint at the same time.

mod file_store;
mod integrity;
mod journal;
mod lock;
mod model;
mod store;
pub mod test_hooks;
mod transitions;

pub use file_store::{FileStore, journal_path, parse_checkpoint, read_checkpoint_file};
pub use integrity::contradictions;
pub use journal::JournalEntry;
pub use lock::LockHolder;
pub use model::{
    Checkpoint, PlanIdentity, RunRecord, RunStatus, SCHEMA_VERSION, StepRecord, StepState,
    UnconfirmedInputs,
};
pub use store::{Appended, CheckpointLock, CheckpointStore};
