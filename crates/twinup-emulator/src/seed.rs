//! The initial world of a fresh emulator: one tenant, one subscription, an admin user and an
//! admin service principal (both Owner on the subscription) and the first-party service
//! principals a real tenant has (Microsoft Graph, Azure Digital Twins, Azure Service Management).
//! Ids are derived deterministically; the client secret and token-signing key are random.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde_json::json;
use uuid::Uuid;

use crate::graph::objects;
use crate::roles;
use crate::state::{DirObject, RoleAssignment, State, StoredSecret, Tenant};

/// Namespace for all deterministic ids of the emulator.
const NAMESPACE: Uuid = Uuid::from_u128(0x7a1c_93e2_5b8d_4f0e_9c61_2d7e_4a3b_8f10);

pub(crate) const TENANT_DOMAIN: &str = "twinup.local";
pub(crate) const ADMIN_UPN: &str = "admin@twinup.local";
pub(crate) const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
pub(crate) const ADT_APP_ID: &str = "0b07f429-9f4b-4714-9392-cc5e8e80c8b0";
pub(crate) const ARM_APP_ID: &str = "797f4846-ba00-4fd7-ba43-dac1f8f63013";
/// The Azure CLI's public client id, used as `appid` in user tokens minted by the admin API.
pub(crate) const AZURE_CLI_APP_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

pub(crate) fn derived_id(label: &str) -> String {
    Uuid::new_v5(&NAMESPACE, label.as_bytes()).to_string()
}

/// A deterministic role-assignment name for (scope, role, principal).
pub(crate) fn role_assignment_name(scope: &str, role: &str, principal: &str) -> String {
    derived_id(&format!(
        "ra|{}|{}|{}",
        scope.to_lowercase(),
        role.to_lowercase(),
        principal.to_lowercase()
    ))
}

/// A random client secret in the shape Entra ID uses (40 characters, `~` at position 4).
pub(crate) fn new_secret() -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._";
    let mut rng = rand::rng();
    let mut s: String = (0..40)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect();
    s.replace_range(3..4, "Q");
    s.replace_range(4..5, "~");
    s
}

