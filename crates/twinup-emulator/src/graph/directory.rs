//! Graph users (`/users`, `/users/{id or userPrincipalName}`, `/me`), `directoryObjects/{id}`
//! and `organization`.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::errors::ApiError;
use crate::http::{Resp, json_response};
use crate::state::State;

use super::{GCall, not_found, query};

/// A user, service principal or application with its `@odata.type`.
pub(crate) fn typed_object(st: &State, id: &str) -> Option<Value> {
    let key = id.to_lowercase();
    let (obj, kind) = if let Some(u) = st.users.get(&key) {
        (u, "#microsoft.graph.user")
    } else if let Some(s) = st.service_principals.get(&key) {
        (s, "#microsoft.graph.servicePrincipal")
    } else if let Some(a) = st.applications.get(&key) {
        (a, "#microsoft.graph.application")
    } else {
        return None;
    };
    let mut out = Map::new();
    out.insert("@odata.type".into(), json!(kind));
    out.extend(obj.body.clone());
    Some(Value::Object(out))
}

fn user_response(call: &GCall, body: &Map<String, Value>) -> Resp {
    let mut out = Map::new();
    out.insert(
        "@odata.context".into(),
        json!(call.context("users/$entity")),
    );
    out.extend(query::select(call, body));
    json_response(StatusCode::OK, &Value::Object(out))
}

pub(crate) fn list_users(call: &GCall) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    let items: Vec<&Map<String, Value>> = st.users.values().map(|u| &u.body).collect();
    Ok(json_response(
        StatusCode::OK,
        &query::list(call, "users", items)?,
    ))
}

pub(crate) fn get_user(call: &GCall, key: &str) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    let user = st.user_by_id_or_upn(key).ok_or_else(|| not_found(key))?;
    Ok(user_response(call, &user.body))
}

pub(crate) fn me(call: &GCall) -> Result<Resp, ApiError> {
    if !call.caller.is_user() {
        return Err(ApiError::bad_request(
            "BadRequest",
            "/me request is only valid with delegated authentication flow.",
        ));
    }
    let st = call.ctx.world();
    let user = st
        .user_by_id_or_upn(&call.caller.object_id)
        .ok_or_else(|| not_found(&call.caller.object_id))?;
    Ok(user_response(call, &user.body))
}

pub(crate) fn get_object(call: &GCall, id: &str) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    let mut obj = typed_object(&st, id).ok_or_else(|| not_found(id))?;
    obj["@odata.context"] = json!(call.context("directoryObjects/$entity"));
    Ok(json_response(StatusCode::OK, &obj))
}

pub(crate) fn organization(call: &GCall) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "@odata.context": call.context("organization"),
            "value": [{
                "id": st.tenant.tenant_id,
                "displayName": "Twinup Emulator",
                "tenantType": "AAD",
                "verifiedDomains": [{
                    "capabilities": "None", "isDefault": true, "isInitial": true,
                    "name": st.tenant.domain, "type": "Managed"
                }]
            }]
        }),
    ))
}
