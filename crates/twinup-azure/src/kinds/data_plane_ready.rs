//! `azure.digital_twins_data_plane_ready`: proves an instance is ready to program against.
//! When the data role's assignee is the signed-in principal, it calls the instance's data plane
//! (`GET https://{hostName}/models?api-version=2023-10-31`, DigitalTwinModels_List of
//! azure-rest-api-specs `digitaltwins/data-plane/.../stable/2023-10-31/digitaltwins.json`, with
//! a token for the data plane's scope) until it answers 200. A 403 meanwhile is RBAC
//! propagation (Learn, "Troubleshoot Azure RBAC": role assignment changes can take up to 10
//! minutes to take effect), so it waits, with progress, up to `timeout`; any other answer fails.
//! For another assignee it only says that propagation can take minutes. Reads only: nothing
//! to resume and nothing for `down` to delete.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};
use twinup_engine::{Applied, FieldError, KindSchema, LiveState, StepContext, StepError, StepKind};

use super::fields::{self, Checker};
use super::{AzureContext, interruptible};
use crate::http::{HttpClient, Request};

/// The data-plane api-version the check uses (the newest stable one).
pub const DATA_PLANE_API_VERSION: &str = "2023-10-31";

/// How long the check waits when the step does not say.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(600);

/// The longest `timeout` a step may ask for.
const MAX_READY_TIMEOUT: Duration = Duration::from_secs(2 * 3600);

/// Where data-plane requests go instead of the address DNS gives the instance's host name:
/// the emulator, for `--cloud local` and tests (the host name stays in the URL and `Host`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataPlaneRoute {
    /// `http` or `https`.
    pub scheme: String,
    /// The address every instance host name resolves to.
    pub address: std::net::SocketAddr,
}

impl DataPlaneRoute {
    /// The route to the service at `url` (`http://127.0.0.1:8080`), when it names an IP address.
    pub fn from_url(url: &str) -> Option<DataPlaneRoute> {
        let parsed = url::Url::parse(url).ok()?;
        let ip: std::net::IpAddr = parsed
            .host_str()?
            .trim_matches(|c| c == '[' || c == ']')
            .parse()
            .ok()?;
        Some(DataPlaneRoute {
            scheme: parsed.scheme().to_string(),
            address: std::net::SocketAddr::new(ip, parsed.port_or_known_default()?),
        })
    }
}

/// The `azure.digital_twins_data_plane_ready` kind.
pub struct DataPlaneReadyKind {
    ctx: Arc<AzureContext>,
}

impl DataPlaneReadyKind {
    /// The kind over a shared context.
    pub fn new(ctx: Arc<AzureContext>) -> Self {
        DataPlaneReadyKind { ctx }
    }

    /// The client and URL of the instance's `GET /models`.
    fn target(&self, host: &str) -> Result<(HttpClient, url::Url), StepError> {
        let (http, base) = match &self.ctx.settings.data_plane_route {
            Some(route) => (
                self.ctx
                    .http
                    .resolving(host, route.address)
                    .map_err(StepError::from)?,
                format!("{}://{host}:{}", route.scheme, route.address.port()),
            ),
            None => (self.ctx.http.clone(), format!("https://{host}")),
        };
        let url = url::Url::parse(&format!(
            "{base}/models?api-version={DATA_PLANE_API_VERSION}"
        ))
        .map_err(|e| StepError::rejected(format!("'{host}' is not a host name: {e}")))?;
        Ok((http, url))
    }

