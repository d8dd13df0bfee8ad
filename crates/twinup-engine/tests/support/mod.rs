//! Shared helpers for the engine's tests: an in-memory step kind that records what it was
//! asked to do, and plan builders.

#![allow(dead_code)]

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::{Value, json};
use twinup_engine::{
    FieldError, KindRegistry, LiveState, Outputs, StepContext, StepError, StepKind,
};

/// One call a test kind received.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    Apply(String),
    Resume(String, Value),
}

/// Shared record of what the test kind did, and how it should behave.
#[derive(Default)]
pub struct Script {
    pub calls: Mutex<Vec<Call>>,
    /// `start:ID` and `end:ID` entries in the order they happened.
    pub log: Mutex<Vec<String>>,
    pub fail: Mutex<HashSet<String>>,
    /// Steps that save a token and then wait until the run is cancelled.
    pub hang_with_token: Mutex<HashSet<String>>,
    pub in_flight: Mutex<usize>,
    pub max_in_flight: Mutex<usize>,
}

/// A step kind named `test` driven by a [`Script`].
pub struct TestKind(pub Arc<Script>);

fn id_of(with: &Value) -> String {
    with.get("id")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string()
}

#[async_trait]
impl StepKind for TestKind {
    fn name(&self) -> &'static str {
        "test"
    }
    fn outputs(&self) -> &'static [&'static str] {
        &["value"]
    }
    fn validate(&self, with: &Value) -> Vec<FieldError> {
        match with.get("id") {
            Some(Value::String(_)) => vec![],
            _ => vec![FieldError::new("id", "missing `id`", "add `id:`")],
        }
    }
    async fn apply(&self, ctx: &StepContext, with: &Value) -> Result<Outputs, StepError> {
        let id = id_of(with);
        self.0.calls.lock().unwrap().push(Call::Apply(id.clone()));
        self.work(ctx, with, &id).await
    }
    async fn resume(
        &self,
        ctx: &StepContext,
        with: &Value,
        token: &Value,
    ) -> Result<Outputs, StepError> {
        let id = id_of(with);
        self.0
            .calls
            .lock()
            .unwrap()
            .push(Call::Resume(id.clone(), token.clone()));
        self.0.hang_with_token.lock().unwrap().remove(&id);
        self.work(ctx, with, &id).await
    }
    async fn read(&self, _ctx: &StepContext, _with: &Value) -> Result<LiveState, StepError> {
        Ok(LiveState::Absent)
    }
}

impl TestKind {
    async fn work(&self, ctx: &StepContext, with: &Value, id: &str) -> Result<Outputs, StepError> {
        self.0.log.lock().unwrap().push(format!("start:{id}"));
        {
            let mut n = self.0.in_flight.lock().unwrap();
            *n += 1;
            let mut max = self.0.max_in_flight.lock().unwrap();
            *max = (*max).max(*n);
        }
        // Give other ready steps the chance to start, so concurrency is observable.
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        let hang = self.0.hang_with_token.lock().unwrap().contains(id);
        let result = if hang {
            ctx.save_resume_token(json!({"operation": id})).await?;
            ctx.cancellation().cancelled().await;
            Err(StepError::interrupted())
        } else if self.0.fail.lock().unwrap().contains(id) {
            Err(StepError::failed(format!("{id} failed on purpose")).with_code("Boom"))
        } else {
            let input = with.get("input").cloned().unwrap_or(Value::Null);
            let mut out = Outputs::new();
            out.insert("value".into(), json!(format!("{id}:{input}")));
            Ok(out)
        };
        *self.0.in_flight.lock().unwrap() -= 1;
        if result.is_ok() {
            self.0.log.lock().unwrap().push(format!("end:{id}"));
        }
        result
    }
}

/// A registry with the test kind.
pub fn registry(script: &Arc<Script>) -> KindRegistry {
    let mut r = KindRegistry::with_builtins();
    r.register(Arc::new(TestKind(script.clone())));
    r
}

/// A plan of `test` steps; `deps[i]` lists the indexes step `s{i}` depends on.
pub fn plan_text(deps: &[Vec<usize>]) -> String {
    let mut text = String::from(
        "version: 1\nname: test-plan\ninputs:\n  seed:\n    type: string\n    default: x\nsteps:\n",
    );
    for (i, ds) in deps.iter().enumerate() {
        text.push_str(&format!("  - id: s{i}\n    kind: test\n"));
        if !ds.is_empty() {
            let needs: Vec<String> = ds.iter().map(|d| format!("s{d}")).collect();
            text.push_str(&format!("    needs: [{}]\n", needs.join(", ")));
        }
        text.push_str(&format!(
            "    with:\n      id: s{i}\n      input: ${{inputs.seed}}\n"
        ));
    }
    text
}
