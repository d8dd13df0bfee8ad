//! The local checkpoint file: JSON, mode 0600, replaced atomically (temporary file, fsync,
//! rename, fsync of the directory), locked by [`LockHolder`]. The lock, reads and writes all go
//! to the file's canonical path, so every way of naming one checkpoint (a symlink, `..`, a
//! relative or absolute path) meets the same lock and writes the same file.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::lock::LockHolder;
use super::model::{Checkpoint, SCHEMA_VERSION};
use super::store::{CheckpointLock, CheckpointStore};
use super::test_hooks;
use crate::errors::CheckpointError;

/// A checkpoint kept in a local file.
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    /// A store for the file at `path` (created on first save, with its directory).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileStore { path: path.into() }
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

    fn write_atomically(&self, bytes: &[u8]) -> Result<(), CheckpointError> {
        let not_writable = |source| CheckpointError::NotWritable {
            path: self.path.clone(),
            source,
        };
        let real = self.canonical_path();
        let tmp = real.with_extension(format!("json.tmp-{}", std::process::id()));
        let crash_midway = test_hooks::begin_write();
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
        test_hooks::end_write();
        Ok(())
    }
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

/// Parses checkpoint bytes, telling damaged, newer-schema and valid files apart (for every
/// store: a local file or a remote blob). `location` names the checkpoint in error messages.
pub fn parse_checkpoint(location: &str, bytes: &[u8]) -> Result<Checkpoint, CheckpointError> {
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
    let checkpoint: Checkpoint =
        serde_json::from_value(value).map_err(|e| corrupt(format!("unexpected content: {e}")))?;
    let contradictions = super::integrity::contradictions(&checkpoint);
    if !contradictions.is_empty() {
        return Err(corrupt(contradictions.join("; ")));
    }
    Ok(checkpoint)
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
        if self.path.is_dir() {
            return Err(CheckpointError::Corrupt {
                location: self.location(),
                detail: "it is a directory, not a file".to_string(),
            });
        }
        let bytes = match fs::read(self.canonical_path()) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(CheckpointError::Unreadable {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        parse_checkpoint(&self.location(), &bytes).map(Some)
    }

    async fn save(&self, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
        self.ensure_dir()?;
        let mut bytes =
            serde_json::to_vec_pretty(checkpoint).map_err(|e| CheckpointError::Corrupt {
                location: self.location(),
                detail: format!("cannot serialise: {e}"),
            })?;
        bytes.push(b'\n');
        self.write_atomically(&bytes)
    }
}
