//! Shared helpers for the engine's tests: an in-memory step kind that records what it was
//! asked to do, and plan builders.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::{Value, json};
use twinup_engine::checkpoint::{Checkpoint, CheckpointStore, FileStore};
use twinup_engine::{
    Applied, DestroyReport, Event, EventSink, FieldError, InputSources, KindRegistry, KindSchema,
    LiveState, Outputs, PreviewItem, Replacement, ResolvedInputs, RunConfig, RunReport, Session,
    StepCheck, StepContext, StepError, StepKind, Steps, created_by_step, destroy, expand_plan,
    preview, refresh, resolve_inputs, run, saved_inputs, verify,
};
use twinup_plan::Plan;

/// One call a test kind received.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    Apply(String),
    Resume(String, Value),
    Delete(String, Option<Value>),
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
    /// Steps whose target already existed: `apply` reports `created: false`.
    pub found: Mutex<HashSet<String>>,
    /// Live properties by id, as `read` reports them; an id not here reads as absent.
    pub live: Mutex<HashMap<String, Value>>,
    /// Steps whose `apply` or `delete` panics with `<id> panicked on purpose`.
    pub panic: Mutex<HashSet<String>>,
    /// Steps whose `delete` saves the token `{"delete": ID}` before deleting.
    pub delete_with_token: Mutex<HashSet<String>>,
    /// Steps whose `delete` fails.
    pub fail_delete: Mutex<HashSet<String>>,
}

/// A step kind named `test` driven by a [`Script`].
pub struct TestKind(pub Arc<Script>);

fn id_of(with: &Value) -> String {
    with.get("id")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string()
}

/// The schema of `TestKind` steps: name, fields, outputs, comparison; needs no connection.
pub struct TestSchema;

impl KindSchema for TestSchema {
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
}

#[async_trait]
impl StepKind for TestKind {
    fn schema(&self) -> &'static dyn KindSchema {
        &TestSchema
    }

    async fn apply(&self, ctx: &StepContext, with: &Value) -> Result<Applied, StepError> {
        let id = id_of(with);
        self.0.calls.lock().unwrap().push(Call::Apply(id.clone()));
        if self.0.panic.lock().unwrap().contains(&id) {
            panic!("{id} panicked on purpose");
        }
        self.work(ctx, with, &id).await
    }
    async fn resume(
        &self,
        ctx: &StepContext,
        with: &Value,
        token: &Value,
    ) -> Result<Applied, StepError> {
        let id = id_of(with);
        self.0
            .calls
            .lock()
            .unwrap()
            .push(Call::Resume(id.clone(), token.clone()));
        self.0.hang_with_token.lock().unwrap().remove(&id);
        self.work(ctx, with, &id).await
    }
    fn replacement(&self, ctx: &StepContext, with: &Value) -> Option<Replacement> {
        let recorded = recorded_target(ctx)?;
        let id = id_of(with);
        (recorded != id).then(|| Replacement {
            from: recorded,
            to: id,
            deletes_old: ctx.previous_outputs().and_then(created_by_step) == Some(true),
            deletes_first: false,
        })
    }
    async fn read(&self, _ctx: &StepContext, with: &Value) -> Result<LiveState, StepError> {
        Ok(match self.0.live.lock().unwrap().get(&id_of(with)) {
            Some(properties) => LiveState::Present {
                properties: properties.clone(),
            },
            None => LiveState::Absent,
        })
    }
    async fn delete(
        &self,
        ctx: &StepContext,
        with: &Value,
        token: Option<&Value>,
    ) -> Result<(), StepError> {
        // What the record names (the target a replacement left behind, say).
        let id = recorded_target(ctx).unwrap_or_else(|| id_of(with));
        self.0
            .calls
            .lock()
            .unwrap()
            .push(Call::Delete(id.clone(), token.cloned()));
        if self.0.panic.lock().unwrap().contains(&id) {
            panic!("{id} panicked on purpose");
        }
        self.0
            .log
            .lock()
            .unwrap()
            .push(format!("delete-start:{id}"));
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        if self.0.delete_with_token.lock().unwrap().contains(&id) {
            ctx.save_resume_token(json!({ "delete": id })).await?;
        }
        if self.0.fail_delete.lock().unwrap().contains(&id) {
            return Err(StepError::failed(format!("{id} delete failed on purpose")));
        }
        self.0.live.lock().unwrap().remove(&id);
        self.0.log.lock().unwrap().push(format!("delete-end:{id}"));
        Ok(())
    }
}

