//! The one walk over a plan's step graph, in the manner of Terraform's graph walk: `up`,
//! `down`, `preview`, `verify` and the drift refresh are configurations of it ([`Walk`]).
//!
//! The walker owns what every configuration shares: the direction (dependencies first, or
//! dependents first), readiness (a step is decided once every neighbour in that direction
//! finished), bounded parallelism, stop-on-failure (running steps finish and are recorded,
//! nothing new starts), Ctrl-C, step timeouts, and a panicking task turned into a failure of
//! its step. A configuration says, per step, what to do ([`Decision`]) and records how each
//! step ended; every checkpoint change goes through one [`crate::recorder::Recorder`] and the
//! step record's transition methods.

pub(crate) mod down;
pub(crate) mod read;
mod readiness;
mod reclaim;
pub(crate) mod retire;
pub(crate) mod up;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use twinup_plan::Plan;

use crate::checkpoint::StepRecord;
use crate::errors::EngineError;
use crate::events::{Event, EventSink, NoEvents};
use crate::expand::ExpandedPlan;
use crate::inputs::ResolvedInputs;
use crate::kind::StepError;
use crate::recorder::Recorder;
use crate::registry::KindRegistry;
use readiness::Readiness;

/// The default time a step may take before it is stopped (its resume token is kept).
pub const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// How to walk.
#[derive(Clone)]
pub struct RunConfig {
    /// At most this many steps run at once (at least 1).
    pub parallelism: usize,
    /// Timeout for steps whose plan entry sets none.
    pub default_timeout: Duration,
    /// Cancelled on Ctrl-C: no new step starts; running ones are asked to stop waiting.
    pub cancel: CancellationToken,
    /// Where the walk reports what happens (progress displays, `--output json`).
    pub events: Arc<dyn EventSink>,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            parallelism: 4,
            default_timeout: DEFAULT_STEP_TIMEOUT,
            cancel: CancellationToken::new(),
            events: Arc::new(NoEvents),
        }
    }
}

/// What a walk goes over: the expanded plan, the kinds that act on its steps and the inputs
/// that render their `with` blocks. Every walk (`run`, `destroy`, `preview`, `verify`,
/// `refresh`) takes one.
#[derive(Clone, Copy)]
pub struct Steps<'a> {
    /// The plan, `for_each` expanded.
    pub plan: &'a ExpandedPlan,
    /// The step kinds, by name.
    pub registry: &'a KindRegistry,
    /// The resolved inputs.
    pub inputs: &'a ResolvedInputs,
}

impl<'a> Steps<'a> {
    /// The steps of `plan`, acted on by `registry`'s kinds with `inputs`.
    pub fn new(
        plan: &'a ExpandedPlan,
        registry: &'a KindRegistry,
        inputs: &'a ResolvedInputs,
    ) -> Self {
        Steps {
            plan,
            registry,
            inputs,
        }
    }
}

/// Which neighbours of a step must finish before it is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Its dependencies (`up`, `preview`, `verify`, refresh).
    DependenciesFirst,
    /// Its dependents (`down`).
    DependentsFirst,
}

/// The work of one step, run as a task of the walk.
pub(crate) type Work<T> = Pin<Box<dyn Future<Output = Result<T, StepError>> + Send>>;

/// What a configuration decides for a step whose neighbours have finished.
pub(crate) enum Decision<T> {
    /// Finished without work (skipped, kept, nothing deployed, already judged).
    Settled,
    /// It has work to start but no slot is free: ask again when one is.
    NeedsSlot,
    /// Start `work`; it fails with `timed_out` when it runs past `timeout`.
    Start {
        work: Work<T>,
        timeout: Duration,
        timed_out: StepError,
    },
    /// It cannot be walked: the configuration is told through [`Walk::finish`], and nothing
    /// new starts.
    Fail(StepError),
}

/// A configuration of the walk: what happens to each step, and how its end is recorded.
#[async_trait]
pub(crate) trait Walk: Send {
    /// What a step's work returns.
    type Output: Send + 'static;

    /// What to do with step `id` now; `slot_free` says whether work may start.
    async fn decide(
        &mut self,
        id: &str,
        slot_free: bool,
    ) -> Result<Decision<Self::Output>, EngineError>;

    /// Records how step `id` ended; returns true when it finished as wanted (the steps after
    /// it may go on), false when the walk must stop starting steps.
    async fn finish(&mut self, id: &str, ended: Ended<Self::Output>) -> Result<bool, EngineError>;
}

/// How a step's work ended, and after how long.
pub(crate) struct Ended<T> {
    pub result: Result<T, StepError>,
    pub elapsed: Duration,
}

/// How the walk ended.
pub(crate) struct Walked {
    /// Every step finished as wanted.
    pub all_done: bool,
}

