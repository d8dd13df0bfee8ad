//! Resource provider registration, as `az provider register` does it: a subscription that never
//! used a namespace answers its calls with 409 `MissingSubscriptionRegistration` until
//! `POST /subscriptions/{s}/providers/{ns}/register` has run and
//! `GET /subscriptions/{s}/providers/{ns}` says `Registered` (resources 2025-04-01,
//! `Providers_Register` / `Providers_Get`). Registering needs `{ns}/register/action` on the
//! subscription (Contributor or Owner).

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::arm::ArmClient;
use crate::errors::{AzureError, Result};

/// API version of Microsoft.Resources providers.
pub const API_VERSION: &str = "2025-04-01";

/// The error code of a call into a namespace the subscription is not registered for.
pub const MISSING_REGISTRATION: &str = "MissingSubscriptionRegistration";

fn path(subscription: &str, namespace: &str) -> String {
    format!("/subscriptions/{subscription}/providers/{namespace}")
}

/// The namespace's `registrationState` (`Registered`, `NotRegistered`, `Registering`, ...).
pub async fn state(arm: &ArmClient, subscription: &str, namespace: &str) -> Result<String> {
    let body = arm
        .get(&path(subscription, namespace), API_VERSION)
        .await?
        .body;
    Ok(registration_state(&body))
}

fn registration_state(body: &Value) -> String {
    body.get("registrationState")
        .and_then(Value::as_str)
        .unwrap_or("NotRegistered")
        .to_string()
}

/// True if the state means the namespace can be used.
pub fn is_registered(state: &str) -> bool {
    state.eq_ignore_ascii_case("Registered")
}

/// Registers `namespace` with `subscription` unless it already is, and waits until it is
/// `Registered`, at most `limit`, polling every `interval` (doubling, capped at 15 s) and
/// reporting each wait through `progress`.
pub async fn ensure_registered(
    arm: &ArmClient,
    subscription: &str,
    namespace: &str,
    limit: Duration,
    interval: Duration,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> Result<()> {
    if is_registered(&state(arm, subscription, namespace).await?) {
        return Ok(());
    }
    progress(&format!(
        "registering resource provider {namespace} with subscription {subscription} (as `az provider register --namespace {namespace}`)"
    ));
    let register = format!("{}/register", path(subscription, namespace));
    let mut current = registration_state(&arm.post(&register, API_VERSION, None).await?.body);
    let started = Instant::now();
    let mut wait = interval;
    while !is_registered(&current) {
        let waited = started.elapsed();
        if waited >= limit {
            return Err(AzureError::OperationTimeout {
                what: format!("the registration of {namespace} (still {current})"),
                waited,
            });
        }
        progress(&format!(
            "{namespace} is {current}; checking again in {}s",
            wait.as_secs_f64().ceil()
        ));
        tokio::time::sleep(wait.min(limit - waited)).await;
        wait = (wait * 2).min(Duration::from_secs(15));
        current = state(arm, subscription, namespace).await?;
    }
    progress(&format!("{namespace} is registered"));
    Ok(())
}
