//! Crash matrix for the built-in plan against the emulator (issue 6, suite 1): the `twinup up`
//! process is SIGKILLed after the k-th request the emulator receives, for every k of a clean
//! run, and at every checkpoint write (half-way through it and right after it), after the
//! instance's operation token is saved and before each step's success is recorded. A rerun must
//! then finish with the clean run's outputs, exactly one of each resource, and no more writes
//! sent to Azure than a clean run plus the ones the crash left unrecorded.
//!
//! `TWINUP_CRASH_MATRIX_SAMPLE=N` runs only every N-th k (the test command runs every k; the
//! whole matrix takes about a minute on two cores).

#[path = "common/emulator.rs"]
mod emulator;

use std::path::Path;
use std::time::Duration;

use emulator::{
    Emu, Entry, Finished, Running, checkpoint_json, finish, saved_checkpoint, scratch, wait_for,
};
use serde_json::Value;

/// What a clean run did.
struct Clean {
    requests: Vec<Entry>,
    checkpoint_writes: u64,
    outputs: Value,
}

impl Clean {
    fn writes(&self) -> usize {
        self.requests
            .iter()
            .filter(|e| e.is_applied_write())
            .count()
    }
}

fn up_args(consent: bool) -> Vec<&'static str> {
    let mut args = vec!["--answers", "answers.yaml"];
    if consent {
        args.extend(["--set", "grant_admin_consent=true"]);
    }
    args
}

fn clean_run(consent: bool) -> Clean {
    let dir = scratch();
    let emu = Emu::start(dir.path());
    let mut cmd = emu.up(dir.path());
    cmd.args(up_args(consent))
        .env("RUST_LOG", "twinup_engine=debug");
    let out = finish(cmd, dir.path(), "clean");
    assert_eq!(out.code, Some(0), "clean run failed: {}", out.stderr);
    Clean {
        requests: emu.entries(),
        checkpoint_writes: out.stderr.matches("checkpoint write durable").count() as u64,
        outputs: checkpoint_json(&dir.path().join(".twinup/checkpoint.json"))["outputs"].clone(),
    }
}

/// The step a write request belongs to.
fn step_of(write: &Entry) -> &'static str {
    let r = write.route.to_ascii_lowercase();
    if r.contains("roleassignments") {
        "data_role"
    } else if r.contains("digitaltwinsinstances") {
        "instance"
    } else if r.contains("resourcegroups") {
        "resource_group"
    } else {
        "app_registration"
    }
}

/// Reruns until success (at most three times) and checks the end state against the clean run.
/// `unrecorded` is how many writes the crashed run sent whose step the checkpoint did not record
/// as done.
fn rerun_and_check(case: &str, dir: &Path, emu: &Emu, consent: bool, clean: &Clean) {
    let checkpoint_path = dir.join(".twinup/checkpoint.json");
    let crashed_log = emu.entries();
    // The snapshot is replaced atomically, so a crash never tears it; a torn journal line is
    // ignored by loading.
    if let Ok(bytes) = std::fs::read(&checkpoint_path) {
        serde_json::from_slice::<Value>(&bytes)
            .unwrap_or_else(|e| panic!("{case}: the checkpoint was torn by the crash: {e}"));
    }
    let at_crash: Option<Value> = saved_checkpoint(&checkpoint_path);
    let done = |step: &str| {
        at_crash
            .as_ref()
            .is_some_and(|c| c["steps"][step]["state"] == "succeeded")
    };
    let unrecorded = crashed_log
        .iter()
        .filter(|e| e.is_applied_write() && !done(step_of(e)))
        .count();

    let mut last: Option<Finished> = None;
    for attempt in 1..=3 {
        let mut cmd = emu.up(dir);
        cmd.args(up_args(consent));
        let out = finish(cmd, dir, &format!("rerun{attempt}"));
        let ok = out.code == Some(0);
        last = Some(out);
        if ok {
            break;
        }
    }
    let out = last.expect("a rerun ran");
    assert_eq!(
        out.code,
        Some(0),
        "{case}: reruns never succeeded: {}",
        out.all()
    );
    assert!(
        out.stdout.contains("Deployment completed successfully"),
        "{case}: {}",
        out.stdout
    );

    let outputs = checkpoint_json(&checkpoint_path)["outputs"].clone();
    for key in ["host_name", "tenant_id", "instance_id", "resource_group"] {
        assert_eq!(outputs[key], clean.outputs[key], "{case}: output {key}");
    }
    let inv = emu.inventory();
    assert_eq!(inv.resource_groups, 1, "{case}: {inv:?}");
    assert_eq!(inv.instances, 1, "{case}: {inv:?}");
    assert_eq!(inv.role_assignments, 1, "{case}: {inv:?}");
    assert_eq!(inv.apps, 1, "{case}: {inv:?}");
    assert_eq!(
        inv.service_principals,
        usize::from(consent),
        "{case}: {inv:?}"
    );
    assert_eq!(inv.grants, usize::from(consent), "{case}: {inv:?}");
    assert_eq!(
        outputs["client_id"].as_str(),
        inv.app_ids.first().map(String::as_str),
        "{case}: the output client id is not the app that exists"
    );

    let all_writes = emu
        .entries()
        .iter()
        .filter(|e| e.is_applied_write())
        .count();
    assert!(
        all_writes <= clean.writes() + unrecorded,
        "{case}: {all_writes} writes in total, a clean run makes {} and the crash left {unrecorded} unrecorded",
        clean.writes()
    );
}

