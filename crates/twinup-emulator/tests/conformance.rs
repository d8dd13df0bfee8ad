//! Conformance: replays every official example under shared/azure-api (request from
//! `parameters`, expected status, headers and body from `responses`) against the emulator, and
//! the sequences of README §7.

mod common;

use common::{Env, start};
use reqwest::Method;
use serde_json::{Value, json};

const EXAMPLE_SUBS: &[&str] = &[
    "50016170-c839-41ba-a724-51e9df440b9e",
    "a925f2f7-5c63-4b7b-8799-25a5f97bc3b2",
    "00000000-0000-0000-0000-000000000000",
];

fn contracts_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/azure-api")
}

/// The example with the example subscription ids replaced by the emulator's.
fn example(env: &Env, rel: &str) -> Value {
    let path = contracts_dir().join(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read contract example {}: {e}", path.display()));
    let mut text = text;
    for s in EXAMPLE_SUBS {
        text = text.replace(s, env.sub());
    }
    serde_json::from_str(&text).unwrap()
}

/// Values that legitimately differ per run (times, generated ids, who made the change).
fn volatile(path: &str, key: &str) -> bool {
    matches!(key, "createdTime" | "lastUpdatedTime")
        || path.contains(".systemData")
        || (path.contains(".identity") && matches!(key, "principalId" | "tenantId" | "clientId"))
}

/// Checks that every key of `expected` is in `actual` with the same value (volatile ones: same kind).
fn compare(expected: &Value, actual: &Value, path: &str, skip: &[&str], errors: &mut Vec<String>) {
    match expected {
        Value::Object(m) => {
            for (k, v) in m {
                if skip.contains(&k.as_str()) {
                    continue;
                }
                let p = format!("{path}.{k}");
                match actual.get(k) {
                    None => errors.push(format!("{p} missing")),
                    // The examples echo `roleDefinitionId` as `/providers/...`; Azure answers
                    // the subscription-qualified id (what the az CLI matches definitions by, see
                    // docs/emulator.md), so the example's id must be its tail.
                    Some(a) if k == "roleDefinitionId" => {
                        let (want, got) = (v.as_str().unwrap_or(""), a.as_str().unwrap_or(""));
                        if !got.to_lowercase().ends_with(&want.to_lowercase()) {
                            errors.push(format!("{p}: expected an id ending in {want}, got {got}"));
                        }
                    }
                    Some(a) if volatile(path, k) => {
                        if v.is_null() != a.is_null() && !(k == "principalId" && v.is_null()) {
                            errors.push(format!("{p}: expected like {v}, got {a}"));
                        }
                    }
                    Some(a) if k == "hostName" && v.is_string() => {
                        let ok = a.as_str().is_some_and(|h| h.contains(".api.wus2."));
                        if !ok {
                            errors.push(format!("{p}: expected a westus2 host name, got {a}"));
                        }
                    }
                    Some(a) => compare(v, a, &p, &[], errors),
                }
            }
        }
        _ => {
            if expected != actual {
                errors.push(format!("{path}: expected {expected}, got {actual}"));
            }
        }
    }
}

#[test]
fn the_comparison_catches_differences() {
    let mut errors = Vec::new();
    compare(
        &json!({"a": {"b": 1}, "c": "x"}),
        &json!({"a": {"b": 2}}),
        "$",
        &[],
        &mut errors,
    );
    assert_eq!(errors.len(), 2, "{errors:?}");
}

fn assert_body(expected: &Value, actual: &Value, skip: &[&str]) {
    let mut errors = Vec::new();
    compare(expected, actual, "$", skip, &mut errors);
    assert!(
        errors.is_empty(),
        "body differs from the example:\n{}\nactual: {actual}",
        errors.join("\n")
    );
}

/// The async headers of an example response must be present and point at the same kind of URL.
fn assert_async_headers(env: &Env, example_headers: &Value, r: &common::Reply) {
    for name in ["azure-asyncoperation", "location"] {
        let want = example_headers[name].as_str().unwrap();
        let got = r
            .header(name)
            .unwrap_or_else(|| panic!("header {name} missing"));
        let want_path = want.trim_start_matches("https://management.azure.com");
        let want_prefix = &want_path[..want_path.rfind('/').unwrap()];
        let got_path = got.trim_start_matches(&env.info.url);
        assert!(
            got_path.starts_with(want_prefix),
            "{name}: {got_path} does not look like {want_path}"
        );
        assert!(
            got.starts_with(&env.info.url),
            "{name} must be absolute: {got}"
        );
    }
    let retry: u64 = r
        .header("retry-after")
        .unwrap()
        .parse()
        .expect("integer Retry-After");
    assert!(retry >= 1);
    assert!(r.header("retry-after-ms").unwrap().parse::<u64>().is_ok());
}

/// Creates the user-assigned identities an instance body names (their resource groups too):
/// the examples assume they exist, and an instance naming a missing one is refused.
async fn create_identities(env: &Env, body: &Value) {
    let ids = body["identity"]["userAssignedIdentities"]
        .as_object()
        .map(|m| m.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    for id in ids {
        let group = id.split('/').nth(4).expect("resource group in the id");
        env.create_rg(group, "westus2").await;
        let r = env
            .arm(
                Method::PUT,
                &format!("{id}?api-version=2023-01-31"),
                Some(json!({"location": "westus2"})),
            )
            .await;
        assert!(r.status == 201 || r.status == 200, "{}", r.body);
    }
}

async fn dt_put_example(file: &str) {
    let env = start().await;
    let ex = example(&env, file);
    let p = &ex["parameters"];
    let (rg, name) = (
        p["resourceGroupName"].as_str().unwrap(),
        p["resourceName"].as_str().unwrap(),
    );
    env.create_rg(rg, "westus2").await;
    create_identities(&env, &p["digitalTwinsCreate"]).await;
    let path = format!(
        "/subscriptions/{}/resourceGroups/{rg}/providers/Microsoft.DigitalTwins/digitalTwinsInstances/{name}?api-version={}",
        p["subscriptionId"].as_str().unwrap(),
        p["api-version"].as_str().unwrap()
    );
    let r = env
        .arm(Method::PUT, &path, Some(p["digitalTwinsCreate"].clone()))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_async_headers(&env, &ex["responses"]["201"]["headers"], &r);
    assert_body(&ex["responses"]["201"]["body"], &r.body, &[]);
    let status = env
        .poll_status(r.header("azure-asyncoperation").unwrap())
        .await;
    assert_eq!(status["status"], "Succeeded");
    let again = env
        .arm(Method::PUT, &path, Some(p["digitalTwinsCreate"].clone()))
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    // The example's 200 shows tags the request never sent; everything else must match.
    assert_body(&ex["responses"]["200"]["body"], &again.body, &["tags"]);
    env.shutdown().await;
}

#[tokio::test]
async fn digital_twins_put_example() {
    dt_put_example("digitaltwins/DigitalTwinsPut_example.json").await;
}

#[tokio::test]
async fn digital_twins_put_with_identity_example() {
    dt_put_example("digitaltwins/DigitalTwinsPut_WithIdentity_example.json").await;
}

#[tokio::test]
async fn digital_twins_put_with_public_network_access_example() {
    dt_put_example("digitaltwins/DigitalTwinsPut_WithPublicNetworkAccess.json").await;
}

async fn dt_get_example(file: &str, create_body: Value) {
    let env = start().await;
    let ex = example(&env, file);
    let p = &ex["parameters"];
    let (rg, name) = (
        p["resourceGroupName"].as_str().unwrap(),
        p["resourceName"].as_str().unwrap(),
    );
    env.create_rg(rg, "westus2").await;
    create_identities(&env, &create_body).await;
    let got = env.create_dt(rg, name, create_body).await;
    assert_eq!(got.status, 200);
    assert_body(&ex["responses"]["200"]["body"], &got.body, &[]);
    env.shutdown().await;
}

#[tokio::test]
async fn digital_twins_get_example() {
    dt_get_example(
        "digitaltwins/DigitalTwinsGet_example.json",
        json!({"location": "WestUS2"}),
    )
    .await;
}

#[tokio::test]
async fn digital_twins_get_with_identity_example() {
    let env = start().await;
    let put = example(
        &env,
        "digitaltwins/DigitalTwinsPut_WithIdentity_example.json",
    );
    let body = put["parameters"]["digitalTwinsCreate"].clone();
    env.shutdown().await;
    dt_get_example(
        "digitaltwins/DigitalTwinsGet_WithIdentity_example.json",
        body,
    )
    .await;
}

async fn dt_delete_example(file: &str, create_body: Value) {
    let env = start().await;
    let ex = example(&env, file);
    let p = &ex["parameters"];
    let (rg, name) = (
        p["resourceGroupName"].as_str().unwrap(),
        p["resourceName"].as_str().unwrap(),
    );
    env.create_rg(rg, "westus2").await;
    env.create_dt(rg, name, create_body.clone()).await;
    let path = env.dt_path(rg, name);
    let r = env.arm(Method::DELETE, &path, None).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_async_headers(&env, &ex["responses"]["202"]["headers"], &r);
    assert_body(&ex["responses"]["202"]["body"], &r.body, &[]);
    let done = env.poll_location(r.header("location").unwrap()).await;
    assert_eq!(done.status, 204);
    let gone = env.arm(Method::DELETE, &path, None).await;
    assert_eq!(gone.status, 204, "deleting a missing instance is 204");

    // 200: the delete operation failed; the final answer carries the instance as it is.
    env.create_dt(rg, name, create_body).await;
    let fault = env
        .admin(Method::POST, "/faults", Some(json!({"method": "DELETE", "path_contains": "digitalTwinsInstances", "kind": "lro_failed"})))
        .await;
    assert_eq!(fault.status, 201);
    let r = env.arm(Method::DELETE, &path, None).await;
    assert_eq!(r.status, 202);
    let done = env.poll_location(r.header("location").unwrap()).await;
    assert_eq!(done.status, 200);
    assert_body(&ex["responses"]["200"]["body"], &done.body, &[]);
    env.shutdown().await;
}

#[tokio::test]
async fn digital_twins_delete_example() {
    dt_delete_example(
        "digitaltwins/DigitalTwinsDelete_example.json",
        json!({"location": "WestUS2"}),
    )
    .await;
}

#[tokio::test]
async fn digital_twins_delete_with_identity_example() {
    dt_delete_example(
        "digitaltwins/DigitalTwinsDelete_WithIdentity_example.json",
        json!({"location": "WestUS2", "identity": {"type": "SystemAssigned"}}),
    )
    .await;
}

#[tokio::test]
async fn digital_twins_check_name_availability_example() {
    let env = start().await;
    let ex = example(
        &env,
        "digitaltwins/DigitalTwinsCheckNameAvailability_example.json",
    );
    let p = &ex["parameters"];
    let path = format!(
        "/subscriptions/{}/providers/Microsoft.DigitalTwins/locations/{}/checkNameAvailability?api-version={}",
        env.sub(),
        p["location"].as_str().unwrap(),
        p["api-version"].as_str().unwrap()
    );
    let body = p["digitalTwinsInstanceCheckName"].clone();
    let free = env.arm(Method::POST, &path, Some(body.clone())).await;
    assert_eq!(free.status, 200);
    assert_eq!(
        free.body,
        json!({"nameAvailable": true, "message": null, "reason": null})
    );
    env.create_rg("other-rg", "westus2").await;
    env.create_dt("other-rg", "myadtinstance", json!({"location": "westus2"}))
        .await;
    let taken = env.arm(Method::POST, &path, Some(body)).await;
    assert_eq!(taken.status, 200);
    assert_eq!(taken.body, ex["responses"]["200"]["body"]);
    env.shutdown().await;
}

#[tokio::test]
async fn create_resource_group_example() {
    let env = start().await;
    let ex = example(&env, "resources/CreateResourceGroup.json");
    let p = &ex["parameters"];
    let path = format!(
        "/subscriptions/{}/resourcegroups/{}?api-version={}",
        env.sub(),
        p["resourceGroupName"].as_str().unwrap(),
        p["api-version"].as_str().unwrap()
    );
    let first = env
        .arm(Method::PUT, &path, Some(p["parameters"].clone()))
        .await;
    assert_eq!(first.status, 201);
    assert_body(&ex["responses"]["201"]["body"], &first.body, &[]);
    let second = env
        .arm(Method::PUT, &path, Some(p["parameters"].clone()))
        .await;
    assert_eq!(second.status, 200);
    assert_body(&ex["responses"]["200"]["body"], &second.body, &[]);
    env.shutdown().await;
}

#[tokio::test]
async fn get_resource_group_example() {
    let env = start().await;
    let ex = example(&env, "resources/ResourceGroups_Get.json");
    let p = &ex["parameters"];
    let name = p["resourceGroupName"].as_str().unwrap();
    env.create_rg(name, "westus2").await;
    let path = format!(
        "/subscriptions/{}/resourcegroups/{name}?api-version={}",
        env.sub(),
        p["api-version"].as_str().unwrap()
    );
    let r = env.arm(Method::GET, &path, None).await;
    assert_eq!(r.status, 200);
    assert_body(&ex["responses"]["200"]["body"], &r.body, &[]);
    assert!(r.header("x-ms-request-id").is_some());
    assert!(r.header("x-ms-correlation-request-id").is_some());
    assert!(
        r.header("x-ms-ratelimit-remaining-subscription-reads")
            .is_some()
    );
    env.shutdown().await;
}

/// Registers the role the authorization examples use and creates the scope they name.
async fn prepare_role_example(env: &Env, ex: &Value) {
    let role = ex["parameters"]["parameters"]["properties"]["roleDefinitionId"]
        .as_str()
        .map(|r| r.rsplit('/').next().unwrap().to_string())
        .unwrap_or_else(|| "0b5fe924-9a61-425c-96af-cfe6e287ca2d".into());
    let r = env
        .admin(
            Method::POST,
            "/role-definitions",
            Some(json!({"id": role, "role_name": "Example Role", "actions": ["*/read"]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let scope = ex["parameters"]["scope"].as_str().unwrap();
    if scope.contains("/resourceGroups/testrg") {
        env.create_rg("testrg", "eastus").await;
    }
    if scope.contains("databaseAccounts") {
        let r = env
            .arm(
                Method::PUT,
                &format!("/{scope}?api-version=2024-05-15"),
                Some(json!({"location": "eastus", "properties": {}})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
}

fn role_path(ex: &Value) -> String {
    let p = &ex["parameters"];
    format!(
        "/{}/providers/Microsoft.Authorization/roleAssignments/{}?api-version={}",
        p["scope"].as_str().unwrap(),
        p["roleAssignmentName"].as_str().unwrap(),
        p["api-version"].as_str().unwrap()
    )
}

async fn role_create_example(file: &str) {
    let env = start().await;
    let ex = example(&env, file);
    prepare_role_example(&env, &ex).await;
    let path = role_path(&ex);
    let body = ex["parameters"]["parameters"].clone();
    let first = env.arm(Method::PUT, &path, Some(body.clone())).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_body(&ex["responses"]["201"]["body"], &first.body, &[]);
    let again = env.arm(Method::PUT, &path, Some(body)).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_body(&ex["responses"]["200"]["body"], &again.body, &[]);
    env.shutdown().await;
}

#[tokio::test]
async fn role_assignment_create_for_subscription_example() {
    role_create_example("authorization/RoleAssignments_CreateForSubscription.json").await;
}

#[tokio::test]
async fn role_assignment_create_for_resource_group_example() {
    role_create_example("authorization/RoleAssignments_CreateForResourceGroup.json").await;
}

#[tokio::test]
async fn role_assignment_create_for_resource_example() {
    role_create_example("authorization/RoleAssignments_CreateForResource.json").await;
}

/// Creates the assignment a GET/DELETE example expects to exist, from its expected body.
async fn seed_assignment(env: &Env, ex: &Value, status: &str) {
    prepare_role_example(env, ex).await;
    let props = &ex["responses"][status]["body"]["properties"];
    let body = json!({"properties": {
        "roleDefinitionId": props["roleDefinitionId"],
        "principalId": props["principalId"],
        "principalType": props["principalType"],
    }});
    let r = env.arm(Method::PUT, &role_path(ex), Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.body);
}

#[tokio::test]
async fn role_assignment_get_example() {
    let env = start().await;
    let ex = example(&env, "authorization/RoleAssignments_Get.json");
    seed_assignment(&env, &ex, "200").await;
    let r = env.arm(Method::GET, &role_path(&ex), None).await;
    assert_eq!(r.status, 200);
    assert_body(&ex["responses"]["200"]["body"], &r.body, &[]);
    env.shutdown().await;
}

#[tokio::test]
async fn role_assignment_delete_example() {
    let env = start().await;
    let ex = example(&env, "authorization/RoleAssignments_Delete.json");
    seed_assignment(&env, &ex, "200").await;
    let r = env.arm(Method::DELETE, &role_path(&ex), None).await;
    assert_eq!(r.status, 200);
    assert_body(&ex["responses"]["200"]["body"], &r.body, &[]);
    let again = env.arm(Method::DELETE, &role_path(&ex), None).await;
    assert_eq!(again.status, 204);
    let get = env.arm(Method::GET, &role_path(&ex), None).await;
    assert_eq!(get.status, 404);
    env.shutdown().await;
}

// ---- README §7 sequences ----

#[tokio::test]
async fn sequence_instance_create_poll_then_get_has_host_name() {
    let env = start().await;
    env.create_rg("seq-rg", "westus2").await;
    let path = env.dt_path("seq-rg", "seq-adt");
    let r = env
        .arm(Method::PUT, &path, Some(json!({"location": "westus2"})))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["properties"]["provisioningState"], "Provisioning");
    assert!(r.body["properties"]["hostName"].is_null());
    let status_url = r.header("azure-asyncoperation").unwrap().to_string();
    let first = env.arm(Method::GET, &status_url, None).await;
    assert_eq!(first.status, 200);
    assert!(["InProgress", "Succeeded"].contains(&first.body["status"].as_str().unwrap()));
    let last = env.poll_status(&status_url).await;
    assert_eq!(last["status"], "Succeeded");
    assert!(last["endTime"].is_string());
    let got = env.arm(Method::GET, &path, None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(
        got.body["properties"]["hostName"],
        "seq-adt.api.wus2.digitaltwins.azure.net"
    );
    let result = env.poll_location(r.header("location").unwrap()).await;
    assert_eq!(result.status, 200);
    assert_eq!(result.body["name"], "seq-adt");
    env.shutdown().await;
}

#[tokio::test]
async fn sequence_role_assignment_principal_not_found_until_replicated_then_exists_conflict() {
    let mut config = common::config();
    config.replication_delay = std::time::Duration::from_secs(300); // 0.3 s at this scale
    let env = common::start_with(config).await;
    let app = env
        .graph(
            Method::POST,
            "/applications",
            Some(json!({"displayName": "seq-app"})),
        )
        .await;
    assert_eq!(app.status, 201);
    let sp = env
        .graph(
            Method::POST,
            "/servicePrincipals",
            Some(json!({"appId": app.body["appId"]})),
        )
        .await;
    assert_eq!(sp.status, 201);
    let principal = sp.body["id"].as_str().unwrap().to_string();
    let scope = format!("/subscriptions/{}", env.sub());
    let body = json!({"properties": {
        "roleDefinitionId": format!("{scope}/providers/Microsoft.Authorization/roleDefinitions/bcd981a7-7f74-457b-83e1-cceb9e632ffe"),
        "principalId": principal,
    }});
    let path = format!(
        "{scope}/providers/Microsoft.Authorization/roleAssignments/{}?api-version=2022-04-01",
        uuid::Uuid::new_v4()
    );
    let mut failures = 0;
    let created = loop {
        let r = env.arm(Method::PUT, &path, Some(body.clone())).await;
        if r.status == 201 {
            break r;
        }
        assert_eq!(r.status, 400, "{}", r.body);
        assert_eq!(r.body["error"]["code"], "PrincipalNotFound");
        failures += 1;
        assert!(failures < 500, "principal never replicated");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert!(failures >= 1, "a fresh principal is not found at first");
    assert_eq!(
        created.body["properties"]["principalType"],
        "ServicePrincipal"
    );
    let other = format!(
        "{scope}/providers/Microsoft.Authorization/roleAssignments/{}?api-version=2022-04-01",
        uuid::Uuid::new_v4()
    );
    let dup = env.arm(Method::PUT, &other, Some(body)).await;
    assert_eq!(dup.status, 409);
    assert_eq!(dup.body["error"]["code"], "RoleAssignmentExists");
    env.shutdown().await;
}

#[tokio::test]
async fn sequence_instance_delete_accepted_then_no_content() {
    let env = start().await;
    env.create_rg("del-rg", "westus2").await;
    env.create_dt("del-rg", "del-adt", json!({"location": "westus2"}))
        .await;
    let path = env.dt_path("del-rg", "del-adt");
    let r = env.arm(Method::DELETE, &path, None).await;
    assert_eq!(r.status, 202);
    assert_eq!(r.body["properties"]["provisioningState"], "Deleting");
    let done = env.poll_location(r.header("location").unwrap()).await;
    assert_eq!(done.status, 204);
    assert_eq!(env.arm(Method::GET, &path, None).await.status, 404);
    env.shutdown().await;
}

#[tokio::test]
async fn sequence_throttled_calls_get_429_with_retry_after() {
    let env = start().await;
    let r = env
        .admin(
            Method::POST,
            "/throttling",
            Some(json!({"enabled": true, "read_capacity": 3, "read_refill_per_second": 0.5})),
        )
        .await;
    assert_eq!(r.status, 200);
    let path = format!(
        "/subscriptions/{}/resourcegroups?api-version=2025-04-01",
        env.sub()
    );
    let mut saw = None;
    for _ in 0..10 {
        let r = env.arm(Method::GET, &path, None).await;
        if r.status == 429 {
            saw = Some(r);
            break;
        }
        assert_eq!(r.status, 200);
    }
    let r = saw.expect("throttled after the bucket empties");
    assert_eq!(r.body["error"]["code"], "SubscriptionRequestsThrottled");
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(
        r.header("x-ms-ratelimit-remaining-subscription-reads"),
        Some("0")
    );
    env.shutdown().await;
}
