//! Role definitions (built-in and custom) by id or `$filter=roleName eq '...'`, and the caller's
//! effective `permissions` at a scope.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::http::{Resp, json_response};
use crate::roles::RoleDefinition;

use super::{Call, rbac, scope};

const READ: &str = "Microsoft.Authorization/roleDefinitions/read";

fn render(d: &RoleDefinition, scope_display: &str) -> Value {
    json!({
        "id": scope::role_definition_id(scope_display, &d.id),
        "name": d.id,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": d.role_name,
            "type": if d.built_in { "BuiltInRole" } else { "CustomRole" },
            "description": d.description,
            "assignableScopes": ["/"],
            "permissions": [{
                "actions": d.actions,
                "notActions": d.not_actions,
                "dataActions": d.data_actions,
                "notDataActions": d.not_data_actions,
            }],
            "createdOn": "2015-02-02T21:55:09.8806423Z",
            "updatedOn": "2024-01-01T00:00:00.0000000Z",
            "createdBy": null,
            "updatedBy": null
        }
    })
}

fn check_read(call: &Call, st: &crate::state::State, scope_display: &str) -> Result<(), ApiError> {
    if scope_display == "/" {
        return Ok(());
    }
    rbac::authorize(st, call.caller, scope_display, READ)?;
    scope::check_exists(st, scope_display)
}

pub(crate) fn list(call: &Call, scope_raw: &str) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    let scope_display = scope::display(scope_raw);
    check_read(call, &st, &scope_display)?;
    let filter = call
        .req
        .query_param("$filter")
        .unwrap_or("")
        .trim()
        .to_string();
    let quoted = |s: &str| s.trim().trim_matches('\'').to_string();
    let lower = filter.to_lowercase();
    let defs = st.all_role_definitions();
    let chosen: Vec<&RoleDefinition> = if filter.is_empty() {
        defs.iter().collect()
    } else if lower.starts_with("rolename eq ") {
        let name = quoted(&filter[12..]);
        defs.iter()
            .filter(|d| d.role_name.eq_ignore_ascii_case(&name))
            .collect()
    } else if lower.starts_with("type eq ") {
        let t = quoted(&filter[8..]);
        defs.iter()
            .filter(|d| {
                (d.built_in && t.eq_ignore_ascii_case("BuiltInRole"))
                    || (!d.built_in && t.eq_ignore_ascii_case("CustomRole"))
            })
            .collect()
    } else {
        return Err(ApiError::bad_request(
            "UnsupportedQuery",
            format!(
                "The filter '{filter}' is not supported. Use roleName eq '{{name}}' or type eq 'BuiltInRole'."
            ),
        ));
    };
    let value: Vec<Value> = chosen.iter().map(|d| render(d, &scope_display)).collect();
    Ok(json_response(StatusCode::OK, &json!({"value": value})))
}

pub(crate) fn get(call: &Call, scope_raw: &str, id: &str) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    let scope_display = scope::display(scope_raw);
    check_read(call, &st, &scope_display)?;
    let d = st.role_definition(id).ok_or_else(|| {
        ApiError::not_found(
            "RoleDefinitionDoesNotExist",
            format!("The specified role definition with ID '{id}' does not exist."),
        )
    })?;
    Ok(json_response(StatusCode::OK, &render(&d, &scope_display)))
}

/// `GET {scope}/providers/Microsoft.Authorization/permissions`: one entry per applicable assignment.
pub(crate) fn permissions(call: &Call, scope_raw: &str) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    let scope_display = scope::display(scope_raw);
    scope::check_exists(&st, &scope_display)?;
    let value: Vec<Value> = rbac::effective(&st, &call.caller.object_id, &scope_display)
        .iter()
        .map(|(_, d)| {
            json!({
                "actions": d.actions,
                "notActions": d.not_actions,
                "dataActions": d.data_actions,
                "notDataActions": d.not_data_actions,
            })
        })
        .collect();
    Ok(json_response(StatusCode::OK, &json!({"value": value})))
}
