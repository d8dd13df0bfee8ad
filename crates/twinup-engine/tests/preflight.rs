//! Preflight's confirmation requests: what steps ask to confirm before the run changes
//! anything comes back in plan order with the step's id, and secret inputs masked.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use twinup_engine::checkpoint::FileStore;
use twinup_engine::{
    Applied, FieldError, InputSources, KindRegistry, KindSchema, LiveState, NoEvents, Outputs,
    Session, StepContext, StepError, StepKind, expand_plan, preflight, resolve_inputs,
};
use twinup_plan::Plan;

/// A kind whose preflight asks to confirm its `ask` field, when it has one.
struct Asking;

impl KindSchema for Asking {
    fn name(&self) -> &'static str {
        "asking"
    }

    fn outputs(&self) -> &'static [&'static str] {
        &[]
    }

    fn validate(&self, _with: &Value) -> Vec<FieldError> {
        Vec::new()
    }
}

#[async_trait]
impl StepKind for Asking {
    fn schema(&self) -> &'static dyn KindSchema {
        &Asking
    }

    async fn preflight(&self, ctx: &StepContext, with: &Value) -> Result<(), StepError> {
        if let Some(text) = with.get("ask").and_then(Value::as_str) {
            ctx.ask_confirmation(text);
        }
        Ok(())
    }
    async fn apply(&self, _ctx: &StepContext, _with: &Value) -> Result<Applied, StepError> {
        Ok(Applied::created(Outputs::new()))
    }
    async fn read(&self, _ctx: &StepContext, _with: &Value) -> Result<LiveState, StepError> {
        Ok(LiveState::Absent)
    }
}

const PLAN: &str = "version: 1
name: asking
inputs:
  token:
    type: string
    secret: true
    default: hunter2
steps:
  - id: first
    kind: asking
    with:
      ask: 'disabling it stops what uses ${inputs.token}'
  - id: quiet
    kind: asking
    with: {}
  - id: second
    kind: asking
    needs: [first]
    with:
      ask: second thing
";

#[tokio::test]
async fn confirmations_come_back_in_plan_order_with_secrets_masked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plan = Plan::parse("plan.yaml", PLAN).expect("plan");
    let store = Arc::new(FileStore::new(dir.path().join("cp.json")));
    let session = Session::open(store, &plan).await.expect("open");
    let inputs = resolve_inputs(&plan, &InputSources::default(), None).expect("inputs");
    let expanded = expand_plan(&plan, &inputs).expect("expand");
    let mut registry = KindRegistry::with_builtins();
    registry.register(Arc::new(Asking));
    let asked = preflight(
        &expanded,
        &registry,
        &inputs,
        session.checkpoint(),
        Arc::new(NoEvents),
    )
    .await
    .expect("no failures");
    let ids: Vec<&str> = asked.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["first", "second"]);
    assert!(!asked[0].1.contains("hunter2"), "{asked:?}");
    assert_eq!(json!(asked[1].1), json!("second thing"));
}
