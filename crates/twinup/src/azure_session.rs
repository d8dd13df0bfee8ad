//! Connecting a run to Azure: choosing the cloud (starting the in-process emulator for
//! `--cloud local`), signing in, discovering default inputs (the only subscription, the
//! signed-in principal) and building the `azure.*` step kinds.

use std::path::Path;
use std::sync::Arc;

use twinup_azure::arm::ArmClient;
use twinup_azure::cloud::{Cloud, Endpoints};
use twinup_azure::credential::{ChainSettings, TokenProvider, provider_for};
use twinup_azure::discovery::{DISCOVERED_INPUTS, discover_inputs};
use twinup_azure::graph::{DirectoryObject, PrincipalType};
use twinup_azure::kinds::data_plane_ready::DataPlaneRoute;
use twinup_azure::kinds::{AzureContext, KindSettings, register_kinds};
use twinup_azure::secret::Secret;
use twinup_azure::{HttpClient, HttpConfig};
use twinup_emulator::{Emulator, EmulatorConfig};
use twinup_engine::KindRegistry;
use twinup_plan::Plan;

use crate::cli::{CloudArgs, CloudName};
use crate::failure::Failure;

/// True when the plan has any `azure.*` step.
pub fn uses_azure(plan: &Plan) -> bool {
    plan.steps.iter().any(|s| s.kind.starts_with("azure."))
}

/// A signed-in connection to one cloud.
pub struct AzureSession {
    endpoints: Endpoints,
    http: HttpClient,
    tokens: Arc<dyn TokenProvider>,
    /// The signed-in principal's tenant.
    pub tenant_id: String,
    /// The signed-in principal's object id.
    pub principal_id: String,
    /// Whether it is a user or a service principal, from its token (`idtyp`, `scp`).
    principal_type: PrincipalType,
    /// Who signed in, for the user: `admin@x (User)` or `app <id> (ServicePrincipal)`.
    pub who: String,
    /// The credential that worked.
    pub credential: String,
    /// Whether the data-plane readiness check waits (`up --no-wait-ready` clears it).
    pub wait_ready: bool,
    /// Where instance host names resolve to instead of DNS: the in-process emulator for
    /// `--cloud local`, else `TWINUP_DATA_PLANE_ENDPOINT` (tests: an emulator's URL).
    data_plane_route: Option<DataPlaneRoute>,
    /// Kept alive for `--cloud local`.
    _emulator: Option<Emulator>,
}

fn config_error(flag: &str, e: impl std::fmt::Display) -> Failure {
    Failure::bad_input(format!("{flag}: {e}"))
}

/// Picks the cloud from the flags, validating custom endpoints. `true` when the custom cloud's
/// missing endpoints and audiences are to be read from `{arm}/metadata/endpoints` (only
/// `--arm-endpoint` given, as `az cloud register --endpoint-resource-manager` does); until then
/// they stand in as the ARM endpoint.
fn cloud_from_args(args: &CloudArgs) -> Result<(Cloud, bool), Failure> {
    let custom_flags = [
        &args.authority_host,
        &args.arm_endpoint,
        &args.graph_endpoint,
        &args.arm_audience,
        &args.graph_audience,
    ];
    match args.cloud {
        CloudName::Custom => {
            let Some(arm) = &args.arm_endpoint else {
                return Err(Failure::bad_input(
                    "--cloud custom needs --arm-endpoint (its /metadata/endpoints gives the rest), or --authority-host, --arm-endpoint and --graph-endpoint",
                ));
            };
            let discover = args.authority_host.is_none() || args.graph_endpoint.is_none();
            let cloud = Cloud::Custom {
                authority_host: args.authority_host.clone().unwrap_or_else(|| arm.clone()),
                arm: arm.clone(),
                graph: args.graph_endpoint.clone().unwrap_or_else(|| arm.clone()),
                arm_audience: args.arm_audience.clone(),
                graph_audience: args.graph_audience.clone(),
            };
            cloud
                .endpoints()
                .map_err(|e| config_error("--cloud custom", e))?;
            Ok((cloud, discover))
        }
        _ if custom_flags.iter().any(|f| f.is_some()) => Err(Failure::bad_input(
            "--authority-host, --arm-endpoint, --graph-endpoint, --arm-audience and --graph-audience only apply with --cloud custom",
        )),
        CloudName::Public => Ok((Cloud::Public, false)),
        CloudName::China => Ok((Cloud::China, false)),
        CloudName::Usgov => Ok((Cloud::UsGov, false)),
        CloudName::Local => Ok((Cloud::Local { url: String::new() }, false)),
    }
}

