//! The one shared HTTP client of a run (reqwest with rustls, extra root CAs, timeouts,
//! user agent) and the request sender with retries, rate limiting and secret-free logging.

pub mod ratelimit;
pub mod retry;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::header::HeaderMap;
use serde_json::Value;
use url::Url;

use crate::errors::{AzureError, Result};
use crate::secret::Secret;
pub use ratelimit::{Bucket, RateLimitConfig, RateLimiter};
pub use retry::{Decision, Outcome, RetryPolicy};

/// User agent sent with every request.
pub const USER_AGENT: &str = concat!("twinup/", env!("CARGO_PKG_VERSION"));

/// How the shared client is built.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Extra root certificates (PEM bundle), e.g. the emulator's CA or a corporate proxy's.
    pub ca_file: Option<PathBuf>,
    /// Also trust the PEM bundle named by `SSL_CERT_FILE`, if that variable is set.
    pub use_ssl_cert_file: bool,
    /// TCP/TLS connect timeout.
    pub connect_timeout: Duration,
    /// Timeout between reads of a response.
    pub read_timeout: Duration,
    /// Retry policy of [`HttpClient::send`].
    pub retry: RetryPolicy,
    /// Shared client-side rate limiter tuning.
    pub rate_limit: RateLimitConfig,
    /// Host names sent to a fixed address instead of the one DNS gives (reqwest's
    /// `ClientBuilder::resolve`): an emulated instance's data plane. Empty by default.
    pub resolve: Vec<(String, std::net::SocketAddr)>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            ca_file: None,
            use_ssl_cert_file: true,
            connect_timeout: Duration::from_secs(20),
            read_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            rate_limit: RateLimitConfig::default(),
            resolve: Vec::new(),
        }
    }
}

/// The shared HTTP client. Cheap to clone; clones share connections and the rate limiter.
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    retry: RetryPolicy,
    limiter: Arc<RateLimiter>,
    config: HttpConfig,
}

/// A request body.
#[derive(Debug, Clone, Default)]
pub enum Body {
    /// No body.
    #[default]
    Empty,
    /// A JSON body (`Content-Type: application/json`).
    Json(Value),
    /// A form body (`application/x-www-form-urlencoded`); values may be secrets and are never logged.
    Form(Vec<(String, Secret)>),
}

/// One request to send.
#[derive(Debug, Clone)]
pub struct Request {
    /// HTTP method.
    pub method: reqwest::Method,
    /// Absolute URL including query.
    pub url: Url,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// Body.
    pub body: Body,
    /// Bearer token for `Authorization`.
    pub bearer: Option<Secret>,
}

impl Request {
    /// A request with no headers, body or token.
    pub fn new(method: reqwest::Method, url: Url) -> Self {
        Request {
            method,
            url,
            headers: Vec::new(),
            body: Body::Empty,
            bearer: None,
        }
    }
}

/// A fully read response.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Raw body.
    pub body: Vec<u8>,
}

