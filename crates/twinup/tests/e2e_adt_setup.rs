//! The built-in Azure Digital Twins setup, end to end, driving the real binary against the
//! emulator running as its own process: fresh runs (over TLS with a client secret), reruns
//! that write nothing, resumes after kills, transient directory errors, and preflight refusals.

mod common;

use common::azure::EmulatorProcess;
use common::{Scratch, run};
use serde_json::json;

fn answers(s: &Scratch, resource_group: &str, instance: &str) {
    s.write(
        "answers.yaml",
        &format!(
            "location: westus2\nresource_group: {resource_group}\ninstance_name: {instance}\napp_display_name: e2e-client\ntags: {{env: test}}\n"
        ),
    );
}

fn outputs_of(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .skip_while(|l| *l != "Deployment completed successfully")
        .skip(1)
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            Some((parts.next()?.to_string(), parts.next()?.to_string()))
        })
        .collect()
}

#[test]
fn a_fresh_run_over_tls_deploys_everything_and_a_rerun_writes_nothing() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), true);
    answers(&s, "rg-e2e", "twins-e2e");
    let out = run(emu.up(&s).args(["--answers", "answers.yaml"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stderr.contains("Signed in as"), "{}", out.stderr);
    let outputs = outputs_of(&out.stdout);
    let get = |k: &str| {
        outputs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        get("host_name"),
        "https://twins-e2e.api.wus2.digitaltwins.azure.net"
    );
    assert_eq!(get("tenant_id"), emu.info["tenant_id"].as_str().unwrap());
    assert_eq!(get("resource_group"), "rg-e2e");
    assert!(!get("client_id").is_empty() && get("client_id") != get("object_id"));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.path("manifest.json")).unwrap()).unwrap();
    assert_eq!(
        manifest,
        json!([{"resourceAppId": "0b07f429-9f4b-4714-9392-cc5e8e80c8b0",
                "resourceAccess": [{"id": "4589bd03-58cb-4e6c-b17f-b580e39652f8", "type": "Scope"}]}])
    );
    // The data role was given to the signed-in principal, on the instance.
    let assignments = emu.count("PUT", "roleAssignments/{}");
    assert_eq!(assignments, 1);

    emu.clear_requests();
    let again = run(emu.up(&s).args(["--answers", "answers.yaml"]));
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(again.stderr.contains("Nothing to do"), "{}", again.stderr);
    assert_eq!(emu.writes(), Vec::<String>::new(), "a rerun must not write");
    assert_eq!(outputs_of(&again.stdout), outputs);
    // The drift refresh reads each step's target once (the manifest is a local file) and the
    // subscription is checked once: at most one read per step for the plan's five steps.
    let mut reads: Vec<String> = emu.requests()["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .filter(|r| r["method"] == "GET")
        .map(|r| r["route"].as_str().unwrap_or("").to_string())
        .collect();
    reads.sort();
    assert_eq!(
        reads,
        [
            "/subscriptions/{}",
            "/subscriptions/{}/resourceGroups/{}",
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.DigitalTwins/digitalTwinsInstances/{}",
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.DigitalTwins/digitalTwinsInstances/{}/providers/Microsoft.Authorization/roleAssignments/{}",
            "/v1.0/applications(uniqueName='{}')",
        ],
        "a no-op rerun reads each step once: no role definition or directory lookups"
    );
}

#[test]
fn a_kill_right_after_the_instance_put_resumes_polling_without_a_second_put() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    answers(&s, "rg-kill", "twins-kill");
    let crashed = run(emu
        .up(&s)
        .args(["--answers", "answers.yaml"])
        .env("TWINUP_TEST_CRASH_AFTER_TOKEN", "instance"));
    assert_ne!(crashed.code, Some(0), "the run should have been killed");
    assert_eq!(emu.count("PUT", "digitalTwinsInstances/{}"), 1);

    let out = run(emu.up(&s).args(["--answers", "answers.yaml"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("instance (azure.digital_twins_instance): resuming"),
        "{}",
        out.stderr
    );
    assert_eq!(
        emu.count("PUT", "digitalTwinsInstances/{}"),
        1,
        "the PUT was sent again"
    );
    assert!(
        out.stdout
            .contains("https://twins-kill.api.wus2.digitaltwins.azure.net")
    );
}

#[test]
fn a_kill_between_app_creation_and_checkpoint_leaves_exactly_one_app() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    answers(&s, "rg-app", "twins-app");
    let crashed = run(emu
        .up(&s)
        .args(["--answers", "answers.yaml"])
        .env("TWINUP_TEST_CRASH_BEFORE_SUCCESS", "app_registration"));
    assert_ne!(crashed.code, Some(0));
    let out = run(emu.up(&s).args(["--answers", "answers.yaml"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let state = emu.state().to_string();
    assert_eq!(
        state.matches("\"displayName\":\"e2e-client\"").count(),
        1,
        "expected one app named e2e-client"
    );
}

#[test]
fn principal_not_found_during_replication_is_retried_until_it_succeeds() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    answers(&s, "rg-pnf", "twins-pnf");
    emu.fault(json!({
        "method": "PUT", "path_contains": "roleAssignments", "count": 1,
        "kind": {"status": 400, "code": "PrincipalNotFound",
                 "message": "Principal does not exist in the directory."}
    }));
    let out = run(emu.up(&s).args(["--answers", "answers.yaml"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        emu.count("PUT", "roleAssignments/{}"),
        2,
        "one refused, one accepted"
    );
}

#[test]
fn a_principal_that_may_not_assign_roles_is_refused_before_any_write() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    answers(&s, "rg-noperm", "twins-noperm");
    let (client_id, secret) = emu.add_service_principal(json!([{"role": "Contributor"}]));
    emu.clear_requests();
    let out = run(emu
        .up(&s)
        .args(["--answers", "answers.yaml"])
        .env("AZURE_CLIENT_ID", &client_id)
        .env("AZURE_CLIENT_SECRET", &secret));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("data_role"), "{}", out.stderr);
    assert!(
        out.stderr.contains("Owner") && out.stderr.contains("User Access Administrator"),
        "{}",
        out.stderr
    );
    assert_eq!(emu.writes(), Vec::<String>::new());
    assert!(s.checkpoint_bytes().is_none(), "nothing may be recorded");
    assert!(
        !out.stderr.contains(&secret),
        "the secret leaked into the output"
    );
}

#[test]
fn an_instance_name_taken_elsewhere_is_refused_before_any_write() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    answers(&s, "rg-first", "twins-taken");
    assert_eq!(
        run(emu.up(&s).args(["--answers", "answers.yaml"])).code,
        Some(0)
    );

    answers(&s, "rg-second", "twins-taken");
    emu.clear_requests();
    let out = run(emu.up(&s).args([
        "--answers",
        "answers.yaml",
        "--checkpoint",
        "other/checkpoint.json",
    ]));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("twins-taken"), "{}", out.stderr);
    assert!(out.stderr.contains("taken"), "{}", out.stderr);
    assert_eq!(emu.writes(), Vec::<String>::new());
}

