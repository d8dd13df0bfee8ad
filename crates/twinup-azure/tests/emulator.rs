//! End-to-end checks of the clients and step kinds against the twinup emulator (the same REST
//! contracts as Azure, served locally): fresh create, rerun without writes, resume without a
//! second PUT, replication lag, 409 as success, permissions preflight, TLS with the emulator CA.

mod common;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use twinup_azure::credential::{ChainSettings, provider_for};
use twinup_azure::http::HttpConfig;
use twinup_azure::kinds::ad_application::AdApplicationKind;
use twinup_azure::kinds::digital_twins_instance::DigitalTwinsInstanceKind;
use twinup_azure::kinds::resource_group::ResourceGroupKind;
use twinup_azure::kinds::role_assignment::RoleAssignmentKind;
use twinup_azure::lro::{self, Started};
use twinup_azure::{
    AzureContext, Cloud, HttpClient, KindSettings, Secret, SubscriptionChoice, default_subscription,
};
use twinup_emulator::{Emulator, EmulatorConfig, EmulatorInfo};
use twinup_engine::{StepErrorKind, StepKind, converge};

use common::step_ctx;

async fn emulator(tls: bool) -> Emulator {
    emulator_with(tls, Duration::from_secs(10)).await
}

async fn emulator_with(tls: bool, replication_delay: Duration) -> Emulator {
    Emulator::start(EmulatorConfig {
        time_scale: 0.005,
        tls,
        replication_delay,
        ..Default::default()
    })
    .await
    .unwrap()
}

fn context_as(
    info: &EmulatorInfo,
    client_id: &str,
    secret: &str,
    http: HttpClient,
) -> AzureContext {
    let cloud = Cloud::Local {
        url: info.url.clone(),
    };
    let settings = ChainSettings {
        tenant_id: Some(info.tenant_id.clone()),
        client_id: Some(client_id.into()),
        client_secret: Some(Secret::new(secret)),
        federated_token_file: None,
    };
    let mut kind_settings = KindSettings::default();
    kind_settings.poll.default_interval = Duration::from_millis(20);
    kind_settings.poll.max_interval = Duration::from_millis(100);
    kind_settings.poll.timeout = Duration::from_secs(30);
    kind_settings.principal_wait = Duration::from_secs(20);
    kind_settings.principal_retry_interval = Duration::from_millis(20);
    AzureContext {
        endpoints: cloud.endpoints().unwrap(),
        token_provider: provider_for(&cloud, &http, &settings).unwrap(),
        http,
        subscription_id: Some(info.subscription_id.clone()),
        tenant_id: info.tenant_id.clone(),
        targets: Default::default(),
        signed_in: None,
        settings: kind_settings,
    }
}

fn context(info: &EmulatorInfo) -> AzureContext {
    context_as(info, &info.client_id, &info.client_secret, common::http())
}

/// How many requests with `method` whose path contains `needle` the emulator has seen.
async fn count(info: &EmulatorInfo, method: &str, needle: &str) -> usize {
    let log: Value = reqwest::Client::new()
        .get(format!("{}/_emulator/requests", info.url))
        .header(twinup_emulator::ADMIN_TOKEN_HEADER, &info.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["method"] == method
                && r["path"]
                    .as_str()
                    .unwrap_or("")
                    .to_lowercase()
                    .contains(&needle.to_lowercase())
        })
        .count()
}

