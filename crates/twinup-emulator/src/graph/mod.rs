//! The Microsoft Graph v1.0 front end: bearer-token check (Graph audience), dispatch to the
//! entity handlers, Graph's error shape (`error.code`, `error.message`, `error.innerError`) and
//! the `request-id` / `client-request-id` headers.

mod app_sign_in;
mod applications;
mod directory;
mod grants;
pub(crate) mod objects;
mod permissions;
mod query;
pub(crate) mod routes;
mod service_principals;

use axum::http::{Method, StatusCode};
use chrono::Utc;
use serde_json::json;

use crate::auth::{self, Caller, Service};
use crate::ctx::Ctx;
use crate::errors::ApiError;
use crate::http::{Req, Resp, json_response, set_header};
use routes::GraphRoute;

/// What a Graph handler needs about the current call.
pub(crate) struct GCall<'a> {
    pub ctx: &'a Ctx,
    pub req: &'a Req,
    pub caller: &'a Caller,
}

impl GCall<'_> {
    /// `https://host/v1.0/$metadata#{what}`.
    pub fn context(&self, what: &str) -> String {
        format!("{}/v1.0/$metadata#{what}", self.req.base_url)
    }
}

pub(crate) fn error_response(e: &ApiError) -> Resp {
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut resp = json_response(
        e.status,
        &json!({"error": {
            "code": e.code,
            "message": e.message,
            "innerError": {
                "date": Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
                "request-id": request_id,
                "client-request-id": request_id,
            }
        }}),
    );
    for (k, v) in &e.headers {
        set_header(&mut resp, k, v);
    }
    resp
}

/// A Graph-like error code for a bare status (used by injected faults).
pub(crate) fn default_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "Request_BadRequest",
        401 => "InvalidAuthenticationToken",
        403 => "Authorization_RequestDenied",
        404 => "Request_ResourceNotFound",
        409 => "Request_MultipleObjectsWithSameKeyValue",
        429 => "TooManyRequests",
        503 => "serviceNotAvailable",
        504 => "UnknownError",
        _ => "generalException",
    }
}

pub(crate) fn not_found(id: &str) -> ApiError {
    ApiError::not_found(
        "Request_ResourceNotFound",
        format!(
            "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}

pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("Request_BadRequest", message)
}

fn unsupported(req: &Req) -> ApiError {
    ApiError::bad_request(
        "BadRequest",
        format!(
            "Resource not found for the segment '{}' or the method {} is not supported by the emulator.",
            req.path, req.method
        ),
    )
}

pub(crate) fn handle(ctx: &Ctx, req: &Req, route: &GraphRoute) -> Resp {
    let result = (|| -> Result<Resp, ApiError> {
        let caller = auth::authenticate(ctx, req, Service::Graph)?;
        let call = GCall {
            ctx,
            req,
            caller: &caller,
        };
        permissions::authorize(&call, route)?;
        dispatch(&call, route)
    })();
    let mut resp = result.unwrap_or_else(|e| error_response(&e));
    let request_id = uuid::Uuid::new_v4().to_string();
    set_header(&mut resp, "request-id", &request_id);
    let client = req
        .header("client-request-id")
        .map(str::to_string)
        .unwrap_or(request_id);
    set_header(&mut resp, "client-request-id", &client);
    resp
}

fn dispatch(call: &GCall, route: &GraphRoute) -> Result<Resp, ApiError> {
    use GraphRoute::*;
    let m = &call.req.method;
    match route {
        Applications if m == Method::POST => applications::create(call),
        Applications if m == Method::GET => applications::list(call),
        Application(key) => match *m {
            Method::GET => applications::get(call, key),
            Method::PATCH => applications::patch(call, key),
            Method::DELETE => applications::delete(call, key),
            _ => Err(unsupported(call.req)),
        },
        AppAddPassword(key) if m == Method::POST => applications::add_password(call, key),
        AppRemovePassword(key) if m == Method::POST => applications::remove_password(call, key),
        AppOwners(key) if m == Method::GET => applications::owners(call, key),
        AppOwnerRef(key, None) if m == Method::POST => applications::add_owner(call, key),
        AppOwnerRef(key, Some(owner)) if m == Method::DELETE => {
            applications::remove_owner(call, key, owner)
        }
        ServicePrincipals if m == Method::POST => service_principals::create(call),
        ServicePrincipals if m == Method::GET => service_principals::list(call),
        ServicePrincipal(key) => match *m {
            Method::GET => service_principals::get(call, key),
            Method::PATCH => service_principals::patch(call, key),
            Method::DELETE => service_principals::delete(call, key),
            _ => Err(unsupported(call.req)),
        },
        Users if m == Method::GET => directory::list_users(call),
        User(key) if m == Method::GET => directory::get_user(call, key),
        Me if m == Method::GET => directory::me(call),
        DirectoryObject(id) if m == Method::GET => directory::get_object(call, id),
        DirectoryObjectsGetByIds if m == Method::POST => directory::get_by_ids(call),
        Organization if m == Method::GET => directory::organization(call),
        Grants if m == Method::POST => grants::create(call),
        Grants if m == Method::GET => grants::list(call),
        Grant(id) => match *m {
            Method::GET => grants::get(call, id),
            Method::PATCH => grants::patch(call, id),
            Method::DELETE => grants::delete(call, id),
            _ => Err(unsupported(call.req)),
        },
        _ => Err(unsupported(call.req)),
    }
}
