//! Crash points for tests: environment variables that make the process die at an exact
//! checkpoint write, so tests can prove that a rerun recovers from a kill at every transition.
//!
//! - `TWINUP_TEST_CRASH_AFTER_WRITE=N`: abort right after the N-th checkpoint write is durable.
//! - `TWINUP_TEST_CRASH_DURING_WRITE=N`: abort in the middle of the N-th write (half the
//!   temporary file written, not yet renamed over the checkpoint; or half of a journal append).
//!
//! A write is one saved transition: a whole-checkpoint save counts one, a journal append that
//! commits k step records at once ([`begin_writes`]) counts k, so the numbering does not depend
//! on how concurrent transitions happened to be grouped.
//!
//! - `TWINUP_TEST_CRASH_AFTER_TOKEN=STEP`: abort right after step STEP's resume token is durable
//!   (e.g. just after an Azure long-running operation was started).
//! - `TWINUP_TEST_CRASH_BEFORE_SUCCESS=STEP`: abort after step STEP's work is done but before its
//!   success is recorded (the window in which a created resource is not yet in the checkpoint).
//!
//! Unset (the normal case) they cost one relaxed atomic increment per write.
//!
//! Checkpoint stores outside the engine (e.g. the blob store) call [`begin_write`] and
//! [`end_write`] around each write so the same crash points apply to them.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

static WRITES: AtomicU64 = AtomicU64::new(0);

struct Hooks {
    after: Option<u64>,
    during: Option<u64>,
    after_token: Option<String>,
    before_success: Option<String>,
}

fn hooks() -> &'static Hooks {
    static HOOKS: OnceLock<Hooks> = OnceLock::new();
    HOOKS.get_or_init(|| Hooks {
        after: read("TWINUP_TEST_CRASH_AFTER_WRITE"),
        during: read("TWINUP_TEST_CRASH_DURING_WRITE"),
        after_token: std::env::var("TWINUP_TEST_CRASH_AFTER_TOKEN").ok(),
        before_success: std::env::var("TWINUP_TEST_CRASH_BEFORE_SUCCESS").ok(),
    })
}

fn read(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.trim().parse().ok()
}

/// Writes `first..=last` (numbered from 1), started by [`begin_writes`].
#[derive(Debug, Clone, Copy)]
pub struct Writes {
    first: u64,
    last: u64,
}

impl Writes {
    /// True when a test asked to crash half-way through one of these writes.
    pub fn crash_midway(&self) -> bool {
        hooks()
            .during
            .is_some_and(|n| (self.first..=self.last).contains(&n))
    }
}

/// Counts `count` writes that start together (one append of `count` transitions).
pub fn begin_writes(count: u64) -> Writes {
    let count = count.max(1);
    let first = WRITES.fetch_add(count, Ordering::Relaxed) + 1;
    Writes {
        first,
        last: first + count - 1,
    }
}

/// Called when `writes` are durable; aborts if a test asked for it after one of them.
pub fn end_writes(writes: Writes) {
    for n in writes.first..=writes.last {
        tracing::debug!(write = n, "checkpoint write durable");
    }
    if hooks()
        .after
        .is_some_and(|n| (writes.first..=writes.last).contains(&n))
    {
        crash();
    }
}

/// Counts a write that is starting; returns true when this write must crash half-way.
pub fn begin_write() -> bool {
    begin_writes(1).crash_midway()
}

/// Called when the current write is durable; aborts if a test asked for it.
pub fn end_write() {
    let n = WRITES.load(Ordering::Relaxed);
    end_writes(Writes { first: n, last: n });
}

/// Called when `step`'s resume token is durable.
pub(crate) fn token_saved(step: &str) {
    if hooks().after_token.as_deref() == Some(step) {
        crash();
    }
}

/// Called when `step`'s work succeeded, before the success is recorded.
pub(crate) fn before_success(step: &str) {
    if hooks().before_success.as_deref() == Some(step) {
        crash();
    }
}

/// Dies the way a killed process does: no destructors, no flushing.
pub fn crash() -> ! {
    std::process::abort()
}
