//! Azure Resource Manager client: authenticated JSON requests with `api-version`, ARM error
//! bodies turned into [`ArmError`], and a guard that never sends the token to another host.

use std::sync::Arc;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;
use url::Url;

use crate::cloud::{Endpoints, join};
use crate::credential::TokenProvider;
use crate::errors::{ArmError, AzureError, Result};
use crate::http::{Body, HttpClient, Request};

/// A decoded ARM response.
#[derive(Debug, Clone)]
pub struct ArmResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// JSON body (`Null` when empty).
    pub body: Value,
}

impl ArmResponse {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// ARM client bound to one cloud's ARM endpoint and a token provider.
#[derive(Debug, Clone)]
pub struct ArmClient {
    http: HttpClient,
    base: Url,
    scope: String,
    tokens: Arc<dyn TokenProvider>,
}

impl ArmClient {
    /// A client for `endpoints.arm` using `endpoints.arm_scope` tokens.
    pub fn new(http: HttpClient, endpoints: &Endpoints, tokens: Arc<dyn TokenProvider>) -> Self {
        ArmClient {
            http,
            base: endpoints.arm.clone(),
            scope: endpoints.arm_scope.clone(),
            tokens,
        }
    }

    /// The ARM base URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The token provider in use.
    pub fn tokens(&self) -> &Arc<dyn TokenProvider> {
        &self.tokens
    }

    /// The absolute URL of `path` (e.g. `/subscriptions/..`) with `api-version` and extra query.
    pub fn url(&self, path: &str, api_version: &str, query: &[(&str, &str)]) -> Result<Url> {
        let mut url = join(&self.base, path, "ARM path")?;
        {
            let mut pairs = url.query_pairs_mut();
            pairs.append_pair("api-version", api_version);
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// True when `url` is on this client's ARM endpoint (scheme, host and port).
    pub fn is_own(&self, url: &Url) -> bool {
        same_origin(url, &self.base)
    }

    /// The same path and query on this client's ARM endpoint (for URLs saved by an earlier run
    /// against an endpoint that has since moved, e.g. a restarted local emulator).
    pub fn rebase(&self, url: &Url) -> Url {
        let mut out = self.base.clone();
        out.set_path(url.path());
        out.set_query(url.query());
        out
    }

    /// Sends a request to an absolute URL on the ARM host and returns the response whatever
    /// its status (used by the LRO poller).
    pub async fn send_raw(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<ArmResponse> {
        if !same_origin(&url, &self.base) {
            return Err(AzureError::Rule(format!(
                "refusing to send the ARM token to {} (ARM is {}); the server returned an unexpected operation URL",
                url.host_str().unwrap_or("?"),
                self.base.host_str().unwrap_or("?"),
            )));
        }
        let mut request = Request::new(method, url);
        if let Some(body) = body {
            request.body = Body::Json(body.clone());
        }
        let mut refreshed = false;
        loop {
            request.bearer = Some(self.tokens.token(&self.scope).await?.token);
            let response = self.http.send(&request).await?;
            let answer = ArmResponse {
                status: response.status,
                body: response.json(),
                headers: response.headers,
            };
            // A token that expired in flight (clock skew, a long wait): one fresh token, once.
            if answer.status == 401 && error_code(&answer.body) == Some(EXPIRED_TOKEN) && !refreshed
            {
                tracing::info!("ARM says the access token expired; getting a fresh one");
                self.tokens.invalidate(&self.scope).await;
                refreshed = true;
                continue;
            }
            return Ok(answer);
        }
    }

    /// Sends a request and turns 4xx/5xx answers into [`AzureError::Arm`].
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        api_version: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<ArmResponse> {
        let url = self.url(path, api_version, query)?;
        let policy = self.http.retry_policy().clone();
        let mut attempt = 1u32;
        loop {
            let response = self.send_raw(method.clone(), url.clone(), body).await?;
            // The resource is busy with another operation (an update still running): wait and
            // send the same request again, a bounded number of times.
            if response.status == 409
                && error_code(&response.body) == Some(ANOTHER_OPERATION)
                && attempt < policy.max_attempts
            {
                let wait = crate::http::retry::backoff(&policy, attempt, 1.0);
                tracing::warn!(
                    "{method} {}: another operation is in progress on the resource; retrying in {}s (attempt {attempt} of {})",
                    crate::http::loggable_url(&url),
                    wait.as_secs_f64().ceil(),
                    policy.max_attempts
                );
                twinup_engine::report_retry(
                    attempt + 1,
                    policy.max_attempts,
                    &format!("HTTP 409 {ANOTHER_OPERATION}"),
                    wait,
                );
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            return check(response, &method, &url);
        }
    }

    /// GET.
    pub async fn get(&self, path: &str, api_version: &str) -> Result<ArmResponse> {
        self.request(Method::GET, path, api_version, &[], None)
            .await
    }

    /// GET, with 404 as `None`.
    pub async fn get_optional(&self, path: &str, api_version: &str) -> Result<Option<ArmResponse>> {
        match self.get(path, api_version).await {
            Ok(r) => Ok(Some(r)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// PUT with a JSON body.
    pub async fn put(&self, path: &str, api_version: &str, body: &Value) -> Result<ArmResponse> {
        self.request(Method::PUT, path, api_version, &[], Some(body))
            .await
    }

    /// PATCH with a JSON body.
    pub async fn patch(&self, path: &str, api_version: &str, body: &Value) -> Result<ArmResponse> {
        self.request(Method::PATCH, path, api_version, &[], Some(body))
            .await
    }

    /// POST with an optional JSON body.
    pub async fn post(
        &self,
        path: &str,
        api_version: &str,
        body: Option<&Value>,
    ) -> Result<ArmResponse> {
        self.request(Method::POST, path, api_version, &[], body)
            .await
    }

    /// DELETE.
    pub async fn delete(&self, path: &str, api_version: &str) -> Result<ArmResponse> {
        self.request(Method::DELETE, path, api_version, &[], None)
            .await
    }
}

/// ARM's code for a token that expired (401).
const EXPIRED_TOKEN: &str = "ExpiredAuthenticationToken";
/// ARM's code for a resource busy with another operation (409).
const ANOTHER_OPERATION: &str = "AnotherOperationInProgress";

/// The `error.code` of an ARM error body.
fn error_code(body: &Value) -> Option<&str> {
    body.pointer("/error/code").and_then(Value::as_str)
}

/// Turns an error status into an [`ArmError`]; passes successes through.
pub fn check(response: ArmResponse, method: &Method, url: &Url) -> Result<ArmResponse> {
    if response.status < 400 {
        return Ok(response);
    }
    Err(AzureError::Arm(Box::new(arm_error(&response, method, url))))
}

/// Parses an ARM error body (`{"error":{"code","message"}}`), tolerating other shapes.
pub fn arm_error(response: &ArmResponse, method: &Method, url: &Url) -> ArmError {
    let error = response.body.get("error").unwrap_or(&response.body);
    let text = |key: &str| {
        error
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let mut message = text("message");
    if message.is_empty()
        && let Value::String(raw) = &response.body
    {
        message = raw.chars().take(300).collect();
    }
    ArmError {
        status: response.status,
        code: text("code"),
        message,
        request_id: response
            .header("x-ms-request-id")
            .or_else(|| response.header("x-ms-correlation-request-id"))
            .map(str::to_string),
        method: method.to_string(),
        path: url.path().to_string(),
    }
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}