impl Response {
    /// The body as JSON; an empty body is `Null`, a non-JSON body is a string.
    pub fn json(&self) -> Value {
        if self.body.iter().all(|b| b.is_ascii_whitespace()) {
            return Value::Null;
        }
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&self.body).into_owned()))
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl HttpClient {
    /// Builds the shared client. TLS verification is always on; extra CAs are added to the
    /// built-in (webpki) roots.
    pub fn new(config: &HttpConfig) -> Result<Self> {
        let mut builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            .redirect(reqwest::redirect::Policy::none());
        for (host, address) in &config.resolve {
            builder = builder.resolve(host, *address);
        }
        let mut files: Vec<PathBuf> = config.ca_file.iter().cloned().collect();
        if config.use_ssl_cert_file
            && let Some(path) = std::env::var_os("SSL_CERT_FILE")
            && !path.is_empty()
        {
            files.push(PathBuf::from(path));
        }
        for file in files {
            let pem = std::fs::read(&file).map_err(|e| {
                AzureError::HttpSetup(format!(
                    "cannot read CA file {}: {e}; check --ca-file / SSL_CERT_FILE",
                    file.display()
                ))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                AzureError::HttpSetup(format!(
                    "CA file {} is not a PEM certificate bundle: {e}",
                    file.display()
                ))
            })?;
            if certs.is_empty() {
                return Err(AzureError::HttpSetup(format!(
                    "CA file {} holds no PEM certificates",
                    file.display()
                )));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let inner = builder
            .build()
            .map_err(|e| AzureError::HttpSetup(e.to_string()))?;
        Ok(HttpClient {
            inner,
            retry: config.retry.clone(),
            limiter: Arc::new(RateLimiter::new(config.rate_limit.clone())),
            config: config.clone(),
        })
    }

    /// A client like this one (same settings, same rate limiter) that sends requests for
    /// `host` to `address` whatever DNS says.
    pub fn resolving(&self, host: &str, address: std::net::SocketAddr) -> Result<Self> {
        let mut config = self.config.clone();
        config.resolve.push((host.to_string(), address));
        Ok(HttpClient {
            limiter: self.limiter.clone(),
            ..HttpClient::new(&config)?
        })
    }

    /// The underlying reqwest client (for adapters such as the azure_core transport).
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.inner
    }

    /// The retry policy in use.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// Sends a request, retrying throttling, transient server errors and transport failures.
    /// Returns the last response whatever its status; errors only when no response was had.
    pub async fn send(&self, request: &Request) -> Result<Response> {
        let bucket = Bucket::of(&request.method);
        let host = format!(
            "{}:{}",
            request.url.host_str().unwrap_or(""),
            request.url.port_or_known_default().unwrap_or(0)
        );
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            self.limiter.acquire(&host, bucket).await;
            let started = Instant::now();
            let result = self.send_once(request).await;
            let elapsed_ms = started.elapsed().as_millis() as u64;
            let jitter = rand::rng().random_range(0.5..=1.0);
            match result {
                Ok(response) => {
                    let now = Instant::now();
                    self.limiter.observe(&host, bucket, &response.headers, now);
                    if response.status == 429 {
                        let hint = server_delay(&response.headers);
                        self.limiter.throttled(&host, bucket, hint, now);
                    }
                    tracing::debug!(
                        method = %request.method,
                        url = %loggable_url(&request.url),
                        status = response.status,
                        elapsed_ms,
                        attempt,
                        "http"
                    );
                    let outcome = Outcome::Status {
                        status: response.status,
                        server_delay: server_delay(&response.headers),
                    };
                    match retry::decide(&self.retry, attempt, outcome, jitter) {
                        Decision::Stop => return Ok(response),
                        Decision::RetryAfter(wait) => {
                            tracing::debug!(wait_ms = wait.as_millis() as u64, "http: retrying");
                            twinup_engine::report_retry(
                                attempt + 1,
                                self.retry.max_attempts,
                                &format!("HTTP {}", response.status),
                                wait,
                            );
                            if let Some(line) = wait_notice(
                                request,
                                response.status,
                                server_delay(&response.headers),
                                wait,
                                attempt,
                                self.retry.max_attempts,
                            ) {
                                tracing::warn!("{line}");
                            }
                            tokio::time::sleep(wait).await;
                        }
                    }
                }
                Err(error) => {
                    let message = describe(&error);
                    // A certificate the client does not trust, or a refused connection, will
                    // not change on a retry: fail now, naming the cause.
                    if let Some(e) =
                        unretryable(request.method.as_str(), &request.url, &error, &message)
                    {
                        return Err(e);
                    }
                    tracing::debug!(
                        method = %request.method,
                        url = %loggable_url(&request.url),
                        error = %message,
                        elapsed_ms,
                        attempt,
                        "http: no response"
                    );
                    match retry::decide(&self.retry, attempt, Outcome::Transport, jitter) {
                        Decision::Stop => {
                            return Err(AzureError::Transport {
                                method: request.method.to_string(),
                                url: loggable_url(&request.url),
                                attempts: attempt,
                                message,
                            });
                        }
                        Decision::RetryAfter(wait) => {
                            twinup_engine::report_retry(
                                attempt + 1,
                                self.retry.max_attempts,
                                &format!("no response ({message})"),
                                wait,
                            );
                            tokio::time::sleep(wait).await
                        }
                    }
                }
            }
        }
    }

    async fn send_once(&self, request: &Request) -> Result<Response, reqwest::Error> {
        let mut builder = self
            .inner
            .request(request.method.clone(), request.url.clone());
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        if let Some(token) = &request.bearer {
            builder = builder.bearer_auth(token.expose());
        }
        builder = match &request.body {
            Body::Empty => builder,
            Body::Json(value) => builder.json(value),
            Body::Form(fields) => {
                let pairs: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.expose()))
                    .collect();
                builder.form(&pairs)
            }
        };
        let response = builder.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await?.to_vec();
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// Waits at least this long are shown to the user (shorter ones are routine).
const NOTICEABLE_WAIT: Duration = Duration::from_secs(10);

