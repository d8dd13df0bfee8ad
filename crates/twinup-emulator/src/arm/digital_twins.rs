//! `Microsoft.DigitalTwins/digitalTwinsInstances` (2023-01-31): create as a long-running operation
//! (201 `Provisioning`, `hostName: null`), update by PUT (200) or PATCH (a long-running operation:
//! 202 `Updating`), delete (202 then gone), read, list, global name checks, and the
//! system-assigned identity as a directory principal.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use crate::clock::{DT_CREATE_SECS, DT_DELETE_SECS, DT_UPDATE_SECS};
use crate::ctx::lock;
use crate::errors::ApiError;
use crate::faults::FaultKind;
use crate::graph::objects;
use crate::http::{Resp, empty, json_response};
use crate::regions;
use crate::state::{
    DigitalTwin, DirObject, Identity, Operation, OperationError, OperationKind, State,
};

use super::{Call, managed_identities, operations, rbac, scope};

const TYPE: &str = "Microsoft.DigitalTwins/digitalTwinsInstances";
const READ: &str = "Microsoft.DigitalTwins/digitalTwinsInstances/read";
const WRITE: &str = "Microsoft.DigitalTwins/digitalTwinsInstances/write";
const DELETE: &str = "Microsoft.DigitalTwins/digitalTwinsInstances/delete";

