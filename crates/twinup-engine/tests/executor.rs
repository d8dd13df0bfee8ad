//! Executor behaviour: order, parallelism, failure handling, resume from tokens, skipping
//! unchanged steps, over hand-written and random step graphs.

mod support;

use proptest::prelude::*;
use serde_json::json;
use support::{Call, Harness};
use twinup_engine::checkpoint::{RunStatus, StepState};
use twinup_engine::{RunConfig, Session};

#[tokio::test]
async fn independent_steps_run_at_once_within_the_parallelism_bound() {
    let h = Harness::new(&[vec![], vec![], vec![], vec![], vec![], vec![]]);
    let config = RunConfig {
        parallelism: 3,
        ..RunConfig::default()
    };
    let report = h.run_with(&[], &config).await;
    assert_eq!(report.status, RunStatus::Succeeded);
    let max = *h.script.max_in_flight.lock().unwrap();
    assert!(
        max > 1,
        "independent steps should overlap, max in flight was {max}"
    );
    assert!(max <= 3, "parallelism 3 exceeded: {max}");
}

#[tokio::test]
async fn a_failure_stops_new_steps_and_a_rerun_retries_only_what_is_left() {
    // s0 and s1 independent; s2 after s0; s3 after s1.
    let h = Harness::new(&[vec![], vec![], vec![0], vec![1]]);
    h.script.fail.lock().unwrap().insert("s0".into());
    let report = h.run().await;
    assert_eq!(report.status, RunStatus::Failed);
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].0, "s0");
    assert!(
        !h.applies().contains(&"s2".to_string()),
        "s2 depends on the failed step"
    );

    let cp = h.store();
    let saved = twinup_engine::checkpoint::CheckpointStore::load(cp.as_ref())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(saved.steps["s0"].state, StepState::Failed);
    assert_eq!(
        saved.steps["s0"].error.as_ref().unwrap().code.as_deref(),
        Some("Boom")
    );
    assert_eq!(
        saved.steps["s1"].state,
        StepState::Succeeded,
        "sibling finished and was recorded"
    );

    h.script.fail.lock().unwrap().clear();
    h.script.calls.lock().unwrap().clear();
    let report = h.run().await;
    assert_eq!(report.status, RunStatus::Succeeded);
    let mut again = h.applies();
    again.sort();
    assert_eq!(
        again,
        vec!["s0", "s2", "s3"],
        "s1 succeeded before and is not applied again"
    );
}

#[tokio::test]
async fn a_rerun_with_unchanged_inputs_has_nothing_to_do() {
    let h = Harness::new(&[vec![], vec![0]]);
    assert_eq!(h.run().await.status, RunStatus::Succeeded);
    h.script.calls.lock().unwrap().clear();
    let report = h.run().await;
    assert!(report.nothing_to_do);
    assert!(h.script.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn changed_inputs_rerun_the_steps_they_reach() {
    let h = Harness::new(&[vec![], vec![0]]);
    h.run().await;
    h.script.calls.lock().unwrap().clear();
    let report = h.run_with(&["seed=y"], &RunConfig::default()).await;
    assert_eq!(report.status, RunStatus::Succeeded);
    assert!(!report.nothing_to_do);
    assert_eq!(h.applies(), vec!["s0", "s1"]);
}

#[tokio::test]
async fn an_interrupted_step_resumes_from_its_token_instead_of_starting_again() {
    let h = Harness::new(&[vec![], vec![0]]);
    h.script.hang_with_token.lock().unwrap().insert("s0".into());
    let config = RunConfig::default();
    let cancel = config.cancel.clone();
    let script = h.script.clone();
    // Cancel as soon as the token is durable, as Ctrl-C would.
    let watcher = tokio::spawn(async move {
        loop {
            if script.calls.lock().unwrap().len() == 1 {
                break;
            }
            tokio::task::yield_now().await;
        }
        cancel.cancel();
    });
    let report = h.run_with(&[], &config).await;
    watcher.await.unwrap();
    assert_eq!(report.status, RunStatus::Interrupted);

    let saved = twinup_engine::checkpoint::CheckpointStore::load(h.store().as_ref())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(saved.steps["s0"].state, StepState::Running);
    assert_eq!(
        saved.steps["s0"].resume_token,
        Some(json!({"operation": "s0"}))
    );

    h.script.calls.lock().unwrap().clear();
    let report = h.run().await;
    assert_eq!(report.status, RunStatus::Succeeded);
    let calls = h.script.calls.lock().unwrap().clone();
    assert_eq!(
        calls,
        vec![
            Call::Resume("s0".into(), json!({"operation": "s0"})),
            Call::Apply("s1".into())
        ]
    );
}

#[tokio::test]
async fn a_second_session_on_the_same_checkpoint_is_refused() {
    let h = Harness::new(&[vec![]]);
    let _first = Session::open(h.store(), &h.plan).await.expect("first");
    let second = Session::open(h.store(), &h.plan).await;
    let message = second.err().expect("second must fail").to_string();
    assert!(
        message.contains("in use by another twinup run"),
        "{message}"
    );
    assert!(
        message.contains(&format!("process {}", std::process::id())),
        "{message}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn every_step_runs_once_and_after_its_dependencies(deps in support::dag(12), parallelism in 1usize..5) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async {
            let h = Harness::new(&deps);
            let config = RunConfig { parallelism, ..RunConfig::default() };
            let report = h.run_with(&[], &config).await;
            prop_assert_eq!(report.status, RunStatus::Succeeded);
            let applies = h.applies();
            prop_assert_eq!(applies.len(), deps.len());
            let log = h.script.log.lock().unwrap().clone();
            let at = |entry: String| log.iter().position(|e| *e == entry).unwrap();
            for (i, ds) in deps.iter().enumerate() {
                for d in ds {
                    prop_assert!(at(format!("end:s{d}")) < at(format!("start:s{i}")),
                        "s{} started before its dependency s{} ended: {:?}", i, d, log);
                }
            }
            prop_assert!(*h.script.max_in_flight.lock().unwrap() <= parallelism);
            Ok(())
        })?;
    }
}
