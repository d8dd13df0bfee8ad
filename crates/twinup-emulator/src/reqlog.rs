//! The request log read by tests through `GET /_emulator/requests`: every non-admin request with
//! its route template and outcome, recorded before the answer leaves the emulator, and its body
//! when that is JSON (ARM and Graph bodies; the token endpoint's form bodies, which carry
//! client secrets, never are), so tests can compare what a run sent.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

/// Most entries kept; older ones are dropped (the per-route counts keep counting).
const MAX_ENTRIES: usize = 100_000;

pub(crate) struct Entry {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub method: String,
    pub route: String,
    pub path: String,
    pub query: String,
    pub status: Option<u16>,
    /// `response`, `reset` or `hang`.
    pub outcome: &'static str,
    pub fault: bool,
    /// The request body, when it is JSON.
    pub body: Option<Value>,
}

#[derive(Default)]
pub(crate) struct RequestLog {
    next: u64,
    entries: VecDeque<Entry>,
    counts: BTreeMap<String, u64>,
}

impl RequestLog {
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &mut self,
        method: &str,
        route: &str,
        path: &str,
        query: &str,
        status: Option<u16>,
        outcome: &'static str,
        fault: bool,
        body: Option<Value>,
    ) {
        self.next += 1;
        *self.counts.entry(format!("{method} {route}")).or_default() += 1;
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.pop_front();
        }
        self.entries.push_back(Entry {
            seq: self.next,
            at: Utc::now(),
            method: method.to_string(),
            route: route.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            status,
            outcome,
            fault,
            body,
        });
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.counts.clear();
    }

    pub fn to_json(&self) -> Value {
        json!({
            "requests": self.entries.iter().map(|e| json!({
                "seq": e.seq,
                "timestamp": e.at.to_rfc3339_opts(SecondsFormat::Millis, true),
                "method": e.method,
                "route": e.route,
                "path": e.path,
                "query": e.query,
                "status": e.status,
                "outcome": e.outcome,
                "fault": e.fault,
                "body": e.body,
            })).collect::<Vec<_>>(),
            "counts": self.counts,
            "total": self.next,
        })
    }
}
