//! Each `azure.*` step kind against the in-memory fake: fresh create, rerun sends no write,
//! resume from a saved LRO token sends no second PUT, 409 counts as success, PrincipalNotFound
//! is retried, preflight finds taken names and missing permissions.

mod common;

use std::sync::Arc;

use serde_json::{Value, json};
use twinup_azure::kinds::ad_application::AdApplicationKind;
use twinup_azure::kinds::api_permissions_manifest::ApiPermissionsManifestKind;
use twinup_azure::kinds::arm_resource::ArmResourceKind;
use twinup_azure::kinds::digital_twins_instance::DigitalTwinsInstanceKind;
use twinup_azure::kinds::resource_group::ResourceGroupKind;
use twinup_azure::kinds::role_assignment::RoleAssignmentKind;
use twinup_engine::{KindRegistry, LiveState, StepErrorKind, StepKind, converge};

use common::fake::{self, DATA_OWNER};
use common::{SUB, context, step_ctx};

fn adt_with(name: &str) -> Value {
    json!({"name": name, "resource_group": "rg", "location": "westus2", "tags": {"app": "twins"}, "identity": "SystemAssigned"})
}

fn adt_id(name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.DigitalTwins/digitalTwinsInstances/{name}"
    )
}

#[tokio::test]
async fn register_kinds_adds_every_azure_kind() {
    let f = fake::start().await;
    let mut registry = KindRegistry::new();
    twinup_azure::register_kinds(&mut registry, context(&f.url));
    for name in [
        "azure.resource_group",
        "azure.digital_twins_instance",
        "azure.role_assignment",
        "azure.api_permissions_manifest",
        "azure.ad_application",
        "azure.arm_resource",
    ] {
        assert!(registry.get(name).is_some(), "{name}");
    }
}

#[tokio::test]
async fn resource_group_create_then_rerun_writes_nothing() {
    let f = fake::start().await;
    let kind = ResourceGroupKind::new(Arc::new(context(&f.url)));
    let (ctx, _) = step_ctx("rg");
    let with = json!({"name": "rg-twins", "location": "westeurope", "tags": {"env": "dev"}});
    assert!(kind.schema().validate(&with).is_empty());
    let out = converge(&kind, &ctx, &with, None).await.unwrap();
    assert_eq!(
        out["id"],
        format!("/subscriptions/{SUB}/resourceGroups/rg-twins")
    );
    assert_eq!(out["name"], "rg-twins");
    assert_eq!(out["location"], "westeurope");
    let again = converge(&kind, &ctx, &with, None).await.unwrap();
    // Without the previous run's outputs the rerun finds what the first run made: it reports
    // `created: false` (the executor passes previous outputs, which keep `true`).
    assert_eq!(out["created"], true);
    assert_eq!(again["created"], false);
    let strip = |o: &serde_json::Map<String, serde_json::Value>| {
        let mut o = o.clone();
        o.remove("created");
        o.remove("found");
        o
    };
    assert_eq!(strip(&again), strip(&out));
    assert_eq!(f.world().count("PUT", "rg-twins"), 1, "rerun must not PUT");
    // Changing tags merges them in through the Tags API (no PUT replacing the set); a
    // different location is refused.
    let retag = json!({"name": "rg-twins", "location": "westeurope", "tags": {"env": "prod"}});
    converge(&kind, &ctx, &retag, None).await.unwrap();
    assert_eq!(f.world().count("PUT", "rg-twins"), 1);
    assert_eq!(f.world().count("PATCH", "tags/default"), 1);
    let moved = json!({"name": "rg-twins", "location": "eastus"});
    let err = converge(&kind, &ctx, &moved, None).await.unwrap_err();
    assert_eq!(err.kind, StepErrorKind::Rejected);
    assert!(err.message.contains("cannot change"), "{}", err.message);
    assert!(matches!(
        kind.read(&ctx, &with).await.unwrap(),
        LiveState::Present { .. }
    ));
}

#[tokio::test]
async fn validation_reports_fields_and_tolerates_references() {
    let f = fake::start().await;
    let kind = DigitalTwinsInstanceKind::new(Arc::new(context(&f.url)));
    let errors = kind.schema().validate(&json!({"name": "-bad", "resource_group": "${steps.rg.outputs.name}", "location": "westus2", "identity": "Both", "colour": 1}));
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert!(
        fields.contains(&"name") && fields.contains(&"identity") && fields.contains(&"colour"),
        "{fields:?}"
    );
    assert!(!fields.contains(&"resource_group"));
}

