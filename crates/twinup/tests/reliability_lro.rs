//! Long-running-operation edge cases (issue 6, suite 7): an operation URL that answers 404 on
//! resume (expired) falls back to reading the resource; a 429 without `Retry-After` is retried
//! with bounded backoff; an operation that never ends is stopped by the step's `timeout:` with a
//! clear message. Huge and malformed `Retry-After` values are bounded by the retry policy, tested
//! as pure functions in twinup-azure (`http::retry` tests), since the emulator only sends
//! well-formed integers.

#[path = "common/emulator.rs"]
mod emulator;

use emulator::{Emu, checkpoint_json, finish, scratch};
use serde_json::json;

fn instance_puts(emu: &Emu) -> usize {
    emu.entries()
        .iter()
        .filter(|e| e.method == "PUT" && e.route.ends_with("digitalTwinsInstances/{}"))
        .count()
}

#[test]
fn an_expired_operation_url_on_resume_falls_back_to_reading_the_instance() {
    let dir = scratch();
    let emu = Emu::start(dir.path());
    let mut cmd = emu.up(dir.path());
    cmd.args(["--answers", "answers.yaml"])
        .env("TWINUP_TEST_CRASH_AFTER_TOKEN", "instance");
    let crashed = finish(cmd, dir.path(), "crashed");
    assert_ne!(crashed.code, Some(0));
    let cp = checkpoint_json(&dir.path().join(".twinup/checkpoint.json"));
    assert!(cp["steps"]["instance"]["resume_token"].is_object(), "{cp}");

    emu.clear_requests();
    emu.fault(
        json!({"method": "GET", "path_contains": "/operationStatuses/", "count": 0,
                     "kind": {"status": 404, "code": "NotFound", "message": "expired"}}),
    );
    let mut cmd = emu.up(dir.path());
    cmd.args(["--answers", "answers.yaml"]);
    let out = finish(cmd, dir.path(), "rerun");
    assert_eq!(out.code, Some(0), "{}", out.all());
    let log = emu.entries();
    let expired = log
        .iter()
        .position(|e| e.route.contains("operationStatuses") && e.status == Some(404))
        .expect("the saved operation URL was polled");
    assert!(
        log[expired..]
            .iter()
            .any(|e| e.method == "GET" && e.route.ends_with("digitalTwinsInstances/{}")),
        "the instance was not read after the 404"
    );
    assert_eq!(instance_puts(&emu), 0, "the rerun sent the PUT again");
    assert_eq!(emu.inventory().instances, 1);
}

#[test]
fn throttling_without_retry_after_is_retried_with_backoff() {
    let dir = scratch();
    let emu = Emu::start(dir.path());
    emu.fault(
        json!({"method": "GET", "path_contains": "/operationStatuses/", "count": 2,
                     "kind": {"status": 429}}),
    );
    let mut cmd = emu.up(dir.path());
    cmd.args(["--answers", "answers.yaml"]);
    let out = finish(cmd, dir.path(), "run");
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert_eq!(
        emu.entries()
            .iter()
            .filter(|e| e.status == Some(429))
            .count(),
        2
    );
    assert_eq!(instance_puts(&emu), 1);
}

#[test]
fn an_operation_that_never_ends_is_stopped_by_the_step_timeout() {
    let dir = scratch();
    // At time scale 1 an instance takes about 46 s; the plan allows it 2 s.
    let emu = Emu::start_with(dir.path(), 1.0, false);
    let plan = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plans/adt-setup.yaml"),
    )
    .expect("built-in plan");
    assert!(plan.contains("timeout: 30m"));
    std::fs::write(
        dir.path().join("plan.yaml"),
        plan.replace("timeout: 30m", "timeout: 2s"),
    )
    .expect("plan");
    let mut cmd = emu.up(dir.path());
    cmd.args(["--answers", "answers.yaml", "--plan", "plan.yaml"]);
    let started = std::time::Instant::now();
    let out = finish(cmd, dir.path(), "timeout");
    assert!(
        started.elapsed().as_secs() < 30,
        "the timeout did not stop the wait"
    );
    assert_eq!(out.code, Some(1), "{}", out.all());
    assert!(out.stderr.contains("`instance`"), "{}", out.stderr);
    assert!(out.stderr.contains("timeout of 2s"), "{}", out.stderr);
    assert!(
        out.stderr.contains("timeout:"),
        "no fix named: {}",
        out.stderr
    );
    let cp = checkpoint_json(&dir.path().join(".twinup/checkpoint.json"));
    assert!(cp["steps"]["instance"]["resume_token"].is_object(), "{cp}");
    assert_eq!(instance_puts(&emu), 1);
}
