//! The built-in plan with today's example answers sends exactly the requests it sent before the
//! app-registration and managed-identity options existed (issue 18): the same writes with the
//! same bodies, and no request to a route the options brought (app owners, user-assigned
//! identities, instance endpoints). The one addition is the readiness step's reads of the
//! instance's data plane (`GET /models`), which issue 18 asks for on such a run.
//!
//! The baseline below was recorded from `main` before those options (commit 2277d50) by running
//! this test with `TWINUP_BASELINE_BIN=<that build's twinup>` and `TWINUP_PRINT_BASELINE=1`,
//! which runs that binary's `up` against this build's emulator and prints what it sent.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::azure::EmulatorProcess;
use common::{Scratch, run};
use serde_json::Value;

/// Every distinct request of the run (method, path and body with ids masked), sorted.
const BASELINE_DISTINCT: &[&str] = &[
    r#"GET /subscriptions"#,
    r#"GET /subscriptions/<id>"#,
    r#"GET /subscriptions/<id>/providers/Microsoft.Authorization/permissions"#,
    r#"GET /subscriptions/<id>/providers/Microsoft.DigitalTwins"#,
    r#"GET /subscriptions/<id>/providers/Microsoft.DigitalTwins/locations/westus2/operationStatuses/<id>"#,
    r#"GET /subscriptions/<id>/resourceGroups/twinup-demo-rg"#,
    r#"GET /subscriptions/<id>/resourceGroups/twinup-demo-rg/providers/Microsoft.Authorization/permissions"#,
    r#"GET /subscriptions/<id>/resourceGroups/twinup-demo-rg/providers/Microsoft.DigitalTwins/digitalTwinsInstances/twinup-demo-twins"#,
    r#"GET /subscriptions/<id>/resourceGroups/twinup-demo-rg/providers/Microsoft.DigitalTwins/digitalTwinsInstances/twinup-demo-twins/providers/Microsoft.Authorization/permissions"#,
    r#"GET /subscriptions/<id>/resourcegroups/twinup-demo-rg/providers/Microsoft.DigitalTwins/digitalTwinsInstances/twinup-demo-twins/providers/Microsoft.Authorization/roleDefinitions"#,
    r#"GET /v1.0/applications"#,
    r#"GET /v1.0/applications(uniqueName='twinup-<id>')"#,
    r#"PATCH /v1.0/applications(uniqueName='twinup-<id>') {"displayName":"twinup-demo-client","signInAudience":"AzureADMyOrg","isFallbackPublicClient":true,"publicClient":{"redirectUris":["http://localhost"]},"requiredResourceAccess":[{"resourceAppId":"<id>","resourceAccess":[{"id":"<id>","type":"Scope"}]}]}"#,
    r#"POST /<id>/oauth2/v2.0/token"#,
    r#"POST /subscriptions/<id>/providers/Microsoft.DigitalTwins/locations/westus2/checkNameAvailability {"name":"twinup-demo-twins","type":"Microsoft.DigitalTwins/digitalTwinsInstances"}"#,
    r#"PUT /subscriptions/<id>/resourceGroups/twinup-demo-rg {"location":"westus2","tags":{"purpose":"demo"}}"#,
    r#"PUT /subscriptions/<id>/resourceGroups/twinup-demo-rg/providers/Microsoft.DigitalTwins/digitalTwinsInstances/twinup-demo-twins {"location":"westus2","tags":{"purpose":"demo"},"identity":{"type":"None"},"properties":{"publicNetworkAccess":"Enabled"}}"#,
    r#"PUT /subscriptions/<id>/resourcegroups/twinup-demo-rg/providers/Microsoft.DigitalTwins/digitalTwinsInstances/twinup-demo-twins/providers/Microsoft.Authorization/roleAssignments/<id> {"properties":{"roleDefinitionId":"/subscriptions/<id>/providers/Microsoft.Authorization/roleDefinitions/<id>","principalId":"<id>","principalType":"ServicePrincipal"}}"#,
];