fn ms(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn micros(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The `DigitalTwinsDescription` body of an instance.
pub(crate) fn render(dt: &DigitalTwin, tenant_id: &str) -> Value {
    let mut body = Map::new();
    body.insert(
        "id".into(),
        json!(scope::digital_twins_id(
            &dt.subscription_id,
            &dt.resource_group,
            &dt.name
        )),
    );
    body.insert("location".into(), json!(dt.location));
    body.insert("type".into(), json!(TYPE));
    body.insert("name".into(), json!(dt.name));
    if let Some(tags) = &dt.tags {
        body.insert("tags".into(), Value::Object(tags.clone()));
    }
    if let Some(identity) = &dt.identity {
        let mut id = Map::new();
        id.insert("type".into(), json!(identity.kind));
        if let Some(p) = &identity.principal_id {
            id.insert("principalId".into(), json!(p));
            id.insert("tenantId".into(), json!(tenant_id));
        }
        if !identity.user_assigned.is_empty() {
            let provisioned = dt.provisioning_state != "Provisioning";
            let ua: Map<String, Value> = identity
                .user_assigned
                .iter()
                .map(|(k, (client, principal))| {
                    let v = if provisioned {
                        json!({"clientId": client, "principalId": principal})
                    } else {
                        json!({})
                    };
                    (k.clone(), v)
                })
                .collect();
            id.insert("userAssignedIdentities".into(), Value::Object(ua));
        }
        body.insert("identity".into(), Value::Object(id));
    }
    body.insert(
        "systemData".into(),
        json!({
            "createdBy": dt.created_by,
            "createdByType": dt.created_by_type,
            "createdAt": micros(dt.created_time),
            "lastModifiedBy": dt.last_modified_by,
            "lastModifiedByType": dt.last_modified_by_type,
            "lastModifiedAt": micros(dt.last_modified_at),
        }),
    );
    body.insert(
        "properties".into(),
        json!({
            "createdTime": ms(dt.created_time),
            "lastUpdatedTime": ms(dt.last_updated_time),
            "provisioningState": dt.provisioning_state,
            "hostName": dt.host_name,
            "publicNetworkAccess": dt.public_network_access,
            "privateEndpointConnections": [],
        }),
    );
    Value::Object(body)
}

/// `^(?!-)[A-Za-z0-9-]{3,63}(?<!-)$`, checked by hand.
pub(crate) fn valid_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && !name.starts_with('-')
        && !name.ends_with('-')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn invalid_name_message(name: &str) -> String {
    format!(
        "Name '{name}' is invalid. It must be 3 to 63 characters of letters, digits and hyphens, and must not start or end with a hyphen."
    )
}

fn body_object(call: &Call) -> Result<Map<String, Value>, ApiError> {
    match call.req.json() {
        Ok(Value::Object(m)) => Ok(m),
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

fn parse_tags(body: &Map<String, Value>) -> Result<Option<Map<String, Value>>, ApiError> {
    match body.get("tags") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m.clone())),
        Some(_) => Err(ApiError::bad_request(
            "InvalidRequestContent",
            "The 'tags' property must be an object of string values.",
        )),
    }
}

fn parse_public_access(body: &Map<String, Value>) -> Result<Option<String>, ApiError> {
    let v = body
        .get("properties")
        .and_then(|p| p.get("publicNetworkAccess"))
        .filter(|v| !v.is_null());
    match v.and_then(Value::as_str) {
        None if v.is_some() => Err(ApiError::bad_request(
            "InvalidRequestContent",
            "properties.publicNetworkAccess must be 'Enabled' or 'Disabled'.",
        )),
        None => Ok(None),
        Some(s) if s.eq_ignore_ascii_case("Enabled") => Ok(Some("Enabled".into())),
        Some(s) if s.eq_ignore_ascii_case("Disabled") => Ok(Some("Disabled".into())),
        Some(s) => Err(ApiError::bad_request(
            "InvalidRequestContent",
            format!(
                "properties.publicNetworkAccess '{s}' is not valid; use 'Enabled' or 'Disabled'."
            ),
        )),
    }
}

/// A requested identity: its canonical type and user-assigned identity ids; `None` for type `None`.
type WantedIdentity = Option<(String, Vec<String>)>;

/// The identity requested in a body: `None` when absent, `Some(None)` for type `None`.
fn parse_identity(body: &Map<String, Value>) -> Result<Option<WantedIdentity>, ApiError> {
    let Some(identity) = body.get("identity").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let kind = identity
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("None");
    let canonical = match kind.replace(' ', "").to_lowercase().as_str() {
        "none" => return Ok(Some(None)),
        "systemassigned" => "SystemAssigned",
        "userassigned" => "UserAssigned",
        "systemassigned,userassigned" => "SystemAssigned,UserAssigned",
        _ => {
            return Err(ApiError::bad_request(
                "InvalidIdentityType",
                format!(
                    "Identity type '{kind}' is not supported. Use None, SystemAssigned, UserAssigned or 'SystemAssigned,UserAssigned'."
                ),
            ));
        }
    };
    let ua: Vec<String> = identity
        .get("userAssignedIdentities")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    if canonical.contains("UserAssigned") && ua.is_empty() {
        return Err(ApiError::bad_request(
            "InvalidIdentity",
            "Identity type includes UserAssigned but userAssignedIdentities is empty.",
        ));
    }
    Ok(Some(Some((canonical.to_string(), ua))))
}

/// Every user-assigned identity a request names must exist (see [`managed_identities`]).
fn check_identities(
    st: &State,
    id: &str,
    identity: Option<&WantedIdentity>,
) -> Result<(), ApiError> {
    match identity {
        Some(Some((_, ua_ids))) => managed_identities::check_exist(st, id, ua_ids),
        _ => Ok(()),
    }
}

/// Applies a requested identity to an instance, keeping generated ids that stay valid.
fn apply_identity(
    st: &mut State,
    dt: &mut DigitalTwin,
    wanted: Option<(String, Vec<String>)>,
    provisioned: bool,
    now: DateTime<Utc>,
) {
    let old = dt.identity.take();
    let Some((kind, ua_ids)) = wanted else {
        if let Some(o) = old
            && let Some(p) = o.principal_id
        {
            st.service_principals.remove(&p);
        }
        return;
    };
    let system = kind.contains("SystemAssigned");
    let mut principal_id = old.as_ref().and_then(|o| o.principal_id.clone());
    if !system {
        if let Some(p) = principal_id.take() {
            st.service_principals.remove(&p);
        }
    } else if principal_id.is_none() && provisioned {
        principal_id = Some(create_system_principal(st, dt, now));
    }
    // A user-assigned identity's clientId and principalId are those of the identity resource.
    let mut user_assigned = BTreeMap::new();
    for id in ua_ids {
        let existing = managed_identities::ids_of(st, &id)
            .or_else(|| old.as_ref().and_then(|o| o.user_assigned.get(&id).cloned()))
            .unwrap_or_else(|| {
                (
                    uuid::Uuid::new_v4().to_string(),
                    uuid::Uuid::new_v4().to_string(),
                )
            });
        user_assigned.insert(id, existing);
    }
    dt.identity = Some(Identity {
        kind,
        principal_id,
        user_assigned,
    });
}

/// Creates the managed-identity service principal of an instance; returns its object id.
fn create_system_principal(st: &mut State, dt: &DigitalTwin, at: DateTime<Utc>) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    let app_id = uuid::Uuid::new_v4().to_string();
    let resource_id = scope::digital_twins_id(&dt.subscription_id, &dt.resource_group, &dt.name);
    st.service_principals.insert(
        id.clone(),
        DirObject {
            body: objects::managed_identity_body(&id, &app_id, &dt.name, &resource_id),
            created_at: at,
            secrets: Vec::new(),
            owners: Vec::new(),
        },
    );
    id
}

