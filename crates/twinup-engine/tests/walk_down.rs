//! `down` at the engine's boundary: dependents before what they depend on, every created step
//! deleted once, nothing found ever deleted, and every way a step cannot be deleted recorded
//! in the checkpoint and reported, as `up` records and reports its failures.

mod support;

use std::sync::Arc;

use proptest::prelude::*;
use serde_json::json;
use support::{Harness, Recorded, registry};
use twinup_engine::checkpoint::{RunStatus, StepState};
use twinup_engine::{KindRegistry, RunConfig};

#[tokio::test]
async fn down_deletes_dependents_first_and_resets_every_step() {
    let h = Harness::new(&[vec![], vec![0], vec![1]]);
    assert_eq!(h.run().await.status, RunStatus::Succeeded);
    let report = h.down().await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.deleted, vec!["s2", "s1", "s0"]);
    let saved = h.saved().await;
    for id in ["s0", "s1", "s2"] {
        assert_eq!(saved.steps[id].state, StepState::Pending, "{id}");
    }
    assert!(saved.last_run.is_none());
}

#[tokio::test]
async fn down_keeps_what_it_found() {
    let h = Harness::new(&[vec![], vec![0]]);
    h.script.found.lock().unwrap().insert("s0".into());
    h.run().await;
    let report = h.down().await;
    assert_eq!(report.deleted, vec!["s1"]);
    assert_eq!(report.kept.len(), 1);
    assert_eq!(report.kept[0].0, "s0");
    assert_eq!(h.deletes(), vec!["s1"]);
}

#[tokio::test]
async fn a_failed_delete_is_recorded_and_a_rerun_of_down_resumes_it() {
    let h = Harness::new(&[vec![]]);
    h.run().await;
    h.script
        .delete_with_token
        .lock()
        .unwrap()
        .insert("s0".into());
    h.script.fail_delete.lock().unwrap().insert("s0".into());
    let report = h.down().await;
    assert_eq!(report.failures.len(), 1);
    let saved = h.saved().await;
    assert_eq!(saved.steps["s0"].state, StepState::Failed);
    assert_eq!(
        saved.steps["s0"].resume_token,
        Some(json!({"twinup_delete": {"delete": "s0"}}))
    );
    assert_eq!(twinup_engine::unfinished_deletes(&saved), vec!["s0"]);

    h.script.fail_delete.lock().unwrap().clear();
    h.script.calls.lock().unwrap().clear();
    let report = h.down().await;
    assert_eq!(report.deleted, vec!["s0"]);
    let calls = h.script.calls.lock().unwrap().clone();
    assert_eq!(
        calls,
        vec![support::Call::Delete(
            "s0".into(),
            Some(json!({"delete": "s0"}))
        )]
    );
}

/// Drift fixed by the one walker: `down` neither recorded nor reported a step whose kind it
/// does not know.
#[tokio::test]
async fn down_records_and_reports_a_step_of_an_unknown_kind() {
    let h = Harness::new(&[vec![]]);
    h.run().await;
    let events = Arc::new(Recorded::default());
    let report = h
        .down_in(&reporting_to(&events), &KindRegistry::with_builtins())
        .await;
    assert_eq!(report.failures.len(), 1);
    assert!(
        report.failures[0]
            .1
            .message
            .contains("unknown step kind `test`")
    );
    assert_eq!(events.failed_steps(), vec!["s0"], "the failure is reported");
    let saved = h.saved().await;
    let error = saved.steps["s0"]
        .error
        .as_ref()
        .expect("the failure is recorded");
    assert!(
        error.message.contains("unknown step kind `test`"),
        "{error:?}"
    );
}

/// Drift fixed by the one walker: `down` did not record why it refused a step that `up` left
/// in flight. The record keeps its state and token so `up` still resumes the operation.
#[tokio::test]
async fn down_records_why_it_is_blocked_and_keeps_the_operation_in_flight() {
    let h = Harness::new(&[vec![]]);
    h.script.hang_with_token.lock().unwrap().insert("s0".into());
    let config = RunConfig::default();
    let cancel = config.cancel.clone();
    let script = h.script.clone();
    let watcher = tokio::spawn(async move {
        while script.calls.lock().unwrap().is_empty() {
            tokio::task::yield_now().await;
        }
        cancel.cancel();
    });
    assert_eq!(
        h.run_with(&[], &config).await.status,
        RunStatus::Interrupted
    );
    watcher.await.unwrap();

    let events = Arc::new(Recorded::default());
    let report = h
        .down_in(&reporting_to(&events), &registry(&h.script))
        .await;
    assert_eq!(report.failures.len(), 1);
    assert_eq!(events.failed_steps(), vec!["s0"]);
    let saved = h.saved().await;
    let record = &saved.steps["s0"];
    let error = record.error.as_ref().expect("the refusal is recorded");
    assert!(error.message.contains("still in flight"), "{error:?}");
    assert_eq!(record.state, StepState::Running);
    assert_eq!(record.resume_token, Some(json!({"operation": "s0"})));
    assert!(h.deletes().is_empty());
}

/// Drift fixed by the one walker: a delete that panicked was reported as `<unknown>`, "a
/// delete crashed", its message lost, and its record left as it was.
#[tokio::test]
async fn a_panicking_delete_is_reported_with_its_step_and_message() {
    let h = Harness::new(&[vec![]]);
    h.run().await;
    h.script.panic.lock().unwrap().insert("s0".into());
    let report = h.down().await;
    assert_eq!(report.failures.len(), 1);
    assert_crash_recorded(&h, &report.failures).await;
}

