//! Issue 13, "works on real Azure the first time": the built-in setup run by the real binary
//! against the emulator in the situations a first run on a real subscription or tenant meets —
//! a group that carries other people's tags, an unregistered resource provider, a
//! least-privilege CI principal, an owner of one resource group only.

mod common;

use common::azure::EmulatorProcess;
use common::{Outcome, Scratch, run};
use serde_json::{Value, json};

const RG: &str = "real-rg";
const INSTANCE: &str = "real-twins";

fn answers(s: &Scratch, extra: &str) {
    s.write(
        "answers.yaml",
        &format!(
            "location: westus2\nresource_group: {RG}\ninstance_name: {INSTANCE}\napp_display_name: real-client\n{extra}"
        ),
    );
}

fn sub(emu: &EmulatorProcess) -> String {
    emu.info["subscription_id"].as_str().unwrap().to_string()
}

/// `twinup <args>` against the emulator as a custom cloud, signed in as `client` (id, secret),
/// the emulator's admin principal when `None`.
fn twinup_as(
    emu: &EmulatorProcess,
    s: &Scratch,
    client: Option<(&str, &str)>,
    args: &[&str],
) -> Outcome {
    let url = emu.url();
    let (id, secret) = client.unwrap_or((
        emu.info["client_id"].as_str().unwrap(),
        emu.info["client_secret"].as_str().unwrap(),
    ));
    let mut cmd = s.twinup();
    cmd.args(args)
        .args(["--cloud", "custom"])
        .args(["--authority-host", &url, "--arm-endpoint", &url])
        .args(["--graph-endpoint", &url])
        .env("TWINUP_DATA_PLANE_ENDPOINT", emu.url())
        .env("AZURE_TENANT_ID", emu.info["tenant_id"].as_str().unwrap())
        .env("AZURE_CLIENT_ID", id)
        .env("AZURE_CLIENT_SECRET", secret);
    run(&mut cmd)
}

fn up(emu: &EmulatorProcess, s: &Scratch, client: Option<(&str, &str)>) -> Outcome {
    twinup_as(
        emu,
        s,
        client,
        &["up", "--answers", "answers.yaml", "--non-interactive"],
    )
}

/// An ARM or Graph call as the emulator's admin principal that must succeed; returns the JSON
/// answer.
fn admin_call(emu: &EmulatorProcess, method: reqwest::Method, path: &str, body: Value) -> Value {
    let (status, answer) = emu.arm_as_admin(method, path, Some(body));
    assert!((200..300).contains(&status), "{path}: {status} {answer}");
    answer
}

fn group_path(emu: &EmulatorProcess) -> String {
    format!("/subscriptions/{}/resourceGroups/{RG}", sub(emu))
}

fn instance_path(emu: &EmulatorProcess) -> String {
    format!(
        "{}/providers/Microsoft.DigitalTwins/digitalTwinsInstances/{INSTANCE}",
        group_path(emu)
    )
}

fn tags_of(emu: &EmulatorProcess, path: &str, api_version: &str) -> Value {
    admin_call(
        emu,
        reqwest::Method::GET,
        &format!("{path}?api-version={api_version}"),
        Value::Null,
    )["tags"]
        .clone()
}

#[test]
fn tags_others_set_on_an_existing_group_and_instance_survive_up_and_down() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    let shared = json!({"costcenter": "4711", "owner": "platform-team"});
    admin_call(
        &emu,
        reqwest::Method::PUT,
        &format!("{}?api-version=2025-04-01", group_path(&emu)),
        json!({"location": "westus2", "tags": shared}),
    );
    admin_call(
        &emu,
        reqwest::Method::PUT,
        &format!("{}?api-version=2023-01-31", instance_path(&emu)),
        json!({"location": "westus2", "tags": {"costcenter": "4711"}}),
    );
    // The plan's own tag is added; nothing else is replaced.
    answers(&s, "tags: {env: test}\n");
    let first = up(&emu, &s, None);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let group_tags = tags_of(&emu, &group_path(&emu), "2025-04-01");
    assert_eq!(
        group_tags,
        json!({"costcenter": "4711", "owner": "platform-team", "env": "test"}),
        "{}",
        first.stderr
    );
    assert_eq!(
        tags_of(&emu, &instance_path(&emu), "2023-01-31"),
        json!({"costcenter": "4711", "env": "test"})
    );
    assert_eq!(
        emu.count("PUT", "resourceGroups/{}"),
        1,
        "only the test's own PUT: {:?}",
        emu.writes()
    );

    // Others' tags are not drift, and a rerun writes nothing to the group.
    emu.clear_requests();
    let verify = twinup_as(&emu, &s, None, &["verify"]);
    assert_eq!(verify.code, Some(0), "{}{}", verify.stdout, verify.stderr);
    let again = up(&emu, &s, None);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(emu.writes().is_empty(), "{:?}", emu.writes());

    // down keeps what it found, with every tag.
    let down = twinup_as(&emu, &s, None, &["down", "--yes"]);
    assert_eq!(down.code, Some(0), "{}", down.stderr);
    assert_eq!(
        tags_of(&emu, &group_path(&emu), "2025-04-01"),
        json!({"costcenter": "4711", "owner": "platform-team", "env": "test"})
    );
}

