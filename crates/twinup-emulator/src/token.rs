//! Entra ID v2.0 token endpoint (client-credentials grant) and the JWT-shaped access tokens the
//! emulator issues: base64url header, claims and an HMAC-SHA256 signature over both.

// Error answers are whole responses built on cold paths; boxing them buys nothing here.
#![allow(clippy::result_large_err)]

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;

use axum::http::StatusCode;

use crate::ctx::Ctx;
use crate::http::{Req, Resp, json_response};
use crate::seed;
use crate::state::{State, str_field};

/// Lifetime of issued tokens in seconds (what Entra ID reports for client credentials).
pub(crate) const LIFETIME_SECS: i64 = 3599;

/// Resources the emulated directory can issue tokens for, with the aliases of each.
pub(crate) const ARM_AUDIENCES: &[&str] = &[
    "https://management.azure.com",
    "https://management.core.windows.net",
    seed::ARM_APP_ID,
    crate::metadata::ARM_AUDIENCE,
];
pub(crate) const GRAPH_AUDIENCES: &[&str] = &["https://graph.microsoft.com", seed::GRAPH_APP_ID];
pub(crate) const ADT_AUDIENCES: &[&str] = &["https://digitaltwins.azure.net", seed::ADT_APP_ID];

/// Whether `aud` is the emulator's own URL, which it also serves Microsoft Graph at: as the
/// client addressed it (`req.base_url`) or as it announced itself (`ctx.info.url`). A client
/// that discovered the cloud from `/metadata/endpoints` asks for Graph tokens with the Graph
/// endpoint as the audience (the az CLI: `resource_to_scopes(microsoft_graph_resource_id)` in
/// `azure/cli/command_modules/role/_msgrpah/_graph_client.py`), as every real cloud's Graph URL
/// is its audience (`https://graph.microsoft.com/`, `https://graph.microsoft.us/`, ...).
pub(crate) fn is_own_graph_audience(aud: &str, ctx: &Ctx, req: &Req) -> bool {
    let a = aud.trim_end_matches('/');
    a.eq_ignore_ascii_case(req.base_url.trim_end_matches('/'))
        || a.eq_ignore_ascii_case(ctx.info.url.trim_end_matches('/'))
}

/// Whether `aud` names one of `allowed` (a trailing slash does not matter).
pub(crate) fn audience_matches(aud: &str, allowed: &[&str]) -> bool {
    let a = aud.trim_end_matches('/');
    allowed.iter().any(|x| x.eq_ignore_ascii_case(a))
}

type HmacSha256 = Hmac<Sha256>;

fn sign(key: &[u8], data: &[u8]) -> Vec<u8> {
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

pub(crate) fn decode_key(state: &State) -> Vec<u8> {
    STANDARD
        .decode(state.tenant.signing_key.as_bytes())
        .unwrap_or_default()
}

/// Encodes and signs `claims` as a compact JWT.
pub(crate) fn mint(key: &[u8], claims: &Value) -> String {
    let header = json!({"typ": "JWT", "alg": "HS256", "kid": "twinup-emulator"});
    let h = URL_SAFE_NO_PAD.encode(header.to_string());
    let c = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{h}.{c}");
    let sig = URL_SAFE_NO_PAD.encode(sign(key, signing_input.as_bytes()));
    format!("{signing_input}.{sig}")
}

/// Why a presented token was not accepted.
#[derive(Debug, PartialEq)]
pub(crate) enum TokenProblem {
    Malformed,
    BadSignature,
    Expired { exp: i64 },
}

/// Checks the signature and expiry and returns the claims.
pub(crate) fn verify(
    key: &[u8],
    token: &str,
    now: i64,
) -> Result<Map<String, Value>, TokenProblem> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenProblem::Malformed);
    };
    let claims_bytes = URL_SAFE_NO_PAD
        .decode(c)
        .map_err(|_| TokenProblem::Malformed)?;
    let sig = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| TokenProblem::Malformed)?;
    URL_SAFE_NO_PAD
        .decode(h)
        .map_err(|_| TokenProblem::Malformed)?;
    let mut mac = HmacSha256::new_from_slice(key).map_err(|_| TokenProblem::BadSignature)?;
    mac.update(format!("{h}.{c}").as_bytes());
    mac.verify_slice(&sig)
        .map_err(|_| TokenProblem::BadSignature)?;
    let claims: Map<String, Value> =
        serde_json::from_slice(&claims_bytes).map_err(|_| TokenProblem::Malformed)?;
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(TokenProblem::Malformed)?;
    if exp <= now {
        return Err(TokenProblem::Expired { exp });
    }
    Ok(claims)
}

