//! Role assignments (Microsoft.Authorization 2022-04-01) on any scope: create (201, 200 for an
//! identical re-PUT), read, delete (200/204), list with `$filter`, and the errors ARM gives
//! (`RoleAssignmentExists`, `PrincipalNotFound` during replication, `AuthorizationFailed`, ...).

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::http::{Resp, empty, json_response};
use crate::state::RoleAssignment;

use super::{Call, rbac, scope};

const READ: &str = "Microsoft.Authorization/roleAssignments/read";
const WRITE: &str = "Microsoft.Authorization/roleAssignments/write";
const DELETE: &str = "Microsoft.Authorization/roleAssignments/delete";
const PRINCIPAL_TYPES: &[&str] = &[
    "User",
    "Group",
    "ServicePrincipal",
    "ForeignGroup",
    "Device",
];

fn is_guid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok() && s.len() == 36
}

pub(crate) fn render(a: &RoleAssignment) -> Value {
    json!({
        "properties": {
            "roleDefinitionId": scope::role_definition_id(&a.scope, &a.role_definition_id),
            "principalId": a.principal_id,
            "principalType": a.principal_type,
            "scope": a.scope,
            "condition": a.condition,
            "conditionVersion": a.condition_version,
            "createdOn": a.created_on.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "updatedOn": a.updated_on.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "createdBy": a.created_by,
            "updatedBy": a.created_by,
            "delegatedManagedIdentityResourceId": null,
            "description": a.description,
        },
        "id": a.id,
        "type": "Microsoft.Authorization/roleAssignments",
        "name": a.name,
    })
}

fn assignment_id(scope_display: &str, name: &str) -> String {
    let prefix = if scope_display == "/" {
        ""
    } else {
        scope_display
    };
    format!("{prefix}/providers/Microsoft.Authorization/roleAssignments/{name}")
}

/// The role GUID at the end of a role definition id (any scope prefix accepted).
fn role_guid(role_definition_id: &str) -> Option<String> {
    let last = role_definition_id
        .trim_end_matches('/')
        .rsplit('/')
        .next()?;
    is_guid(last).then(|| last.to_lowercase())
}

