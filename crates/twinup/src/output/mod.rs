//! What the binary prints: progress while a run goes (a live view on a terminal, text lines
//! otherwise, or JSON lines on stderr) and the final result (text or one JSON object on stdout).

mod live;
mod progress;
mod result;

use std::io::IsTerminal;
use std::sync::Arc;

use twinup_engine::EventSink;

use crate::cli::OutputFormat;

pub use live::LiveProgress;
pub use progress::{JsonEvents, TextProgress};
pub use result::{print_failure, print_success};

/// True when progress may be drawn live: stderr is a terminal, `NO_COLOR` is unset and the
/// terminal is not `dumb`.
pub fn live_view_allowed() -> bool {
    std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

/// The progress display for `format`: JSON event lines, the live view, or plain lines.
pub fn progress_sink(format: OutputFormat) -> Arc<dyn EventSink> {
    match format {
        OutputFormat::Json => Arc::new(JsonEvents),
        OutputFormat::Text if live_view_allowed() => Arc::new(LiveProgress::new()),
        OutputFormat::Text => Arc::new(TextProgress),
    }
}
