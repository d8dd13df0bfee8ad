//! The read-only configurations of the walk, dependencies first: `preview` (what `up` would
//! do), `verify` (drift of what the checkpoint records) and the drift refresh `up` does before
//! it skips finished steps. Each step's decision is read and compare (or settle without
//! reading when its dependencies already decide it); results come back in run order.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use twinup_plan::{Reference, Step};

use super::{Decision, Direction, Ended, Steps, Walk, walk};
use crate::checkpoint::{Checkpoint, StepRecord, StepState};
use crate::compare::{FieldChange, diff_fields};
use crate::context::{ReadOnly, StepContext};
use crate::errors::EngineError;
use crate::events::{NoEvents, StepAction};
use crate::expand::ExpandedPlan;
use crate::inputs::ResolvedInputs;
use crate::kind::{LiveState, StepError};
use crate::recorder::Recorder;
use crate::registry::KindRegistry;
use crate::render::{input_hash, lookup};
use crate::session::Session;
use crate::unknown::draft;

/// How many reads run at once.
const READ_PARALLELISM: usize = 4;

/// What `up` would do to one step, judged from its live state.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Change {
    /// It does not exist: `up` creates it.
    Create,
    /// It exists and differs: `up` updates these fields.
    Update { changes: Vec<FieldChange> },
    /// It exists as the plan describes.
    NoChange,
    /// A field that identifies the target changed: `up` creates `to`, then deletes `from` if
    /// twinup created it (create before destroy), after confirmation.
    Replace {
        /// The recorded target.
        from: String,
        /// The new target.
        to: String,
        /// Whether `from` is deleted (twinup created it) or kept.
        deletes_old: bool,
        /// Whether `from` is deleted before `to` is created (same name, another location).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        deletes_first: bool,
    },
    /// Cannot tell before earlier steps run (their outputs feed this step).
    AfterDependencies { waiting_on: Vec<String> },
    /// Reading it failed.
    Unknown { error: String },
    /// Its `with` turns it off (see [`crate::KindSchema::turned_off`]): `up` makes nothing.
    TurnedOff { reason: String },
    /// An earlier run left its operation in flight (interrupted or crashed): `up` waits for
    /// that operation to finish rather than starting another.
    Resume,
}

/// One step of a preview.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviewItem {
    /// Step id.
    pub step: String,
    /// Step kind.
    pub kind: String,
    /// What `up` would do.
    #[serde(flatten)]
    pub change: Change,
}

/// How a deployed step differs from what the checkpoint recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "drift", rename_all = "snake_case")]
pub enum Drift {
    /// What the step made no longer exists.
    Deleted,
    /// It exists with different values.
    Changed { changes: Vec<FieldChange> },
    /// A step it depends on drifted, so it was not read (it may be gone with it).
    DependencyDrifted { dependencies: Vec<String> },
    /// Reading it failed.
    Unreadable { error: String },
}

/// The result of checking one step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepCheck {
    /// Step id.
    pub step: String,
    /// Step kind.
    pub kind: String,
    /// `None` when live state matches; otherwise how it drifted.
    pub drift: Option<Drift>,
    /// Set when the step was not checked (not deployed yet), saying why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Set when the plan now names another target than the one the checkpoint records (and
    /// checked): the target the plan names, which `up` would replace the recorded one with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_names: Option<String>,
}

/// Reads the live state of every step of `plan` (in run order) and says what `up` would do.
/// `with` blocks are rendered from `inputs` and the outputs in `checkpoint`; a step whose
/// `with` needs outputs of steps that do not exist yet is reported as
/// [`Change::AfterDependencies`].
pub async fn preview(steps: Steps<'_>, checkpoint: &Checkpoint) -> Vec<PreviewItem> {
    let checkpoint = &with_planned_id(steps, checkpoint);
    Reads::new(Mode::Preview, steps, checkpoint)
        .walk()
        .await
        .into_iter()
        .filter_map(|(step, judged)| match judged {
            Judged::Read(change) => Some(PreviewItem {
                step: step.id.clone(),
                kind: step.kind.clone(),
                change,
            }),
            Judged::DependencyDrifted(_) | Judged::NotDeployed(_) => None,
        })
        .collect()
}