/// Walks `plan` in `direction` with `config`'s parallelism and cancellation.
///
/// Each step is decided once its neighbours in `direction` are done: the walk keeps the steps
/// that are ready and not yet asked, and those that asked for a slot, both in the plan's
/// topological order, so a pass costs the steps it decides and not the size of the plan.
pub(crate) async fn walk<W: Walk>(
    plan: &Plan,
    direction: Direction,
    parallelism: usize,
    cancel: &CancellationToken,
    events: &dyn EventSink,
    config: &mut W,
) -> Result<Walked, EngineError> {
    let mut ready = Readiness::new(plan, direction);
    let mut tasks: JoinSet<(usize, Result<W::Output, StepError>, Duration)> = JoinSet::new();
    let mut running: HashMap<tokio::task::Id, (usize, Instant)> = HashMap::new();
    let parallelism = parallelism.max(1);
    let mut stop = false;

    loop {
        if !stop && !cancel.is_cancelled() {
            while let Some(at) = ready.next(tasks.len() < parallelism) {
                let slot_free = tasks.len() < parallelism;
                let id = ready.id(at).to_string();
                match config.decide(&id, slot_free).await? {
                    Decision::Settled => ready.done(at),
                    Decision::NeedsSlot => ready.wait_for_slot(at),
                    Decision::Start {
                        work,
                        timeout,
                        timed_out,
                    } => {
                        let handle = tasks.spawn(async move {
                            let started = Instant::now();
                            let result = match tokio::time::timeout(timeout, work).await {
                                Ok(result) => result,
                                Err(_) => Err(timed_out),
                            };
                            (at, result, started.elapsed())
                        });
                        running.insert(handle.id(), (at, Instant::now()));
                        ready.running(at);
                    }
                    Decision::Fail(error) => {
                        let done = config
                            .finish(
                                &id,
                                Ended {
                                    result: Err(error),
                                    elapsed: Duration::ZERO,
                                },
                            )
                            .await?;
                        if done {
                            ready.done(at);
                        } else {
                            ready.failed(at);
                            stop = true;
                            break;
                        }
                    }
                }
            }
        }

        if tasks.is_empty() {
            break;
        }
        let joined = tokio::select! {
            joined = tasks.join_next_with_id() => joined,
            _ = cancel.cancelled(), if !stop => {
                stop = true;
                continue;
            }
        };
        let Some(joined) = joined else { break };
        let (at, result, elapsed) = match joined {
            Ok((task, done)) => {
                running.remove(&task);
                done
            }
            Err(join_error) => {
                // A panicking step kind is a bug; it fails its own step, recorded and
                // reported like any failure, and must not take the checkpoint down with it.
                let Some((at, started)) = running.remove(&join_error.id()) else {
                    continue;
                };
                let message = panic_message(join_error);
                let error = StepError::failed(format!("the step crashed: {message}"))
                    .with_help("this is a bug in twinup or in the step kind; please report it");
                (at, Err(error), started.elapsed())
            }
        };
        let id = ready.id(at).to_string();
        if config.finish(&id, Ended { result, elapsed }).await? {
            ready.done(at);
        } else {
            ready.failed(at);
            stop = true;
        }
    }

    for id in ready.never_started() {
        events.emit(Event::StepNotStarted { step: id.clone() });
    }
    Ok(Walked {
        all_done: ready.all_done(),
    })
}

/// Where a writing walk records a failed step: the one fail path of `up` and `down`.
pub(crate) struct Failure<'a> {
    pub recorder: &'a Recorder,
    pub events: &'a dyn EventSink,
    pub failures: &'a mut Vec<(String, StepError)>,
}

impl Failure<'_> {
    /// Applies `transition` (usually [`StepRecord::fail`]) to the record of `id`, saves it,
    /// reports the failure and lists it; returns false (the walk stops starting steps).
    pub async fn record(
        self,
        id: &str,
        error: StepError,
        elapsed: Duration,
        transition: fn(&mut StepRecord, StepError),
    ) -> Result<bool, EngineError> {
        let saved = error.clone();
        self.recorder.step(id, |r| transition(r, saved)).await?;
        self.events.emit(Event::StepFailed {
            step: id.to_string(),
            error: error.clone(),
            elapsed_ms: millis(elapsed),
        });
        self.failures.push((id.to_string(), error));
        Ok(false)
    }
}

/// What a panicking task said.
fn panic_message(error: tokio::task::JoinError) -> String {
    match error.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_string()),
        Err(error) => error.to_string(),
    }
}

/// Milliseconds, saturating.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A duration as a person says it: `90s`, `30m`, `2h`.
pub fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s >= 60 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}
