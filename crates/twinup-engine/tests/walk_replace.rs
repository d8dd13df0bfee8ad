//! Replacement at the engine's boundary: a step whose `with` names another target creates the
//! new one, and once every step succeeded the old targets go, dependents first, with the kind's
//! `delete` on the old record; a failed delete fails the run, stays in the record (`replaced`)
//! and is finished by the next `up` or by `down`.

mod support;

use support::Harness;
use twinup_engine::checkpoint::RunStatus;

const PLAN: &str = r#"version: 1
name: replace
inputs:
  a: {type: string, default: a1}
  b: {type: string, default: b1}
steps:
  - id: first
    kind: test
    with: {id: "${inputs.a}"}
  - id: second
    kind: test
    needs: [first]
    with: {id: "${inputs.b}"}
"#;

fn log(h: &Harness) -> Vec<String> {
    h.script.log.lock().unwrap().clone()
}

#[tokio::test]
async fn old_targets_go_after_every_new_one_exists_dependents_first() {
    let h = Harness::with_plan(PLAN);
    assert_eq!(h.run().await.status, RunStatus::Succeeded);
    h.script.log.lock().unwrap().clear();
    let report = h.run_with(&["a=a2", "b=b2"], &Default::default()).await;
    assert_eq!(report.status, RunStatus::Succeeded, "{:?}", report.failures);
    let log = log(&h);
    let at = |e: &str| {
        log.iter()
            .position(|l| l == e)
            .unwrap_or_else(|| panic!("{e}: {log:?}"))
    };
    assert!(at("end:b2") < at("delete-start:b1"), "{log:?}");
    assert!(at("delete-end:b1") < at("delete-start:a1"), "{log:?}");
    let saved = h.saved().await;
    for step in ["first", "second"] {
        let outputs = saved.steps[step].outputs.as_ref().unwrap();
        assert!(outputs.get("replaced").is_none(), "{step}: {outputs:?}");
    }
}

#[tokio::test]
async fn a_failed_delete_of_an_old_target_is_kept_and_finished_by_the_next_run() {
    let h = Harness::with_plan(PLAN);
    assert_eq!(h.run().await.status, RunStatus::Succeeded);
    h.script.fail_delete.lock().unwrap().insert("b1".into());
    let report = h.run_with(&["a=a2", "b=b2"], &Default::default()).await;
    assert_eq!(report.status, RunStatus::Failed);
    assert_eq!(report.failures[0].0, "second");
    // What the old one lives in is not deleted before it.
    assert!(
        !log(&h).contains(&"delete-start:a1".to_string()),
        "{:?}",
        log(&h)
    );
    let saved = h.saved().await;
    let outputs = saved.steps["second"].outputs.as_ref().unwrap();
    assert_eq!(outputs["replaced"]["target"], "b1", "{outputs:?}");

    h.script.fail_delete.lock().unwrap().clear();
    let report = h.run_with(&["a=a2", "b=b2"], &Default::default()).await;
    assert_eq!(report.status, RunStatus::Succeeded, "{:?}", report.failures);
    assert_eq!(h.deletes(), vec!["b1", "b1", "a1"]);
}

/// A step run again for another reason (an input that names no target changed) before its
/// old target was deleted keeps that leftover recorded, so the run still deletes it.
#[tokio::test]
async fn a_step_run_again_before_its_old_target_was_deleted_still_deletes_it() {
    let plan = PLAN.replace(
        "with: {id: \"${inputs.b}\"}",
        "with: {id: \"${inputs.b}\", note: \"${inputs.n}\"}",
    );
    let plan = plan.replace("steps:", "  n: {type: string, default: n1}\nsteps:");
    let h = Harness::with_plan(&plan);
    assert_eq!(h.run().await.status, RunStatus::Succeeded);
    h.script.fail_delete.lock().unwrap().insert("b1".into());
    let report = h.run_with(&["b=b2"], &Default::default()).await;
    assert_eq!(report.status, RunStatus::Failed);

    h.script.fail_delete.lock().unwrap().clear();
    let report = h.run_with(&["b=b2", "n=n2"], &Default::default()).await;
    assert_eq!(report.status, RunStatus::Succeeded, "{:?}", report.failures);
    assert_eq!(h.deletes(), vec!["b1", "b1"], "the old target is deleted");
    let saved = h.saved().await;
    let outputs = saved.steps["second"].outputs.as_ref().unwrap();
    assert!(outputs.get("replaced").is_none(), "{outputs:?}");
}

/// Changed back to the old target before it was deleted: the old target is what the step
/// uses again, so the run's end does not delete it, and it is still the deployment's own.
#[tokio::test]
async fn a_target_changed_back_to_before_it_was_deleted_is_kept_and_still_owned() {
    let h = Harness::with_plan(PLAN);
    assert_eq!(h.run().await.status, RunStatus::Succeeded);
    h.script.fail_delete.lock().unwrap().insert("b1".into());
    let report = h.run_with(&["b=b2"], &Default::default()).await;
    assert_eq!(report.status, RunStatus::Failed);
    h.script.fail_delete.lock().unwrap().clear();

    let report = h.run_with(&["b=b1"], &Default::default()).await;
    assert_eq!(report.status, RunStatus::Succeeded, "{:?}", report.failures);
    // b2 (made by the second run, replaced now) goes; b1, in use again, stays.
    assert_eq!(
        h.deletes(),
        vec!["b1", "b2"],
        "the failed b1 and then b2 only"
    );
    let saved = h.saved().await;
    let outputs = saved.steps["second"].outputs.as_ref().unwrap();
    assert_eq!(outputs["target"], "b1", "{outputs:?}");
    assert_eq!(
        outputs["created"], true,
        "b1 is still the deployment's: {outputs:?}"
    );
    assert!(outputs.get("replaced").is_none(), "{outputs:?}");
}
