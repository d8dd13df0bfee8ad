//! Crash points for tests: environment variables that make the process die at an exact
//! checkpoint write, so tests can prove that a rerun recovers from a kill at every transition.
//!
//! - `TWINUP_TEST_CRASH_AFTER_WRITE=N`: abort right after the N-th checkpoint write is durable.
//! - `TWINUP_TEST_CRASH_DURING_WRITE=N`: abort in the middle of the N-th write (half the
//!   temporary file written, not yet renamed over the checkpoint).
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

/// Counts a write that is starting; returns true when this write must crash half-way.
pub fn begin_write() -> bool {
    let n = WRITES.fetch_add(1, Ordering::Relaxed) + 1;
    hooks().during == Some(n)
}

/// Called when the current write is durable; aborts if a test asked for it.
pub fn end_write() {
    let n = WRITES.load(Ordering::Relaxed);
    tracing::debug!(write = n, "checkpoint write durable");
    if hooks().after == Some(n) {
        crash();
    }
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