/// The id a step's record says it made.
fn recorded_target(ctx: &StepContext) -> Option<String> {
    ctx.previous_outputs()?
        .get("target")?
        .as_str()
        .map(str::to_string)
}

impl TestKind {
    async fn work(&self, ctx: &StepContext, with: &Value, id: &str) -> Result<Applied, StepError> {
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
            let found = self.0.found.lock().unwrap().contains(id);
            let mut out = Outputs::new();
            out.insert("value".into(), json!(format!("{id}:{input}")));
            out.insert("target".into(), json!(id));
            self.0
                .live
                .lock()
                .unwrap()
                .insert(id.to_string(), with.clone());
            Ok(if found {
                Applied::not_ours(out)
            } else {
                Applied::created(out)
            })
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

/// Collects every event a walk reports.
#[derive(Default)]
pub struct Recorded(pub Mutex<Vec<Event>>);

impl EventSink for Recorded {
    fn emit(&self, event: Event) {
        self.0.lock().unwrap().push(event);
    }
}

impl Recorded {
    /// The steps a `StepFailed` event was reported for.
    pub fn failed_steps(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                Event::StepFailed { step, .. } => Some(step.clone()),
                _ => None,
            })
            .collect()
    }
}

/// A plan, a checkpoint in a temporary directory and a scripted test kind: every walk of the
/// engine (up, down, preview, verify, refresh) run the way the binary runs it.
pub struct Harness {
    pub dir: tempfile::TempDir,
    pub plan: Plan,
    pub script: Arc<Script>,
}

impl Harness {
    /// A harness over a plan of `test` steps (see [`plan_text`]).
    pub fn new(deps: &[Vec<usize>]) -> Harness {
        Harness::with_plan(&plan_text(deps))
    }

    /// A harness over the plan `text`.
    pub fn with_plan(text: &str) -> Harness {
        Harness {
            dir: tempfile::tempdir().expect("tempdir"),
            plan: Plan::parse("test.yaml", text).expect("valid plan"),
            script: Arc::new(Script::default()),
        }
    }

    pub fn store(&self) -> Arc<FileStore> {
        Arc::new(FileStore::new(self.dir.path().join("cp.json")))
    }

    /// The checkpoint as saved.
    pub async fn saved(&self) -> Checkpoint {
        CheckpointStore::load(self.store().as_ref())
            .await
            .expect("load")
            .expect("a checkpoint")
    }

    fn resolve(&self, session: &Session, set: &[&str]) -> ResolvedInputs {
        let sources = InputSources {
            set: set.iter().map(|s| s.to_string()).collect(),
            saved: session.saved_inputs(),
            ..Default::default()
        };
        resolve_inputs(&self.plan, &sources, None).expect("inputs")
    }

    /// `up` with `--set` values `set`.
    pub async fn run_with(&self, set: &[&str], config: &RunConfig) -> RunReport {
        self.run_in(set, config, &registry(&self.script)).await
    }

    /// `up` with defaults.
    pub async fn run(&self) -> RunReport {
        self.run_with(&[], &RunConfig::default()).await
    }

