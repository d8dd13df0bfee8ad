//! The limits every document twinup reads is held to (plans, answers files, `--set` lists and
//! maps, deploy.ps1 configs), so that no input can make it use unbounded memory or time, and
//! [`read_bounded`], which reads a file without ever holding more than the limit.

use std::io::Read;
use std::path::Path;

/// The largest plan, answers file or imported config accepted, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 4 << 20;

/// The deepest nesting of lists and mappings accepted, so hostile input cannot exhaust the stack.
pub const MAX_DEPTH: usize = 200;

/// The most YAML aliases (`*name`) one document may use.
pub const MAX_ALIASES: usize = 10_000;

/// The most a document may expand to once every alias is copied where it is used, counted as
/// scalar text plus a fixed cost per node (roughly the loaded size in memory).
pub const MAX_EXPANDED_BYTES: usize = 16 << 20;

/// Why a bounded read failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The file is larger than [`MAX_DOCUMENT_BYTES`].
    #[error("the file is larger than the limit of {MAX_DOCUMENT_BYTES} bytes (4 MiB)")]
    TooLarge,
}

/// Reads the UTF-8 text at `path`, refusing a file over [`MAX_DOCUMENT_BYTES`] before more than
/// that has been read (a special file such as `/dev/zero` included).
pub fn read_bounded(path: &Path) -> Result<String, ReadError> {
    let file = std::fs::File::open(path)?;
    let mut text = String::new();
    file.take(MAX_DOCUMENT_BYTES as u64 + 1)
        .read_to_string(&mut text)?;
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(ReadError::TooLarge);
    }
    Ok(text)
}
