//! The managed identities of `azure.digital_twins_instance`: the system-assigned one
//! (`identity: SystemAssigned`) and user-assigned ones (`user_assigned_identities`, resource
//! ids of `Microsoft.ManagedIdentity/userAssignedIdentities`), as the instance's `identity`
//! (Microsoft.DigitalTwins 2023-01-31 `DigitalTwinsIdentity`: `type` `None`, `SystemAssigned`,
//! `UserAssigned` or `SystemAssigned,UserAssigned`, and `userAssignedIdentities` as a map from
//! resource id to `{}` in requests).
//!
//! Before an update takes an identity away, the instance's endpoints and data history
//! connections are listed (`GET .../digitalTwinsInstances/{name}/endpoints` and
//! `.../timeSeriesDatabaseConnections`); the endpoints with `authenticationType: IdentityBased`
//! and the connections that use that identity stop delivering events (Learn: "Enable a managed
//! identity for routing", considerations for disabling managed identities), so preflight asks
//! for confirmation naming them.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};
use twinup_engine::FieldError;

use super::fields::{self, Checker};
use crate::arm::ArmClient;
use crate::errors::AzureError;

/// API version of Microsoft.ManagedIdentity used to read a user-assigned identity.
pub const API_VERSION: &str = "2023-01-31";
/// The resource type of a user-assigned identity.
const UAI_TYPE: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";

/// True for `/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{n}`.
pub fn is_identity_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('/').collect();
    matches!(parts.as_slice(),
        ["", s, sub, g, group, p, ns, t, name]
            if s.eq_ignore_ascii_case("subscriptions") && !sub.is_empty()
                && g.eq_ignore_ascii_case("resourceGroups") && !group.is_empty()
                && p.eq_ignore_ascii_case("providers")
                && format!("{ns}/{t}").eq_ignore_ascii_case(UAI_TYPE) && !name.is_empty())
}

/// Checks `user_assigned_identities`: a list of user-assigned identity resource ids.
pub fn validate(c: &mut Checker<'_>) {
    match c.get("user_assigned_identities") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) if items.iter().all(fields::string_or_unknown) => {
            for (i, item) in items.iter().enumerate() {
                let Some(text) = item.as_str() else {
                    continue; // not known before the run
                };
                if !is_identity_id(text) {
                    c.errors.push(FieldError::new(
                        format!("user_assigned_identities[{i}]"),
                        format!("`{text}` is not the resource id of a user-assigned identity"),
                        "give /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name> (az identity show -g <group> -n <name> --query id)",
                    ));
                }
            }
        }
        Some(v) if twinup_engine::contains_unknown(v) => {}
        Some(_) => c.errors.push(FieldError::new(
            "user_assigned_identities",
            "`user_assigned_identities` must be a list of resource ids",
            "e.g. `user_assigned_identities: [/subscriptions/.../userAssignedIdentities/twins-id]`",
        )),
    }
}

/// The user-assigned identity ids `with` asks for; `None` when the field is absent (an older
/// plan: the live instance's are kept).
fn planned_users(with: &Value) -> Option<Vec<String>> {
    match with.get("user_assigned_identities") {
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .filter(|s| !s.trim().is_empty())
                .map(str::to_string)
                .collect(),
        ),
        _ => None,
    }
}

/// The `identity` of the PUT body for `with`; `None` when the plan sets no identity at all.
/// Without user-assigned identities it is `{"type": <identity>}`, as before they existed.
pub fn desired(with: &Value) -> Option<Value> {
    let system =
        fields::opt_string(with, "identity").map(|s| s.eq_ignore_ascii_case("SystemAssigned"));
    let users = planned_users(with).unwrap_or_default();
    if users.is_empty() {
        let system = system?;
        return Some(json!({ "type": if system { "SystemAssigned" } else { "None" } }));
    }
    let kind = if system == Some(true) {
        "SystemAssigned,UserAssigned"
    } else {
        "UserAssigned"
    };
    let map: Map<String, Value> = users.into_iter().map(|id| (id, json!({}))).collect();
    Some(json!({ "type": kind, "userAssignedIdentities": map }))
}

