//! Fault matrix for the built-in plan (issue 6, suite 2): every kind of request a clean run
//! sends is hit in turn by a 429 with `Retry-After`, a 500, a 503, a dropped connection and a
//! hang (the client's read timeout), and each time the run retries and succeeds with exactly one
//! of each resource. Permanent failures (a non-retryable Azure error on each write, the
//! instance's operation ending `Failed`, a transient error that never clears) end with exit 1
//! and a message naming the step, the Azure code and message and what to do; the checkpoint
//! records the failure and a rerun once the fault is gone succeeds.

#[path = "common/emulator.rs"]
mod emulator;

use std::collections::BTreeSet;
use std::path::Path;

use emulator::{Emu, Entry, Finished, checkpoint_json, finish, scratch};
use serde_json::{Value, json};

const CONSENT: [&str; 4] = [
    "--answers",
    "answers.yaml",
    "--set",
    "grant_admin_consent=true",
];

fn up(emu: &Emu, dir: &Path, tag: &str) -> Finished {
    let mut cmd = emu.up(dir);
    cmd.args(CONSENT).env("TWINUP_HTTP_TIMEOUT_SECS", "2");
    finish(cmd, dir, tag)
}

/// `up` with `--output json`: what it finished with, and its stderr as the JSON events it
/// must be (every line parses).
fn up_json(emu: &Emu, dir: &Path, tag: &str) -> (Finished, Vec<Value>) {
    let mut cmd = emu.up(dir);
    cmd.args(CONSENT).args(["--output", "json"]);
    let out = finish(cmd, dir, tag);
    let events = out
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (out, events)
}

/// A fault rule (method, path fragment, skip) that hits the first request of each kind a
/// clean run sends, and that kind.
fn clean_kinds() -> Vec<(Value, String)> {
    let dir = scratch();
    let emu = Emu::start(dir.path());
    let out = up(&emu, dir.path(), "clean");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let log = emu.entries();
    let mut seen = BTreeSet::new();
    let mut rules = Vec::new();
    for (i, e) in log.iter().enumerate() {
        if !seen.insert(e.kind()) {
            continue;
        }
        let fragment = if e.route.contains("operationStatuses") {
            "/operationStatuses/".to_string()
        } else {
            e.path.to_lowercase()
        };
        let skip = log[..i]
            .iter()
            .filter(|p| {
                p.method == e.method && p.path.to_lowercase().contains(&fragment.to_lowercase())
            })
            .count();
        rules.push((
            json!({"method": e.method, "path_contains": fragment, "skip": skip, "count": 1}),
            e.kind(),
        ));
    }
    assert!(
        rules.len() >= 15,
        "only {} request kinds: {rules:?}",
        rules.len()
    );
    rules
}

fn assert_one_of_each(case: &str, emu: &Emu) {
    let inv = emu.inventory();
    assert_eq!(
        (
            inv.resource_groups,
            inv.instances,
            inv.role_assignments,
            inv.apps,
            inv.service_principals,
            inv.grants
        ),
        (1, 1, 1, 1, 1, 1),
        "{case}: {inv:?}"
    );
}

/// Injects `fault` with `rule` (which hits the first request of kind `expected`); the run
/// must still succeed. Returns the kind of request the fault actually hit.
fn transient(mut rule: Value, expected: &str, fault: &Value) -> String {
    let case = format!("{fault} on {expected}");
    let dir = scratch();
    let emu = Emu::start(dir.path());
    rule["kind"] = fault.clone();
    emu.fault(rule);
    let out = up(&emu, dir.path(), "faulted");
    assert_eq!(out.code, Some(0), "{case}: {}", out.all());
    assert!(out.stdout.contains("Deployment completed successfully"));
    let log = emu.entries();
    let hit: Vec<&Entry> = log.iter().filter(|e| e.fault).collect();
    assert_eq!(hit.len(), 1, "{case}: faulted requests {hit:?}");
    let hit_kind = hit[0].kind();
    // The faulted request was sent again (or, for an operation poll, polled again).
    assert!(
        log.iter()
            .filter(|e| e.kind() == hit_kind && !e.fault)
            .count()
            >= 1,
        "{case}: {hit_kind} was not retried"
    );
    assert_one_of_each(&case, &emu);
    hit_kind
}

