//! Graph `applications`: create (201), read by id / `appId` / `uniqueName`, list with `$filter`,
//! update (204), upsert with `Prefer: create-if-missing`, delete (204, also removes the service
//! principal), client secrets (`addPassword`, `removePassword`) and owners (`$ref`).

use axum::http::StatusCode;
use chrono::Duration;
use serde_json::{Map, Value, json};

use crate::errors::ApiError;
use crate::http::{Resp, empty, json_response};
use crate::state::{DirObject, State, StoredSecret, str_field};

use super::objects::{self, APPLICATION_WRITABLE, SIGN_IN_AUDIENCES};
use super::routes::Key;
use super::{GCall, bad_request, not_found, query};

/// The object id of the application addressed by `key`.
fn find(st: &State, key: &Key) -> Option<String> {
    match key {
        Key::Id(id) => st
            .applications
            .contains_key(&id.to_lowercase())
            .then(|| id.to_lowercase()),
        Key::AppId(a) => st
            .application_by_app_id(a)
            .map(|o| str_field(&o.body, "id").to_string()),
        Key::UniqueName(n) => st
            .applications
            .values()
            .find(|o| str_field(&o.body, "uniqueName").eq_ignore_ascii_case(n))
            .map(|o| str_field(&o.body, "id").to_string()),
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

/// Checks that `body` only writes writable properties with sane values.
fn validate(body: &Map<String, Value>) -> Result<(), ApiError> {
    for k in body.keys() {
        if k.starts_with("@odata") {
            continue;
        }
        if !APPLICATION_WRITABLE.contains(&k.as_str()) {
            return Err(bad_request(format!(
                "Property '{k}' is read-only or does not exist on type 'microsoft.graph.application'."
            )));
        }
    }
    if let Some(a) = body.get("signInAudience")
        && !a.as_str().is_some_and(|s| SIGN_IN_AUDIENCES.contains(&s))
    {
        return Err(bad_request(format!(
            "Invalid value specified for property 'signInAudience' of resource 'Application': {a}."
        )));
    }
    if let Some(d) = body.get("displayName")
        && d.as_str().is_none_or(|s| s.trim().is_empty())
    {
        return Err(bad_request(
            "Invalid value specified for property 'displayName' of resource 'Application'.",
        ));
    }
    Ok(())
}

fn merge(target: &mut Map<String, Value>, body: &Map<String, Value>) {
    for (k, v) in body {
        if !k.starts_with("@odata") {
            target.insert(k.clone(), v.clone());
        }
    }
}

fn with_context(call: &GCall, body: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    out.insert(
        "@odata.context".into(),
        json!(call.context("applications/$entity")),
    );
    out.extend(query::select(call, body));
    Value::Object(out)
}

/// Creates an application; the caller becomes an owner.
fn insert_new(
    call: &GCall,
    st: &mut State,
    body: &Map<String, Value>,
    unique_name: Option<&str>,
) -> Result<Map<String, Value>, ApiError> {
    validate(body)?;
    let Some(name) = body.get("displayName").and_then(Value::as_str) else {
        return Err(bad_request(
            "Property 'displayName' is required when creating an application.",
        ));
    };
    let now = call.ctx.clock.now();
    let id = uuid::Uuid::new_v4().to_string();
    let app_id = uuid::Uuid::new_v4().to_string();
    let mut obj = objects::application_body(&id, &app_id, name, now);
    merge(&mut obj, body);
    super::app_sign_in::check(&obj)?;
    if let Some(u) = unique_name {
        obj.insert("uniqueName".into(), json!(u));
    }
    if let Some(u) = obj.get("uniqueName").and_then(Value::as_str)
        && st
            .applications
            .values()
            .any(|a| str_field(&a.body, "uniqueName").eq_ignore_ascii_case(u))
    {
        return Err(ApiError::conflict(
            "Request_MultipleObjectsWithSameKeyValue",
            format!(
                "Another object with the same value for property uniqueName already exists: '{u}'."
            ),
        ));
    }
    st.applications.insert(
        id,
        DirObject {
            body: obj.clone(),
            created_at: now,
            secrets: Vec::new(),
            owners: vec![call.caller.object_id.clone()],
        },
    );
    st.touch();
    Ok(obj)
}

pub(crate) fn create(call: &GCall) -> Result<Resp, ApiError> {
    let body = body_object(call)?;
    let mut st = call.ctx.world();
    let obj = insert_new(call, &mut st, &body, None)?;
    Ok(json_response(
        StatusCode::CREATED,
        &with_context(call, &obj),
    ))
}

pub(crate) fn list(call: &GCall) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    let items: Vec<&Map<String, Value>> = st.applications.values().map(|a| &a.body).collect();
    Ok(json_response(
        StatusCode::OK,
        &query::list(call, "applications", items)?,
    ))
}

pub(crate) fn get(call: &GCall, key: &Key) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    let id = find(&st, key).ok_or_else(|| not_found(&key.describe()))?;
    let app = &st.applications[&id];
    Ok(json_response(
        StatusCode::OK,
        &with_context(call, &app.body),
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
            Key::UniqueName(u) if create => {
                if let Some(given) = body.get("uniqueName").and_then(Value::as_str)
                    && !given.eq_ignore_ascii_case(u)
                {
                    return Err(bad_request(
                        "The uniqueName in the body differs from the key in the URL.",
                    ));
                }
                let obj = insert_new(call, &mut st, &body, Some(u))?;
                Ok(json_response(
                    StatusCode::CREATED,
                    &with_context(call, &obj),
                ))
            }
            _ => Err(not_found(&key.describe())),
        };
    };
    validate(&body)?;
    let app = st
        .applications
        .get_mut(&id)
        .ok_or_else(|| not_found(&key.describe()))?;
    if let Some(u) = body.get("uniqueName") {
        let current = app.body.get("uniqueName").cloned().unwrap_or(Value::Null);
        if !current.is_null() && &current != u {
            return Err(bad_request("Property 'uniqueName' is immutable once set."));
        }
    }
    let mut next = app.body.clone();
    merge(&mut next, &body);
    super::app_sign_in::check(&next)?;
    app.body = next;
    st.touch();
    Ok(empty(StatusCode::NO_CONTENT))
}

