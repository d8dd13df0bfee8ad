//! Client behaviour over HTTP against the in-memory fake: retries honouring `retry-after-ms`,
//! typed ARM and Graph errors, one token per audience, LRO polling, Graph upserts.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use twinup_azure::arm::ArmClient;
use twinup_azure::credential::{ClientCredentials, TokenProvider};
use twinup_azure::graph::GraphClient;
use twinup_azure::lro::{self, LroKind, PollOptions, Started};
use twinup_azure::{AzureError, Secret};

use common::{SUB, context, fake};

fn poll() -> PollOptions {
    PollOptions {
        timeout: Duration::from_secs(10),
        default_interval: Duration::from_millis(5),
        max_interval: Duration::from_millis(20),
    }
}

#[tokio::test]
async fn throttled_requests_are_retried_using_retry_after_ms() {
    let f = fake::start().await;
    f.world().throttle_next = 2;
    let arm = context(&f.url).arm();
    let started = Instant::now();
    let path = format!("/subscriptions/{SUB}/resourceGroups/rg1");
    arm.put(&path, "2025-04-01", &json!({"location": "westus"}))
        .await
        .unwrap();
    // Retry-After said 1000 s; retry-after-ms said 1 ms and must win.
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(f.world().count("PUT", "/resourceGroups/rg1"), 3);
}

#[tokio::test]
async fn throttling_that_never_ends_gives_a_typed_error() {
    let f = fake::start().await;
    f.world().throttle_next = 100;
    let arm = context(&f.url).arm();
    let err = arm
        .get(
            &format!("/subscriptions/{SUB}/resourceGroups/rg1"),
            "2025-04-01",
        )
        .await
        .unwrap_err();
    let arm_err = err.arm().expect("an ARM error");
    assert_eq!(arm_err.status, 429);
    assert_eq!(arm_err.code, "SubscriptionRequestsThrottled");
    assert!(err.to_string().contains("wait a minute"), "{err}");
    assert_eq!(
        f.world().count("GET", "/resourceGroups/rg1"),
        4,
        "bounded attempts"
    );
}

#[tokio::test]
async fn arm_errors_carry_code_message_and_request_id() {
    let f = fake::start().await;
    let arm = context(&f.url).arm();
    let err = arm
        .get(
            &format!("/subscriptions/{SUB}/resourceGroups/nope"),
            "2025-04-01",
        )
        .await
        .unwrap_err();
    let e = err.arm().unwrap();
    assert_eq!((e.status, e.code.as_str()), (404, "ResourceGroupNotFound"));
    assert_eq!(e.request_id.as_deref(), Some("req-123"));
    assert!(err.to_string().contains("azure.resource_group"), "{err}");
    assert!(
        arm.get_optional(
            &format!("/subscriptions/{SUB}/resourceGroups/nope"),
            "2025-04-01"
        )
        .await
        .unwrap()
        .is_none()
    );
}

#[tokio::test]
async fn one_token_request_per_audience() {
    let f = fake::start().await;
    let ctx = context(&f.url);
    let arm = ctx.arm();
    let graph =
        GraphClient::new(ctx.http.clone(), &ctx.endpoints, ctx.token_provider.clone()).unwrap();
    for _ in 0..3 {
        let _ = arm
            .get_optional(
                &format!("/subscriptions/{SUB}/resourceGroups/a"),
                "2025-04-01",
            )
            .await
            .unwrap();
        let _ = graph.find_service_principal("x").await.unwrap();
    }
    let w = f.world();
    assert_eq!(w.token_requests, 2);
    assert_eq!(
        w.token_scopes,
        [
            "https://management.azure.com/.default",
            "https://graph.microsoft.com/.default"
        ]
    );
}

#[tokio::test]
async fn bad_client_secret_is_explained_without_leaking_it() {
    let f = fake::start().await;
    let ctx = context(&f.url);
    let provider = ClientCredentials::new(
        ctx.http.clone(),
        ctx.endpoints.token_url(common::TENANT).unwrap(),
        "client-app".into(),
        Secret::new("wrong-secret-value"),
    );
    let err = provider
        .token("https://management.azure.com/.default")
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, AzureError::Credential { .. }));
    assert!(
        text.contains("invalid_client") && text.contains("AZURE_CLIENT_SECRET"),
        "{text}"
    );
    assert!(!text.contains("wrong-secret-value"));
    assert!(!format!("{provider:?}").contains("wrong-secret-value"));
}

#[tokio::test]
async fn token_claims_identify_the_caller() {
    let f = fake::start().await;
    let ctx = context(&f.url);
    let token = ctx
        .token_provider
        .token(&ctx.endpoints.arm_scope)
        .await
        .unwrap();
    let claims = token.claims().unwrap();
    assert_eq!(claims.oid.as_deref(), Some("caller-oid"));
    assert_eq!(claims.principal_type(), "ServicePrincipal");
}

async fn start_instance(arm: &ArmClient, name: &str) -> lro::LroToken {
    let path = format!(
        "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.DigitalTwins/digitalTwinsInstances/{name}"
    );
    let url = arm.url(&path, "2023-01-31", &[]).unwrap();
    let initial = arm
        .put(&path, "2023-01-31", &json!({"location": "westus2"}))
        .await
        .unwrap();
    match lro::start(&Method::PUT, &url, initial, name).unwrap() {
        Started::Pending(token) => token,
        Started::Done(_) => panic!("expected a long-running operation"),
    }
}