/// Fills a custom cloud's endpoints and audiences the flags did not give from its metadata.
async fn discover_custom(args: &CloudArgs, http: &HttpClient, arm: &str) -> Result<Cloud, Failure> {
    let found = twinup_azure::cloud::discover(http, arm)
        .await
        .map_err(|e| {
            let message =
                format!("cannot read the cloud's endpoints from {arm}/metadata/endpoints: {e}");
            if e.is_transient() {
                Failure::step_failed(message)
            } else {
                Failure::bad_input(message)
            }
        })?;
    let cloud = Cloud::Custom {
        authority_host: args.authority_host.clone().unwrap_or(found.login_endpoint),
        arm: arm.to_string(),
        graph: args
            .graph_endpoint
            .clone()
            .or(found.graph_endpoint)
            .unwrap_or_else(|| arm.to_string()),
        arm_audience: args.arm_audience.clone().or(found.arm_audience),
        graph_audience: args.graph_audience.clone().or(found.graph_audience),
    };
    cloud
        .endpoints()
        .map_err(|e| config_error("the cloud's metadata", e))?;
    Ok(cloud)
}

/// Checks the cloud flags without connecting (so usage errors come before any request).
pub fn check_cloud_args(args: &CloudArgs) -> Result<(), Failure> {
    cloud_from_args(args).map(|_| ())
}

impl AzureSession {
    /// Connects and signs in. For `--cloud local` the emulator starts in process, its state kept
    /// in `state_dir/emulator.json` so reruns see what earlier runs created.
    pub async fn connect(args: &CloudArgs, state_dir: &Path) -> Result<AzureSession, Failure> {
        let (mut cloud, discover) = cloud_from_args(args)?;
        let mut settings = ChainSettings::from_env(None);
        let mut emulator = None;
        let mut data_plane_route = std::env::var("TWINUP_DATA_PLANE_ENDPOINT")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| {
                DataPlaneRoute::from_url(v.trim()).ok_or_else(|| {
                    Failure::bad_input(format!(
                        "TWINUP_DATA_PLANE_ENDPOINT: '{v}' is not a URL with an IP address, e.g. http://127.0.0.1:8080"
                    ))
                })
            })
            .transpose()?;
        if args.cloud == CloudName::Local {
            let started = start_local_emulator(state_dir).await?;
            let info = started.info().clone();
            cloud = Cloud::Local {
                url: info.url.clone(),
            };
            data_plane_route = DataPlaneRoute::from_url(&info.url);
            settings = ChainSettings {
                tenant_id: Some(info.tenant_id.clone()),
                client_id: Some(info.client_id.clone()),
                client_secret: Some(Secret::new(info.client_secret.clone())),
                federated_token_file: None,
            };
            emulator = Some(started);
        }
        let http = HttpClient::new(&http_config())
            .map_err(|e| Failure::bad_input(format!("cannot set up HTTPS: {e}")))?;
        if discover && let Some(arm) = &args.arm_endpoint {
            cloud = discover_custom(args, &http, arm).await?;
        }
        let tokens =
            provider_for(&cloud, &http, &settings).map_err(|e| config_error("--cloud", e))?;
        let endpoints = cloud.endpoints().map_err(|e| config_error("--cloud", e))?;
        let token = tokens.token(&endpoints.arm_scope).await.map_err(|e| {
            // An outage (no answer, a token endpoint answering 5xx) is not bad input: exit 1,
            // and a rerun may succeed.
            if e.is_transient() {
                Failure::step_failed(format!("cannot sign in to Azure: {e}"))
            } else {
                Failure::bad_input(format!("cannot sign in to Azure: {e}"))
            }
        })?;
        let claims = token
            .claims()
            .map_err(|e| Failure::bad_input(format!("the sign-in token is unreadable: {e}")))?;
        let tenant_id = claims
            .tid
            .clone()
            .or(settings.tenant_id.clone())
            .unwrap_or_default();
        let principal_id = claims.oid.clone().unwrap_or_default();
        let who = match (&claims.upn, claims.appid.as_ref().or(claims.azp.as_ref())) {
            (Some(upn), _) => format!("{upn} (user)"),
            (None, Some(app)) => format!("application {app} (service principal)"),
            (None, None) => format!("object {principal_id}"),
        };
        let principal_type = if claims.is_user() {
            PrincipalType::User
        } else {
            PrincipalType::ServicePrincipal
        };
        Ok(AzureSession {
            credential: tokens.name(),
            principal_type,
            endpoints,
            http,
            tokens,
            tenant_id,
            principal_id,
            who,
            wait_ready: true,
            data_plane_route,
            _emulator: emulator,
        })
    }

    /// An ARM client on this connection.
    fn arm(&self) -> ArmClient {
        ArmClient::new(self.http.clone(), &self.endpoints, self.tokens.clone())
    }

    /// Fills in the defaults that come from signing in (`twinup_azure::discovery`): the
    /// signed-in principal as the role assignee, and the only subscription (or, with several,
    /// offers them as choices at the prompt). One copy for `up` and `preview`.
    pub async fn discover(
        &self,
        plan: &mut Plan,
        sources: &mut twinup_engine::InputSources,
    ) -> Result<(), Failure> {
        let wanted: Vec<&str> = DISCOVERED_INPUTS
            .iter()
            .copied()
            .filter(|name| plan.inputs.contains_key(*name))
            .collect();
        let found = discover_inputs(&self.arm(), &self.principal_id, &wanted)
            .await
            .map_err(|e| Failure::bad_input(format!("cannot list subscriptions: {e}")))?;
        sources.discovered.extend(found.defaults);
        for (name, choices) in found.choices {
            if let Some(spec) = plan.inputs.get_mut(&name) {
                spec.choices = Some(choices);
            }
        }
        Ok(())
    }

    /// Checks that `subscription` exists and the signed-in principal can see it.
    pub async fn check_subscription(&self, subscription: &str) -> Result<(), Failure> {
        let path = format!("/subscriptions/{subscription}");
        match self
            .arm()
            .get_optional(&path, twinup_azure::subscription::API_VERSION)
            .await
        {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(Failure::bad_input(format!(
                "subscription {subscription} was not found, or {} cannot see it; check the id (`az account list`) or ask for access",
                self.who
            ))),
            Err(e) => Err(Failure::bad_input(format!(
                "cannot read subscription {subscription}: {e}"
            ))),
        }
    }

    /// Registers the `azure.*` kinds, connected, deploying into `subscription`.
    pub fn register(&self, registry: &mut KindRegistry, subscription: Option<String>) {
        register_kinds(
            registry,
            AzureContext {
                endpoints: self.endpoints.clone(),
                http: self.http.clone(),
                token_provider: self.tokens.clone(),
                subscription_id: subscription,
                tenant_id: self.tenant_id.clone(),
                targets: Default::default(),
                signed_in: (!self.principal_id.is_empty()).then(|| DirectoryObject {
                    id: self.principal_id.clone(),
                    principal_type: self.principal_type,
                }),
                settings: KindSettings {
                    wait_ready: self.wait_ready,
                    data_plane_route: self.data_plane_route.clone(),
                    ..KindSettings::default()
                },
            },
        );
    }
}

