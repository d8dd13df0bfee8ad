//! Tags on resources twinup may not own: the plan's tags are added or changed, never removed,
//! so a rerun into a resource group or instance that carries other tags (`costcenter`, `owner`)
//! keeps them. Writes go through the Tags API with `operation: Merge`
//! (`PATCH {scope}/providers/Microsoft.Resources/tags/default`, resources 2025-04-01), which
//! touches only the keys it is given; a live resource with no `tags` has none (`{}`).

use serde_json::{Map, Value, json};
use twinup_engine::{StepContext, StepError};

use super::{AzureContext, wait_for};
use crate::lro::{self, Started};

/// API version of the Tags API (Microsoft.Resources).
pub const API_VERSION: &str = "2025-04-01";

/// The tags `with` sets (`with.tags`), empty when it sets none.
pub fn planned(with: &Value) -> Map<String, Value> {
    with.get("tags")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// The live tags of an ARM resource body (`{}` when it has none).
pub fn live(body: &Value) -> Map<String, Value> {
    body.get("tags")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// The planned tags the live set lacks or holds with another value.
pub fn missing(planned: &Map<String, Value>, live: &Map<String, Value>) -> Map<String, Value> {
    planned
        .iter()
        .filter(|(k, v)| live.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The live set with the planned tags applied (other keys kept).
pub fn merged(planned: &Map<String, Value>, live: &Map<String, Value>) -> Map<String, Value> {
    let mut out = live.clone();
    out.extend(planned.iter().map(|(k, v)| (k.clone(), v.clone())));
    out
}

/// The live tags restricted to the keys the plan sets: what drift detection compares, so tags
/// others put on a shared resource are not drift.
pub fn as_planned(planned: &Map<String, Value>, live: &Map<String, Value>) -> Value {
    Value::Object(
        live.iter()
            .filter(|(k, _)| planned.contains_key(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

/// Adds or changes `tags` on the resource at `scope` (a resource group or resource id) with the
/// Tags API's `Merge`, waiting if Azure answers 202. Tags not named are left as they are.
pub async fn merge(
    azure: &AzureContext,
    ctx: &StepContext,
    scope: &str,
    tags: &Map<String, Value>,
    what: &str,
) -> Result<(), StepError> {
    let path = format!("{scope}/providers/Microsoft.Resources/tags/default");
    let body = json!({"operation": "Merge", "properties": {"tags": tags}});
    let arm = azure.arm();
    let url = arm.url(&path, API_VERSION, &[])?;
    let answer = arm.patch(&path, API_VERSION, &body).await?;
    match lro::start(&reqwest::Method::PATCH, &url, answer, what)? {
        Started::Done(_) => Ok(()),
        Started::Pending(token) => wait_for(azure, ctx, &token, what).await.map(|_| ()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn only_planned_keys_count_and_others_are_kept() {
        let live = map(json!({"costcenter": "42", "owner": "ann", "env": "dev"}));
        let planned = map(json!({"env": "prod", "suite": "x"}));
        assert_eq!(
            missing(&planned, &live),
            map(json!({"env": "prod", "suite": "x"}))
        );
        assert!(missing(&Map::new(), &live).is_empty());
        assert_eq!(
            merged(&planned, &live),
            map(json!({"costcenter": "42", "owner": "ann", "env": "prod", "suite": "x"}))
        );
        assert_eq!(as_planned(&planned, &live), json!({"env": "dev"}));
        assert_eq!(as_planned(&Map::new(), &live), json!({}));
    }
}