pub(crate) fn delete(call: &GCall, key: &Key) -> Result<Resp, ApiError> {
    let mut st = call.ctx.world();
    let id = find(&st, key).ok_or_else(|| not_found(&key.describe()))?;
    if let Some(app) = st.applications.remove(&id) {
        let app_id = str_field(&app.body, "appId").to_string();
        let sp_ids: Vec<String> = st
            .service_principals
            .iter()
            .filter(|(_, sp)| str_field(&sp.body, "appId").eq_ignore_ascii_case(&app_id))
            .map(|(k, _)| k.clone())
            .collect();
        for sp in &sp_ids {
            st.service_principals.remove(sp);
            st.grants
                .retain(|_, g| !str_field(g, "clientId").eq_ignore_ascii_case(sp));
        }
    }
    st.touch();
    Ok(empty(StatusCode::NO_CONTENT))
}

pub(crate) fn add_password(call: &GCall, key: &Key) -> Result<Resp, ApiError> {
    let body = match call.req.json() {
        Ok(Value::Object(m)) => m,
        Ok(Value::Null) => Map::new(),
        _ => return Err(bad_request("The request body must be a JSON object.")),
    };
    let cred = body.get("passwordCredential").cloned().unwrap_or(json!({}));
    let now = call.ctx.clock.now();
    let end = match cred.get("endDateTime").and_then(Value::as_str) {
        Some(s) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&chrono::Utc))
            .map_err(|_| bad_request(format!("Invalid value for endDateTime: '{s}'.")))?,
        None => now + Duration::days(730),
    };
    let display = cred
        .get("displayName")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut st = call.ctx.world();
    let id = find(&st, key).ok_or_else(|| not_found(&key.describe()))?;
    let app = st
        .applications
        .get_mut(&id)
        .ok_or_else(|| not_found(&key.describe()))?;
    let secret = crate::seed::new_secret();
    let key_id = uuid::Uuid::new_v4().to_string();
    app.secrets.push(StoredSecret {
        key_id: key_id.clone(),
        secret: secret.clone(),
        end,
    });
    let mut meta =
        objects::add_password_metadata(&mut app.body, &key_id, &display, &secret, now, end);
    meta["secretText"] = json!(secret);
    st.touch();
    let mut out = Map::new();
    out.insert(
        "@odata.context".into(),
        json!(call.context("microsoft.graph.passwordCredential")),
    );
    if let Value::Object(m) = meta {
        out.extend(m);
    }
    Ok(json_response(StatusCode::OK, &Value::Object(out)))
}

