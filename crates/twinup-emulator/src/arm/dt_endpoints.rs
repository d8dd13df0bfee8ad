//! Endpoints of a Digital Twins instance (`.../digitalTwinsInstances/{name}/endpoints/{endpoint}`,
//! Microsoft.DigitalTwins 2023-01-31, azure-rest-api-specs
//! `specification/digitaltwins/resource-manager/Microsoft.DigitalTwins/stable/2023-01-31/digitaltwins.json`:
//! `DigitalTwinsEndpoint_CreateOrUpdate` (PUT, 200/201), `_Get`, `_List` (`{"value": [...]}`),
//! `_Delete`; `DigitalTwinsEndpointResourceProperties` with the `endpointType` discriminator
//! `EventHub` | `EventGrid` | `ServiceBus`, `authenticationType` `KeyBased` | `IdentityBased`
//! and `identity` (`ManagedIdentityReference`: `type` `None` | `SystemAssigned` |
//! `UserAssigned`, `userAssignedIdentity`); examples `DigitalTwinsEndpointPut_WithIdentity_example.json`
//! and `DigitalTwinsEndpointPut_WithUserIdentity_example.json`). The PUT is a long-running
//! operation in the spec; the emulator completes it at once (201/200 with `provisioningState:
//! Succeeded`, a terminal answer a poller accepts). An identity-based endpoint must use an
//! identity the instance has (Learn: "Enable a managed identity for routing": the identity is
//! enabled on the instance before an endpoint uses it; the 400 for one it lacks is this
//! emulator's stricter reading). Endpoints are kept with the generic resources, under the
//! instance's id, so deleting the instance removes them.

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::errors::ApiError;
use crate::http::{Resp, empty, json_response};
use crate::state::{GenericResource, State};

use super::{Call, method_not_allowed, rbac, scope};

const TYPE: &str = "Microsoft.DigitalTwins/digitalTwinsInstances/endpoints";
const ENDPOINT_TYPES: &[&str] = &["EventHub", "EventGrid", "ServiceBus"];

/// Serves list, PUT, GET and DELETE of an instance's endpoints.
pub(crate) fn handle(
    call: &Call,
    sub: &str,
    rg: &str,
    name: &str,
    endpoint: Option<&str>,
) -> Result<Resp, ApiError> {
    let m = &call.req.method;
    match endpoint {
        None if *m == Method::GET => list(call, sub, rg, name),
        Some(e) if *m == Method::PUT => put(call, sub, rg, name, e),
        Some(e) if *m == Method::GET => get(call, sub, rg, name, e),
        Some(e) if *m == Method::DELETE => delete(call, sub, rg, name, e),
        _ => Err(method_not_allowed(call.req)),
    }
}

fn instance_key(st: &State, sub: &str, rg: &str, name: &str) -> Result<String, ApiError> {
    scope::check_subscription(st, sub)?;
    let key = scope::key(&scope::digital_twins_id(sub, rg, name));
    if st.digital_twins.contains_key(&key) {
        Ok(key)
    } else {
        Err(ApiError::not_found(
            "ResourceNotFound",
            format!(
                "The Resource 'Microsoft.DigitalTwins/digitalTwinsInstances/{name}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
            ),
        ))
    }
}

fn endpoint_id(sub: &str, rg: &str, name: &str, endpoint: &str) -> String {
    format!(
        "{}/endpoints/{endpoint}",
        scope::digital_twins_id(sub, rg, name)
    )
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("InvalidRequestContent", message)
}