async fn admin(info: &EmulatorInfo, path: &str, body: Value) -> Value {
    reqwest::Client::new()
        .post(format!("{}/_emulator/{path}", info.url))
        .header(twinup_emulator::ADMIN_TOKEN_HEADER, &info.admin_token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn adt_with(name: &str) -> Value {
    json!({"name": name, "resource_group": "rg-e2e", "location": "westus2", "identity": "SystemAssigned"})
}

async fn make_group(ctx: &AzureContext) {
    let kind = ResourceGroupKind::new(Arc::new(ctx.clone()));
    let (sctx, _) = step_ctx("rg");
    converge(
        &kind,
        &sctx,
        &json!({"name": "rg-e2e", "location": "westus2"}),
        None,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn group_and_instance_create_then_rerun_without_writes() {
    let emu = emulator(false).await;
    let info = emu.info().clone();
    let ctx = context(&info);
    make_group(&ctx).await;
    make_group(&ctx).await;
    assert_eq!(count(&info, "PUT", "/resourcegroups/rg-e2e").await, 1);

    let kind = DigitalTwinsInstanceKind::new(Arc::new(ctx.clone()));
    let (sctx, rec) = step_ctx("adt");
    kind.preflight(&sctx, &adt_with("adt-e2e-1")).await.unwrap();
    let out = converge(&kind, &sctx, &adt_with("adt-e2e-1"), None)
        .await
        .unwrap();
    assert!(
        out["host_name"].as_str().unwrap().starts_with("https://"),
        "{out:?}"
    );
    assert!(
        out["id"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .ends_with("digitaltwinsinstances/adt-e2e-1")
    );
    assert!(out["principal_id"].is_string());
    assert_eq!(
        rec.tokens.lock().unwrap().len(),
        1,
        "token saved before waiting"
    );
    let again = converge(&kind, &sctx, &adt_with("adt-e2e-1"), None)
        .await
        .unwrap();
    // Without the previous run's outputs the rerun finds what the first run made: it reports
    // `created: false` (the executor passes previous outputs, which keep `true`).
    assert_eq!(out["created"], true);
    assert_eq!(again["created"], false);
    let strip = |o: &serde_json::Map<String, serde_json::Value>| {
        let mut o = o.clone();
        o.remove("created");
        o
    };
    assert_eq!(strip(&again), strip(&out));
    assert_eq!(
        count(&info, "PUT", "digitalTwinsInstances/adt-e2e-1").await,
        1
    );
}

#[tokio::test]
async fn resume_from_a_saved_token_sends_no_second_put() {
    let emu = emulator(false).await;
    let info = emu.info().clone();
    let ctx = context(&info);
    make_group(&ctx).await;
    let arm = ctx.arm();
    let path = format!(
        "/subscriptions/{}/resourceGroups/rg-e2e/providers/Microsoft.DigitalTwins/digitalTwinsInstances/adt-e2e-2",
        info.subscription_id
    );
    let url = arm.url(&path, "2023-01-31", &[]).unwrap();
    let initial = arm
        .put(&path, "2023-01-31", &json!({"location": "westus2"}))
        .await
        .unwrap();
    let Started::Pending(token) = lro::start(&reqwest::Method::PUT, &url, initial, "x").unwrap()
    else {
        panic!("the emulator's instance create is long-running");
    };
    let kind = DigitalTwinsInstanceKind::new(Arc::new(ctx));
    let (sctx, _) = step_ctx("adt");
    let out = converge(
        &kind,
        &sctx,
        &adt_with("adt-e2e-2"),
        Some(&token.to_value()),
    )
    .await
    .unwrap();
    assert!(out["host_name"].as_str().unwrap().starts_with("https://"));
    assert_eq!(
        count(&info, "PUT", "digitalTwinsInstances/adt-e2e-2").await,
        1
    );
}

#[tokio::test]
async fn role_assignment_of_a_new_principal_and_409_as_success() {
    // Replication takes 5 s here: sending principalType must make the first PUT succeed anyway.
    let emu = emulator_with(false, Duration::from_secs(1000)).await;
    let info = emu.info().clone();
    let ctx = context(&info);
    make_group(&ctx).await;
    let scope = format!(
        "/subscriptions/{}/resourceGroups/rg-e2e",
        info.subscription_id
    );
    // A service principal created "just now": ARM cannot see it yet.
    let sp = admin(
        &info,
        "principals",
        json!({"kind": "service_principal", "replicated": false}),
    )
    .await;
    let sp_id = sp["object_id"].as_str().unwrap().to_string();
    let kind = RoleAssignmentKind::new(Arc::new(ctx.clone()));
    let (sctx, rec) = step_ctx("role");
    let with = json!({"scope": scope, "role": "Azure Digital Twins Data Owner", "principal": sp_id, "principal_type": "ServicePrincipal"});
    kind.preflight(&sctx, &with).await.unwrap();
    let out = converge(&kind, &sctx, &with, None).await.unwrap();
    assert_eq!(out["principal_id"], sp_id.as_str());
    assert_eq!(count(&info, "PUT", "roleAssignments/").await, 1);
    assert!(
        !rec.progress
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("replication"))
    );
    assert_eq!(
        count(&info, "GET", "roleAssignments/").await,
        0,
        "a first attempt PUTs the deterministic name without reading it first"
    );
    // A rerun of an attempt the checkpoint recorded as creating finds the assignment.
    let rerun = step_ctx("role").0.with_creating(true);
    let again = converge(&kind, &rerun, &with, None).await.unwrap();
    assert_eq!(again["created"], true);
    assert_eq!(
        count(&info, "PUT", "roleAssignments/").await,
        1,
        "rerun must not PUT"
    );

    // The admin user by UPN, assigned first under another name: 409 counts as success.
    let other = format!(
        "{scope}/providers/Microsoft.Authorization/roleAssignments/{}",
        uuid::Uuid::new_v4()
    );
    let role_id = format!(
        "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/bcd981a7-7f74-457b-83e1-cceb9e632ffe",
        info.subscription_id
    );
    ctx.arm()
        .put(&other, "2022-04-01", &json!({"properties": {"roleDefinitionId": role_id, "principalId": info.user_object_id, "principalType": "User"}}))
        .await
        .unwrap();
    let by_upn = json!({"scope": scope, "role": "bcd981a7-7f74-457b-83e1-cceb9e632ffe", "principal": info.user_principal_name});
    let out = converge(&kind, &sctx, &by_upn, None).await.unwrap();
    assert_eq!(out["principal_id"], info.user_object_id.as_str());
    assert_eq!(
        out["id"].as_str().unwrap().to_lowercase(),
        other.to_lowercase()
    );
}

#[tokio::test]
async fn preflight_refuses_a_principal_without_owner_rights() {
    let emu = emulator(false).await;
    let info = emu.info().clone();
    let sp = admin(&info, "principals", json!({"kind": "service_principal"})).await;
    let weak = context_as(
        &info,
        sp["app_id"].as_str().unwrap(),
        sp["client_secret"].as_str().unwrap(),
        common::http(),
    );
    let kind = RoleAssignmentKind::new(Arc::new(weak));
    let (sctx, _) = step_ctx("role");
    let with = json!({"scope": format!("/subscriptions/{}", info.subscription_id), "role": "Azure Digital Twins Data Owner", "principal": info.user_principal_name});
    let err = kind.preflight(&sctx, &with).await.unwrap_err();
    assert_eq!(err.kind, StepErrorKind::Rejected);
    assert!(
        err.help
            .unwrap_or_default()
            .contains("Owner or User Access Administrator")
    );
}

#[tokio::test]
async fn application_with_admin_consent_is_idempotent() {
    let emu = emulator(false).await;
    let info = emu.info().clone();
    let kind = AdApplicationKind::new(Arc::new(context(&info)));
    let (sctx, _) = step_ctx("app");
    let with = json!({"display_name": "twinup e2e client", "grant_admin_consent": true});
    let out = converge(&kind, &sctx, &with, None).await.unwrap();
    assert!(
        out["client_id"].is_string() && out["service_principal_id"].is_string(),
        "{out:?}"
    );
    let writes = |info: EmulatorInfo| async move {
        count(&info, "PATCH", "applications").await
            + count(&info, "POST", "servicePrincipals").await
            + count(&info, "POST", "oauth2PermissionGrants").await
    };
    let before = writes(info.clone()).await;
    let again = converge(&kind, &sctx, &with, None).await.unwrap();
    assert_eq!(again, out);
    assert_eq!(writes(info.clone()).await, before, "rerun must not write");
}

#[tokio::test]
async fn default_subscription_is_the_only_one() {
    let emu = emulator(false).await;
    let info = emu.info().clone();
    match default_subscription(&context(&info).arm()).await.unwrap() {
        SubscriptionChoice::Only(s) => assert_eq!(s.id, info.subscription_id),
        other => panic!("expected one subscription, got {other:?}"),
    }
}

#[tokio::test]
async fn discovery_offers_the_only_subscription_and_the_signed_in_principal() {
    use twinup_azure::discovery::{DISCOVERED_INPUTS, discover_inputs};
    let emu = emulator(false).await;
    let info = emu.info().clone();
    let arm = context(&info).arm();
    let found = discover_inputs(&arm, "principal-1", DISCOVERED_INPUTS)
        .await
        .unwrap();
    assert!(found.choices.is_empty(), "{found:?}");
    assert!(
        found
            .defaults
            .contains(&("subscription".into(), info.subscription_id.clone().into())),
        "{found:?}"
    );
    assert!(
        found
            .defaults
            .contains(&("role_assignee".into(), "principal-1".into())),
        "{found:?}"
    );
    // Only what the plan asks for, and no assignee when the principal is unknown.
    let found = discover_inputs(&arm, "", &["role_assignee"]).await.unwrap();
    assert_eq!(found, Default::default());
}

#[tokio::test]
async fn tls_works_with_the_emulator_ca_and_fails_without_it() {
    let emu = emulator(true).await;
    let info = emu.info().clone();
    assert!(info.url.starts_with("https://"));
    let trusted = HttpClient::new(&HttpConfig {
        ca_file: info.ca_cert.clone(),
        use_ssl_cert_file: false,
        ..HttpConfig::default()
    })
    .unwrap();
    let ctx = context_as(&info, &info.client_id, &info.client_secret, trusted);
    assert!(matches!(
        default_subscription(&ctx.arm()).await.unwrap(),
        SubscriptionChoice::Only(_)
    ));

    let mut untrusted_config = HttpConfig {
        use_ssl_cert_file: false,
        ..HttpConfig::default()
    };
    untrusted_config.retry.max_attempts = 1;
    let untrusted = HttpClient::new(&untrusted_config).unwrap();
    let ctx = context_as(&info, &info.client_id, &info.client_secret, untrusted);
    let err = default_subscription(&ctx.arm()).await.unwrap_err();
    assert!(err.to_string().contains("CA"), "{err}");
}
