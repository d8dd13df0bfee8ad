//! Entra ID discovery documents, what MSAL-based clients (azure-identity, the az CLI, every SDK)
//! read before they ask for a token:
//!
//! * `GET /{tenant}/v2.0/.well-known/openid-configuration`: the OpenID Connect metadata of the
//!   tenant (`token_endpoint`, `authorization_endpoint`, `issuer`, `jwks_uri`, ...), at the path
//!   Learn's "OpenID Connect on the Microsoft identity platform" (entra-docs
//!   `identity-platform/v2-protocols-oidc.md`) gives; MSAL Python builds it in
//!   `msal/authority.py` (`tenant_discovery`) and fails with "Unable to get authority
//!   configuration" on anything but a 200. An unknown tenant answers 400 with AADSTS90002, as
//!   Entra does for `login.microsoftonline.com/{unknown}/v2.0/.well-known/openid-configuration`.
//! * `GET /common/discovery/instance?authorization_endpoint=...&api-version=...`: instance
//!   discovery, `{"tenant_discovery_endpoint", "api-version", "metadata": [{"preferred_network",
//!   "preferred_cache", "aliases"}]}`, or 400 `invalid_instance` (AADSTS50049) for an authorization
//!   endpoint on another host (MSAL Python `_instance_discovery`, which a client points at this
//!   emulator with `instance_discovery="<url>/common/discovery/instance"`).
//! * `GET /{tenant}/discovery/v2.0/keys`: the key set `jwks_uri` names. The emulator signs
//!   tokens with HMAC, which a JWK set does not publish, so the set is empty (clients that only
//!   request tokens never read it).

use axum::http::StatusCode;
use serde_json::json;

use crate::ctx::Ctx;
use crate::http::{Req, Resp, json_response};
use crate::token::oauth_error;

/// Whether `tenant` names the emulated tenant (its id or its domain).
fn known_tenant(ctx: &Ctx, tenant: &str) -> bool {
    let st = ctx.world();
    tenant.eq_ignore_ascii_case(&st.tenant.tenant_id)
        || tenant.eq_ignore_ascii_case(&st.tenant.domain)
}

fn unknown_tenant(tenant: &str) -> Resp {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_tenant",
        90002,
        &format!(
            "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
        ),
    )
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`.
pub(crate) fn openid_configuration(ctx: &Ctx, req: &Req, tenant: &str) -> Resp {
    if !known_tenant(ctx, tenant) {
        return unknown_tenant(tenant);
    }
    let base = req.base_url.trim_end_matches('/');
    let tid = ctx.info.tenant_id.as_str();
    json_response(
        StatusCode::OK,
        &json!({
            "token_endpoint": format!("{base}/{tid}/oauth2/v2.0/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "jwks_uri": format!("{base}/{tid}/discovery/v2.0/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": format!("{base}/{tid}/v2.0"),
            "request_uri_parameter_supported": false,
            "authorization_endpoint": format!("{base}/{tid}/oauth2/v2.0/authorize"),
            "device_authorization_endpoint": format!("{base}/{tid}/oauth2/v2.0/devicecode"),
            "http_logout_supported": true,
            "frontchannel_logout_supported": true,
            "end_session_endpoint": format!("{base}/{tid}/oauth2/v2.0/logout"),
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "oid", "tid", "ver"],
            "tenant_region_scope": null,
            "cloud_instance_name": "twinup.local",
            "cloud_graph_host_name": null,
            "msgraph_host": base.split("://").nth(1).unwrap_or(base),
        }),
    )
}

/// `GET /{tenant}/discovery/instance` (MSAL sends `common`).
pub(crate) fn instance_discovery(ctx: &Ctx, req: &Req) -> Resp {
    let base = req.base_url.trim_end_matches('/');
    let host = base.split("://").nth(1).unwrap_or(base);
    let Some(endpoint) = req.query_param("authorization_endpoint") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request must contain the following parameter: 'authorization_endpoint'.",
        );
    };
    // https://{host}/{tenant}/oauth2/v2.0/authorize
    let rest = endpoint
        .split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(endpoint);
    let (endpoint_host, path) = rest.split_once('/').unwrap_or((rest, ""));
    // MSAL Python names the instance without its port (`canonicalize` keeps the host name),
    // so hosts are compared without ports.
    let without_port = |h: &str| h.rsplit_once(':').map_or(h, |(name, _)| name).to_string();
    if !without_port(endpoint_host).eq_ignore_ascii_case(&without_port(host)) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_instance",
            50049,
            &format!("Unknown or invalid instance '{endpoint_host}'. This emulator is '{host}'."),
        );
    }
    let tenant = path
        .split('/')
        .next()
        .filter(|t| !t.is_empty())
        .unwrap_or("common");
    let tenant = if known_tenant(ctx, tenant) {
        ctx.info.tenant_id.as_str()
    } else {
        tenant
    };
    json_response(
        StatusCode::OK,
        &json!({
            "tenant_discovery_endpoint": format!("{base}/{tenant}/v2.0/.well-known/openid-configuration"),
            "api-version": "1.1",
            "metadata": [{
                "preferred_network": host,
                "preferred_cache": host,
                "aliases": [host],
            }],
        }),
    )
}

/// `GET /{tenant}/discovery/v2.0/keys`: an empty key set (tokens are HMAC-signed).
pub(crate) fn keys(ctx: &Ctx, tenant: &str) -> Resp {
    if !known_tenant(ctx, tenant) {
        return unknown_tenant(tenant);
    }
    json_response(StatusCode::OK, &json!({"keys": []}))
}
