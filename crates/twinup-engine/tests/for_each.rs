//! `for_each` in the executor: every item of a repeated step has its own state in the
//! checkpoint, so a failed or interrupted fleet continues with the items not done yet, items
//! added later run alone, and a changed item reruns only that item and what depends on it.

mod support;

use serde_json::{Value, json};
use support::{Call, Harness};
use twinup_engine::checkpoint::{Checkpoint, RunStatus, StepState};
use twinup_engine::{RunConfig, RunReport};

/// A group step, one instance per customer after it, and one role per customer that waits for
/// that customer's instance only.
const FLEET: &str = r#"version: 1
name: fleet-test
inputs:
  customers:
    type: map
steps:
  - id: group
    kind: test
    with:
      id: group
  - id: instance
    kind: test
    for_each: ${inputs.customers}
    needs: [group]
    with:
      id: inst-${each.key}
      input: ${each.value.location}
  - id: role
    kind: test
    for_each: ${inputs.customers}
    with:
      id: role-${each.key}
      input: ${steps.instance[each.key].outputs.value}
"#;

struct Fleet(Harness);

impl Fleet {
    fn new() -> Fleet {
        Fleet(Harness::with_plan(FLEET))
    }

    async fn run(&self, customers: Value, config: &RunConfig) -> RunReport {
        self.0.script.calls.lock().unwrap().clear();
        let set = format!("customers={customers}");
        self.0.run_with(&[set.as_str()], config).await
    }

    async fn checkpoint(&self) -> Checkpoint {
        self.0.saved().await
    }

    /// The ids the test kind was asked to apply (not resume), sorted.
    fn applied(&self) -> Vec<String> {
        let mut ids = self.0.applies();
        ids.sort();
        ids
    }
}

fn customers(keys: &[(&str, &str)]) -> Value {
    Value::Object(
        keys.iter()
            .map(|(k, loc)| (k.to_string(), json!({ "location": loc })))
            .collect(),
    )
}

/// The checkpoint record id of an item (whatever the expansion names it): the one step id
/// that starts with `step` and mentions `key`.
fn item_id(cp: &Checkpoint, step: &str, key: &str) -> String {
    let found: Vec<&String> = cp
        .steps
        .keys()
        .filter(|id| id.starts_with(step) && id.as_str() != step && id.contains(key))
        .collect();
    assert_eq!(found.len(), 1, "one record for {step} of {key}: {found:?}");
    found[0].clone()
}

fn state(cp: &Checkpoint, step: &str, key: &str) -> StepState {
    cp.steps[&item_id(cp, step, key)].state
}

#[tokio::test]
async fn each_item_has_its_own_record_and_a_rerun_after_a_failure_runs_only_what_is_left() {
    let f = Fleet::new();
    let three = customers(&[("a", "westus2"), ("b", "westus2"), ("c", "westeurope")]);
    f.0.script.fail.lock().unwrap().insert("inst-b".into());
    let report = f.run(three.clone(), &RunConfig::default()).await;
    assert_eq!(report.status, RunStatus::Failed);

    let cp = f.checkpoint().await;
    // group + 3 instances + 3 roles, each with its own record.
    assert_eq!(cp.steps.len(), 7, "{:?}", cp.steps.keys());
    assert_eq!(state(&cp, "instance", "b"), StepState::Failed);
    assert_ne!(state(&cp, "role", "b"), StepState::Succeeded);
    let done_before: Vec<String> = cp
        .steps
        .iter()
        .filter(|(_, r)| r.state == StepState::Succeeded)
        .map(|(id, _)| id.clone())
        .collect();
    assert!(
        done_before.len() >= 2,
        "group and at least one instance: {done_before:?}"
    );

    f.0.script.fail.lock().unwrap().clear();
    let report = f.run(three, &RunConfig::default()).await;
    assert_eq!(report.status, RunStatus::Succeeded);
    // Nothing that succeeded the first time runs again; instance b and the roles not done do.
    let applied = f.applied();
    assert!(applied.contains(&"inst-b".to_string()), "{applied:?}");
    assert!(applied.contains(&"role-b".to_string()), "{applied:?}");
    assert!(!applied.contains(&"group".to_string()), "{applied:?}");
    for id in &done_before {
        assert!(
            !report.ran.contains(id),
            "{id} had succeeded and must not run again: {:?}",
            report.ran
        );
    }
    let cp = f.checkpoint().await;
    assert!(cp.steps.values().all(|r| r.state == StepState::Succeeded));
    // Each role saw its own customer's instance.
    for key in ["a", "b", "c"] {
        let outputs = cp.steps[&item_id(&cp, "role", key)]
            .outputs
            .clone()
            .unwrap();
        let value = outputs["value"].as_str().unwrap().to_string();
        assert!(value.contains(&format!("inst-{key}")), "{key}: {value}");
    }
}

