//! Whose a step's target is: what a kind's `apply` or `resume` reports ([`Applied`], with an
//! [`Origin`]), and the one place that turns it, with the step's record, into the `created`
//! and `found` outputs `down`, `status` and a replacement read ([`CREATED_OUTPUT`],
//! [`created_by_step`], [`found_reason`], [`turned_off_reason`]). Kinds say what they saw; only the engine decides
//! what the deployment owns.

use serde_json::Value;

use crate::context::StepContext;
use crate::kind::{Outputs, StepError, StepKind};

/// The output the engine adds to every step's outputs: `true` when the step created what it
/// manages, `false` when it found it already there. `twinup down` deletes only the former.
pub const CREATED_OUTPUT: &str = "created";

/// The output the engine adds next to `created: false` when the kind said why the target is
/// not the deployment's own (found under a name it did not derive, existed before it).
/// `status` and `down` show it.
pub const FOUND_OUTPUT: &str = "found";

/// The output the engine adds, with `created: false`, to a step that made nothing because
/// its `with` turned it off (see [`crate::KindSchema::turned_off`]): why, in words. `down`
/// deletes nothing for it (what it made before, if not deleted yet, is a leftover: see
/// [`crate::leftovers`]); `status` shows it.
pub const TURNED_OFF_OUTPUT: &str = "turned_off";

/// Why the step that produced `outputs` made nothing, when it was turned off.
pub fn turned_off_reason(outputs: &Outputs) -> Option<&str> {
    outputs.get(TURNED_OFF_OUTPUT).and_then(Value::as_str)
}

/// Why the step that produced `outputs` does not own its target, when the kind said.
pub fn found_reason(outputs: &Outputs) -> Option<&str> {
    outputs.get(FOUND_OUTPUT).and_then(Value::as_str)
}

/// Whether the step that produced `outputs` created its target (see [`CREATED_OUTPUT`]).
/// `None` when the outputs do not say (a checkpoint from before the field existed).
pub fn created_by_step(outputs: &Outputs) -> Option<bool> {
    outputs.get(CREATED_OUTPUT).and_then(Value::as_bool)
}

/// What `apply` or `resume` converged: the step's outputs (without `created` or `found`,
/// which the engine adds) and whose the target is, as the kind saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The outputs the kind declares.
    pub outputs: Outputs,
    /// What the kind saw of the target's owner.
    pub origin: Origin,
}

/// Whose a step's target is, as the kind saw it while converging it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// This attempt created it, or the kind knows it is the step's own (a name only this step
    /// derives, a record the kind checked itself).
    Created,
    /// It was there already. It is still the step's own when an earlier attempt of the step
    /// set out to create it, or when the step's record says the step created it and the plan
    /// names the same target (not a replacement).
    Existing {
        /// Why it is not the deployment's, for `status` and `down`, should it not be.
        reason: Option<String>,
    },
    /// Someone else's, whatever the step's record says: used, never deleted.
    NotOurs {
        /// Why, for `status` and `down`.
        reason: Option<String>,
    },
    /// Work an earlier attempt started has finished now (a resumed wait): the step's own
    /// unless its record says it found the target.
    Resumed,
    /// The step made nothing, as its `with` asks (see [`crate::KindSchema::turned_off`]):
    /// nothing to delete or keep.
    TurnedOff {
        /// Why, in words, for `status`.
        reason: String,
    },
}

impl Applied {
    /// Outputs of a target this attempt created.
    pub fn created(outputs: Outputs) -> Self {
        Applied {
            outputs,
            origin: Origin::Created,
        }
    }

    /// Outputs of a target that was already there (see [`Origin::Existing`]).
    pub fn existing(outputs: Outputs) -> Self {
        Applied {
            outputs,
            origin: Origin::Existing { reason: None },
        }
    }

    /// Outputs of someone else's target (see [`Origin::NotOurs`]).
    pub fn not_ours(outputs: Outputs) -> Self {
        Applied {
            outputs,
            origin: Origin::NotOurs { reason: None },
        }
    }

    /// Outputs of work a resumed attempt finished (see [`Origin::Resumed`]).
    pub fn resumed(outputs: Outputs) -> Self {
        Applied {
            outputs,
            origin: Origin::Resumed,
        }
    }

    /// Outputs of a step that made nothing, and why (see [`Origin::TurnedOff`]).
    pub fn turned_off(outputs: Outputs, reason: impl Into<String>) -> Self {
        Applied {
            outputs,
            origin: Origin::TurnedOff {
                reason: reason.into(),
            },
        }
    }

    /// Outputs of a target that is the step's own exactly when `created` says so.
    pub fn created_if(created: bool, outputs: Outputs) -> Self {
        if created {
            Applied::created(outputs)
        } else {
            Applied::existing(outputs)
        }
    }

    /// Adds why the target would not be the deployment's own (ignored when it is).
    pub fn because(mut self, why: impl Into<String>) -> Self {
        match &mut self.origin {
            Origin::Existing { reason } | Origin::NotOurs { reason } => *reason = Some(why.into()),
            Origin::Created | Origin::Resumed | Origin::TurnedOff { .. } => {}
        }
        self
    }

