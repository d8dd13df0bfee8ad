//! ARM long-running operations (contract §2.1): pick the operation URL from the first response,
//! hand back a serializable [`LroToken`] that the caller persists before waiting, then poll until
//! `Succeeded`/`Failed`/`Canceled`, reading the resource at the end (final state via original URI).

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::arm::{ArmClient, ArmResponse, arm_error};
use crate::errors::{AzureError, Result};
use crate::http::server_delay;

/// How the operation is tracked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LroKind {
    /// `Azure-AsyncOperation` status URL (always 200 with a `status` field).
    AsyncOperation,
    /// `Location` URL (202 while running, then the final result).
    Location,
    /// No operation URL: read the resource until its `provisioningState` is terminal.
    ResourceState,
}

/// Everything needed to resume waiting for an operation, even in another process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LroToken {
    /// Operation URL to poll (the resource URL for [`LroKind::ResourceState`]).
    pub operation_url: String,
    /// How to interpret `operation_url`.
    pub kind: LroKind,
    /// The resource's URL (with `api-version`), read when the operation succeeds.
    pub resource_url: String,
    /// HTTP method that started the operation (`PUT`, `PATCH`, `DELETE`, `POST`).
    pub method: String,
    /// When the operation started.
    pub started_at: DateTime<Utc>,
    /// The wait the first response asked for before the first poll (`Retry-After`), in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl LroToken {
    /// The token as JSON, for the checkpoint.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Parses a token saved with [`LroToken::to_value`].
    pub fn from_value(value: &Value) -> Result<Self> {
        serde_json::from_value(value.clone()).map_err(|e| AzureError::Decode {
            what: "saved operation token".into(),
            message: e.to_string(),
        })
    }
}

/// What the first response of a possibly long-running request means.
#[derive(Debug, Clone)]
pub enum Started {
    /// Already finished; the response body is the result.
    Done(ArmResponse),
    /// Still running; persist the token, then call [`poll_until_done`].
    Pending(LroToken),
}

/// Polling limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollOptions {
    /// Give up after this long (per operation).
    pub timeout: Duration,
    /// Wait between polls when the server sends no `Retry-After`.
    pub default_interval: Duration,
    /// Upper bound of a server-requested wait.
    pub max_interval: Duration,
}

impl Default for PollOptions {
    fn default() -> Self {
        PollOptions {
            timeout: Duration::from_secs(30 * 60),
            default_interval: Duration::from_secs(5),
            max_interval: Duration::from_secs(60),
        }
    }
}

/// `properties.provisioningState` of a resource body.
pub fn provisioning_state(body: &Value) -> Option<&str> {
    body.get("properties")?.get("provisioningState")?.as_str()
}

/// True for `Succeeded`, `Failed` and `Canceled` (case-insensitive).
pub fn is_terminal(state: &str) -> bool {
    ["succeeded", "failed", "canceled", "cancelled"]
        .iter()
        .any(|t| state.eq_ignore_ascii_case(t))
}

fn is_success(state: &str) -> bool {
    state.eq_ignore_ascii_case("succeeded")
}

/// Interprets the first response of `method` on `resource_url`.
pub fn start(
    method: &Method,
    resource_url: &Url,
    initial: ArmResponse,
    what: &str,
) -> Result<Started> {
    let first_wait =
        server_delay(&initial.headers).map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let async_op = initial.header("azure-asyncoperation").map(str::to_string);
    let location = initial.header("location").map(str::to_string);
    let state = provisioning_state(&initial.body).map(str::to_string);
    let running = initial.status == 202 || state.as_deref().is_some_and(|s| !is_terminal(s));
    if !running {
        if let Some(s) = state.as_deref()
            && !is_success(s)
        {
            return Err(failed(what, s, &initial.body));
        }
        return Ok(Started::Done(initial));
    }
    let (operation_url, kind) = match (async_op, location) {
        (Some(url), _) => (url, LroKind::AsyncOperation),
        (None, Some(url)) => (url, LroKind::Location),
        (None, None) => (resource_url.to_string(), LroKind::ResourceState),
    };
    Ok(Started::Pending(LroToken {
        operation_url,
        kind,
        resource_url: resource_url.to_string(),
        method: method.to_string(),
        started_at: Utc::now(),
        retry_after_ms: first_wait,
    }))
}

