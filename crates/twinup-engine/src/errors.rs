//! Error types of the engine. Each message says what is wrong and what to do about it.

use std::path::PathBuf;

use twinup_plan::Diagnostics;

/// Problems reading, writing or locking a checkpoint.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Another process holds the lock.
    #[error(
        "checkpoint {location} is in use by another twinup run ({holder}); wait for it to finish, or use another --checkpoint"
    )]
    Locked { location: String, holder: String },
    /// The file exists but cannot be read.
    #[error("cannot read checkpoint {path}: {source}; check its permissions")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not a checkpoint (truncated, corrupted or something else).
    #[error(
        "checkpoint {location} is damaged ({detail}); it was left untouched. Move it aside to start over (resources that already exist are found again and not duplicated), or restore a good copy"
    )]
    Corrupt { location: String, detail: String },
    /// Written by a newer twinup.
    #[error(
        "checkpoint {location} has schema version {found}, newer than this twinup understands (up to {supported}); use a newer twinup"
    )]
    NewerSchema {
        location: String,
        found: u32,
        supported: u32,
    },
    /// Belongs to another plan.
    #[error(
        "checkpoint {location} belongs to plan `{found}`, not `{expected}`; pass the matching --plan, or choose another --checkpoint"
    )]
    ForeignPlan {
        location: String,
        found: String,
        expected: String,
    },
    /// The checkpoint cannot be written where it should be.
    #[error("cannot write checkpoint {path}: {source}; choose a writable --checkpoint path")]
    NotWritable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A remote store failed.
    #[error("checkpoint {location}: {message}")]
    Remote { location: String, message: String },
}

/// Problems resolving the plan's inputs.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// `--set` names an input the plan does not have.
    #[error(
        "--set {name}=...: the plan has no input `{name}`{}",
        suggestion_text(suggestion)
    )]
    UnknownInput {
        name: String,
        suggestion: Option<String>,
    },
    /// `--set` without `=`.
    #[error("--set {text}: expected NAME=VALUE, e.g. --set instance_name=my-twins")]
    MalformedSet { text: String },
    /// A value from a flag, the environment or a prompt is not valid for the input.
    #[error("{source_name} sets input `{name}` to an invalid value: {message}")]
    Invalid {
        name: String,
        source_name: String,
        message: String,
    },
    /// Inputs have no value and prompting is off.
    #[error("{}", missing_message(.0))]
    Missing(Vec<MissingInput>),
    /// The prompt could not be shown or read.
    #[error("cannot prompt for input `{name}`: {message}")]
    Prompt { name: String, message: String },
    /// The user pressed Ctrl-C at a prompt.
    #[error("interrupted at the prompt for `{name}`")]
    Interrupted { name: String },
}

/// An input that needs a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingInput {
    /// Its name.
    pub name: String,
    /// Its description from the plan.
    pub description: Option<String>,
    /// A hint at acceptable values (choices, type).
    pub hint: String,
}

fn suggestion_text(s: &Option<String>) -> String {
    match s {
        Some(s) => format!("; did you mean `{s}`?"),
        None => String::new(),
    }
}

fn missing_message(missing: &[MissingInput]) -> String {
    let mut out = format!(
        "{} required input{} ha{} no value and prompting is off (--non-interactive or no terminal):\n",
        missing.len(),
        if missing.len() == 1 { "" } else { "s" },
        if missing.len() == 1 { "s" } else { "ve" },
    );
    for m in missing {
        out.push_str(&format!(
            "  {}: {}\n",
            m.name,
            m.description.as_deref().unwrap_or("(no description)")
        ));
    }
    out.push_str(
        "Give them with --set NAME=VALUE, TWINUP_<NAME> variables, or an answers file (--answers FILE) like:\n",
    );
    for m in missing {
        out.push_str(&format!("  {}:    # {}\n", m.name, m.hint));
    }
    out.trim_end().to_string()
}

/// Why a run could not start or complete as a whole (step failures are reported separately).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The plan is invalid.
    #[error("{0}")]
    Plan(#[from] Diagnostics),
    /// An input problem.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A checkpoint problem.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// A template could not be rendered.
    #[error("step `{step}`: {message}")]
    Render { step: String, message: String },
}