/// The crashed step `s0` is named with its panic's message and recorded failed.
async fn assert_crash_recorded(h: &Harness, failures: &[(String, twinup_engine::StepError)]) {
    let (step, error) = &failures[0];
    assert_eq!(step, "s0");
    assert!(
        error.message.contains("s0 panicked on purpose"),
        "{error:?}"
    );
    let saved = h.saved().await;
    assert_eq!(saved.steps["s0"].state, StepState::Failed);
}

/// The same for `up`: the step is named and recorded failed, not left `running`.
#[tokio::test]
async fn a_panicking_step_is_reported_with_its_step_and_message() {
    let h = Harness::new(&[vec![]]);
    h.script.panic.lock().unwrap().insert("s0".into());
    let report = h.run().await;
    assert_eq!(report.status, RunStatus::Failed);
    assert_crash_recorded(&h, &report.failures).await;
}

/// Runs `down` in this process with the crash hook armed (see the test below); a no-op when
/// not started by it.
#[tokio::test]
async fn child_down_that_crashes_after_the_delete_token() {
    let Ok(dir) = std::env::var("TWINUP_ENGINE_TEST_DIR") else {
        return;
    };
    let h = Harness::new(&[vec![]]);
    let h = Harness {
        dir: tempfile::TempDir::new_in(&dir).expect("tempdir"),
        ..h
    };
    std::fs::copy(
        std::path::Path::new(&dir).join("cp.json"),
        h.dir.path().join("cp.json"),
    )
    .expect("copy checkpoint");
    h.script
        .delete_with_token
        .lock()
        .unwrap()
        .insert("s0".into());
    h.down().await;
    // Only reached when the hook did not fire: say so in the parent's assertion.
    std::fs::write(std::path::Path::new(&dir).join("survived"), "").unwrap();
}

/// Drift fixed by the one walker: `down`'s token recorder skipped the crash hook `up` has,
/// so the crash matrix could not stop a `down` right after its delete token was durable.
#[tokio::test]
async fn the_crash_hook_after_a_token_applies_to_down() {
    let h = Harness::new(&[vec![]]);
    h.run().await;
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_down_that_crashes_after_the_delete_token",
            "--nocapture",
        ])
        .env("TWINUP_ENGINE_TEST_DIR", h.dir.path())
        .env("TWINUP_TEST_CRASH_AFTER_TOKEN", "s0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run the child");
    assert!(!status.success(), "the child must die at the hook");
    assert!(
        !h.dir.path().join("survived").exists(),
        "down went on past the token"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]
    #[test]
    fn down_deletes_each_created_step_once_dependents_first_and_nothing_found(
        (deps, found) in support::dag(10).prop_flat_map(|deps| {
            let n = deps.len();
            (Just(deps), proptest::collection::vec(any::<bool>(), n))
        }),
        parallelism in 1usize..5,
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async {
            let h = Harness::new(&deps);
            for (i, f) in found.iter().enumerate() {
                if *f {
                    h.script.found.lock().unwrap().insert(format!("s{i}"));
                }
            }
            prop_assert_eq!(h.run().await.status, RunStatus::Succeeded);
            let config = RunConfig { parallelism, ..RunConfig::default() };
            let report = h.down_in(&config, &registry(&h.script)).await;
            prop_assert!(report.failures.is_empty(), "{:?}", report.failures);
            let mut deleted = h.deletes();
            deleted.sort();
            let mut created: Vec<String> = (0..deps.len()).filter(|i| !found[*i]).map(|i| format!("s{i}")).collect();
            created.sort();
            prop_assert_eq!(&deleted, &created, "every created step deleted once, nothing found");
            let log = h.script.log.lock().unwrap().clone();
            let at = |entry: String| log.iter().position(|e| *e == entry);
            for (i, ds) in deps.iter().enumerate() {
                for d in ds {
                    if let (Some(end), Some(start)) = (at(format!("delete-end:s{i}")), at(format!("delete-start:s{d}"))) {
                        prop_assert!(end < start, "s{} deleted before its dependent s{}: {:?}", d, i, log);
                    }
                }
            }
            Ok(())
        })?;
    }
}

/// Drift fixed by the expanded-plan type: `down` (and `disposals`, `verify`, `preview`,
/// `refresh`) left `for_each` expansion to the caller, and a caller that forgot deleted none
/// of the items.
#[tokio::test]
async fn down_deletes_every_item_of_a_for_each_step() {
    let h = Harness::with_plan(
        "version: 1\nname: p\ninputs:\n  names:\n    type: list\n    default: [a, b]\nsteps:\n  - id: item\n    kind: test\n    for_each: ${inputs.names}\n    with:\n      id: item-${each.value}\n",
    );
    assert_eq!(h.run().await.status, RunStatus::Succeeded);
    let report = h.down().await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let mut deleted = h.deletes();
    deleted.sort();
    assert_eq!(deleted, vec!["item-a", "item-b"]);
}

/// The default config, reporting to `events`.
fn reporting_to(events: &Arc<Recorded>) -> RunConfig {
    RunConfig {
        events: events.clone(),
        ..RunConfig::default()
    }
}
