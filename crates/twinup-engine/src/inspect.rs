//! Comparing what a plan describes with what exists: field-level diffs between a step's `with`
//! and its live state (`StepKind::read`), used by `preview` (what `up` would do), `verify`
//! (drift of a deployment from its checkpoint) and the refresh `up` does before skipping
//! finished steps. Reads only.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use twinup_plan::{Plan, Step};

use crate::checkpoint::{Checkpoint, StepState};
use crate::context::{StepContext, TokenRecorder};
use crate::events::NoEvents;
use crate::inputs::{InputSource, ResolvedInputs};
use crate::kind::{LiveState, StepError};
use crate::registry::KindRegistry;
use crate::render::{input_hash, lookup};
use crate::session::Session;

/// Reads must never save a resume token.
struct ReadOnly;

#[async_trait]
impl TokenRecorder for ReadOnly {
    async fn record_token(&self, step_id: &str, _token: Value) -> Result<(), StepError> {
        Err(StepError::failed(format!(
            "step `{step_id}` tried to start work while its state was only being read"
        )))
    }
}

/// The context a read gets: the step's saved outputs, and whether they were recorded for the
/// same inputs (a succeeded step whose fingerprint matches), so kinds can read by saved id.
fn read_context(step: &Step, inputs: &ResolvedInputs, checkpoint: &Checkpoint) -> StepContext {
    let record = checkpoint.steps.get(&step.id);
    let current = record.is_some_and(|r| {
        r.state == StepState::Succeeded
            && r.input_hash.as_deref() == Some(&input_hash(step, inputs, checkpoint))
    });
    StepContext::new(
        step.id.clone(),
        record.and_then(|r| r.outputs.clone()),
        Arc::new(ReadOnly),
        Arc::new(NoEvents),
        CancellationToken::new(),
    )
    .with_previous_outputs_current(current)
    .with_deployment_id(checkpoint.deployment_id.clone())
}

/// `checkpoint` with the deployment id a run would use (reads then derive the same names).
fn with_planned_id(plan: &Plan, inputs: &ResolvedInputs, checkpoint: &Checkpoint) -> Checkpoint {
    let mut checkpoint = checkpoint.clone();
    checkpoint.deployment_id = crate::deployment::planned_id(plan, inputs, &checkpoint);
    checkpoint
}

/// One field that differs between the plan and the live resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// Dotted path inside `with`, e.g. `tags.env` or `redirect_uris`.
    pub field: String,
    /// What exists now.
    pub live: Value,
    /// What the plan asks for.
    pub wanted: Value,
}

/// Compares the fields of `wanted` (a rendered `with`) that the live properties also have.
/// Fields the kind does not report, and live values that are `null` (not reported), are not
/// compared. Strings compare case-insensitively (Azure names and enums are), locations also
/// ignoring spaces (`West US 2` = `westus2`).
pub fn diff_fields(wanted: &Value, live: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    if let (Some(w), Some(l)) = (wanted.as_object(), live.as_object()) {
        for (key, want) in w {
            match l.get(key) {
                None | Some(Value::Null) => {}
                Some(have) => diff_value(key, want, have, &mut out),
            }
        }
    }
    out
}

fn diff_value(path: &str, want: &Value, have: &Value, out: &mut Vec<FieldChange>) {
    if want.is_null() {
        return;
    }
    if let (Some(w), Some(h)) = (want.as_object(), have.as_object()) {
        let mut keys: Vec<&String> = w.keys().collect();
        keys.extend(h.keys().filter(|k| !w.contains_key(*k)));
        for key in keys {
            let sub = format!("{path}.{key}");
            match (w.get(key), h.get(key)) {
                (Some(a), Some(b)) => diff_value(&sub, a, b, out),
                (a, b) => out.push(FieldChange {
                    field: sub,
                    live: b.cloned().unwrap_or(Value::Null),
                    wanted: a.cloned().unwrap_or(Value::Null),
                }),
            }
        }
        return;
    }
    if !same(path, want, have) {
        out.push(FieldChange {
            field: path.to_string(),
            live: have.clone(),
            wanted: want.clone(),
        });
    }
}

fn same(path: &str, want: &Value, have: &Value) -> bool {
    match (want, have) {
        (Value::String(a), Value::String(b)) => {
            if path.ends_with("location") {
                let norm = |s: &str| {
                    s.chars()
                        .filter(|c| !c.is_whitespace())
                        .collect::<String>()
                        .to_ascii_lowercase()
                };
                norm(a) == norm(b)
            } else {
                a.eq_ignore_ascii_case(b)
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(path, x, y))
        }
        (Value::Object(_), Value::Object(_)) => {
            let mut changes = Vec::new();
            diff_value(path, want, have, &mut changes);
            changes.is_empty()
        }
        _ => want == have,
    }
}

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
    },
    /// Cannot tell before earlier steps run (their outputs feed this step).
    AfterDependencies { waiting_on: Vec<String> },
    /// Reading it failed.
    Unknown { error: String },
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

