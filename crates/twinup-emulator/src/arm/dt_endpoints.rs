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
//! emulator's stricter reading).
//!
//! Data history connections (`.../timeSeriesDatabaseConnections/{name}`, same spec:
//! `TimeSeriesDatabaseConnections_*`, `connectionType` `AzureDataExplorer`, `identity` a
//! `ManagedIdentityReference`; example `DigitalTwinsTimeSeriesDatabaseConnectionsPut_example.json`)
//! are served the same way; they always authenticate with an identity (the system-assigned one
//! when none is named). Both are kept with the generic resources, under the instance's id, so
//! deleting the instance removes them.

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::errors::ApiError;
use crate::http::{Resp, empty, json_response};
use crate::state::{GenericResource, State};

use super::{Call, method_not_allowed, rbac, scope};

/// A collection of an instance's children that may authenticate with its identities.
pub(crate) struct Collection {
    /// The path segment, as the spec spells it.
    pub segment: &'static str,
    type_name: &'static str,
    /// The discriminator property and its values.
    kind_field: &'static str,
    kinds: &'static [&'static str],
    /// True when every child authenticates with an identity (no `authenticationType`).
    always_identity: bool,
}

const COLLECTIONS: &[Collection] = &[
    Collection {
        segment: "endpoints",
        type_name: "Microsoft.DigitalTwins/digitalTwinsInstances/endpoints",
        kind_field: "endpointType",
        kinds: &["EventHub", "EventGrid", "ServiceBus"],
        always_identity: false,
    },
    Collection {
        segment: "timeSeriesDatabaseConnections",
        type_name: "Microsoft.DigitalTwins/digitalTwinsInstances/timeSeriesDatabaseConnections",
        kind_field: "connectionType",
        kinds: &["AzureDataExplorer"],
        always_identity: true,
    },
];

/// The collection a path segment names (case-insensitive), if any.
pub(crate) fn collection(segment: &str) -> Option<&'static Collection> {
    COLLECTIONS
        .iter()
        .find(|c| c.segment.eq_ignore_ascii_case(segment))
}

/// One request on a collection: which, and the instance it belongs to.
struct Target<'a> {
    c: &'static Collection,
    sub: &'a str,
    rg: &'a str,
    name: &'a str,
}

impl Target<'_> {
    fn child_id(&self, child: &str) -> String {
        format!(
            "{}/{}/{child}",
            scope::digital_twins_id(self.sub, self.rg, self.name),
            self.c.segment
        )
    }

    fn action(&self, verb: &str) -> String {
        format!("{}/{verb}", self.c.type_name)
    }

    /// The instance's state key; 404 when it does not exist.
    fn instance_key(&self, st: &State) -> Result<String, ApiError> {
        scope::check_subscription(st, self.sub)?;
        let key = scope::key(&scope::digital_twins_id(self.sub, self.rg, self.name));
        if st.digital_twins.contains_key(&key) {
            Ok(key)
        } else {
            Err(ApiError::not_found(
                "ResourceNotFound",
                format!(
                    "The Resource 'Microsoft.DigitalTwins/digitalTwinsInstances/{}' under resource group '{}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
                    self.name, self.rg
                ),
            ))
        }
    }
}