#[tokio::test]
async fn digital_twins_create_saves_token_before_waiting_and_rerun_writes_nothing() {
    let f = fake::start().await;
    f.world().op_polls = 2;
    let kind = DigitalTwinsInstanceKind::new(Arc::new(context(&f.url)));
    let (ctx, rec) = step_ctx("adt");
    let out = converge(&kind, &ctx, &adt_with("adt-new"), None)
        .await
        .unwrap();
    assert_eq!(out["id"], adt_id("adt-new"));
    assert_eq!(
        out["host_name"],
        "https://adt-new.api.wus2.digitaltwins.azure.net"
    );
    assert_eq!(out["principal_id"], "instance-identity-oid");
    let tokens = rec.tokens.lock().unwrap().clone();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0]["kind"], "async_operation");
    let again = converge(&kind, &ctx, &adt_with("adt-new"), None)
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
    assert_eq!(f.world().count("PUT", "adt-new"), 1, "rerun must not PUT");
}

#[tokio::test]
async fn digital_twins_resume_from_saved_token_sends_no_second_put() {
    let f = fake::start().await;
    f.world().op_polls = 1;
    let ctx_arc = Arc::new(context(&f.url));
    // First run: PUT accepted, token saved, then the process "dies" before polling.
    let arm = ctx_arc.arm();
    let path = adt_id("adt-resume");
    let url = arm.url(&path, "2023-01-31", &[]).unwrap();
    let initial = arm
        .put(&path, "2023-01-31", &json!({"location": "westus2"}))
        .await
        .unwrap();
    let twinup_azure::lro::Started::Pending(token) =
        twinup_azure::lro::start(&reqwest::Method::PUT, &url, initial, "x").unwrap()
    else {
        panic!("expected pending")
    };
    let saved = token.to_value();
    // Second run resumes.
    let kind = DigitalTwinsInstanceKind::new(ctx_arc);
    let (ctx, _) = step_ctx("adt");
    let out = converge(&kind, &ctx, &adt_with("adt-resume"), Some(&saved))
        .await
        .unwrap();
    assert_eq!(
        out["host_name"],
        "https://adt-resume.api.wus2.digitaltwins.azure.net"
    );
    assert_eq!(f.world().count("PUT", "adt-resume"), 1);
}

#[tokio::test]
async fn digital_twins_preflight_refuses_a_name_taken_elsewhere() {
    let f = fake::start().await;
    f.world().taken_names.push("adt-taken".into());
    let kind = DigitalTwinsInstanceKind::new(Arc::new(context(&f.url)));
    let (ctx, _) = step_ctx("adt");
    let err = kind
        .preflight(&ctx, &adt_with("adt-taken"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, StepErrorKind::Rejected);
    assert!(
        err.message.contains("instance name adt-taken is taken"),
        "{}",
        err.message
    );
    kind.preflight(&ctx, &adt_with("adt-free")).await.unwrap();
    // Our own existing instance is fine even though its name is "taken".
    converge(&kind, &ctx, &adt_with("adt-mine"), None)
        .await
        .unwrap();
    f.world().taken_names.push("adt-mine".into());
    kind.preflight(&ctx, &adt_with("adt-mine")).await.unwrap();
    assert_eq!(
        f.world().count("PUT", "digitalTwinsInstances"),
        1,
        "preflight never writes"
    );
}

fn role_with(principal: &str) -> Value {
    json!({"scope": adt_id("adt-r"), "role": "Azure Digital Twins Data Owner", "principal": principal})
}

async fn with_instance(f: &fake::Fake) {
    let kind = DigitalTwinsInstanceKind::new(Arc::new(context(&f.url)));
    let (ctx, _) = step_ctx("adt");
    converge(&kind, &ctx, &adt_with("adt-r"), None)
        .await
        .unwrap();
}

#[tokio::test]
async fn role_assignment_by_upn_then_rerun_writes_nothing() {
    let f = fake::start().await;
    with_instance(&f).await;
    f.world()
        .users
        .insert("ann@contoso.com".into(), "ann-oid".into());
    let kind = RoleAssignmentKind::new(Arc::new(context(&f.url)));
    let (ctx, _) = step_ctx("role");
    kind.preflight(&ctx, &role_with("ann@contoso.com"))
        .await
        .unwrap();
    let out = converge(&kind, &ctx, &role_with("ann@contoso.com"), None)
        .await
        .unwrap();
    assert_eq!(out["principal_id"], "ann-oid");
    let stored = f
        .world()
        .resources
        .values()
        .find(|r| r.pointer("/properties/principalId") == Some(&json!("ann-oid")))
        .cloned()
        .unwrap();
    assert_eq!(stored["properties"]["principalType"], "User");
    assert!(
        stored["properties"]["roleDefinitionId"]
            .as_str()
            .unwrap()
            .ends_with(DATA_OWNER)
    );
    assert_eq!(stored["id"], out["id"]);
    // The rerun of an attempt recorded as creating reads, finds it, and does not PUT again.
    let rerun = step_ctx("role").0.with_creating(true);
    converge(&kind, &rerun, &role_with("ann@contoso.com"), None)
        .await
        .unwrap();
    assert_eq!(f.world().count("PUT", "roleAssignments"), 1);
}

#[tokio::test]
async fn role_assignment_existing_under_another_name_is_success() {
    let f = fake::start().await;
    with_instance(&f).await;
    let other = format!(
        "{}/providers/Microsoft.Authorization/roleAssignments/11111111-2222-3333-4444-555555555555",
        adt_id("adt-r")
    );
    let ctx_arc = Arc::new(context(&f.url));
    ctx_arc
        .arm()
        .put(&other, "2022-04-01", &json!({"properties": {
            "roleDefinitionId": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{DATA_OWNER}"),
            "principalId": "9f0e4f59-0000-4000-8000-000000000001", "principalType": "ServicePrincipal"}}))
        .await
        .unwrap();
    let kind = RoleAssignmentKind::new(ctx_arc);
    let (ctx, rec) = step_ctx("role");
    let with = json!({"scope": adt_id("adt-r"), "role": DATA_OWNER, "principal": "9f0e4f59-0000-4000-8000-000000000001", "principal_type": "ServicePrincipal"});
    let out = converge(&kind, &ctx, &with, None).await.unwrap();
    assert_eq!(out["id"], other, "reports the existing assignment");
    assert!(
        rec.progress
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("already assigned"))
    );
}

