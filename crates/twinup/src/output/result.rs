//! The final result of a command: the success banner and outputs, or the failure report.
//! Text that came from input is printed with control characters escaped.

use serde_json::{Value, json};
use twinup_engine::display_value;
use twinup_plan::escape_controls;

use crate::cli::OutputFormat;
use crate::failure::Failure;

/// Prints a successful deployment's outputs.
pub fn print_success(
    format: OutputFormat,
    nothing_to_do: bool,
    outputs: &serde_json::Map<String, Value>,
) {
    match format {
        OutputFormat::Json => {
            let doc = json!({
                "schema_version": super::JSON_SCHEMA_VERSION,
                "status": "succeeded",
                "nothing_to_do": nothing_to_do,
                "outputs": outputs,
            });
            crate::outln!("{doc}");
        }
        OutputFormat::Text => {
            if nothing_to_do && super::chatty(format) {
                eprintln!("Nothing to do: every step is done and its inputs are unchanged.");
            }
            crate::outln!("Deployment completed successfully");
            let width = outputs.keys().map(|k| k.len()).max().unwrap_or(0);
            for (name, value) in outputs {
                crate::outln!(
                    "  {name:<width$}  {}",
                    escape_controls(&display_value(value))
                );
            }
        }
    }
}

/// Prints a failure: text on stderr, or a JSON object on stdout.
pub fn print_failure(format: OutputFormat, failure: &Failure) {
    match format {
        OutputFormat::Json => {
            let status = match failure.code {
                crate::failure::EXIT_INTERRUPTED => "interrupted",
                crate::failure::EXIT_STEP_FAILED => "failed",
                _ => "invalid",
            };
            let mut detail = serde_json::Map::new();
            detail.insert("code".into(), json!(failure.json_code()));
            detail.insert("message".into(), json!(failure.message));
            detail.extend(failure.details.clone());
            // `error` stays the message string scripts already read; `failure` is the object.
            let doc = json!({
                "schema_version": super::JSON_SCHEMA_VERSION,
                "status": status,
                "exit_code": failure.code,
                "error": failure.message,
                "failure": detail,
            });
            crate::outln!("{doc}");
        }
        OutputFormat::Text if failure.located => eprintln!("{}", escape_controls(&failure.message)),
        OutputFormat::Text => eprintln!("error: {}", escape_controls(&failure.message)),
    }
}