fn transient_matrix(fault: Value) {
    let kinds = clean_kinds();
    let mut covered = BTreeSet::new();
    for (rule, kind) in &kinds {
        covered.insert(transient(rule.clone(), kind, &fault));
    }
    let missing: Vec<_> = kinds.iter().filter(|(_, k)| !covered.contains(k)).collect();
    assert!(
        missing.is_empty(),
        "{fault}: kinds never faulted: {missing:?}"
    );
    eprintln!("fault matrix {fault}: {} kinds survived", covered.len());
}

#[test]
fn throttling_with_retry_after_is_waited_out_for_every_request_kind() {
    transient_matrix(json!({"status": 429, "retry_after": 1}));
}

#[test]
fn a_500_is_retried_for_every_request_kind() {
    transient_matrix(json!({"status": 500}));
}

#[test]
fn a_503_is_retried_for_every_request_kind() {
    transient_matrix(json!({"status": 503}));
}

#[test]
fn a_dropped_connection_is_retried_for_every_request_kind() {
    transient_matrix(json!("reset"));
}

#[test]
fn a_hung_request_times_out_and_is_retried_for_every_request_kind() {
    transient_matrix(json!("hang"));
}

/// A permanent failure: exit 1 naming the step, code, message and the fix; the checkpoint
/// records it; a rerun once the fault is cleared succeeds.
fn permanent(case: &str, rule: Value, step: &str, code: &str, message: &str) {
    let dir = scratch();
    let emu = Emu::start(dir.path());
    emu.fault(rule);
    let out = up(&emu, dir.path(), "failed");
    assert_eq!(out.code, Some(1), "{case}: {}", out.all());
    for needle in [format!("`{step}`"), code.to_string(), message.to_string()] {
        assert!(
            out.stderr.contains(&needle),
            "{case}: no {needle:?} in {}",
            out.stderr
        );
    }
    assert!(
        out.stderr.contains("rerun"),
        "{case}: no advice in {}",
        out.stderr
    );
    let cp = checkpoint_json(&dir.path().join(".twinup/checkpoint.json"));
    assert_eq!(cp["steps"][step]["state"], "failed", "{case}: {cp}");
    let recorded = cp["steps"][step]["error"].to_string();
    assert!(
        recorded.contains(code),
        "{case}: checkpoint error {recorded}"
    );
    assert_eq!(cp["last_run"]["status"], "failed", "{case}");

    emu.clear_faults();
    let out = up(&emu, dir.path(), "rerun");
    assert_eq!(out.code, Some(0), "{case}: rerun: {}", out.all());
    assert_one_of_each(case, &emu);
}

#[test]
fn a_non_retryable_error_on_each_write_fails_its_step_and_a_rerun_recovers() {
    let writes = [
        ("PUT", "/resourcegroups/rel-rg", "resource_group"),
        ("PUT", "/digitaltwinsinstances/rel-twins", "instance"),
        ("PUT", "/roleassignments/", "data_role"),
        ("PATCH", "/applications", "app_registration"),
        ("POST", "/serviceprincipals", "app_registration"),
        ("POST", "/oauth2permissiongrants", "app_registration"),
    ];
    for (method, path, step) in writes {
        let case = format!("400 on {method} {path}");
        permanent(
            &case,
            json!({"method": method, "path_contains": path, "count": 0,
                   "kind": {"status": 400, "code": "InjectedBadRequest",
                            "message": "The request was refused by the injected fault."}}),
            step,
            "InjectedBadRequest",
            "The request was refused by the injected fault.",
        );
    }
}

#[test]
fn an_operation_that_ends_failed_fails_the_instance_step_and_a_rerun_recovers() {
    permanent(
        "LRO Failed",
        json!({"method": "PUT", "path_contains": "digitalTwinsInstances",
               "kind": {"lro_failed": {"code": "QuotaExceeded",
                                        "message": "The subscription has no quota left for instances."}}}),
        "instance",
        "QuotaExceeded",
        "The subscription has no quota left for instances.",
    );
}

#[test]
fn a_transient_error_that_never_clears_is_retried_within_bounds_then_fails() {
    let case = "503 forever on the instance PUT";
    permanent(
        case,
        json!({"method": "PUT", "path_contains": "digitalTwinsInstances", "count": 0,
               "kind": {"status": 503, "retry_after": 0, "code": "ServiceUnavailable",
                        "message": "The service is busy."}}),
        "instance",
        "ServiceUnavailable",
        "The service is busy.",
    );
}

