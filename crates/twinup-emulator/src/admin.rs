//! The admin API under `/_emulator/` (the emulator's own clients only: loopback, a local `Host`,
//! the per-start admin token, JSON bodies): emulator info and state,
//! fault rules, the request log, token minting, extra principals and role definitions,
//! throttling, resource provider registration, and direct deletion of resources for drift tests.

// Error answers are whole responses built on cold paths; boxing them buys nothing here.
#![allow(clippy::result_large_err)]

use axum::http::{Method, StatusCode};
use chrono::Duration;
use serde::Deserialize;
use serde_json::json;

use crate::ctx::{Ctx, lock};
use crate::faults::FaultSpec;
use crate::graph::objects;
use crate::http::{Req, Resp, empty, json_response};
use crate::roles::RoleDefinition;
use crate::seed;
use crate::state::{DirObject, RoleAssignment, StoredSecret};
use crate::throttle::ThrottleSettings;
use crate::token;

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Resp {
    json_response(
        status,
        &json!({"error": {"code": code, "message": message.into()}}),
    )
}

fn parse<T: for<'de> Deserialize<'de>>(req: &Req) -> Result<T, Resp> {
    serde_json::from_slice(&req.body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
            format!("The admin request body is not valid: {e}"),
        )
    })
}

/// Why an admin request is refused, if it is: the admin API serves only the emulator's own
/// clients, which are on the loopback interface, address it as `127.0.0.1`, `localhost` or
/// `[::1]` (a browser led there by DNS rebinding sends its attacker's host name), carry the
/// per-start token (a cross-origin page cannot add a header without a CORS preflight, which is
/// never answered), send JSON bodies (a page's simple `text/plain` POST is refused) and, if a
/// browser adds an `Origin`, come from the emulator's own origin.
fn refusal(ctx: &Ctx, req: &Req) -> Option<&'static str> {
    if !req.peer.ip().is_loopback() {
        return Some("The emulator admin API only answers callers on the loopback interface.");
    }
    let host = req.header("host").unwrap_or_default();
    let host_name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    if !matches!(host_name, "127.0.0.1" | "localhost" | "::1") {
        return Some(
            "The emulator admin API only answers requests addressed to 127.0.0.1, localhost or [::1].",
        );
    }
    if let Some(origin) = req.header("origin")
        && origin != ctx.info.url
        && origin != ctx.info.url.replacen("127.0.0.1", "localhost", 1)
    {
        return Some("The emulator admin API does not answer requests from other web origins.");
    }
    if req.header(crate::ADMIN_TOKEN_HEADER) != Some(ctx.info.admin_token.as_str()) {
        return Some(
            "The emulator admin API needs the x-twinup-admin-token header with the admin_token the emulator printed at start.",
        );
    }
    let has_body = !req.body.is_empty();
    let json = req.header("content-type").is_some_and(|t| {
        t.trim_start()
            .to_ascii_lowercase()
            .starts_with("application/json")
    });
    if has_body && !json {
        return Some(
            "The emulator admin API only takes JSON bodies (Content-Type: application/json).",
        );
    }
    None
}