fn has_system(identity: Option<&Value>) -> bool {
    identity
        .and_then(|i| i.get("type"))
        .and_then(Value::as_str)
        .is_some_and(|t| t.to_ascii_lowercase().contains("systemassigned"))
}

/// The user-assigned identity ids of an `identity` (lower case, for comparing).
fn user_ids(identity: Option<&Value>) -> BTreeSet<String> {
    identity
        .and_then(|i| i.get("userAssignedIdentities"))
        .and_then(Value::as_object)
        .map(|m| m.keys().map(|k| k.to_ascii_lowercase()).collect())
        .unwrap_or_default()
}

/// The identity of the update body: the plan's, or when the plan names no user-assigned
/// identities (an older plan) the live ones kept under the plan's type.
pub fn for_update(live: Option<&Value>, desired: &Value, with: &Value) -> Value {
    if planned_users(with).is_some() {
        return desired.clone();
    }
    let mut identity = live
        .cloned()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    identity["type"] = desired.get("type").cloned().unwrap_or(json!("None"));
    identity
}

/// True if the live instance's identity is what the plan asks for.
pub fn matches(live: Option<&Value>, desired: Option<&Value>, with: &Value) -> bool {
    let Some(desired) = desired else {
        return true;
    };
    let text = |v: Option<&Value>| {
        v.and_then(|i| i.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("None")
            .replace(' ', "")
            .to_ascii_lowercase()
    };
    text(live) == text(Some(desired))
        && (planned_users(with).is_none() || user_ids(live) == user_ids(Some(desired)))
}

/// The live identity as `read` reports it, in the terms of the `with` fields: `identity`
/// (`SystemAssigned` or `None`, whether the system-assigned one is on) and
/// `user_assigned_identities` (in the plan's order when they are the plan's, compared without
/// case as ARM ids are).
pub fn live_properties(live: Option<&Value>, with: &Value) -> (Value, Value) {
    let system = if has_system(live) {
        "SystemAssigned"
    } else {
        "None"
    };
    let ids = user_ids(live);
    let planned = planned_users(with).unwrap_or_default();
    let same = planned.len() == ids.len()
        && planned
            .iter()
            .all(|p| ids.contains(&p.to_ascii_lowercase()));
    let users: Vec<String> = if same {
        planned
    } else {
        live.and_then(|i| i.get("userAssignedIdentities"))
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    (json!(system), json!(users))
}

/// The identities the update from `live` to `next` takes away: `"system-assigned"` and the
/// ids of user-assigned ones (lower case).
fn removed(live: Option<&Value>, next: &Value) -> (bool, BTreeSet<String>) {
    let system = has_system(live) && !has_system(Some(next));
    let gone = user_ids(live)
        .difference(&user_ids(Some(next)))
        .cloned()
        .collect();
    (system, gone)
}

/// One endpoint or data history connection that authenticates with an identity: what it is
/// (`endpoint to-bus`) and the identity it uses (`None` for the system-assigned one).
struct IdentityUser {
    name: String,
    user_assigned: Option<String>,
}

/// The instance's children that may authenticate with its identities: endpoints (when
/// `authenticationType` is `IdentityBased`) and data history connections (always), as
/// `(path segment, what a person calls one, always identity-based)` (2023-01-31 spec:
/// `DigitalTwinsEndpoint_List`, `TimeSeriesDatabaseConnections_List`).
const USERS: &[(&str, &str, bool)] = &[
    ("endpoints", "endpoint", false),
    (
        "timeSeriesDatabaseConnections",
        "data history connection",
        true,
    ),
];

/// The endpoints and data history connections of the instance at `path` that authenticate
/// with one of its identities. A collection the cloud does not serve (404) has none.
async fn identity_users(
    arm: &ArmClient,
    path: &str,
    api_version: &str,
) -> Result<Vec<IdentityUser>, AzureError> {
    let mut out = Vec::new();
    for (segment, label, always) in USERS {
        let Some(list) = arm
            .get_optional(&format!("{path}/{segment}"), api_version)
            .await?
        else {
            continue;
        };
        for child in list
            .body
            .get("value")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let props = child.get("properties").unwrap_or(&Value::Null);
            let identity_based = *always
                || props
                    .get("authenticationType")
                    .and_then(Value::as_str)
                    .is_some_and(|a| a.eq_ignore_ascii_case("IdentityBased"));
            if !identity_based {
                continue;
            }
            let user_assigned = props
                .get("identity")
                .filter(|i| {
                    i.get("type")
                        .and_then(Value::as_str)
                        .is_some_and(|t| t.eq_ignore_ascii_case("UserAssigned"))
                })
                .and_then(|i| i.get("userAssignedIdentity"))
                .and_then(Value::as_str)
                .map(str::to_string);
            let name = child.get("name").and_then(Value::as_str).unwrap_or("?");
            out.push(IdentityUser {
                name: format!("{label} {name}"),
                user_assigned,
            });
        }
    }
    Ok(out)
}

/// When the update from `live` to `next` takes away an identity that endpoints or data history
/// connections of the instance use, what to confirm: the identities and those, by name.
pub async fn disabling_warning(
    arm: &ArmClient,
    path: &str,
    api_version: &str,
    live: Option<&Value>,
    next: &Value,
) -> Result<Option<String>, AzureError> {
    let (system, users) = removed(live, next);
    if !system && users.is_empty() {
        return Ok(None);
    }
    let endpoints = match identity_users(arm, path, api_version).await {
        Ok(endpoints) => endpoints,
        // The caller may not read the endpoints: it cannot know, so it asks.
        Err(e) if e.is_forbidden() => {
            return Ok(Some(format!(
                "disabling a managed identity of instance {} stops event delivery to any endpoint or data history connection that authenticates with it, and they cannot be read to tell ({e})",
                super::name_of(path)
            )));
        }
        Err(e) => return Err(e),
    };
    let mut hit = Vec::new();
    for endpoint in endpoints {
        match &endpoint.user_assigned {
            None if system => hit.push(format!("{} (system-assigned identity)", endpoint.name)),
            Some(id) if users.contains(&id.to_ascii_lowercase()) => {
                hit.push(format!("{} (user-assigned identity {id})", endpoint.name))
            }
            _ => {}
        }
    }
    if hit.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "disabling a managed identity of instance {} stops event delivery to what authenticates with it: {}",
        super::name_of(path),
        hit.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    const UAI: &str = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a";

    #[test]
    fn identity_types() {
        assert_eq!(
            desired(&json!({"identity": "None", "user_assigned_identities": []})),
            Some(json!({"type": "None"}))
        );
        assert_eq!(
            desired(&json!({"identity": "SystemAssigned"})),
            Some(json!({"type": "SystemAssigned"}))
        );
        assert_eq!(
            desired(&json!({"identity": "None", "user_assigned_identities": [UAI]})),
            Some(json!({"type": "UserAssigned", "userAssignedIdentities": {UAI: {}}}))
        );
        assert_eq!(
            desired(&json!({"identity": "SystemAssigned", "user_assigned_identities": [UAI]}))
                .and_then(|i| i.get("type").cloned()),
            Some(json!("SystemAssigned,UserAssigned"))
        );
        assert_eq!(desired(&json!({})), None);
        assert!(is_identity_id(UAI));
        assert!(!is_identity_id("/subscriptions/s/resourceGroups/g"));
    }

    #[test]
    fn removal_is_seen() {
        let live = json!({"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {UAI: {"clientId": "c"}}});
        let (system, users) = removed(
            Some(&live),
            &json!({"type": "UserAssigned", "userAssignedIdentities": {UAI: {}}}),
        );
        assert!(system && users.is_empty());
        let (system, users) = removed(Some(&live), &json!({"type": "SystemAssigned"}));
        assert!(!system && users.contains(&UAI.to_ascii_lowercase()));
    }
}
