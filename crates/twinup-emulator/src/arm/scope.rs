//! ARM ids and scopes: how ids are spelled in answers, the lower-cased keys the state uses, the
//! "at or above" relation RBAC needs, and existence checks that give ARM's 404 codes.

use crate::errors::ApiError;
use crate::state::State;

/// Lower-cased scope key with a leading `/` and no trailing one (`/` for the tenant root).
pub(crate) fn key(scope: &str) -> String {
    let trimmed = scope.trim_matches('/');
    format!("/{}", trimmed.to_lowercase())
}

/// Whether `ancestor` is `scope` or one of its parents (both keys).
pub(crate) fn covers(ancestor: &str, scope: &str) -> bool {
    ancestor == "/" || scope == ancestor || scope.starts_with(&format!("{ancestor}/"))
}

/// Normalises a client-supplied scope for echoing: leading `/`, no trailing `/`.
pub(crate) fn display(scope: &str) -> String {
    let trimmed = scope.trim_matches('/');
    if trimmed.is_empty() {
        "/".to_string()
    } else {
        format!("/{trimmed}")
    }
}

pub(crate) fn subscription_id(sub: &str) -> String {
    format!("/subscriptions/{sub}")
}

pub(crate) fn resource_group_id(sub: &str, rg: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}")
}

/// Instance ids are spelled with `/resourcegroups/`, as in the Digital Twins examples.
pub(crate) fn digital_twins_id(sub: &str, rg: &str, name: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.DigitalTwins/digitalTwinsInstances/{name}"
    )
}

/// The id of a role definition as ARM spells it wherever it appears (role-definition lists and
/// reads at any scope, and the `roleDefinitionId` of role assignments):
/// `/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}` for any scope
/// in a subscription, `/providers/...` only for scopes above one. This is what Azure answers (the
/// RoleAssignments_CreateForSubscription example's request, the az CLI's `role assignment list`
/// output, and the az CLI's own matching of `roleDefinitionId` against the ids of the
/// definitions it listed in `azure/cli/command_modules/role/custom.py`).
pub(crate) fn role_definition_id(scope: &str, guid: &str) -> String {
    let segs: Vec<&str> = scope.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        [s, sub, ..] if s.eq_ignore_ascii_case("subscriptions") => {
            format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}")
        }
        _ => format!("/providers/Microsoft.Authorization/roleDefinitions/{guid}"),
    }
}

pub(crate) fn check_subscription(st: &State, sub: &str) -> Result<(), ApiError> {
    if sub.eq_ignore_ascii_case(&st.tenant.subscription_id) {
        Ok(())
    } else {
        Err(ApiError::not_found(
            "SubscriptionNotFound",
            format!("The subscription '{sub}' could not be found."),
        ))
    }
}

pub(crate) fn resource_group_missing(rg: &str) -> ApiError {
    ApiError::not_found(
        "ResourceGroupNotFound",
        format!("Resource group '{rg}' could not be found."),
    )
}

/// 404 unless the subscription, resource group or resource named by `scope` exists.
pub(crate) fn check_exists(st: &State, scope: &str) -> Result<(), ApiError> {
    let segs: Vec<&str> = scope.split('/').filter(|s| !s.is_empty()).collect();
    let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    match segs.as_slice() {
        [] => Ok(()),
        [s, sub, rest @ ..] if eq(s, "subscriptions") => {
            check_subscription(st, sub)?;
            match rest {
                [] => Ok(()),
                [g, rg, more @ ..] if eq(g, "resourceGroups") => {
                    if !st
                        .resource_groups
                        .contains_key(&key(&resource_group_id(sub, rg)))
                    {
                        return Err(resource_group_missing(rg));
                    }
                    if more.is_empty() {
                        return Ok(());
                    }
                    resource_exists(st, scope, more, Some(rg))
                }
                [p, ..] if eq(p, "providers") => resource_exists(st, scope, rest, None),
                _ => Err(invalid(scope)),
            }
        }
        _ => Err(invalid(scope)),
    }
}

fn invalid(scope: &str) -> ApiError {
    ApiError::bad_request(
        "InvalidScope",
        format!(
            "The scope '{scope}' is not a valid ARM scope. Use /subscriptions/{{id}}[/resourceGroups/{{name}}[/providers/...]]."
        ),
    )
}

fn resource_exists(
    st: &State,
    scope: &str,
    provider_part: &[&str],
    rg: Option<&str>,
) -> Result<(), ApiError> {
    let k = key(scope);
    if st.digital_twins.contains_key(&k) || st.generic.contains_key(&k) {
        return Ok(());
    }
    let ns = provider_part.get(1).copied().unwrap_or("");
    let types: Vec<&str> = provider_part.iter().skip(2).step_by(2).copied().collect();
    let name = provider_part.last().copied().unwrap_or("");
    let what = format!("{ns}/{}/{name}", types.join("/"));
    Err(ApiError::not_found(
        "ResourceNotFound",
        match rg {
            Some(rg) => format!(
                "The Resource '{what}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
            ),
            None => format!(
                "The Resource '{what}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
            ),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_respects_segment_boundaries() {
        assert!(covers(
            "/subscriptions/a",
            "/subscriptions/a/resourcegroups/x"
        ));
        assert!(!covers("/subscriptions/a", "/subscriptions/ab"));
        assert!(covers("/", "/subscriptions/a"));
        assert_eq!(key("subscriptions/A/"), "/subscriptions/a");
    }
}