#[tokio::test]
async fn lro_polls_the_async_operation_then_reads_the_resource() {
    let f = fake::start().await;
    f.world().op_polls = 3;
    let arm = context(&f.url).arm();
    let token = start_instance(&arm, "adt-1").await;
    assert_eq!(token.kind, LroKind::AsyncOperation);
    let lines = std::sync::Mutex::new(Vec::new());
    let body = lro::poll_until_done(&arm, &token, &poll(), "instance adt-1", &|l: &str| {
        lines.lock().unwrap().push(l.to_string())
    })
    .await
    .unwrap();
    assert_eq!(body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(
        body["properties"]["hostName"],
        "adt-1.api.wus2.digitaltwins.azure.net"
    );
    assert_eq!(f.world().count("GET", "/ops/"), 4);
    assert!(
        lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("InProgress 50%"))
    );
}

#[tokio::test]
async fn failed_operation_reports_its_code_and_message() {
    let f = fake::start().await;
    f.world().op_failure = Some((
        "QuotaExceeded".into(),
        "Too many instances in region".into(),
    ));
    let arm = context(&f.url).arm();
    let token = start_instance(&arm, "adt-2").await;
    let err = lro::poll_until_done(&arm, &token, &poll(), "creating adt-2", &|_: &str| {})
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("QuotaExceeded") && text.contains("Too many instances"),
        "{text}"
    );
}

#[tokio::test]
async fn expired_operation_url_falls_back_to_reading_the_resource() {
    let f = fake::start().await;
    let arm = context(&f.url).arm();
    let token = start_instance(&arm, "adt-3").await;
    {
        let mut w = f.world();
        w.ops_expired = true;
        let key = w
            .resources
            .keys()
            .find(|k| k.ends_with("adt-3"))
            .unwrap()
            .clone();
        w.resources.get_mut(&key).unwrap()["properties"]["provisioningState"] = json!("Succeeded");
    }
    let body = lro::poll_until_done(&arm, &token, &poll(), "adt-3", &|_: &str| {})
        .await
        .unwrap();
    assert_eq!(body["name"], "adt-3");
}

#[tokio::test]
async fn lro_timeout_says_what_and_how_long() {
    let f = fake::start().await;
    f.world().op_polls = 1_000_000;
    let arm = context(&f.url).arm();
    let token = start_instance(&arm, "adt-4").await;
    let opts = PollOptions {
        timeout: Duration::from_millis(150),
        ..poll()
    };
    let err = lro::poll_until_done(&arm, &token, &opts, "creating adt-4", &|_: &str| {})
        .await
        .unwrap_err();
    assert!(matches!(err, AzureError::OperationTimeout { .. }));
    assert!(
        err.to_string().contains("creating adt-4") && err.to_string().contains("again"),
        "{err}"
    );
}

#[tokio::test]
async fn operation_urls_on_other_hosts_never_get_the_token() {
    let f = fake::start().await;
    let arm = context(&f.url).arm();
    let mut token = start_instance(&arm, "adt-5").await;
    token.operation_url = "https://evil.example/ops/1".into();
    // The foreign operation URL is never contacted (it does not even resolve, so contacting it
    // would end in a transport error): the poller watches the resource on the ARM endpoint,
    // which in this fake stays provisioning until the wait times out.
    let opts = PollOptions {
        timeout: Duration::from_millis(300),
        ..poll()
    };
    let mut lines = std::sync::Mutex::new(Vec::new());
    let err = lro::poll_until_done(&arm, &token, &opts, "adt-5", &|l: &str| {
        lines.lock().unwrap().push(l.to_string())
    })
    .await
    .unwrap_err();
    assert!(matches!(err, AzureError::OperationTimeout { .. }), "{err}");
    let lines = lines.get_mut().unwrap();
    assert!(
        lines.iter().all(|l| l.contains("Provisioning")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn application_upsert_handles_201_then_204() {
    let f = fake::start().await;
    let ctx = context(&f.url);
    let graph = GraphClient::new(
        ctx.http.clone(),
        &ctx.endpoints,
        Arc::clone(&ctx.token_provider),
    )
    .unwrap();
    let body = json!({"displayName": "twins client"});
    let created = graph.upsert_application("twinup-x", &body).await.unwrap();
    let updated = graph
        .upsert_application("twinup-x", &json!({"displayName": "renamed"}))
        .await
        .unwrap();
    assert_eq!(created.app_id, updated.app_id);
    assert_eq!(updated.body["displayName"], "renamed");
    assert_eq!(f.world().apps.len(), 1);
}

#[tokio::test]
async fn service_principal_conflict_means_it_exists() {
    let f = fake::start().await;
    let ctx = context(&f.url);
    let graph = GraphClient::new(
        ctx.http.clone(),
        &ctx.endpoints,
        Arc::clone(&ctx.token_provider),
    )
    .unwrap();
    let first = graph.ensure_service_principal("app-1").await.unwrap();
    let again = graph.ensure_service_principal("app-1").await.unwrap();
    assert_eq!(first["id"], again["id"]);
    assert_eq!(f.world().count("POST", "servicePrincipals"), 1);
    let err = graph.me().await.unwrap_err();
    assert_eq!(err.graph().unwrap().code, "Request_ResourceNotFound");
}
