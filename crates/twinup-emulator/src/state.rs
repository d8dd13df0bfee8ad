//! The emulator's persistent world: tenant seed, directory objects (users, applications,
//! service principals, grants), ARM resources, role assignments and long-running operations.
//! Everything here is plain data that serialises to the state file.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::roles::RoleDefinition;

/// Current state-file format.
pub(crate) const FORMAT: u32 = 1;

/// Everything the emulator remembers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct State {
    pub format: u32,
    pub tenant: Tenant,
    #[serde(default)]
    pub users: BTreeMap<String, DirObject>,
    #[serde(default)]
    pub applications: BTreeMap<String, DirObject>,
    #[serde(default)]
    pub service_principals: BTreeMap<String, DirObject>,
    #[serde(default)]
    pub grants: BTreeMap<String, Map<String, Value>>,
    /// Keyed by lower-cased ARM id.
    #[serde(default)]
    pub resource_groups: BTreeMap<String, ResourceGroup>,
    /// Keyed by lower-cased ARM id.
    #[serde(default)]
    pub digital_twins: BTreeMap<String, DigitalTwin>,
    /// Keyed by lower-cased ARM id.
    #[serde(default)]
    pub generic: BTreeMap<String, GenericResource>,
    /// Keyed by lower-cased ARM id.
    #[serde(default)]
    pub role_assignments: BTreeMap<String, RoleAssignment>,
    #[serde(default)]
    pub custom_roles: Vec<RoleDefinition>,
    /// Keyed by operation id.
    #[serde(default)]
    pub operations: BTreeMap<String, Operation>,
    /// Resource provider registrations of the subscription that are not `Registered`, keyed
    /// by lower-cased namespace (a namespace not listed is registered).
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderRegistration>,
    /// Microsoft Graph application permissions of service principals seeded with an explicit
    /// list, keyed by lower-cased object id (one not listed is not checked).
    #[serde(default)]
    pub graph_app_roles: BTreeMap<String, Vec<String>>,
    /// Bumped on every change; not persisted. Used to decide when to write the file.
    #[serde(skip)]
    pub version: u64,
}

/// The fixed identity of the emulated tenant and subscription.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Tenant {
    pub tenant_id: String,
    pub domain: String,
    pub subscription_id: String,
    pub subscription_name: String,
    /// Base64 key that signs access tokens (HMAC-SHA256).
    pub signing_key: String,
    pub admin_user_id: String,
    pub admin_app_object_id: String,
    pub admin_app_id: String,
    pub admin_sp_id: String,
}

/// A directory object (user, application or service principal) as Graph shows it, plus the
/// bookkeeping Graph does not show.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DirObject {
    pub body: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub secrets: Vec<StoredSecret>,
    #[serde(default)]
    pub owners: Vec<String>,
}

/// A client secret of an application.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredSecret {
    pub key_id: String,
    pub secret: String,
    pub end: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ResourceGroup {
    pub subscription_id: String,
    pub name: String,
    pub location: String,
    #[serde(default)]
    pub tags: Map<String, Value>,
    #[serde(default)]
    pub managed_by: Option<String>,
    pub provisioning_state: String,
    #[serde(default)]
    pub operation: Option<String>,
}

