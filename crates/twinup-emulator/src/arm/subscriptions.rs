//! Subscriptions: list and read, so a client can find its subscription (provider registration
//! is in `providers.rs`).

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::http::{Resp, json_response};
use crate::state::State;

use super::{Call, rbac, scope};

fn render(st: &State) -> Value {
    let sub = &st.tenant.subscription_id;
    json!({
        "id": scope::subscription_id(sub),
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": sub,
        "tenantId": st.tenant.tenant_id,
        "displayName": st.tenant.subscription_name,
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off"
        }
    })
}

pub(crate) fn list(call: &Call) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    let visible = rbac::any_access_in(&st, &call.caller.object_id, &st.tenant.subscription_id);
    let value: Vec<Value> = if visible { vec![render(&st)] } else { vec![] };
    let count = value.len();
    Ok(json_response(
        StatusCode::OK,
        &json!({"value": value, "count": {"type": "Total", "value": count}}),
    ))
}

pub(crate) fn get(call: &Call, sub: &str) -> Result<Resp, ApiError> {
    let st = call.ctx.world();
    scope::check_subscription(&st, sub)?;
    if !rbac::any_access_in(&st, &call.caller.object_id, sub) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "AuthorizationFailed",
            format!(
                "The client '{}' with object id '{}' does not have authorization to perform action 'Microsoft.Resources/subscriptions/read' over scope '/subscriptions/{sub}' or the scope is invalid.",
                call.caller.display(),
                call.caller.object_id
            ),
        ));
    }
    Ok(json_response(StatusCode::OK, &render(&st)))
}