#[test]
fn a_rerun_with_no_plan_tags_into_a_tagged_group_keeps_its_tags() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    admin_call(
        &emu,
        reqwest::Method::PUT,
        &format!("{}?api-version=2025-04-01", group_path(&emu)),
        json!({"location": "westus2", "tags": {"costcenter": "4711", "owner": "platform-team"}}),
    );
    answers(&s, "");
    let out = up(&emu, &s, None);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        tags_of(&emu, &group_path(&emu), "2025-04-01"),
        json!({"costcenter": "4711", "owner": "platform-team"})
    );
    let down = twinup_as(&emu, &s, None, &["down", "--yes"]);
    assert_eq!(down.code, Some(0), "{}", down.stderr);
    assert_eq!(
        tags_of(&emu, &group_path(&emu), "2025-04-01"),
        json!({"costcenter": "4711", "owner": "platform-team"})
    );
}

fn unregister_digital_twins(emu: &EmulatorProcess) {
    emu.admin(
        reqwest::Method::POST,
        "/_emulator/providers",
        Some(json!({"namespace": "Microsoft.DigitalTwins", "registered": false})),
    );
}

fn provider_state(emu: &EmulatorProcess) -> String {
    admin_call(
        emu,
        reqwest::Method::GET,
        &format!(
            "/subscriptions/{}/providers/Microsoft.DigitalTwins?api-version=2025-04-01",
            sub(emu)
        ),
        Value::Null,
    )["registrationState"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn an_unregistered_provider_is_registered_before_the_name_check_and_up_completes() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    unregister_digital_twins(&emu);
    assert_eq!(provider_state(&emu), "NotRegistered");
    answers(&s, "");
    emu.clear_requests();
    let out = up(&emu, &s, None);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("registering resource provider Microsoft.DigitalTwins"),
        "{}",
        out.stderr
    );
    assert_eq!(provider_state(&emu), "Registered");
    // Registration comes first; no Digital Twins call was refused.
    let log = emu.entries();
    let register = log
        .iter()
        .position(|e| e.method == "POST" && e.route.ends_with("/register"))
        .expect("a register request");
    let name_check = log
        .iter()
        .position(|e| e.route.ends_with("checkNameAvailability"))
        .expect("a name check");
    assert!(register < name_check, "{log:?}");
    assert!(
        !log.iter().any(|e| e.status == Some(409)),
        "{:?}",
        log.iter()
            .filter(|e| e.status == Some(409))
            .collect::<Vec<_>>()
    );
    assert_eq!(emu.inventory().instances, 1);
}

#[test]
fn an_unregistered_provider_and_no_right_to_register_exits_2_before_any_write() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    unregister_digital_twins(&emu);
    // Owner of the group only: may create the instance there, not register providers.
    admin_call(
        &emu,
        reqwest::Method::PUT,
        &format!("{}?api-version=2025-04-01", group_path(&emu)),
        json!({"location": "westus2"}),
    );
    let (id, secret) = emu.add_service_principal(json!([
        {"role": "Reader"},
        {"role": "Owner", "scope": group_path(&emu)}
    ]));
    answers(&s, "create_app_registration: false\n");
    emu.clear_requests();
    let out = up(&emu, &s, Some((&id, &secret)));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("az provider register --namespace Microsoft.DigitalTwins"),
        "{}",
        out.stderr
    );
    assert!(emu.writes().is_empty(), "{:?}", emu.writes());
    assert_eq!(provider_state(&emu), "NotRegistered");
}