pub(crate) fn handle(ctx: &Ctx, req: &Req) -> Resp {
    if let Some(why) = refusal(ctx, req) {
        return error(StatusCode::FORBIDDEN, "AdminNotAllowed", why);
    }
    let path = req.path.trim_end_matches('/');
    let m = &req.method;
    let result = match path {
        "/_emulator/info" if m == Method::GET => {
            Ok(json_response(StatusCode::OK, &json!(ctx.info)))
        }
        "/_emulator/state" if m == Method::GET => {
            let st = ctx.world();
            Ok(json_response(StatusCode::OK, &json!(&*st)))
        }
        "/_emulator/faults" => match *m {
            Method::POST => add_fault(ctx, req),
            Method::GET => Ok(json_response(
                StatusCode::OK,
                &json!({"faults": lock(&ctx.faults).list()}),
            )),
            Method::DELETE => {
                lock(&ctx.faults).clear();
                Ok(empty(StatusCode::NO_CONTENT))
            }
            _ => Err(not_allowed(req)),
        },
        "/_emulator/requests" => match *m {
            Method::GET => Ok(json_response(StatusCode::OK, &lock(&ctx.log).to_json())),
            Method::DELETE => {
                lock(&ctx.log).clear();
                Ok(empty(StatusCode::NO_CONTENT))
            }
            _ => Err(not_allowed(req)),
        },
        "/_emulator/tokens" if m == Method::POST => mint_token(ctx, req),
        "/_emulator/principals" if m == Method::POST => add_principal(ctx, req),
        "/_emulator/role-definitions" if m == Method::POST => add_role_definition(ctx, req),
        "/_emulator/throttling" => match *m {
            Method::POST => parse::<ThrottleSettings>(req).map(|s| {
                let mut t = lock(&ctx.throttle);
                t.configure(&s);
                json_response(StatusCode::OK, &json!({"enabled": t.enabled()}))
            }),
            Method::GET => Ok(json_response(
                StatusCode::OK,
                &json!({"enabled": lock(&ctx.throttle).enabled()}),
            )),
            _ => Err(not_allowed(req)),
        },
        "/_emulator/resource" if m == Method::DELETE => delete_resource(ctx, req),
        "/_emulator/providers" if m == Method::POST => set_provider(ctx, req),
        "/_emulator/replication" if m == Method::POST => set_replication(ctx, req),
        "/_emulator/rbac-propagation" if m == Method::POST => set_rbac_propagation(ctx, req),
        _ => Err(error(
            StatusCode::NOT_FOUND,
            "UnknownAdminEndpoint",
            format!(
                "No admin endpoint '{} {}'. See the crate docs for the admin API.",
                req.method, req.path
            ),
        )),
    };
    result.unwrap_or_else(|r| r)
}

fn not_allowed(req: &Req) -> Resp {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!("{} is not supported on {}.", req.method, req.path),
    )
}

fn add_fault(ctx: &Ctx, req: &Req) -> Result<Resp, Resp> {
    let spec: FaultSpec = parse(req)?;
    let id = lock(&ctx.faults).add(spec);
    Ok(json_response(StatusCode::CREATED, &json!({"id": id})))
}

#[derive(Deserialize)]
struct TokenRequest {
    principal: String,
    #[serde(default)]
    audience: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
}

fn mint_token(ctx: &Ctx, req: &Req) -> Result<Resp, Resp> {
    let r: TokenRequest = parse(req)?;
    let audience = r
        .audience
        .unwrap_or_else(|| "https://management.azure.com".to_string());
    let lifetime = r.expires_in.unwrap_or(token::LIFETIME_SECS);
    let now = ctx.clock.now();
    let st = ctx.world();
    let claims =
        token::claims_for(&st, &r.principal, &audience, lifetime, now).ok_or_else(|| {
            error(
                StatusCode::NOT_FOUND,
                "PrincipalNotFound",
                format!(
                    "No user or service principal '{}' (object id, user principal name or app id).",
                    r.principal
                ),
            )
        })?;
    let access_token = token::mint(&ctx.signing_key, &claims);
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "token_type": "Bearer",
            "access_token": access_token,
            "expires_in": lifetime,
            "expires_on": now.timestamp() + lifetime,
        }),
    ))
}

#[derive(Deserialize)]
struct RoleRequest {
    role: String,
    #[serde(default)]
    scope: Option<String>,
}

fn default_true() -> bool {
    true
}

#[derive(Deserialize)]
struct PrincipalRequest {
    kind: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    user_principal_name: Option<String>,
    #[serde(default)]
    secret: Option<String>,
    #[serde(default)]
    roles: Vec<RoleRequest>,
    #[serde(default = "default_true")]
    replicated: bool,
    /// Microsoft Graph application permissions of a service principal (e.g. `[]` for a
    /// least-privilege CI deployer); without it directory reads are not checked.
    #[serde(default)]
    graph_permissions: Option<Vec<String>>,
}

