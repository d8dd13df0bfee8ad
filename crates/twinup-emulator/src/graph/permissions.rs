//! Microsoft Graph application permissions of app-only callers: a service principal seeded with
//! an explicit permission list (`graph_permissions` in `POST /_emulator/principals`, a
//! least-privilege deployer) gets 403 `Authorization_RequestDenied` on the directory reads its
//! list does not allow. Principals without a list (the seeded admin and earlier principals) keep
//! the broad rights a deployer with `Directory.Read.All` and `Application.ReadWrite.All` has.
//! Delegated (user) callers are not checked.
//!
//! Sources: Graph v1.0 docs, permission tables of "Get user" (user-get: application
//! `User.Read.All`, higher `User.ReadWrite.All`, `Directory.Read.All`,
//! `Directory.ReadWrite.All`), "List users", "Get directoryObject" (directoryobject-get:
//! application `Directory.Read.All`) and "Get servicePrincipal" (serviceprincipal-get:
//! application `Application.Read.All`, higher `Application.ReadWrite.All`,
//! `Application.ReadWrite.OwnedBy`, `Directory.Read.All`); the 403 body
//! `Authorization_RequestDenied` / "Insufficient privileges to complete the operation." from
//! the Graph error-responses page. Adding an app owner (`POST /applications/{id}/owners/$ref`)
//! needs `Application.ReadWrite.All` app-only: "Application.ReadWrite.OwnedBy isn't sufficient
//! to add another owner" (Graph v1.0 "Add owner" of application).

use axum::http::{Method, StatusCode};

use crate::errors::ApiError;

use super::GCall;
use super::routes::GraphRoute;

/// The application permissions of which one allows `route` with `method`; `None` when the
/// emulator does not check the call.
fn allowed_by(route: &GraphRoute, method: &Method) -> Option<&'static [&'static str]> {
    use GraphRoute::*;
    if *method == Method::POST && matches!(route, AppOwnerRef(_, None)) {
        return Some(&["Application.ReadWrite.All", "Directory.ReadWrite.All"]);
    }
    if *method != Method::GET {
        return None;
    }
    match route {
        Users | User(_) => Some(&[
            "User.Read.All",
            "User.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ]),
        DirectoryObject(_) => Some(&["Directory.Read.All", "Directory.ReadWrite.All"]),
        ServicePrincipals | ServicePrincipal(_) => Some(&[
            "Application.Read.All",
            "Application.ReadWrite.All",
            "Application.ReadWrite.OwnedBy",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ]),
        _ => None,
    }
}

/// 403 `Authorization_RequestDenied` when an app-only caller with a permission list may not
/// make this call.
pub(crate) fn authorize(call: &GCall, route: &GraphRoute) -> Result<(), ApiError> {
    if call.caller.is_user() {
        return Ok(());
    }
    let Some(needed) = allowed_by(route, &call.req.method) else {
        return Ok(());
    };
    let st = call.ctx.world();
    let Some(granted) = st
        .graph_app_roles
        .get(&call.caller.object_id.to_lowercase())
    else {
        return Ok(());
    };
    if needed
        .iter()
        .any(|n| granted.iter().any(|g| g.eq_ignore_ascii_case(n)))
    {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    ))
}
