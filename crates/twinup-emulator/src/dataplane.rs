//! A minimal Azure Digital Twins data plane, served for requests whose `Host` is an instance's
//! host name (`{name}.api.{region}.digitaltwins.azure.net`; clients reach it by resolving that
//! name to the emulator, e.g. reqwest's `ClientBuilder::resolve`). Only `GET /models`
//! (DigitalTwinModels_List) is modelled: what a client needs to prove it can program against
//! the instance. Sources:
//! - shapes: azure-rest-api-specs `specification/digitaltwins/data-plane/Microsoft.DigitalTwins/
//!   stable/2023-10-31/digitaltwins.json` (`GET /models`, `api-version` required, 200
//!   `PagedDigitalTwinsModelDataCollection` `{value, nextLink}`, errors `{error: {code,
//!   message}}`) and its example `ModelsGet.json`;
//! - audience: a token for `https://digitaltwins.azure.net` (Learn, "Write app authentication
//!   code": the scope `https://digitaltwins.azure.net/.default`);
//! - authorization: the *Azure Digital Twins Data Owner* (`bcd981a7-...`) or *Data Reader*
//!   (`d57506d4-...`) role on the instance or above (Learn, "Security for Azure Digital Twins
//!   solutions"), taking effect only after RBAC propagation ("up to 10 minutes" per Learn,
//!   "Troubleshoot Azure role-based access control": changes can take a while to apply);
//! - a caller without the role gets 403 with an empty body (as reported in
//!   Azure-Samples/digital-twins-samples#22 and Azure/azure-sdk-for-java#22640).

use axum::http::StatusCode;
use serde_json::json;

use crate::auth::{self, Service};
use crate::ctx::{Ctx, lock};
use crate::http::{Req, Resp, json_response};
use crate::state::State;

/// The data action `GET /models` needs.
const MODELS_READ: &str = "Microsoft.DigitalTwins/models/read";

/// Host name suffixes of Digital Twins data planes (public cloud and Azure Government).
const DATA_PLANE_SUFFIXES: &[&str] = &[".digitaltwins.azure.net", ".digitaltwins.azure.us"];

/// The host name (without port) of `req` when it names a Digital Twins data plane.
pub(crate) fn data_plane_host(req: &Req) -> Option<String> {
    let host = req.header("host")?;
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
    .to_ascii_lowercase();
    DATA_PLANE_SUFFIXES
        .iter()
        .any(|s| name.ends_with(s))
        .then_some(name)
}

fn error(status: StatusCode, code: &str, message: String) -> Resp {
    json_response(
        status,
        &json!({"error": {"code": code, "message": message}}),
    )
}

/// Answers a data-plane request for the instance whose host name is `host`.
pub(crate) fn handle(ctx: &Ctx, req: &Req, host: &str) -> Resp {
    let st = ctx.world();
    let Some(instance) = st.digital_twins.values().find(|d| {
        d.host_name
            .as_deref()
            .is_some_and(|h| h.eq_ignore_ascii_case(host))
    }) else {
        // On Azure the name would not resolve; here it reached the emulator, so say so.
        return error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("No Azure Digital Twins instance has the host name '{host}'."),
        );
    };
    let id = crate::arm::scope::digital_twins_id(
        &instance.subscription_id,
        &instance.resource_group,
        &instance.name,
    );
    if !(req.method == axum::http::Method::GET && req.path.trim_end_matches('/') == "/models") {
        return error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!(
                "The emulator's data plane serves only GET /models, not '{} {}'.",
                req.method, req.path
            ),
        );
    }
    if req.query_param("api-version").is_none_or(str::is_empty) {
        return error(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter is required.".into(),
        );
    }
    let caller = match auth::authenticate(ctx, req, Service::DigitalTwins) {
        Ok(c) => c,
        Err(e) => return crate::arm::error_response(&e),
    };
    if !role_in_effect(ctx, &st, &caller.object_id, &id) {
        let mut resp = axum::http::Response::new(axum::body::Body::empty());
        *resp.status_mut() = StatusCode::FORBIDDEN;
        return resp;
    }
    json_response(StatusCode::OK, &json!({"value": [], "nextLink": null}))
}

/// Whether `principal` holds a role granting `models/read` at `instance` (or above) whose
/// assignment is older than the propagation delay.
fn role_in_effect(ctx: &Ctx, st: &State, principal: &str, instance: &str) -> bool {
    let delay = *lock(&ctx.rbac_propagation_delay);
    let now = ctx.clock.now();
    crate::arm::rbac::effective(st, principal, instance)
        .iter()
        .any(|(a, d)| d.permits_data(MODELS_READ) && a.created_on + delay <= now)
}