/// The write requests of the run (not GET), with their bodies, sorted.
const BASELINE_WRITES: &[&str] = &[
    r#"PATCH /v1.0/applications(uniqueName='twinup-<id>') {"displayName":"twinup-demo-client","signInAudience":"AzureADMyOrg","isFallbackPublicClient":true,"publicClient":{"redirectUris":["http://localhost"]},"requiredResourceAccess":[{"resourceAppId":"<id>","resourceAccess":[{"id":"<id>","type":"Scope"}]}]}"#,
    r#"POST /subscriptions/<id>/providers/Microsoft.DigitalTwins/locations/westus2/checkNameAvailability {"name":"twinup-demo-twins","type":"Microsoft.DigitalTwins/digitalTwinsInstances"}"#,
    r#"PUT /subscriptions/<id>/resourceGroups/twinup-demo-rg {"location":"westus2","tags":{"purpose":"demo"}}"#,
    r#"PUT /subscriptions/<id>/resourceGroups/twinup-demo-rg/providers/Microsoft.DigitalTwins/digitalTwinsInstances/twinup-demo-twins {"location":"westus2","tags":{"purpose":"demo"},"identity":{"type":"None"},"properties":{"publicNetworkAccess":"Enabled"}}"#,
    r#"PUT /subscriptions/<id>/resourcegroups/twinup-demo-rg/providers/Microsoft.DigitalTwins/digitalTwinsInstances/twinup-demo-twins/providers/Microsoft.Authorization/roleAssignments/<id> {"properties":{"roleDefinitionId":"/subscriptions/<id>/providers/Microsoft.Authorization/roleDefinitions/<id>","principalId":"<id>","principalType":"ServicePrincipal"}}"#,
];

/// Routes the new options call; none of them may be called with the defaults.
const NEW_ROUTES: &[&str] = &["/owners", "userAssignedIdentities", "/endpoints"];

/// `text` with every GUID replaced by `<id>` and the emulator's URL by `<emulator>`.
fn masked(text: &str, url: &str) -> String {
    let text = text.replace(url, "<emulator>");
    let mut out = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let candidate: String = chars[i..chars.len().min(i + 36)].iter().collect();
        if candidate.len() == 36 && uuid_like(&candidate) {
            out.push_str("<id>");
            i += 36;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn uuid_like(s: &str) -> bool {
    s.char_indices().all(|(i, c)| match i {
        8 | 13 | 18 | 23 => c == '-',
        _ => c.is_ascii_hexdigit(),
    })
}

/// (distinct requests, writes) of what the emulator logged.
fn signature(emu: &EmulatorProcess) -> (Vec<String>, Vec<String>) {
    let url = emu.url();
    let mut distinct = BTreeSet::new();
    let mut writes = Vec::new();
    for r in emu.requests()["requests"].as_array().expect("requests") {
        let method = r["method"].as_str().unwrap_or_default();
        let body = match &r["body"] {
            Value::Null => String::new(),
            b => format!(" {b}"),
        };
        let line = masked(
            &format!("{method} {}{body}", r["path"].as_str().unwrap_or_default()),
            &url,
        );
        if method != "GET" && !line.contains("/token") {
            writes.push(line.clone());
        }
        distinct.insert(line);
    }
    writes.sort();
    (distinct.into_iter().collect(), writes)
}

fn example_answers() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plans/examples/answers.yaml")
}

#[test]
fn the_example_answers_send_the_same_requests_as_before_the_new_options() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    let mut cmd = emu.up(&s);
    if let Some(bin) = std::env::var_os("TWINUP_BASELINE_BIN") {
        let args: Vec<_> = cmd.get_args().map(|a| a.to_os_string()).collect();
        let envs: Vec<_> = cmd
            .get_envs()
            .filter_map(|(k, v)| Some((k.to_os_string(), v?.to_os_string())))
            .collect();
        cmd = assert_cmd::Command::new(bin);
        cmd.current_dir(s.dir.path()).args(args).envs(envs);
    }
    // One step at a time, so the run is the same run every time.
    let out = run(cmd
        .arg("--answers")
        .arg(example_answers())
        .args(["--parallelism", "1"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let (mut distinct, writes) = signature(&emu);
    // The readiness step (issue 18 item 2) reads the instance's data plane at the end of a run
    // whose data role goes to the signed-in principal, as the example's does: reads only, and
    // the only requests the defaults gained.
    let readiness = |line: &String| line.starts_with("GET /models");
    if std::env::var_os("TWINUP_BASELINE_BIN").is_none() {
        assert!(
            distinct.iter().any(readiness),
            "the readiness step did not read the data plane: {distinct:#?}"
        );
    }
    distinct.retain(|line| !readiness(line));
    if std::env::var_os("TWINUP_PRINT_BASELINE").is_some() {
        println!("DISTINCT {distinct:#?}\nWRITES {writes:#?}");
    }
    for line in &distinct {
        assert!(
            !NEW_ROUTES.iter().any(|r| line.contains(r)),
            "the defaults called a route of the new options: {line}"
        );
    }
    assert_eq!(writes, BASELINE_WRITES, "the writes changed");
    assert_eq!(distinct, BASELINE_DISTINCT, "the requests changed");
}