fn add_principal(ctx: &Ctx, req: &Req) -> Result<Resp, Resp> {
    let r: PrincipalRequest = parse(req)?;
    let now = ctx.clock.now();
    let created = if r.replicated {
        now - ctx.replication_delay - Duration::seconds(1)
    } else {
        now
    };
    let mut st = ctx.world();
    let object_id = uuid::Uuid::new_v4().to_string();
    let mut out = json!({"object_id": object_id});
    let principal_type = match r.kind.as_str() {
        "user" => {
            let suffix = &object_id[..8];
            let upn = r
                .user_principal_name
                .unwrap_or_else(|| format!("user-{suffix}@{}", st.tenant.domain));
            if st.user_by_id_or_upn(&upn).is_some() {
                return Err(error(
                    StatusCode::CONFLICT,
                    "PrincipalExists",
                    format!("A user '{upn}' exists already."),
                ));
            }
            let name = r
                .display_name
                .unwrap_or_else(|| format!("Test User {suffix}"));
            st.users.insert(
                object_id.clone(),
                DirObject {
                    body: objects::user_body(&object_id, &upn, &name),
                    created_at: created,
                    secrets: Vec::new(),
                    owners: Vec::new(),
                },
            );
            out["user_principal_name"] = json!(upn);
            out["display_name"] = json!(name);
            "User"
        }
        "service_principal" => {
            let app_object_id = uuid::Uuid::new_v4().to_string();
            let app_id = uuid::Uuid::new_v4().to_string();
            let name = r
                .display_name
                .unwrap_or_else(|| format!("test-sp-{}", &app_id[..8]));
            let secret = r.secret.unwrap_or_else(seed::new_secret);
            let key_id = uuid::Uuid::new_v4().to_string();
            let end = now + Duration::days(730);
            let mut app = DirObject {
                body: objects::application_body(&app_object_id, &app_id, &name, created),
                created_at: created,
                secrets: vec![StoredSecret {
                    key_id: key_id.clone(),
                    secret: secret.clone(),
                    end,
                }],
                owners: Vec::new(),
            };
            objects::add_password_metadata(&mut app.body, &key_id, "admin", &secret, created, end);
            let sp_body =
                objects::service_principal_body(&object_id, &app.body, &st.tenant.tenant_id);
            st.applications.insert(app_object_id.clone(), app);
            st.service_principals.insert(
                object_id.clone(),
                DirObject {
                    body: sp_body,
                    created_at: created,
                    secrets: Vec::new(),
                    owners: Vec::new(),
                },
            );
            if let Some(granted) = &r.graph_permissions {
                st.graph_app_roles
                    .insert(object_id.to_lowercase(), granted.clone());
            }
            out["app_id"] = json!(app_id);
            out["application_object_id"] = json!(app_object_id);
            out["client_secret"] = json!(secret);
            out["display_name"] = json!(name);
            "ServicePrincipal"
        }
        other => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContent",
                format!("kind '{other}' is not valid; use \"user\" or \"service_principal\"."),
            ));
        }
    };
    let mut ids = Vec::new();
    for role in &r.roles {
        let def = st
            .all_role_definitions()
            .into_iter()
            .find(|d| {
                d.id.eq_ignore_ascii_case(&role.role)
                    || d.role_name.eq_ignore_ascii_case(&role.role)
            })
            .ok_or_else(|| {
                error(
                    StatusCode::BAD_REQUEST,
                    "RoleDefinitionDoesNotExist",
                    format!("Unknown role '{}'.", role.role),
                )
            })?;
        let scope = crate::arm::scope::display(
            role.scope
                .as_deref()
                .unwrap_or(&format!("/subscriptions/{}", st.tenant.subscription_id)),
        );
        let name = seed::role_assignment_name(&scope, &def.id, &object_id);
        let prefix = if scope == "/" { "" } else { scope.as_str() };
        let id = format!("{prefix}/providers/Microsoft.Authorization/roleAssignments/{name}");
        st.role_assignments.insert(
            id.to_lowercase(),
            RoleAssignment {
                id: id.clone(),
                name,
                scope: scope.clone(),
                role_definition_id: def.id.clone(),
                principal_id: object_id.clone(),
                principal_type: principal_type.to_string(),
                description: None,
                condition: None,
                condition_version: None,
                created_on: now,
                updated_on: now,
                created_by: None,
            },
        );
        ids.push(id);
    }
    out["role_assignment_ids"] = json!(ids);
    st.touch();
    Ok(json_response(StatusCode::CREATED, &out))
}

