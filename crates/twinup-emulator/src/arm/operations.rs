//! Long-running operations: starting them, completing them when their simulated time has passed
//! (lazily, whenever the state is read), and the polling endpoints (`operationStatuses`,
//! `operationResults` for Digital Twins, `operationresults` for resource groups).

use axum::http::StatusCode;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;

use crate::clock::{DT_POLL_SECS, RG_POLL_SECS};
use crate::errors::ApiError;
use crate::http::{Resp, empty, json_response, set_header};
use crate::state::{Operation, OperationError, OperationKind, State};

use super::{Call, digital_twins, scope};

/// Records a new in-progress operation and returns its id.
#[allow(clippy::too_many_arguments)]
pub(crate) fn start(
    st: &mut State,
    kind: OperationKind,
    subscription_id: &str,
    location: &str,
    api_version: &str,
    resource_key: &str,
    now: DateTime<Utc>,
    duration: chrono::Duration,
    fail_with: Option<OperationError>,
) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    st.operations.insert(
        id.clone(),
        Operation {
            id: id.clone(),
            kind,
            subscription_id: subscription_id.to_string(),
            location: location.to_string(),
            api_version: api_version.to_string(),
            resource_key: resource_key.to_string(),
            started: now,
            ends: now + duration,
            status: "InProgress".into(),
            finished: None,
            fail_with,
            error: None,
        },
    );
    st.touch();
    id
}

/// Completes every operation whose time is up.
pub(crate) fn settle(st: &mut State, now: DateTime<Utc>) {
    let due: Vec<String> = st
        .operations
        .values()
        .filter(|o| o.status == "InProgress" && o.ends <= now)
        .map(|o| o.id.clone())
        .collect();
    for id in &due {
        finish(st, id);
    }
    if !due.is_empty() {
        st.touch();
    }
}

fn finish(st: &mut State, id: &str) {
    let Some(op) = st.operations.get(id).cloned() else {
        return;
    };
    let (status, error) = match op.kind {
        OperationKind::DigitalTwinsCreate => digital_twins::finish_create(st, &op),
        OperationKind::DigitalTwinsUpdate => digital_twins::finish_update(st, &op),
        OperationKind::DigitalTwinsDelete => digital_twins::finish_delete(st, &op),
        OperationKind::ResourceGroupDelete => super::resource_groups::finish_delete(st, &op),
    };
    if let Some(o) = st.operations.get_mut(id) {
        o.status = status.to_string();
        o.error = error;
        o.finished = Some(op.ends);
    }
}

/// Sets a running operation to fail early (used when a resource is deleted under it).
pub(crate) fn cancel(st: &mut State, id: &str, now: DateTime<Utc>) {
    if let Some(o) = st.operations.get_mut(id)
        && o.status == "InProgress"
    {
        o.status = "Canceled".into();
        o.finished = Some(now);
        o.error = Some(OperationError {
            code: "Canceled".into(),
            message: "The operation was canceled because the resource is being deleted.".into(),
            http_status: 409,
        });
    }
}

fn status_url(base: &str, op: &Operation) -> String {
    format!(
        "{base}/subscriptions/{}/providers/Microsoft.DigitalTwins/locations/{}/operationStatuses/{}?api-version={}",
        op.subscription_id, op.location, op.id, op.api_version
    )
}

fn result_url(base: &str, op: &Operation) -> String {
    match op.kind {
        OperationKind::ResourceGroupDelete => format!(
            "{base}/subscriptions/{}/operationresults/{}?api-version={}",
            op.subscription_id, op.id, op.api_version
        ),
        _ => format!(
            "{base}/subscriptions/{}/providers/Microsoft.DigitalTwins/locations/{}/operationResults/{}?api-version={}",
            op.subscription_id, op.location, op.id, op.api_version
        ),
    }
}

fn set_retry(resp: &mut Resp, call: &Call, op: &Operation) {
    let real = match op.kind {
        OperationKind::ResourceGroupDelete => RG_POLL_SECS,
        _ => DT_POLL_SECS,
    };
    let hint = call.ctx.clock.retry_hint(real);
    set_header(resp, "Retry-After", &hint.secs.to_string());
    set_header(resp, "retry-after-ms", &hint.millis.to_string());
}