/// Reads the live state of every step of `plan` (in run order) and says what `up` would do.
/// `with` blocks are rendered from `inputs` and the outputs in `checkpoint`; a step whose
/// `with` needs outputs of steps that do not exist yet is reported as
/// [`Change::AfterDependencies`].
pub async fn preview(
    plan: &Plan,
    registry: &KindRegistry,
    inputs: &ResolvedInputs,
    checkpoint: &Checkpoint,
) -> Vec<PreviewItem> {
    let checkpoint = &with_planned_id(plan, inputs, checkpoint);
    let mut items = Vec::new();
    let mut changing: HashSet<String> = HashSet::new();
    for id in plan.graph().topological_order() {
        let Some(step) = plan.step(id) else { continue };
        let change = match step.with.render(&|r| lookup(r, inputs, checkpoint, true)) {
            Err(_) => {
                let waiting_on: Vec<String> = plan
                    .graph()
                    .dependencies(id)
                    .iter()
                    .filter(|d| {
                        changing.contains(*d)
                            || checkpoint
                                .steps
                                .get(*d)
                                .is_none_or(|r| r.state != StepState::Succeeded)
                    })
                    .cloned()
                    .collect();
                Change::AfterDependencies { waiting_on }
            }
            Ok(with) => read_change(step, registry, inputs, &with, checkpoint).await,
        };
        if !matches!(change, Change::NoChange) {
            changing.insert(id.clone());
        }
        items.push(PreviewItem {
            step: id.clone(),
            kind: step.kind.clone(),
            change,
        });
    }
    items
}

async fn read_change(
    step: &Step,
    registry: &KindRegistry,
    inputs: &ResolvedInputs,
    with: &Value,
    checkpoint: &Checkpoint,
) -> Change {
    let Some(kind) = registry.get(&step.kind) else {
        return Change::Unknown {
            error: format!("unknown step kind `{}`", step.kind),
        };
    };
    let ctx = read_context(step, inputs, checkpoint);
    if let Some(r) = kind.replacement(&ctx, with) {
        return Change::Replace {
            from: r.from,
            to: r.to,
            deletes_old: r.deletes_old,
        };
    }
    match kind.read(&ctx, with).await {
        Ok(LiveState::Absent) => Change::Create,
        Ok(LiveState::Present { properties }) => {
            let changes = diff_fields(with, &properties);
            if changes.is_empty() {
                Change::NoChange
            } else {
                Change::Update { changes }
            }
        }
        Err(e) => Change::Unknown {
            error: e.to_string(),
        },
    }
}

/// The steps whose recorded target a run with `inputs` would replace (see
/// [`crate::StepKind::replacement`]), in run order, for `up` to confirm before running.
pub fn replacements(
    plan: &Plan,
    registry: &KindRegistry,
    inputs: &ResolvedInputs,
    checkpoint: &Checkpoint,
) -> Vec<(String, crate::kind::Replacement)> {
    let mut out = Vec::new();
    for id in plan.graph().topological_order() {
        let Some(step) = plan.step(id) else { continue };
        let Some(kind) = registry.get(&step.kind) else {
            continue;
        };
        if checkpoint.steps.get(id).is_none_or(|r| r.outputs.is_none()) {
            continue;
        }
        let Ok(with) = step.with.render(&|r| lookup(r, inputs, checkpoint, true)) else {
            continue;
        };
        if let Some(r) = kind.replacement(&read_context(step, inputs, checkpoint), &with) {
            out.push((id.clone(), r));
        }
    }
    out
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
}

/// The inputs a checkpoint was deployed with, for commands that act on an existing deployment
/// (`verify`, `down`): saved values, then plan defaults. Secret inputs are not saved, so steps
/// whose `with` needs one cannot be rendered from a checkpoint alone.
pub fn saved_inputs(plan: &Plan, checkpoint: &Checkpoint) -> ResolvedInputs {
    let mut resolved = ResolvedInputs::default();
    for (name, spec) in &plan.inputs {
        if spec.secret {
            resolved.secrets.push(name.clone());
        }
        if let Some(v) = checkpoint.inputs.get(name) {
            resolved.values.insert(name.clone(), v.clone());
            resolved
                .sources
                .insert(name.clone(), InputSource::Checkpoint);
        } else if let Some(d) = &spec.default {
            resolved.values.insert(name.clone(), d.clone());
            resolved.sources.insert(name.clone(), InputSource::Default);
        }
    }
    resolved
}

/// Checks every step the checkpoint records as succeeded against its live state. Steps that
/// depend on a drifted step are reported as [`Drift::DependencyDrifted`] without being read.
pub async fn verify(
    plan: &Plan,
    registry: &KindRegistry,
    inputs: &ResolvedInputs,
    checkpoint: &Checkpoint,
) -> Vec<StepCheck> {
    let checkpoint = &with_planned_id(plan, inputs, checkpoint);
    let mut checks = Vec::new();
    let mut drifted: HashSet<String> = HashSet::new();
    for id in plan.graph().topological_order() {
        let Some(step) = plan.step(id) else { continue };
        let record = checkpoint.steps.get(id);
        let mut check = StepCheck {
            step: id.clone(),
            kind: step.kind.clone(),
            drift: None,
            skipped: None,
        };
        match record.map(|r| r.state) {
            Some(StepState::Succeeded) => {}
            state => {
                check.skipped = Some(format!(
                    "not deployed ({}); `twinup up` runs it",
                    state.unwrap_or(StepState::Pending)
                ));
                checks.push(check);
                continue;
            }
        }
        let bad_deps: Vec<String> = plan
            .graph()
            .dependencies(id)
            .iter()
            .filter(|d| drifted.contains(*d))
            .cloned()
            .collect();
        check.drift = if !bad_deps.is_empty() {
            Some(Drift::DependencyDrifted {
                dependencies: bad_deps,
            })
        } else {
            read_drift(step, registry, inputs, checkpoint).await
        };
        if check.drift.is_some() {
            drifted.insert(id.clone());
        }
        checks.push(check);
    }
    checks
}