/// Checks every step the checkpoint records as succeeded against its live state. Steps that
/// depend on a drifted step are reported as [`Drift::DependencyDrifted`] without being read.
pub async fn verify(steps: Steps<'_>, checkpoint: &Checkpoint) -> Vec<StepCheck> {
    let checkpoint = &with_planned_id(steps, checkpoint);
    let mut reads = Reads::new(Mode::Verify, steps, checkpoint);
    let judged = reads.walk().await;
    let mut plan_names = std::mem::take(&mut reads.plan_names);
    judged
        .into_iter()
        .map(|(step, judged)| {
            let mut check = StepCheck {
                step: step.id.clone(),
                kind: step.kind.clone(),
                drift: None,
                skipped: None,
                plan_names: plan_names.remove(&step.id),
            };
            match judged {
                Judged::NotDeployed(why) => check.skipped = Some(why),
                other => check.drift = other.drift(),
            }
            check
        })
        .collect()
}

/// Before `up` skips steps that succeeded with unchanged inputs, reads their live state, as
/// `terraform apply` refreshes: a step whose target was deleted is set to run again as a
/// create, one whose target changed (or whose dependency drifted) to run again as an update.
/// Unreadable steps are left as they are. Changes are made to the session's checkpoint in
/// memory; the run saves them. Returns what drifted.
pub async fn refresh(session: &mut Session, steps: Steps<'_>) -> Vec<StepCheck> {
    let checkpoint = session.checkpoint.clone();
    let mut reads = Reads::new(Mode::Refresh, steps, &checkpoint);
    let judged = reads.walk().await;
    let mut plan_names = std::mem::take(&mut reads.plan_names);
    let recorder = Recorder::in_memory(checkpoint.clone());
    let mut found = Vec::new();
    for (step, judged) in judged {
        let Some(drift) = judged.drift() else {
            continue;
        };
        let transition: Option<fn(&mut StepRecord)> = match drift {
            Drift::Deleted => Some(StepRecord::target_gone),
            Drift::Changed { .. } | Drift::DependencyDrifted { .. } => {
                Some(StepRecord::target_changed)
            }
            Drift::Unreadable { .. } => None,
        };
        if let Some(transition) = transition {
            // An in-memory recorder has no store to fail.
            let _ = recorder.step(&step.id, transition).await;
        }
        found.push(StepCheck {
            step: step.id.clone(),
            kind: step.kind.clone(),
            drift: Some(drift),
            skipped: None,
            plan_names: plan_names.remove(&step.id),
        });
    }
    session.checkpoint = recorder.snapshot().await;
    found
}

/// `checkpoint` with the deployment id a run would use (reads then derive the same names).
fn with_planned_id(steps: Steps<'_>, checkpoint: &Checkpoint) -> Checkpoint {
    let mut checkpoint = checkpoint.clone();
    checkpoint.deployment_id = crate::deployment::planned_id(steps.plan, steps.inputs, &checkpoint);
    checkpoint
}

/// The steps whose recorded target a run with `steps`' inputs would replace (see
/// [`crate::StepKind::replacement`]), in run order, for `up` to confirm before running.
pub fn replacements(
    steps: Steps<'_>,
    checkpoint: &Checkpoint,
) -> Vec<(String, crate::kind::Replacement)> {
    let mut out = Vec::new();
    for id in steps.plan.graph().topological_order() {
        let Some(step) = steps.plan.step(id) else {
            continue;
        };
        let Some(kind) = steps.registry.get(&step.kind) else {
            continue;
        };
        let Some(record) = checkpoint.steps.get(id).filter(|r| r.outputs.is_some()) else {
            continue;
        };
        let resolve = |r: &Reference| lookup(r, steps.inputs, checkpoint, true);
        let Ok(with) = render_or_turned_off(step, kind.as_ref(), &resolve) else {
            continue;
        };
        let current = record.is_current(&input_hash(step, steps.inputs, checkpoint));
        if let Some(r) = kind.replacement(
            &read_context(step, Some(record), checkpoint, current),
            &with,
        ) {
            out.push((id.clone(), r));
        }
    }
    out
}

