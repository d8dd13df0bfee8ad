//! The ARM front end: authentication, subscription throttling, api-version checks, the common
//! response headers and error shape, and dispatch to the resource handlers.

pub(crate) mod api_version;
mod digital_twins;
mod dt_endpoints;
mod generic;
mod managed_identities;
pub(crate) mod operations;
pub(crate) mod providers;
pub(crate) mod rbac;
mod resource_groups;
mod role_assignments;
mod role_definitions;
pub(crate) mod routes;
pub(crate) mod scope;
mod subscriptions;
mod tags;

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::auth::{self, Caller, Service};
use crate::ctx::{Ctx, lock};
use crate::errors::ApiError;
use crate::http::{Req, Resp, json_response, set_header};
use crate::throttle::{Class, Verdict};
use routes::ArmRoute;

/// Everything a handler needs about the current call.
pub(crate) struct Call<'a> {
    pub ctx: &'a Ctx,
    pub req: &'a Req,
    pub caller: &'a Caller,
    pub api_version: String,
}

/// The ARM error body `{"error":{"code","message"}}` with the error's extra headers.
pub(crate) fn error_response(e: &ApiError) -> Resp {
    let mut resp = json_response(
        e.status,
        &json!({"error": {"code": e.code, "message": e.message}}),
    );
    for (k, v) in &e.headers {
        set_header(&mut resp, k, v);
    }
    resp
}

/// A plausible ARM error code for a bare status (used by injected faults).
pub(crate) fn default_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "BadRequest",
        401 => "InvalidAuthenticationToken",
        403 => "AuthorizationFailed",
        404 => "NotFound",
        409 => "Conflict",
        412 => "PreconditionFailed",
        429 => "SubscriptionRequestsThrottled",
        500 => "InternalServerError",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        _ => "UnexpectedStatus",
    }
}

/// Adds `x-ms-request-id` and `x-ms-correlation-request-id` (echoing the client's if sent).
pub(crate) fn add_request_ids(resp: &mut Resp, req: &Req) {
    let request_id = uuid::Uuid::new_v4().to_string();
    let correlation = req
        .header("x-ms-correlation-request-id")
        .map(str::to_string)
        .unwrap_or_else(|| request_id.clone());
    set_header(resp, "x-ms-request-id", &request_id);
    set_header(resp, "x-ms-correlation-request-id", &correlation);
    set_header(
        resp,
        "x-ms-routing-request-id",
        &format!("LOCAL:{request_id}"),
    );
}

fn class_of(method: &Method) -> Class {
    match *method {
        Method::GET | Method::HEAD => Class::Read,
        Method::DELETE => Class::Delete,
        _ => Class::Write,
    }
}

pub(crate) fn handle(ctx: &Ctx, req: &Req, route: &ArmRoute) -> Resp {
    let class = class_of(&req.method);
    let mut remaining: Option<u64> = None;
    let result = (|| -> Result<Resp, ApiError> {
        let caller = auth::authenticate(ctx, req, Service::Arm)?;
        let throttle_key = route.subscription().unwrap_or("tenant").to_string();
        match lock(&ctx.throttle).take(&throttle_key, class) {
            Verdict::Allowed { remaining: r } => remaining = Some(r),
            Verdict::Throttled { retry_after_secs } => {
                remaining = Some(0);
                return Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "SubscriptionRequestsThrottled",
                    format!(
                        "Number of '{}' requests for subscription '{throttle_key}' actor '{}' exceeded. Please try again after '{retry_after_secs}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information.",
                        class.name(),
                        caller.object_id
                    ),
                )
                .with_header("Retry-After", retry_after_secs.to_string()));
            }
        }
        let api_version = api_version::check(route, req)?;
        if let (Some(sub), Some(ns)) = (route.subscription(), route.namespace()) {
            providers::require_registered(&ctx.world(), sub, &ns, ctx.clock.now())?;
        }
        let call = Call {
            ctx,
            req,
            caller: &caller,
            api_version,
        };
        dispatch(&call, route)
    })();
    let mut resp = result.unwrap_or_else(|e| error_response(&e));
    add_request_ids(&mut resp, req);
    if let Some(r) = remaining {
        set_header(&mut resp, class.header(), &r.to_string());
    }
    resp
}

pub(crate) fn method_not_allowed(req: &Req) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!(
            "The HTTP method '{}' is not supported for '{}'.",
            req.method, req.path
        ),
    )
}

