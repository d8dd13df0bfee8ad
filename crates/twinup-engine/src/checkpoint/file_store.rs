//! The local checkpoint file: JSON, mode 0600, replaced atomically (temporary file, fsync,
//! rename, fsync of the directory), locked by [`LockHolder`]. Between whole saves, changed
//! step records are appended to a journal beside it (see [`super::journal`]), so a transition
//! costs the size of the change; loading applies the journal. The lock, reads and writes all
//! go to the file's canonical path, so every way of naming one checkpoint (a symlink, `..`, a
//! relative or absolute path) meets the same lock and writes the same file.

use std::fs::{self, File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::journal::{self, Applied, JournalEntry};
use super::lock::LockHolder;
use super::model::{Checkpoint, SCHEMA_VERSION};
use super::store::{Appended, CheckpointLock, CheckpointStore};
use super::test_hooks;
use crate::errors::CheckpointError;

/// A journal smaller than this is never worth a whole save.
const JOURNAL_FLOOR: u64 = 256 * 1024;

/// A checkpoint kept in a local file.
pub struct FileStore {
    path: PathBuf,
    journal: Arc<Mutex<JournalState>>,
}

/// What the store knows of the journal continuing the snapshot it last saved or loaded.
#[derive(Default)]
struct JournalState {
    /// The hash of that snapshot's bytes; `None` before the first save or load.
    base: Option<String>,
    /// That snapshot's size in bytes.
    snapshot_len: u64,
    /// A journal of this base found by loading: its length up to the last whole line.
    found_len: Option<u64>,
    /// The open journal and its length.
    open: Option<(File, u64)>,
    /// Where the journal is (beside the canonical checkpoint path).
    file: PathBuf,
}

/// The journal beside the checkpoint file at `path` (canonical).
pub fn journal_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".journal");
    PathBuf::from(name)
}

/// Reads the checkpoint file at `path` with its journal applied, as a run would load it.
/// `None` when there is no checkpoint.
pub fn read_checkpoint_file(path: &Path) -> Result<Option<Checkpoint>, CheckpointError> {
    let store = FileStore::new(path);
    store.read().map(|loaded| loaded.map(|l| l.checkpoint))
}

/// A checkpoint as read from disk, with what the store must remember of its journal.
struct Loaded {
    checkpoint: Checkpoint,
    base: String,
    snapshot_len: u64,
    found_len: Option<u64>,
}

impl FileStore {
    /// A store for the file at `path` (created on first save, with its directory).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileStore {
            path: path.into(),
            journal: Arc::new(Mutex::new(JournalState::default())),
        }
    }

    /// The checkpoint file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The checkpoint's canonical path: symlinks, `.` and `..` resolved (through the parent
    /// directory when the file does not exist yet). The path as given when nothing resolves.
    pub fn canonical_path(&self) -> PathBuf {
        if let Ok(real) = fs::canonicalize(&self.path) {
            return real;
        }
        let dir = match self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            Some(dir) => dir,
            None => Path::new("."),
        };
        match (fs::canonicalize(dir), self.path.file_name()) {
            (Ok(dir), Some(name)) => dir.join(name),
            _ => self.path.clone(),
        }
    }

    fn ensure_dir(&self) -> Result<(), CheckpointError> {
        let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) else {
            return Ok(());
        };
        if dir.is_dir() {
            return Ok(());
        }
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder
            .create(dir)
            .map_err(|source| CheckpointError::NotWritable {
                path: self.path.clone(),
                source,
            })
    }

    fn not_writable(&self, source: std::io::Error) -> CheckpointError {
        CheckpointError::NotWritable {
            path: self.path.clone(),
            source,
        }
    }

    fn write_atomically(&self, bytes: &[u8]) -> Result<(), CheckpointError> {
        let not_writable = |source| self.not_writable(source);
        let real = self.canonical_path();
        let tmp = real.with_extension(format!("json.tmp-{}", std::process::id()));
        let writes = test_hooks::begin_writes(1);
        let crash_midway = writes.crash_midway();
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(not_writable)?;
        if crash_midway {
            let _ = file.write_all(&bytes[..bytes.len() / 2]);
            let _ = file.sync_all();
            test_hooks::crash();
        }
        // On any failure (a full disk, say) the temporary file goes, the checkpoint stays.
        let written = file
            .write_all(bytes)
            .and_then(|()| file.sync_all())
            .and_then(|()| {
                drop(file);
                fs::rename(&tmp, &real)
            });
        if let Err(source) = written {
            let _ = fs::remove_file(&tmp);
            return Err(not_writable(source));
        }
        sync_dir(&real);
        test_hooks::end_writes(writes);
        Ok(())
    }

    /// Reads the snapshot and applies its journal. Never repairs or replaces anything.
    fn read(&self) -> Result<Option<Loaded>, CheckpointError> {
        if self.path.is_dir() {
            return Err(CheckpointError::Corrupt {
                location: self.location(),
                detail: "it is a directory, not a file".to_string(),
            });
        }
        let real = self.canonical_path();
        let unreadable = |source| CheckpointError::Unreadable {
            path: self.path.clone(),
            source,
        };
        let bytes = match fs::read(&real) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(unreadable(source)),
        };
        let location = self.location();
        let mut checkpoint = parse_snapshot(&location, &bytes)?;
        let base = journal::base_of(&bytes);
        let found_len = match fs::read(journal_path(&real)) {
            Ok(log) => match journal::apply(&mut checkpoint, &base, &log) {
                Ok(Applied::Records(_)) => Some(whole_lines_len(&log)),
                Ok(Applied::OtherBase) => None,
                Err(detail) => return Err(CheckpointError::Corrupt { location, detail }),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => return Err(unreadable(source)),
        };
        check_integrity(&location, &checkpoint)?;
        Ok(Some(Loaded {
            checkpoint,
            base,
            snapshot_len: bytes.len() as u64,
            found_len,
        }))
    }
}