/// `step`'s `with` rendered; or, where a reference is not known yet but what is known
/// already turns the step off (see [`crate::KindSchema::turned_off`]), the draft with
/// unknown markers: a turned-off step needs nothing more to say what it does (its
/// replacement of what it made included), so an unknown value never hides that.
fn render_or_turned_off(
    step: &Step,
    kind: &dyn crate::kind::StepKind,
    resolve: &dyn Fn(&Reference) -> Option<serde_json::Value>,
) -> Result<serde_json::Value, twinup_plan::RenderError> {
    step.with.render(resolve).or_else(|e| {
        let drafted = draft(&step.with, resolve);
        match kind.schema().turned_off(&drafted) {
            Some(_) => Ok(drafted),
            None => Err(e),
        }
    })
}

/// The context a read of `step` gets: its recorded outputs and the deployment id, writing
/// nothing.
fn read_context(
    step: &Step,
    record: Option<&StepRecord>,
    checkpoint: &Checkpoint,
    current: bool,
) -> StepContext {
    StepContext::new(
        step.id.clone(),
        record.and_then(|r| r.outputs.clone()),
        Arc::new(ReadOnly::new("while its state was only being read")),
        Arc::new(NoEvents),
        CancellationToken::new(),
    )
    .with_previous_outputs_current(current)
    .with_deployment_id(checkpoint.deployment_id.clone())
}

/// Which read walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Every step; a step whose `with` cannot be rendered yet waits on its dependencies.
    Preview,
    /// Steps the checkpoint records as succeeded; the others are reported not deployed.
    Verify,
    /// Steps `up` would skip (succeeded with unchanged inputs); the others are not reported.
    Refresh,
}

/// How a read walk judged one step.
enum Judged {
    /// Read (or could not be) and compared.
    Read(Change),
    /// Not read: these dependencies drifted.
    DependencyDrifted(Vec<String>),
    /// Not read: not deployed, and why.
    NotDeployed(String),
}

impl Judged {
    /// The drift this judgement means for a deployed step (`None`: as deployed).
    fn drift(self) -> Option<Drift> {
        match self {
            Judged::Read(
                Change::NoChange
                | Change::AfterDependencies { .. }
                | Change::TurnedOff { .. }
                | Change::Resume,
            )
            | Judged::NotDeployed(_) => None,
            Judged::Read(Change::Create) => Some(Drift::Deleted),
            Judged::Read(Change::Update { changes }) => Some(Drift::Changed { changes }),
            Judged::Read(Change::Unknown { error }) => Some(Drift::Unreadable { error }),
            Judged::Read(Change::Replace { from, to, .. }) => Some(Drift::Changed {
                changes: vec![FieldChange {
                    field: "target".to_string(),
                    live: serde_json::Value::String(from),
                    wanted: serde_json::Value::String(to),
                }],
            }),
            Judged::DependencyDrifted(dependencies) => {
                Some(Drift::DependencyDrifted { dependencies })
            }
        }
    }

    /// Whether the steps after this one must take it as changed: `preview` waits on it,
    /// `verify` and the refresh report them as depending on drift (the refresh leaves
    /// unreadable steps as they are).
    fn changes_dependents(&self, mode: Mode) -> bool {
        match (mode, self) {
            (_, Judged::NotDeployed(_)) => false,
            // A step turned off changes nothing after it (one not run yet is still waited
            // on: `waiting_on` names every dependency not succeeded).
            (Mode::Preview, Judged::Read(change)) => {
                !matches!(change, Change::NoChange | Change::TurnedOff { .. })
            }
            (Mode::Refresh, Judged::Read(Change::Unknown { .. })) => false,
            (_, Judged::Read(change)) => {
                !matches!(change, Change::NoChange | Change::AfterDependencies { .. })
            }
            (_, Judged::DependencyDrifted(_)) => true,
        }
    }
}