#[tokio::test]
async fn role_assignment_retries_principal_not_found() {
    let f = fake::start().await;
    with_instance(&f).await;
    f.world().principal_not_found = 3;
    let kind = RoleAssignmentKind::new(Arc::new(context(&f.url)));
    let (ctx, _) = step_ctx("role");
    let with = json!({"scope": adt_id("adt-r"), "role": DATA_OWNER, "principal": "9f0e4f59-0000-4000-8000-000000000002", "principal_type": "ServicePrincipal"});
    converge(&kind, &ctx, &with, None).await.unwrap();
    assert_eq!(f.world().count("PUT", "roleAssignments"), 4);
}

#[tokio::test]
async fn role_assignment_gives_up_on_principal_not_found_with_an_explanation() {
    let f = fake::start().await;
    with_instance(&f).await;
    f.world().principal_not_found = u32::MAX;
    let mut c = context(&f.url);
    c.settings.principal_wait = std::time::Duration::from_millis(100);
    let kind = RoleAssignmentKind::new(Arc::new(c));
    let (ctx, _) = step_ctx("role");
    let with = json!({"scope": adt_id("adt-r"), "role": DATA_OWNER, "principal": "9f0e4f59-0000-4000-8000-000000000003", "principal_type": "ServicePrincipal"});
    let err = converge(&kind, &ctx, &with, None).await.unwrap_err();
    assert_eq!(err.code.as_deref(), Some("PrincipalNotFound"));
    assert!(err.help.unwrap().contains("replicate"));
}

