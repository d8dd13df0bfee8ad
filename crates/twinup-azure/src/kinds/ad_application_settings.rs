//! The sign-in settings of `azure.ad_application` beyond the public client: `sign_in_audience`,
//! `web_redirect_uris`, `spa_redirect_uris` and `implicit_grant`: their checks (Learn:
//! "Redirect URI (reply URL) restrictions and limitations" and "Validation differences by
//! supported account types (signInAudience)"), their part of the application body (Graph v1.0
//! `application` resource: `signInAudience`, `web.redirectUris`,
//! `web.implicitGrantSettings.enableIdTokenIssuance` / `enableAccessTokenIssuance`,
//! `spa.redirectUris`) and how a live application compares with them.
//!
//! An audience with personal Microsoft accounts also needs `api.requestedAccessTokenVersion: 2`
//! (Graph v1.0 `apiApplication` resource; Graph answers 400 `InvalidAccessTokenVersion`
//! otherwise, as in azure-ad-b2c/Scripts#2 and Azure/azure-cli#15512), which is sent with it.
//!
//! With the defaults (single tenant, no web or SPA URIs, no implicit grant) the body is the one
//! twinup always sent: no `web`, `spa` or `api` object at all.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use twinup_engine::FieldError;

use super::fields::{self, Checker};

/// The `signInAudience` values (Graph v1.0 `application` resource).
pub const SIGN_IN_AUDIENCES: &[&str] = &[
    "AzureADMyOrg",
    "AzureADMultipleOrgs",
    "AzureADandPersonalMicrosoftAccount",
    "PersonalMicrosoftAccount",
];
/// The default audience: accounts of this tenant only (what deploy.ps1 registers).
pub const DEFAULT_AUDIENCE: &str = "AzureADMyOrg";
/// The `implicit_grant` choices.
pub const IMPLICIT_GRANTS: &[&str] = &["none", "id_token", "access_token", "both"];

/// Most redirect URIs on an app that signs in work or school accounts only, and on one that
/// also signs in personal Microsoft accounts (Learn: "Redirect URI (reply URL) restrictions
/// and limitations", maximum number of redirect URIs).
const MAX_URIS_WORK: usize = 256;
const MAX_URIS_PERSONAL: usize = 100;
/// Longest redirect URI (same page: 256 characters).
const MAX_URI_CHARS: usize = 256;

/// True when the audience lets personal Microsoft accounts sign in.
fn personal(audience: &str) -> bool {
    audience.eq_ignore_ascii_case("AzureADandPersonalMicrosoftAccount")
        || audience.eq_ignore_ascii_case("PersonalMicrosoftAccount")
}

/// The audience `with` asks for, canonically spelled.
pub fn audience(with: &Value) -> String {
    let given = fields::opt_string(with, "sign_in_audience").unwrap_or_default();
    SIGN_IN_AUDIENCES
        .iter()
        .find(|a| a.eq_ignore_ascii_case(&given))
        .unwrap_or(&DEFAULT_AUDIENCE)
        .to_string()
}

