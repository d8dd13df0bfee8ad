//! `Microsoft.ManagedIdentity/userAssignedIdentities`, stored as generic resources: a PUT gets
//! the read-only `properties.tenantId`, `principalId` and `clientId` (kept across later PUTs),
//! as `UserAssignedIdentities_CreateOrUpdate` answers (azure-rest-api-specs
//! `specification/msi/resource-manager/Microsoft.ManagedIdentity/stable/2023-01-31/ManagedIdentity.json`,
//! `UserAssignedIdentityProperties`, all three `readOnly`; example
//! `IdentityCreate.json`). An instance that names one that does not exist is refused with
//! ARM's 400 `FailedIdentityOperation` ("Identity operation for resource '...' failed with error
//! 'Failed to perform resource identity operation. Status: ...'", the shape ARM answered in
//! Azure/azure-cli issue #31837 and Azure/azure-libraries-for-net issue #690; the `NotFound`
//! status for a missing identity is this emulator's reading).

use serde_json::{Map, Value, json};

use crate::errors::ApiError;
use crate::state::State;

use super::scope;

/// The resource type, as ARM spells it.
pub(crate) const TYPE: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";

/// True for the user-assigned identity type (case-insensitive, as ARM matches types).
pub(crate) fn is_identity_type(type_name: &str) -> bool {
    type_name.eq_ignore_ascii_case(TYPE)
}

/// Fills the read-only properties of a user-assigned identity being PUT at `id`, keeping the
/// ones it already has.
pub(crate) fn fill(st: &State, id: &str, props: &mut Map<String, Value>) {
    let kept = |k: &str| {
        st.generic
            .get(&scope::key(id))
            .and_then(|r| r.body.get("properties"))
            .and_then(|p| p.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
    };
    props.insert("tenantId".into(), json!(st.tenant.tenant_id));
    props.insert("principalId".into(), json!(kept("principalId")));
    props.insert("clientId".into(), json!(kept("clientId")));
}

/// `(clientId, principalId)` of the user-assigned identity `id`, if it exists.
pub(crate) fn ids_of(st: &State, id: &str) -> Option<(String, String)> {
    let props = st.generic.get(&scope::key(id))?.body.get("properties")?;
    let field = |k: &str| props.get(k).and_then(Value::as_str).map(str::to_string);
    Some((field("clientId")?, field("principalId")?))
}

/// Refuses an identity request of `resource` naming a user-assigned identity that does not exist.
pub(crate) fn check_exist(st: &State, resource: &str, ids: &[String]) -> Result<(), ApiError> {
    match ids.iter().find(|id| ids_of(st, id).is_none()) {
        None => Ok(()),
        Some(missing) => Err(ApiError::bad_request(
            "FailedIdentityOperation",
            format!(
                "Identity operation for resource '{resource}' failed with error 'Failed to perform resource identity operation. Status: 'NotFound'. Response: '{{\"error\":{{\"code\":\"NotFound\",\"message\":\"Resource '{missing}' was not found.\"}}}}'.'."
            ),
        )),
    }
}
