//! Killing the process at every checkpoint write (after it, and half-way through it), then
//! rerunning, always ends with the clean run's result, and no step that was recorded as done is
//! applied again.

mod common;

use common::{Scratch, run};

fn up(s: &Scratch) -> assert_cmd::Command {
    let mut cmd = s.files_up();
    cmd.env("TWINUP_API_KEY", "k");
    cmd
}

fn writes_in_a_clean_run() -> (usize, serde_json::Value) {
    let s = Scratch::new();
    let out = run(up(&s).env("RUST_LOG", "twinup_engine=debug"));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let writes = out.stderr.matches("checkpoint write durable").count();
    // At least: run start, each of 3 steps running and succeeded, run end.
    assert!(writes >= 8, "{}", out.stderr);
    (writes, s.checkpoint()["outputs"].clone())
}

fn crash_then_rerun(hook: &str, k: usize, clean_outputs: &serde_json::Value) {
    let s = Scratch::new();
    let crashed = run(up(&s).env(hook, k.to_string()));
    assert_ne!(
        crashed.code,
        Some(0),
        "{hook}={k}: the process should have died"
    );
    let before: Option<serde_json::Value> = s.checkpoint_bytes().map(|b| {
        serde_json::from_slice(&b).unwrap_or_else(|e| panic!("{hook}={k}: checkpoint torn: {e}"))
    });

    let out = run(&mut up(&s));
    assert_eq!(
        out.code,
        Some(0),
        "{hook}={k}: rerun failed: {}",
        out.stderr
    );
    assert!(out.stdout.contains("Deployment completed successfully"));
    let after = s.checkpoint();
    assert_eq!(&after["outputs"], clean_outputs, "{hook}={k}");
    if let Some(before) = before {
        for (id, record) in before["steps"].as_object().unwrap() {
            if record["state"] == "succeeded" {
                assert_eq!(
                    record["attempts"], after["steps"][id]["attempts"],
                    "{hook}={k}: step {id} was done before the crash and ran again"
                );
            }
        }
    }
    for id in ["first", "second", "settings"] {
        let attempts = after["steps"][id]["attempts"].as_u64().unwrap();
        assert!(
            attempts <= 2,
            "{hook}={k}: step {id} attempted {attempts} times"
        );
    }
}

#[test]
fn a_kill_after_any_checkpoint_write_is_recovered_by_a_rerun() {
    let (writes, outputs) = writes_in_a_clean_run();
    for k in 1..=writes {
        crash_then_rerun("TWINUP_TEST_CRASH_AFTER_WRITE", k, &outputs);
    }
}

#[test]
fn a_kill_in_the_middle_of_a_checkpoint_write_never_tears_the_checkpoint() {
    let (writes, outputs) = writes_in_a_clean_run();
    for k in 1..=writes {
        crash_then_rerun("TWINUP_TEST_CRASH_DURING_WRITE", k, &outputs);
    }
}

#[test]
fn the_crash_hook_fires_at_the_last_write_and_not_beyond() {
    // Guards the tests above: if write counting broke, they would silently test nothing.
    let (writes, _) = writes_in_a_clean_run();
    let s = Scratch::new();
    let out = run(up(&s).env("TWINUP_TEST_CRASH_AFTER_WRITE", writes.to_string()));
    assert_ne!(out.code, Some(0));
    let s = Scratch::new();
    let out = run(up(&s).env("TWINUP_TEST_CRASH_AFTER_WRITE", (writes + 1).to_string()));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}
