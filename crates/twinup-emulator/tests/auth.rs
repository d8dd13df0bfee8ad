//! Token endpoint and bearer checks: client-credentials errors in Entra's shape, JWT-shaped
//! tokens, and the 401s ARM and Graph send for missing, garbage, expired or misdirected tokens;
//! RBAC 403s for a Reader-only principal.

mod common;

use base64::Engine;
use common::{ARM_SCOPE, start};
use reqwest::Method;
use serde_json::{Value, json};

fn claims(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn client_credentials_issue_jwt_shaped_tokens_with_claims() {
    let env = start().await;
    let c = claims(&env.arm_token);
    assert_eq!(c["aud"], "https://management.azure.com");
    assert_eq!(c["tid"], env.info.tenant_id.as_str());
    assert_eq!(c["appid"], env.info.client_id.as_str());
    assert!(c["oid"].is_string() && c["exp"].is_i64());
    let r = env
        .token_request(&[
            ("client_id", &env.info.client_id),
            ("client_secret", &env.info.client_secret),
            ("grant_type", "client_credentials"),
            ("scope", ARM_SCOPE),
        ])
        .await;
    assert_eq!(r.body["token_type"], "Bearer");
    assert!(r.body["expires_in"].is_number());
    env.shutdown().await;
}

#[tokio::test]
async fn secret_via_http_basic_works() {
    let env = start().await;
    let resp = env
        .http
        .post(env.url(&format!("/{}/oauth2/v2.0/token", env.info.tenant_id)))
        .basic_auth(&env.info.client_id, Some(&env.info.client_secret))
        .form(&[("grant_type", "client_credentials"), ("scope", ARM_SCOPE)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    env.shutdown().await;
}

#[tokio::test]
async fn wrong_secret_and_bad_scope_are_rejected_like_entra() {
    let env = start().await;
    let r = env
        .token_request(&[
            ("client_id", &env.info.client_id),
            ("client_secret", "nope"),
            ("grant_type", "client_credentials"),
            ("scope", ARM_SCOPE),
        ])
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"], "invalid_client");
    assert!(
        r.body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS7000215")
    );
    assert_eq!(r.body["error_codes"][0], 7000215);
    let r = env
        .token_request(&[
            ("client_id", &env.info.client_id),
            ("client_secret", &env.info.client_secret),
            ("grant_type", "client_credentials"),
            ("scope", "https://management.azure.com/user_impersonation"),
        ])
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"], "invalid_scope");
    let r = env
        .token_request(&[
            ("client_id", &env.info.client_id),
            ("client_secret", &env.info.client_secret),
            ("grant_type", "client_credentials"),
            (
                "scope",
                "https://management.azure.com/.default https://graph.microsoft.com/.default",
            ),
        ])
        .await;
    assert_eq!(r.body["error"], "invalid_scope");
    env.shutdown().await;
}

#[tokio::test]
async fn arm_rejects_missing_garbage_expired_and_wrong_audience_tokens() {
    let env = start().await;
    let path = format!("/subscriptions/{}?api-version=2022-12-01", env.sub());
    let none = env.send(Method::GET, &path, None, None, &[]).await;
    assert_eq!(none.status, 401);
    assert_eq!(none.body["error"]["code"], "AuthenticationFailed");
    assert!(none.header("www-authenticate").is_some());
    let garbage = env
        .send(Method::GET, &path, Some("abc.def.ghi"), None, &[])
        .await;
    assert_eq!(garbage.body["error"]["code"], "InvalidAuthenticationToken");
    let expired = env
        .admin(
            Method::POST,
            "/tokens",
            Some(json!({"principal": env.info.user_principal_name, "expires_in": -60})),
        )
        .await;
    let token = expired.body["access_token"].as_str().unwrap();
    let r = env.send(Method::GET, &path, Some(token), None, &[]).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"]["code"], "ExpiredAuthenticationToken");
    let r = env
        .send(Method::GET, &path, Some(&env.graph_token), None, &[])
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"]["code"], "InvalidAuthenticationToken");
    let r = env
        .send(
            Method::GET,
            "/v1.0/applications",
            Some(&env.arm_token),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"]["code"], "InvalidAuthenticationToken");
    env.shutdown().await;
}

#[tokio::test]
async fn api_version_is_required_and_checked() {
    let env = start().await;
    let base = format!("/subscriptions/{}/resourcegroups/x", env.sub());
    let r = env.arm(Method::GET, &base, None).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["code"], "MissingApiVersionParameter");
    let r = env
        .arm(
            Method::GET,
            &env.dt_path("x", "abc").replace("2023-01-31", "2099-01-01"),
            None,
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["code"], "NoRegisteredProviderFound");
    env.shutdown().await;
}

#[tokio::test]
async fn user_tokens_from_the_admin_api_and_me() {
    let env = start().await;
    let t = env
        .admin(Method::POST, "/tokens", Some(json!({"principal": env.info.user_principal_name, "audience": "https://graph.microsoft.com"})))
        .await;
    assert_eq!(t.status, 200);
    let token = t.body["access_token"].as_str().unwrap();
    assert_eq!(claims(token)["upn"], env.info.user_principal_name.as_str());
    let me = env
        .send(Method::GET, "/v1.0/me", Some(token), None, &[])
        .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["id"], env.info.user_object_id.as_str());
    let app_me = env.graph(Method::GET, "/me", None).await;
    assert_eq!(app_me.status, 400);
    env.shutdown().await;
}

#[tokio::test]
async fn reader_principal_can_read_but_not_write_or_assign_roles() {
    let env = start().await;
    env.create_rg("rbac-rg", "westus2").await;
    let p = env
        .admin(Method::POST, "/principals", Some(json!({"kind": "service_principal", "display_name": "reader", "roles": [{"role": "Reader"}]})))
        .await;
    assert_eq!(p.status, 201, "{}", p.body);
    let r = env
        .token_request(&[
            ("client_id", p.body["app_id"].as_str().unwrap()),
            ("client_secret", p.body["client_secret"].as_str().unwrap()),
            ("grant_type", "client_credentials"),
            ("scope", ARM_SCOPE),
        ])
        .await;
    let token = r.body["access_token"].as_str().unwrap().to_string();
    let rg = format!(
        "/subscriptions/{}/resourcegroups/rbac-rg?api-version=2025-04-01",
        env.sub()
    );
    assert_eq!(
        env.send(Method::GET, &rg, Some(&token), None, &[])
            .await
            .status,
        200
    );
    let w = env
        .send(
            Method::PUT,
            &rg,
            Some(&token),
            Some(json!({"location": "westus2"})),
            &[],
        )
        .await;
    assert_eq!(w.status, 403);
    assert_eq!(w.body["error"]["code"], "AuthorizationFailed");
    let scope = format!("/subscriptions/{}", env.sub());
    let ra = format!(
        "{scope}/providers/Microsoft.Authorization/roleAssignments/{}?api-version=2022-04-01",
        uuid::Uuid::new_v4()
    );
    let body = json!({"properties": {"roleDefinitionId": format!("{scope}/providers/Microsoft.Authorization/roleDefinitions/bcd981a7-7f74-457b-83e1-cceb9e632ffe"), "principalId": p.body["object_id"], "principalType": "ServicePrincipal"}});
    let denied = env
        .send(Method::PUT, &ra, Some(&token), Some(body.clone()), &[])
        .await;
    assert_eq!(denied.status, 403);
    assert_eq!(denied.body["error"]["code"], "AuthorizationFailed");
    let perms = env
        .send(
            Method::GET,
            &format!(
                "{scope}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01"
            ),
            Some(&token),
            None,
            &[],
        )
        .await;
    assert_eq!(perms.body["value"][0]["actions"], json!(["*/read"]));
    let owner_perms = env
        .arm(
            Method::GET,
            &format!(
                "{scope}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01"
            ),
            None,
        )
        .await;
    assert_eq!(owner_perms.body["value"][0]["actions"], json!(["*"]));
    // The Owner may assign; the Reader's filter query sees it.
    assert_eq!(env.arm(Method::PUT, &ra, Some(body)).await.status, 201);
    let filter = format!(
        "{scope}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=principalId%20eq%20'{}'",
        p.body["object_id"].as_str().unwrap()
    );
    let list = env
        .send(Method::GET, &filter, Some(&token), None, &[])
        .await;
    assert_eq!(list.body["value"].as_array().unwrap().len(), 2);
    let defs = env
        .arm(Method::GET, &format!("{scope}/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$filter=roleName%20eq%20'Azure%20Digital%20Twins%20Data%20Owner'"), None)
        .await;
    assert_eq!(
        defs.body["value"][0]["name"],
        "bcd981a7-7f74-457b-83e1-cceb9e632ffe"
    );
    env.shutdown().await;
}