#[tokio::test]
async fn role_assignment_preflight_needs_owner_or_user_access_administrator() {
    let f = fake::start().await;
    f.world().actions = vec!["*/read".into()];
    let kind = RoleAssignmentKind::new(Arc::new(context(&f.url)));
    let (ctx, _) = step_ctx("role");
    // The instance does not exist yet: the check falls back to the subscription.
    let err = kind
        .preflight(&ctx, &role_with("ann@contoso.com"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, StepErrorKind::Rejected);
    assert!(
        err.help
            .unwrap()
            .contains("Owner or User Access Administrator")
    );
    assert!(
        err.message.contains(&format!("/subscriptions/{SUB}")),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn manifest_is_written_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out/manifest.json");
    let kind = ApiPermissionsManifestKind;
    let (ctx, rec) = step_ctx("manifest");
    // (A temporary directory is outside the working directory.)
    let with = json!({"path": path.display().to_string(), "outside_workdir": true});
    let out = converge(&kind, &ctx, &with, None).await.unwrap();
    let written: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(written, out["manifest"]);
    assert_eq!(
        written[0]["resourceAppId"],
        "0b07f429-9f4b-4714-9392-cc5e8e80c8b0"
    );
    assert_eq!(
        written[0]["resourceAccess"][0]["id"],
        "4589bd03-58cb-4e6c-b17f-b580e39652f8"
    );
    converge(&kind, &ctx, &with, None).await.unwrap();
    assert_eq!(
        rec.progress.lock().unwrap().len(),
        1,
        "second run does not rewrite"
    );
}

#[tokio::test]
async fn ad_application_with_consent_then_rerun_writes_nothing() {
    let f = fake::start().await;
    let kind = AdApplicationKind::new(Arc::new(context(&f.url)));
    let (ctx, _) = step_ctx("app");
    let with = json!({"display_name": "twins client", "redirect_uris": ["http://localhost"], "grant_admin_consent": true});
    assert!(kind.schema().validate(&with).is_empty());
    let out = converge(&kind, &ctx, &with, None).await.unwrap();
    let (app, grant) = {
        let w = f.world();
        assert_eq!(w.apps.len(), 1);
        (w.apps.values().next().unwrap().clone(), w.grants[0].clone())
    };
    assert_eq!(out["client_id"], app["appId"]);
    assert_eq!(out["object_id"], app["id"]);
    assert_eq!(app["signInAudience"], "AzureADMyOrg");
    assert_eq!(
        app["requiredResourceAccess"][0]["resourceAppId"],
        "0b07f429-9f4b-4714-9392-cc5e8e80c8b0"
    );
    assert_eq!(grant["clientId"], out["service_principal_id"]);
    assert_eq!(grant["resourceId"], "adt-sp-object-id");
    assert_eq!(grant["scope"], "Read.Write");
    let writes = |w: &fake::World| {
        w.count("PATCH", "applications")
            + w.count("POST", "servicePrincipals")
            + w.count("POST", "oauth2PermissionGrants")
    };
    let before = writes(&f.world());
    let again = converge(&kind, &ctx, &with, None).await.unwrap();
    assert_eq!(again, out);
    assert_eq!(writes(&f.world()), before, "rerun must not write");
}

#[tokio::test]
async fn ad_application_crash_after_create_does_not_duplicate() {
    let f = fake::start().await;
    let kind = AdApplicationKind::new(Arc::new(context(&f.url)));
    let (ctx, _) = step_ctx("app");
    let with = json!({"display_name": "twins client", "create_service_principal": false});
    let first = converge(&kind, &ctx, &with, None).await.unwrap();
    // A rerun with no memory of the first (no checkpoint) finds the same app by uniqueName.
    let (fresh_ctx, _) = step_ctx("app");
    let second = converge(&kind, &fresh_ctx, &with, Some(&Value::Null))
        .await
        .unwrap();
    assert_eq!(first["client_id"], second["client_id"]);
    assert_eq!(f.world().apps.len(), 1);
    assert_eq!(second["service_principal_id"], Value::Null);
}

#[tokio::test]
async fn arm_resource_creates_then_skips_when_unchanged() {
    let f = fake::start().await;
    let kind = ArmResourceKind::new(Arc::new(context(&f.url)));
    let (ctx, _) = step_ctx("res");
    let id = format!(
        "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1"
    );
    let with = json!({"id": id, "api_version": "2023-05-01", "body": {"location": "westus2", "properties": {"minimumTlsVersion": "TLS1_2"}}});
    assert!(kind.schema().validate(&with).is_empty());
    let out = converge(&kind, &ctx, &with, None).await.unwrap();
    assert_eq!(out["id"], id);
    assert_eq!(out["properties"]["minimumTlsVersion"], "TLS1_2");
    converge(&kind, &ctx, &with, None).await.unwrap();
    assert_eq!(f.world().count("PUT", "storageAccounts/st1"), 1);
}

#[tokio::test]
async fn interrupted_wait_keeps_the_saved_token() {
    let f = fake::start().await;
    f.world().op_polls = 1_000_000;
    let kind = DigitalTwinsInstanceKind::new(Arc::new(context(&f.url)));
    let (ctx, rec) = step_ctx("adt");
    let cancel = ctx.cancellation().clone();
    let canceller = {
        let rec = rec.clone();
        async move {
            // Interrupt as soon as the token is durable.
            while rec.tokens.lock().unwrap().is_empty() {
                tokio::task::yield_now().await;
            }
            cancel.cancel();
        }
    };
    let with = adt_with("adt-int");
    let (result, ()) = tokio::join!(converge(&kind, &ctx, &with, None), canceller);
    assert_eq!(result.unwrap_err().kind, StepErrorKind::Interrupted);
    assert_eq!(rec.tokens.lock().unwrap().len(), 1);
}