pub(crate) fn put(call: &Call, scope_raw: &str, name: &str) -> Result<Resp, ApiError> {
    let now = call.ctx.clock.now();
    let mut st = call.ctx.world();
    let scope_display = scope::display(scope_raw);
    rbac::authorize(&st, call.caller, &scope_display, WRITE)?;
    scope::check_exists(&st, &scope_display)?;
    if !is_guid(name) {
        return Err(ApiError::bad_request(
            "InvalidRoleAssignmentId",
            format!(
                "The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID."
            ),
        ));
    }
    let body = call.req.json().map_err(|e| {
        ApiError::bad_request(
            "InvalidRequestContent",
            format!("The request content was invalid and could not be deserialized: '{e}'."),
        )
    })?;
    let props = body.get("properties").and_then(Value::as_object).ok_or_else(|| {
        ApiError::bad_request(
            "InvalidRequestContent",
            "The request body must contain 'properties' with 'roleDefinitionId' and 'principalId'.",
        )
    })?;
    let field = |k: &str| props.get(k).and_then(Value::as_str).map(str::to_string);
    let role_def_raw = field("roleDefinitionId").ok_or_else(|| {
        ApiError::bad_request(
            "InvalidRequestContent",
            "properties.roleDefinitionId is required.",
        )
    })?;
    let principal_id = field("principalId").ok_or_else(|| {
        ApiError::bad_request(
            "InvalidRequestContent",
            "properties.principalId is required.",
        )
    })?;
    let role = role_guid(&role_def_raw).ok_or_else(|| {
        ApiError::bad_request(
            "InvalidRoleDefinitionId",
            format!("The role definition ID '{role_def_raw}' is not valid."),
        )
    })?;
    if st.role_definition(&role).is_none() {
        return Err(ApiError::bad_request(
            "RoleDefinitionDoesNotExist",
            format!("The specified role definition with ID '{role}' does not exist."),
        ));
    }
    if !is_guid(&principal_id) {
        return Err(ApiError::bad_request(
            "InvalidPrincipalId",
            format!("The principal ID '{principal_id}' is not a valid GUID."),
        ));
    }
    let principal_type = match field("principalType") {
        Some(t) => Some(
            PRINCIPAL_TYPES
                .iter()
                .find(|p| p.eq_ignore_ascii_case(&t))
                .map(|p| p.to_string())
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "InvalidPrincipalType",
                        format!(
                            "Principal type '{t}' is not valid; use one of {}.",
                            PRINCIPAL_TYPES.join(", ")
                        ),
                    )
                })?,
        ),
        None => None,
    };
    let key = scope::key(&assignment_id(&scope_display, name));

    if let Some(existing) = st.role_assignments.get_mut(&key) {
        if !existing.principal_id.eq_ignore_ascii_case(&principal_id)
            || !existing.role_definition_id.eq_ignore_ascii_case(&role)
            || scope::key(&existing.scope) != scope::key(&scope_display)
        {
            return Err(ApiError::bad_request(
                "RoleAssignmentUpdateNotPermitted",
                "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
            ));
        }
        existing.description = field("description").or(existing.description.take());
        existing.condition = field("condition").or(existing.condition.take());
        existing.condition_version =
            field("conditionVersion").or(existing.condition_version.take());
        existing.updated_on = now;
        let out = render(existing);
        st.touch();
        return Ok(json_response(StatusCode::OK, &out));
    }

    let directory = st
        .principal(&principal_id)
        .map(|(obj, kind)| (obj.created_at, kind));
    let resolved_type = match (&principal_type, directory) {
        (Some(t), Some((_, kind))) if t != kind => {
            return Err(ApiError::bad_request(
                "UnmatchedPrincipalType",
                format!(
                    "The PrincipalId '{principal_id}' has type '{kind}', which is different from specified PrincipalType '{t}'."
                ),
            ));
        }
        (Some(t), _) => t.clone(),
        (None, Some((created, kind))) if created + call.ctx.replication_delay <= now => {
            kind.to_string()
        }
        (None, _) => {
            return Err(ApiError::bad_request(
                "PrincipalNotFound",
                format!(
                    "Principal {} does not exist in the directory {}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype",
                    principal_id.replace('-', ""),
                    st.tenant.tenant_id
                ),
            ));
        }
    };
    let scope_key = scope::key(&scope_display);
    if st.role_assignments.values().any(|a| {
        a.principal_id.eq_ignore_ascii_case(&principal_id)
            && a.role_definition_id.eq_ignore_ascii_case(&role)
            && scope::key(&a.scope) == scope_key
    }) {
        return Err(ApiError::conflict(
            "RoleAssignmentExists",
            "The role assignment already exists.",
        ));
    }
    let assignment = RoleAssignment {
        id: assignment_id(&scope_display, name),
        name: name.to_lowercase(),
        scope: scope_display,
        role_definition_id: role,
        principal_id: principal_id.to_lowercase(),
        principal_type: resolved_type,
        description: field("description"),
        condition: field("condition"),
        condition_version: field("conditionVersion"),
        created_on: now,
        updated_on: now,
        created_by: Some(call.caller.object_id.clone()),
    };
    let out = render(&assignment);
    st.role_assignments.insert(key, assignment);
    st.touch();
    Ok(json_response(StatusCode::CREATED, &out))
}

pub(crate) fn get(call: &Call, scope_raw: &str, name: &str) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    let scope_display = scope::display(scope_raw);
    rbac::authorize(&st, call.caller, &scope_display, READ)?;
    let key = scope::key(&assignment_id(&scope_display, name));
    let a = st.role_assignments.get(&key).ok_or_else(|| {
        ApiError::not_found(
            "RoleAssignmentNotFound",
            format!("The role assignment '{name}' is not found."),
        )
    })?;
    Ok(json_response(StatusCode::OK, &render(a)))
}

pub(crate) fn delete(call: &Call, scope_raw: &str, name: &str) -> Result<Resp, ApiError> {
    let mut st = call.ctx.world();
    let scope_display = scope::display(scope_raw);
    rbac::authorize(&st, call.caller, &scope_display, DELETE)?;
    let key = scope::key(&assignment_id(&scope_display, name));
    match st.role_assignments.remove(&key) {
        Some(a) => {
            st.touch();
            Ok(json_response(StatusCode::OK, &render(&a)))
        }
        None => Ok(empty(StatusCode::NO_CONTENT)),
    }
}