#[tokio::test]
async fn an_added_item_runs_alone_and_a_changed_item_reruns_only_its_own_steps() {
    let f = Fleet::new();
    let two = customers(&[("a", "westus2"), ("b", "westus2")]);
    assert_eq!(
        f.run(two, &RunConfig::default()).await.status,
        RunStatus::Succeeded
    );
    assert_eq!(
        f.applied(),
        ["group", "inst-a", "inst-b", "role-a", "role-b"]
    );

    let three = customers(&[("a", "westus2"), ("b", "westus2"), ("c", "westus2")]);
    assert_eq!(
        f.run(three, &RunConfig::default()).await.status,
        RunStatus::Succeeded
    );
    assert_eq!(f.applied(), ["inst-c", "role-c"]);

    // b moves: its instance and (through the instance's output) its role run again.
    let moved = customers(&[("a", "westus2"), ("b", "westeurope"), ("c", "westus2")]);
    let report = f.run(moved, &RunConfig::default()).await;
    assert_eq!(report.status, RunStatus::Succeeded);
    assert_eq!(f.applied(), ["inst-b", "role-b"]);
}

#[tokio::test]
async fn an_interrupted_fleet_resumes_the_item_in_flight_and_starts_no_finished_one_again() {
    let f = Fleet::new();
    let three = customers(&[("a", "westus2"), ("b", "westus2"), ("c", "westus2")]);
    f.0.script
        .hang_with_token
        .lock()
        .unwrap()
        .insert("inst-b".into());
    let config = RunConfig {
        parallelism: 1,
        ..RunConfig::default()
    };
    let cancel = config.cancel.clone();
    let script = f.0.script.clone();
    // Cancel (as Ctrl-C would) once instance b has saved its token.
    let watcher = tokio::spawn(async move {
        loop {
            let started = script
                .calls
                .lock()
                .unwrap()
                .iter()
                .any(|c| *c == Call::Apply("inst-b".into()));
            if started {
                break;
            }
            tokio::task::yield_now().await;
        }
        cancel.cancel();
    });
    let report = f.run(three.clone(), &config).await;
    watcher.await.unwrap();
    assert_eq!(report.status, RunStatus::Interrupted);
    let cp = f.checkpoint().await;
    let b = &cp.steps[&item_id(&cp, "instance", "b")];
    assert_eq!(b.state, StepState::Running);
    assert_eq!(b.resume_token, Some(json!({"operation": "inst-b"})));
    let finished: Vec<String> = cp
        .steps
        .iter()
        .filter(|(_, r)| r.state == StepState::Succeeded)
        .map(|(id, _)| id.clone())
        .collect();

    let report = f.run(three, &RunConfig::default()).await;
    assert_eq!(report.status, RunStatus::Succeeded);
    let calls = f.0.script.calls.lock().unwrap().clone();
    assert_eq!(
        calls
            .iter()
            .filter(|c| matches!(c, Call::Resume(..)))
            .collect::<Vec<_>>(),
        [&Call::Resume(
            "inst-b".into(),
            json!({"operation": "inst-b"})
        )],
        "instance b continues its saved work"
    );
    assert!(!f.applied().contains(&"inst-b".to_string()));
    for id in &finished {
        assert!(!report.ran.contains(id), "{id} ran twice: {:?}", report.ran);
    }
    let cp = f.checkpoint().await;
    assert!(cp.steps.values().all(|r| r.state == StepState::Succeeded));
}
