//! The built-in plan's last step, `data_plane_ready`, end to end against the emulator's data
//! plane (instance host names resolved to the emulator): `up` ends only once the instance
//! answers `GET /models` with 200 for the signed-in principal, waiting through the 403s of RBAC
//! propagation; a role that never takes effect fails the run (exit 1) and a rerun waits again
//! without creating anything; `--no-wait-ready` and another assignee do not wait.

mod common;

use common::azure::EmulatorProcess;
use common::{Scratch, run};
use serde_json::json;

/// The route the emulator logs for the data plane's `GET /models`.
const MODELS: &str = "/models (data plane)";

fn answers(s: &Scratch, extra: &str) {
    s.write(
        "answers.yaml",
        &format!(
            "location: westus2\nresource_group: rg-ready\ninstance_name: twins-ready\napp_display_name: ready-client\n{extra}"
        ),
    );
}

/// Makes a new role assignment take `secs` real-world seconds (scaled 0.01) to reach the data plane.
fn propagation(emu: &EmulatorProcess, secs: f64) {
    emu.admin(
        reqwest::Method::POST,
        "/_emulator/rbac-propagation",
        Some(json!({ "delay_secs": secs })),
    );
}

/// The statuses the data plane answered, in order.
fn data_plane_statuses(emu: &EmulatorProcess) -> Vec<u64> {
    emu.entries()
        .iter()
        .filter(|e| e.route == MODELS)
        .filter_map(|e| e.status)
        .collect()
}

#[test]
fn up_waits_through_rbac_propagation_until_the_data_plane_answers() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    // 150 s at time scale 0.01: the role takes 1.5 s to reach the data plane.
    propagation(&emu, 150.0);
    answers(&s, "");
    let out = run(emu.up(&s).args(["--answers", "answers.yaml"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("Deployment completed successfully"),
        "{}",
        out.stdout
    );
    let statuses = data_plane_statuses(&emu);
    assert!(
        statuses.len() >= 2 && statuses[..statuses.len() - 1].iter().all(|s| *s == 403),
        "403s first: {statuses:?}"
    );
    assert_eq!(statuses.last(), Some(&200), "then a 200: {statuses:?}");
    assert!(
        out.stderr.contains(
            "waiting for https://twins-ready.api.wus2.digitaltwins.azure.net to accept your role"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("ready to program against"),
        "{}",
        out.stderr
    );
    // The check only reads: the data plane saw GETs and nothing else.
    assert!(
        emu.entries()
            .iter()
            .filter(|e| e.route == MODELS)
            .all(|e| e.method == "GET")
    );
}

/// `up` with a role that never reaches the data plane and a 2 s readiness wait: it fails
/// (exit 1) after the instance and the role were made.
fn a_wait_that_times_out() -> (Scratch, EmulatorProcess, common::Outcome) {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    propagation(&emu, 1.0e9);
    answers(&s, "ready_timeout: 2s\n");
    let failed = run(emu.up(&s).args(["--answers", "answers.yaml"]));
    assert_eq!(failed.code, Some(1), "{}", failed.stderr);
    (s, emu, failed)
}

#[test]
fn a_role_that_never_takes_effect_fails_and_a_rerun_after_it_does_creates_nothing_twice() {
    let (s, emu, failed) = a_wait_that_times_out();
    let all = format!("{}\n{}", failed.stdout, failed.stderr);
    assert!(
        all.contains(
            "https://twins-ready.api.wus2.digitaltwins.azure.net still refuses you (HTTP 403"
        ),
        "{all}"
    );
    assert!(all.contains("after waiting 2 s"), "{all}");
    assert!(all.contains("rerun `twinup up` to wait again"), "{all}");
    assert!(!all.contains("Deployment completed successfully"), "{all}");
    assert!(data_plane_statuses(&emu).iter().all(|s| *s == 403));
    let before = emu.inventory();
    assert_eq!((before.instances, before.role_assignments), (1, 1));

    // The role takes effect; the rerun waits again and writes nothing.
    propagation(&emu, 0.0);
    emu.clear_requests();
    let again = run(emu.up(&s).args(["--answers", "answers.yaml"]));
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(
        again.stdout.contains("Deployment completed successfully"),
        "{}",
        again.stdout
    );
    assert_eq!(
        emu.writes(),
        Vec::<String>::new(),
        "the rerun must not write"
    );
    assert_eq!(data_plane_statuses(&emu), vec![200]);
    assert_eq!(emu.inventory(), before, "nothing was created twice");
}

#[test]
fn down_after_a_failed_wait_deletes_what_the_run_made_and_knows_the_wait_made_nothing() {
    let (s, emu, _) = a_wait_that_times_out();

    let down = run(&mut emu.down(&s));
    assert_eq!(down.code, Some(0), "{}", down.stderr);
    // A wait leaves nothing behind: `down` neither keeps it nor asks for a hand check.
    assert!(
        !down.stderr.contains("does not know what it made")
            && !down.stderr.contains("data_plane_ready"),
        "{}",
        down.stderr
    );
    let left = emu.inventory();
    assert_eq!(
        (left.instances, left.role_assignments),
        (0, 0),
        "{}",
        down.stderr
    );
}

#[test]
fn no_wait_ready_skips_the_check() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    propagation(&emu, 1.0e9);
    answers(&s, "");
    let out = run(emu
        .up(&s)
        .args(["--answers", "answers.yaml", "--no-wait-ready"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(data_plane_statuses(&emu), Vec::<u64>::new());
    assert!(
        out.stderr.contains("not waiting for https://twins-ready.api.wus2.digitaltwins.azure.net to accept your role (--no-wait-ready)"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_role_for_someone_else_is_not_waited_for_and_the_user_is_told_it_takes_minutes() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    propagation(&emu, 1.0e9);
    let user = emu.field("user_object_id");
    answers(
        &s,
        &format!("role_assignee: {user}\nrole_assignee_type: User\n"),
    );
    let out = run(emu.up(&s).args(["--answers", "answers.yaml"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(data_plane_statuses(&emu), Vec::<u64>::new());
    assert!(
        out.stderr.contains(&format!(
            "the data role is for {user}, not you: it can take a few minutes"
        )),
        "{}",
        out.stderr
    );
}