#[test]
fn the_readme_command_runs_against_the_built_in_emulator() {
    let s = Scratch::new();
    let answers =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plans/examples/answers.yaml");
    let out = run(s
        .twinup()
        .args(["up", "--cloud", "local", "--non-interactive", "--answers"])
        .arg(&answers));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout
            .starts_with("Deployment completed successfully\n")
    );
    for key in [
        "host_name",
        "client_id",
        "tenant_id",
        "instance_id",
        "resource_group",
        "object_id",
    ] {
        assert!(
            out.stdout.contains(key),
            "missing output {key}:\n{}",
            out.stdout
        );
    }
    let json = run(s
        .twinup()
        .args([
            "up",
            "--cloud",
            "local",
            "--non-interactive",
            "--output",
            "json",
            "--outputs-file",
            "client.json",
            "--answers",
        ])
        .arg(&answers));
    assert_eq!(json.code, Some(0), "{}", json.stderr);
    let doc: serde_json::Value = serde_json::from_str(json.stdout.trim()).expect("one JSON object");
    assert_eq!(doc["status"], "succeeded");
    assert!(
        doc["outputs"]["host_name"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.path("client.json")).unwrap()).unwrap();
    assert_eq!(file, doc["outputs"]);
}

#[test]
fn the_end_to_end_example_adds_generic_arm_resources() {
    let s = Scratch::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = run(s
        .twinup()
        .args(["up", "--cloud", "local", "--non-interactive", "--plan"])
        .arg(root.join("plans/examples/adt-end-to-end.yaml"))
        .arg("--answers")
        .arg(root.join("plans/examples/answers.yaml")));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout
            .contains("/providers/Microsoft.Devices/IotHubs/twinup-demo-twins-hub"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("/providers/Microsoft.EventGrid/topics/twinup-demo-twins-events"),
        "{}",
        out.stdout
    );
}

#[test]
fn an_unknown_subscription_is_refused_before_any_write() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    answers(&s, "rg-sub", "twins-sub");
    emu.clear_requests();
    let out = run(emu.up(&s).args([
        "--answers",
        "answers.yaml",
        "--subscription",
        "00000000-0000-0000-0000-000000000001",
    ]));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("subscription 00000000-0000-0000-0000-000000000001 was not found"),
        "{}",
        out.stderr
    );
    assert_eq!(emu.writes(), Vec::<String>::new());
}

#[test]
fn an_operation_saved_against_an_endpoint_that_moved_resumes_by_reading_the_resource() {
    let s = Scratch::new();
    answers(&s, "rg-moved", "twins-moved");
    {
        let first = EmulatorProcess::start(s.dir.path(), false);
        let crashed = run(first
            .up(&s)
            .args(["--answers", "answers.yaml"])
            .env("TWINUP_TEST_CRASH_AFTER_TOKEN", "instance"));
        assert_ne!(crashed.code, Some(0));
    }
    // The same emulator state, restarted on another port (as `--cloud local` may be).
    let second = EmulatorProcess::start(s.dir.path(), false);
    let out = run(second.up(&s).args(["--answers", "answers.yaml"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains("checking the resource"),
        "{}",
        out.stderr
    );
    assert_eq!(
        second.count("PUT", "digitalTwinsInstances/{}"),
        0,
        "the instance was created again"
    );
    assert!(
        out.stdout
            .contains("https://twins-moved.api.wus2.digitaltwins.azure.net")
    );
}

#[test]
fn what_a_crashed_run_created_is_still_known_as_created_after_the_rerun() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    answers(&s, "rg-owned", "twins-owned");
    for step in ["resource_group", "instance", "data_role"] {
        let crashed = run(emu
            .up(&s)
            .args(["--answers", "answers.yaml"])
            .env("TWINUP_TEST_CRASH_BEFORE_SUCCESS", step));
        assert_ne!(crashed.code, Some(0), "{step}: the run should have died");
    }
    let out = run(emu.up(&s).args(["--answers", "answers.yaml"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let checkpoint = s.checkpoint();
    for step in ["resource_group", "instance", "data_role"] {
        assert_eq!(
            checkpoint["steps"][step]["outputs"]["created"], true,
            "{step} was created by twinup, so `down` must delete it"
        );
        assert!(checkpoint["steps"][step].get("creating").is_none());
    }
}
