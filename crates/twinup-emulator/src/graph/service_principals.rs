//! Graph `servicePrincipals`: create from an `appId` (201, or 409
//! `Request_MultipleObjectsWithSameKeyValue` when one exists), read by id or `appId`, list with
//! `$filter`, update (204), upsert by `appId` with `Prefer: create-if-missing`, delete (204).

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::errors::ApiError;
use crate::http::{Resp, empty, json_response};
use crate::state::{DirObject, State, str_field};

use super::objects::{self, SERVICE_PRINCIPAL_WRITABLE};
use super::routes::Key;
use super::{GCall, bad_request, not_found, query};

fn find(st: &State, key: &Key) -> Option<String> {
    match key {
        Key::Id(id) => st
            .service_principals
            .contains_key(&id.to_lowercase())
            .then(|| id.to_lowercase()),
        Key::AppId(a) => st
            .service_principal_by_app_id(a)
            .map(|o| str_field(&o.body, "id").to_string()),
        Key::UniqueName(_) => None,
    }
}

fn body_object(call: &GCall) -> Result<Map<String, Value>, ApiError> {
    match call.req.json() {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(bad_request("The request body must be a JSON object.")),
        Err(e) => Err(bad_request(format!(
            "Unable to read JSON request payload: {e}"
        ))),
    }
}

fn validate(body: &Map<String, Value>) -> Result<(), ApiError> {
    for k in body.keys() {
        if !k.starts_with("@odata") && !SERVICE_PRINCIPAL_WRITABLE.contains(&k.as_str()) {
            return Err(bad_request(format!(
                "Property '{k}' is read-only or does not exist on type 'microsoft.graph.servicePrincipal'."
            )));
        }
    }
    Ok(())
}

fn with_context(call: &GCall, body: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    out.insert(
        "@odata.context".into(),
        json!(call.context("servicePrincipals/$entity")),
    );
    out.extend(query::select(call, body));
    Value::Object(out)
}

fn insert_new(
    call: &GCall,
    st: &mut State,
    app_id: &str,
    body: &Map<String, Value>,
) -> Result<Map<String, Value>, ApiError> {
    validate(body)?;
    if st.service_principal_by_app_id(app_id).is_some() {
        return Err(ApiError::conflict(
            "Request_MultipleObjectsWithSameKeyValue",
            format!(
                "The service principal cannot be created, updated, or restored because the service principal name {app_id} is already in use."
            ),
        ));
    }
    // An application created moments ago is not yet visible to the service-principal write
    // (replication lag): Graph answers as if it did not exist, for a few seconds. Sources:
    // kubernetes-retired/kubernetes-anywhere#248 (Request_BadRequest, "The appId of the service
    // principal does not reference a valid application object.", NoBackingApplicationObject),
    // Microsoft365DSC/Microsoft365DSC#3390 (the same message from Graph v1.0 with the appId).
    let lag = *crate::ctx::lock(&call.ctx.graph_write_lag);
    let now = call.ctx.clock.now();
    let Some(app) = st
        .application_by_app_id(app_id)
        .filter(|a| a.created_at + lag <= now)
    else {
        return Err(bad_request(format!(
            "The appId '{app_id}' of the service principal does not reference a valid application object."
        )));
    };
    let id = uuid::Uuid::new_v4().to_string();
    let mut obj = objects::service_principal_body(&id, &app.body, &st.tenant.tenant_id);
    for (k, v) in body {
        if !k.starts_with("@odata") && k != "appId" {
            obj.insert(k.clone(), v.clone());
        }
    }
    st.service_principals.insert(
        id,
        DirObject {
            body: obj.clone(),
            created_at: call.ctx.clock.now(),
            secrets: Vec::new(),
            owners: vec![call.caller.object_id.clone()],
        },
    );
    st.touch();
    Ok(obj)
}

pub(crate) fn create(call: &GCall) -> Result<Resp, ApiError> {
    let body = body_object(call)?;
    let Some(app_id) = body
        .get("appId")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return Err(bad_request(
            "Property 'appId' is required when creating a service principal.",
        ));
    };
    let mut st = call.ctx.world();
    let obj = insert_new(call, &mut st, &app_id, &body)?;
    Ok(json_response(
        StatusCode::CREATED,
        &with_context(call, &obj),
    ))
}

pub(crate) fn list(call: &GCall) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    let items: Vec<&Map<String, Value>> = st.service_principals.values().map(|s| &s.body).collect();
    Ok(json_response(
        StatusCode::OK,
        &query::list(call, "servicePrincipals", items)?,
    ))
}

pub(crate) fn get(call: &GCall, key: &Key) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    let id = find(&st, key).ok_or_else(|| not_found(&key.describe()))?;
    Ok(json_response(
        StatusCode::OK,
        &with_context(call, &st.service_principals[&id].body),
    ))
}

pub(crate) fn patch(call: &GCall, key: &Key) -> Result<Resp, ApiError> {
    let body = body_object(call)?;
    let mut st = call.ctx.world();
    let Some(id) = find(&st, key) else {
        let create = call
            .req
            .header("prefer")
            .is_some_and(|p| p.to_lowercase().contains("create-if-missing"));
        return match key {
            Key::AppId(a) if create => {
                let obj = insert_new(call, &mut st, a, &body)?;
                Ok(json_response(
                    StatusCode::CREATED,
                    &with_context(call, &obj),
                ))
            }
            _ => Err(not_found(&key.describe())),
        };
    };
    validate(&body)?;
    if let Some(a) = body.get("appId").and_then(Value::as_str)
        && !a.eq_ignore_ascii_case(str_field(&st.service_principals[&id].body, "appId"))
    {
        return Err(bad_request("Property 'appId' cannot be changed."));
    }
    if let Some(sp) = st.service_principals.get_mut(&id) {
        for (k, v) in &body {
            if !k.starts_with("@odata") {
                sp.body.insert(k.clone(), v.clone());
            }
        }
    }
    st.touch();
    Ok(empty(StatusCode::NO_CONTENT))
}

pub(crate) fn delete(call: &GCall, key: &Key) -> Result<Resp, ApiError> {
    let mut st = call.ctx.world();
    let id = find(&st, key).ok_or_else(|| not_found(&key.describe()))?;
    st.service_principals.remove(&id);
    st.grants
        .retain(|_, g| !str_field(g, "clientId").eq_ignore_ascii_case(&id));
    st.touch();
    Ok(empty(StatusCode::NO_CONTENT))
}
