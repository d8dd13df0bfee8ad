//! What the binary prints: progress while a run goes (a live view on a terminal, text lines
//! otherwise, or JSON lines on stderr) and the final result (text or one JSON object on stdout).

mod live;
mod progress;
mod result;
pub mod stdout;

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use twinup_engine::EventSink;

use crate::cli::OutputFormat;

pub use live::LiveProgress;
pub use progress::{JsonEvents, NoProgress, TextProgress, json_event_line};
pub use result::{print_failure, print_success};

/// The version of the JSON output contract (`docs/json-output.md`), in every JSON line and
/// object.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// Prints a command's JSON result on stdout, with `schema_version` first.
pub fn print_json(result: serde_json::Value) {
    let mut doc = serde_json::Map::new();
    doc.insert(
        "schema_version".into(),
        serde_json::json!(JSON_SCHEMA_VERSION),
    );
    match result {
        serde_json::Value::Object(fields) => doc.extend(fields),
        other => {
            doc.insert("result".into(), other);
        }
    }
    crate::outln!("{}", serde_json::Value::Object(doc));
}

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

/// Tells the user something that happened to the run (not a step): a text line, or with
/// `--output json` an event line `{"event": event, "message": text}`.
pub fn notice(format: OutputFormat, event: &str, text: &str) {
    match format {
        OutputFormat::Json => json_event_line(serde_json::json!({"event": event, "message": text})),
        OutputFormat::Text => eprintln!("{text}"),
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
