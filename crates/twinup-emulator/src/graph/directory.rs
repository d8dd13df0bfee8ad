//! Graph users (`/users`, `/users/{id or userPrincipalName}`, `/me`), `directoryObjects/{id}`,
//! `directoryObjects/getByIds` and `organization`.

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

/// Largest `ids` list `getByIds` accepts (Graph docs, directoryobject-getbyids: "up to 1000").
const MAX_IDS: usize = 1000;

/// `POST /directoryObjects/getByIds` `{"ids": [...], "types"?: [...]}`: the objects among `ids`
/// that exist (unknown ids are left out, not an error), each with its `@odata.type`, filtered by
/// `types` (entity names such as `user`, `servicePrincipal`, compared case-insensitively), as
/// the Graph v1.0 reference page "directoryObject: getByIds" describes. The az CLI calls it to
/// name principals in `az role assignment list` (`_graph_client.py` `directory_object_get_by_ids`).
pub(crate) fn get_by_ids(call: &GCall) -> Result<Resp, ApiError> {
    let body = call
        .req
        .json()
        .map_err(|e| super::bad_request(format!("The request body is not valid JSON: {e}.")))?;
    let ids: Vec<String> = body
        .get("ids")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            super::bad_request("The request body must contain 'ids', an array of object ids.")
        })?
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    if ids.len() > MAX_IDS {
        return Err(super::bad_request(format!(
            "Too many ids: {} were sent; getByIds accepts up to {MAX_IDS}.",
            ids.len()
        )));
    }
    let types: Option<Vec<String>> = body.get("types").and_then(Value::as_array).map(|t| {
        t.iter()
            .filter_map(Value::as_str)
            .map(str::to_lowercase)
            .collect()
    });
    let st = call.ctx.world();
    let value: Vec<Value> = ids
        .iter()
        .filter_map(|id| typed_object(&st, id))
        .filter(|obj| {
            let kind = obj["@odata.type"]
                .as_str()
                .unwrap_or("")
                .trim_start_matches("#microsoft.graph.")
                .to_lowercase();
            types.as_ref().is_none_or(|t| t.contains(&kind))
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({"@odata.context": call.context("directoryObjects"), "value": value}),
    ))
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
