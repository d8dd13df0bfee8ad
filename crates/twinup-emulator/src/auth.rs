//! Bearer-token checks for ARM and Graph: who is calling, or the 401 each service sends for a
//! missing, malformed, expired or wrong-audience token.

use axum::http::StatusCode;
use serde_json::{Map, Value};

use crate::ctx::Ctx;
use crate::errors::ApiError;
use crate::http::Req;
use crate::token::{self, TokenProblem};

/// The service a token is presented to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    Arm,
    Graph,
    /// An Azure Digital Twins instance's data plane (`dataplane.rs`).
    DigitalTwins,
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub object_id: String,
    pub app_id: String,
    pub upn: Option<String>,
}

impl Caller {
    /// How ARM names the caller in messages and `systemData`.
    pub fn display(&self) -> &str {
        self.upn.as_deref().unwrap_or(&self.app_id)
    }

    pub fn is_user(&self) -> bool {
        self.upn.is_some()
    }

    /// `User` or `Application`, as in `systemData.createdByType`.
    pub fn kind(&self) -> &'static str {
        if self.is_user() {
            "User"
        } else {
            "Application"
        }
    }
}

fn unauthorized(
    service: Service,
    code: &str,
    message: String,
    base_url: &str,
    tenant: &str,
) -> ApiError {
    let err = ApiError::new(StatusCode::UNAUTHORIZED, code, message.clone());
    match service {
        Service::Arm => err.with_header(
            "WWW-Authenticate",
            format!(
                "Bearer authorization_uri=\"{base_url}/{tenant}\", error=\"invalid_token\", error_description=\"{}\"",
                message.replace('"', "'")
            ),
        ),
        Service::Graph | Service::DigitalTwins => err,
    }
}

/// Checks the `Authorization: Bearer` header of `req` for `service`.
pub(crate) fn authenticate(ctx: &Ctx, req: &Req, service: Service) -> Result<Caller, ApiError> {
    let tenant = ctx.info.tenant_id.as_str();
    let fail =
        |code: &str, message: String| unauthorized(service, code, message, &req.base_url, tenant);
    let raw = req
        .header("authorization")
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(raw) = raw else {
        return Err(match service {
            // ARM's answer to a request without the header: 401 `AuthenticationFailed`,
            // "Authentication failed. The 'Authorization' header is missing." (as users report
            // it, e.g. MicrosoftDocs/azure-docs#35849 "Getting Authorization header missing
            // error"; the same body Azure Monitor's Learn page documents for its ARM-fronted API).
            Service::Arm => fail(
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.".into(),
            ),
            Service::Graph | Service::DigitalTwins => fail(
                "InvalidAuthenticationToken",
                "Access token is empty.".into(),
            ),
        });
    };
    let now = ctx.clock.now();
    let claims: Map<String, Value> = match token::verify(&ctx.signing_key, raw, now.timestamp()) {
        Ok(c) => c,
        Err(TokenProblem::Expired { exp }) => {
            let exp_time = chrono::DateTime::from_timestamp(exp, 0).unwrap_or_default();
            return Err(match service {
                Service::Arm => fail(
                    "ExpiredAuthenticationToken",
                    format!(
                        "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                        exp_time.format("%-m/%-d/%Y %-I:%M:%S %p"),
                        now.format("%-m/%-d/%Y %-I:%M:%S %p")
                    ),
                ),
                Service::Graph | Service::DigitalTwins => fail(
                    "InvalidAuthenticationToken",
                    "Lifetime validation failed, the token is expired.".into(),
                ),
            });
        }
        Err(TokenProblem::Malformed) | Err(TokenProblem::BadSignature) => {
            return Err(match service {
                Service::Arm => fail(
                    "InvalidAuthenticationToken",
                    "The access token is invalid.".into(),
                ),
                Service::Graph | Service::DigitalTwins => fail(
                    "InvalidAuthenticationToken",
                    "IDX14100: JWT is not well formed, there are no dots (.) or the signature is invalid.".into(),
                ),
            });
        }
    };
    let aud = claims.get("aud").and_then(Value::as_str).unwrap_or("");
    let ok = match service {
        Service::Arm => token::audience_matches(aud, token::ARM_AUDIENCES),
        Service::Graph => {
            token::audience_matches(aud, token::GRAPH_AUDIENCES)
                || token::is_own_graph_audience(aud, ctx, req)
        }
        Service::DigitalTwins => token::audience_matches(aud, token::ADT_AUDIENCES),
    };
    if !ok {
        return Err(match service {
            Service::Arm => fail(
                "InvalidAuthenticationToken",
                format!(
                    "The access token has been obtained for wrong audience or resource '{aud}'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'."
                ),
            ),
            Service::Graph | Service::DigitalTwins => {
                fail("InvalidAuthenticationToken", "Invalid audience.".into())
            }
        });
    }
    let tid = claims.get("tid").and_then(Value::as_str).unwrap_or("");
    if !tid.eq_ignore_ascii_case(tenant) {
        return Err(fail(
            "InvalidAuthenticationTokenTenant",
            format!(
                "The access token is from the wrong issuer '{tid}'. It must match the tenant '{tenant}'."
            ),
        ));
    }
    let s = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_string);
    Ok(Caller {
        object_id: s("oid").unwrap_or_default().to_lowercase(),
        app_id: s("appid").unwrap_or_default(),
        upn: s("upn"),
    })
}