/// One `$filter` clause ARM understands for role assignments.
enum Clause {
    AtScope,
    Principal(String),
    Role(String),
}

fn parse_filter(filter: &str) -> Result<Vec<Clause>, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "UnsupportedQuery",
            format!(
                "The filter '{filter}' is not supported. Supported: atScope(), principalId eq '{{id}}', assignedTo('{{id}}'), roleDefinitionId eq '{{id}}', combined with 'and'."
            ),
        )
    };
    let quoted = |s: &str| -> Option<String> {
        let s = s.trim();
        s.strip_prefix('\'')?.strip_suffix('\'').map(str::to_string)
    };
    let mut out = Vec::new();
    let lower = filter.to_lowercase();
    let mut rest = filter;
    let mut rest_lower = lower.as_str();
    loop {
        let (clause, clause_lower, next, next_lower) = match rest_lower.find(" and ") {
            Some(i) => (
                &rest[..i],
                &rest_lower[..i],
                &rest[i + 5..],
                &rest_lower[i + 5..],
            ),
            None => (rest, rest_lower, "", ""),
        };
        let c = clause.trim();
        let cl = clause_lower.trim();
        if cl == "atscope()" {
            out.push(Clause::AtScope);
        } else if let Some(v) = cl.strip_prefix("principalid eq ").and(c.get(15..)) {
            out.push(Clause::Principal(quoted(v).ok_or_else(bad)?));
        } else if cl.starts_with("assignedto(") && cl.ends_with(')') {
            out.push(Clause::Principal(
                quoted(&c[11..c.len() - 1]).ok_or_else(bad)?,
            ));
        } else if let Some(v) = cl.strip_prefix("roledefinitionid eq ").and(c.get(20..)) {
            let id = quoted(v).ok_or_else(bad)?;
            out.push(Clause::Role(role_guid(&id).unwrap_or(id)));
        } else {
            return Err(bad());
        }
        if next.is_empty() {
            break;
        }
        rest = next;
        rest_lower = next_lower;
    }
    Ok(out)
}

pub(crate) fn list(call: &Call, scope_raw: &str) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    let scope_display = scope::display(scope_raw);
    rbac::authorize(&st, call.caller, &scope_display, READ)?;
    scope::check_exists(&st, &scope_display)?;
    let clauses = match call.req.query_param("$filter") {
        Some(f) if !f.trim().is_empty() => parse_filter(f)?,
        _ => Vec::new(),
    };
    let at_scope = clauses.iter().any(|c| matches!(c, Clause::AtScope));
    let target = scope::key(&scope_display);
    let value: Vec<Value> = st
        .role_assignments
        .values()
        .filter(|a| {
            let k = scope::key(&a.scope);
            let above = scope::covers(&k, &target);
            let below = scope::covers(&target, &k);
            if at_scope { above } else { above || below }
        })
        .filter(|a| {
            clauses.iter().all(|c| match c {
                Clause::AtScope => true,
                Clause::Principal(p) => a.principal_id.eq_ignore_ascii_case(p),
                Clause::Role(r) => a.role_definition_id.eq_ignore_ascii_case(r),
            })
        })
        .map(render)
        .collect();
    Ok(json_response(StatusCode::OK, &json!({"value": value})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse() {
        let c = parse_filter("atScope() and principalId eq 'ABC'").unwrap();
        assert!(matches!(c[0], Clause::AtScope));
        assert!(matches!(&c[1], Clause::Principal(p) if p == "ABC"));
        assert!(
            matches!(&parse_filter("assignedTo('x')").unwrap()[0], Clause::Principal(p) if p == "x")
        );
        assert!(parse_filter("name eq 'x'").is_err());
    }

    #[test]
    fn role_guid_accepts_both_id_forms() {
        let g = "bcd981a7-7f74-457b-83e1-cceb9e632ffe";
        assert_eq!(
            role_guid(&format!(
                "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/{g}"
            ))
            .as_deref(),
            Some(g)
        );
        assert_eq!(
            role_guid(&format!(
                "/providers/Microsoft.Authorization/roleDefinitions/{g}"
            ))
            .as_deref(),
            Some(g)
        );
        assert_eq!(role_guid("Owner"), None);
    }
}
