//! What the binary prints: progress while a run goes (a live view on a terminal, text lines
//! otherwise, or JSON lines on stderr) and the final result (text or one JSON object on stdout).

mod live;
mod progress;
mod result;

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use twinup_engine::EventSink;

use crate::cli::OutputFormat;

pub use live::LiveProgress;
pub use progress::{JsonEvents, NoProgress, TextProgress};
pub use result::{print_failure, print_success};

/// Set once from `--quiet`.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Applies `--quiet`: only results and errors are printed from now on.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// True when progress and notes for people are printed: text output without `--quiet`.
pub fn chatty(format: OutputFormat) -> bool {
    format == OutputFormat::Text && !QUIET.load(Ordering::Relaxed)
}

/// True when stderr takes colour: a terminal, and `NO_COLOR` unset.
pub fn colour_allowed() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Says who signed in (text output without `--quiet` only).
pub fn signed_in(format: OutputFormat, who: &str, credential: &str, tenant: &str) {
    if chatty(format) {
        eprintln!("Signed in as {who} with {credential} (tenant {tenant})");
    }
}

/// True when progress may be drawn live: stderr is a terminal, `NO_COLOR` is unset and the
/// terminal is not `dumb`.
pub fn live_view_allowed() -> bool {
    std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

/// The progress display for `format`: JSON event lines, nothing (`--quiet`), the live view, or
/// plain lines.
pub fn progress_sink(format: OutputFormat) -> Arc<dyn EventSink> {
    match format {
        OutputFormat::Json => Arc::new(JsonEvents),
        OutputFormat::Text if QUIET.load(Ordering::Relaxed) => Arc::new(NoProgress),
        OutputFormat::Text if live_view_allowed() => Arc::new(LiveProgress::new()),
        OutputFormat::Text => Arc::new(TextProgress),
    }
}
