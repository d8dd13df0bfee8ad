//! The lifecycle commands against the emulator running as its own process: `preview` (reads
//! only), `verify` finding drift made by changing or deleting resources directly in the
//! emulator, `up` repairing it, and `down` (confirmation, keeping a resource group that existed
//! before, resuming after a failed delete, and `up` again on the same checkpoint).

mod common;

use common::azure::EmulatorProcess;
use common::{Outcome, Scratch, run};
use serde_json::{Value, json};

const RG: &str = "life-rg";
const INSTANCE: &str = "life-twins";

fn answers(s: &Scratch) {
    s.write(
        "answers.yaml",
        &format!(
            "location: westus2\nresource_group: {RG}\ninstance_name: {INSTANCE}\napp_display_name: life-client\n"
        ),
    );
}

/// `twinup <args>` against the emulator as a custom cloud, signed in as its admin principal.
fn twinup(emu: &EmulatorProcess, s: &Scratch, args: &[&str]) -> Outcome {
    let mut cmd = s.twinup();
    cmd.args(args).args(emu.cloud_args()).envs(emu.cloud_env());
    run(&mut cmd)
}

fn deploy(emu: &EmulatorProcess, s: &Scratch) -> Value {
    answers(s);
    let out = twinup(
        emu,
        s,
        &[
            "up",
            "--answers",
            "answers.yaml",
            "--non-interactive",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let doc: Value = serde_json::from_str(out.stdout.trim()).expect("final JSON");
    doc["outputs"].clone()
}

fn rerun(emu: &EmulatorProcess, s: &Scratch, extra: &[&str]) -> Outcome {
    let mut args = vec!["up", "--non-interactive"];
    args.extend_from_slice(extra);
    twinup(emu, s, &args)
}

/// Sends an authenticated request to the emulator's ARM or Graph API that must succeed.
fn call(emu: &EmulatorProcess, method: reqwest::Method, path: &str, body: Value) {
    let (status, answer) = emu.arm_as_admin(method, path, Some(body));
    assert!((200..300).contains(&status), "{path}: {status} {answer}");
}

fn delete_in_emulator(emu: &EmulatorProcess, id: &str) {
    emu.admin(
        reqwest::Method::DELETE,
        &format!("/_emulator/resource?id={}", urlencode(id)),
        None,
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn verify_json(emu: &EmulatorProcess, s: &Scratch) -> (Option<i32>, Value) {
    let out = twinup(emu, s, &["verify", "--output", "json"]);
    let doc: Value = serde_json::from_str(out.stdout.trim())
        .unwrap_or_else(|_| panic!("verify JSON: {} {}", out.stdout, out.stderr));
    (out.code, doc)
}

fn drift_of(doc: &Value, step: &str) -> Value {
    doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["step"] == step)
        .map(|c| c["drift"].clone())
        .unwrap_or(Value::Null)
}

#[test]
fn deleted_instance_is_drift_and_up_recreates_it_with_its_role() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    let outputs = deploy(&emu, &s);

    let (code, doc) = verify_json(&emu, &s);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["status"], "clean");

    delete_in_emulator(&emu, outputs["instance_id"].as_str().unwrap());
    let (code, doc) = verify_json(&emu, &s);
    assert_eq!(code, Some(1), "{doc}");
    assert_eq!(drift_of(&doc, "instance")["drift"], "deleted");
    assert_eq!(
        drift_of(&doc, "data_role")["drift"],
        "dependency_drifted",
        "{doc}"
    );
    assert_eq!(drift_of(&doc, "resource_group"), Value::Null);

    // Text form names the step and the fix.
    let text = twinup(&emu, &s, &["verify"]);
    assert_eq!(text.code, Some(1));
    assert!(
        text.stdout.contains("instance: deleted outside twinup"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("twinup up"), "{}", text.stdout);

    emu.clear_requests();
    let repaired = rerun(&emu, &s, &[]);
    assert_eq!(repaired.code, Some(0), "{}", repaired.stderr);
    assert!(
        repaired
            .stderr
            .contains("Drift: instance: deleted outside twinup"),
        "{}",
        repaired.stderr
    );
    assert_eq!(emu.count("PUT", "digitalTwinsInstances/{}"), 1);
    assert_eq!(emu.count("PUT", "roleAssignments/{}"), 1);
    assert_eq!(
        emu.count("PUT", "resourceGroups/{}"),
        0,
        "{:?}",
        emu.writes()
    );

    let (code, doc) = verify_json(&emu, &s);
    assert_eq!(code, Some(0), "{doc}");
}

#[test]
fn changed_reply_url_and_deleted_app_are_drift_that_up_repairs() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    let outputs = deploy(&emu, &s);
    let object_id = outputs["object_id"].as_str().unwrap().to_string();

    call(
        &emu,
        reqwest::Method::PATCH,
        &format!("/v1.0/applications/{object_id}"),
        json!({"publicClient": {"redirectUris": ["https://changed.example"]}}),
    );
    let (code, doc) = verify_json(&emu, &s);
    assert_eq!(code, Some(1), "{doc}");
    let drift = drift_of(&doc, "app_registration");
    assert_eq!(drift["drift"], "changed", "{doc}");
    assert_eq!(drift["changes"][0]["field"], "redirect_uris");
    assert_eq!(
        drift["changes"][0]["live"],
        json!(["https://changed.example"])
    );

    // preview shows the same as an update, and reads only.
    emu.clear_requests();
    let preview = twinup(&emu, &s, &["preview", "--non-interactive"]);
    assert_eq!(preview.code, Some(0), "{}", preview.stderr);
    assert!(
        preview.stdout.contains("~ app_registration"),
        "{}",
        preview.stdout
    );
    assert!(
        preview
            .stdout
            .contains("redirect_uris: [\"https://changed.example\"] -> [\"http://localhost\"]"),
        "{}",
        preview.stdout
    );
    assert!(emu.writes().is_empty(), "{:?}", emu.writes());

    let repaired = rerun(&emu, &s, &[]);
    assert_eq!(repaired.code, Some(0), "{}", repaired.stderr);
    assert_eq!(verify_json(&emu, &s).0, Some(0));

    // A deleted app: `up --no-refresh` does not notice, the default `up` re-creates it.
    delete_in_emulator(&emu, &object_id);
    assert_eq!(verify_json(&emu, &s).0, Some(1));
    let blind = rerun(&emu, &s, &["--no-refresh"]);
    assert_eq!(blind.code, Some(0), "{}", blind.stderr);
    assert!(blind.stderr.contains("Nothing to do"), "{}", blind.stderr);
    assert_eq!(verify_json(&emu, &s).0, Some(1));
    let repaired = rerun(&emu, &s, &["--output", "json"]);
    assert_eq!(repaired.code, Some(0), "{}", repaired.stderr);
    // With --output json the drift `up` found is reported as an event line too.
    let drift_events: Vec<Value> = repaired
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["event"] == "drift_found")
        .collect();
    assert!(
        drift_events
            .iter()
            .any(|e| e["step"] == "app_registration" && e["drift"]["drift"] == "deleted"),
        "{}",
        repaired.stderr
    );
    assert_eq!(verify_json(&emu, &s).0, Some(0));
}

