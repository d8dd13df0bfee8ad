//! The step-kind contract: what a kind of step (a file, an Azure resource, ...) must provide
//! so the executor can validate, apply, resume and inspect it without knowing what it is.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::context::StepContext;
use crate::origin::Applied;

/// The outputs a step produced, by name, in the order the kind declares them.
pub type Outputs = serde_json::Map<String, Value>;

/// What a kind is, apart from any connection: its name, the fields it takes and their rules,
/// its outputs, and how its values compare. Validating a plan needs only this
/// ([`crate::KindSchemas`]), so it needs no client, token or network.
pub trait KindSchema: Send + Sync {
    /// The name used in a plan's `kind:` field, e.g. `file` or `azure.resource_group`.
    fn name(&self) -> &'static str;

    /// The outputs a successful step of this kind always has; plans may only reference these.
    fn outputs(&self) -> &'static [&'static str];

    /// Checks the step's `with` block. Inputs are already rendered into it; a value that
    /// depends on another step's outputs is the explicit marker of an unknown value
    /// ([`crate::is_unknown`]), and must not be rejected.
    fn validate(&self, with: &Value) -> Vec<FieldError>;

    /// True for a kind whose steps make nothing that outlives them (a wait, a check): a step
    /// of it that failed or stopped before recording outputs leaves `down` nothing to keep
    /// or to ask a person to check. Part of the kind's schema: needs no connection. The
    /// default: a kind makes something.
    fn makes_nothing(&self) -> bool {
        false
    }

    /// Why a step with this `with` makes nothing at all (a switch turned off, an optional
    /// part not asked for), in words for `preview` and `status`: `apply` then records
    /// [`crate::Applied::turned_off`] and `down` has nothing to delete or keep. `with` may
    /// hold unknown values ([`crate::is_unknown`]); the answer is `Some` only when the fields
    /// it rests on are known. The default: never turned off.
    fn turned_off(&self, _with: &Value) -> Option<String> {
        None
    }

    /// The fields of `with` that name the step's target (a name, its group, a location, a
    /// path): a change of one is a replacement (see [`StepKind::replacement`]), never an
    /// in-place update. `verify` and the drift refresh read the target the record names and
    /// leave these fields out of the comparison when the plan now names another target.
    fn identifying_fields(&self) -> &'static [&'static str] {
        &[]
    }

    /// The form in which a value of field `field` (a dotted path inside `with`) compares
    /// with what [`StepKind::read`] reports: `preview`, `verify` and the drift refresh see a
    /// change only where the normalised values differ. The default compares values exactly;
    /// a service whose names are case-insensitive, say, lowercases them.
    fn normalize(&self, _field: &str, value: &Value) -> Value {
        value.clone()
    }
}

/// A kind of step: its schema ([`KindSchema`]) and what it does over a connection.
/// Implementations must be idempotent: `apply` on something that already exists converges it
/// to the requested state instead of creating a second one.
#[async_trait]
pub trait StepKind: Send + Sync {
    /// The kind's schema.
    fn schema(&self) -> &'static dyn KindSchema;

    /// Checks, before anything is written anywhere, that `apply` can succeed (permissions,
    /// name availability, ...). Reads only. Values not known yet are as in
    /// [`KindSchema::validate`]. The default has nothing to check.
    async fn preflight(&self, _ctx: &StepContext, _with: &Value) -> Result<(), StepError> {
        Ok(())
    }

    /// Creates or updates what the step describes and returns its outputs and whose the
    /// target is as the kind saw it ([`Applied`]; the engine records `created` from it). A
    /// kind that starts long-running work calls [`StepContext::save_resume_token`] before
    /// waiting on it.
    async fn apply(&self, ctx: &StepContext, with: &Value) -> Result<Applied, StepError>;

    /// Finishes work a previous run started and recorded with `token`, without starting it
    /// again. The default applies again, which is right for a kind that saves no token (its
    /// `apply` converges whatever an interrupted attempt left).
    async fn resume(
        &self,
        ctx: &StepContext,
        with: &Value,
        _token: &Value,
    ) -> Result<Applied, StepError> {
        self.apply(ctx, with).await
    }

    /// Reads the live state of what the step describes. Reads only.
    async fn read(&self, ctx: &StepContext, with: &Value) -> Result<LiveState, StepError>;

