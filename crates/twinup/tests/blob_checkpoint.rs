//! `--checkpoint` as a blob in Azurite (installed from npm and started by the test): runs that
//! resume from it, a crash-matrix sample, a second runner refused while the first holds the
//! lease, the lease expiring after the holder is killed, `unlock --force`, `status --history`,
//! `checkpoint push|pull|restore`.

#[path = "../../../tests/azurite/azurite.rs"]
mod azurite;
mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use azurite::{Azurite, CONNECTION_STRING};
use common::{Outcome, Scratch, run};
use serde_json::Value;

/// `twinup ARGS` in `s`, authorised for Azurite, with a 15 s lease.
fn twinup(s: &Scratch, args: &[&str]) -> Command {
    let mut cmd = s.twinup();
    cmd.args(args)
        .env("AZURE_STORAGE_CONNECTION_STRING", CONNECTION_STRING)
        .env("TWINUP_BLOB_LEASE_SECONDS", "15");
    cmd
}

fn files_up(s: &Scratch, url: &str) -> Command {
    let mut cmd = twinup(s, common::FILES_UP);
    cmd.args(["--checkpoint", url]).env("TWINUP_API_KEY", "k");
    cmd
}

fn status_json(s: &Scratch, url: &str, plan: &[&str]) -> Value {
    let mut args = vec!["--output", "json", "status", "--checkpoint", url];
    args.extend_from_slice(plan);
    let out = run(&mut twinup(s, &args));
    assert_eq!(out.code, Some(0), "status: {}", out.stderr);
    serde_json::from_str(&out.stdout).expect("status json")
}

fn unlock(s: &Scratch, url: &str, force: bool) -> Outcome {
    let mut args = vec!["unlock", "--checkpoint", url];
    if force {
        args.push("--force");
    }
    run(&mut twinup(s, &args))
}

#[test]
fn a_run_on_a_blob_checkpoint_resumes_and_is_read_back_by_status_and_plan() {
    let az = Azurite::start();
    az.create_container("twinup");
    let url = az.blob_url("twinup", "teams/files/checkpoint.json");
    let s = Scratch::new();

    let out = run(&mut files_up(&s, &url));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(!s.path(".twinup/checkpoint.json").exists(), "nothing local");
    let status = status_json(&s, &url, &["--plan", "files-plan.yaml"]);
    assert_eq!(status["last_run"]["status"], "succeeded");
    assert_eq!(status["steps"].as_array().unwrap().len(), 3);

    // A rerun changes nothing.
    let out = run(&mut files_up(&s, &url));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stderr.contains("Nothing to do"), "{}", out.stderr);

    let out = run(&mut twinup(
        &s,
        &["plan", "--plan", "files-plan.yaml", "--checkpoint", &url],
    ));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("succeeded"), "{}", out.stdout);

    // Each run kept the state before its first write.
    let out = run(&mut twinup(
        &s,
        &["status", "--history", "--checkpoint", &url],
    ));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("current"), "{}", out.stdout);
    assert!(
        out.stdout.contains("state before the run of host"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("twinup checkpoint restore"),
        "{}",
        out.stdout
    );

    // Without credentials the run stops before doing anything, saying what to set.
    let mut bare = s.twinup();
    bare.args(["status", "--checkpoint", &url]);
    let out = run(&mut bare);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("AZURE_STORAGE_CONNECTION_STRING"),
        "{}",
        out.stderr
    );
}

