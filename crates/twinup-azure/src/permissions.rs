//! What the signed-in principal may do at an ARM scope: `GET {scope}/providers/
//! Microsoft.Authorization/permissions` (every page, following `nextLink`) and matching actions
//! against its `actions`/`notActions` patterns. ARM answers the call at any scope (subscription,
//! resource group, resource), though the Authorization spec lists only the group and resource
//! forms (azure-rest-api-specs#19473).

use serde_json::{Value, json};

use crate::arm::ArmClient;
use crate::errors::Result;

/// API version of Microsoft.Authorization permissions.
pub const API_VERSION: &str = "2022-04-01";

/// The caller's permissions at `scope`, all pages joined: `{"value": [...]}`.
pub async fn list(arm: &ArmClient, scope: &str) -> Result<Value> {
    let path = format!("{scope}/providers/Microsoft.Authorization/permissions");
    let mut page = arm.get(&path, API_VERSION).await?.body;
    let mut value: Vec<Value> = Vec::new();
    // Bounded: a server that keeps sending pages cannot keep the run here.
    for _ in 0..100 {
        if let Some(items) = page.get("value").and_then(Value::as_array) {
            value.extend(items.iter().cloned());
        }
        let Some(next) = page
            .get("nextLink")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .and_then(|n| url::Url::parse(n).ok())
        else {
            break;
        };
        let method = reqwest::Method::GET;
        let response = arm.send_raw(method.clone(), next.clone(), None).await?;
        page = crate::arm::check(response, &method, &next)?.body;
    }
    Ok(json!({ "value": value }))
}

/// Case-insensitive match of an action against a permission pattern with `*` wildcards.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let action = action.to_ascii_lowercase();
    let pieces: Vec<&str> = pattern.split('*').collect();
    if pieces.len() == 1 {
        return pattern == action;
    }
    let mut rest = action.as_str();
    for (i, piece) in pieces.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(piece) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == pieces.len() - 1 {
            return rest.ends_with(piece);
        } else {
            match rest.find(piece) {
                Some(at) => rest = &rest[at + piece.len()..],
                None => return false,
            }
        }
    }
    true
}

/// True if a `permissions` list (`{"value":[{"actions":[],"notActions":[]}]}`) allows `action`.
pub fn permits(permissions: &Value, action: &str) -> bool {
    let list = |p: &Value, k: &str| -> Vec<String> { crate::kinds::fields::strings_of(p.get(k)) };
    permissions
        .get("value")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|p| {
            list(p, "actions").iter().any(|a| action_matches(a, action))
                && !list(p, "notActions")
                    .iter()
                    .any(|a| action_matches(a, action))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACTION: &str = "Microsoft.Authorization/roleAssignments/write";

    #[test]
    fn register_action_patterns() {
        let contributor =
            json!({"value":[{"actions":["*"],"notActions":["Microsoft.Authorization/*/Write"]}]});
        let reader = json!({"value":[{"actions":["*/read"],"notActions":[]}]});
        assert!(permits(
            &contributor,
            "Microsoft.DigitalTwins/register/action"
        ));
        assert!(!permits(&reader, "Microsoft.DigitalTwins/register/action"));
        assert!(action_matches(
            "*/register/action",
            "Microsoft.DigitalTwins/register/action"
        ));
        assert!(!permits(&contributor, ACTION));
    }
}