#[test]
fn retries_of_a_failing_request_are_bounded() {
    let dir = scratch();
    let emu = Emu::start(dir.path());
    emu.fault(
        json!({"method": "PUT", "path_contains": "resourcegroups/rel-rg", "count": 0,
                     "kind": {"status": 500, "retry_after": 0}}),
    );
    let out = up(&emu, dir.path(), "failed");
    assert_eq!(out.code, Some(1), "{}", out.all());
    let puts = emu
        .entries()
        .iter()
        .filter(|e| e.method == "PUT" && e.route.ends_with("resourceGroups/{}"))
        .count();
    assert!((2..=6).contains(&puts), "{puts} attempts");
    assert_eq!(
        emu.inventory().instances,
        0,
        "nothing after the failed step started"
    );
}

#[test]
fn retries_are_shown_as_lines_and_as_step_retry_events() {
    let fault = json!({"method": "PUT", "path_contains": "resourcegroups/rel-rg", "count": 2,
                       "kind": {"status": 503, "retry_after": 1}});
    // Plain lines (stderr is a file): each retry with its attempt, wait and cause.
    let dir = scratch();
    let emu = Emu::start(dir.path());
    emu.fault(fault.clone());
    let out = up(&emu, dir.path(), "text");
    assert_eq!(out.code, Some(0), "{}", out.all());
    for attempt in [2, 3] {
        let line = format!("resource_group: retrying in 1 s (attempt {attempt} of 6): HTTP 503");
        assert!(out.stderr.contains(&line), "no {line:?}: {}", out.stderr);
    }

    // `--output json`: a `step_retry` event per retry; every stderr line is JSON.
    let dir = scratch();
    let emu = Emu::start(dir.path());
    emu.fault(fault);
    let (out, events) = up_json(&emu, dir.path(), "json");
    assert_eq!(out.code, Some(0), "{}", out.all());
    let retries: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "step_retry")
        .collect();
    assert_eq!(retries.len(), 2, "{}", out.stderr);
    assert_eq!(retries[0]["step"], "resource_group");
    assert_eq!(retries[0]["attempt"], 2);
    assert_eq!(retries[1]["attempt"], 3);
    assert_eq!(retries[0]["max_attempts"], 6);
    assert_eq!(retries[0]["cause"], "HTTP 503");
    assert_eq!(retries[0]["wait_ms"], 1000);
}

/// An Azure error (a 403 `AuthorizationFailed` on the group's PUT): its code, message and
/// what to do are each said once, in the text a person reads and in the JSON a script
/// parses (code and help in their own fields, not again inside the message).
#[test]
fn an_azure_error_says_its_code_and_what_to_do_once_in_text_and_in_json() {
    let code = "AuthorizationFailed";
    let message = "The client has no authorization to write the group.";
    let hint = "ask an administrator to grant it";
    let fault = json!({"method": "PUT", "path_contains": "resourcegroups/rel-rg", "count": 0,
                       "kind": {"status": 403, "code": code, "message": message}});
    let once = |text: &str, what: &str| {
        assert_eq!(
            text.matches(what).count(),
            1,
            "{what:?} not said once in {text}"
        );
    };

    let dir = scratch();
    let emu = Emu::start(dir.path());
    emu.fault(fault.clone());
    let out = up(&emu, dir.path(), "text");
    assert_eq!(out.code, Some(1), "{}", out.all());
    once(&out.stderr, code);
    once(&out.stderr, hint);
    assert!(
        out.stderr
            .contains(&format!("step `resource_group` failed: {code}: PUT")),
        "{}",
        out.stderr
    );

    let dir = scratch();
    let emu = Emu::start(dir.path());
    emu.fault(fault);
    let (out, events) = up_json(&emu, dir.path(), "json");
    assert_eq!(out.code, Some(1), "{}", out.all());
    let failed: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "step_failed")
        .collect();
    let result: Value = serde_json::from_str(&out.stdout).expect("one JSON object on stdout");
    let summary = &result["failure"]["failed_steps"][0];
    for error in [&failed[0]["error"], summary] {
        assert_eq!(error["code"], code, "{error}");
        let said = error["message"].as_str().unwrap_or_default();
        assert!(said.contains(message), "{error}");
        assert!(!said.contains(code) && !said.contains(hint), "{error}");
        once(error["help"].as_str().unwrap_or_default(), hint);
    }
    let prose = result["failure"]["message"].as_str().unwrap_or_default();
    once(prose, code);
    once(prose, hint);
}