/// Builds the claims of a token for a directory principal (user or service principal).
/// `principal` may be an object id, a user principal name or an application (client) id.
pub(crate) fn claims_for(
    state: &State,
    principal: &str,
    audience: &str,
    lifetime_secs: i64,
    now: DateTime<Utc>,
) -> Option<Value> {
    let tid = &state.tenant.tenant_id;
    let iat = now.timestamp();
    let iss = format!("https://sts.windows.net/{tid}/");
    let uti = uuid::Uuid::new_v4().simple().to_string();
    if let Some(user) = state.user_by_id_or_upn(principal) {
        let oid = str_field(&user.body, "id");
        let upn = str_field(&user.body, "userPrincipalName");
        return Some(json!({
            "aud": audience, "iss": iss, "iat": iat, "nbf": iat, "exp": iat + lifetime_secs,
            "acr": "1", "amr": ["pwd"], "appid": seed::AZURE_CLI_APP_ID, "appidacr": "0",
            "family_name": str_field(&user.body, "surname"), "given_name": str_field(&user.body, "givenName"),
            "idtyp": "user", "ipaddr": "127.0.0.1", "name": str_field(&user.body, "displayName"),
            "oid": oid, "scp": "user_impersonation", "sub": oid, "tid": tid,
            "unique_name": upn, "upn": upn, "uti": uti, "ver": "1.0"
        }));
    }
    let sp = state
        .service_principals
        .get(&principal.to_lowercase())
        .or_else(|| state.service_principal_by_app_id(principal))?;
    let oid = str_field(&sp.body, "id");
    let mut claims = json!({
        "aud": audience, "iss": iss, "iat": iat, "nbf": iat, "exp": iat + lifetime_secs,
        "appid": str_field(&sp.body, "appId"), "appidacr": "1", "idp": iss, "idtyp": "app",
        "oid": oid, "rh": "0.twinup-emulator", "sub": oid, "tid": tid, "uti": uti, "ver": "1.0"
    });
    // App-only tokens carry the granted application permissions as `roles` (Graph tokens).
    if let Some(granted) = state.graph_app_roles.get(&oid.to_string().to_lowercase())
        && audience.contains("graph")
    {
        claims["roles"] = json!(granted);
    }
    Some(claims)
}

/// An OAuth2 error answer in Entra ID's shape.
pub(crate) fn oauth_error(status: StatusCode, error: &str, aadsts: u32, description: &str) -> Resp {
    let now = Utc::now();
    let ts = now.format("%Y-%m-%d %H:%M:%SZ").to_string();
    let trace = uuid::Uuid::new_v4().to_string();
    let corr = uuid::Uuid::new_v4().to_string();
    json_response(
        status,
        &json!({
            "error": error,
            "error_description": format!("AADSTS{aadsts}: {description} Trace ID: {trace} Correlation ID: {corr} Timestamp: {ts}"),
            "error_codes": [aadsts],
            "timestamp": ts,
            "trace_id": trace,
            "correlation_id": corr,
            "error_uri": format!("https://login.microsoftonline.com/error?code={aadsts}"),
        }),
    )
}

fn basic_credentials(req: &Req) -> Option<(String, String)> {
    let value = req.header("authorization")?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let dec = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    Some((dec(id), dec(secret)))
}

