//! # twinup-engine
//!
//! The executor of twinup plans. It knows nothing of Azure: it runs *step kinds* (the
//! [`StepKind`] trait) in the order a plan's step graph allows, several at once, and records
//! every state change in a *checkpoint* so that a rerun after any failure or crash continues
//! exactly where the last run stopped.
//!
//! A run goes:
//!
//! 1. [`Session::open`] locks the checkpoint (an OS lock, so a killed process never leaves it
//!    locked) and loads it, refusing damaged, newer-schema or foreign-plan checkpoints.
//! 2. [`resolve_inputs`] resolves inputs: `--set` > `TWINUP_<NAME>` > answers file >
//!    checkpoint > prompt > default.
//! 3. [`expand_plan`] makes the [`ExpandedPlan`] every later step takes (one step per
//!    `for_each` item); [`validate_steps`] checks each step's `with` against its kind, with
//!    plan locations.
//! 4. [`run`] executes: each step moves `pending -> running -> succeeded | failed`; a step
//!    that starts long-running work saves a resume token first (through its
//!    [`StepContext`]), so a rerun resumes it instead of starting it again. Succeeded steps
//!    whose inputs are unchanged are skipped.
//!
//! Around a run: [`preview`] says what a run would change (reads only), [`verify`] compares
//! a deployment with its checkpoint, [`refresh`] lets `up` notice drift before skipping
//! finished steps, and [`destroy`] deletes what the steps created (`down`). All five are
//! configurations of one walk over the step graph (`walk/`): a direction, a per-step
//! decision, bounded parallelism, Ctrl-C, timeouts, and one `Recorder` through which every
//! checkpoint change goes, as transition methods on [`checkpoint::StepRecord`].
//!
//! The checkpoint is written atomically (temporary file, fsync, rename, fsync of the
//! directory) with mode 0600; secret inputs never reach it.

pub mod checkpoint;
mod compare;
mod context;
pub mod deployment;
mod errors;
mod events;
mod expand;
mod input_rules;
mod inputs;
mod kind;
pub mod kinds;
mod origin;
mod preflight;
mod recorder;
mod redact;
mod registry;
mod render;
mod session;
mod unknown;
mod validate;
mod walk;

pub use compare::{FieldChange, diff_fields};
pub use context::{StepContext, TokenRecorder, report_retry};
pub use errors::{CheckpointError, EngineError, InputError, MissingInput};
pub use events::{Event, EventSink, NoEvents, StepAction};
pub use expand::{ExpandedPlan, expand_plan};
pub use input_rules::{InputRules, rule_in_words};
pub use inputs::{
    InputSource, InputSources, Prompter, ResolvedInputs, display_value, env_var_for,
    resolve_inputs, saved_inputs, value_hint,
};
pub use kind::{
    FieldError, KindSchema, LiveState, Outputs, REDACTED_OUTPUT, REPLACED_OUTPUT, Replacement,
    StepError, StepErrorKind, StepKind,
};
pub use origin::{
    Applied, CREATED_OUTPUT, FOUND_OUTPUT, Origin, TURNED_OFF_OUTPUT, converge, created_by_step,
    found_reason, turned_off_reason,
};
pub use preflight::preflight;
pub use redact::{Redactor, SECRET_MASK, SECRET_PLACEHOLDER, mask_outputs, redacting};
pub use registry::{KindRegistry, KindSchemas};
pub use session::{Session, load_for_plan};
pub use unknown::{UNKNOWN_KEY, contains_unknown, is_unknown, unknown, unknown_source};
pub use validate::validate_steps;
pub use walk::down::{
    DestroyReport, Disposal, delete_in_progress, destroy, disposals, unfinished_deletes,
};
pub use walk::read::{
    Change, Drift, PreviewItem, StepCheck, preview, refresh, replacements, verify,
};
pub use walk::retire::leftovers;
pub use walk::up::{RunReport, run};
pub use walk::{DEFAULT_STEP_TIMEOUT, RunConfig, Steps, humanize};
