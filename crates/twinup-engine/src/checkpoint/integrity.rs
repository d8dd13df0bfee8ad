//! Checks that a checkpoint's records agree with themselves before anything acts on them: a
//! step recorded `succeeded` holds the outputs its dependents read, a step is recorded under a
//! kind, and the run record's times run forwards. A checkpoint that fails is damaged, like one
//! that is not JSON: the run stops with exit 2 and the file is left as it is.

use super::model::{Checkpoint, StepState};

/// Every contradiction found in `checkpoint`, each naming the record and what is wrong; empty
/// when it is consistent.
pub fn contradictions(checkpoint: &Checkpoint) -> Vec<String> {
    let mut found = Vec::new();
    for (id, record) in &checkpoint.steps {
        if record.kind.trim().is_empty() {
            found.push(format!("step `{id}` has no kind"));
        }
        if record.state == StepState::Succeeded && record.outputs.is_none() {
            found.push(format!(
                "step `{id}` is recorded succeeded but has no outputs, which its dependents need"
            ));
        }
        if let (Some(started), Some(finished)) = (record.started_at, record.finished_at)
            && finished < started
        {
            found.push(format!("step `{id}` finished before it started"));
        }
    }
    if let Some(run) = &checkpoint.last_run
        && let Some(finished) = run.finished_at
        && finished < run.started_at
    {
        found.push("the last run finished before it started".to_string());
    }
    if checkpoint.updated_at < checkpoint.created_at {
        found.push("the checkpoint was updated before it was created".to_string());
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::StepRecord;

    #[test]
    fn a_succeeded_step_without_outputs_is_a_contradiction() {
        let mut c = Checkpoint::new("p", "h");
        let mut record = StepRecord::pending("file");
        record.state = StepState::Succeeded;
        c.steps.insert("one".into(), record.clone());
        assert_eq!(
            contradictions(&c),
            vec![
                "step `one` is recorded succeeded but has no outputs, which its dependents need"
                    .to_string()
            ]
        );
        record.outputs = Some(Default::default());
        c.steps.insert("one".into(), record);
        assert!(contradictions(&c).is_empty());
    }
}