fn crash_then_recover(az: &Azurite, hook: &str, k: usize, clean_outputs: &Value) {
    let url = az.blob_url("twinup", &format!("crash/{hook}-{k}.json"));
    let s = Scratch::new();
    let crashed = run(files_up(&s, &url).env(hook, k.to_string()));
    assert_ne!(
        crashed.code,
        Some(0),
        "{hook}={k}: the process should have died"
    );

    // The dead run's lease is still there: a rerun is refused naming it, until unlocked.
    let out = run(&mut files_up(&s, &url));
    assert_eq!(out.code, Some(2), "{hook}={k}: {}", out.stderr);
    assert!(
        out.stderr.contains("in use by another twinup run"),
        "{}",
        out.stderr
    );
    let forced = unlock(&s, &url, true);
    assert_eq!(forced.code, Some(0), "{}", forced.stderr);
    assert!(
        forced
            .stderr
            .contains("warning: breaking the lease of host"),
        "{}",
        forced.stderr
    );

    let before = (k > 1).then(|| status_json(&s, &url, &["--plan", "files-plan.yaml"]));
    let out = run(&mut files_up(&s, &url));
    assert_eq!(
        out.code,
        Some(0),
        "{hook}={k}: rerun failed: {}",
        out.stderr
    );
    let after = status_json(&s, &url, &["--plan", "files-plan.yaml"]);
    assert_eq!(&after["outputs"], clean_outputs, "{hook}={k}");
    let attempts = |v: &Value, id: &str| {
        v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|st| st["id"] == id)
            .map(|st| (st["state"].clone(), st["attempts"].clone()))
    };
    if let Some(before) = before {
        for id in ["first", "second", "settings"] {
            if let Some((state, n)) = attempts(&before, id)
                && state == "succeeded"
            {
                assert_eq!(
                    Some(n),
                    attempts(&after, id).map(|a| a.1),
                    "{hook}={k}: {id} was done before the crash and ran again"
                );
            }
        }
    }
}

#[test]
fn a_sample_of_crashes_at_checkpoint_writes_is_recovered_from_the_blob() {
    let az = Azurite::start();
    az.create_container("twinup");
    let clean_url = az.blob_url("twinup", "crash/clean.json");
    let s = Scratch::new();
    let out = run(files_up(&s, &clean_url).env("RUST_LOG", "twinup_engine=debug"));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let writes = out.stderr.matches("checkpoint write durable").count();
    assert!(writes >= 8, "{}", out.stderr);
    let outputs = status_json(&s, &clean_url, &["--plan", "files-plan.yaml"])["outputs"].clone();

    for k in [1, 2, writes / 2, writes - 1, writes] {
        crash_then_recover(&az, "TWINUP_TEST_CRASH_AFTER_WRITE", k, &outputs);
    }
    for k in [1, writes / 2] {
        crash_then_recover(&az, "TWINUP_TEST_CRASH_DURING_WRITE", k, &outputs);
    }
}