/// Adds `Azure-AsyncOperation` (Digital Twins only), `Location` and retry headers for `op_id`.
pub(crate) fn add_async_headers(resp: &mut Resp, call: &Call, st: &State, op_id: &str) {
    let Some(op) = st.operations.get(op_id) else {
        return;
    };
    let base = &call.req.base_url;
    if op.kind != OperationKind::ResourceGroupDelete {
        set_header(resp, "Azure-AsyncOperation", &status_url(base, op));
    }
    set_header(resp, "Location", &result_url(base, op));
    set_retry(resp, call, op);
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn find<'a>(st: &'a State, sub: &str, op_id: &str) -> Result<&'a Operation, ApiError> {
    st.operations
        .get(&op_id.to_lowercase())
        .filter(|o| o.subscription_id.eq_ignore_ascii_case(sub))
        .ok_or_else(|| {
            ApiError::not_found(
                "OperationNotFound",
                format!("The operation '{op_id}' could not be found."),
            )
        })
}

/// `GET .../locations/{loc}/operationStatuses/{op}`: always 200 with the status body.
pub(crate) fn dt_status(call: &Call, sub: &str, _loc: &str, op_id: &str) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    scope::check_subscription(&st, sub)?;
    let op = find(&st, sub, op_id)?;
    let now = call.ctx.clock.now();
    let mut body = json!({
        "id": format!("/subscriptions/{}/providers/Microsoft.DigitalTwins/locations/{}/operationStatuses/{}", op.subscription_id, op.location, op.id),
        "name": op.id,
        "status": op.status,
        "startTime": time(op.started),
    });
    if let Some(end) = op.finished {
        body["endTime"] = json!(time(end));
        body["percentComplete"] = json!(100);
    } else {
        let total = (op.ends - op.started).num_milliseconds().max(1) as f64;
        let done = (now - op.started).num_milliseconds().max(0) as f64;
        body["percentComplete"] = json!(((done / total) * 100.0).clamp(0.0, 99.0).floor());
    }
    if let Some(e) = &op.error {
        body["error"] = json!({"code": e.code, "message": e.message});
    }
    let mut resp = json_response(StatusCode::OK, &body);
    if op.status == "InProgress" {
        set_retry(&mut resp, call, op);
    }
    Ok(resp)
}

fn failed_response(e: &OperationError) -> Resp {
    let status = StatusCode::from_u16(e.http_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    super::error_response(&ApiError::new(status, &e.code, e.message.clone()))
}

/// `GET .../locations/{loc}/operationResults/{op}`: 202 while running, then the final answer.
pub(crate) fn dt_result(call: &Call, sub: &str, _loc: &str, op_id: &str) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    scope::check_subscription(&st, sub)?;
    let op = find(&st, sub, op_id)?;
    match op.status.as_str() {
        "InProgress" => {
            let mut resp = empty(StatusCode::ACCEPTED);
            set_header(&mut resp, "Location", &result_url(&call.req.base_url, op));
            set_retry(&mut resp, call, op);
            Ok(resp)
        }
        "Succeeded" => match op.kind {
            OperationKind::DigitalTwinsCreate | OperationKind::DigitalTwinsUpdate => {
                match st.digital_twins.get(&op.resource_key) {
                    Some(dt) => Ok(json_response(
                        StatusCode::OK,
                        &digital_twins::render(dt, &st.tenant.tenant_id),
                    )),
                    None => Ok(empty(StatusCode::NO_CONTENT)),
                }
            }
            _ => Ok(empty(StatusCode::NO_CONTENT)),
        },
        _ => {
            // A failed or canceled delete ends with 200 and the instance as it is (spec: "200 if
            // the operation was canceled or failed"); a failed create ends with the error.
            if op.kind == OperationKind::DigitalTwinsDelete
                && let Some(dt) = st.digital_twins.get(&op.resource_key)
            {
                return Ok(json_response(
                    StatusCode::OK,
                    &digital_twins::render(dt, &st.tenant.tenant_id),
                ));
            }
            Ok(op
                .error
                .as_ref()
                .map(failed_response)
                .unwrap_or_else(|| empty(StatusCode::NO_CONTENT)))
        }
    }
}

/// `GET /subscriptions/{sub}/operationresults/{op}` for resource group deletion.
pub(crate) fn resource_group_result(call: &Call, sub: &str, op_id: &str) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    scope::check_subscription(&st, sub)?;
    let op = find(&st, sub, op_id)?;
    match op.status.as_str() {
        "InProgress" => {
            let mut resp = empty(StatusCode::ACCEPTED);
            set_header(&mut resp, "Location", &result_url(&call.req.base_url, op));
            set_retry(&mut resp, call, op);
            Ok(resp)
        }
        "Succeeded" => Ok(empty(StatusCode::OK)),
        _ => Ok(op
            .error
            .as_ref()
            .map(failed_response)
            .unwrap_or_else(|| empty(StatusCode::OK))),
    }
}
