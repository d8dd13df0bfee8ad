//! Graph `oauth2PermissionGrants` (delegated permission consent): create (201), list with
//! `$filter` (e.g. `clientId eq '..'`), read, update `scope` (204) and delete (204).

use axum::http::StatusCode;
use base64::Engine;
use serde_json::{Map, Value, json};

use crate::errors::ApiError;
use crate::http::{Resp, empty, json_response};
use crate::state::str_field;

use super::{GCall, bad_request, not_found, query};

fn body_object(call: &GCall) -> Result<Map<String, Value>, ApiError> {
    match call.req.json() {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(bad_request("The request body must be a JSON object.")),
    }
}

pub(crate) fn create(call: &GCall) -> Result<Resp, ApiError> {
    let body = body_object(call)?;
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let (Some(client), Some(resource), Some(consent)) =
        (s("clientId"), s("resourceId"), s("consentType"))
    else {
        return Err(bad_request(
            "Properties 'clientId', 'consentType' and 'resourceId' are required.",
        ));
    };
    let principal = s("principalId");
    match consent.as_str() {
        "AllPrincipals" if principal.is_some() => {
            return Err(bad_request(
                "principalId must be null when consentType is AllPrincipals.",
            ));
        }
        "Principal" if principal.is_none() => {
            return Err(bad_request(
                "principalId is required when consentType is Principal.",
            ));
        }
        "AllPrincipals" | "Principal" => {}
        other => {
            return Err(bad_request(format!(
                "Invalid consentType '{other}'; use AllPrincipals or Principal."
            )));
        }
    }
    let mut st = call.ctx.world();
    for sp in [&client, &resource] {
        if !st.service_principals.contains_key(&sp.to_lowercase()) {
            return Err(not_found(sp));
        }
    }
    if st.grants.values().any(|g| {
        str_field(g, "clientId").eq_ignore_ascii_case(&client)
            && str_field(g, "resourceId").eq_ignore_ascii_case(&resource)
            && str_field(g, "consentType") == consent
            && g.get("principalId")
                .and_then(Value::as_str)
                .map(str::to_lowercase)
                == principal.as_ref().map(|p| p.to_lowercase())
    }) {
        return Err(ApiError::conflict(
            "Request_MultipleObjectsWithSameKeyValue",
            "Permission entry already exists.",
        ));
    }
    let mut raw = uuid::Uuid::new_v4().as_bytes().to_vec();
    raw.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&raw);
    let grant = json!({
        "clientId": client,
        "consentType": consent,
        "id": id,
        "principalId": principal,
        "resourceId": resource,
        "scope": s("scope").unwrap_or_default(),
    });
    let Value::Object(grant) = grant else {
        return Err(bad_request("internal error building the grant"));
    };
    st.grants.insert(id, grant.clone());
    st.touch();
    let mut out = Map::new();
    out.insert(
        "@odata.context".into(),
        json!(call.context("oauth2PermissionGrants/$entity")),
    );
    out.extend(grant);
    Ok(json_response(StatusCode::CREATED, &Value::Object(out)))
}

pub(crate) fn list(call: &GCall) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    let items: Vec<&Map<String, Value>> = st.grants.values().collect();
    Ok(json_response(
        StatusCode::OK,
        &query::list(call, "oauth2PermissionGrants", items)?,
    ))
}

pub(crate) fn get(call: &GCall, id: &str) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    let g = st.grants.get(id).ok_or_else(|| not_found(id))?;
    let mut out = Map::new();
    out.insert(
        "@odata.context".into(),
        json!(call.context("oauth2PermissionGrants/$entity")),
    );
    out.extend(g.clone());
    Ok(json_response(StatusCode::OK, &Value::Object(out)))
}

pub(crate) fn patch(call: &GCall, id: &str) -> Result<Resp, ApiError> {
    let body = body_object(call)?;
    let mut st = call.ctx.world();
    let g = st.grants.get_mut(id).ok_or_else(|| not_found(id))?;
    match body.get("scope") {
        Some(Value::String(s)) => {
            g.insert("scope".into(), json!(s));
        }
        _ => {
            return Err(bad_request(
                "Only 'scope' can be updated, and it must be a string.",
            ));
        }
    }
    st.touch();
    Ok(empty(StatusCode::NO_CONTENT))
}

pub(crate) fn delete(call: &GCall, id: &str) -> Result<Resp, ApiError> {
    let mut st = call.ctx.world();
    st.grants.remove(id).ok_or_else(|| not_found(id))?;
    st.touch();
    Ok(empty(StatusCode::NO_CONTENT))
}