#[test]
fn a_second_runner_is_refused_naming_the_first_and_a_killed_runners_lease_expires() {
    let az = Azurite::start();
    az.create_container("twinup");
    let url = az.blob_url("twinup", "adt/checkpoint.json");
    let s = Scratch::new();
    let answers = common::fixtures().join("../../plans/examples/answers.yaml");
    let up = |s: &Scratch| {
        let mut cmd = twinup(
            s,
            &[
                "up",
                "--cloud",
                "local",
                "--non-interactive",
                "--checkpoint",
                &url,
            ],
        );
        cmd.arg("--answers")
            .arg(&answers)
            // Slow enough that the instance's creation (46 s in Azure) is still running
            // while the other runners try.
            .env("TWINUP_LOCAL_TIME_SCALE", "0.5");
        cmd
    };

    // Runner 1, a separate process, until its instance creation is in flight.
    let mut first = std::process::Command::new(assert_cmd::cargo::cargo_bin("twinup"));
    first.args(up(&s).get_args());
    for (k, v) in up(&s).get_envs() {
        match v {
            Some(v) => first.env(k, v),
            None => first.env_remove(k),
        };
    }
    let log = s.path("runner1.log");
    let mut first = first
        .current_dir(s.dir.path())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("start runner 1");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(
            Instant::now() < deadline && first.try_wait().ok().flatten().is_none(),
            "runner 1 never started the instance: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        let out = run(&mut twinup(
            &s,
            &["--output", "json", "status", "--checkpoint", &url],
        ));
        if out.code == Some(0) {
            let status: Value = serde_json::from_str(&out.stdout).unwrap();
            if status["steps"]
                .as_array()
                .unwrap()
                .iter()
                .any(|st| st["id"] == "instance" && st["in_flight"] == true)
            {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    // Runner 2, from another directory, fails at once naming runner 1.
    let other = Scratch::new();
    let started = Instant::now();
    let out = run(&mut up(&other));
    let refused_in = started.elapsed();
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("in use by another twinup run"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!("process {}", first.id())),
        "names runner 1: {}",
        out.stderr
    );
    assert!(refused_in < Duration::from_secs(10), "took {refused_in:?}");

    // Runner 1 dies without releasing its lease: still locked at once, free within the lease.
    first.kill().expect("kill runner 1");
    let _ = first.wait();
    let killed = Instant::now();
    let out = unlock(&s, &url, false);
    assert_eq!(
        out.code,
        Some(2),
        "still locked right after the kill: {}",
        out.stderr
    );
    assert!(out.stderr.contains("unlock --force"), "{}", out.stderr);
    loop {
        let out = unlock(&s, &url, false);
        if out.code == Some(0) {
            assert!(out.stdout.contains("is not locked"), "{}", out.stdout);
            break;
        }
        assert!(
            killed.elapsed() < Duration::from_secs(40),
            "the lease never expired"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let expired_in = killed.elapsed();
    assert!(
        expired_in <= Duration::from_secs(17),
        "expired after {expired_in:?}"
    );
    eprintln!("lease freed {expired_in:?} after the kill; runner 2 refused in {refused_in:?}");

    // The next run resumes runner 1's in-flight creation and finishes.
    let out = run(&mut up(&s));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains("resuming the operation in flight"),
        "the instance's creation is resumed, not started again: {}",
        out.stderr
    );
    let status = status_json(&s, &url, &[]);
    assert_eq!(status["last_run"]["status"], "succeeded");
}

#[test]
fn push_pull_and_restore_move_checkpoints_between_file_and_blob() {
    let az = Azurite::start();
    az.create_container("twinup");
    let url = az.blob_url("twinup", "moved.json");
    let s = Scratch::new();
    let mut local_up = s.twinup();
    local_up
        .args(["up", "--plan", "files-plan.yaml", "--non-interactive"])
        .args(["--set", "audience=world"])
        .env("TWINUP_API_KEY", "k");
    assert_eq!(run(&mut local_up).code, Some(0));
    let local = s.checkpoint();

    let out = run(&mut twinup(&s, &["checkpoint", "push", &url]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let status = status_json(&s, &url, &["--plan", "files-plan.yaml"]);
    assert_eq!(status["outputs"], local["outputs"]);

    let out = run(&mut twinup(&s, &["checkpoint", "push", &url]));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("already holds a checkpoint"),
        "{}",
        out.stderr
    );

    let out = run(&mut twinup(
        &s,
        &["checkpoint", "pull", &url, "--local", "copy.json"],
    ));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let pulled: Value =
        serde_json::from_slice(&std::fs::read(s.path("copy.json")).unwrap()).unwrap();
    assert_eq!(
        pulled, local,
        "the round trip keeps the checkpoint as it was"
    );

    // Change the blob with a run, then restore the version before it.
    let out = run(files_up(&s, &url).args(["--set", "greeting=changed"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let out = run(&mut twinup(
        &s,
        &[
            "--output",
            "json",
            "status",
            "--history",
            "--checkpoint",
            &url,
        ],
    ));
    let history: Value = serde_json::from_str(&out.stdout).unwrap();
    let versions = history["versions"].as_array().unwrap();
    let snapshot = versions[1]["snapshot"]
        .as_str()
        .expect("a kept version")
        .to_string();
    let out = run(&mut twinup(
        &s,
        &["checkpoint", "restore", &snapshot, "--checkpoint", &url],
    ));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let restored = status_json(&s, &url, &["--plan", "files-plan.yaml"]);
    assert_eq!(restored["outputs"], local["outputs"]);
    let out = run(&mut twinup(
        &s,
        &[
            "--output",
            "json",
            "status",
            "--history",
            "--checkpoint",
            &url,
        ],
    ));
    let after: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        after["versions"].as_array().unwrap().len(),
        versions.len() + 1,
        "the replaced version is kept too"
    );
}

#[test]
fn bad_blob_urls_are_refused_before_anything_runs() {
    let s = Scratch::new();
    let out = run(&mut files_up(&s, "http://example.com/acct/c12/cp.json"));
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("unencrypted"), "{}", out.stderr);
    // An emulator URL where nothing listens: refused after a few retries.
    let out = run(&mut files_up(
        &s,
        "http://127.0.0.1:9/devstoreaccount1/c12/cp.json?sv=1&sig=c2VjcmV0",
    ));
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("could not be reached"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("c2VjcmV0"),
        "the SAS never shows: {}",
        out.stderr
    );
    assert!(!s.path("out").exists(), "nothing ran");
}