#[test]
fn preview_of_a_fresh_deployment_creates_everything_and_writes_nothing() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    answers(&s);
    emu.clear_requests();
    let out = twinup(
        &emu,
        &s,
        &[
            "preview",
            "--answers",
            "answers.yaml",
            "--non-interactive",
            "--output",
            "json",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let doc: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    let actions: Vec<(String, String)> = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["step"].as_str().unwrap().to_string(),
                i["action"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (step, action) in &actions {
        let first = step == "resource_group" || step == "manifest";
        if step == "private_link" {
            // No subnet given: the step makes nothing, and says so rather than "create".
            assert_eq!(action, "turned_off", "{step}: {doc}");
        } else if first {
            assert_eq!(action, "create", "{step}: {doc}");
        } else {
            assert!(
                action == "create" || action == "after_dependencies",
                "{step}: {doc}"
            );
        }
    }
    // Five resources and the data-plane readiness check (a step that only reads); the private
    // link step is turned off (no subnet given) and counted apart.
    assert_eq!(doc["summary"]["create"], 6);
    assert_eq!(doc["summary"]["turned_off"], 1);
    assert!(emu.writes().is_empty(), "{:?}", emu.writes());
    assert!(s.checkpoint_bytes().is_none(), "preview wrote a checkpoint");
    assert!(!s.path("manifest.json").exists());
}

#[test]
fn down_keeps_a_resource_group_that_existed_and_up_redeploys_on_the_same_checkpoint() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    let sub = emu.info["subscription_id"].as_str().unwrap().to_string();
    call(
        &emu,
        reqwest::Method::PUT,
        &format!("/subscriptions/{sub}/resourceGroups/{RG}?api-version=2025-04-01"),
        json!({"location": "westus2"}),
    );
    let outputs = deploy(&emu, &s);
    assert!(s.path("manifest.json").exists());

    // Without a terminal and without --yes nothing is deleted.
    emu.clear_requests();
    let refused = twinup(&emu, &s, &["down"]);
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert!(emu.writes().is_empty());

    let down = twinup(&emu, &s, &["down", "--yes"]);
    assert_eq!(down.code, Some(0), "{}", down.stderr);
    assert!(
        down.stderr
            .contains("resource_group: it existed before twinup; kept"),
        "{}",
        down.stderr
    );
    let writes = emu.writes();
    assert!(
        !writes
            .iter()
            .any(|w| w.starts_with("DELETE") && w.ends_with("resourceGroups/{}")),
        "{writes:?}"
    );
    let state = emu.state();
    assert_eq!(count(&state, "digital_twins"), 0, "instance still exists");
    assert_eq!(count(&state, "role_assignments_on_instance"), 0);
    assert!(
        !state["applications"]
            .to_string()
            .contains(outputs["client_id"].as_str().unwrap()),
        "app still exists"
    );
    assert_eq!(
        count(&state, "resource_groups"),
        1,
        "resource group was deleted"
    );
    assert!(!s.path("manifest.json").exists());
    let checkpoint = s.checkpoint();
    for (id, record) in checkpoint["steps"].as_object().unwrap() {
        assert_eq!(record["state"], "pending", "{id}");
    }

    // Everything comes back from the same checkpoint, with the saved inputs.
    let again = rerun(&emu, &s, &[]);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(again.stdout.contains("Deployment completed successfully"));
    assert_eq!(verify_json(&emu, &s).0, Some(0));

    // A second down still keeps the group: `created: false` survived the redeploy.
    let down = twinup(&emu, &s, &["down", "--yes", "--output", "json"]);
    assert_eq!(down.code, Some(0), "{}", down.stderr);
    let doc: Value = serde_json::from_str(down.stdout.trim()).unwrap();
    assert_eq!(doc["kept"][0]["step"], "resource_group", "{doc}");
    // Four resources and the readiness check (its delete sends nothing); the private link
    // step, turned off, made nothing and has nothing to delete.
    assert_eq!(doc["deleted"].as_array().unwrap().len(), 5, "{doc}");
    assert!(!doc.to_string().contains("private_link"), "{doc}");
}

#[test]
fn a_failed_delete_is_resumed_by_the_next_down_and_blocks_up_until_then() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    deploy(&emu, &s);
    emu.fault(json!({
        "method": "DELETE",
        "path_contains": "/applications",
        "count": 0,
        "kind": {"status": 409, "code": "Conflict", "message": "busy"}
    }));
    let failed = twinup(&emu, &s, &["down", "--yes", "--parallelism", "1"]);
    assert_eq!(failed.code, Some(1), "{}", failed.stderr);
    assert!(
        failed
            .stderr
            .contains("step `app_registration` was not deleted"),
        "{}",
        failed.stderr
    );
    // Nothing the failed step depends on was started after it failed.
    let checkpoint = s.checkpoint();
    assert_eq!(checkpoint["steps"]["app_registration"]["state"], "failed");
    assert_eq!(checkpoint["steps"]["manifest"]["state"], "succeeded");
    assert_eq!(checkpoint["steps"]["resource_group"]["state"], "succeeded");

    let blocked = rerun(&emu, &s, &[]);
    assert_eq!(blocked.code, Some(2), "{}", blocked.stderr);
    assert!(blocked.stderr.contains("twinup down"), "{}", blocked.stderr);

    let status = run(s.twinup().arg("status"));
    assert!(
        status
            .stdout
            .contains("Finish the teardown with: twinup down"),
        "{}",
        status.stdout
    );

    emu.admin(reqwest::Method::DELETE, "/_emulator/faults", None);
    let finished = twinup(&emu, &s, &["down", "--yes"]);
    assert_eq!(finished.code, Some(0), "{}", finished.stderr);
    let state = emu.state();
    assert_eq!(count(&state, "digital_twins"), 0);
    assert_eq!(count(&state, "resource_groups"), 0);
    assert_eq!(count(&state, "applications_named_life"), 0);
}

/// How many of a kind of object the emulator holds (`role_assignments_on_instance`: those
/// scoped to the test's instance; `applications_named_life`: the test's app).
fn count(state: &Value, what: &str) -> usize {
    let entries = |key: &str| -> Vec<(String, Value)> {
        state[key]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    };
    match what {
        "role_assignments_on_instance" => entries("role_assignments")
            .iter()
            .filter(|(k, _)| k.contains(INSTANCE))
            .count(),
        "applications_named_life" => entries("applications")
            .iter()
            .filter(|(_, v)| v.to_string().contains("life-client"))
            .count(),
        key => entries(key).len(),
    }
}