    /// One `GET /models`: its status, and the body's error text when there is one.
    async fn probe(&self, http: &HttpClient, url: &url::Url) -> Result<(u16, String), StepError> {
        let scope = &self.ctx.endpoints.digital_twins_scope;
        let token = self
            .ctx
            .token_provider
            .token(scope)
            .await
            .map_err(StepError::from)?;
        let mut request = Request::new(Method::GET, url.clone());
        request.bearer = Some(token.token);
        let response = http.send(&request).await.map_err(StepError::from)?;
        let body = response.json();
        let detail = body
            .pointer("/error/message")
            .or_else(|| body.pointer("/error/code"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        Ok((response.status, detail))
    }
}

/// The instance host name from `host_name` (`https://x.api.wus2.digitaltwins.azure.net` or
/// the bare name).
fn host_of(with: &Value) -> Result<String, StepError> {
    let raw = fields::string(with, "host_name")?;
    let host = raw
        .split_once("://")
        .map_or(raw.as_str(), |(_, rest)| rest)
        .trim_end_matches('/')
        .to_ascii_lowercase();
    if host.is_empty() || host.contains('/') {
        return Err(StepError::rejected(format!(
            "'{raw}' is not an instance host name"
        )));
    }
    Ok(host)
}

fn timeout_of(with: &Value) -> Result<Duration, String> {
    match fields::opt_string(with, "timeout") {
        None => Ok(DEFAULT_READY_TIMEOUT),
        Some(text) => {
            let d = twinup_plan::parse_duration(&text)?;
            if d > MAX_READY_TIMEOUT {
                return Err(format!("`{text}` is longer than the 2h the check may wait"));
            }
            Ok(d)
        }
    }
}

fn ready_outputs(ready: bool) -> Applied {
    // Created, with a delete that sends nothing: `down` forgets the check, and the next `up`
    // makes it again.
    Applied::created(fields::outputs(json!({ "ready": ready })))
}

fn minutes(d: Duration) -> String {
    match d.as_secs() {
        s if s % 60 == 0 && s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// The schema of `DataPlaneReadyKind` steps: name, fields, outputs, comparison; needs no connection.
pub struct DataPlaneReadySchema;

impl KindSchema for DataPlaneReadySchema {
    fn name(&self) -> &'static str {
        "azure.digital_twins_data_plane_ready"
    }

    fn outputs(&self) -> &'static [&'static str] {
        &["ready"]
    }

    fn makes_nothing(&self) -> bool {
        true // a wait: reads the data plane, creates nothing
    }

    fn validate(&self, with: &Value) -> Vec<FieldError> {
        let mut c = Checker::new(
            self.name(),
            with,
            &[
                "host_name",
                "principal_id",
                "role_assignment_id",
                "timeout",
                "public_network_access",
            ],
        );
        c.optional_enum("public_network_access", &["Enabled", "Disabled"]);
        c.required_str(
            "host_name",
            "the instance's host name, e.g. ${steps.instance.outputs.host_name}",
        );
        c.optional_str("principal_id", "the object id the data role is assigned to");
        c.optional_str(
            "role_assignment_id",
            "the data role's assignment id, for messages",
        );
        if c.optional_str("timeout", "how long to wait, e.g. 10m")
            .is_some()
            && let Err(e) = timeout_of(with)
        {
            c.errors.push(FieldError::new(
                "timeout",
                e,
                "write how long to wait for the role, e.g. `10m`, `90s` (at most 2h)",
            ));
        }
        c.errors
    }
}

#[async_trait]
impl StepKind for DataPlaneReadyKind {
    fn schema(&self) -> &'static dyn KindSchema {
        &DataPlaneReadySchema
    }

    async fn apply(&self, ctx: &StepContext, with: &Value) -> Result<Applied, StepError> {
        let host = host_of(with)?;
        let assignee = fields::opt_string(with, "principal_id").unwrap_or_default();
        let signed_in = self.ctx.signed_in.as_ref().map(|p| p.id.as_str());
        if !assignee.is_empty() && signed_in.is_none_or(|me| !me.eq_ignore_ascii_case(&assignee)) {
            ctx.progress(format!(
                "the data role is for {assignee}, not you: it can take a few minutes (up to 10) before https://{host} accepts it"
            ));
            return Ok(ready_outputs(false));
        }
        if fields::opt_string(with, "public_network_access")
            .is_some_and(|a| a.eq_ignore_ascii_case("Disabled"))
        {
            ctx.progress(format!(
                "public network access is disabled: https://{host} answers only through its private endpoint, so twinup does not wait for it here; the role can take a few minutes"
            ));
            return Ok(ready_outputs(false));
        }
        if !self.ctx.settings.wait_ready {
            ctx.progress(format!(
                "not waiting for https://{host} to accept your role (--no-wait-ready); it can take a few minutes"
            ));
            return Ok(ready_outputs(false));
        }
        let timeout = timeout_of(with).map_err(StepError::rejected)?;
        let (http, url) = self.target(&host)?;
        let started = Instant::now();
        let mut interval = self.ctx.settings.ready_interval;
        let mut refusals = 0u32;
        loop {
            let (status, detail) = interruptible(ctx, self.probe(&http, &url)).await?;
            match status {
                200 => {
                    ctx.progress(format!(
                        "https://{host} accepts your role: ready to program against"
                    ));
                    return Ok(ready_outputs(true));
                }
                403 => refusals += 1,
                other => {
                    let detail = if detail.is_empty() {
                        String::new()
                    } else {
                        format!(": {detail}")
                    };
                    return Err(StepError::failed(format!(
                        "GET https://{host}/models answered HTTP {other}{detail}; twinup waits only through 403 (the role still propagating)"
                    ))
                    .with_code(format!("DataPlaneHttp{other}"))
                    .with_help("check the instance's host name and that the sign-in can reach it (network rules, private endpoint), then rerun `twinup up`"));
                }
            }
            let elapsed = started.elapsed();
            if elapsed >= timeout {
                let assignment = fields::opt_string(with, "role_assignment_id")
                    .map(|id| format!(" ({id})"))
                    .unwrap_or_default();
                return Err(StepError::failed(format!(
                    "https://{host} still refuses you (HTTP 403, {refusals} times) after waiting {}: the data role{assignment} has not taken effect",
                    minutes(timeout)
                ))
                .with_code("DataPlaneNotReady")
                .with_help("role assignments usually take effect within 10 minutes; check that the assignment exists on the instance for the principal you sign in as (`az role assignment list --scope <instance id>`), then rerun `twinup up` to wait again (nothing is created twice), or pass --no-wait-ready"));
            }
            ctx.progress(format!(
                "waiting for https://{host} to accept your role (HTTP 403 while it propagates; {} of at most {})",
                minutes(Duration::from_secs(elapsed.as_secs())),
                minutes(timeout)
            ));
            let pause = interval.min(timeout - elapsed);
            interruptible(ctx, async {
                tokio::time::sleep(pause).await;
                Ok(())
            })
            .await?;
            interval = (interval * 2).min(self.ctx.settings.ready_interval_cap);
        }
    }

    async fn read(&self, _ctx: &StepContext, _with: &Value) -> Result<LiveState, StepError> {
        // Nothing to compare: the check owns no resource.
        Ok(LiveState::Present {
            properties: json!({}),
        })
    }

    async fn delete(
        &self,
        _ctx: &StepContext,
        _with: &Value,
        _token: Option<&Value>,
    ) -> Result<(), StepError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_come_with_or_without_a_scheme() {
        let with = |h: &str| json!({ "host_name": h });
        assert_eq!(
            host_of(&with("https://X.api.wus2.digitaltwins.azure.net/")).unwrap(),
            "x.api.wus2.digitaltwins.azure.net"
        );
        assert_eq!(host_of(&with("a.b")).unwrap(), "a.b");
        assert!(host_of(&with("https://a/b")).is_err());
    }

    #[test]
    fn timeouts_default_to_ten_minutes_and_are_bounded() {
        assert_eq!(timeout_of(&json!({})).unwrap(), DEFAULT_READY_TIMEOUT);
        assert_eq!(
            timeout_of(&json!({"timeout": "90s"})).unwrap(),
            Duration::from_secs(90)
        );
        assert!(timeout_of(&json!({"timeout": "3h"})).is_err());
        assert!(timeout_of(&json!({"timeout": "soon"})).is_err());
    }

    #[test]
    fn a_route_is_read_from_an_emulator_url() {
        let r = DataPlaneRoute::from_url("http://127.0.0.1:4321").unwrap();
        assert_eq!(r.scheme, "http");
        assert_eq!(r.address.port(), 4321);
        assert!(DataPlaneRoute::from_url("https://example.com").is_none());
    }
}
