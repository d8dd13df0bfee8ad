//! Microsoft Graph: applications (create, filter, upsert by uniqueName, secrets, owners),
//! service principals (409 on duplicates, upsert by appId), users, grants, and the error shape;
//! plus serving over TLS with the generated CA.

mod common;

use common::{ARM_SCOPE, start, start_with};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn applications_lifecycle_and_upsert() {
    let env = start().await;
    let created = env
        .graph(
            Method::POST,
            "/applications",
            Some(json!({"displayName": "app-one", "signInAudience": "AzureADMyOrg"})),
        )
        .await;
    assert_eq!(created.status, 201);
    assert!(
        created.body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#applications/$entity")
    );
    let (id, app_id) = (
        created.body["id"].as_str().unwrap(),
        created.body["appId"].as_str().unwrap(),
    );
    assert_ne!(id, app_id);
    let found = env
        .graph(
            Method::GET,
            "/applications?$filter=displayName%20eq%20'app-one'",
            None,
        )
        .await;
    assert_eq!(found.body["value"][0]["id"], id);
    let none = env
        .graph(
            Method::GET,
            "/applications?$filter=appId%20eq%20'00000000-0000-0000-0000-000000000001'",
            None,
        )
        .await;
    assert_eq!(none.status, 200);
    assert!(none.body["value"].as_array().unwrap().is_empty());
    let patched = env
        .graph(
            Method::PATCH,
            &format!("/applications/{id}"),
            Some(json!({"notes": "x"})),
        )
        .await;
    assert_eq!(patched.status, 204);

    let path = "/applications(uniqueName='twinup-app')";
    let missing = env
        .graph(Method::PATCH, path, Some(json!({"displayName": "u"})))
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["error"]["code"], "Request_ResourceNotFound");
    assert!(missing.body["error"]["innerError"].is_object());
    let prefer = [("Prefer", "create-if-missing")];
    let up = env
        .send(
            Method::PATCH,
            &format!("/v1.0{path}"),
            Some(&env.graph_token),
            Some(json!({"displayName": "u"})),
            &prefer,
        )
        .await;
    assert_eq!(up.status, 201);
    assert_eq!(up.body["uniqueName"], "twinup-app");
    let up2 = env
        .send(
            Method::PATCH,
            &format!("/v1.0{path}"),
            Some(&env.graph_token),
            Some(json!({"displayName": "u2"})),
            &prefer,
        )
        .await;
    assert_eq!(up2.status, 204);
    assert!(up2.body.is_null());
    let read = env.graph(Method::GET, path, None).await;
    assert_eq!(read.body["displayName"], "u2");

    let user = env.info.user_object_id.clone();
    let owner = env
        .graph(Method::POST, &format!("/applications/{id}/owners/$ref"), Some(json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{user}")})))
        .await;
    assert_eq!(owner.status, 204);
    let secret = env
        .graph(
            Method::POST,
            &format!("/applications/{id}/addPassword"),
            Some(json!({"passwordCredential": {"displayName": "ci"}})),
        )
        .await;
    assert_eq!(secret.status, 200);
    let text = secret.body["secretText"].as_str().unwrap().to_string();

    // The new app can sign in once it has a service principal.
    let no_sp = env
        .token_request(&[
            ("client_id", app_id),
            ("client_secret", &text),
            ("grant_type", "client_credentials"),
            ("scope", ARM_SCOPE),
        ])
        .await;
    assert_eq!(no_sp.status, 401);
    let sp = env
        .graph(
            Method::POST,
            "/servicePrincipals",
            Some(json!({"appId": app_id})),
        )
        .await;
    assert_eq!(sp.status, 201);
    assert_ne!(sp.body["id"], created.body["id"]);
    let dup = env
        .graph(
            Method::POST,
            "/servicePrincipals",
            Some(json!({"appId": app_id})),
        )
        .await;
    assert_eq!(dup.status, 409);
    assert_eq!(
        dup.body["error"]["code"],
        "Request_MultipleObjectsWithSameKeyValue"
    );
    let ok = env
        .token_request(&[
            ("client_id", app_id),
            ("client_secret", &text),
            ("grant_type", "client_credentials"),
            ("scope", ARM_SCOPE),
        ])
        .await;
    assert_eq!(ok.status, 200);
    let by_app = env
        .graph(
            Method::GET,
            &format!("/servicePrincipals?$filter=appId%20eq%20'{app_id}'"),
            None,
        )
        .await;
    assert_eq!(by_app.body["value"][0]["id"], sp.body["id"]);

    assert_eq!(
        env.graph(Method::DELETE, &format!("/applications/{id}"), None)
            .await
            .status,
        204
    );
    assert_eq!(
        env.graph(Method::GET, &format!("/applications/{id}"), None)
            .await
            .status,
        404
    );
    let sp_gone = env
        .graph(
            Method::GET,
            &format!("/servicePrincipals/{}", sp.body["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(
        sp_gone.status, 404,
        "deleting the application deletes its service principal"
    );
    env.shutdown().await;
}

#[tokio::test]
async fn service_principal_upsert_users_and_grants() {
    let env = start().await;
    let app = env
        .graph(
            Method::POST,
            "/applications",
            Some(json!({"displayName": "cli"})),
        )
        .await;
    let app_id = app.body["appId"].as_str().unwrap();
    let path = format!("/v1.0/servicePrincipals(appId='{app_id}')");
    let missing = env
        .send(
            Method::PATCH,
            &path,
            Some(&env.graph_token),
            Some(json!({})),
            &[],
        )
        .await;
    assert_eq!(missing.status, 404);
    let prefer = [("Prefer", "create-if-missing")];
    let created = env
        .send(
            Method::PATCH,
            &path,
            Some(&env.graph_token),
            Some(json!({"tags": ["x"]})),
            &prefer,
        )
        .await;
    assert_eq!(created.status, 201);
    let again = env
        .send(
            Method::PATCH,
            &path,
            Some(&env.graph_token),
            Some(json!({"tags": ["y"]})),
            &prefer,
        )
        .await;
    assert_eq!(again.status, 204);

    let user = env
        .graph(
            Method::GET,
            &format!("/users/{}", env.info.user_principal_name),
            None,
        )
        .await;
    assert_eq!(user.status, 200);
    assert_eq!(user.body["id"], env.info.user_object_id.as_str());
    let nobody = env
        .graph(Method::GET, "/users/nobody@twinup.local", None)
        .await;
    assert_eq!(nobody.status, 404);
    assert_eq!(nobody.body["error"]["code"], "Request_ResourceNotFound");

    let adt = env
        .graph(
            Method::GET,
            "/servicePrincipals?$filter=appId%20eq%20'0b07f429-9f4b-4714-9392-cc5e8e80c8b0'",
            None,
        )
        .await;
    let resource = adt.body["value"][0]["id"].as_str().unwrap().to_string();
    let client = created.body["id"].as_str().unwrap().to_string();
    let grant = env
        .graph(Method::POST, "/oauth2PermissionGrants", Some(json!({"clientId": client, "consentType": "AllPrincipals", "resourceId": resource, "scope": "Read.Write"})))
        .await;
    assert_eq!(grant.status, 201, "{}", grant.body);
    let list = env
        .graph(
            Method::GET,
            &format!("/oauth2PermissionGrants?$filter=clientId%20eq%20'{client}'"),
            None,
        )
        .await;
    assert_eq!(list.body["value"].as_array().unwrap().len(), 1);
    assert_eq!(list.body["value"][0]["scope"], "Read.Write");
    env.shutdown().await;
}

#[tokio::test]
async fn tls_serves_with_the_generated_ca() {
    let mut cfg = common::config();
    cfg.tls = true;
    let env = start_with(cfg).await;
    assert!(env.info.url.starts_with("https://127.0.0.1:"));
    assert!(env.info.ca_cert.as_ref().unwrap().exists());
    let r = env
        .arm(Method::GET, "/subscriptions?api-version=2022-12-01", None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["value"][0]["subscriptionId"],
        env.info.subscription_id.as_str()
    );
    let untrusting = reqwest::Client::new();
    assert!(
        untrusting
            .get(env.url("/subscriptions"))
            .send()
            .await
            .is_err(),
        "an unknown CA is refused"
    );
    env.shutdown().await;
}
