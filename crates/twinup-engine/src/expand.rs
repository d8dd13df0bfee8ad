//! The expanded plan: a plan whose `for_each` steps are one step per item, given the resolved
//! inputs. [`ExpandedPlan`] can only be made by expanding, and every engine entry point that
//! walks, validates or inspects steps takes one, so no caller can forget the expansion.

use std::ops::Deref;

use twinup_plan::{Diagnostic, Diagnostics, Plan, PlanError};

use crate::inputs::ResolvedInputs;

/// A plan with its `for_each` steps expanded ([`Plan::expand`]).
#[derive(Debug, Clone)]
pub struct ExpandedPlan(Plan);

impl ExpandedPlan {
    /// The plan as expanded.
    pub fn plan(&self) -> &Plan {
        &self.0
    }
}

impl Deref for ExpandedPlan {
    type Target = Plan;

    fn deref(&self) -> &Plan {
        &self.0
    }
}

/// `plan` with its `for_each` steps expanded for `inputs` (the plan as it is when it has
/// none).
pub fn expand_plan(plan: &Plan, inputs: &ResolvedInputs) -> Result<ExpandedPlan, Diagnostics> {
    if !plan.has_for_each() {
        return Ok(ExpandedPlan(plan.clone()));
    }
    plan.expand(&inputs.values)
        .map(ExpandedPlan)
        .map_err(|e| match e {
            PlanError::Invalid(d) => d,
            other => Diagnostics(vec![Diagnostic {
                location: None,
                message: other.to_string(),
                help: None,
            }]),
        })
}