fn dispatch(call: &Call, route: &ArmRoute) -> Result<Resp, ApiError> {
    use ArmRoute::*;
    let m = &call.req.method;
    match route {
        Subscriptions if m == Method::GET => subscriptions::list(call),
        Subscription { sub } if m == Method::GET => subscriptions::get(call, sub),
        Provider { sub, ns } if m == Method::GET => providers::get(call, sub, ns),
        ProviderRegister { sub, ns } if m == Method::POST => providers::register(call, sub, ns),
        ResourceGroups { sub } if m == Method::GET => resource_groups::list(call, sub),
        ResourceGroup { sub, rg } => match *m {
            Method::PUT => resource_groups::put(call, sub, rg),
            Method::GET => resource_groups::get(call, sub, rg),
            Method::HEAD => resource_groups::head(call, sub, rg),
            Method::DELETE => resource_groups::delete(call, sub, rg),
            Method::PATCH => resource_groups::patch(call, sub, rg),
            _ => Err(method_not_allowed(call.req)),
        },
        ResourceGroupResources { sub, rg } if m == Method::GET => {
            resource_groups::resources(call, sub, rg)
        }
        ResourcesOperation { sub, op } if m == Method::GET => {
            operations::resource_group_result(call, sub, op)
        }
        DtCheckName { sub, loc } if m == Method::POST => digital_twins::check_name(call, sub, loc),
        DtOperationStatus { sub, loc, op } if m == Method::GET => {
            operations::dt_status(call, sub, loc, op)
        }
        DtOperationResult { sub, loc, op } if m == Method::GET => {
            operations::dt_result(call, sub, loc, op)
        }
        DtListSubscription { sub } if m == Method::GET => digital_twins::list(call, sub, None),
        DtListResourceGroup { sub, rg } if m == Method::GET => {
            digital_twins::list(call, sub, Some(rg))
        }
        DtInstance { sub, rg, name } => match *m {
            Method::PUT => digital_twins::put(call, sub, rg, name),
            Method::GET => digital_twins::get(call, sub, rg, name),
            Method::PATCH => digital_twins::patch(call, sub, rg, name),
            Method::DELETE => digital_twins::delete(call, sub, rg, name),
            _ => Err(method_not_allowed(call.req)),
        },
        DtEndpoints {
            sub,
            rg,
            name,
            collection,
            endpoint,
        } => dt_endpoints::handle(call, sub, rg, name, collection, endpoint.as_deref()),
        RoleAssignments { scope } if m == Method::GET => role_assignments::list(call, scope),
        RoleAssignment { scope, name } => match *m {
            Method::PUT => role_assignments::put(call, scope, name),
            Method::GET => role_assignments::get(call, scope, name),
            Method::DELETE => role_assignments::delete(call, scope, name),
            _ => Err(method_not_allowed(call.req)),
        },
        RoleDefinitions { scope } if m == Method::GET => role_definitions::list(call, scope),
        RoleDefinition { scope, id } if m == Method::GET => role_definitions::get(call, scope, id),
        Permissions { scope } if m == Method::GET => role_definitions::permissions(call, scope),
        Tags { scope } => tags::handle(call, scope),
        Generic {
            sub,
            rg,
            id,
            type_name,
            name,
        } => match *m {
            Method::PUT => generic::put(call, sub, rg.as_deref(), id, type_name, name),
            Method::GET => generic::get(call, sub, rg.as_deref(), id, type_name, name),
            Method::DELETE => generic::delete(call, sub, rg.as_deref(), id, type_name),
            _ => Err(method_not_allowed(call.req)),
        },
        _ => Err(method_not_allowed(call.req)),
    }
}

/// Deletes an ARM resource (resource group, instance, generic resource or role assignment)
/// immediately, as the admin API's drift helper. Returns whether anything was removed.
pub(crate) fn delete_now(st: &mut crate::state::State, id: &str) -> bool {
    let key = scope::key(id);
    let prefix = format!("{key}/");
    let mut removed = false;
    if st.resource_groups.remove(&key).is_some() {
        removed = true;
    }
    if let Some(dt) = st.digital_twins.remove(&key) {
        digital_twins::drop_identity(st, &dt);
        removed = true;
    }
    if st.generic.remove(&key).is_some() {
        removed = true;
    }
    if st.role_assignments.remove(&key).is_some() {
        removed = true;
    }
    if removed {
        let doomed: Vec<String> = st
            .digital_twins
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .cloned()
            .collect();
        for k in doomed {
            if let Some(dt) = st.digital_twins.remove(&k) {
                digital_twins::drop_identity(st, &dt);
            }
        }
        st.generic.retain(|k, _| !k.starts_with(&prefix));
        st.role_assignments.retain(|_, a| {
            let k = scope::key(&a.scope);
            k != key && !k.starts_with(&prefix)
        });
        st.touch();
    }
    removed
}