/// Which resource a `scope` parameter asks for, or the OAuth error to send.
fn resource_of(state: &State, scope: &str, own: &dyn Fn(&str) -> bool) -> Result<String, Resp> {
    let scopes: Vec<&str> = scope.split_whitespace().collect();
    if scopes.is_empty() {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'scope'.",
        ));
    }
    let mut resources = Vec::new();
    for s in &scopes {
        let Some(resource) = s.strip_suffix("/.default") else {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                1002012,
                &format!(
                    "The provided value for scope {s} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
                ),
            ));
        };
        resources.push(resource.to_string());
    }
    let first = resources[0].trim_end_matches('/').to_lowercase();
    if resources
        .iter()
        .any(|r| r.trim_end_matches('/').to_lowercase() != first)
    {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            70011,
            &format!(
                "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid. Scopes for more than one resource were requested."
            ),
        ));
    }
    let resource = resources.swap_remove(0);
    let known = audience_matches(&resource, ARM_AUDIENCES)
        || audience_matches(&resource, GRAPH_AUDIENCES)
        || own(&resource)
        || audience_matches(&resource, ADT_AUDIENCES)
        || state.applications.values().any(|a| {
            let app_id = str_field(&a.body, "appId");
            let trimmed = resource.trim_end_matches('/');
            app_id.eq_ignore_ascii_case(trimmed)
                || format!("api://{app_id}").eq_ignore_ascii_case(trimmed)
                || a.body
                    .get("identifierUris")
                    .and_then(Value::as_array)
                    .is_some_and(|u| {
                        u.iter()
                            .filter_map(Value::as_str)
                            .any(|x| x.trim_end_matches('/').eq_ignore_ascii_case(trimmed))
                    })
        });
    if !known {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_resource",
            500011,
            &format!(
                "The resource principal named {resource} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
                state.tenant.tenant_id
            ),
        ));
    }
    Ok(resource)
}

/// `POST /{tenant}/oauth2/v2.0/token`.
pub(crate) fn token_endpoint(ctx: &Ctx, req: &Req, tenant: &str) -> Resp {
    let form: Vec<(String, String)> = form_urlencoded::parse(&req.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let param = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let missing = |name: &str| {
        oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            &format!("The request body must contain the following parameter: '{name}'."),
        )
    };
    let state = ctx.world();
    if !tenant.eq_ignore_ascii_case(&state.tenant.tenant_id)
        && !tenant.eq_ignore_ascii_case(&state.tenant.domain)
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        );
    }
    let Some(grant) = param("grant_type") else {
        return missing("grant_type");
    };
    if grant != "client_credentials" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            &format!(
                "The app requested an unsupported grant type '{grant}'. This emulator supports 'client_credentials'."
            ),
        );
    }
    let basic = basic_credentials(req);
    let Some(client_id) = param("client_id").or_else(|| basic.as_ref().map(|b| b.0.clone())) else {
        return missing("client_id");
    };
    let own = |r: &str| is_own_graph_audience(r, ctx, req);
    let resource = match resource_of(&state, &param("scope").unwrap_or_default(), &own) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let Some(app) = state.application_by_app_id(&client_id) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.",
                state.tenant.domain
            ),
        );
    };
    let Some(secret) = param("client_secret").or_else(|| basic.as_ref().map(|b| b.1.clone()))
    else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
    };
    let now = ctx.clock.now();
    let Some(stored) = app.secrets.iter().find(|s| s.secret == secret) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            &format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
            ),
        );
    };
    if stored.end <= now {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000222,
            &format!("The provided client secret keys for app '{client_id}' are expired."),
        );
    }
    let Some(claims) = claims_for(&state, &client_id, &resource, LIFETIME_SECS, now) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000229,
            &format!(
                "The client application {client_id} is missing service principal in the tenant {}.",
                state.tenant.tenant_id
            ),
        );
    };
    let token = mint(&ctx.signing_key, &claims);
    json_response(
        StatusCode::OK,
        &json!({
            "token_type": "Bearer",
            "expires_in": LIFETIME_SECS,
            "ext_expires_in": LIFETIME_SECS,
            "access_token": token,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_and_tampering_is_detected() {
        let key = b"0123456789abcdef0123456789abcdef";
        let token = mint(key, &json!({"oid": "x", "exp": 2000}));
        assert_eq!(verify(key, &token, 1000).unwrap()["oid"], "x");
        assert_eq!(
            verify(key, &token, 2000),
            Err(TokenProblem::Expired { exp: 2000 })
        );
        assert_eq!(
            verify(b"other key", &token, 1000),
            Err(TokenProblem::BadSignature)
        );
        assert_eq!(
            verify(key, "not-a-token", 1000),
            Err(TokenProblem::Malformed)
        );
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(json!({"oid": "y", "exp": 2000}).to_string());
        parts[1] = &forged;
        assert_eq!(
            verify(key, &parts.join("."), 1000),
            Err(TokenProblem::BadSignature)
        );
    }
}
