//! The read-only walks at the engine's boundary: `preview` (what `up` would do), `verify`
//! (drift of what the checkpoint records) and `refresh` (what `up` reads before it skips
//! finished steps), and the comparison rule they share: values compare exactly unless the
//! kind normalises them.

mod support;

use serde_json::json;
use support::Harness;
use twinup_engine::checkpoint::StepState;
use twinup_engine::{Change, Drift, StepCheck};

#[tokio::test]
async fn preview_says_create_then_no_change_then_update() {
    let h = Harness::new(&[vec![], vec![0]]);
    let items = h.preview().await;
    assert_eq!(items[0].change, Change::Create);
    assert_eq!(items[1].change, Change::Create);
    h.run().await;
    let items = h.preview().await;
    assert!(
        items.iter().all(|i| i.change == Change::NoChange),
        "{items:?}"
    );
    h.set_live("s1", json!({"id": "s1", "input": "other"}));
    let items = h.preview().await;
    assert_eq!(items[0].change, Change::NoChange);
    let Change::Update { changes } = &items[1].change else {
        panic!("{items:?}")
    };
    assert_eq!(changes[0].field, "input");
}

#[tokio::test]
async fn preview_waits_on_outputs_not_known_yet() {
    let h = Harness::with_plan(
        "version: 1\nname: p\nsteps:\n  - id: a\n    kind: test\n    with:\n      id: a\n  - id: b\n    kind: test\n    with:\n      id: b\n      input: ${steps.a.outputs.value}\n",
    );
    let items = h.preview().await;
    assert_eq!(items[0].change, Change::Create);
    assert_eq!(
        items[1].change,
        Change::AfterDependencies {
            waiting_on: vec!["a".into()]
        }
    );
}

#[tokio::test]
async fn verify_reports_deleted_changed_and_dependent_steps() {
    let h = Harness::new(&[vec![], vec![0], vec![]]);
    h.run().await;
    assert!(h.verify().await.iter().all(|c| c.drift.is_none()));
    h.script.live.lock().unwrap().remove("s0");
    h.set_live("s2", json!({"id": "s2", "input": "y"}));
    let checks = h.verify().await;
    assert_eq!(checks[0].drift, Some(Drift::Deleted));
    assert_eq!(
        checks[1].drift,
        Some(Drift::DependencyDrifted {
            dependencies: vec!["s0".into()]
        })
    );
    assert!(matches!(checks[2].drift, Some(Drift::Changed { .. })));
}

#[tokio::test]
async fn verify_skips_steps_that_are_not_deployed() {
    let h = Harness::new(&[vec![], vec![0]]);
    h.script.fail.lock().unwrap().insert("s1".into());
    h.run().await;
    let checks = h.verify().await;
    assert!(checks[0].skipped.is_none());
    assert!(
        checks[1]
            .skipped
            .as_deref()
            .unwrap()
            .contains("not deployed (failed)")
    );
}

#[tokio::test]
async fn refresh_sets_deleted_steps_back_to_pending_and_changed_ones_to_update() {
    let h = Harness::new(&[vec![], vec![0], vec![]]);
    h.run().await;
    h.script.live.lock().unwrap().remove("s0");
    h.set_live("s2", json!({"id": "s2", "input": "y"}));
    let (found, checkpoint) = h.refresh().await;
    let drifted: Vec<&str> = found.iter().map(|c| c.step.as_str()).collect();
    assert_eq!(drifted, vec!["s0", "s1", "s2"]);
    assert_eq!(checkpoint.steps["s0"].state, StepState::Pending);
    assert_eq!(checkpoint.steps["s1"].state, StepState::Succeeded);
    assert_eq!(checkpoint.steps["s1"].input_hash, None);
    assert_eq!(checkpoint.steps["s2"].input_hash, None);
}

/// Drift fixed by moving comparison rules to kinds: the engine compared every string
/// case-insensitively (an Azure rule), so a kind whose values are case-sensitive never saw a
/// change of case.
#[tokio::test]
async fn values_compare_exactly_unless_the_kind_normalises_them() {
    let h = Harness::new(&[vec![]]);
    let checks = verify_after_change(&h, "s0", json!({"id": "s0", "input": "X"})).await;
    assert!(
        matches!(&checks[0].drift, Some(Drift::Changed { changes }) if changes[0].field == "input"),
        "{checks:?}"
    );
}

/// Drift fixed by moving comparison rules to kinds: fields whose name ends in `location`
/// ignored spaces and case in the engine, for every kind.
#[tokio::test]
async fn a_field_called_location_has_no_special_rule_in_the_engine() {
    let h = Harness::with_plan(
        "version: 1\nname: p\nsteps:\n  - id: a\n    kind: test\n    with:\n      id: a\n      location: West US 2\n",
    );
    let checks = verify_after_change(&h, "a", json!({"id": "a", "location": "westus2"})).await;
    assert!(
        matches!(checks[0].drift, Some(Drift::Changed { .. })),
        "{checks:?}"
    );
}

/// Deploys, then makes step `id` read back as `live`, then verifies.
async fn verify_after_change(h: &Harness, id: &str, live: serde_json::Value) -> Vec<StepCheck> {
    h.run().await;
    h.set_live(id, live);
    h.verify().await
}
