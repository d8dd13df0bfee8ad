//! Resource provider registration per subscription: `GET /subscriptions/{s}/providers/{ns}`
//! (`Providers_Get`), `POST .../register` (`Providers_Register`, answering 200 with the provider
//! in `Registering`, which turns `Registered` after a scaled minute), and the 409
//! `MissingSubscriptionRegistration` every call of an unregistered namespace gets.
//!
//! Sources: azure-rest-api-specs, specification/resources/resource-manager/Microsoft.Resources/
//! stable/2025-04-01/resources.json (`Providers_Get`, `Providers_Register`, `Provider.
//! registrationState`); Learn, "Resolve errors for resource provider registration"
//! (learn.microsoft.com/azure/azure-resource-manager/troubleshooting/error-register-resource-provider):
//! the `MissingSubscriptionRegistration` code and message, registration needing the
//! `/register/action` permission "included in the Contributor and Owner roles", and
//! `Registering` before `Registered`. The emulator's subscription starts with every namespace
//! registered; the admin API (`POST /_emulator/providers`) unregisters one.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::clock::PROVIDER_REGISTER_SECS;
use crate::errors::ApiError;
use crate::http::{Resp, json_response};
use crate::state::{ProviderRegistration, State};

use super::{Call, api_version, rbac, scope};

/// The registration state of `ns` at `now`: `Registered`, `Registering` or `NotRegistered`.
pub(crate) fn state_of(st: &State, ns: &str, now: DateTime<Utc>) -> &'static str {
    match st.providers.get(&ns.to_lowercase()) {
        None => "Registered",
        Some(p) if p.state == "Registering" => {
            if p.registered_at.is_some_and(|at| now >= at) {
                "Registered"
            } else {
                "Registering"
            }
        }
        Some(_) => "NotRegistered",
    }
}

/// 409 `MissingSubscriptionRegistration` unless `ns` is registered with subscription `sub`.
pub(crate) fn require_registered(
    st: &State,
    sub: &str,
    ns: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if !sub.eq_ignore_ascii_case(&st.tenant.subscription_id)
        || state_of(st, ns, now) == "Registered"
    {
        return Ok(());
    }
    Err(ApiError::conflict(
        "MissingSubscriptionRegistration",
        format!(
            "The subscription is not registered to use namespace '{ns}'. See https://aka.ms/rps-not-found for how to register subscriptions."
        ),
    ))
}

/// Sets a namespace's registration (admin API): `NotRegistered` or `Registered`.
pub(crate) fn set(st: &mut State, ns: &str, registered: bool) {
    if registered {
        st.providers.remove(&ns.to_lowercase());
    } else {
        st.providers.insert(
            ns.to_lowercase(),
            ProviderRegistration {
                namespace: ns.to_string(),
                state: "NotRegistered".into(),
                registered_at: None,
            },
        );
    }
    st.touch();
}

fn render(st: &State, sub: &str, ns: &str, now: DateTime<Utc>) -> Value {
    let resource_types = if ns.eq_ignore_ascii_case("Microsoft.DigitalTwins") {
        json!([{
            "resourceType": "digitalTwinsInstances",
            "locations": crate::regions::digital_twins_regions(),
            "apiVersions": api_version::DIGITAL_TWINS.iter().rev().collect::<Vec<_>>(),
            "capabilities": "SystemAssignedResourceIdentity"
        }])
    } else {
        json!([])
    };
    json!({
        "id": format!("/subscriptions/{sub}/providers/{ns}"),
        "namespace": ns,
        "registrationState": state_of(st, ns, now),
        "registrationPolicy": "RegistrationRequired",
        "resourceTypes": resource_types
    })
}

/// `GET /subscriptions/{sub}/providers/{ns}`.
pub(crate) fn get(call: &Call, sub: &str, ns: &str) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    scope::check_subscription(&st, sub)?;
    rbac::authorize(
        &st,
        call.caller,
        &scope::subscription_id(sub),
        "Microsoft.Resources/subscriptions/providers/read",
    )?;
    let now = call.ctx.clock.now();
    Ok(json_response(StatusCode::OK, &render(&st, sub, ns, now)))
}

/// `POST /subscriptions/{sub}/providers/{ns}/register`: needs `{ns}/register/action` on the
/// subscription.
pub(crate) fn register(call: &Call, sub: &str, ns: &str) -> Result<Resp, ApiError> {
    let mut st = call.ctx.world();
    scope::check_subscription(&st, sub)?;
    rbac::authorize(
        &st,
        call.caller,
        &scope::subscription_id(sub),
        &format!("{ns}/register/action"),
    )?;
    let now = call.ctx.clock.now();
    if state_of(&st, ns, now) == "NotRegistered" {
        st.providers.insert(
            ns.to_lowercase(),
            ProviderRegistration {
                namespace: ns.to_string(),
                state: "Registering".into(),
                registered_at: Some(now + call.ctx.clock.scaled(PROVIDER_REGISTER_SECS)),
            },
        );
        st.touch();
    }
    Ok(json_response(StatusCode::OK, &render(&st, sub, ns, now)))
}