/// A service principal with `roles` on ARM and exactly `graph` Microsoft Graph application
/// permissions: (client id, secret, object id).
fn deployer(emu: &EmulatorProcess, roles: Value, graph: Value) -> (String, String, String) {
    let out = emu.admin(
        reqwest::Method::POST,
        "/_emulator/principals",
        Some(json!({"kind": "service_principal", "roles": roles, "graph_permissions": graph})),
    );
    (
        out["app_id"].as_str().expect("app_id").to_string(),
        out["client_secret"].as_str().expect("secret").to_string(),
        out["object_id"].as_str().expect("object_id").to_string(),
    )
}

fn graph_directory_reads(emu: &EmulatorProcess) -> Vec<String> {
    emu.entries()
        .into_iter()
        .filter(|e| e.method == "GET" && e.route.starts_with("/v1.0/"))
        .filter(|e| {
            e.route.contains("users")
                || e.route.contains("servicePrincipals")
                || e.route.contains("directoryObjects")
                || e.route.contains("groups")
        })
        .map(|e| e.kind())
        .collect()
}

fn assignment_on_instance(emu: &EmulatorProcess) -> Value {
    let state = emu.state();
    state["role_assignments"]
        .as_object()
        .unwrap()
        .values()
        .find(|a| {
            a["scope"]
                .as_str()
                .unwrap_or("")
                .to_ascii_lowercase()
                .ends_with(&format!("digitaltwinsinstances/{INSTANCE}"))
        })
        .cloned()
        .expect("a role assignment on the instance")
}

#[test]
fn a_least_privilege_service_principal_is_assigned_the_role_as_itself_without_a_graph_read() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    // No Microsoft Graph permission at all: it may not read users or service principals.
    let (id, secret, object_id) = deployer(&emu, json!([{"role": "Owner"}]), json!([]));
    answers(&s, "create_app_registration: false\n");
    emu.clear_requests();
    let out = up(&emu, &s, Some((&id, &secret)));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let assignment = assignment_on_instance(&emu);
    assert_eq!(assignment["principal_id"], object_id.as_str());
    assert_eq!(assignment["principal_type"], "ServicePrincipal");
    assert_eq!(graph_directory_reads(&emu), Vec::<String>::new());
}

#[test]
fn an_object_id_with_its_type_needs_no_graph_read_and_without_it_the_missing_permission_is_named() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    let (id, secret, _) = deployer(&emu, json!([{"role": "Owner"}]), json!([]));
    let user = emu.admin(
        reqwest::Method::POST,
        "/_emulator/principals",
        Some(json!({"kind": "user"})),
    )["object_id"]
        .as_str()
        .unwrap()
        .to_string();

    // Without the type the directory must be read, which this principal may not: refused
    // before anything is created, naming the permission and the way around it.
    answers(
        &s,
        &format!("create_app_registration: false\nrole_assignee: {user}\n"),
    );
    emu.clear_requests();
    let refused = up(&emu, &s, Some((&id, &secret)));
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("User.Read.All"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("role_assignee_type"),
        "{}",
        refused.stderr
    );
    assert!(emu.writes().is_empty(), "{:?}", emu.writes());

    answers(
        &s,
        &format!(
            "create_app_registration: false\nrole_assignee: {user}\nrole_assignee_type: User\n"
        ),
    );
    emu.clear_requests();
    let out = up(&emu, &s, Some((&id, &secret)));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let assignment = assignment_on_instance(&emu);
    assert_eq!(assignment["principal_id"], user.as_str());
    assert_eq!(assignment["principal_type"], "User");
    assert_eq!(graph_directory_reads(&emu), Vec::<String>::new());
}