/// Removes the system identity principal of a deleted instance.
pub(crate) fn drop_identity(st: &mut State, dt: &DigitalTwin) {
    if let Some(p) = dt.identity.as_ref().and_then(|i| i.principal_id.as_ref()) {
        st.service_principals.remove(p);
    }
}

fn not_found(rg: &str, name: &str) -> ApiError {
    ApiError::not_found(
        "ResourceNotFound",
        format!(
            "The Resource '{TYPE}/{name}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    )
}

fn lro_fault(call: &Call) -> Option<OperationError> {
    match lock(&call.ctx.faults).take_lro(call.req.method.as_str(), &call.req.path) {
        Some(FaultKind::LroFailed {
            code,
            message,
            status,
        }) => Some(OperationError {
            code,
            message,
            http_status: status,
        }),
        _ => None,
    }
}

fn busy(dt: &DigitalTwin) -> Option<ApiError> {
    match dt.provisioning_state.as_str() {
        "Provisioning" | "Updating" | "Deleting" => Some(ApiError::conflict(
            "AnotherOperationInProgress",
            format!(
                "The Azure Digital Twins instance '{}' is in state '{}'. Wait until the running operation finishes (poll it or GET the instance), then retry.",
                dt.name, dt.provisioning_state
            ),
        )),
        _ => None,
    }
}

pub(crate) fn put(call: &Call, sub: &str, rg: &str, name: &str) -> Result<Resp, ApiError> {
    let now = call.ctx.clock.now();
    let mut st = call.ctx.world();
    scope::check_subscription(&st, sub)?;
    let id = scope::digital_twins_id(sub, rg, name);
    rbac::authorize(&st, call.caller, &id, WRITE)?;
    if !valid_name(name) {
        return Err(ApiError::bad_request(
            "InvalidResourceName",
            invalid_name_message(name),
        ));
    }
    let body = body_object(call)?;
    let Some(location) = body.get("location").and_then(Value::as_str) else {
        return Err(ApiError::bad_request(
            "LocationRequired",
            "The location property is required for this definition.",
        ));
    };
    let region = regions::find(location).filter(|r| r.digital_twins).ok_or_else(|| {
        ApiError::bad_request(
            "LocationNotAvailableForResourceType",
            format!(
                "The provided location '{location}' is not available for resource type '{TYPE}'. List of available regions for the resource type is '{}'.",
                regions::digital_twins_regions().join(",")
            ),
        )
    })?;
    let tags = parse_tags(&body)?;
    let identity = parse_identity(&body)?;
    check_identities(&st, &id, identity.as_ref())?;
    let public_access = parse_public_access(&body)?;
    let rg_key = scope::key(&scope::resource_group_id(sub, rg));
    let group = st
        .resource_groups
        .get(&rg_key)
        .ok_or_else(|| scope::resource_group_missing(rg))?;
    if group.provisioning_state == "Deleting" {
        return Err(ApiError::conflict(
            "ResourceGroupBeingDeleted",
            format!(
                "The resource group '{}' is in deprovisioning state and cannot perform this operation.",
                group.name
            ),
        ));
    }
    let group_name = group.name.clone();
    let key = scope::key(&id);

    if let Some(existing) = st.digital_twins.get(&key).cloned() {
        if let Some(e) = busy(&existing) {
            return Err(e);
        }
        if existing.location != region.name {
            return Err(ApiError::conflict(
                "InvalidResourceLocation",
                format!(
                    "The resource '{name}' already exists in location '{}' in resource group '{rg}'. A resource with the same name cannot be created in location '{}'. Please select a new resource name.",
                    existing.location, region.name
                ),
            ));
        }
        if existing.provisioning_state == "Succeeded" {
            let mut dt = existing;
            dt.tags = tags;
            dt.public_network_access = public_access.unwrap_or_else(|| "Enabled".into());
            apply_identity(&mut st, &mut dt, identity.flatten(), true, now);
            dt.last_updated_time = now;
            dt.last_modified_at = now;
            dt.last_modified_by = call.caller.display().to_string();
            dt.last_modified_by_type = call.caller.kind().to_string();
            let out = render(&dt, &st.tenant.tenant_id);
            st.digital_twins.insert(key, dt);
            st.touch();
            return Ok(json_response(StatusCode::OK, &out));
        }
    }
    if let Some(other) = st
        .digital_twins
        .iter()
        .find(|(k, d)| **k != key && d.name.eq_ignore_ascii_case(name))
    {
        let _ = other;
        return Err(ApiError::conflict(
            "NameUnavailable",
            format!(
                "The name '{name}' is already in use by another Azure Digital Twins instance. Instance names are global; use checkNameAvailability to find a free name."
            ),
        ));
    }
    let mut dt = DigitalTwin {
        subscription_id: st.tenant.subscription_id.clone(),
        resource_group: group_name,
        name: name.to_string(),
        location: region.name.to_string(),
        tags,
        identity: None,
        public_network_access: public_access.unwrap_or_else(|| "Enabled".into()),
        provisioning_state: "Provisioning".into(),
        host_name: None,
        created_time: now,
        last_updated_time: now,
        created_by: call.caller.display().to_string(),
        created_by_type: call.caller.kind().to_string(),
        last_modified_by: call.caller.display().to_string(),
        last_modified_by_type: call.caller.kind().to_string(),
        last_modified_at: now,
        operation: None,
    };
    apply_identity(&mut st, &mut dt, identity.flatten(), false, now);
    let op = operations::start(
        &mut st,
        OperationKind::DigitalTwinsCreate,
        sub,
        region.name,
        &call.api_version,
        &key,
        now,
        call.ctx.clock.scaled(DT_CREATE_SECS),
        lro_fault(call),
    );
    dt.operation = Some(op.clone());
    let out = render(&dt, &st.tenant.tenant_id);
    st.digital_twins.insert(key, dt);
    st.touch();
    let mut resp = json_response(StatusCode::CREATED, &out);
    operations::add_async_headers(&mut resp, call, &st, &op);
    Ok(resp)
}

pub(crate) fn patch(call: &Call, sub: &str, rg: &str, name: &str) -> Result<Resp, ApiError> {
    let now = call.ctx.clock.now();
    let mut st = call.ctx.world();
    scope::check_subscription(&st, sub)?;
    let id = scope::digital_twins_id(sub, rg, name);
    rbac::authorize(&st, call.caller, &id, WRITE)?;
    let body = body_object(call)?;
    let tags = parse_tags(&body)?;
    let identity = parse_identity(&body)?;
    check_identities(&st, &id, identity.as_ref())?;
    let public_access = parse_public_access(&body)?;
    if !st
        .resource_groups
        .contains_key(&scope::key(&scope::resource_group_id(sub, rg)))
    {
        return Err(scope::resource_group_missing(rg));
    }
    let key = scope::key(&id);
    let mut dt = st
        .digital_twins
        .get(&key)
        .cloned()
        .ok_or_else(|| not_found(rg, name))?;
    if let Some(e) = busy(&dt) {
        return Err(e);
    }
    if body.contains_key("tags") {
        dt.tags = tags;
    }
    if let Some(p) = public_access {
        dt.public_network_access = p;
    }
    if let Some(i) = identity {
        let provisioned = dt.provisioning_state == "Succeeded";
        apply_identity(&mut st, &mut dt, i, provisioned, now);
    }
    dt.last_updated_time = now;
    dt.last_modified_at = now;
    dt.last_modified_by = call.caller.display().to_string();
    dt.last_modified_by_type = call.caller.kind().to_string();
    // DigitalTwins_Update is `x-ms-long-running-operation: true` with responses 200 and 202
    // (digitaltwins.json 2023-01-31); the examples DigitalTwinsPatch_WithPublicNetworkAccess.json
    // and DigitalTwinsPatch_WithIdentity_example.json show the 202: the patched body with
    // `provisioningState: Updating` and `azure-asyncoperation` / `location` / `retry-after`
    // headers. The stricter reading: every PATCH is accepted as such an operation.
    dt.provisioning_state = "Updating".into();
    let op = operations::start(
        &mut st,
        OperationKind::DigitalTwinsUpdate,
        sub,
        &dt.location.clone(),
        &call.api_version,
        &key,
        now,
        call.ctx.clock.scaled(DT_UPDATE_SECS),
        lro_fault(call),
    );
    dt.operation = Some(op.clone());
    let out = render(&dt, &st.tenant.tenant_id);
    st.digital_twins.insert(key, dt);
    st.touch();
    let mut resp = json_response(StatusCode::ACCEPTED, &out);
    operations::add_async_headers(&mut resp, call, &st, &op);
    Ok(resp)
}

pub(crate) fn get(call: &Call, sub: &str, rg: &str, name: &str) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    scope::check_subscription(&st, sub)?;
    let id = scope::digital_twins_id(sub, rg, name);
    rbac::authorize(&st, call.caller, &id, READ)?;
    if !st
        .resource_groups
        .contains_key(&scope::key(&scope::resource_group_id(sub, rg)))
    {
        return Err(scope::resource_group_missing(rg));
    }
    let dt = st
        .digital_twins
        .get(&scope::key(&id))
        .ok_or_else(|| not_found(rg, name))?;
    Ok(json_response(
        StatusCode::OK,
        &render(dt, &st.tenant.tenant_id),
    ))
}

pub(crate) fn list(call: &Call, sub: &str, rg: Option<&str>) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    scope::check_subscription(&st, sub)?;
    let target = match rg {
        Some(rg) => {
            let id = scope::resource_group_id(sub, rg);
            if !st.resource_groups.contains_key(&scope::key(&id)) {
                return Err(scope::resource_group_missing(rg));
            }
            id
        }
        None => scope::subscription_id(sub),
    };
    rbac::authorize(&st, call.caller, &target, READ)?;
    let value: Vec<Value> = st
        .digital_twins
        .values()
        .filter(|d| d.subscription_id.eq_ignore_ascii_case(sub))
        .filter(|d| rg.is_none_or(|r| d.resource_group.eq_ignore_ascii_case(r)))
        .map(|d| render(d, &st.tenant.tenant_id))
        .collect();
    Ok(json_response(StatusCode::OK, &json!({"value": value})))
}