fn failed(what: &str, status: &str, body: &Value) -> AzureError {
    let error = body
        .get("error")
        .or_else(|| body.get("properties").and_then(|p| p.get("error")))
        .unwrap_or(&Value::Null);
    let text = |k: &str| {
        error
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let code = text("code");
    let message = text("message");
    AzureError::OperationFailed {
        what: what.to_string(),
        status: status.to_string(),
        code: if code.is_empty() {
            "(no code)".into()
        } else {
            code
        },
        message: if message.is_empty() {
            "Azure gave no reason; see the activity log of the resource".into()
        } else {
            message
        },
    }
}

fn parse_url(raw: &str) -> Result<Url> {
    Url::parse(raw).map_err(|e| AzureError::Decode {
        what: "operation token".into(),
        message: format!("bad URL '{raw}': {e}"),
    })
}

/// Polls until the operation ends. Returns the resource body for PUT/PATCH, the final body for
/// POST, and `Null` for DELETE. `on_progress` receives short status lines.
pub async fn poll_until_done(
    arm: &ArmClient,
    token: &LroToken,
    options: &PollOptions,
    what: &str,
    on_progress: &(dyn Fn(&str) + Send + Sync),
) -> Result<Value> {
    let begun = Instant::now();
    let mut resource_url = parse_url(&token.resource_url)?;
    let is_delete = token.method.eq_ignore_ascii_case("DELETE");
    let mut kind = token.kind;
    let mut poll_url = parse_url(&token.operation_url)?;
    if !arm.is_own(&resource_url) {
        // Saved by a run against an endpoint that has moved: the operation record cannot be
        // trusted with our token, but the resource can be read where ARM is now.
        on_progress(&format!(
            "{what}: the saved operation is on another endpoint; checking the resource"
        ));
        resource_url = arm.rebase(&resource_url);
        kind = LroKind::ResourceState;
    }
    if kind == LroKind::ResourceState || !arm.is_own(&poll_url) {
        kind = LroKind::ResourceState;
        poll_url = resource_url.clone();
    }
    // The first poll comes when the starting response said (`Retry-After`), counted from when
    // the operation started, so a resumed wait does not wait again.
    if let Some(ms) = token.retry_after_ms {
        let first = Duration::from_millis(ms).min(options.max_interval);
        let wait = first.saturating_sub(since(token.started_at));
        if !wait.is_zero() {
            tokio::time::sleep(wait.min(options.timeout)).await;
        }
    }
    loop {
        let response = arm.send_raw(Method::GET, poll_url.clone(), None).await?;
        let step = interpret(kind, is_delete, &response);
        let wait = match step {
            Step::Running(detail) => {
                on_progress(&format!(
                    "{what}: {detail} ({}s)",
                    begun.elapsed().as_secs()
                ));
                let hint = server_delay(&response.headers)
                    .map_or(options.default_interval, |d| d.min(options.max_interval));
                let percent = response.body.get("percentComplete").and_then(Value::as_f64);
                next_poll(hint, percent, since(token.started_at))
            }
            Step::Succeeded => {
                return finish(arm, token, is_delete, kind, &resource_url, response, what).await;
            }
            Step::Failed(status) => return Err(failed(what, &status, &response.body)),
            Step::Gone if kind == LroKind::ResourceState => {
                if is_delete {
                    return Ok(Value::Null);
                }
                return Err(AzureError::Rule(format!(
                    "{what}: the operation's status can no longer be read and the resource does not exist; run twinup again to start over"
                )));
            }
            Step::Gone => {
                // The operation URL expired (e.g. after a long pause): read the resource instead.
                on_progress(&format!(
                    "{what}: operation record expired, checking the resource"
                ));
                kind = LroKind::ResourceState;
                poll_url = resource_url.clone();
                continue;
            }
            Step::ReadFailed => {
                return Err(AzureError::Arm(Box::new(arm_error(
                    &response,
                    &Method::GET,
                    &poll_url,
                ))));
            }
        };
        let elapsed = begun.elapsed();
        if elapsed >= options.timeout {
            return Err(AzureError::OperationTimeout {
                what: what.to_string(),
                waited: elapsed,
            });
        }
        tokio::time::sleep(wait.min(options.timeout - elapsed)).await;
    }
}

/// Time since `started` (zero if the clock says it is in the future).
fn since(started: DateTime<Utc>) -> Duration {
    (Utc::now() - started).to_std().unwrap_or(Duration::ZERO)
}

/// How long to wait before the next poll of an operation that is `percent` done after
/// `elapsed`, when the server asks for at least `hint` between polls. Without a usable percentage
/// that is `hint`. With one, the end is estimated (an upper bound: the service rounds the
/// percentage down) and polls are placed `hint` apart ending at that estimate, so the last poll
/// lands just after the operation ends instead of up to `hint` later, and no more polls are sent
/// than with a fixed `hint` interval. Each poll refines the estimate.
pub fn next_poll(hint: Duration, percent: Option<f64>, elapsed: Duration) -> Duration {
    let Some(p) = percent.filter(|p| *p >= 1.0 && *p < 100.0) else {
        return hint;
    };
    let total = elapsed.as_secs_f64() * 100.0 / p;
    let remaining = (total - elapsed.as_secs_f64()).max(0.0);
    // A little past the estimate, so the poll does not land a moment before the end.
    let remaining = remaining + (remaining * 0.02).max(0.05);
    let step = hint.as_secs_f64().max(0.001);
    if remaining <= step {
        return hint;
    }
    let intervals = (remaining / step).floor();
    Duration::from_secs_f64(remaining - (intervals - 1.0) * step)
}

async fn finish(
    arm: &ArmClient,
    token: &LroToken,
    is_delete: bool,
    kind: LroKind,
    resource_url: &Url,
    response: ArmResponse,
    what: &str,
) -> Result<Value> {
    if is_delete {
        return Ok(Value::Null);
    }
    if token.method.eq_ignore_ascii_case("POST") {
        return Ok(response.body);
    }
    if kind == LroKind::ResourceState {
        return Ok(response.body);
    }
    // final-state-via original-uri: read the resource.
    let resource = arm
        .send_raw(Method::GET, resource_url.clone(), None)
        .await?;
    let resource = crate::arm::check(resource, &Method::GET, resource_url)?;
    if let Some(state) = provisioning_state(&resource.body)
        && is_terminal(state)
        && !is_success(state)
    {
        return Err(failed(what, state, &resource.body));
    }
    Ok(resource.body)
}

/// What one poll response means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Still running; a short description.
    Running(String),
    /// Finished successfully.
    Succeeded,
    /// Finished as `Failed` or `Canceled`.
    Failed(String),
    /// The polled URL answered 404.
    Gone,
    /// The status could not be read (other 4xx/5xx).
    ReadFailed,
}