#[test]
fn an_owner_of_one_existing_resource_group_deploys_into_it() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    admin_call(
        &emu,
        reqwest::Method::PUT,
        &format!("{}?api-version=2025-04-01", group_path(&emu)),
        json!({"location": "westus2"}),
    );
    // Reader on the subscription, Owner of the group: common in companies.
    let (id, secret, object_id) = deployer(
        &emu,
        json!([{"role": "Reader"}, {"role": "Owner", "scope": group_path(&emu)}]),
        json!(["User.Read.All"]),
    );
    answers(&s, "create_app_registration: false\n");
    emu.clear_requests();
    let out = up(&emu, &s, Some((&id, &secret)));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(emu.inventory().instances, 1);
    assert_eq!(
        assignment_on_instance(&emu)["principal_id"],
        object_id.as_str()
    );
    // The role check was made on the group, not refused at the subscription; the name check
    // it may not make is a warning.
    let permission_checks: Vec<String> = emu
        .entries()
        .into_iter()
        .filter(|e| e.route.ends_with("Microsoft.Authorization/permissions"))
        .map(|e| format!("{} {:?}", e.route, e.status))
        .collect();
    assert!(
        permission_checks.iter().any(|c| c
            .starts_with("/subscriptions/{}/resourceGroups/{}/providers")
            && c.ends_with("Some(200)")),
        "{permission_checks:?}"
    );
    assert!(
        out.stderr
            .contains("the instance name could not be checked"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_huge_retry_after_is_capped_and_shown_and_endless_throttling_fails_clearly() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    answers(&s, "create_app_registration: false\n");
    // Azure asks for 100000 s once: the run waits the cap (1 s here), says so, and completes.
    emu.fault(
        json!({"method": "PUT", "path_contains": "resourceGroups", "count": 1,
        "kind": {"status": 429, "retry_after": 100000}}),
    );
    let started = std::time::Instant::now();
    let mut cmd = s.twinup();
    let url = emu.url();
    cmd.args(["up", "--answers", "answers.yaml", "--non-interactive"])
        .args(["--cloud", "custom", "--authority-host", &url])
        .args(["--arm-endpoint", &url, "--graph-endpoint", &url])
        .env("TWINUP_DATA_PLANE_ENDPOINT", emu.url())
        .env("AZURE_TENANT_ID", emu.info["tenant_id"].as_str().unwrap())
        .env("AZURE_CLIENT_ID", emu.info["client_id"].as_str().unwrap())
        .env(
            "AZURE_CLIENT_SECRET",
            emu.info["client_secret"].as_str().unwrap(),
        )
        .env("TWINUP_MAX_RETRY_WAIT_SECS", "1")
        .timeout(std::time::Duration::from_secs(60));
    let out = run(&mut cmd);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert!(
        out.stderr
            .contains("Azure asked to wait 100000s; waiting 1s"),
        "{}",
        out.stderr
    );

    // Throttled on every attempt: a bounded number of capped waits, then exit 1 naming it.
    let s2 = Scratch::new();
    s2.write(
        "answers.yaml",
        "location: westus2\nresource_group: other-rg\ninstance_name: other-twins\ncreate_app_registration: false\n",
    );
    emu.fault(
        json!({"method": "PUT", "path_contains": "other-rg", "count": 0,
        "kind": {"status": 429, "retry_after": 100000}}),
    );
    let mut cmd = s2.twinup();
    cmd.args(["up", "--answers", "answers.yaml", "--non-interactive"])
        .args(["--cloud", "custom", "--authority-host", &url])
        .args(["--arm-endpoint", &url, "--graph-endpoint", &url])
        .env("TWINUP_DATA_PLANE_ENDPOINT", emu.url())
        .env("AZURE_TENANT_ID", emu.info["tenant_id"].as_str().unwrap())
        .env("AZURE_CLIENT_ID", emu.info["client_id"].as_str().unwrap())
        .env(
            "AZURE_CLIENT_SECRET",
            emu.info["client_secret"].as_str().unwrap(),
        )
        .env("TWINUP_MAX_RETRY_WAIT_SECS", "1")
        .timeout(std::time::Duration::from_secs(60));
    let failed = run(&mut cmd);
    assert_eq!(failed.code, Some(1), "{}", failed.stderr);
    assert!(failed.stderr.contains("429"), "{}", failed.stderr);
}

#[test]
fn a_token_endpoint_that_keeps_failing_exits_1_as_a_transient_failure() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    answers(&s, "");
    emu.fault(
        json!({"method": "POST", "path_contains": "oauth2", "count": 0,
        "kind": {"status": 503, "retry_after": 0}}),
    );
    let out = up(&emu, &s, None);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("HTTP 503"), "{}", out.stderr);
    assert!(out.stderr.contains("run twinup again"), "{}", out.stderr);
    assert!(s.checkpoint_bytes().is_none(), "nothing was recorded");
}

#[test]
fn an_untrusted_certificate_fails_within_seconds_naming_it_and_tries_no_other_credential() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), true);
    answers(&s, "");
    let mut cmd = emu.up(&s);
    // The emulator's CA is not trusted: no SSL_CERT_FILE.
    cmd.env_remove("SSL_CERT_FILE")
        .args(["--answers", "answers.yaml"])
        .timeout(std::time::Duration::from_secs(60));
    let started = std::time::Instant::now();
    let out = run(&mut cmd);
    let took = started.elapsed();
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(took < std::time::Duration::from_secs(5), "took {took:?}");
    assert!(out.stderr.contains("certificate"), "{}", out.stderr);
    assert!(out.stderr.contains("SSL_CERT_FILE"), "{}", out.stderr);
    assert!(
        !out.stderr.contains("AzureCliCredential"),
        "an explicitly configured secret must not fall through: {}",
        out.stderr
    );
    assert_eq!(emu.total(), 0, "the emulator's logic saw no request");
}