pub(crate) fn delete(call: &Call, sub: &str, rg: &str, name: &str) -> Result<Resp, ApiError> {
    let now = call.ctx.clock.now();
    let mut st = call.ctx.world();
    scope::check_subscription(&st, sub)?;
    let id = scope::digital_twins_id(sub, rg, name);
    rbac::authorize(&st, call.caller, &id, DELETE)?;
    // A DELETE under a resource group that does not exist is 404 `ResourceGroupNotFound`, not
    // the 204 of an absent resource: ARM checks the group before the provider sees the call, as
    // for every other method (Learn, "Resolve resource not found errors": ResourceGroupNotFound
    // "Resource group '{name}' could not be found.").
    if !st
        .resource_groups
        .contains_key(&scope::key(&scope::resource_group_id(sub, rg)))
    {
        return Err(scope::resource_group_missing(rg));
    }
    let key = scope::key(&id);
    let Some(dt) = st.digital_twins.get(&key).cloned() else {
        return Ok(empty(StatusCode::NO_CONTENT));
    };
    let op_id = match (&dt.operation, dt.provisioning_state.as_str()) {
        (Some(op), "Deleting") => op.clone(),
        _ => {
            if let Some(running) = &dt.operation {
                operations::cancel(&mut st, running, now);
            }
            let op = operations::start(
                &mut st,
                OperationKind::DigitalTwinsDelete,
                sub,
                &dt.location,
                &call.api_version,
                &key,
                now,
                call.ctx.clock.scaled(DT_DELETE_SECS),
                lro_fault(call),
            );
            if let Some(d) = st.digital_twins.get_mut(&key) {
                d.provisioning_state = "Deleting".into();
                d.operation = Some(op.clone());
            }
            op
        }
    };
    let out = st
        .digital_twins
        .get(&key)
        .map(|d| render(d, &st.tenant.tenant_id))
        .unwrap_or(Value::Null);
    st.touch();
    let mut resp = json_response(StatusCode::ACCEPTED, &out);
    operations::add_async_headers(&mut resp, call, &st, &op_id);
    Ok(resp)
}