/// The state of one read walk.
struct Reads<'a> {
    mode: Mode,
    plan: &'a ExpandedPlan,
    registry: &'a KindRegistry,
    inputs: &'a ResolvedInputs,
    checkpoint: &'a Checkpoint,
    judged: HashMap<String, Judged>,
    changed: HashSet<String>,
    /// Steps whose plan now names another target than the recorded one (which was read), by
    /// the target the plan names.
    plan_names: HashMap<String, String>,
}

impl<'a> Reads<'a> {
    fn new(mode: Mode, steps: Steps<'a>, checkpoint: &'a Checkpoint) -> Self {
        Reads {
            mode,
            plan: steps.plan,
            registry: steps.registry,
            inputs: steps.inputs,
            checkpoint,
            judged: HashMap::new(),
            changed: HashSet::new(),
            plan_names: HashMap::new(),
        }
    }

    /// Walks the plan; returns each judged step in run order.
    async fn walk(&mut self) -> Vec<(&'a Step, Judged)> {
        let plan = self.plan;
        // Reads never stop the walk (a failed read is an `Unknown` change) and write nothing.
        let _ = walk(
            plan,
            Direction::DependenciesFirst,
            READ_PARALLELISM,
            &CancellationToken::new(),
            &NoEvents,
            self,
        )
        .await;
        plan.graph()
            .topological_order()
            .iter()
            .filter_map(|id| Some((plan.step(id)?, self.judged.remove(id)?)))
            .collect()
    }

    fn judge(&mut self, id: &str, judged: Judged) -> Decision<Change> {
        if judged.changes_dependents(self.mode) {
            self.changed.insert(id.to_string());
        }
        self.judged.insert(id.to_string(), judged);
        Decision::Settled
    }

    /// Why `up` cannot be judged from this step's live state before its dependencies run.
    fn waiting_on(&self, id: &str) -> Vec<String> {
        self.plan
            .graph()
            .dependencies(id)
            .iter()
            .filter(|d| {
                self.changed.contains(*d)
                    || self
                        .checkpoint
                        .steps
                        .get(*d)
                        .is_none_or(|r| r.state != StepState::Succeeded)
            })
            .cloned()
            .collect()
    }
}