    /// The outputs to record: the kind's, with `created` (and `found`, when not created and
    /// the kind said why) decided from the origin and the step's record. `replacing`: the
    /// plan names another target than the record, so the record's `created` is the old
    /// target's and says nothing of this one.
    pub fn into_outputs(self, ctx: &StepContext, replacing: bool) -> Outputs {
        let recorded = ctx.previous_outputs().and_then(created_by_step);
        let (created, reason) = match self.origin {
            Origin::Created => (true, None),
            Origin::Existing { reason } => {
                let ours =
                    ctx.was_creating() || ctx.reclaims() || (!replacing && recorded == Some(true));
                (ours, reason)
            }
            Origin::NotOurs { reason } => (false, reason),
            Origin::Resumed => (
                ctx.was_creating() || ctx.reclaims() || recorded != Some(false),
                None,
            ),
            Origin::TurnedOff { reason } => {
                let mut outputs = self.outputs;
                outputs.insert(CREATED_OUTPUT.into(), Value::Bool(false));
                outputs.remove(FOUND_OUTPUT);
                outputs.insert(TURNED_OFF_OUTPUT.into(), Value::String(reason));
                return outputs;
            }
        };
        let mut outputs = self.outputs;
        outputs.insert(CREATED_OUTPUT.into(), Value::Bool(created));
        outputs.remove(FOUND_OUTPUT);
        outputs.remove(TURNED_OFF_OUTPUT);
        if let (false, Some(reason)) = (created, reason) {
            outputs.insert(FOUND_OUTPUT.into(), Value::String(reason));
        }
        outputs
    }
}

/// Runs a step of `kind` as `up` does: `apply`, or `resume` with the `token` an interrupted
/// attempt saved, then the outputs to record with `created` decided (see
/// [`Applied::into_outputs`]; a replacement is what [`StepKind::replacement`] says).
pub async fn converge(
    kind: &dyn StepKind,
    ctx: &StepContext,
    with: &Value,
    token: Option<&Value>,
) -> Result<Outputs, StepError> {
    let replacing = kind.replacement(ctx, with).is_some();
    let applied = match token {
        Some(token) => kind.resume(ctx, with, token).await?,
        None => kind.apply(ctx, with).await?,
    };
    Ok(applied.into_outputs(ctx, replacing))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::context::ReadOnly;
    use crate::events::NoEvents;

    fn ctx(recorded: Option<bool>, creating: bool) -> StepContext {
        let previous = recorded.map(|c| {
            let mut o = Outputs::new();
            o.insert(CREATED_OUTPUT.into(), json!(c));
            o
        });
        StepContext::new(
            "s",
            previous,
            Arc::new(ReadOnly::new("a test")),
            Arc::new(NoEvents),
            CancellationToken::new(),
        )
        .with_creating(creating)
    }

    /// `created` and `found` as recorded for `applied` on a step with that record.
    fn recorded(applied: Applied, ctx: &StepContext, replacing: bool) -> (Value, Option<Value>) {
        let outputs = applied.into_outputs(ctx, replacing);
        (
            outputs[CREATED_OUTPUT].clone(),
            outputs.get(FOUND_OUTPUT).cloned(),
        )
    }

    fn existing() -> Applied {
        Applied::existing(Outputs::new()).because("it was there")
    }

    #[test]
    fn what_was_found_is_the_steps_own_only_when_its_record_or_an_unfinished_create_says_so() {
        let why = Some(json!("it was there"));
        // Found by a first run: someone else's, and why.
        assert_eq!(
            recorded(existing(), &ctx(None, false), false),
            (json!(false), why.clone())
        );
        // Found again by a rerun of the step that created it: still its own.
        assert_eq!(
            recorded(existing(), &ctx(Some(true), false), false),
            (json!(true), None)
        );
        // Found after a crash between the create and its success record: its own.
        assert_eq!(
            recorded(existing(), &ctx(None, true), false),
            (json!(true), None)
        );
        // The plan names another target: the record is the old one's and says nothing here.
        assert_eq!(
            recorded(existing(), &ctx(Some(true), false), true),
            (json!(false), why)
        );
    }

    #[test]
    fn someone_elses_target_is_never_the_steps_whatever_its_record_says() {
        let foreign = Applied::not_ours(Outputs::new()).because("assigned elsewhere");
        assert_eq!(
            recorded(foreign, &ctx(Some(true), true), false),
            (json!(false), Some(json!("assigned elsewhere")))
        );
    }

    #[test]
    fn created_and_resumed_work_is_the_steps_unless_its_record_says_it_was_found() {
        let created = || Applied::created(Outputs::new()).because("ignored");
        assert_eq!(
            recorded(created(), &ctx(Some(false), false), false),
            (json!(true), None)
        );
        let resumed = || Applied::resumed(Outputs::new());
        assert_eq!(
            recorded(resumed(), &ctx(None, false), false),
            (json!(true), None)
        );
        assert_eq!(
            recorded(resumed(), &ctx(Some(false), false), false),
            (json!(false), None)
        );
        assert_eq!(
            recorded(resumed(), &ctx(Some(false), true), false),
            (json!(true), None)
        );
    }

    #[test]
    fn a_kind_cannot_write_the_ownership_outputs_itself() {
        let mut outputs = Outputs::new();
        outputs.insert(CREATED_OUTPUT.into(), json!(true));
        outputs.insert(FOUND_OUTPUT.into(), json!("stale"));
        outputs.insert(TURNED_OFF_OUTPUT.into(), json!("stale"));
        let applied = Applied::not_ours(outputs).into_outputs(&ctx(None, false), false);
        assert_eq!(applied[CREATED_OUTPUT], json!(false));
        assert_eq!(found_reason(&applied), None);
        assert_eq!(turned_off_reason(&applied), None);
    }

    #[test]
    fn a_step_turned_off_owns_nothing_even_where_its_record_or_a_create_said_it_did() {
        let off = Applied::turned_off(Outputs::new(), "turned off (enabled: false)")
            .into_outputs(&ctx(Some(true), true), false);
        assert_eq!(off[CREATED_OUTPUT], json!(false));
        assert_eq!(turned_off_reason(&off), Some("turned off (enabled: false)"));
        assert_eq!(found_reason(&off), None);
    }
}
