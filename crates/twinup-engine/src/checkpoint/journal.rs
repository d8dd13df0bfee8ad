//! The checkpoint journal: step records changed since the last whole save, appended one JSON
//! line each beside the snapshot, so saving a transition costs the size of the change and not
//! the size of the checkpoint.
//!
//! Format (`<checkpoint>.journal`, mode 0600): a header line
//! `{"twinup_journal": 1, "base": "<sha256 of the snapshot's bytes>"}`, then one line per
//! changed record: `{"at": "<time>", "step": "<id>", "record": {...}}`. A line holds the whole
//! new record, so applying a line twice is harmless. The journal belongs to the snapshot whose
//! bytes hash to `base`: a whole save replaces the snapshot first and then removes the journal,
//! so a crash between the two leaves a journal of another base, which is ignored. A crash in
//! the middle of an append leaves a torn last line, which is ignored too (its transition was
//! never reported as saved).
//!
//! Contact points: [`JournalEntry`] (what the recorder appends), [`header`] and [`lines`] (what
//! the file store writes), [`apply`] (what loading does).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::model::{Checkpoint, StepRecord};

/// The journal format this build writes and reads.
const JOURNAL_VERSION: u32 = 1;

/// One changed step record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalEntry {
    /// When the change was made (the checkpoint's `updated_at` after it).
    pub at: DateTime<Utc>,
    /// The step whose record changed.
    pub step: String,
    /// The record as it stands after the change.
    pub record: StepRecord,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    twinup_journal: u32,
    base: String,
}

/// The hash that ties a journal to the snapshot bytes it continues.
pub fn base_of(snapshot: &[u8]) -> String {
    Sha256::digest(snapshot)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The header line of a journal continuing the snapshot whose hash is `base`.
pub fn header(base: &str) -> Vec<u8> {
    let base = serde_json::Value::from(base);
    format!("{{\"twinup_journal\":{JOURNAL_VERSION},\"base\":{base}}}\n").into_bytes()
}

/// The lines for `entries`, each ending in a newline.
pub fn lines(entries: &[JournalEntry]) -> Result<Vec<u8>, serde_json::Error> {
    let mut bytes = Vec::new();
    for entry in entries {
        serde_json::to_writer(&mut bytes, entry)?;
        bytes.push(b'\n');
    }
    Ok(bytes)
}

/// What applying a journal did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The journal continues this snapshot; this many records were applied.
    Records(usize),
    /// The journal belongs to another snapshot (a whole save was interrupted before it removed
    /// the journal) and was ignored.
    OtherBase,
}

/// Applies `journal` to `checkpoint`, loaded from the snapshot whose hash is `base`. A torn
/// last line is ignored; any other line that does not parse is damage, reported as text.
pub fn apply(checkpoint: &mut Checkpoint, base: &str, journal: &[u8]) -> Result<Applied, String> {
    let mut rest = journal.split_inclusive(|b| *b == b'\n');
    let Some(first) = rest.next() else {
        return Ok(Applied::OtherBase);
    };
    if !first.ends_with(b"\n") {
        // Only a torn header: the journal was being created when the process died.
        return Ok(Applied::OtherBase);
    }
    let header: Header = serde_json::from_slice(first)
        .map_err(|e| format!("its journal's first line is not a journal header: {e}"))?;
    if header.twinup_journal != JOURNAL_VERSION {
        return Err(format!(
            "its journal has format {}, this twinup reads format {JOURNAL_VERSION}",
            header.twinup_journal
        ));
    }
    if header.base != base {
        return Ok(Applied::OtherBase);
    }
    let mut applied = 0;
    for (number, line) in rest.enumerate() {
        if !line.ends_with(b"\n") {
            break;
        }
        let entry: JournalEntry = serde_json::from_slice(line)
            .map_err(|e| format!("journal line {} is not a step record: {e}", number + 2))?;
        checkpoint.updated_at = checkpoint.updated_at.max(entry.at);
        checkpoint.steps.insert(entry.step, entry.record);
        applied += 1;
    }
    Ok(Applied::Records(applied))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::StepState;

    fn checkpoint() -> Checkpoint {
        serde_json::from_value(serde_json::json!({
            "schema_version": 1,
            "plan": {"name": "p", "hash": "h"},
            "created_at": "2026-12-01T00:00:00Z",
            "updated_at": "2026-12-01T00:00:00Z",
            "inputs": {},
            "steps": {"a": {"kind": "file", "state": "pending", "attempts": 0}},
        }))
        .expect("checkpoint")
    }

    fn entry(state: StepState) -> JournalEntry {
        let mut record = StepRecord::pending("file");
        record.state = state;
        JournalEntry {
            at: "2026-12-01T00:00:05Z".parse().expect("time"),
            step: "a".to_string(),
            record,
        }
    }

    #[test]
    fn entries_of_the_same_base_are_applied_in_order_and_a_torn_tail_is_ignored() {
        let mut journal = header("b1");
        journal.extend(lines(&[entry(StepState::Running)]).expect("lines"));
        let torn = lines(&[entry(StepState::Failed)]).expect("lines");
        journal.extend(&torn[..torn.len() / 2]);
        let mut c = checkpoint();
        assert_eq!(apply(&mut c, "b1", &journal), Ok(Applied::Records(1)));
        assert_eq!(c.steps["a"].state, StepState::Running);
        assert_eq!(c.updated_at.to_rfc3339(), "2026-12-01T00:00:05+00:00");
    }

    #[test]
    fn a_journal_of_another_snapshot_is_ignored() {
        let mut journal = header("old");
        journal.extend(lines(&[entry(StepState::Running)]).expect("lines"));
        let mut c = checkpoint();
        assert_eq!(apply(&mut c, "new", &journal), Ok(Applied::OtherBase));
        assert_eq!(c.steps["a"].state, StepState::Pending);
    }

    #[test]
    fn a_damaged_line_before_the_end_is_reported() {
        let mut journal = header("b1");
        journal.extend(b"{not json}\n");
        journal.extend(lines(&[entry(StepState::Running)]).expect("lines"));
        let error = apply(&mut checkpoint(), "b1", &journal).expect_err("damage");
        assert!(error.contains("journal line 2"), "{error}");
    }
}