/// Checks the endpoint's properties against the spec and the instance's identities.
fn check(st: &State, instance: &str, props: &Map<String, Value>) -> Result<(), ApiError> {
    let kind = props.get("endpointType").and_then(Value::as_str);
    if !kind.is_some_and(|k| ENDPOINT_TYPES.iter().any(|t| t.eq_ignore_ascii_case(k))) {
        return Err(invalid(
            "properties.endpointType is required: EventHub, EventGrid or ServiceBus.",
        ));
    }
    let auth = props
        .get("authenticationType")
        .and_then(Value::as_str)
        .unwrap_or("KeyBased");
    if !auth.eq_ignore_ascii_case("KeyBased") && !auth.eq_ignore_ascii_case("IdentityBased") {
        return Err(invalid(format!(
            "properties.authenticationType '{auth}' is not valid; use KeyBased or IdentityBased."
        )));
    }
    if !auth.eq_ignore_ascii_case("IdentityBased") {
        return Ok(());
    }
    let identity = props.get("identity");
    let id_type = identity
        .and_then(|i| i.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("SystemAssigned");
    let dt = st.digital_twins.get(instance);
    let dt_identity = dt.and_then(|d| d.identity.as_ref());
    if id_type.eq_ignore_ascii_case("UserAssigned") {
        let wanted = identity
            .and_then(|i| i.get("userAssignedIdentity"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let attached = dt_identity.is_some_and(|i| {
            i.user_assigned
                .keys()
                .any(|k| k.eq_ignore_ascii_case(wanted))
        });
        if !attached {
            return Err(invalid(format!(
                "The user-assigned identity '{wanted}' is not assigned to the Azure Digital Twins instance; add it to the instance's identity first."
            )));
        }
    } else if id_type.eq_ignore_ascii_case("SystemAssigned") {
        if !dt_identity.is_some_and(|i| i.kind.contains("SystemAssigned")) {
            return Err(invalid(
                "The Azure Digital Twins instance has no system-assigned identity; enable it before creating an identity-based endpoint.",
            ));
        }
    } else {
        return Err(invalid(format!(
            "properties.identity.type '{id_type}' is not valid for an identity-based endpoint; use SystemAssigned or UserAssigned."
        )));
    }
    Ok(())
}

fn put(call: &Call, sub: &str, rg: &str, name: &str, endpoint: &str) -> Result<Resp, ApiError> {
    let now = call.ctx.clock.now();
    let mut st = call.ctx.world();
    let id = endpoint_id(sub, rg, name, endpoint);
    rbac::authorize(&st, call.caller, &id, &format!("{TYPE}/write"))?;
    let instance = instance_key(&st, sub, rg, name)?;
    let body = match call.req.json() {
        Ok(Value::Object(m)) => m,
        _ => return Err(invalid("The request content must be a JSON object.")),
    };
    let mut props = body
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    check(&st, &instance, &props)?;
    let key = scope::key(&id);
    let existing = st.generic.get(&key).map(|r| r.body.clone());
    let created = existing
        .as_ref()
        .and_then(|b| b.get("properties")?.get("createdTime").cloned())
        .unwrap_or_else(|| json!(now.to_rfc3339()));
    props.insert("provisioningState".into(), json!("Succeeded"));
    props.insert("createdTime".into(), created);
    let out = json!({"id": id, "name": endpoint, "type": TYPE, "properties": props});
    let Value::Object(map) = out.clone() else {
        return Err(invalid("The request content must be a JSON object."));
    };
    st.generic.insert(key, GenericResource { body: map });
    st.touch();
    let status = if existing.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(json_response(status, &out))
}

fn get(call: &Call, sub: &str, rg: &str, name: &str, endpoint: &str) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    let id = endpoint_id(sub, rg, name, endpoint);
    rbac::authorize(&st, call.caller, &id, &format!("{TYPE}/read"))?;
    instance_key(&st, sub, rg, name)?;
    let r = st.generic.get(&scope::key(&id)).ok_or_else(|| {
        ApiError::not_found(
            "ResourceNotFound",
            format!(
                "The endpoint '{endpoint}' of Azure Digital Twins instance '{name}' was not found."
            ),
        )
    })?;
    Ok(json_response(
        StatusCode::OK,
        &Value::Object(r.body.clone()),
    ))
}

fn list(call: &Call, sub: &str, rg: &str, name: &str) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    let instance_id = scope::digital_twins_id(sub, rg, name);
    rbac::authorize(&st, call.caller, &instance_id, &format!("{TYPE}/read"))?;
    let instance = instance_key(&st, sub, rg, name)?;
    let prefix = format!("{instance}/endpoints/");
    let value: Vec<Value> = st
        .generic
        .iter()
        .filter(|(k, _)| k.starts_with(&prefix) && !k[prefix.len()..].contains('/'))
        .map(|(_, r)| Value::Object(r.body.clone()))
        .collect();
    Ok(json_response(StatusCode::OK, &json!({ "value": value })))
}

fn delete(call: &Call, sub: &str, rg: &str, name: &str, endpoint: &str) -> Result<Resp, ApiError> {
    let mut st = call.ctx.world();
    let id = endpoint_id(sub, rg, name, endpoint);
    rbac::authorize(&st, call.caller, &id, &format!("{TYPE}/delete"))?;
    instance_key(&st, sub, rg, name)?;
    if st.generic.remove(&scope::key(&id)).is_some() {
        st.touch();
        Ok(empty(StatusCode::OK))
    } else {
        Ok(empty(StatusCode::NO_CONTENT))
    }
}