pub(crate) fn check_name(call: &Call, sub: &str, location: &str) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    scope::check_subscription(&st, sub)?;
    if regions::find(location).is_none_or(|r| !r.digital_twins) {
        return Err(ApiError::bad_request(
            "LocationNotAvailableForResourceType",
            format!(
                "The provided location '{location}' is not available for resource type '{TYPE}'."
            ),
        ));
    }
    rbac::authorize(
        &st,
        call.caller,
        &scope::subscription_id(sub),
        "Microsoft.DigitalTwins/locations/checkNameAvailability/action",
    )?;
    let body = body_object(call)?;
    let name = body.get("name").and_then(Value::as_str);
    let kind = body.get("type").and_then(Value::as_str);
    let (Some(name), Some(kind)) = (name, kind) else {
        return Err(ApiError::bad_request(
            "InvalidRequestContent",
            "Both 'name' and 'type' are required, e.g. {\"name\":\"my-adt\",\"type\":\"Microsoft.DigitalTwins/digitalTwinsInstances\"}.",
        ));
    };
    if !kind.eq_ignore_ascii_case(TYPE) {
        return Err(ApiError::bad_request(
            "InvalidRequestContent",
            format!("'type' must be '{TYPE}', got '{kind}'."),
        ));
    }
    let body = if !valid_name(name) {
        json!({"nameAvailable": false, "message": invalid_name_message(name), "reason": "Invalid"})
    } else if st
        .digital_twins
        .values()
        .any(|d| d.name.eq_ignore_ascii_case(name))
    {
        json!({"nameAvailable": false, "message": format!("Name '{name}' is already taken. Please specify a different name"), "reason": "AlreadyExists"})
    } else {
        json!({"nameAvailable": true, "message": null, "reason": null})
    };
    Ok(json_response(StatusCode::OK, &body))
}

