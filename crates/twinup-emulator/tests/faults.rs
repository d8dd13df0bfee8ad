//! Fault injection through the admin API: status answers in each service's shape, dropped
//! connections, hung requests, failed long-running operations, and the request log.

mod common;

use std::time::Duration;

use common::start;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn status_fault_answers_arm_shape_with_retry_after_and_count_is_honoured() {
    let env = start().await;
    env.create_rg("f-rg", "westus2").await;
    let r = env
        .admin(
            Method::POST,
            "/faults",
            Some(json!({"method":"PUT","path_contains":"digitalTwinsInstances","count":2,"kind":{"status":429,"retry_after":1}})),
        )
        .await;
    assert_eq!(r.status, 201);
    let path = env.dt_path("f-rg", "f-adt");
    for _ in 0..2 {
        let r = env
            .arm(Method::PUT, &path, Some(json!({"location": "westus2"})))
            .await;
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after"), Some("1"));
        assert_eq!(r.body["error"]["code"], "SubscriptionRequestsThrottled");
        assert!(r.header("x-ms-request-id").is_some());
    }
    let ok = env
        .arm(Method::PUT, &path, Some(json!({"location": "westus2"})))
        .await;
    assert_eq!(ok.status, 201, "the fault is used up after count requests");
    let log = env.admin(Method::GET, "/requests", None).await;
    let key = "PUT /subscriptions/{}/resourceGroups/{}/providers/Microsoft.DigitalTwins/digitalTwinsInstances/{}";
    assert_eq!(log.body["counts"][key], 3);
    let faulted = log.body["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["fault"] == true)
        .count();
    assert_eq!(faulted, 2);
    env.shutdown().await;
}

#[tokio::test]
async fn status_fault_on_graph_uses_graph_error_shape() {
    let env = start().await;
    env.admin(
        Method::POST,
        "/faults",
        Some(json!({"path_contains":"/v1.0/applications","kind":{"status":503}})),
    )
    .await;
    let r = env.graph(Method::GET, "/applications", None).await;
    assert_eq!(r.status, 503);
    assert!(r.body["error"]["code"].is_string());
    assert!(r.body["error"]["innerError"]["request-id"].is_string());
    let again = env.graph(Method::GET, "/applications", None).await;
    assert_eq!(again.status, 200);
    env.shutdown().await;
}

#[tokio::test]
async fn reset_drops_the_connection_and_is_logged() {
    let env = start().await;
    env.admin(
        Method::POST,
        "/faults",
        Some(json!({"method":"GET","path_contains":"resourcegroups","kind":"reset"})),
    )
    .await;
    let url = env.url(&format!(
        "/subscriptions/{}/resourcegroups?api-version=2025-04-01",
        env.sub()
    ));
    let err = env.http.get(&url).bearer_auth(&env.arm_token).send().await;
    assert!(err.is_err(), "no response arrives");
    let log = env.admin(Method::GET, "/requests", None).await;
    let last = log.body["requests"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["outcome"], "reset");
    assert!(last["status"].is_null());
    let ok = env
        .http
        .get(&url)
        .bearer_auth(&env.arm_token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    env.shutdown().await;
}

#[tokio::test]
async fn hang_never_answers_and_shutdown_still_completes() {
    let env = start().await;
    env.admin(
        Method::POST,
        "/faults",
        Some(json!({"path_contains":"/subscriptions","kind":"hang"})),
    )
    .await;
    let url = env.url(&format!(
        "/subscriptions/{}?api-version=2022-12-01",
        env.sub()
    ));
    let r = env
        .http
        .get(&url)
        .bearer_auth(&env.arm_token)
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(r.unwrap_err().is_timeout());
    let log = env.admin(Method::GET, "/requests", None).await;
    assert_eq!(
        log.body["requests"].as_array().unwrap().last().unwrap()["outcome"],
        "hang"
    );
    tokio::time::timeout(Duration::from_secs(10), env.shutdown())
        .await
        .expect("shutdown does not wait for hung requests");
}

#[tokio::test]
async fn lro_failed_makes_the_next_create_fail_with_the_given_error() {
    let env = start().await;
    env.create_rg("lro-rg", "westus2").await;
    env.admin(
        Method::POST,
        "/faults",
        Some(json!({"method":"PUT","path_contains":"digitalTwinsInstances","kind":{"lro_failed":{"code":"QuotaExceeded","message":"No more instances.","status":409}}})),
    )
    .await;
    let path = env.dt_path("lro-rg", "lro-adt");
    let r = env
        .arm(Method::PUT, &path, Some(json!({"location": "westus2"})))
        .await;
    assert_eq!(r.status, 201, "the request itself is accepted");
    let status = env
        .poll_status(r.header("azure-asyncoperation").unwrap())
        .await;
    assert_eq!(status["status"], "Failed");
    assert_eq!(status["error"]["code"], "QuotaExceeded");
    let result = env.poll_location(r.header("location").unwrap()).await;
    assert_eq!(result.status, 409);
    assert_eq!(result.body["error"]["code"], "QuotaExceeded");
    let got = env.arm(Method::GET, &path, None).await;
    assert_eq!(got.body["properties"]["provisioningState"], "Failed");
    // A retry PUT provisions again and succeeds.
    let retry = env
        .create_dt("lro-rg", "lro-adt", json!({"location": "westus2"}))
        .await;
    assert_eq!(retry.body["properties"]["provisioningState"], "Succeeded");
    env.shutdown().await;
}

#[tokio::test]
async fn faults_list_and_clear() {
    let env = start().await;
    env.admin(
        Method::POST,
        "/faults",
        Some(json!({"kind":{"status":500},"count":0})),
    )
    .await;
    let list = env.admin(Method::GET, "/faults", None).await;
    assert_eq!(list.body["faults"].as_array().unwrap().len(), 1);
    let bad = env
        .admin(Method::POST, "/faults", Some(json!({"kind":"explode"})))
        .await;
    assert_eq!(bad.status, 400);
    let r = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{}?api-version=2022-12-01", env.sub()),
            None,
        )
        .await;
    assert_eq!(r.status, 500);
    assert_eq!(env.admin(Method::DELETE, "/faults", None).await.status, 204);
    let r = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{}?api-version=2022-12-01", env.sub()),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        env.admin(Method::DELETE, "/requests", None).await.status,
        204
    );
    let log = env.admin(Method::GET, "/requests", None).await;
    assert!(log.body["requests"].as_array().unwrap().is_empty());
    env.shutdown().await;
}
