//! Any other provider resource (`.../providers/{namespace}/{type}/{name}`): stored as sent with
//! `provisioningState: Succeeded`, created synchronously, read and deleted.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::errors::ApiError;
use crate::http::{Resp, empty, json_response};
use crate::regions;
use crate::state::GenericResource;

use super::{Call, rbac, scope};

fn check_parent(st: &crate::state::State, sub: &str, rg: Option<&str>) -> Result<(), ApiError> {
    scope::check_subscription(st, sub)?;
    if let Some(rg) = rg
        && !st
            .resource_groups
            .contains_key(&scope::key(&scope::resource_group_id(sub, rg)))
    {
        return Err(scope::resource_group_missing(rg));
    }
    Ok(())
}

fn not_found(type_name: &str, name: &str, rg: Option<&str>) -> ApiError {
    ApiError::not_found(
        "ResourceNotFound",
        match rg {
            Some(rg) => format!(
                "The Resource '{type_name}/{name}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
            ),
            None => format!(
                "The Resource '{type_name}/{name}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
            ),
        },
    )
}

pub(crate) fn put(
    call: &Call,
    sub: &str,
    rg: Option<&str>,
    id: &str,
    type_name: &str,
    name: &str,
) -> Result<Resp, ApiError> {
    let mut st = call.ctx.world();
    rbac::authorize(&st, call.caller, id, &format!("{type_name}/write"))?;
    check_parent(&st, sub, rg)?;
    let body = match call.req.json() {
        Ok(Value::Object(m)) => m,
        Ok(Value::Null) => Map::new(),
        Ok(_) | Err(_) => {
            return Err(ApiError::bad_request(
                "InvalidRequestContent",
                "The request content must be a JSON object.",
            ));
        }
    };
    let mut out = Map::new();
    out.insert("id".into(), json!(id));
    out.insert("name".into(), json!(name));
    out.insert("type".into(), json!(type_name));
    for (k, v) in &body {
        match k.as_str() {
            "id" | "name" | "type" | "properties" => {}
            "location" => {
                out.insert(
                    k.clone(),
                    json!(v.as_str().map(regions::normalize).unwrap_or_default()),
                );
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    let mut props = body
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if super::managed_identities::is_identity_type(type_name) {
        super::managed_identities::fill(&st, id, &mut props);
    }
    props.insert("provisioningState".into(), json!("Succeeded"));
    out.insert("properties".into(), Value::Object(props));
    let key = scope::key(id);
    let existed = st.generic.contains_key(&key);
    st.generic
        .insert(key, GenericResource { body: out.clone() });
    st.touch();
    Ok(json_response(
        if existed {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        &Value::Object(out),
    ))
}

pub(crate) fn get(
    call: &Call,
    sub: &str,
    rg: Option<&str>,
    id: &str,
    type_name: &str,
    name: &str,
) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    rbac::authorize(&st, call.caller, id, &format!("{type_name}/read"))?;
    check_parent(&st, sub, rg)?;
    let r = st
        .generic
        .get(&scope::key(id))
        .ok_or_else(|| not_found(type_name, name, rg))?;
    Ok(json_response(
        StatusCode::OK,
        &Value::Object(r.body.clone()),
    ))
}

pub(crate) fn delete(
    call: &Call,
    sub: &str,
    rg: Option<&str>,
    id: &str,
    type_name: &str,
) -> Result<Resp, ApiError> {
    let mut st = call.ctx.world();
    rbac::authorize(&st, call.caller, id, &format!("{type_name}/delete"))?;
    check_parent(&st, sub, rg)?;
    let key = scope::key(id);
    if st.generic.remove(&key).is_some() {
        let prefix = format!("{key}/");
        st.generic.retain(|k, _| !k.starts_with(&prefix));
        st.role_assignments.retain(|_, a| {
            let k = scope::key(&a.scope);
            k != key && !k.starts_with(&prefix)
        });
        st.touch();
        Ok(empty(StatusCode::OK))
    } else {
        Ok(empty(StatusCode::NO_CONTENT))
    }
}