/// Completes instance creation: `Succeeded` with a host name (and identity), or `Failed`.
pub(crate) fn finish_create(
    st: &mut State,
    op: &Operation,
) -> (&'static str, Option<OperationError>) {
    let Some(mut dt) = st.digital_twins.get(&op.resource_key).cloned() else {
        return (
            "Canceled",
            Some(OperationError {
                code: "Canceled".into(),
                message: "The instance was deleted before provisioning finished.".into(),
                http_status: 409,
            }),
        );
    };
    if dt.operation.as_deref() != Some(op.id.as_str()) {
        return ("Canceled", None);
    }
    dt.operation = None;
    dt.last_updated_time = op.ends;
    if let Some(e) = &op.fail_with {
        dt.provisioning_state = "Failed".into();
        st.digital_twins.insert(op.resource_key.clone(), dt);
        return ("Failed", Some(e.clone()));
    }
    dt.provisioning_state = "Succeeded".into();
    let code = regions::find(&dt.location)
        .map(|r| r.code)
        .unwrap_or("local");
    dt.host_name = Some(format!(
        "{}.api.{code}.digitaltwins.azure.net",
        dt.name.to_lowercase()
    ));
    if let Some(identity) = dt.identity.clone()
        && identity.kind.contains("SystemAssigned")
        && identity.principal_id.is_none()
    {
        let p = create_system_principal(st, &dt, op.ends);
        if let Some(i) = dt.identity.as_mut() {
            i.principal_id = Some(p);
        }
    }
    st.digital_twins.insert(op.resource_key.clone(), dt);
    ("Succeeded", None)
}

