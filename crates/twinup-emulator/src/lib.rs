//! # twinup-emulator — a local Azure for twinup
//!
//! One HTTP server (one port, optionally HTTPS) that speaks the REST contracts twinup uses, as
//! written down in `shared/azure-api/` (Azure REST API specs, the ARM RPC and the Graph docs):
//!
//! * **Entra ID discovery** (`/{tenant}/v2.0/.well-known/openid-configuration`, instance
//!   discovery, the key set) so MSAL-based clients sign in, and **ARM's cloud metadata**
//!   `/metadata/endpoints` so `az cloud register` and custom-cloud SDKs find the endpoints.
//! * **Entra ID token endpoint** `POST /{tenant}/oauth2/v2.0/token` (client credentials; secret in
//!   the body or HTTP Basic). Tokens are JWT-shaped (`header.claims.signature`, HMAC-SHA256 with a
//!   key kept in the state file) with `oid`, `tid`, `aud`, `exp`, `appid` (and `upn` for users).
//!   Errors use Entra's body (`error`, `error_description` with an `AADSTS` code, `error_codes`, ...).
//! * **ARM** (`api-version` required and checked, paths case-insensitive, `x-ms-request-id`,
//!   `x-ms-correlation-request-id`, `x-ms-ratelimit-remaining-subscription-*` headers, ARM error
//!   shape): subscriptions, resource groups (delete is a long-running operation),
//!   `Microsoft.DigitalTwins/digitalTwinsInstances` at `2023-01-31` with the full LRO protocol
//!   (`Azure-AsyncOperation`, `Location`, `Retry-After` and `retry-after-ms`), name checks,
//!   role assignments at `2022-04-01` on any scope with RBAC enforcement (403 `AuthorizationFailed`),
//!   409 `RoleAssignmentExists`, 400 `PrincipalNotFound` during directory replication, built-in role
//!   definitions and `permissions`; any other provider resource is stored generically.
//! * **Microsoft Graph v1.0**: applications (incl. `uniqueName` upsert, `addPassword`, owners),
//!   service principals (incl. `appId` upsert and the 409 on duplicates), users, `/me`,
//!   oauth2PermissionGrants, directoryObjects and organization, with Graph's error shape.
//! * **Admin API** under `/_emulator/` (loopback, a local `Host`, the per-start `admin_token` in
//!   the `x-twinup-admin-token` header, JSON bodies): fault injection,
//!   request log, principals, token minting, throttling, direct deletion, state dump.
//!
//! ## Admin API (JSON, snake_case)
//! `GET /_emulator/info`, `GET /_emulator/state`; `POST /_emulator/faults`
//! `{"method"?, "path_contains"?, "count"? (default 1, 0 = forever), "skip"?, "kind": {"status": N,
//! "retry_after"?, "code"?, "message"?} | "reset" | "hang" | "lro_failed" | {"lro_failed": {"code"?,
//! "message"?, "status"?}}}` → 201 `{"id"}`, `GET`/`DELETE /_emulator/faults`; `GET`/`DELETE
//! /_emulator/requests` (`{"requests": [{seq, timestamp, method, route, path, query, status, outcome,
//! fault}], "counts": {"METHOD route": n}, "total"}`); `POST /_emulator/tokens` `{"principal",
//! "audience"?, "expires_in"?}`; `POST /_emulator/principals` `{"kind": "user"|"service_principal",
//! "display_name"?, "user_principal_name"?, "secret"?, "roles": [{"role", "scope"?}], "replicated"?}`;
//! `POST /_emulator/role-definitions`; `POST /_emulator/throttling` `{"enabled", "read_capacity"?, ...}`;
//! `DELETE /_emulator/resource?id=<ARM id or Graph object id>`.
//!
//! ## How faithful
//! Status codes, headers, body shapes, error codes and ids follow the contract documents and the
//! official examples (for instance instance ids use `/resourcegroups/` as the Digital Twins examples
//! do, while resource-group ids use `/resourceGroups/`). Time is simulated: a real-world latency
//! model (instance create 46 s, instance delete 30 s, resource group delete 20 s, directory
//! replication 10 s) is multiplied by [`EmulatorConfig::time_scale`]. Operations complete lazily
//! when anything reads the state, so a restarted emulator finishes operations started before.
//!
//! ## What is not emulated
//! No Azure Digital Twins data plane; no other OAuth grants (device code, auth code, refresh
//! tokens: user tokens come from `POST /_emulator/tokens`); tokens are HMAC-signed, not RS256,
//! so the published key set is empty; Graph permissions (app roles) are not enforced, only the token
//! audience; no groups, no deny assignments, no management groups, one tenant and one
//! subscription; no paging beyond `$top`; Graph PATCH replaces top-level properties wholesale.
//!
//! ## State
//! With [`EmulatorConfig::state_path`] the world is kept in a JSON file (mode 0600, written
//! atomically after every change and before the answer is sent), so a restarted emulator sees
//! earlier resources, ids and secrets. Without it the state lives in memory only.

mod admin;
mod arm;
mod auth;
mod clock;
mod ctx;
mod dataplane;
mod errors;
mod faults;
mod graph;
mod http;
mod metadata;
mod oidc;
mod regions;
mod reqlog;
mod roles;
mod router;
mod seed;
mod server;
mod state;
mod store;
mod throttle;
mod tls;
mod token;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use errors::EmulatorError;

