//! The checkpoint remembers its cloud (issue 19): after a failed `up --cloud local`, the resume
//! hint printed by `up` and by `status` works exactly as printed; `verify` and `down` without
//! `--cloud` act on the recorded cloud; naming another cloud is refused (exit 2) unless
//! `--reconfigure` moves the deployment.

mod common;

use common::{Scratch, run};

const ANSWERS: &str = "location: westus2\nresource_group: mem-rg\ninstance_name: mem-twins\n\
app_display_name: mem-client\nreply_url: http://localhost\n";

/// The command between the backticks after `after` in `text`.
fn quoted_command<'a>(text: &'a str, after: &str) -> &'a str {
    let start = text
        .find(after)
        .unwrap_or_else(|| panic!("no {after:?} in: {text}"))
        + after.len();
    let rest = &text[start..];
    let end = rest.find('`').expect("closing backtick");
    &rest[..end]
}

/// Runs `command` (as printed, starting with `twinup`) in the scratch directory.
fn run_as_printed(s: &Scratch, command: &str) -> common::Outcome {
    let words: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(words[0], "twinup", "not a twinup command: {command}");
    run(s.twinup().args(&words[1..]))
}

#[test]
fn the_printed_resume_hints_work_and_later_commands_use_the_recorded_cloud() {
    let s = Scratch::new();
    s.write("answers.yaml", ANSWERS);
    // A directory where the manifest file must go makes the `manifest` step fail.
    std::fs::create_dir(s.path("manifest.json")).unwrap();
    let failed = run(s.twinup().args([
        "up",
        "--cloud",
        "local",
        "--answers",
        "answers.yaml",
        "--non-interactive",
    ]));
    assert_eq!(failed.code, Some(1), "{}", failed.stderr);
    let hint = quoted_command(&failed.stderr, "rerun `");
    assert_eq!(hint, "twinup up");

    let status = run(s.twinup().arg("status"));
    assert_eq!(status.code, Some(0), "{}", status.stderr);
    assert!(
        status.stdout.contains("Cloud: the local cloud"),
        "{}",
        status.stdout
    );
    let status_hint = status
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Resume with: "))
        .expect("status prints a resume command");
    assert_eq!(status_hint, hint);

    std::fs::remove_dir(s.path("manifest.json")).unwrap();
    let resumed = run_as_printed(&s, hint);
    assert_eq!(resumed.code, Some(0), "{}", resumed.stderr);
    assert!(resumed.stdout.contains("Deployment completed successfully"));

    let verified = run(s.twinup().arg("verify"));
    assert_eq!(
        verified.code,
        Some(0),
        "{}{}",
        verified.stdout,
        verified.stderr
    );

    let elsewhere = run(s.twinup().args(["verify", "--cloud", "public"]));
    assert_eq!(elsewhere.code, Some(2), "{}", elsewhere.stderr);
    assert!(
        elsewhere.stderr.contains("lives in the local cloud")
            && elsewhere.stderr.contains("--reconfigure"),
        "{}",
        elsewhere.stderr
    );

    let down = run(s.twinup().args([
        "down",
        "--yes",
        "--non-interactive",
        "--answers",
        "answers.yaml",
    ]));
    assert_eq!(down.code, Some(0), "{}", down.stderr);
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.path(".twinup/emulator.json")).unwrap()).unwrap();
    let instances = state["digital_twins"].to_string();
    assert!(
        !instances.contains("mem-twins"),
        "down left the instance in the local emulator: {instances}"
    );
    // Five resources and the data-plane readiness check (nothing sent for it); the private
    // link step, turned off, made nothing to delete.
    assert!(
        down.stdout.contains("Teardown completed: 6 deleted"),
        "{}{}",
        down.stdout,
        down.stderr
    );
}

#[test]
fn preview_on_the_local_cloud_works_in_an_empty_directory() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = assert_cmd::Command::cargo_bin("twinup").unwrap();
    cmd.current_dir(dir.path())
        .args(["preview", "--cloud", "local", "--non-interactive"])
        .args([
            "--set",
            "location=westus2",
            "--set",
            "resource_group=fresh-rg",
        ])
        .args(["--set", "instance_name=fresh-twins"]);
    let out = run(&mut cmd);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("create"), "{}", out.stdout);
    assert!(
        !dir.path().join(".twinup/checkpoint.json").exists(),
        "preview wrote a checkpoint"
    );
}

#[test]
fn status_tells_a_live_run_from_one_that_died() {
    use common::emulator::{Emu, Running, finish, scratch, wait_for};
    use std::time::Duration;
    let home = scratch();
    // Real latency: the instance takes minutes to create, so the run is certainly still going.
    let emu = Emu::start_with(home.path(), 1.0, false);
    let dir = scratch();
    let mut up = emu.up(dir.path());
    up.args(["--answers", "answers.yaml"]);
    let run = Running::spawn(up, dir.path(), "live");
    let checkpoint = dir.path().join(".twinup/checkpoint.json");
    wait_for(
        "the instance's operation to start",
        Duration::from_secs(60),
        || {
            common::emulator::saved_checkpoint(&checkpoint)
                .is_some_and(|c| c.to_string().contains("resume_token"))
        },
    );
    let status = |tag: &str| {
        let mut cmd = common::emulator::clean_command(dir.path());
        cmd.arg("status");
        finish(cmd, dir.path(), tag)
    };
    let live = status("status-live");
    assert_eq!(live.code, Some(0), "{}", live.stderr);
    assert!(
        live.stdout.contains("running now (process"),
        "{}",
        live.stdout
    );
    assert!(
        !live.stdout.contains("stopped unexpectedly"),
        "{}",
        live.stdout
    );
    assert!(!live.stdout.contains("Resume with"), "{}", live.stdout);

    run.kill();
    let dead = status("status-dead");
    assert!(
        dead.stdout.contains("stopped unexpectedly"),
        "{}",
        dead.stdout
    );
    assert!(
        dead.stdout.contains("Resume with: twinup up"),
        "{}",
        dead.stdout
    );
}