/// A resource provider's registration with the subscription.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ProviderRegistration {
    /// The namespace as first named (`Microsoft.DigitalTwins`).
    pub namespace: String,
    /// `NotRegistered`, or `Registering` until `registered_at`.
    pub state: String,
    #[serde(default)]
    pub registered_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DigitalTwin {
    pub subscription_id: String,
    pub resource_group: String,
    pub name: String,
    pub location: String,
    #[serde(default)]
    pub tags: Option<Map<String, Value>>,
    #[serde(default)]
    pub identity: Option<Identity>,
    pub public_network_access: String,
    pub provisioning_state: String,
    pub host_name: Option<String>,
    pub created_time: DateTime<Utc>,
    pub last_updated_time: DateTime<Utc>,
    pub created_by: String,
    pub created_by_type: String,
    pub last_modified_by: String,
    pub last_modified_by_type: String,
    pub last_modified_at: DateTime<Utc>,
    #[serde(default)]
    pub operation: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Identity {
    /// As sent: `None`, `SystemAssigned`, `UserAssigned` or `SystemAssigned,UserAssigned`.
    pub kind: String,
    pub principal_id: Option<String>,
    /// User-assigned identity ARM id -> (clientId, principalId).
    #[serde(default)]
    pub user_assigned: BTreeMap<String, (String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct GenericResource {
    pub body: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RoleAssignment {
    pub id: String,
    pub name: String,
    pub scope: String,
    pub role_definition_id: String,
    pub principal_id: String,
    pub principal_type: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub condition: Option<String>,
    #[serde(default)]
    pub condition_version: Option<String>,
    pub created_on: DateTime<Utc>,
    pub updated_on: DateTime<Utc>,
    pub created_by: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum OperationKind {
    DigitalTwinsCreate,
    DigitalTwinsUpdate,
    DigitalTwinsDelete,
    ResourceGroupDelete,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OperationError {
    pub code: String,
    pub message: String,
    /// HTTP status the Location URL answers with once the operation failed.
    pub http_status: u16,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Operation {
    pub id: String,
    pub kind: OperationKind,
    pub subscription_id: String,
    pub location: String,
    pub api_version: String,
    /// Lower-cased ARM id of the resource the operation works on.
    pub resource_key: String,
    pub started: DateTime<Utc>,
    pub ends: DateTime<Utc>,
    /// `InProgress`, `Succeeded`, `Failed` or `Canceled`.
    pub status: String,
    #[serde(default)]
    pub finished: Option<DateTime<Utc>>,
    /// Set when a fault says this operation must fail.
    #[serde(default)]
    pub fail_with: Option<OperationError>,
    #[serde(default)]
    pub error: Option<OperationError>,
}

impl State {
    /// Marks the state as changed so it gets written.
    pub fn touch(&mut self) {
        self.version += 1;
    }

    /// A user or service principal by object id.
    pub fn principal(&self, object_id: &str) -> Option<(&DirObject, &'static str)> {
        let key = object_id.to_lowercase();
        if let Some(u) = self.users.get(&key) {
            return Some((u, "User"));
        }
        self.service_principals
            .get(&key)
            .map(|sp| (sp, "ServicePrincipal"))
    }

    /// The service principal whose `appId` is `app_id`.
    pub fn service_principal_by_app_id(&self, app_id: &str) -> Option<&DirObject> {
        self.service_principals
            .values()
            .find(|sp| str_field(&sp.body, "appId").eq_ignore_ascii_case(app_id))
    }

    /// The application whose `appId` is `app_id`.
    pub fn application_by_app_id(&self, app_id: &str) -> Option<&DirObject> {
        self.applications
            .values()
            .find(|a| str_field(&a.body, "appId").eq_ignore_ascii_case(app_id))
    }

    /// A user by object id or user principal name.
    pub fn user_by_id_or_upn(&self, key: &str) -> Option<&DirObject> {
        self.users.get(&key.to_lowercase()).or_else(|| {
            self.users
                .values()
                .find(|u| str_field(&u.body, "userPrincipalName").eq_ignore_ascii_case(key))
        })
    }

    /// Built-in plus custom role definitions with this GUID.
    pub fn role_definition(&self, guid: &str) -> Option<RoleDefinition> {
        crate::roles::built_in()
            .iter()
            .chain(self.custom_roles.iter())
            .find(|r| r.id.eq_ignore_ascii_case(guid))
            .cloned()
    }

    pub fn all_role_definitions(&self) -> Vec<RoleDefinition> {
        crate::roles::built_in()
            .iter()
            .chain(self.custom_roles.iter())
            .cloned()
            .collect()
    }
}

/// A string field of a JSON object, or `""`.
pub(crate) fn str_field<'a>(body: &'a Map<String, Value>, name: &str) -> &'a str {
    body.get(name).and_then(Value::as_str).unwrap_or("")
}
