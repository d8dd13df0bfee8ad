//! The sign-in settings of an `application` as Entra ID checks them on create and update: web
//! and SPA redirect URIs use `https`, or `http` only for localhost; apps whose
//! `signInAudience` lets personal Microsoft accounts sign in take no wildcard redirect URIs and
//! at most 100 redirect URIs, others at most 256; a URI has at most 256 characters (Learn:
//! "Redirect URI (reply URL) restrictions and limitations", and "Validation differences by
//! supported account types (signInAudience)"). `web.implicitGrantSettings` holds two booleans,
//! `enableIdTokenIssuance` and `enableAccessTokenIssuance` (Graph v1.0 `implicitGrantSettings`
//! resource type). The 400 `Request_BadRequest` wording is this emulator's. An audience with
//! personal Microsoft accounts needs `api.requestedAccessTokenVersion: 2` (Graph v1.0
//! `apiApplication` resource, and microsoftgraph/microsoft-graph-docs-contrib#1122 for
//! `PersonalMicrosoftAccount` too), else 400 `InvalidAccessTokenVersion` "One or more
//! properties contains invalid values." (the answer shown in azure-ad-b2c/Scripts#2).

use serde_json::{Map, Value};

use crate::errors::ApiError;

use super::bad_request;

fn uris<'a>(app: &'a Map<String, Value>, part: &str) -> Vec<&'a str> {
    app.get(part)
        .and_then(|p| p.get("redirectUris"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn localhost(uri: &str) -> bool {
    let rest = uri
        .strip_prefix("http://")
        .unwrap_or_default()
        .to_ascii_lowercase();
    ["localhost", "127.0.0.1", "[::1]"].iter().any(|h| {
        rest == *h || rest.starts_with(&format!("{h}:")) || rest.starts_with(&format!("{h}/"))
    })
}

/// Checks the application as it would be after a create or update.
pub(crate) fn check(app: &Map<String, Value>) -> Result<(), ApiError> {
    let audience = app
        .get("signInAudience")
        .and_then(Value::as_str)
        .unwrap_or("AzureADMyOrg");
    let personal =
        audience == "AzureADandPersonalMicrosoftAccount" || audience == "PersonalMicrosoftAccount";
    for part in ["web", "spa"] {
        for uri in uris(app, part) {
            let scheme_ok = uri.starts_with("https://") || localhost(uri);
            if !scheme_ok || uri.chars().count() > 256 {
                return Err(bad_request(format!(
                    "Invalid value specified for property '{part}.redirectUris' of resource 'Application': '{uri}' must use https (http is allowed only for localhost) and have at most 256 characters."
                )));
            }
            if personal && uri.contains('*') {
                return Err(bad_request(format!(
                    "Invalid value specified for property '{part}.redirectUris' of resource 'Application': wildcard URIs are not supported for signInAudience {audience}."
                )));
            }
        }
    }
    let version = app
        .get("api")
        .and_then(|a| a.get("requestedAccessTokenVersion"))
        .and_then(Value::as_i64);
    if personal && version != Some(2) {
        return Err(ApiError::bad_request(
            "InvalidAccessTokenVersion",
            "One or more properties contains invalid values.",
        ));
    }
    let total = uris(app, "web").len() + uris(app, "spa").len() + uris(app, "publicClient").len();
    let max = if personal { 100 } else { 256 };
    if total > max {
        return Err(bad_request(format!(
            "The application has {total} redirect URIs; at most {max} are allowed for signInAudience {audience}."
        )));
    }
    if let Some(settings) = app.get("web").and_then(|w| w.get("implicitGrantSettings"))
        && !settings.is_null()
    {
        let ok = settings.as_object().is_some_and(|m| {
            m.iter().all(|(k, v)| {
                matches!(
                    k.as_str(),
                    "enableIdTokenIssuance" | "enableAccessTokenIssuance"
                ) && v.is_boolean()
            })
        });
        if !ok {
            return Err(bad_request(
                "Invalid value specified for property 'web.implicitGrantSettings' of resource 'Application'.",
            ));
        }
    }
    Ok(())
}