pub(crate) fn remove_password(call: &GCall, key: &Key) -> Result<Resp, ApiError> {
    let body = call.req.json().unwrap_or(Value::Null);
    let Some(key_id) = body
        .get("keyId")
        .and_then(Value::as_str)
        .map(str::to_lowercase)
    else {
        return Err(bad_request("Property 'keyId' is required."));
    };
    let mut st = call.ctx.world();
    let id = find(&st, key).ok_or_else(|| not_found(&key.describe()))?;
    let app = st
        .applications
        .get_mut(&id)
        .ok_or_else(|| not_found(&key.describe()))?;
    let before = app.secrets.len();
    app.secrets.retain(|s| s.key_id != key_id);
    if app.secrets.len() == before {
        return Err(bad_request(format!(
            "No password credential found with keyId '{key_id}'."
        )));
    }
    if let Some(Value::Array(list)) = app.body.get_mut("passwordCredentials") {
        list.retain(|c| c.get("keyId").and_then(Value::as_str) != Some(key_id.as_str()));
    }
    st.touch();
    Ok(empty(StatusCode::NO_CONTENT))
}

pub(crate) fn owners(call: &GCall, key: &Key) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    let id = find(&st, key).ok_or_else(|| not_found(&key.describe()))?;
    let owners: Vec<Value> = st.applications[&id]
        .owners
        .iter()
        .filter_map(|o| super::directory::typed_object(&st, o))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({"@odata.context": call.context("directoryObjects"), "value": owners}),
    ))
}

pub(crate) fn add_owner(call: &GCall, key: &Key) -> Result<Resp, ApiError> {
    let body = call.req.json().unwrap_or(Value::Null);
    let Some(reference) = body.get("@odata.id").and_then(Value::as_str) else {
        return Err(bad_request(
            "Property '@odata.id' is required, e.g. https://graph.microsoft.com/v1.0/directoryObjects/{id}.",
        ));
    };
    let owner = reference
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_lowercase();
    let mut st = call.ctx.world();
    let id = find(&st, key).ok_or_else(|| not_found(&key.describe()))?;
    if st.principal(&owner).is_none() {
        return Err(not_found(&owner));
    }
    let app = st
        .applications
        .get_mut(&id)
        .ok_or_else(|| not_found(&key.describe()))?;
    if app.owners.contains(&owner) {
        return Err(bad_request(
            "One or more added object references already exist for the following modified properties: 'owners'.",
        ));
    }
    app.owners.push(owner);
    st.touch();
    Ok(empty(StatusCode::NO_CONTENT))
}

pub(crate) fn remove_owner(call: &GCall, key: &Key, owner: &str) -> Result<Resp, ApiError> {
    let mut st = call.ctx.world();
    let id = find(&st, key).ok_or_else(|| not_found(&key.describe()))?;
    let app = st
        .applications
        .get_mut(&id)
        .ok_or_else(|| not_found(&key.describe()))?;
    let before = app.owners.len();
    app.owners.retain(|o| !o.eq_ignore_ascii_case(owner));
    if before == app.owners.len() {
        return Err(not_found(owner));
    }
    st.touch();
    Ok(empty(StatusCode::NO_CONTENT))
}
