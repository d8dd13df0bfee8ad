//! The state file: loading, and atomic writes (temporary file in the same directory, fsync,
//! rename, fsync of the directory, mode 0600) so a crash never leaves a half-written state.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::errors::EmulatorError;
use crate::state::{FORMAT, State};

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Where the state lives (if anywhere) and which version was last written.
pub(crate) struct Store {
    path: Option<PathBuf>,
    written: Mutex<u64>,
}

impl Store {
    pub fn new(path: Option<PathBuf>) -> Self {
        Store {
            path,
            written: Mutex::new(0),
        }
    }

    /// Reads the state file; `None` when there is no path or no file yet.
    pub fn load(&self) -> Result<Option<State>, EmulatorError> {
        let Some(path) = &self.path else {
            return Ok(None);
        };
        remove_stale_temp_files(path);
        let bytes = match fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(EmulatorError::ReadState {
                    path: path.clone(),
                    source,
                });
            }
        };
        let state: State =
            serde_json::from_slice(&bytes).map_err(|source| EmulatorError::ParseState {
                path: path.clone(),
                source,
            })?;
        if state.format != FORMAT {
            return Err(EmulatorError::Config(format!(
                "state file {} has format {} but this emulator reads format {FORMAT}; move it away to start fresh",
                path.display(),
                state.format
            )));
        }
        Ok(Some(state))
    }

    /// Writes `bytes` (the serialised state at `version`) unless a newer version was written already.
    pub fn save(&self, version: u64, bytes: &[u8]) -> Result<(), EmulatorError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
        if version <= *written && *written != 0 {
            return Ok(());
        }
        write_atomic(path, bytes).map_err(|source| EmulatorError::WriteState {
            path: path.clone(),
            source,
        })?;
        *written = version;
        Ok(())
    }
}

fn temp_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".to_string());
    format!(".{name}.tmp-")
}

/// Replaces `path` with `bytes` atomically.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = dir.join(format!(
        "{}{}-{}",
        temp_prefix(path),
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        if let Ok(d) = fs::File::open(&dir) {
            // Persist the rename itself; some filesystems do not allow this, which is harmless.
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Temporary files left behind by a process killed mid-write are garbage: remove them.
fn remove_stale_temp_files(path: &Path) {
    let Some(dir) = path.parent() else { return };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = temp_prefix(path);
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_content_with_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        write_atomic(&path, b"{\"a\":1}").unwrap();
        write_atomic(&path, b"{\"a\":2}").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "{\"a\":2}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(leftovers.len(), 1, "no temporary files stay behind");
    }

    #[test]
    fn a_half_written_temp_file_is_ignored_and_removed_on_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let stale = dir.path().join(".state.json.tmp-999-0");
        fs::write(&stale, b"{\"format\":1,\"tena").unwrap();
        let store = Store::new(Some(path));
        assert!(store.load().unwrap().is_none());
        assert!(!stale.exists());
    }
}