#[test]
fn an_expired_token_is_refreshed_once_and_a_busy_instance_is_retried() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    answers(&s, "create_app_registration: false\n");
    emu.fault(
        json!({"method": "GET", "path_contains": "resourceGroups", "count": 1,
        "kind": {"status": 401, "code": "ExpiredAuthenticationToken",
                 "message": "The access token expiry UTC time is earlier than current UTC time."}}),
    );
    emu.fault(
        json!({"method": "PUT", "path_contains": "digitalTwinsInstances", "count": 1,
        "kind": {"status": 409, "code": "AnotherOperationInProgress",
                 "message": "Another operation is in progress on the resource."}}),
    );
    emu.clear_requests();
    let out = up(&emu, &s, None);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains("another operation is in progress"),
        "{}",
        out.stderr
    );
    assert_eq!(emu.count("PUT", "digitalTwinsInstances/{}"), 2);
    assert_eq!(emu.inventory().instances, 1);
    // One token at sign-in, one fresh token after the 401.
    let arm_tokens = emu
        .entries()
        .into_iter()
        .filter(|e| e.method == "POST" && e.route.contains("oauth2"))
        .count();
    assert!(arm_tokens >= 2, "{arm_tokens}");
}

#[test]
fn a_service_principal_refused_while_its_new_app_replicates_is_retried_visibly_and_made_once() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    // For 30 s (0.3 s at the emulator's time scale) after an app is created, Graph refuses a
    // service principal for it.
    emu.admin(
        reqwest::Method::POST,
        "/_emulator/replication",
        Some(json!({"graph_write_lag_secs": 30})),
    );
    answers(&s, "grant_admin_consent: true\n");
    emu.clear_requests();
    let out = up(&emu, &s, None);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let posts: Vec<Option<u64>> = emu
        .entries()
        .into_iter()
        .filter(|e| e.method == "POST" && e.route == "/v1.0/servicePrincipals")
        .map(|e| e.status)
        .collect();
    assert_eq!(posts.first(), Some(&Some(400)), "{posts:?}");
    assert_eq!(posts.last(), Some(&Some(201)), "{posts:?}");
    // Each try again is said, as a retry of the step (not a silent wait).
    let retry = out
        .stderr
        .lines()
        .find(|l| l.contains("app_registration: retrying in"))
        .unwrap_or_else(|| panic!("no retry line: {}", out.stderr));
    assert!(
        retry.contains("(attempt 2 of ")
            && retry.contains("HTTP 400")
            && retry.contains("directory replication"),
        "{retry}"
    );
    let inventory = emu.inventory();
    assert_eq!(inventory.apps, 1);
    assert_eq!(inventory.service_principals, 1, "{inventory:?}");
    assert_eq!(inventory.grants, 1);
}

#[test]
fn a_custom_cloud_given_only_its_arm_endpoint_uses_the_metadata_endpoints_and_audiences() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    answers(&s, "");
    let url = emu.url();
    let mut cmd = s.twinup();
    cmd.args([
        "up",
        "--answers",
        "answers.yaml",
        "--non-interactive",
        "-vv",
    ])
    .args(["--cloud", "custom", "--arm-endpoint", &url])
    .env("TWINUP_DATA_PLANE_ENDPOINT", emu.url())
    .env("AZURE_TENANT_ID", emu.info["tenant_id"].as_str().unwrap())
    .env("AZURE_CLIENT_ID", emu.info["client_id"].as_str().unwrap())
    .env(
        "AZURE_CLIENT_SECRET",
        emu.info["client_secret"].as_str().unwrap(),
    );
    emu.clear_requests();
    let out = run(&mut cmd);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("Deployment completed successfully"));
    // The audiences the metadata names, not the public ones.
    assert!(
        out.stderr
            .contains("https://management.twinup.local/.default"),
        "{}",
        out.stderr
    );
    // Graph's audience is the cloud's Graph endpoint (here the emulator), as in real clouds.
    assert!(
        out.stderr.contains(&format!("{url}/.default")),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("https://graph.microsoft.com/.default"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("https://management.azure.com/.default"),
        "{}",
        out.stderr
    );
    let first = emu.entries().into_iter().next().expect("requests");
    assert_eq!(first.route, "/metadata/endpoints");
}