/// Builds the state of a brand-new emulator.
pub(crate) fn new_state(now: DateTime<Utc>) -> State {
    let tenant_id = derived_id("tenant");
    let subscription_id = derived_id("subscription");
    let admin_user_id = derived_id("user|admin");
    let admin_app_object_id = derived_id("application|admin");
    let admin_app_id = derived_id("appid|admin");
    let admin_sp_id = derived_id("serviceprincipal|admin");
    let mut key = [0u8; 32];
    rand::rng().fill(&mut key);
    let long_ago = now - Duration::days(365);

    let mut state = State {
        format: crate::state::FORMAT,
        tenant: Tenant {
            tenant_id: tenant_id.clone(),
            domain: TENANT_DOMAIN.to_string(),
            subscription_id: subscription_id.clone(),
            subscription_name: "Twinup Emulator Subscription".to_string(),
            signing_key: base64::engine::general_purpose::STANDARD.encode(key),
            admin_user_id: admin_user_id.clone(),
            admin_app_object_id: admin_app_object_id.clone(),
            admin_app_id: admin_app_id.clone(),
            admin_sp_id: admin_sp_id.clone(),
        },
        users: Default::default(),
        applications: Default::default(),
        service_principals: Default::default(),
        grants: Default::default(),
        resource_groups: Default::default(),
        digital_twins: Default::default(),
        generic: Default::default(),
        role_assignments: Default::default(),
        custom_roles: Vec::new(),
        operations: Default::default(),
        providers: Default::default(),
        graph_app_roles: Default::default(),
        version: 0,
    };

    state.users.insert(
        admin_user_id.clone(),
        DirObject {
            body: objects::user_body(&admin_user_id, ADMIN_UPN, "Twinup Admin"),
            created_at: long_ago,
            secrets: Vec::new(),
            owners: Vec::new(),
        },
    );

    let app_body = objects::application_body(
        &admin_app_object_id,
        &admin_app_id,
        "twinup-emulator-admin",
        long_ago,
    );
    let secret = new_secret();
    let key_id = derived_id("secret|admin");
    let end = now + Duration::days(730);
    let mut app = DirObject {
        body: app_body,
        created_at: long_ago,
        secrets: vec![StoredSecret {
            key_id: key_id.clone(),
            secret: secret.clone(),
            end,
        }],
        owners: vec![admin_user_id.clone()],
    };
    objects::add_password_metadata(&mut app.body, &key_id, "seeded", &secret, long_ago, end);
    let sp_body = objects::service_principal_body(&admin_sp_id, &app.body, &tenant_id);
    state.applications.insert(admin_app_object_id.clone(), app);
    state.service_principals.insert(
        admin_sp_id.clone(),
        DirObject {
            body: sp_body,
            created_at: long_ago,
            secrets: Vec::new(),
            owners: Vec::new(),
        },
    );

    for (app_id, name, scopes) in [
        (
            GRAPH_APP_ID,
            "Microsoft Graph",
            vec![("e1fe6dd8-ba31-4d61-89e7-88639da4683d", "User.Read")],
        ),
        (
            ADT_APP_ID,
            "Azure Digital Twins",
            vec![("4589bd03-58cb-4e6c-b17f-b580e39652f8", "Read.Write")],
        ),
        (
            ARM_APP_ID,
            "Windows Azure Service Management API",
            vec![("41094075-9dad-400e-a0bd-54e686782033", "user_impersonation")],
        ),
    ] {
        let id = derived_id(&format!("serviceprincipal|{app_id}"));
        let mut body = objects::first_party_service_principal_body(&id, app_id, name);
        body.insert(
            "oauth2PermissionScopes".to_string(),
            json!(
                scopes
                    .iter()
                    .map(|(sid, value)| json!({
                        "adminConsentDescription": format!("{value} for {name}"),
                        "adminConsentDisplayName": value,
                        "id": sid,
                        "isEnabled": true,
                        "type": "User",
                        "userConsentDescription": null,
                        "userConsentDisplayName": null,
                        "value": value
                    }))
                    .collect::<Vec<_>>()
            ),
        );
        state.service_principals.insert(
            id,
            DirObject {
                body,
                created_at: long_ago,
                secrets: Vec::new(),
                owners: Vec::new(),
            },
        );
    }

    let scope = format!("/subscriptions/{subscription_id}");
    for (principal, kind) in [(&admin_user_id, "User"), (&admin_sp_id, "ServicePrincipal")] {
        let assignment = owner_assignment(&scope, principal, kind, long_ago);
        state
            .role_assignments
            .insert(assignment.id.to_lowercase(), assignment);
    }
    state
}

fn owner_assignment(scope: &str, principal: &str, kind: &str, at: DateTime<Utc>) -> RoleAssignment {
    let name = role_assignment_name(scope, roles::OWNER, principal);
    RoleAssignment {
        id: format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"),
        name,
        scope: scope.to_string(),
        role_definition_id: roles::OWNER.to_string(),
        principal_id: principal.to_string(),
        principal_type: kind.to_string(),
        description: None,
        condition: None,
        condition_version: None,
        created_on: at,
        updated_on: at,
        created_by: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_and_secrets_are_not() {
        let a = new_state(Utc::now());
        let b = new_state(Utc::now());
        assert_eq!(a.tenant.tenant_id, b.tenant.tenant_id);
        assert_eq!(a.tenant.admin_sp_id, b.tenant.admin_sp_id);
        assert_ne!(a.tenant.signing_key, b.tenant.signing_key);
        assert_ne!(
            a.applications.values().next().unwrap().secrets[0].secret,
            b.applications.values().next().unwrap().secrets[0].secret
        );
        assert_eq!(a.role_assignments.len(), 2);
    }
}