/// The HTTP client's settings: the defaults, with the read timeout taken from
/// `TWINUP_HTTP_TIMEOUT_SECS` when set (tests use it to make a hung request time out quickly)
/// and the longest single wait a `Retry-After` can impose (default 60 s) from
/// `TWINUP_MAX_RETRY_WAIT_SECS`.
fn http_config() -> HttpConfig {
    let mut config = HttpConfig::default();
    let secs_of = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|v| *v > 0)
            .map(std::time::Duration::from_secs)
    };
    if let Some(timeout) = secs_of("TWINUP_HTTP_TIMEOUT_SECS") {
        config.read_timeout = timeout;
    }
    if let Some(cap) = secs_of("TWINUP_MAX_RETRY_WAIT_SECS") {
        config.retry.max_server_delay = cap;
        config.rate_limit.max_pause = cap;
    }
    config
}

/// Starts the in-process emulator on the port it used last time (kept in
/// `state_dir/emulator.port`), so URLs saved in the checkpoint stay valid; any free port if
/// that one is taken.
async fn start_local_emulator(state_dir: &Path) -> Result<Emulator, Failure> {
    let port_file = state_dir.join("emulator.port");
    let previous: u16 = std::fs::read_to_string(&port_file)
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0);
    let config = |port: u16| EmulatorConfig {
        bind: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        state_path: Some(state_dir.join("emulator.json")),
        time_scale: local_time_scale(),
        ..EmulatorConfig::default()
    };
    let started = match Emulator::start(config(previous)).await {
        Ok(e) => Ok(e),
        Err(_) if previous != 0 => Emulator::start(config(0)).await,
        Err(e) => Err(e),
    }
    .map_err(|e| Failure::bad_input(format!("the local Azure emulator could not start: {e}")))?;
    if let Some(port) = started
        .info()
        .url
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse::<u16>().ok())
    {
        let _ = std::fs::write(&port_file, port.to_string());
    }
    Ok(started)
}

/// Time scale of the in-process emulator: `TWINUP_LOCAL_TIME_SCALE`, else 0.01 (an instance
/// takes about half a second instead of 46).
fn local_time_scale() -> f64 {
    std::env::var("TWINUP_LOCAL_TIME_SCALE")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| *v > 0.0 && v.is_finite())
        .unwrap_or(0.01)
}
