//! The Tags API at a scope (`{scope}/providers/Microsoft.Resources/tags/default`, resources
//! 2025-04-01): `GET` reads a resource group's or resource's tags, `PUT` replaces the whole set,
//! `PATCH` with `operation` `Merge` adds and changes keys, `Replace` replaces the set and `Delete`
//! removes the given keys, and `DELETE` removes every tag.
//!
//! Source: azure-rest-api-specs, specification/resources/resource-manager/Microsoft.Resources/
//! stable/2025-04-01/resources.json, operations `Tags_GetAtScope`, `Tags_CreateOrUpdateAtScope`
//! ("adding or replacing the entire set of tags"), `Tags_UpdateAtScope` ("The 'merge' option
//! allows adding tags with new names and updating the values of tags with existing names") and
//! `Tags_DeleteAtScope`; examples `PutTagsResource.json`, `PatchTagsResource.json`. The spec
//! allows 200 or 202 for the writes; the emulator answers 200 with the tags resource.

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::errors::ApiError;
use crate::http::{Resp, empty, json_response};
use crate::state::State;

use super::{Call, rbac, scope};

const READ: &str = "Microsoft.Resources/tags/read";
const WRITE: &str = "Microsoft.Resources/tags/write";
const DELETE: &str = "Microsoft.Resources/tags/delete";

/// The tag set a scope's resource keeps, for reading and writing in place.
fn tags_of<'a>(st: &'a mut State, key: &str) -> Option<&'a mut Map<String, Value>> {
    if let Some(g) = st.resource_groups.get_mut(key) {
        return Some(&mut g.tags);
    }
    if let Some(dt) = st.digital_twins.get_mut(key) {
        return Some(dt.tags.get_or_insert_with(Map::new));
    }
    if let Some(r) = st.generic.get_mut(key) {
        let entry = r
            .body
            .entry("tags".to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        return entry.as_object_mut();
    }
    None
}

fn parse_tag_map(body: &Value) -> Result<Map<String, Value>, ApiError> {
    match body.pointer("/properties/tags") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) if m.values().all(Value::is_string) => Ok(m.clone()),
        Some(_) => Err(ApiError::bad_request(
            "InvalidRequestContent",
            "'properties.tags' must be an object of string values.",
        )),
    }
}

fn render(scope: &str, tags: &Map<String, Value>) -> Value {
    json!({
        "id": format!("{}/providers/Microsoft.Resources/tags/default", scope::display(scope)),
        "name": "default",
        "type": "Microsoft.Resources/tags",
        "properties": {"tags": tags},
    })
}

/// Handles every method on `{scope}/providers/Microsoft.Resources/tags/default`.
pub(crate) fn handle(call: &Call, target: &str) -> Result<Resp, ApiError> {
    let mut st = call.ctx.world();
    let action = match call.req.method {
        Method::GET => READ,
        Method::DELETE => DELETE,
        _ => WRITE,
    };
    rbac::authorize(&st, call.caller, target, action)?;
    scope::check_exists(&st, target)?;
    let key = scope::key(target);
    let body = match call.req.method {
        Method::PUT | Method::PATCH => match call.req.json() {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                return Err(ApiError::bad_request(
                    "InvalidRequestContent",
                    "The request content must be a JSON object with 'properties.tags'.",
                ));
            }
        },
        _ => Value::Null,
    };
    let given = parse_tag_map(&body)?;
    let Some(tags) = tags_of(&mut st, &key) else {
        return Err(ApiError::bad_request(
            "InvalidScope",
            format!(
                "The emulator keeps tags on resource groups and resources only, not on '{}'.",
                scope::display(target)
            ),
        ));
    };
    match call.req.method {
        Method::GET => {}
        Method::PUT => *tags = given,
        Method::DELETE => tags.clear(),
        Method::PATCH => match body.get("operation").and_then(Value::as_str) {
            Some(op) if op.eq_ignore_ascii_case("Merge") => tags.extend(given),
            Some(op) if op.eq_ignore_ascii_case("Replace") => *tags = given,
            Some(op) if op.eq_ignore_ascii_case("Delete") => {
                // A key with a value removes that pair only; a key with "" removes the key.
                tags.retain(|k, v| match given.get(k) {
                    None => true,
                    Some(Value::String(s)) if s.is_empty() => false,
                    Some(want) => want != v,
                });
            }
            _ => {
                return Err(ApiError::bad_request(
                    "InvalidRequestContent",
                    "'operation' must be 'Replace', 'Merge' or 'Delete'.",
                ));
            }
        },
        _ => {
            return Err(ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                format!(
                    "The HTTP method '{}' is not supported for tags.",
                    call.req.method
                ),
            ));
        }
    }
    let out = render(target, tags);
    if call.req.method == Method::DELETE {
        st.touch();
        return Ok(empty(StatusCode::OK));
    }
    if call.req.method != Method::GET {
        st.touch();
    }
    Ok(json_response(StatusCode::OK, &out))
}