/// The line shown for a retry wait the user would notice: a long one, or one cut short of what
/// the server asked for (a `Retry-After` beyond the cap).
fn wait_notice(
    request: &Request,
    status: u16,
    asked: Option<Duration>,
    wait: Duration,
    attempt: u32,
    max_attempts: u32,
) -> Option<String> {
    let capped = asked.is_some_and(|a| a > wait);
    if !capped && wait < NOTICEABLE_WAIT {
        return None;
    }
    let why = match asked {
        Some(a) if capped => format!(
            "Azure asked to wait {}s; waiting {}s, the most twinup waits at once",
            a.as_secs(),
            wait.as_secs_f64().ceil()
        ),
        _ => format!("waiting {}s", wait.as_secs_f64().ceil()),
    };
    Some(format!(
        "{} {} answered HTTP {status}; {why} (attempt {attempt} of {max_attempts})",
        request.method,
        loggable_url(&request.url)
    ))
}

/// The server's retry hint from a response's headers.
pub fn server_delay(headers: &HeaderMap) -> Option<Duration> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    retry::parse_server_delay(get("retry-after-ms"), get("retry-after"))
}

/// A URL safe to log: scheme, host, port and path, plus `api-version`; other query values dropped.
pub fn loggable_url(url: &Url) -> String {
    let mut out = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        out.push_str(&format!(":{port}"));
    }
    out.push_str(url.path());
    if let Some((_, v)) = url.query_pairs().find(|(k, _)| k == "api-version") {
        out.push_str(&format!("?api-version={v}"));
    }
    out
}

/// The error for a failed request that a retry cannot cure (an untrusted certificate, a
/// refused connection), `None` for the others. `described` is [`describe`]'s text.
pub(crate) fn unretryable(
    method: &str,
    url: &Url,
    error: &reqwest::Error,
    described: &str,
) -> Option<AzureError> {
    let (method, url, message) = (method.to_string(), loggable_url(url), described.to_string());
    match no_retry_problem(error, described)? {
        Problem::Certificate => Some(AzureError::UntrustedCertificate {
            method,
            url,
            message,
        }),
        Problem::Refused => Some(AzureError::ConnectionRefused {
            method,
            url,
            message,
        }),
    }
}

/// Transport failures that a retry cannot cure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Problem {
    Certificate,
    Refused,
}

/// Classifies a failed request by its error chain (`described` is [`describe`]'s text, which
/// ends with the root cause: rustls says `invalid peer certificate: UnknownIssuer`).
fn no_retry_problem(error: &reqwest::Error, described: &str) -> Option<Problem> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return Some(Problem::Refused);
        }
        source = s.source();
    }
    let lower = described.to_ascii_lowercase();
    if lower.contains("certificate")
        && [
            "invalid",
            "unknown",
            "expired",
            "not valid",
            "self signed",
            "self-signed",
        ]
        .iter()
        .any(|w| lower.contains(w))
    {
        return Some(Problem::Certificate);
    }
    if lower.contains("connection refused") {
        return Some(Problem::Refused);
    }
    None
}

pub(crate) fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_body() || error.is_decode() {
        "response body could not be read"
    } else {
        "request failed"
    };
    // Walk the source chain for the root cause (TLS errors live there); URLs have no secrets
    // in them beyond the query, which reqwest errors do not print without the URL itself.
    let mut detail = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loggable_url_drops_query_secrets_but_keeps_api_version() {
        let url =
            Url::parse("https://h:8443/a/b?api-version=2023-01-31&sig=SECRET&code=x").unwrap();
        assert_eq!(
            loggable_url(&url),
            "https://h:8443/a/b?api-version=2023-01-31"
        );
    }

    #[test]
    fn missing_ca_file_is_a_clear_error() {
        let config = HttpConfig {
            ca_file: Some("/nonexistent/ca.pem".into()),
            use_ssl_cert_file: false,
            ..HttpConfig::default()
        };
        let err = HttpClient::new(&config).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
    }

    #[test]
    fn non_pem_ca_file_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate").unwrap();
        let config = HttpConfig {
            ca_file: Some(path),
            use_ssl_cert_file: false,
            ..HttpConfig::default()
        };
        assert!(HttpClient::new(&config).is_err());
    }
}
