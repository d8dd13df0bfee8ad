//! Concurrency and interruption (issue 6, suite 4): two runs on one checkpoint (exactly one
//! proceeds, the other stops at once without a request), and Ctrl-C (SIGINT) during preflight
//! and during a long-running-operation wait (exit 130, the checkpoint consistent, a rerun
//! completes without a second instance PUT). Ctrl-C at a prompt is covered by the pty prompt
//! tests; see docs/reliability.md.

#[path = "common/emulator.rs"]
mod emulator;

use std::time::Duration;

use emulator::{Emu, Running, checkpoint_json, finish, scratch, wait_for};
use serde_json::json;

fn hung(emu: &Emu) -> bool {
    emu.entries().iter().any(|e| e.outcome == "hang")
}

#[test]
fn of_two_runs_on_one_checkpoint_exactly_one_proceeds() {
    let dir = scratch();
    let emu = Emu::start(dir.path());
    emu.fault(json!({"method": "PUT", "path_contains": "digitalTwinsInstances", "kind": "hang"}));
    let mut first = emu.up(dir.path());
    // One step at a time: while the instance PUT hangs the first run sends nothing else, so
    // every request counted below would be the second run's.
    first.args(["--answers", "answers.yaml", "--parallelism", "1"]);
    let first = Running::spawn(first, dir.path(), "first");
    wait_for("the first run to be busy", Duration::from_secs(30), || {
        hung(&emu)
    });
    let before = emu.total();

    let mut second = emu.up(dir.path());
    second.args(["--answers", "answers.yaml"]);
    let second = finish(second, dir.path(), "second");
    assert_eq!(second.code, Some(2), "{}", second.all());
    assert!(
        second.stderr.contains("in use by another twinup run"),
        "{}",
        second.stderr
    );
    assert_eq!(emu.total(), before, "the second run sent requests");

    first.kill();
    let mut rerun = emu.up(dir.path());
    rerun.args(["--answers", "answers.yaml"]);
    let rerun = finish(rerun, dir.path(), "rerun");
    assert_eq!(rerun.code, Some(0), "{}", rerun.all());
    assert_eq!(emu.inventory().instances, 1);
}

#[test]
fn ctrl_c_during_preflight_exits_130_having_written_nothing() {
    let dir = scratch();
    let emu = Emu::start(dir.path());
    emu.fault(json!({"method": "GET", "path_contains": "/permissions", "kind": "hang"}));
    let mut cmd = emu.up(dir.path());
    cmd.args(["--answers", "answers.yaml"]);
    let run = Running::spawn(cmd, dir.path(), "interrupted");
    wait_for("preflight to be waiting", Duration::from_secs(30), || {
        hung(&emu)
    });
    run.signal("INT");
    let out = run.wait();
    assert_eq!(out.code, Some(130), "{}", out.all());
    assert!(
        emu.entries().iter().all(|e| !e.is_write()),
        "a write was sent"
    );
    let checkpoint = dir.path().join(".twinup/checkpoint.json");
    if checkpoint.exists() {
        let cp = checkpoint_json(&checkpoint);
        assert!(
            cp["steps"]
                .as_object()
                .is_none_or(|s| s.values().all(|r| r["state"] == "pending")),
            "{cp}"
        );
    }
    let mut rerun = emu.up(dir.path());
    rerun.args(["--answers", "answers.yaml"]);
    let rerun = finish(rerun, dir.path(), "rerun");
    assert_eq!(rerun.code, Some(0), "{}", rerun.all());
}

#[test]
fn ctrl_c_during_the_instance_wait_exits_130_and_a_rerun_resumes_the_same_operation() {
    let dir = scratch();
    // At 0.2 the instance takes about nine seconds: time to interrupt the wait.
    let emu = Emu::start_with(dir.path(), 0.2, false);
    let mut cmd = emu.up(dir.path());
    cmd.args(["--answers", "answers.yaml"]);
    let run = Running::spawn(cmd, dir.path(), "interrupted");
    wait_for(
        "the instance operation to be polled",
        Duration::from_secs(60),
        || {
            emu.entries()
                .iter()
                .any(|e| e.route.contains("operationStatuses"))
        },
    );
    run.signal("INT");
    let out = run.wait();
    assert_eq!(out.code, Some(130), "{}", out.all());
    assert!(out.stderr.contains("resume"), "{}", out.stderr);
    // The interrupted step is shown as stopped, to be resumed, not as failed.
    assert!(
        out.stderr.contains("instance: stopped after")
            && out.stderr.contains("interrupted; a rerun resumes it")
            && !out.stderr.contains("instance: failed"),
        "{}",
        out.stderr
    );
    let cp = checkpoint_json(&dir.path().join(".twinup/checkpoint.json"));
    assert_eq!(cp["steps"]["instance"]["state"], "running", "{cp}");
    assert!(cp["steps"]["instance"]["resume_token"].is_object(), "{cp}");
    assert_eq!(cp["steps"]["data_role"]["state"], "pending", "{cp}");

    // Before the rerun, preview says the instance's operation is resumed (not "no change",
    // though the instance already exists while it is created).
    let mut preview = emulator::clean_command(dir.path());
    preview
        .args([
            "preview",
            "-o",
            "json",
            "--answers",
            "answers.yaml",
            "--non-interactive",
        ])
        .args(emu.cloud_args())
        .envs(emu.cloud_env());
    let preview = finish(preview, dir.path(), "preview");
    assert_eq!(preview.code, Some(0), "{}", preview.all());
    let doc: serde_json::Value = serde_json::from_str(preview.stdout.trim()).expect("JSON");
    let instance = doc["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|i| i["step"] == "instance"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(instance["action"], "resume", "{doc}");
    assert_eq!(doc["summary"]["resume"], 1, "{doc}");

    let mut rerun = emu.up(dir.path());
    rerun.args(["--answers", "answers.yaml"]);
    let rerun = finish(rerun, dir.path(), "rerun");
    assert_eq!(rerun.code, Some(0), "{}", rerun.all());
    let puts = emu
        .entries()
        .iter()
        .filter(|e| e.method == "PUT" && e.route.ends_with("digitalTwinsInstances/{}"))
        .count();
    assert_eq!(puts, 1, "the rerun sent the instance PUT again");
    assert_eq!(emu.inventory().instances, 1);
}
