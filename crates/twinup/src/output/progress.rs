//! Progress reporting on stderr: a line per step transition for people, or one JSON object per
//! event for machines. Messages that may echo input are printed with control characters
//! escaped.

use std::io::Write;

use console::style;
use twinup_engine::{Event, EventSink, StepAction, humanize};
use twinup_plan::escape_controls;

/// Prints step transitions as text lines.
pub struct TextProgress;

fn seconds(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        humanize(std::time::Duration::from_secs(ms / 1000))
    }
}

/// What a step is doing, by why it runs.
pub fn action_text(action: StepAction) -> &'static str {
    match action {
        StepAction::Create => "creating",
        StepAction::Update => "inputs changed, updating",
        StepAction::Resume => "resuming the operation in flight",
        StepAction::Retry => "retrying",
        StepAction::Delete => "deleting",
    }
}

/// A retry said for people: `retrying in 5 s (attempt 2 of 6): HTTP 503`.
pub fn retry_text(event: &Event) -> Option<String> {
    let Event::StepRetry {
        attempt,
        max_attempts,
        cause,
        wait_ms,
        ..
    } = event
    else {
        return None;
    };
    let wait = if *wait_ms < 1000 {
        format!("{wait_ms} ms")
    } else {
        format!("{} s", wait_ms.div_ceil(1000))
    };
    Some(format!(
        "retrying in {wait} (attempt {attempt} of {max_attempts}): {}",
        escape_controls(cause)
    ))
}

/// The text line for an event, or `None` for events that print nothing.
pub fn line_for(event: &Event) -> Option<String> {
    Some(match event {
        Event::RunStarted { to_run, unchanged } => {
            if unchanged.is_empty() {
                format!("Running {} step(s)", to_run.len())
            } else {
                format!(
                    "Running {} step(s); {} already done and unchanged",
                    to_run.len() - unchanged.len().min(to_run.len()),
                    unchanged.len()
                )
            }
        }
        Event::StepSkipped { step } => {
            format!("  {} {step}: unchanged, skipped", style("=").dim())
        }
        Event::StepStarted { step, kind, action } => {
            format!(
                "  {} {step} ({kind}): {}",
                style("…").cyan(),
                action_text(*action)
            )
        }
        Event::StepProgress { step, message } => {
            format!("    {step}: {}", escape_controls(message))
        }
        Event::StepRetry { step, .. } => {
            format!("    {step}: {}", retry_text(event).unwrap_or_default())
        }
        Event::StepSucceeded {
            step, elapsed_ms, ..
        } => format!(
            "  {} {step}: done in {}",
            style("✓").green(),
            seconds(*elapsed_ms)
        ),
        Event::StepFailed {
            step,
            error,
            elapsed_ms,
        } if error.kind == twinup_engine::StepErrorKind::Interrupted => format!(
            "  {} {step}: stopped after {}: interrupted; a rerun resumes it",
            style("■").yellow(),
            seconds(*elapsed_ms)
        ),
        Event::StepFailed {
            step,
            error,
            elapsed_ms,
        } => format!(
            "  {} {step}: failed after {}: {}",
            style("✗").red(),
            seconds(*elapsed_ms),
            escape_controls(&error.message)
        ),
        Event::StepNotStarted { step } => {
            format!("  {} {step}: not started", style("-").dim())
        }
        Event::RunFinished { .. } => return None,
    })
}

impl EventSink for TextProgress {
    fn emit(&self, event: Event) {
        if let Some(mut line) = line_for(&event) {
            line.push('\n');
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
    }
}

/// Prints nothing (`--quiet`): failures reach the user in the final report.
pub struct NoProgress;

impl EventSink for NoProgress {
    fn emit(&self, _event: Event) {}
}

/// Prints every event as one JSON line.
pub struct JsonEvents;

impl EventSink for JsonEvents {
    fn emit(&self, event: Event) {
        if let Ok(value) = serde_json::to_value(&event) {
            json_event_line(value);
        }
    }
}

/// Writes one JSON event line on stderr, with `schema_version` and `timestamp` added (the
/// event's own fields, `event` first among them, follow).
pub fn json_event_line(event: serde_json::Value) {
    let mut line = serde_json::Map::new();
    line.insert(
        "schema_version".into(),
        serde_json::json!(super::JSON_SCHEMA_VERSION),
    );
    line.insert(
        "timestamp".into(),
        serde_json::json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
    );
    match event {
        serde_json::Value::Object(fields) => line.extend(fields),
        other => {
            line.insert("value".into(), other);
        }
    }
    // One write per line: stderr is unbuffered, and a fleet's events are many.
    let mut text = serde_json::Value::Object(line).to_string();
    text.push('\n');
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
