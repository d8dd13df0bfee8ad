//! What `up` says about drift: the refresh before a run (steps whose resources were deleted or
//! changed outside twinup run again) and the guard against running `up` over an unfinished
//! `down`.

use std::path::Path;

use twinup_engine::{Drift, Session, StepCheck, unfinished_deletes};

use crate::cli::OutputFormat;
use crate::commands::verify::describe;
use crate::failure::Failure;

/// Stops `up` when a `down` on this checkpoint did not finish: its deletes must end first.
pub fn refuse_unfinished_down(session: &Session, checkpoint: &Path) -> Result<(), Failure> {
    let steps = unfinished_deletes(session.checkpoint());
    if steps.is_empty() {
        return Ok(());
    }
    Err(Failure::bad_input(format!(
        "a `twinup down` did not finish (deleting: {}); run `twinup down --checkpoint {}` to finish it, then `twinup up`",
        steps.join(", "),
        checkpoint.display()
    )))
}

/// Tells the user which finished steps run again because their resources drifted.
pub fn report_refresh(format: OutputFormat, found: &[StepCheck]) {
    if format == OutputFormat::Json {
        // One event line per drifted step, on stderr beside the run's other events.
        for check in found.iter().filter(|c| c.drift.is_some()) {
            crate::output::json_event_line(serde_json::json!({
                "event": "drift_found",
                "step": check.step,
                "kind": check.kind,
                "drift": check.drift,
            }));
        }
        return;
    }
    if found.is_empty() || !crate::output::chatty(format) {
        return;
    }
    for check in found {
        let again = match &check.drift {
            Some(Drift::Deleted) => "; it will be created again",
            Some(Drift::Changed { .. }) | Some(Drift::DependencyDrifted { .. }) => {
                "; it will be updated"
            }
            _ => "; left as recorded",
        };
        let lines = describe(check);
        for (i, line) in lines.iter().enumerate() {
            if i == 0 {
                eprintln!("Drift: {line}{again}");
            } else {
                eprintln!("  {line}");
            }
        }
    }
}