async fn read_drift(
    step: &Step,
    registry: &KindRegistry,
    inputs: &ResolvedInputs,
    checkpoint: &Checkpoint,
) -> Option<Drift> {
    let with = match step.with.render(&|r| lookup(r, inputs, checkpoint, true)) {
        Ok(with) => with,
        Err(e) => {
            return Some(Drift::Unreadable {
                error: format!("cannot render the step's `with`: {e}"),
            });
        }
    };
    match read_change(step, registry, inputs, &with, checkpoint).await {
        Change::NoChange => None,
        Change::Create => Some(Drift::Deleted),
        Change::Update { changes } => Some(Drift::Changed { changes }),
        Change::Unknown { error } => Some(Drift::Unreadable { error }),
        Change::AfterDependencies { .. } => None,
        Change::Replace { from, to, .. } => Some(Drift::Changed {
            changes: vec![FieldChange {
                field: "target".to_string(),
                live: Value::String(from),
                wanted: Value::String(to),
            }],
        }),
    }
}

/// Before `up` skips steps that succeeded with unchanged inputs, reads their live state, as
/// `terraform apply` refreshes: a step whose target was deleted is set to run again as a
/// create, one whose target changed (or whose dependency drifted) to run again as an update.
/// Unreadable steps are left as they are. Changes are made to the session's checkpoint in
/// memory; the run saves them. Returns what drifted.
pub async fn refresh(
    session: &mut Session,
    plan: &Plan,
    registry: &KindRegistry,
    inputs: &ResolvedInputs,
) -> Vec<StepCheck> {
    let checkpoint = session.checkpoint.clone();
    let unchanged: HashSet<String> = plan
        .steps
        .iter()
        .filter(|s| {
            checkpoint.steps.get(&s.id).is_some_and(|r| {
                r.state == StepState::Succeeded
                    && r.input_hash.as_deref() == Some(&input_hash(s, inputs, &checkpoint))
            })
        })
        .map(|s| s.id.clone())
        .collect();
    let mut found = Vec::new();
    let mut drifted: HashSet<String> = HashSet::new();
    for id in plan.graph().topological_order() {
        if !unchanged.contains(id) {
            continue;
        }
        let Some(step) = plan.step(id) else { continue };
        let bad_deps: Vec<String> = plan
            .graph()
            .dependencies(id)
            .iter()
            .filter(|d| drifted.contains(*d))
            .cloned()
            .collect();
        let drift = if !bad_deps.is_empty() {
            Some(Drift::DependencyDrifted {
                dependencies: bad_deps,
            })
        } else {
            read_drift(step, registry, inputs, &checkpoint).await
        };
        let Some(drift) = drift else { continue };
        if let Some(record) = session.checkpoint.steps.get_mut(id) {
            match &drift {
                Drift::Deleted => {
                    record.state = StepState::Pending;
                    drifted.insert(id.clone());
                }
                Drift::Changed { .. } | Drift::DependencyDrifted { .. } => {
                    record.input_hash = None;
                    drifted.insert(id.clone());
                }
                Drift::Unreadable { .. } => {}
            }
        }
        found.push(StepCheck {
            step: id.clone(),
            kind: step.kind.clone(),
            drift: Some(drift),
            skipped: None,
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compares_only_reported_fields() {
        let with = json!({"name": "x", "location": "West US 2", "tags": {"a": "1"}});
        let live = json!({"location": "westus2", "tags": {"a": "1"}, "host_name": "h"});
        assert!(diff_fields(&with, &live).is_empty());
    }

    #[test]
    fn reports_nested_and_list_changes() {
        let with = json!({"tags": {"a": "1"}, "redirect_uris": ["http://localhost"]});
        let live = json!({"tags": {"a": "2", "b": "3"}, "redirect_uris": ["https://other"]});
        let fields: Vec<String> = diff_fields(&with, &live)
            .into_iter()
            .map(|c| c.field)
            .collect();
        assert_eq!(fields, vec!["tags.a", "tags.b", "redirect_uris"]);
    }

    #[test]
    fn null_live_values_are_not_compared() {
        let with = json!({"identity": "None"});
        assert!(diff_fields(&with, &json!({"identity": null})).is_empty());
        assert_eq!(
            diff_fields(&with, &json!({"identity": "SystemAssigned"})).len(),
            1
        );
    }
}
