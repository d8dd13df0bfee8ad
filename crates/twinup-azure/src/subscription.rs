//! Choosing a subscription: list the caller's enabled subscriptions and take the only one,
//! or hand the list back so the CLI can prompt.

use serde_json::Value;

use crate::arm::ArmClient;
use crate::errors::{AzureError, Result};

/// API version for listing subscriptions.
pub const API_VERSION: &str = "2022-12-01";

/// One subscription the caller can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// Subscription id (GUID).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Tenant id, when reported.
    pub tenant_id: Option<String>,
}

/// The result of looking for a default subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionChoice {
    /// Exactly one enabled subscription.
    Only(Subscription),
    /// Several: ask the user (or require `--subscription`).
    Several(Vec<Subscription>),
}

/// Lists enabled subscriptions (following `nextLink`) and picks the only one.
pub async fn default_subscription(arm: &ArmClient) -> Result<SubscriptionChoice> {
    let mut found = Vec::new();
    let mut page = arm.get("/subscriptions", API_VERSION).await?.body;
    loop {
        for s in page
            .get("value")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let enabled = s
                .get("state")
                .and_then(Value::as_str)
                .is_none_or(|st| st.eq_ignore_ascii_case("Enabled"));
            if let (true, Some(id)) = (enabled, s.get("subscriptionId").and_then(Value::as_str)) {
                found.push(Subscription {
                    id: id.to_string(),
                    name: s
                        .get("displayName")
                        .and_then(Value::as_str)
                        .unwrap_or(id)
                        .to_string(),
                    tenant_id: s
                        .get("tenantId")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                });
            }
        }
        let Some(next) = page.get("nextLink").and_then(Value::as_str) else {
            break;
        };
        let url = url::Url::parse(next).map_err(|e| AzureError::Decode {
            what: "subscription list".into(),
            message: format!("bad nextLink: {e}"),
        })?;
        let response = arm
            .send_raw(reqwest::Method::GET, url.clone(), None)
            .await?;
        page = crate::arm::check(response, &reqwest::Method::GET, &url)?.body;
    }
    match found.len() {
        0 => Err(AzureError::Rule(
            "the signed-in principal has no enabled Azure subscription; ask for access to one, or sign in with another account (az login)".into(),
        )),
        1 => Ok(SubscriptionChoice::Only(found.remove(0))),
        _ => Ok(SubscriptionChoice::Several(found)),
    }
}
