//! Resource groups (Microsoft.Resources): synchronous create/update (201/200), read, existence
//! check (HEAD 204/404), list, and deletion as a long-running operation that removes everything
//! inside the group when it completes.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::clock::RG_DELETE_SECS;
use crate::ctx::lock;
use crate::errors::ApiError;
use crate::http::{Resp, empty, json_response};
use crate::regions;
use crate::state::{Operation, OperationError, OperationKind, ResourceGroup, State};

use super::{Call, operations, rbac, scope};

const READ: &str = "Microsoft.Resources/subscriptions/resourceGroups/read";
const WRITE: &str = "Microsoft.Resources/subscriptions/resourceGroups/write";
const DELETE: &str = "Microsoft.Resources/subscriptions/resourceGroups/delete";

pub(crate) fn render(rg: &ResourceGroup) -> Value {
    let mut body = json!({
        "id": scope::resource_group_id(&rg.subscription_id, &rg.name),
        "name": rg.name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": rg.location,
    });
    if !rg.tags.is_empty() {
        body["tags"] = Value::Object(rg.tags.clone());
    }
    if let Some(m) = &rg.managed_by {
        body["managedBy"] = json!(m);
    }
    body["properties"] = json!({"provisioningState": rg.provisioning_state});
    body
}

fn valid_name(name: &str) -> bool {
    (1..=90).contains(&name.chars().count())
        && !name.ends_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')'))
}

fn parse_tags(body: &Value) -> Result<Option<Map<String, Value>>, ApiError> {
    match body.get("tags") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m.clone())),
        Some(_) => Err(ApiError::bad_request(
            "InvalidRequestContent",
            "The 'tags' property must be an object of string values.",
        )),
    }
}

fn body_object(call: &Call) -> Result<Value, ApiError> {
    match call.req.json() {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(ApiError::bad_request(
            "InvalidRequestContent",
            "The request content must be a JSON object.",
        )),
        Err(e) => Err(ApiError::bad_request(
            "InvalidRequestContent",
            format!("The request content was invalid and could not be deserialized: '{e}'."),
        )),
    }
}

pub(crate) fn put(call: &Call, sub: &str, rg: &str) -> Result<Resp, ApiError> {
    let mut st = call.ctx.world();
    scope::check_subscription(&st, sub)?;
    let id = scope::resource_group_id(sub, rg);
    rbac::authorize(&st, call.caller, &id, WRITE)?;
    if !valid_name(rg) {
        return Err(ApiError::bad_request(
            "InvalidResourceGroupName",
            format!(
                "Resource group name '{rg}' is invalid. It must be 1-90 characters of letters, digits, '-', '_', '.', '(' or ')' and must not end with '.'."
            ),
        ));
    }
    let body = body_object(call)?;
    let Some(location) = body.get("location").and_then(Value::as_str) else {
        return Err(ApiError::bad_request(
            "LocationRequired",
            "The location property is required for this definition.",
        ));
    };
    let Some(region) = regions::find(location) else {
        return Err(ApiError::bad_request(
            "LocationNotAvailableForResourceGroup",
            format!(
                "The provided location '{location}' is not available for resource group. List of available regions is 'eastus,eastus2,westus,westus2,westus3,centralus,northeurope,westeurope,...'."
            ),
        ));
    };
    let tags = parse_tags(&body)?;
    let managed_by = body
        .get("managedBy")
        .and_then(Value::as_str)
        .map(str::to_string);
    let key = scope::key(&id);
    if let Some(existing) = st.resource_groups.get_mut(&key) {
        if existing.provisioning_state == "Deleting" {
            return Err(ApiError::conflict(
                "ResourceGroupBeingDeleted",
                format!(
                    "The resource group '{}' is in deprovisioning state and cannot perform this operation.",
                    existing.name
                ),
            ));
        }
        if existing.location != region.name {
            return Err(ApiError::conflict(
                "InvalidResourceGroupLocation",
                format!(
                    "Invalid resource group location '{}'. The Resource group already exists in location '{}'.",
                    regions::normalize(location),
                    existing.location
                ),
            ));
        }
        existing.tags = tags.unwrap_or_default();
        if managed_by.is_some() {
            existing.managed_by = managed_by;
        }
        let body = render(existing);
        st.touch();
        return Ok(json_response(StatusCode::OK, &body));
    }
    let group = ResourceGroup {
        subscription_id: st.tenant.subscription_id.clone(),
        name: rg.to_string(),
        location: region.name.to_string(),
        tags: tags.unwrap_or_default(),
        managed_by,
        provisioning_state: "Succeeded".into(),
        operation: None,
    };
    let body = render(&group);
    st.resource_groups.insert(key, group);
    st.touch();
    Ok(json_response(StatusCode::CREATED, &body))
}

pub(crate) fn patch(call: &Call, sub: &str, rg: &str) -> Result<Resp, ApiError> {
    let mut st = call.ctx.world();
    scope::check_subscription(&st, sub)?;
    let id = scope::resource_group_id(sub, rg);
    rbac::authorize(&st, call.caller, &id, WRITE)?;
    let body = body_object(call)?;
    let tags = parse_tags(&body)?;
    let existing = st
        .resource_groups
        .get_mut(&scope::key(&id))
        .ok_or_else(|| scope::resource_group_missing(rg))?;
    if let Some(t) = tags {
        existing.tags = t;
    }
    let out = render(existing);
    st.touch();
    Ok(json_response(StatusCode::OK, &out))
}

