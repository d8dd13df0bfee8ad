//! How the binary fails: every error carries the exit code scripts rely on
//! (0 success, 1 a step failed, 2 bad input or usage, 130 interrupted).

use std::fmt;

/// Exit code: a step failed; a rerun resumes.
pub const EXIT_STEP_FAILED: u8 = 1;
/// Exit code: bad input or usage; nothing was changed.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code: interrupted (Ctrl-C); a rerun resumes.
pub const EXIT_INTERRUPTED: u8 = 130;

/// A failure to report and exit with.
#[derive(Debug)]
pub struct Failure {
    /// The process exit code.
    pub code: u8,
    /// The message, possibly several lines.
    pub message: String,
    /// The message already carries its own `file:line:column: error:` prefixes.
    pub located: bool,
    /// Structured fields for `--output json` (e.g. `missing_inputs`, `failed_steps`).
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl Failure {
    /// Bad input or usage (exit 2).
    pub fn bad_input(message: impl fmt::Display) -> Self {
        Failure {
            code: EXIT_BAD_INPUT,
            message: message.to_string(),
            located: false,
            details: serde_json::Map::new(),
        }
    }

    /// A step failed (exit 1).
    pub fn step_failed(message: impl fmt::Display) -> Self {
        Failure {
            code: EXIT_STEP_FAILED,
            message: message.to_string(),
            located: false,
            details: serde_json::Map::new(),
        }
    }

    /// Interrupted (exit 130).
    pub fn interrupted(message: impl fmt::Display) -> Self {
        Failure {
            code: EXIT_INTERRUPTED,
            message: message.to_string(),
            located: false,
            details: serde_json::Map::new(),
        }
    }
}

impl Failure {
    /// Adds a structured field for `--output json`.
    pub fn with_detail(mut self, key: &str, value: serde_json::Value) -> Self {
        self.details.insert(key.to_string(), value);
        self
    }

    /// The failure's code in JSON output: `invalid_input`, `step_failed` or `interrupted`
    /// (by exit code), or `missing_inputs` when that is all that is wrong.
    pub fn json_code(&self) -> &'static str {
        match self.code {
            EXIT_INTERRUPTED => "interrupted",
            EXIT_STEP_FAILED => "step_failed",
            _ if self.details.contains_key("missing_inputs") => "missing_inputs",
            _ => "invalid_input",
        }
    }
}

/// The failed steps as JSON objects (`step`, `code`, `message`, `help`).
pub fn step_failures_json<'a>(
    failures: impl IntoIterator<Item = &'a (String, twinup_engine::StepError)>,
) -> serde_json::Value {
    failures
        .into_iter()
        .map(|(step, e)| {
            serde_json::json!({"step": step, "code": e.code, "message": e.message, "help": e.help})
        })
        .collect()
}

impl From<twinup_engine::EngineError> for Failure {
    fn from(e: twinup_engine::EngineError) -> Self {
        use twinup_engine::{EngineError, InputError};
        match &e {
            EngineError::Input(InputError::Interrupted { .. }) => Failure::interrupted(e),
            // A checkpoint that cannot be written mid-run leaves work to resume: exit 1.
            // So can a remote checkpoint that refuses a write mid-run (a lost lease).
            EngineError::Checkpoint(
                twinup_engine::CheckpointError::NotWritable { .. }
                | twinup_engine::CheckpointError::Remote { .. },
            ) => Failure::step_failed(e),
            EngineError::Plan(_) => Failure {
                located: true,
                ..Failure::bad_input(e)
            },
            EngineError::Input(InputError::Missing(missing)) => {
                let list: serde_json::Value = missing
                    .iter()
                    .map(|m| {
                        serde_json::json!({"name": m.name, "description": m.description, "hint": m.hint})
                    })
                    .collect();
                Failure::bad_input(&e).with_detail("missing_inputs", list)
            }
            _ => Failure::bad_input(e),
        }
    }
}

impl From<twinup_engine::CheckpointError> for Failure {
    fn from(e: twinup_engine::CheckpointError) -> Self {
        Failure::bad_input(e)
    }
}

impl From<twinup_engine::InputError> for Failure {
    fn from(e: twinup_engine::InputError) -> Self {
        twinup_engine::EngineError::from(e).into()
    }
}

impl From<twinup_plan::PlanError> for Failure {
    fn from(e: twinup_plan::PlanError) -> Self {
        let located = matches!(e, twinup_plan::PlanError::Invalid(_));
        Failure {
            located,
            ..Failure::bad_input(e)
        }
    }
}

impl From<twinup_plan::Diagnostics> for Failure {
    fn from(e: twinup_plan::Diagnostics) -> Self {
        Failure {
            located: true,
            ..Failure::bad_input(e)
        }
    }
}

/// Describes failed steps, one per line: ``{indent}step `id`{verb}: Code: message``, then its
/// fix on the next line.
pub fn describe_step_failures<'a>(
    verb: &str,
    failures: impl IntoIterator<Item = &'a (String, twinup_engine::StepError)>,
    indent: &str,
) -> String {
    let mut message = String::new();
    for (step, error) in failures {
        message.push_str(&format!("{indent}step `{step}`{verb}: "));
        if let Some(code) = &error.code {
            message.push_str(&format!("{code}: "));
        }
        message.push_str(&error.message);
        if let Some(help) = &error.help {
            message.push_str(&format!("\n{indent}  help: {help}"));
        }
        message.push('\n');
    }
    message
}
