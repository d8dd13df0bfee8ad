//! The minimal Digital Twins data plane on an instance's host name: `GET /models` answers 200
//! only for a Data Owner or Reader whose assignment has propagated, 403 with an empty body
//! before, 401 for a token of another audience, 400 without `api-version`, 404 for an unknown
//! host; reached by resolving the host name to the emulator.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine;
use common::start;
use reqwest::Method;
use serde_json::{Value, json};

const HOST: &str = "dp-twins.api.wus2.digitaltwins.azure.net";
const OTHER: &str = "nobody.api.wus2.digitaltwins.azure.net";

fn oid(token: &str) -> String {
    let part = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    let claims: Value = serde_json::from_slice(&bytes).unwrap();
    claims["oid"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn models_answer_only_a_propagated_data_role() {
    let env = start().await;
    env.create_rg("dp-rg", "westus2").await;
    let instance = format!(
        "/subscriptions/{}/resourceGroups/dp-rg/providers/Microsoft.DigitalTwins/digitalTwinsInstances/dp-twins",
        env.sub()
    );
    let r = env
        .arm(
            Method::PUT,
            &format!("{instance}?api-version=2023-01-31"),
            Some(json!({"location": "westus2"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    env.poll_status(r.header("azure-asyncoperation").unwrap())
        .await;

    let port = env
        .info
        .url
        .rsplit(':')
        .next()
        .unwrap()
        .parse::<u16>()
        .unwrap();
    let client = reqwest::Client::builder()
        .resolve(HOST, SocketAddr::from(([127, 0, 0, 1], port)))
        .resolve(OTHER, SocketAddr::from(([127, 0, 0, 1], port)))
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let adt = env.token("https://digitaltwins.azure.net/.default").await;
    let get = |host: &str, query: &str, token: &str| {
        let req = client
            .get(format!("http://{host}:{port}/models{query}"))
            .bearer_auth(token);
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.text().await.unwrap())
        }
    };
    let models = "?api-version=2023-10-31";

    // Owner of the subscription, but no data role: 403 with an empty body.
    assert_eq!(get(HOST, models, &adt).await, (403, String::new()));
    // A token for ARM is not one for the data plane.
    assert_eq!(get(HOST, models, &env.arm_token).await.0, 401);

    // Data Reader on the instance, not yet propagated.
    env.admin(
        Method::POST,
        "/rbac-propagation",
        Some(json!({"delay_secs": 1.0e9})),
    )
    .await;
    let assignment = format!(
        "{instance}/providers/Microsoft.Authorization/roleAssignments/{}?api-version=2022-04-01",
        uuid::Uuid::new_v4()
    );
    let r = env
        .arm(
            Method::PUT,
            &assignment,
            Some(json!({"properties": {
                "roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/d57506d4-4c8d-48b1-8587-93c323f6a5a3", env.sub()),
                "principalId": oid(&env.arm_token),
                "principalType": "ServicePrincipal",
            }})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(get(HOST, models, &adt).await.0, 403);

    env.admin(
        Method::POST,
        "/rbac-propagation",
        Some(json!({"delay_secs": 0})),
    )
    .await;
    let (status, body) = get(HOST, models, &adt).await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["value"], json!([]));

    assert_eq!(get(HOST, "", &adt).await.0, 400, "api-version is required");
    assert_eq!(get(OTHER, models, &adt).await.0, 404, "no such instance");
    env.shutdown().await;
}