/// The length of `log` up to and including its last newline (a torn last line left out).
fn whole_lines_len(log: &[u8]) -> u64 {
    log.iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i as u64 + 1)
}

/// Appends `bytes` (the lines of `count` records) to the journal of `state`'s snapshot,
/// creating the journal (or cutting a torn last line off a found one) first; durable when it
/// returns. The journal's length afterwards.
fn append_blocking(
    state: &Mutex<JournalState>,
    bytes: &[u8],
    count: u64,
) -> std::io::Result<Option<u64>> {
    let mut state = state
        .lock()
        .map_err(|_| std::io::Error::other("the journal lock was poisoned"))?;
    let Some(base) = state.base.clone() else {
        return Ok(None);
    };
    let journal = state.file.clone();
    let journal = journal.as_path();
    if state.open.is_none() {
        let opened = match state.found_len {
            Some(len) => {
                let mut file = OpenOptions::new().write(true).open(journal)?;
                file.set_len(len)?;
                file.seek(SeekFrom::End(0))?;
                (file, len)
            }
            None => {
                let mut options = OpenOptions::new();
                options.write(true).create(true).truncate(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    options.mode(0o600);
                }
                let mut file = options.open(journal)?;
                let header = journal::header(&base);
                file.write_all(&header)?;
                file.sync_all()?;
                sync_dir(journal);
                (file, header.len() as u64)
            }
        };
        state.open = Some(opened);
    }
    let Some((file, len)) = state.open.as_mut() else {
        return Ok(None);
    };
    let writes = test_hooks::begin_writes(count);
    if writes.crash_midway() {
        let _ = file.write_all(&bytes[..bytes.len() / 2]);
        let _ = file.sync_data();
        test_hooks::crash();
    }
    if let Err(e) = file.write_all(bytes).and_then(|()| file.sync_data()) {
        // The file may now end in part of a line: the next append starts a new journal
        // only after a whole save, so stop appending to this one.
        state.open = None;
        state.base = None;
        return Err(e);
    }
    *len += bytes.len() as u64;
    let len = *len;
    test_hooks::end_writes(writes);
    Ok(Some(len))
}

fn sync_dir(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

/// Parses a snapshot's bytes (its journal not yet applied, its integrity not yet checked).
fn parse_snapshot(location: &str, bytes: &[u8]) -> Result<Checkpoint, CheckpointError> {
    let corrupt = |detail: String| CheckpointError::Corrupt {
        location: location.to_string(),
        detail,
    };
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(corrupt("the file is empty".to_string()));
    }
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| corrupt(format!("not valid JSON: {e}")))?;
    let version = match value.get("schema_version") {
        None => return Err(corrupt("no schema_version field".to_string())),
        Some(v) => v.as_u64().ok_or_else(|| {
            corrupt(format!(
                "schema_version is {}, not a whole number",
                json_type_name(v)
            ))
        })?,
    };
    if version > u64::from(SCHEMA_VERSION) {
        return Err(CheckpointError::NewerSchema {
            location: location.to_string(),
            found: u32::try_from(version).unwrap_or(u32::MAX),
            supported: SCHEMA_VERSION,
        });
    }
    serde_json::from_value(value).map_err(|e| corrupt(format!("unexpected content: {e}")))
}

