//! Progress reporting on stderr: a line per step transition for people, or one JSON object per
//! event for machines.

use std::io::Write;

use console::style;
use twinup_engine::{Event, EventSink, StepAction, humanize};

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

impl EventSink for TextProgress {
    fn emit(&self, event: Event) {
        let line = match event {
            Event::RunStarted { .. } => return,
            Event::StepSkipped { step } => {
                format!("  {} {step}: unchanged, skipped", style("=").dim())
            }
            Event::StepStarted { step, kind, action } => {
                let why = match action {
                    StepAction::Create => "creating",
                    StepAction::Update => "inputs changed, updating",
                    StepAction::Resume => "resuming the operation in flight",
                    StepAction::Retry => "retrying",
                };
                format!("  {} {step} ({kind}): {why}", style("…").cyan())
            }
            Event::StepProgress { step, message } => format!("    {step}: {message}"),
            Event::StepSucceeded {
                step, elapsed_ms, ..
            } => format!(
                "  {} {step}: done in {}",
                style("✓").green(),
                seconds(elapsed_ms)
            ),
            Event::StepFailed {
                step,
                error,
                elapsed_ms,
            } => format!(
                "  {} {step}: failed after {}: {}",
                style("✗").red(),
                seconds(elapsed_ms),
                error.message
            ),
            Event::StepNotStarted { step } => {
                format!("  {} {step}: not started", style("-").dim())
            }
            Event::RunFinished { .. } => return,
        };
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    }
}

/// Prints every event as one JSON line.
pub struct JsonEvents;

impl EventSink for JsonEvents {
    fn emit(&self, event: Event) {
        if let Ok(line) = serde_json::to_string(&event) {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{line}");
        }
    }
}