/// Pure interpretation of a poll response.
pub fn interpret(kind: LroKind, is_delete: bool, response: &ArmResponse) -> Step {
    if response.status == 404 {
        return Step::Gone;
    }
    match kind {
        LroKind::AsyncOperation => {
            if response.status >= 400 {
                return Step::ReadFailed;
            }
            let status = response
                .body
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("InProgress");
            if is_success(status) {
                Step::Succeeded
            } else if is_terminal(status) {
                Step::Failed(status.to_string())
            } else {
                let pct = response.body.get("percentComplete").and_then(Value::as_f64);
                Step::Running(match pct {
                    Some(p) => format!("{status} {p:.0}%"),
                    None => status.to_string(),
                })
            }
        }
        LroKind::Location => match response.status {
            202 => Step::Running("in progress".into()),
            s if s < 300 => Step::Succeeded,
            _ => Step::Failed("Failed".into()),
        },
        LroKind::ResourceState => {
            if response.status >= 400 {
                return Step::ReadFailed;
            }
            match provisioning_state(&response.body) {
                None => Step::Succeeded,
                Some(s) if is_success(s) => Step::Succeeded,
                Some(s) if is_terminal(s) => Step::Failed(s.to_string()),
                Some(s) if is_delete && s.eq_ignore_ascii_case("Deleted") => Step::Succeeded,
                Some(s) => Step::Running(s.to_string()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;
    use serde_json::json;

    #[test]
    fn polls_are_placed_to_land_just_after_the_estimated_end() {
        let s = Duration::from_secs;
        // No percentage: the server's interval.
        assert_eq!(next_poll(s(10), None, s(10)), s(10));
        assert_eq!(next_poll(s(10), Some(0.0), s(10)), s(10));
        // 46 s operation, 10 s hint: at 10 s it is 21% done, the end is estimated at 47.6 s;
        // the next poll lands at about 27.6 s so that one more 10 s step reaches the end.
        let wait = next_poll(s(10), Some(21.0), s(10)).as_secs_f64();
        assert!((17.0..18.5).contains(&wait), "{wait}");
        // At 27.6 s (60%): the remaining 18.4 s is one step and a bit, so poll at the end.
        let wait = next_poll(s(10), Some(60.0), Duration::from_millis(27_600)).as_secs_f64();
        assert!((18.4..19.0).contains(&wait), "{wait}");
        // Never sooner than the server asks.
        assert_eq!(next_poll(s(10), Some(95.0), s(40)), s(10));
    }

    fn resp(status: u16, headers: &[(&'static str, &str)], body: Value) -> ArmResponse {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, v.parse().unwrap());
        }
        ArmResponse {
            status,
            headers: h,
            body,
        }
    }

    fn url() -> Url {
        Url::parse("https://arm.test/subscriptions/s/x?api-version=1").unwrap()
    }

    #[test]
    fn async_operation_header_wins_over_location() {
        let r = resp(
            201,
            &[
                ("azure-asyncoperation", "https://arm.test/op/1"),
                ("location", "https://arm.test/res/1"),
            ],
            json!({"properties":{"provisioningState":"Provisioning"}}),
        );
        let Started::Pending(t) = start(&Method::PUT, &url(), r, "x").unwrap() else {
            panic!("expected pending")
        };
        assert_eq!(t.kind, LroKind::AsyncOperation);
        assert_eq!(t.operation_url, "https://arm.test/op/1");
        assert_eq!(t.method, "PUT");
        let back = LroToken::from_value(&t.to_value()).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn location_only_and_no_header_cases() {
        let r = resp(202, &[("location", "https://arm.test/res/1")], Value::Null);
        let Started::Pending(t) = start(&Method::DELETE, &url(), r, "x").unwrap() else {
            panic!()
        };
        assert_eq!(t.kind, LroKind::Location);
        let r = resp(
            201,
            &[],
            json!({"properties":{"provisioningState":"Updating"}}),
        );
        let Started::Pending(t) = start(&Method::PUT, &url(), r, "x").unwrap() else {
            panic!()
        };
        assert_eq!(t.kind, LroKind::ResourceState);
        assert_eq!(t.operation_url, url().to_string());
    }

    #[test]
    fn terminal_initial_response_is_done_or_failed() {
        let done = resp(
            200,
            &[],
            json!({"properties":{"provisioningState":"Succeeded"}}),
        );
        assert!(matches!(
            start(&Method::PUT, &url(), done, "x").unwrap(),
            Started::Done(_)
        ));
        let no_state = resp(201, &[], json!({"id":"x"}));
        assert!(matches!(
            start(&Method::PUT, &url(), no_state, "x").unwrap(),
            Started::Done(_)
        ));
        let failed = resp(
            200,
            &[],
            json!({"properties":{"provisioningState":"Failed"}}),
        );
        assert!(start(&Method::PUT, &url(), failed, "creating x").is_err());
    }

    #[test]
    fn async_operation_states() {
        let k = LroKind::AsyncOperation;
        assert_eq!(
            interpret(
                k,
                false,
                &resp(
                    200,
                    &[],
                    json!({"status":"InProgress","percentComplete":40})
                )
            ),
            Step::Running("InProgress 40%".into())
        );
        assert_eq!(
            interpret(k, false, &resp(200, &[], json!({"status":"Succeeded"}))),
            Step::Succeeded
        );
        assert_eq!(
            interpret(k, false, &resp(200, &[], json!({"status":"Canceled"}))),
            Step::Failed("Canceled".into())
        );
        assert_eq!(
            interpret(k, false, &resp(404, &[], Value::Null)),
            Step::Gone
        );
        assert_eq!(
            interpret(k, false, &resp(500, &[], Value::Null)),
            Step::ReadFailed
        );
    }

    #[test]
    fn location_and_resource_states() {
        assert_eq!(
            interpret(LroKind::Location, true, &resp(202, &[], Value::Null)),
            Step::Running("in progress".into())
        );
        assert_eq!(
            interpret(LroKind::Location, true, &resp(204, &[], Value::Null)),
            Step::Succeeded
        );
        assert_eq!(
            interpret(
                LroKind::Location,
                false,
                &resp(409, &[], json!({"error":{"code":"Conflict"}}))
            ),
            Step::Failed("Failed".into())
        );
        let r = |s: &str| resp(200, &[], json!({"properties":{"provisioningState":s}}));
        assert_eq!(
            interpret(LroKind::ResourceState, false, &r("Provisioning")),
            Step::Running("Provisioning".into())
        );
        assert_eq!(
            interpret(LroKind::ResourceState, false, &r("Succeeded")),
            Step::Succeeded
        );
        assert_eq!(
            interpret(LroKind::ResourceState, false, &r("Failed")),
            Step::Failed("Failed".into())
        );
    }

    #[test]
    fn failure_carries_operation_code_and_message() {
        let e = failed(
            "creating adt-1",
            "Failed",
            &json!({"status":"Failed","error":{"code":"QuotaExceeded","message":"too many instances"}}),
        );
        let text = e.to_string();
        assert!(text.contains("creating adt-1"), "{text}");
        assert!(text.contains("QuotaExceeded"), "{text}");
        assert!(text.contains("too many instances"), "{text}");
    }
}
