//! The OS-level lock (`flock` through `std::fs::File::try_lock`) beside a checkpoint file. The operating system drops it when its process
//! dies, so a killed run never leaves a stale lock; the file names the holder for messages.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::store::CheckpointLock;
use crate::errors::CheckpointError;

/// Holds the exclusive lock on `<canonical checkpoint path>.lock` until dropped.
pub struct LockHolder {
    file: File,
}

impl CheckpointLock for LockHolder {}

impl Drop for LockHolder {
    fn drop(&mut self) {
        // Clear the holder note; the OS releases the lock when the file closes.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

impl LockHolder {
    /// Takes the lock for the checkpoint at `checkpoint_path` (its canonical path, so every
    /// path to one file meets one lock), or says who holds it; `location` names the checkpoint
    /// in messages as the user gave it.
    pub fn acquire(checkpoint_path: &Path, location: &str) -> Result<LockHolder, CheckpointError> {
        let lock_path = lock_path_for(checkpoint_path);
        let mut file = open_lock_file(&lock_path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(CheckpointError::Locked {
                    location: location.to_string(),
                    holder: if holder.is_empty() {
                        "a process that is just starting".to_string()
                    } else {
                        holder.to_string()
                    },
                });
            }
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(CheckpointError::NotWritable {
                    path: lock_path,
                    source,
                });
            }
        }
        let note = format!(
            "process {} since {}",
            std::process::id(),
            chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
        );
        let written = file
            .set_len(0)
            .and_then(|_| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(note.as_bytes()))
            .and_then(|_| file.flush());
        if let Err(source) = written {
            return Err(CheckpointError::NotWritable {
                path: lock_path,
                source,
            });
        }
        Ok(LockHolder { file })
    }

    /// Who holds the lock on the checkpoint at `checkpoint_path` right now (the holder's note,
    /// e.g. `process 4242 since ...`), or `None` when no live process does: the OS drops the
    /// lock of a process that died, so a run that was killed is told apart from one that runs.
    /// The probe takes a shared lock for an instant, never the exclusive one.
    pub fn current_holder(checkpoint_path: &Path) -> Option<String> {
        let mut file = File::open(lock_path_for(checkpoint_path)).ok()?;
        match file.try_lock_shared() {
            Ok(()) => {
                let _ = file.unlock();
                None
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                Some(if holder.is_empty() {
                    "a process that is just starting".to_string()
                } else {
                    holder.to_string()
                })
            }
            Err(std::fs::TryLockError::Error(_)) => None,
        }
    }
}

fn lock_path_for(checkpoint_path: &Path) -> PathBuf {
    let mut name = checkpoint_path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".lock");
    checkpoint_path.with_file_name(name)
}

fn open_lock_file(path: &Path) -> Result<File, CheckpointError> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map_err(|source| CheckpointError::NotWritable {
            path: path.to_path_buf(),
            source,
        })
}