#[async_trait]
impl Walk for Reads<'_> {
    type Output = Change;

    async fn decide(&mut self, id: &str, slot_free: bool) -> Result<Decision<Change>, EngineError> {
        let Some(step) = self.plan.step(id) else {
            return Ok(Decision::Settled);
        };
        let record = self.checkpoint.steps.get(id);
        let hash = input_hash(step, self.inputs, self.checkpoint);
        let current = record.is_some_and(|r| r.is_current(&hash));
        match self.mode {
            // What `up` would resume, judged as `up` judges it (a token an unfinished `down`
            // left is that delete's, which `up` refuses to run over).
            Mode::Preview
                if super::up::choose_action(record, &hash) == StepAction::Resume
                    && !record.is_some_and(StepRecord::is_deleting) =>
            {
                return Ok(self.judge(id, Judged::Read(Change::Resume)));
            }
            Mode::Preview => {}
            Mode::Verify => {
                let state = record.map_or(StepState::Pending, |r| r.state);
                if state != StepState::Succeeded {
                    let why = format!("not deployed ({state}); `twinup up` runs it");
                    return Ok(self.judge(id, Judged::NotDeployed(why)));
                }
            }
            Mode::Refresh if !current => return Ok(Decision::Settled),
            Mode::Refresh => {}
        }
        if self.mode != Mode::Preview {
            let drifted: Vec<String> = self
                .plan
                .graph()
                .dependencies(id)
                .iter()
                .filter(|d| self.changed.contains(*d))
                .cloned()
                .collect();
            if !drifted.is_empty() {
                return Ok(self.judge(id, Judged::DependencyDrifted(drifted)));
            }
        }
        let Some(kind) = self.registry.get(&step.kind).cloned() else {
            let error = format!("unknown step kind `{}`", step.kind);
            return Ok(self.judge(id, Judged::Read(Change::Unknown { error })));
        };
        let resolve = |r: &Reference| lookup(r, self.inputs, self.checkpoint, true);
        // A step turned off makes nothing, unless it replaces what it made (below).
        let turned_off = match self.mode {
            Mode::Preview => kind.schema().turned_off(&draft(&step.with, &resolve)),
            _ => None,
        };
        let with = match render_or_turned_off(step, kind.as_ref(), &resolve) {
            Ok(with) => with,
            Err(_) if self.mode == Mode::Preview => {
                let waiting_on = self.waiting_on(id);
                let change = Change::AfterDependencies { waiting_on };
                return Ok(self.judge(id, Judged::Read(change)));
            }
            Err(e) => {
                let error = format!("cannot render the step's `with`: {e}");
                return Ok(self.judge(id, Judged::Read(Change::Unknown { error })));
            }
        };
        if !slot_free {
            return Ok(Decision::NeedsSlot);
        }
        // `verify` and the refresh check what the record names; `preview` what `up` would do.
        let ctx = read_context(step, record, self.checkpoint, current)
            .with_read_at_record(self.mode != Mode::Preview);
        let mut not_compared: &'static [&'static str] = &[];
        if let Some(r) = kind.replacement(&ctx, &with) {
            if self.mode == Mode::Preview {
                let change = Change::Replace {
                    from: r.from,
                    to: r.to,
                    deletes_old: r.deletes_old,
                    deletes_first: r.deletes_first,
                };
                return Ok(self.judge(id, Judged::Read(change)));
            }
            // The plan's new target is not drift of the recorded one, and is never read.
            self.plan_names.insert(id.to_string(), r.to);
            not_compared = kind.schema().identifying_fields();
        }
        if let Some(reason) = turned_off {
            return Ok(self.judge(id, Judged::Read(Change::TurnedOff { reason })));
        }
        Ok(Decision::Start {
            work: Box::pin(async move {
                Ok(match kind.read(&ctx, &with).await {
                    Ok(LiveState::Absent) => Change::Create,
                    Ok(LiveState::Present { properties }) => {
                        let mut changes = diff_fields(kind.schema(), &with, &properties);
                        changes.retain(|c| !names_field(not_compared, &c.field));
                        if changes.is_empty() {
                            Change::NoChange
                        } else {
                            Change::Update { changes }
                        }
                    }
                    Err(e) => Change::Unknown {
                        error: e.to_string(),
                    },
                })
            }),
            timeout: NO_TIMEOUT,
            timed_out: StepError::failed("the read did not finish"),
        })
    }

    async fn finish(&mut self, id: &str, ended: Ended<Change>) -> Result<bool, EngineError> {
        let change = ended.result.unwrap_or_else(|e| Change::Unknown {
            error: e.to_string(),
        });
        self.judge(id, Judged::Read(change));
        Ok(true)
    }
}

/// True if `field` (a dotted path) is one of `fields` or inside one.
fn names_field(fields: &[&str], field: &str) -> bool {
    fields.iter().any(|f| {
        field == *f
            || field
                .strip_prefix(f)
                .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
    })
}

/// Reads are not timed out by the walk (the HTTP client bounds each request).
const NO_TIMEOUT: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

#[cfg(test)]
mod tests {
    use super::names_field;

    #[test]
    fn identifying_fields_cover_their_sub_fields_only() {
        let fields = ["name", "tags"];
        assert!(names_field(&fields, "name"));
        assert!(names_field(&fields, "tags.env"));
        assert!(names_field(&fields, "tags[0]"));
        assert!(!names_field(&fields, "names"));
        assert!(!names_field(&fields, "location"));
    }
}