/// How to run an emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Where to listen (default `127.0.0.1:0`, a free port).
    pub bind: SocketAddr,
    /// The state file; `None` keeps state in memory only.
    pub state_path: Option<PathBuf>,
    /// Emulator seconds per real-world Azure second (default 0.01: an instance takes 0.46 s).
    pub time_scale: f64,
    /// Serve HTTPS with a generated CA (see [`EmulatorInfo::ca_cert`]).
    pub tls: bool,
    /// Real-world directory replication delay (default 10 s), multiplied by `time_scale`.
    pub replication_delay: Duration,
    /// Real-world delay (default 5 s), multiplied by `time_scale`, before a new role
    /// assignment takes effect on an instance's data plane (RBAC propagation).
    pub rbac_propagation_delay: Duration,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            state_path: None,
            time_scale: 0.01,
            tls: false,
            replication_delay: Duration::from_secs(10),
            rbac_propagation_delay: Duration::from_secs(5),
        }
    }
}

/// What a client needs to talk to a running emulator.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EmulatorInfo {
    /// Base URL for the token endpoint, ARM and Graph, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    pub tenant_id: String,
    pub subscription_id: String,
    /// Client (application) id of the admin service principal (Owner on the subscription).
    pub client_id: String,
    pub client_secret: String,
    /// The admin user (Owner on the subscription); mint its tokens with `POST /_emulator/tokens`.
    pub user_principal_name: String,
    pub user_object_id: String,
    /// PEM file of the CA to trust when `tls` is on.
    pub ca_cert: Option<PathBuf>,
    /// Made anew at every start: the admin API answers only requests that carry it in the
    /// [`ADMIN_TOKEN_HEADER`] header, so a web page cannot drive a running emulator.
    #[serde(default)]
    pub admin_token: String,
}

/// The header that carries [`EmulatorInfo::admin_token`] on every admin API request.
pub const ADMIN_TOKEN_HEADER: &str = "x-twinup-admin-token";

/// A running emulator. Dropping it stops the server; [`Emulator::shutdown`] also waits for it.
pub struct Emulator {
    info: EmulatorInfo,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
    _tls_dir: Option<tempfile::TempDir>,
}

impl Emulator {
    /// Loads or seeds the state, binds the socket and starts serving.
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
        if !config.time_scale.is_finite() || config.time_scale <= 0.0 {
            return Err(EmulatorError::Config(format!(
                "time_scale must be a positive number, got {}",
                config.time_scale
            )));
        }
        let clock = clock::Clock::new(config.time_scale);
        let store = store::Store::new(config.state_path.clone());
        let mut state = match store.load()? {
            Some(s) => s,
            None => seed::new_state(clock.now()),
        };
        state.version = 1;

        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .map_err(|source| EmulatorError::Bind {
                addr: config.bind,
                source,
            })?;
        let local = listener.local_addr()?;
        let host = match local.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };

        let mut tls_dir = None;
        let tls = if config.tls {
            let dir = match &config.state_path {
                Some(p) => {
                    let name = p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| "state".into());
                    p.with_file_name(format!("{name}.tls"))
                }
                None => {
                    let t = tempfile::tempdir()?;
                    let path = t.path().to_path_buf();
                    tls_dir = Some(t);
                    path
                }
            };
            Some(tls::setup(&dir)?)
        } else {
            None
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{}", SocketAddr::new(host, local.port()));

        let info = EmulatorInfo {
            url,
            tenant_id: state.tenant.tenant_id.clone(),
            subscription_id: state.tenant.subscription_id.clone(),
            client_id: state.tenant.admin_app_id.clone(),
            client_secret: state
                .applications
                .get(&state.tenant.admin_app_object_id)
                .and_then(|a| a.secrets.first())
                .map(|s| s.secret.clone())
                .unwrap_or_default(),
            user_principal_name: seed::ADMIN_UPN.to_string(),
            user_object_id: state.tenant.admin_user_id.clone(),
            ca_cert: tls.as_ref().map(|t| t.ca_cert.clone()),
            admin_token: uuid::Uuid::new_v4().simple().to_string(),
        };
        let replication = clock.scaled(config.replication_delay.as_secs_f64());
        let propagation = clock.scaled(config.rbac_propagation_delay.as_secs_f64());
        let ctx = Arc::new(ctx::Ctx::new(
            state,
            store,
            clock,
            replication,
            propagation,
            info.clone(),
        ));
        ctx.persist().await?;

        let cancel = CancellationToken::new();
        let task = tokio::spawn(server::serve(
            listener,
            tls.map(|t| t.acceptor),
            ctx,
            cancel.clone(),
        ));
        tracing::info!(url = %info.url, "twinup emulator listening");
        Ok(Emulator {
            info,
            cancel,
            task: Some(task),
            _tls_dir: tls_dir,
        })
    }

    /// Where and as whom to reach this emulator.
    pub fn info(&self) -> &EmulatorInfo {
        &self.info
    }

    /// Stops accepting, closes open connections (including hung ones) and waits for the server.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Starts an emulator, prints its [`EmulatorInfo`] as one JSON line on stdout, and serves until Ctrl-C.
pub async fn run_until_ctrl_c(config: EmulatorConfig) -> Result<(), EmulatorError> {
    use std::io::Write;
    let emulator = Emulator::start(config).await?;
    let line = serde_json::to_string(emulator.info())
        .map_err(|e| EmulatorError::Config(format!("cannot print emulator info: {e}")))?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    tokio::signal::ctrl_c().await?;
    emulator.shutdown().await;
    Ok(())
}
