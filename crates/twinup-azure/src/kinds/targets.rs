//! What each step of this run will create, by step id, as its steps' preflights learn it: the
//! ARM id a resource-group or instance step targets. A step whose scope is an earlier step's
//! output (`${steps.instance.outputs.id}`) is not known at preflight; with this, the role
//! assignment's permission check is made at the nearest scope that exists (the resource group
//! an owner of one group owns) instead of the subscription.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;

/// How long a preflight waits for another step's preflight to say what it targets (all
/// preflights start together; this only runs out when that step's kind says nothing).
const WAIT: Duration = Duration::from_secs(1);

/// Step id -> the ARM id that step targets, filled in by preflights.
#[derive(Debug, Default)]
pub struct PlannedTargets {
    ids: Mutex<HashMap<String, String>>,
    changed: Notify,
}

impl PlannedTargets {
    /// Records that step `step` targets the ARM resource `id`.
    pub fn insert(&self, step: &str, id: &str) {
        if let Ok(mut ids) = self.ids.lock() {
            ids.insert(step.to_string(), id.to_string());
        }
        self.changed.notify_waiters();
    }

    fn get(&self, step: &str) -> Option<String> {
        self.ids.lock().ok().and_then(|ids| ids.get(step).cloned())
    }

    /// The ARM id step `step` targets, waiting briefly for its preflight to say.
    pub async fn wait_for(&self, step: &str) -> Option<String> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let changed = self.changed.notified();
            if let Some(id) = self.get(step) {
                return Some(id);
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return self.get(step);
            }
        }
    }
}

/// The step id of a `${steps.<id>.outputs.id}` reference that is the whole of `text`.
pub fn referenced_id_step(text: &str) -> Option<&str> {
    text.trim()
        .strip_prefix("${steps.")?
        .strip_suffix(".outputs.id}")
        .filter(|s| !s.is_empty() && !s.contains(['.', '$', '{', '}']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_whole_id_reference_names_a_step() {
        assert_eq!(
            referenced_id_step("${steps.instance.outputs.id}"),
            Some("instance")
        );
        assert_eq!(
            referenced_id_step("${steps.instance.outputs.host_name}"),
            None
        );
        assert_eq!(referenced_id_step("/x/${steps.instance.outputs.id}"), None);
    }

    #[tokio::test]
    async fn a_target_recorded_later_is_seen_by_a_waiting_reader() {
        let targets = std::sync::Arc::new(PlannedTargets::default());
        let writer = targets.clone();
        let reader = tokio::spawn(async move { targets.wait_for("instance").await });
        writer.insert("instance", "/subscriptions/s/resourceGroups/rg");
        assert_eq!(
            reader.await.unwrap().as_deref(),
            Some("/subscriptions/s/resourceGroups/rg")
        );
    }
}