/// Kill after the emulator has received exactly `k` requests: every later request hangs
/// (unprocessed) until the test sees it and kills the process.
fn crash_after_request(k: u64, consent: bool, clean: &Clean) {
    let case = format!("kill after request {k} (consent={consent})");
    let dir = scratch();
    let emu = Emu::start(dir.path());
    emu.hang_after(k);
    let mut cmd = emu.up(dir.path());
    cmd.args(up_args(consent));
    let mut run = Running::spawn(cmd, dir.path(), "crashed");
    wait_for(&case, Duration::from_secs(60), || {
        emu.total() > k || run.exited()
    });
    // Request k+1 hangs, so a run that reached it cannot end by itself; a run that ended first
    // needed fewer requests than the clean run (the instance's operation polled fewer times
    // under load) and must have succeeded.
    let reached = emu.total() > k;
    let crashed = run.kill();
    let processed = emu.entries().iter().filter(|e| e.outcome != "hang").count() as u64;
    assert!(processed <= k, "{case}: {processed} requests processed");
    if reached {
        assert_eq!(
            crashed.code, None,
            "{case}: the run was not killed: {}",
            crashed.stderr
        );
    } else {
        assert!(
            k >= clean.requests.len() as u64 || crashed.code == Some(0),
            "{case}: the run ended by itself before request {k} without succeeding: {}",
            crashed.stderr
        );
    }
    emu.clear_faults();
    rerun_and_check(&case, dir.path(), &emu, consent, clean);
}

/// Kill with one of the engine's crash hooks (`TWINUP_TEST_CRASH_*`).
fn crash_at_hook(hook: &str, value: &str, consent: bool, clean: &Clean) {
    let case = format!("{hook}={value} (consent={consent})");
    let dir = scratch();
    let emu = Emu::start(dir.path());
    let mut cmd = emu.up(dir.path());
    cmd.args(up_args(consent)).env(hook, value);
    let crashed = finish(cmd, dir.path(), "crashed");
    assert_ne!(
        crashed.code,
        Some(0),
        "{case}: the process should have died"
    );
    rerun_and_check(&case, dir.path(), &emu, consent, clean);
}

fn sample() -> usize {
    std::env::var("TWINUP_CRASH_MATRIX_SAMPLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(1)
}

#[test]
fn a_kill_after_any_request_is_recovered_by_a_rerun() {
    let clean = clean_run(true);
    let total = clean.requests.len() as u64;
    assert!(total >= 20, "a clean run sent only {total} requests");
    let mut kinds_covered = std::collections::BTreeSet::new();
    let mut cases = 0;
    for k in (1..=total).step_by(sample()) {
        crash_after_request(k, true, &clean);
        kinds_covered.insert(clean.requests[(k - 1) as usize].kind());
        cases += 1;
    }
    // Sampling must still cover every kind of request at least once: fill the gaps.
    for (i, entry) in clean.requests.iter().enumerate() {
        if kinds_covered.insert(entry.kind()) {
            crash_after_request(i as u64 + 1, true, &clean);
            cases += 1;
        }
    }
    eprintln!(
        "crash matrix: {cases} kills over {total} requests of {} kinds",
        kinds_covered.len()
    );
}

#[test]
fn a_kill_after_any_request_without_the_service_principal_is_recovered() {
    let clean = clean_run(false);
    let total = clean.requests.len() as u64;
    // The request kinds here are a subset of the consent run's: every third k is enough.
    for k in (1..=total).step_by(3 * sample()) {
        crash_after_request(k, false, &clean);
    }
}

#[test]
fn a_kill_during_or_after_any_checkpoint_write_is_recovered() {
    let clean = clean_run(true);
    assert!(clean.checkpoint_writes >= 10, "{}", clean.checkpoint_writes);
    for n in (1..=clean.checkpoint_writes).step_by(sample()) {
        crash_at_hook(
            "TWINUP_TEST_CRASH_DURING_WRITE",
            &n.to_string(),
            true,
            &clean,
        );
        crash_at_hook(
            "TWINUP_TEST_CRASH_AFTER_WRITE",
            &n.to_string(),
            true,
            &clean,
        );
    }
}

#[test]
fn a_kill_between_work_and_record_is_recovered_for_every_step() {
    let clean = clean_run(true);
    crash_at_hook("TWINUP_TEST_CRASH_AFTER_TOKEN", "instance", true, &clean);
    for step in [
        "resource_group",
        "instance",
        "data_role",
        "manifest",
        "app_registration",
    ] {
        crash_at_hook("TWINUP_TEST_CRASH_BEFORE_SUCCESS", step, true, &clean);
    }
}
