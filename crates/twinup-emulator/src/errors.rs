//! Error types: `EmulatorError` for the host (start-up, persistence, TLS) and `ApiError`, an HTTP
//! error answer that the ARM, Graph or token front ends render in their own wire shape.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::http::StatusCode;

/// Why the emulator could not start or keep its state.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}; choose a free port (port 0 picks one)")]
    Bind {
        /// The address that was asked for.
        addr: SocketAddr,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// The state file exists but could not be read.
    #[error("cannot read the emulator state file {path}: {source}")]
    ReadState {
        /// The state file.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// The state file is not a state this emulator understands.
    #[error(
        "the emulator state file {path} is not valid ({source}); move it away to start with a fresh state"
    )]
    ParseState {
        /// The state file.
        path: PathBuf,
        /// What the parser said.
        source: serde_json::Error,
    },
    /// The state could not be written.
    #[error(
        "cannot write the emulator state file {path}: {source}; check the directory exists and is writable"
    )]
    WriteState {
        /// The state file.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// Generating or loading TLS material failed.
    #[error("cannot set up TLS for the emulator: {0}")]
    Tls(String),
    /// The configuration cannot work.
    #[error("invalid emulator configuration: {0}")]
    Config(String),
    /// Another I/O failure (for example waiting for Ctrl-C or writing stdout).
    #[error("emulator I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// An error answer for an API request, independent of the wire shape.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub headers: Vec<(String, String)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
            headers: Vec::new(),
        }
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}