/// The strings of a list field (absent or not a list: none).
pub fn list(with: &Value, field: &str) -> Vec<String> {
    match with.get(field) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// `(enableIdTokenIssuance, enableAccessTokenIssuance)` for `with`'s `implicit_grant`.
fn implicit(with: &Value) -> (bool, bool) {
    match fields::opt_string(with, "implicit_grant")
        .map(|s| s.to_ascii_lowercase())
        .as_deref()
    {
        Some("id_token") => (true, false),
        Some("access_token") => (false, true),
        Some("both") => (true, true),
        _ => (false, false),
    }
}

/// Adds the `web` and `spa` objects to `body` when `with` asks for them (the audience is
/// set by the caller, in its place in the body).
pub fn apply_to_body(body: &mut Value, with: &Value) {
    let web = list(with, "web_redirect_uris");
    let (id_token, access_token) = implicit(with);
    if !web.is_empty() || id_token || access_token {
        body["web"] = json!({
            "redirectUris": web,
            "implicitGrantSettings": {
                "enableIdTokenIssuance": id_token,
                "enableAccessTokenIssuance": access_token,
            },
        });
    }
    let spa = list(with, "spa_redirect_uris");
    if !spa.is_empty() {
        body["spa"] = json!({ "redirectUris": spa });
    }
    if personal(&audience(with)) {
        body["api"] = json!({ "requestedAccessTokenVersion": 2 });
    }
}

/// The body that updates `live` to `desired`: `web` and `spa` keep what the plan does not set
/// (home page, logout URL, redirect URI settings) and are reset when the plan no longer asks
/// for URIs or tokens the live app still has.
pub fn for_update(desired: &Value, live: &Value) -> Value {
    let mut body = desired.clone();
    if let (Some(wanted), Some(Value::Object(live_api))) = (desired.get("api"), live.get("api")) {
        let mut merged = live_api.clone();
        for (k, v) in wanted.as_object().into_iter().flatten() {
            merged.insert(k.clone(), v.clone());
        }
        body["api"] = Value::Object(merged);
    }
    for key in ["web", "spa"] {
        let live_part = live.get(key).filter(|v| v.is_object());
        let wanted = desired.get(key).cloned().unwrap_or_else(|| reset(key));
        if desired.get(key).is_none() && live_part.is_none_or(|l| same_part(key, l, &wanted)) {
            continue; // nothing asked for, nothing to take away: the body stays as it was
        }
        let mut merged = live_part.cloned().unwrap_or_else(|| json!({}));
        if let Some(m) = merged.as_object_mut() {
            // Entra ID derives these from `redirectUris`; sending stale ones back could clash.
            m.remove("redirectUriSettings");
        }
        if let (Some(m), Some(w)) = (merged.as_object_mut(), wanted.as_object()) {
            for (k, v) in w {
                m.insert(k.clone(), v.clone());
            }
        }
        body[key] = merged;
    }
    body
}

/// The `web` or `spa` object of an app with none of these settings.
fn reset(key: &str) -> Value {
    if key == "web" {
        json!({"redirectUris": [], "implicitGrantSettings": {
            "enableIdTokenIssuance": false, "enableAccessTokenIssuance": false}})
    } else {
        json!({"redirectUris": []})
    }
}

fn uri_set(v: &Value, pointer: &str) -> BTreeSet<String> {
    super::fields::strings_of(v.pointer(pointer))
}

fn same_part(key: &str, live: &Value, wanted: &Value) -> bool {
    let flag = |v: &Value, name: &str| {
        v.pointer(&format!("/implicitGrantSettings/{name}"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    uri_set(live, "/redirectUris") == uri_set(wanted, "/redirectUris")
        && (key != "web"
            || (flag(live, "enableIdTokenIssuance") == flag(wanted, "enableIdTokenIssuance")
                && flag(live, "enableAccessTokenIssuance")
                    == flag(wanted, "enableAccessTokenIssuance")))
}

/// True if the live app's audience, web and SPA settings are what `desired` asks for.
pub fn matches(live: &Value, desired: &Value) -> bool {
    let version = |v: &Value| v.pointer("/api/requestedAccessTokenVersion").cloned();
    live.get("signInAudience") == desired.get("signInAudience")
        && (desired.get("api").is_none() || version(live) == version(desired))
        && ["web", "spa"].iter().all(|key| {
            let wanted = desired.get(*key).cloned().unwrap_or_else(|| reset(key));
            let have = live.get(*key).cloned().unwrap_or_else(|| reset(key));
            same_part(key, &have, &wanted)
        })
}

/// The settings as `read` reports them (the names of the `with` fields).
pub fn live_properties(app: &Value) -> Value {
    let flag = |name: &str| {
        app.pointer(&format!("/web/implicitGrantSettings/{name}"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    let grant = match (
        flag("enableIdTokenIssuance"),
        flag("enableAccessTokenIssuance"),
    ) {
        (true, true) => "both",
        (true, false) => "id_token",
        (false, true) => "access_token",
        (false, false) => "none",
    };
    let uris = |pointer: &str| app.pointer(pointer).cloned().unwrap_or_else(|| json!([]));
    json!({
        "sign_in_audience": app.get("signInAudience"),
        "web_redirect_uris": uris("/web/redirectUris"),
        "spa_redirect_uris": uris("/spa/redirectUris"),
        "implicit_grant": grant,
    })
}

/// True for `http://localhost` (any port or path) and the loopback addresses, the only hosts
/// Entra ID accepts with the `http` scheme on web and SPA redirect URIs.
fn is_localhost(url: &url::Url) -> bool {
    matches!(
        url.host_str(),
        Some("localhost") | Some("127.0.0.1") | Some("[::1]")
    )
}

/// Checks the audience, the web and SPA redirect URIs (https, or http on localhost; no
/// wildcards when personal accounts sign in; at most 256 characters each; at most 256 URIs in
/// all, 100 with personal accounts) and `implicit_grant`. `public_uris` counts towards the
/// total.
pub fn validate(c: &mut Checker<'_>, public_uris: usize) {
    c.optional_enum("sign_in_audience", SIGN_IN_AUDIENCES);
    c.optional_enum("implicit_grant", IMPLICIT_GRANTS);
    let audience = c
        .get("sign_in_audience")
        .and_then(Value::as_str)
        .unwrap_or(DEFAULT_AUDIENCE)
        .to_string();
    let mut total = public_uris;
    for field in ["web_redirect_uris", "spa_redirect_uris"] {
        let items = match c.get(field) {
            None | Some(Value::Null) => continue,
            Some(v) if twinup_engine::contains_unknown(v) && !v.is_array() => continue,
            Some(Value::Array(items)) if items.iter().all(fields::string_or_unknown) => {
                items.clone()
            }
            Some(_) => {
                c.errors.push(FieldError::new(
                    field,
                    format!("`{field}` must be a list of URLs"),
                    format!("e.g. `{field}: [https://app.example.com/auth]`"),
                ));
                continue;
            }
        };
        total += items.len();
        for (i, item) in items.iter().enumerate() {
            if twinup_engine::contains_unknown(item) {
                continue;
            }
            let text = item.as_str().unwrap_or_default();
            if let Some(problem) = uri_problem(text, &audience) {
                c.errors.push(FieldError::new(
                    format!("{field}[{i}]"),
                    problem,
                    "give an https URL (http only for localhost), e.g. https://app.example.com/auth or http://localhost:3000",
                ));
            }
        }
    }
    let max = if personal(&audience) {
        MAX_URIS_PERSONAL
    } else {
        MAX_URIS_WORK
    };
    if total > max {
        c.errors.push(FieldError::new(
            "web_redirect_uris",
            format!(
                "{total} redirect URIs in all; an app registration with signInAudience {audience} holds at most {max}"
            ),
            "remove redirect URIs",
        ));
    }
}

/// What is wrong with a web or SPA redirect URI, if anything.
fn uri_problem(text: &str, audience: &str) -> Option<String> {
    let count = text.chars().count();
    if count > MAX_URI_CHARS {
        return Some(format!(
            "the redirect URI has {count} characters; Entra ID allows at most {MAX_URI_CHARS}"
        ));
    }
    if text.contains('*') && personal(audience) {
        return Some(format!(
            "`{text}` has a wildcard, which apps that sign in personal Microsoft accounts ({audience}) may not use"
        ));
    }
    let Ok(url) = url::Url::parse(text) else {
        return Some(format!("`{text}` is not a valid redirect URI"));
    };
    match url.scheme() {
        "https" if url.host().is_some() => None,
        "http" if is_localhost(&url) => None,
        "http" => Some(format!(
            "`{text}` uses http; Entra ID accepts http only for localhost"
        )),
        _ => Some(format!("`{text}` is not an https URL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_add_nothing_but_the_audience() {
        let mut body = json!({"displayName": "x", "signInAudience": audience(&json!({}))});
        apply_to_body(&mut body, &json!({}));
        assert_eq!(
            body,
            json!({"displayName": "x", "signInAudience": "AzureADMyOrg"})
        );
        assert!(matches(
            &json!({"signInAudience": "AzureADMyOrg", "web": {"redirectUris": []}}),
            &body
        ));
    }

    #[test]
    fn web_spa_and_implicit_reach_the_body() {
        let with = json!({"sign_in_audience": "azureadmultipleorgs",
            "web_redirect_uris": ["https://a.example/cb"], "spa_redirect_uris": ["http://localhost:3000"],
            "implicit_grant": "both"});
        let mut body = json!({"signInAudience": audience(&with)});
        apply_to_body(&mut body, &with);
        assert_eq!(body["signInAudience"], "AzureADMultipleOrgs");
        assert_eq!(body["web"]["redirectUris"], json!(["https://a.example/cb"]));
        assert_eq!(
            body["web"]["implicitGrantSettings"]["enableAccessTokenIssuance"],
            true
        );
        assert_eq!(
            body["spa"]["redirectUris"],
            json!(["http://localhost:3000"])
        );
        assert!(!matches(
            &json!({"signInAudience": "AzureADMultipleOrgs"}),
            &body
        ));
        assert!(body.get("api").is_none());
        let personal = json!({"sign_in_audience": "PersonalMicrosoftAccount"});
        let mut body = json!({"signInAudience": audience(&personal)});
        apply_to_body(&mut body, &personal);
        assert_eq!(body["api"]["requestedAccessTokenVersion"], 2);
        let live = json!({"api": {"oauth2PermissionScopes": [{"id": "s"}], "requestedAccessTokenVersion": null}});
        let update = for_update(&body, &live);
        assert_eq!(update["api"]["oauth2PermissionScopes"][0]["id"], "s");
        assert_eq!(update["api"]["requestedAccessTokenVersion"], 2);
    }

    #[test]
    fn an_update_keeps_what_it_does_not_own_and_resets_what_was_dropped() {
        let live = json!({"web": {"homePageUrl": "https://home", "redirectUris": ["https://old"],
            "implicitGrantSettings": {"enableIdTokenIssuance": true, "enableAccessTokenIssuance": false}}});
        let mut desired = json!({});
        apply_to_body(&mut desired, &json!({}));
        let body = for_update(&desired, &live);
        assert_eq!(body["web"]["homePageUrl"], "https://home");
        assert_eq!(body["web"]["redirectUris"], json!([]));
        assert!(body.get("spa").is_none());
    }

    #[test]
    fn uri_rules_follow_the_audience() {
        assert!(uri_problem("https://a.example", "AzureADMyOrg").is_none());
        assert!(uri_problem("http://localhost:8080/cb", "AzureADMyOrg").is_none());
        assert!(uri_problem("http://a.example", "AzureADMyOrg").is_some());
        assert!(uri_problem("https://*.a.example", "AzureADMyOrg").is_none());
        assert!(uri_problem("https://*.a.example", "PersonalMicrosoftAccount").is_some());
        assert!(uri_problem("ftp://a", "AzureADMyOrg").is_some());
    }
}
