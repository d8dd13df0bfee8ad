//! Shapes of Graph directory objects (application, servicePrincipal, user) with the default
//! property values Graph fills in, and the lists of properties a client may write.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use crate::seed::TENANT_DOMAIN;

pub(crate) fn graph_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Properties of `application` a client may set with POST or PATCH.
pub(crate) const APPLICATION_WRITABLE: &[&str] = &[
    "displayName",
    "description",
    "groupMembershipClaims",
    "identifierUris",
    "isDeviceOnlyAuthSupported",
    "isFallbackPublicClient",
    "notes",
    "serviceManagementReference",
    "signInAudience",
    "tags",
    "tokenEncryptionKeyId",
    "uniqueName",
    "defaultRedirectUri",
    "optionalClaims",
    "addIns",
    "api",
    "appRoles",
    "info",
    "keyCredentials",
    "parentalControlSettings",
    "publicClient",
    "requiredResourceAccess",
    "web",
    "spa",
];

/// Properties of `servicePrincipal` a client may set with POST or PATCH.
pub(crate) const SERVICE_PRINCIPAL_WRITABLE: &[&str] = &[
    "appId",
    "accountEnabled",
    "alternativeNames",
    "appRoleAssignmentRequired",
    "description",
    "displayName",
    "homepage",
    "loginUrl",
    "logoutUrl",
    "notes",
    "notificationEmailAddresses",
    "preferredSingleSignOnMode",
    "replyUrls",
    "servicePrincipalNames",
    "tags",
    "tokenEncryptionKeyId",
    "appRoles",
    "info",
    "keyCredentials",
    "oauth2PermissionScopes",
];

pub(crate) const SIGN_IN_AUDIENCES: &[&str] = &[
    "AzureADMyOrg",
    "AzureADMultipleOrgs",
    "AzureADandPersonalMicrosoftAccount",
    "PersonalMicrosoftAccount",
];

pub(crate) fn application_body(
    id: &str,
    app_id: &str,
    display_name: &str,
    created: DateTime<Utc>,
) -> Map<String, Value> {
    object(json!({
        "id": id,
        "deletedDateTime": null,
        "appId": app_id,
        "applicationTemplateId": null,
        "disabledByMicrosoftStatus": null,
        "createdDateTime": graph_time(created),
        "displayName": display_name,
        "description": null,
        "groupMembershipClaims": null,
        "identifierUris": [],
        "isDeviceOnlyAuthSupported": null,
        "isFallbackPublicClient": null,
        "notes": null,
        "publisherDomain": TENANT_DOMAIN,
        "serviceManagementReference": null,
        "signInAudience": "AzureADMyOrg",
        "tags": [],
        "tokenEncryptionKeyId": null,
        "uniqueName": null,
        "defaultRedirectUri": null,
        "optionalClaims": null,
        "addIns": [],
        "api": {
            "acceptMappedClaims": null,
            "knownClientApplications": [],
            "requestedAccessTokenVersion": null,
            "oauth2PermissionScopes": [],
            "preAuthorizedApplications": []
        },
        "appRoles": [],
        "info": {
            "logoUrl": null,
            "marketingUrl": null,
            "privacyStatementUrl": null,
            "supportUrl": null,
            "termsOfServiceUrl": null
        },
        "keyCredentials": [],
        "parentalControlSettings": {"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"},
        "passwordCredentials": [],
        "publicClient": {"redirectUris": []},
        "requiredResourceAccess": [],
        "verifiedPublisher": {"displayName": null, "verifiedPublisherId": null, "addedDateTime": null},
        "web": {
            "homePageUrl": null,
            "logoutUrl": null,
            "redirectUris": [],
            "implicitGrantSettings": {"enableAccessTokenIssuance": false, "enableIdTokenIssuance": false},
            "redirectUriSettings": []
        },
        "spa": {"redirectUris": []}
    }))
}