/// Completes an instance PATCH: `Succeeded` (the changes were applied when it was accepted), or
/// `Failed` when a fault says so.
pub(crate) fn finish_update(
    st: &mut State,
    op: &Operation,
) -> (&'static str, Option<OperationError>) {
    let Some(dt) = st.digital_twins.get_mut(&op.resource_key) else {
        return ("Canceled", None);
    };
    if dt.operation.as_deref() != Some(op.id.as_str()) {
        return ("Canceled", None);
    }
    dt.operation = None;
    dt.last_updated_time = op.ends;
    if let Some(e) = &op.fail_with {
        dt.provisioning_state = "Failed".into();
        return ("Failed", Some(e.clone()));
    }
    dt.provisioning_state = "Succeeded".into();
    ("Succeeded", None)
}

/// Completes instance deletion: the instance, its identity and its role assignments disappear.
pub(crate) fn finish_delete(
    st: &mut State,
    op: &Operation,
) -> (&'static str, Option<OperationError>) {
    if let Some(e) = &op.fail_with {
        if let Some(dt) = st.digital_twins.get_mut(&op.resource_key) {
            dt.provisioning_state = "Failed".into();
            dt.operation = None;
        }
        return ("Failed", Some(e.clone()));
    }
    if let Some(dt) = st.digital_twins.remove(&op.resource_key) {
        drop_identity(st, &dt);
    }
    let key = op.resource_key.clone();
    st.role_assignments.retain(|_, a| {
        let k = scope::key(&a.scope);
        !(k == key || k.starts_with(&format!("{key}/")))
    });
    st.generic.retain(|k, _| !k.starts_with(&format!("{key}/")));
    ("Succeeded", None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_spec_pattern() {
        assert!(valid_name("my-adt-1"));
        assert!(!valid_name("ab"));
        assert!(!valid_name("-abc"));
        assert!(!valid_name("abc-"));
        assert!(!valid_name("a_bc"));
        assert!(valid_name(&"a".repeat(63)));
        assert!(!valid_name(&"a".repeat(64)));
    }
}