/// Parses checkpoint bytes, telling damaged, newer-schema and valid files apart (for every
/// store: a local file or a remote blob). `location` names the checkpoint in error messages.
pub fn parse_checkpoint(location: &str, bytes: &[u8]) -> Result<Checkpoint, CheckpointError> {
    let checkpoint = parse_snapshot(location, bytes)?;
    check_integrity(location, &checkpoint)?;
    Ok(checkpoint)
}

/// Refuses a checkpoint whose records contradict themselves.
fn check_integrity(location: &str, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
    let contradictions = super::integrity::contradictions(checkpoint);
    if contradictions.is_empty() {
        return Ok(());
    }
    Err(CheckpointError::Corrupt {
        location: location.to_string(),
        detail: contradictions.join("; "),
    })
}

/// A word for a JSON value's type, for messages about fields of the wrong type.
fn json_type_name(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number that is not a whole number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

#[async_trait]
impl CheckpointStore for FileStore {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    async fn lock(&self) -> Result<Box<dyn CheckpointLock>, CheckpointError> {
        self.ensure_dir()?;
        Ok(Box::new(LockHolder::acquire(
            &self.canonical_path(),
            &self.location(),
        )?))
    }

    async fn load(&self) -> Result<Option<Checkpoint>, CheckpointError> {
        let Some(loaded) = self.read()? else {
            return Ok(None);
        };
        if let Ok(mut state) = self.journal.lock() {
            *state = JournalState {
                base: Some(loaded.base),
                snapshot_len: loaded.snapshot_len,
                found_len: loaded.found_len,
                open: None,
                file: journal_path(&self.canonical_path()),
            };
        }
        Ok(Some(loaded.checkpoint))
    }

    async fn save(&self, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
        self.ensure_dir()?;
        let mut bytes =
            serde_json::to_vec_pretty(checkpoint).map_err(|e| CheckpointError::Corrupt {
                location: self.location(),
                detail: format!("cannot serialise: {e}"),
            })?;
        bytes.push(b'\n');
        // Until the new snapshot is in place, nothing may append to the old journal.
        let mut state = self
            .journal
            .lock()
            .map_err(|_| self.not_writable(std::io::Error::other("journal lock poisoned")))?;
        state.base = None;
        state.open = None;
        self.write_atomically(&bytes)?;
        // The old journal continues the old snapshot; once the new one is in place it is
        // ignored even if it stays (its base no longer matches), so removing it is tidying.
        let journal = journal_path(&self.canonical_path());
        if let Err(e) = fs::remove_file(&journal)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(journal = %journal.display(), "cannot remove the old journal: {e}");
        }
        *state = JournalState {
            base: Some(journal::base_of(&bytes)),
            snapshot_len: bytes.len() as u64,
            found_len: None,
            open: None,
            file: journal,
        };
        Ok(())
    }

    fn appends(&self) -> bool {
        true
    }

    async fn append_steps(&self, entries: &[JournalEntry]) -> Result<Appended, CheckpointError> {
        if entries.is_empty() {
            return Ok(Appended::Saved);
        }
        let bytes = journal::lines(entries).map_err(|e| CheckpointError::Corrupt {
            location: self.location(),
            detail: format!("cannot serialise: {e}"),
        })?;
        let state = self.journal.clone();
        let count = entries.len() as u64;
        let appended = tokio::task::spawn_blocking(move || append_blocking(&state, &bytes, count))
            .await
            .map_err(|e| self.not_writable(std::io::Error::other(e.to_string())))?
            .map_err(|e| self.not_writable(e))?;
        let Some(len) = appended else {
            return Ok(Appended::Unsupported);
        };
        let snapshot_len = self.journal.lock().map(|s| s.snapshot_len).unwrap_or(0);
        Ok(if len > snapshot_len.max(JOURNAL_FLOOR) {
            Appended::Compact
        } else {
            Appended::Saved
        })
    }
}