pub(crate) fn get(call: &Call, sub: &str, rg: &str) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    scope::check_subscription(&st, sub)?;
    let id = scope::resource_group_id(sub, rg);
    rbac::authorize(&st, call.caller, &id, READ)?;
    let group = st
        .resource_groups
        .get(&scope::key(&id))
        .ok_or_else(|| scope::resource_group_missing(rg))?;
    Ok(json_response(StatusCode::OK, &render(group)))
}

pub(crate) fn head(call: &Call, sub: &str, rg: &str) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    scope::check_subscription(&st, sub)?;
    let id = scope::resource_group_id(sub, rg);
    rbac::authorize(&st, call.caller, &id, READ)?;
    Ok(empty(
        if st.resource_groups.contains_key(&scope::key(&id)) {
            StatusCode::NO_CONTENT
        } else {
            StatusCode::NOT_FOUND
        },
    ))
}

pub(crate) fn list(call: &Call, sub: &str) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    scope::check_subscription(&st, sub)?;
    rbac::authorize(&st, call.caller, &scope::subscription_id(sub), READ)?;
    let value: Vec<Value> = st
        .resource_groups
        .values()
        .filter(|g| g.subscription_id.eq_ignore_ascii_case(sub))
        .map(render)
        .collect();
    Ok(json_response(StatusCode::OK, &json!({"value": value})))
}

pub(crate) fn delete(call: &Call, sub: &str, rg: &str) -> Result<Resp, ApiError> {
    let mut st = call.ctx.world();
    scope::check_subscription(&st, sub)?;
    let id = scope::resource_group_id(sub, rg);
    rbac::authorize(&st, call.caller, &id, DELETE)?;
    let key = scope::key(&id);
    let Some(group) = st.resource_groups.get(&key) else {
        return Err(scope::resource_group_missing(rg));
    };
    let op_id = match (&group.operation, group.provisioning_state.as_str()) {
        (Some(op), "Deleting") => op.clone(),
        _ => {
            let fail_with =
                match lock(&call.ctx.faults).take_lro(call.req.method.as_str(), &call.req.path) {
                    Some(crate::faults::FaultKind::LroFailed {
                        code,
                        message,
                        status,
                    }) => Some(OperationError {
                        code,
                        message,
                        http_status: status,
                    }),
                    _ => None,
                };
            let location = group.location.clone();
            let now = call.ctx.clock.now();
            let op = operations::start(
                &mut st,
                OperationKind::ResourceGroupDelete,
                sub,
                &location,
                &call.api_version,
                &key,
                now,
                call.ctx.clock.scaled(RG_DELETE_SECS),
                fail_with,
            );
            if let Some(g) = st.resource_groups.get_mut(&key) {
                g.provisioning_state = "Deleting".into();
                g.operation = Some(op.clone());
            }
            op
        }
    };
    let mut resp = empty(StatusCode::ACCEPTED);
    operations::add_async_headers(&mut resp, call, &st, &op_id);
    Ok(resp)
}

/// Completes a resource group deletion: the group and everything in it disappear.
pub(crate) fn finish_delete(
    st: &mut State,
    op: &Operation,
) -> (&'static str, Option<OperationError>) {
    if let Some(e) = &op.fail_with {
        if let Some(g) = st.resource_groups.get_mut(&op.resource_key) {
            g.provisioning_state = "Succeeded".into();
            g.operation = None;
        }
        return ("Failed", Some(e.clone()));
    }
    let prefix = format!("{}/", op.resource_key);
    st.resource_groups.remove(&op.resource_key);
    let doomed: Vec<String> = st
        .digital_twins
        .keys()
        .filter(|k| k.starts_with(&prefix))
        .cloned()
        .collect();
    for k in doomed {
        if let Some(dt) = st.digital_twins.remove(&k) {
            super::digital_twins::drop_identity(st, &dt);
        }
    }
    st.generic.retain(|k, _| !k.starts_with(&prefix));
    st.role_assignments
        .retain(|_, a| !scope::key(&a.scope).starts_with(&prefix));
    ("Succeeded", None)
}

/// `GET /subscriptions/{s}/resourcegroups/{rg}/resources` (azure-rest-api-specs
/// `resources/resource-manager/Microsoft.Resources/stable/2025-04-01/resources.json`
/// `Resources_ListByResourceGroup`: 200 `ResourceListResult` `{value: [{id, name, type,
/// location}], nextLink}`): the group's top-level resources, instances and generic ones (child
/// resources such as a zone's links are not listed); 404 `ResourceGroupNotFound` for a group
/// that does not exist; the caller needs read on the group.
pub(crate) fn resources(call: &Call, sub: &str, rg: &str) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    scope::check_subscription(&st, sub)?;
    let id = scope::resource_group_id(sub, rg);
    if !st.resource_groups.contains_key(&scope::key(&id)) {
        return Err(scope::resource_group_missing(rg));
    }
    rbac::authorize(&st, call.caller, &id, READ)?;
    let summary = |body: &Map<String, Value>| {
        json!({
            "id": body.get("id"),
            "name": body.get("name"),
            "type": body.get("type"),
            "location": body.get("location"),
        })
    };
    let mut value: Vec<Value> = st
        .digital_twins
        .values()
        .filter(|d| d.subscription_id.eq_ignore_ascii_case(sub))
        .filter(|d| d.resource_group.eq_ignore_ascii_case(rg))
        .filter_map(|d| {
            super::digital_twins::render(d, &st.tenant.tenant_id)
                .as_object()
                .map(summary)
        })
        .collect();
    let prefix = format!("{}/providers/", scope::key(&id));
    value.extend(st.generic.iter().filter_map(|(key, resource)| {
        let rest = key.strip_prefix(&prefix)?;
        (rest.split('/').count() == 3).then(|| summary(&resource.body))
    }));
    Ok(json_response(StatusCode::OK, &json!({"value": value})))
}
