//! Azure RBAC evaluation: which role assignments apply to a principal at a scope, whether they
//! grant an action, and the 403 `AuthorizationFailed` answer when they do not.

use axum::http::StatusCode;

use crate::auth::Caller;
use crate::errors::ApiError;
use crate::roles::RoleDefinition;
use crate::state::{RoleAssignment, State};

use super::scope;

/// Assignments of `principal` at `target` or above, with their role definitions.
pub(crate) fn effective<'a>(
    st: &'a State,
    principal: &str,
    target: &str,
) -> Vec<(&'a RoleAssignment, RoleDefinition)> {
    let target_key = scope::key(target);
    st.role_assignments
        .values()
        .filter(|a| a.principal_id.eq_ignore_ascii_case(principal))
        .filter(|a| scope::covers(&scope::key(&a.scope), &target_key))
        .filter_map(|a| st.role_definition(&a.role_definition_id).map(|d| (a, d)))
        .collect()
}

pub(crate) fn allowed(st: &State, principal: &str, target: &str, action: &str) -> bool {
    effective(st, principal, target)
        .iter()
        .any(|(_, d)| d.permits(action))
}

/// Whether the principal has any assignment inside the subscription (at, above or below it).
pub(crate) fn any_access_in(st: &State, principal: &str, sub: &str) -> bool {
    let sub_key = scope::key(&scope::subscription_id(sub));
    st.role_assignments.values().any(|a| {
        a.principal_id.eq_ignore_ascii_case(principal) && {
            let k = scope::key(&a.scope);
            scope::covers(&k, &sub_key) || scope::covers(&sub_key, &k)
        }
    })
}

/// 403 `AuthorizationFailed` unless `caller` may perform `action` at `target`.
pub(crate) fn authorize(
    st: &State,
    caller: &Caller,
    target: &str,
    action: &str,
) -> Result<(), ApiError> {
    if allowed(st, &caller.object_id, target, action) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "AuthorizationFailed",
        format!(
            "The client '{}' with object id '{}' does not have authorization to perform action '{action}' over scope '{}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
            caller.display(),
            caller.object_id,
            scope::display(target)
        ),
    ))
}
