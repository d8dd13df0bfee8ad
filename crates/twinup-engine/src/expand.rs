//! Expands a plan's `for_each` steps into one step per item, given the resolved inputs, so
//! every engine entry point works on plans with and without `for_each` alike.

use std::borrow::Cow;

use twinup_plan::{Diagnostic, Diagnostics, Plan, PlanError};

use crate::inputs::ResolvedInputs;

/// `plan` with its `for_each` steps expanded ([`Plan::expand`]); the plan itself when it has
/// none or is already expanded.
pub fn expand_plan<'p>(
    plan: &'p Plan,
    inputs: &ResolvedInputs,
) -> Result<Cow<'p, Plan>, Diagnostics> {
    if !plan.has_for_each() {
        return Ok(Cow::Borrowed(plan));
    }
    plan.expand(&inputs.values)
        .map(Cow::Owned)
        .map_err(|e| match e {
            PlanError::Invalid(d) => d,
            other => Diagnostics(vec![Diagnostic {
                location: None,
                message: other.to_string(),
                help: None,
            }]),
        })
}