    /// `up` with a given config (and its event sink) and registry.
    pub async fn run_in(
        &self,
        set: &[&str],
        config: &RunConfig,
        registry: &KindRegistry,
    ) -> RunReport {
        let mut session = Session::open(self.store(), &self.plan).await.expect("open");
        let inputs = self.resolve(&session, set);
        let plan = expand_plan(&self.plan, &inputs).expect("expand");
        run(&mut session, Steps::new(&plan, registry, &inputs), config)
            .await
            .expect("run")
    }

    /// `down` with the inputs the checkpoint saved.
    pub async fn down(&self) -> DestroyReport {
        self.down_in(&RunConfig::default(), &registry(&self.script))
            .await
    }

    /// `down` with a given config (and its event sink) and registry.
    pub async fn down_in(&self, config: &RunConfig, registry: &KindRegistry) -> DestroyReport {
        let mut session = Session::open(self.store(), &self.plan).await.expect("open");
        let inputs = saved_inputs(&self.plan, session.checkpoint());
        let plan = expand_plan(&self.plan, &inputs).expect("expand");
        destroy(&mut session, Steps::new(&plan, registry, &inputs), config)
            .await
            .expect("down")
    }

    /// `verify` with the inputs the checkpoint saved.
    pub async fn verify(&self) -> Vec<StepCheck> {
        let checkpoint = self.saved().await;
        let inputs = saved_inputs(&self.plan, &checkpoint);
        let plan = expand_plan(&self.plan, &inputs).expect("expand");
        verify(
            Steps::new(&plan, &registry(&self.script), &inputs),
            &checkpoint,
        )
        .await
    }

    /// `preview` with default inputs and the saved checkpoint (or none).
    pub async fn preview(&self) -> Vec<PreviewItem> {
        let session = Session::open(self.store(), &self.plan).await.expect("open");
        let inputs = self.resolve(&session, &[]);
        let plan = expand_plan(&self.plan, &inputs).expect("expand");
        preview(
            Steps::new(&plan, &registry(&self.script), &inputs),
            session.checkpoint(),
        )
        .await
    }

    /// The refresh `up` does before it skips finished steps; returns the drift and the
    /// checkpoint as the refresh left it (in memory).
    pub async fn refresh(&self) -> (Vec<StepCheck>, Checkpoint) {
        let mut session = Session::open(self.store(), &self.plan).await.expect("open");
        let inputs = self.resolve(&session, &[]);
        let plan = expand_plan(&self.plan, &inputs).expect("expand");
        let found = refresh(
            &mut session,
            Steps::new(&plan, &registry(&self.script), &inputs),
        )
        .await;
        (found, session.checkpoint().clone())
    }

    /// Makes step `id`'s target read back as `properties` from now on.
    pub fn set_live(&self, id: &str, properties: Value) {
        self.script
            .live
            .lock()
            .unwrap()
            .insert(id.into(), properties);
    }

    /// The ids `apply` was called with, in order.
    pub fn applies(&self) -> Vec<String> {
        self.calls(|c| match c {
            Call::Apply(id) => Some(id.clone()),
            _ => None,
        })
    }

    /// The ids `delete` was called with, in order.
    pub fn deletes(&self) -> Vec<String> {
        self.calls(|c| match c {
            Call::Delete(id, _) => Some(id.clone()),
            _ => None,
        })
    }

    fn calls(&self, pick: impl Fn(&Call) -> Option<String>) -> Vec<String> {
        self.script
            .calls
            .lock()
            .unwrap()
            .iter()
            .filter_map(pick)
            .collect()
    }
}

/// Random DAGs of 1 to `max_steps - 1` steps: each step may depend on up to three earlier ones.
pub fn dag(max_steps: usize) -> impl proptest::strategy::Strategy<Value = Vec<Vec<usize>>> {
    use proptest::strategy::Strategy;
    (1usize..max_steps).prop_flat_map(|n| {
        (0..n)
            .map(|i| proptest::sample::subsequence((0..i).collect::<Vec<_>>(), 0..=i.min(3)))
            .collect::<Vec<_>>()
    })
}