/// Serves list, PUT, GET and DELETE of an instance's endpoints or data history connections.
pub(crate) fn handle(
    call: &Call,
    sub: &str,
    rg: &str,
    name: &str,
    segment: &str,
    child: Option<&str>,
) -> Result<Resp, ApiError> {
    let Some(c) = collection(segment) else {
        return Err(method_not_allowed(call.req));
    };
    let t = Target { c, sub, rg, name };
    let m = &call.req.method;
    match child {
        None if *m == Method::GET => list(call, &t),
        Some(e) if *m == Method::PUT => put(call, &t, e),
        Some(e) if *m == Method::GET => get(call, &t, e),
        Some(e) if *m == Method::DELETE => delete(call, &t, e),
        _ => Err(method_not_allowed(call.req)),
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("InvalidRequestContent", message)
}

/// Checks the child's properties against the spec and the instance's identities.
fn check(
    c: &Collection,
    st: &State,
    instance: &str,
    props: &Map<String, Value>,
) -> Result<(), ApiError> {
    let kind = props.get(c.kind_field).and_then(Value::as_str);
    if !kind.is_some_and(|k| c.kinds.iter().any(|t| t.eq_ignore_ascii_case(k))) {
        return Err(invalid(format!(
            "properties.{} is required: {}.",
            c.kind_field,
            c.kinds.join(", ")
        )));
    }
    let default_auth = if c.always_identity {
        "IdentityBased"
    } else {
        "KeyBased"
    };
    let auth = props
        .get("authenticationType")
        .and_then(Value::as_str)
        .unwrap_or(default_auth);
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
    let dt_identity = st
        .digital_twins
        .get(instance)
        .and_then(|d| d.identity.as_ref());
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
                "The Azure Digital Twins instance has no system-assigned identity; enable it before using it to authenticate.",
            ));
        }
    } else {
        return Err(invalid(format!(
            "properties.identity.type '{id_type}' is not valid for identity-based authentication; use SystemAssigned or UserAssigned."
        )));
    }
    Ok(())
}

fn put(call: &Call, t: &Target, child: &str) -> Result<Resp, ApiError> {
    let now = call.ctx.clock.now();
    let mut st = call.ctx.world();
    let id = t.child_id(child);
    rbac::authorize(&st, call.caller, &id, &t.action("write"))?;
    let instance = t.instance_key(&st)?;
    let body = match call.req.json() {
        Ok(Value::Object(m)) => m,
        _ => return Err(invalid("The request content must be a JSON object.")),
    };
    let mut props = body
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    check(t.c, &st, &instance, &props)?;
    let key = scope::key(&id);
    let existing = st.generic.get(&key).map(|r| r.body.clone());
    let created = existing
        .as_ref()
        .and_then(|b| b.get("properties")?.get("createdTime").cloned())
        .unwrap_or_else(|| json!(now.to_rfc3339()));
    props.insert("provisioningState".into(), json!("Succeeded"));
    props.insert("createdTime".into(), created);
    let mut map = Map::new();
    map.insert("id".into(), json!(id));
    map.insert("name".into(), json!(child));
    map.insert("type".into(), json!(t.c.type_name));
    map.insert("properties".into(), Value::Object(props));
    let out = Value::Object(map.clone());
    st.generic.insert(key, GenericResource { body: map });
    st.touch();
    let status = if existing.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(json_response(status, &out))
}

fn get(call: &Call, t: &Target, child: &str) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    let id = t.child_id(child);
    rbac::authorize(&st, call.caller, &id, &t.action("read"))?;
    t.instance_key(&st)?;
    let r = st.generic.get(&scope::key(&id)).ok_or_else(|| {
        ApiError::not_found(
            "ResourceNotFound",
            format!(
                "The {} '{child}' of Azure Digital Twins instance '{}' was not found.",
                t.c.segment, t.name
            ),
        )
    })?;
    Ok(json_response(
        StatusCode::OK,
        &Value::Object(r.body.clone()),
    ))
}

fn list(call: &Call, t: &Target) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    let instance_id = scope::digital_twins_id(t.sub, t.rg, t.name);
    rbac::authorize(&st, call.caller, &instance_id, &t.action("read"))?;
    let instance = t.instance_key(&st)?;
    let prefix = format!("{instance}/{}/", t.c.segment.to_lowercase());
    let value: Vec<Value> = st
        .generic
        .iter()
        .filter(|(k, _)| k.starts_with(&prefix) && !k[prefix.len()..].contains('/'))
        .map(|(_, r)| Value::Object(r.body.clone()))
        .collect();
    Ok(json_response(StatusCode::OK, &json!({ "value": value })))
}

fn delete(call: &Call, t: &Target, child: &str) -> Result<Resp, ApiError> {
    let mut st = call.ctx.world();
    let id = t.child_id(child);
    rbac::authorize(&st, call.caller, &id, &t.action("delete"))?;
    t.instance_key(&st)?;
    if st.generic.remove(&scope::key(&id)).is_some() {
        st.touch();
        Ok(empty(StatusCode::OK))
    } else {
        Ok(empty(StatusCode::NO_CONTENT))
    }
}