/// Adds the Graph-visible metadata of a password credential (never the secret text).
pub(crate) fn add_password_metadata(
    app: &mut Map<String, Value>,
    key_id: &str,
    display_name: &str,
    secret: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Value {
    let meta = json!({
        "customKeyIdentifier": null,
        "displayName": display_name,
        "endDateTime": graph_time(end),
        "hint": secret.chars().take(3).collect::<String>(),
        "keyId": key_id,
        "secretText": null,
        "startDateTime": graph_time(start),
    });
    if let Some(Value::Array(list)) = app.get_mut("passwordCredentials") {
        list.push(meta.clone());
    } else {
        app.insert("passwordCredentials".to_string(), json!([meta.clone()]));
    }
    meta
}

pub(crate) fn service_principal_body(
    id: &str,
    app: &Map<String, Value>,
    tenant_id: &str,
) -> Map<String, Value> {
    let app_id = app.get("appId").cloned().unwrap_or(Value::Null);
    let mut names = vec![app_id.clone()];
    if let Some(Value::Array(uris)) = app.get("identifierUris") {
        names.extend(uris.iter().cloned());
    }
    object(json!({
        "id": id,
        "deletedDateTime": null,
        "accountEnabled": true,
        "alternativeNames": [],
        "appDisplayName": app.get("displayName").cloned().unwrap_or(Value::Null),
        "appDescription": null,
        "appId": app_id,
        "applicationTemplateId": null,
        "appOwnerOrganizationId": tenant_id,
        "appRoleAssignmentRequired": false,
        "description": null,
        "disabledByMicrosoftStatus": null,
        "displayName": app.get("displayName").cloned().unwrap_or(Value::Null),
        "homepage": null,
        "loginUrl": null,
        "logoutUrl": null,
        "notes": null,
        "notificationEmailAddresses": [],
        "preferredSingleSignOnMode": null,
        "preferredTokenSigningKeyThumbprint": null,
        "replyUrls": [],
        "servicePrincipalNames": names,
        "servicePrincipalType": "Application",
        "signInAudience": app.get("signInAudience").cloned().unwrap_or(json!("AzureADMyOrg")),
        "tags": [],
        "tokenEncryptionKeyId": null,
        "info": app.get("info").cloned().unwrap_or(Value::Null),
        "samlSingleSignOnSettings": null,
        "addIns": [],
        "appRoles": app.get("appRoles").cloned().unwrap_or(json!([])),
        "keyCredentials": [],
        "oauth2PermissionScopes": [],
        "passwordCredentials": [],
        "resourceSpecificApplicationPermissions": [],
        "verifiedPublisher": {"displayName": null, "verifiedPublisherId": null, "addedDateTime": null}
    }))
}

/// A service principal of a Microsoft first-party application (owned by Microsoft's tenant).
pub(crate) fn first_party_service_principal_body(
    id: &str,
    app_id: &str,
    display_name: &str,
) -> Map<String, Value> {
    let app = object(
        json!({"appId": app_id, "displayName": display_name, "signInAudience": "AzureADMultipleOrgs"}),
    );
    let mut body = service_principal_body(id, &app, "f8cdef31-a31e-4b4a-93e4-5f571e91255a");
    body.insert(
        "appOwnerOrganizationId".into(),
        json!("f8cdef31-a31e-4b4a-93e4-5f571e91255a"),
    );
    body
}

/// A service principal standing for a managed identity (for example an instance's system identity).
pub(crate) fn managed_identity_body(
    id: &str,
    app_id: &str,
    display_name: &str,
    resource_id: &str,
) -> Map<String, Value> {
    let app = object(
        json!({"appId": app_id, "displayName": display_name, "signInAudience": "AzureADMyOrg"}),
    );
    let mut body = service_principal_body(id, &app, "");
    body.insert("servicePrincipalType".into(), json!("ManagedIdentity"));
    body.insert(
        "alternativeNames".into(),
        json!(["isExplicit=False", resource_id]),
    );
    body.insert("appOwnerOrganizationId".into(), Value::Null);
    body
}

pub(crate) fn user_body(id: &str, upn: &str, display_name: &str) -> Map<String, Value> {
    let (given, surname) = display_name.split_once(' ').unwrap_or((display_name, ""));
    object(json!({
        "businessPhones": [],
        "displayName": display_name,
        "givenName": given,
        "jobTitle": null,
        "mail": null,
        "mobilePhone": null,
        "officeLocation": null,
        "preferredLanguage": null,
        "surname": surname,
        "userPrincipalName": upn,
        "id": id
    }))
}