    /// When the step's record holds a target that `with` no longer names (a field that
    /// identifies the target changed: a name, a location, a path), what replaces what. `up`
    /// asks before running such a step; the kind's `apply` creates the new target (and records
    /// it as created only if it was absent), and once the whole run succeeded `up` deletes the
    /// recorded one, if the step created it, with the kind's `delete` on the old record,
    /// dependents first (create before destroy). A [`Replacement::deletes_first`] replacement
    /// is the exception: its `apply` deletes the old target before creating the new one.
    /// `ctx.previous_outputs()` holds the record. Reads nothing; the default never replaces.
    fn replacement(&self, _ctx: &StepContext, _with: &Value) -> Option<Replacement> {
        None
    }

    /// Deletes what an earlier successful run of the step created, and waits until it is gone.
    /// `ctx.previous_outputs()` holds that run's outputs (ids to delete). `token` is what an
    /// interrupted delete saved with [`StepContext::save_resume_token`]: continue that delete
    /// instead of starting another. Something that is already gone counts as deleted.
    ///
    /// The default refuses: a kind must opt in to being deleted.
    async fn delete(
        &self,
        _ctx: &StepContext,
        _with: &Value,
        _token: Option<&Value>,
    ) -> Result<(), StepError> {
        Err(StepError::rejected(format!(
            "this kind cannot be deleted (`{}`)",
            self.schema().name()
        ))
        .with_help("delete it by hand, or leave it: `twinup down` keeps it"))
    }
}

/// A target that a changed `with` replaces: what the record holds and what the plan names now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replacement {
    /// The recorded target, for a person (e.g. `app twinup-client (appId ...)`).
    pub from: String,
    /// The new target, for a person.
    pub to: String,
    /// Whether the recorded target is deleted once the new one exists (the step created it);
    /// `false` when it is kept (it existed before twinup).
    pub deletes_old: bool,
    /// The new target has the old one's name (only its location changed), and a name cannot
    /// exist twice: the kind's `apply` deletes the old one first, then creates the new one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deletes_first: bool,
}

/// Set (`true`) in the saved outputs of a step whose outputs held a secret value: the
/// checkpoint has `(secret)` in its place, and `up` runs the step again to get the value.
pub const REDACTED_OUTPUT: &str = "redacted";

/// The output in which `up` keeps a replaced target's record (the step's earlier outputs)
/// until it is deleted: written with the step's success, removed once the delete finished,
/// so a run that stops in between deletes it on the next `up`.
pub const REPLACED_OUTPUT: &str = "replaced";

/// What a step's target looks like right now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LiveState {
    /// Nothing exists yet.
    Absent,
    /// It exists, with these properties (kind-specific, comparable with `with`).
    Present { properties: Value },
}

/// A problem with one field of a step's `with` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Path inside `with`, dotted, with `[n]` for list items: `tags.env`, `reply_urls[0]`.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl FieldError {
    /// A field error with a fix.
    pub fn new(
        field: impl Into<String>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
            help: Some(help.into()),
        }
    }
}

/// Why a step did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct StepError {
    /// What class of failure this is; decides the exit code and whether a rerun can help.
    pub kind: StepErrorKind,
    /// The service's error code, e.g. `AuthorizationFailed`, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// What went wrong, for a person.
    pub message: String,
    /// What to do about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

/// Classes of step failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepErrorKind {
    /// The step failed; a rerun retries it (exit code 1).
    Failed,
    /// The request can never succeed as given (bad input, missing permission); found before any
    /// write during preflight (exit code 2).
    Rejected,
    /// The run was interrupted while the step was in flight; its resume token is kept.
    Interrupted,
    /// The step ran past its timeout; its resume token is kept so a rerun keeps waiting.
    TimedOut,
}

impl StepError {
    /// A failure a rerun may fix.
    pub fn failed(message: impl Into<String>) -> Self {
        StepError {
            kind: StepErrorKind::Failed,
            code: None,
            message: message.into(),
            help: None,
        }
    }

    /// A failure that rerunning as-is cannot fix.
    pub fn rejected(message: impl Into<String>) -> Self {
        StepError {
            kind: StepErrorKind::Rejected,
            ..StepError::failed(message)
        }
    }

    /// The run was interrupted (Ctrl-C) while this step was waiting.
    pub fn interrupted() -> Self {
        StepError {
            kind: StepErrorKind::Interrupted,
            ..StepError::failed("interrupted before the step finished")
        }
    }

    /// Adds the service's error code.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Adds what to do about it.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}