#[derive(Deserialize)]
struct ReplicationRequest {
    /// Real-world seconds (scaled by the time scale) a new application stays invisible to
    /// `POST /servicePrincipals`.
    graph_write_lag_secs: f64,
}

fn set_replication(ctx: &Ctx, req: &Req) -> Result<Resp, Resp> {
    let r: ReplicationRequest = parse(req)?;
    let lag = ctx.clock.scaled(r.graph_write_lag_secs.max(0.0));
    *lock(&ctx.graph_write_lag) = lag;
    Ok(json_response(
        StatusCode::OK,
        &json!({"graph_write_lag_ms": lag.num_milliseconds()}),
    ))
}

#[derive(Deserialize)]
struct PropagationRequest {
    /// Real-world seconds (scaled by the time scale) a new role assignment takes to reach an
    /// instance's data plane; counts for assignments made before the change too.
    delay_secs: f64,
}

fn set_rbac_propagation(ctx: &Ctx, req: &Req) -> Result<Resp, Resp> {
    let r: PropagationRequest = parse(req)?;
    let delay = ctx.clock.scaled(r.delay_secs.clamp(0.0, 1.0e9));
    *lock(&ctx.rbac_propagation_delay) = delay;
    Ok(json_response(
        StatusCode::OK,
        &json!({"rbac_propagation_delay_ms": delay.num_milliseconds()}),
    ))
}

#[derive(Deserialize)]
struct ProviderRequest {
    namespace: String,
    registered: bool,
}

/// Sets a resource provider's registration with the subscription (`registered: false` models a
/// subscription that never used the namespace).
fn set_provider(ctx: &Ctx, req: &Req) -> Result<Resp, Resp> {
    let r: ProviderRequest = parse(req)?;
    let mut st = ctx.world();
    crate::arm::providers::set(&mut st, &r.namespace, r.registered);
    Ok(json_response(
        StatusCode::OK,
        &json!({"namespace": r.namespace, "registered": r.registered}),
    ))
}

#[derive(Deserialize)]
struct RoleDefinitionRequest {
    #[serde(default)]
    id: Option<String>,
    role_name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    actions: Vec<String>,
    #[serde(default)]
    not_actions: Vec<String>,
    #[serde(default)]
    data_actions: Vec<String>,
    #[serde(default)]
    not_data_actions: Vec<String>,
}

fn add_role_definition(ctx: &Ctx, req: &Req) -> Result<Resp, Resp> {
    let r: RoleDefinitionRequest = parse(req)?;
    let id =
        r.id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
            .to_lowercase();
    if uuid::Uuid::parse_str(&id).is_err() {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "InvalidRoleDefinitionId",
            format!("'{id}' is not a GUID."),
        ));
    }
    let mut st = ctx.world();
    if st.role_definition(&id).is_some() {
        return Err(error(
            StatusCode::CONFLICT,
            "RoleDefinitionExists",
            format!("Role definition '{id}' exists already."),
        ));
    }
    st.custom_roles.push(RoleDefinition {
        id: id.clone(),
        role_name: r.role_name,
        description: r.description.unwrap_or_default(),
        built_in: false,
        actions: r.actions,
        not_actions: r.not_actions,
        data_actions: r.data_actions,
        not_data_actions: r.not_data_actions,
    });
    st.touch();
    Ok(json_response(StatusCode::CREATED, &json!({"id": id})))
}

fn delete_resource(ctx: &Ctx, req: &Req) -> Result<Resp, Resp> {
    let Some(id) = req.query_param("id").filter(|s| !s.is_empty()) else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "MissingId",
            "Pass ?id=<ARM id or Graph object id>.",
        ));
    };
    let mut st = ctx.world();
    let removed = if id.starts_with('/') {
        crate::arm::delete_now(&mut st, id)
    } else {
        let key = id.to_lowercase();
        let mut r = st.users.remove(&key).is_some();
        r |= st.service_principals.remove(&key).is_some();
        r |= st.applications.remove(&key).is_some();
        r |= st.grants.remove(id).is_some();
        if r {
            st.touch();
        }
        r
    };
    if removed {
        Ok(empty(StatusCode::NO_CONTENT))
    } else {
        Err(error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("Nothing with id '{id}' exists."),
        ))
    }
}
