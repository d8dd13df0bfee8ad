//! The emulator's model of issue 18's resources: user-assigned identities (read-only ids, an
//! instance naming a missing one refused with `FailedIdentityOperation`, the identity's ids on
//! the instance), instance endpoints (PUT/GET/list, identity-based ones only with an identity
//! the instance has) and an application's web/SPA redirect URIs checked per sign-in audience.

mod common;

use common::start;
use reqwest::Method;
use serde_json::json;

fn identity_id(sub: &str, name: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/rg-mi/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    )
}

#[tokio::test]
async fn user_assigned_identities_and_endpoints() {
    let env = start().await;
    env.create_rg("rg-mi", "westus2").await;
    let id = identity_id(env.sub(), "twins-id");
    let made = env
        .arm(
            Method::PUT,
            &format!("{id}?api-version=2023-01-31"),
            Some(json!({"location": "westus2"})),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let principal = made.body["properties"]["principalId"].clone();
    let client = made.body["properties"]["clientId"].clone();
    assert!(principal.is_string() && client.is_string());
    assert_eq!(
        made.body["properties"]["tenantId"],
        env.info.tenant_id.as_str()
    );
    let again = env
        .arm(
            Method::PUT,
            &format!("{id}?api-version=2023-01-31"),
            Some(json!({"location": "westus2", "tags": {"a": "b"}})),
        )
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(
        again.body["properties"]["principalId"], principal,
        "ids stay"
    );

    // An instance naming an identity that does not exist is refused.
    let missing = identity_id(env.sub(), "nowhere");
    let refused = env
        .arm(
            Method::PUT,
            &env.dt_path("rg-mi", "twins-mi"),
            Some(
                json!({"location": "westus2", "identity": {"type": "UserAssigned",
                "userAssignedIdentities": {missing.clone(): {}}}}),
            ),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.body["error"]["code"], "FailedIdentityOperation");
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nowhere")
    );

    // With an existing one, the instance reports the identity's ids.
    let dt = env
        .create_dt(
            "rg-mi",
            "twins-mi",
            json!({"location": "westus2", "identity": {"type": "SystemAssigned,UserAssigned",
                "userAssignedIdentities": {id.clone(): {}}}}),
        )
        .await;
    let ua = &dt.body["identity"]["userAssignedIdentities"][&id];
    assert_eq!(ua["principalId"], principal, "{}", dt.body);
    assert_eq!(ua["clientId"], client);
    assert!(dt.body["identity"]["principalId"].is_string());

    // Endpoints: an identity-based one with an identity the instance has; listed.
    let base = env.dt_path("rg-mi", "twins-mi").replace(
        "?api-version=2023-01-31",
        "/endpoints/{e}?api-version=2023-01-31",
    );
    let body = |identity| {
        json!({"properties": {"endpointType": "ServiceBus",
            "authenticationType": "IdentityBased", "endpointUri": "sb://x.servicebus.windows.net/",
            "entityPath": "t", "identity": identity}})
    };
    let ok = env
        .arm(
            Method::PUT,
            &base.replace("{e}", "user"),
            Some(body(
                json!({"type": "UserAssigned", "userAssignedIdentity": id}),
            )),
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(ok.body["properties"]["provisioningState"], "Succeeded");
    let other = identity_id(env.sub(), "other");
    let bad = env
        .arm(
            Method::PUT,
            &base.replace("{e}", "other"),
            Some(body(
                json!({"type": "UserAssigned", "userAssignedIdentity": other}),
            )),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let list = env.arm(Method::GET, &base.replace("/{e}", ""), None).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let names: Vec<_> = list.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("user")]);
    env.shutdown().await;
}

#[tokio::test]
async fn redirect_uris_follow_the_sign_in_audience() {
    let env = start().await;
    let create = |body| async { env.graph(Method::POST, "/applications", Some(body)).await };
    let http =
        create(json!({"displayName": "a", "web": {"redirectUris": ["http://app.example.com"]}}))
            .await;
    assert_eq!(http.status, 400, "{}", http.body);
    let local = create(json!({"displayName": "b", "spa": {"redirectUris": ["http://localhost:3000"]},
        "web": {"redirectUris": ["https://app.example.com/cb"],
            "implicitGrantSettings": {"enableIdTokenIssuance": true, "enableAccessTokenIssuance": false}}})).await;
    assert_eq!(local.status, 201, "{}", local.body);
    assert_eq!(
        local.body["web"]["implicitGrantSettings"]["enableIdTokenIssuance"],
        true
    );
    let v1 =
        create(json!({"displayName": "v1", "signInAudience": "PersonalMicrosoftAccount"})).await;
    assert_eq!(v1.status, 400, "{}", v1.body);
    assert_eq!(v1.body["error"]["code"], "InvalidAccessTokenVersion");
    let v2 = create(
        json!({"displayName": "v2", "signInAudience": "PersonalMicrosoftAccount",
        "api": {"requestedAccessTokenVersion": 2}}),
    )
    .await;
    assert_eq!(v2.status, 201, "{}", v2.body);
    let wildcard = create(
        json!({"displayName": "c", "signInAudience": "PersonalMicrosoftAccount",
        "api": {"requestedAccessTokenVersion": 2},
        "web": {"redirectUris": ["https://*.example.com"]}}),
    )
    .await;
    assert_eq!(wildcard.status, 400, "{}", wildcard.body);
    let many: Vec<String> = (0..101)
        .map(|i| format!("https://e{i}.example.com"))
        .collect();
    let too_many = create(
        json!({"displayName": "d", "signInAudience": "AzureADandPersonalMicrosoftAccount",
        "api": {"requestedAccessTokenVersion": 2}, "web": {"redirectUris": many}}),
    )
    .await;
    assert_eq!(too_many.status, 400, "{}", too_many.body);
    env.shutdown().await;
}
