//! Which steps of a walk may be decided now: [`Readiness`] counts, per step, the neighbours
//! in the walk's direction that are not done yet, and keeps the steps whose count reached
//! zero in two queues ordered by the plan's topological order: those not asked yet, and those
//! that asked for a slot. Every operation costs the step and its edges, never the plan, so a
//! walk over a plan of n steps costs O(n log n + edges) in bookkeeping.

use std::collections::{BTreeSet, HashMap};

use twinup_plan::Plan;

use super::Direction;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Waiting,
    Running,
    Done,
    Failed,
}

/// The readiness of every step of one walk; steps are named by their position in the walk's
/// order.
pub(super) struct Readiness<'a> {
    order: Vec<&'a String>,
    phase: Vec<Phase>,
    /// Neighbours (in the walk's direction) not done yet.
    blocking: Vec<usize>,
    /// The steps each step's completion unblocks.
    waiters: Vec<Vec<usize>>,
    /// Ready, not asked yet.
    undecided: BTreeSet<usize>,
    /// Ready, asked, waiting for a free slot.
    slot_waiting: BTreeSet<usize>,
}

impl<'a> Readiness<'a> {
    /// Every step of `plan` waiting; those without neighbours in `direction` ready.
    pub(super) fn new(plan: &'a Plan, direction: Direction) -> Self {
        let graph = plan.graph();
        let mut order: Vec<&String> = graph.topological_order().iter().collect();
        if direction == Direction::DependentsFirst {
            order.reverse();
        }
        let position: HashMap<&str, usize> = order
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        let mut blocking = vec![0; order.len()];
        let mut waiters = vec![Vec::new(); order.len()];
        for (i, id) in order.iter().enumerate() {
            let neighbours = match direction {
                Direction::DependenciesFirst => graph.dependencies(id),
                Direction::DependentsFirst => graph.dependents(id),
            };
            for n in neighbours {
                if let Some(&at) = position.get(n.as_str()) {
                    blocking[i] += 1;
                    waiters[at].push(i);
                }
            }
        }
        let undecided = (0..order.len()).filter(|&i| blocking[i] == 0).collect();
        Readiness {
            phase: vec![Phase::Waiting; order.len()],
            order,
            blocking,
            waiters,
            undecided,
            slot_waiting: BTreeSet::new(),
        }
    }

    /// The id of the step at `at`.
    pub(super) fn id(&self, at: usize) -> &'a str {
        self.order[at]
    }

    /// The next step to decide, first in the plan's order: with a free slot, any ready step;
    /// without one, only those not asked yet (they may settle without work).
    pub(super) fn next(&mut self, slot_free: bool) -> Option<usize> {
        let fresh = self.undecided.first().copied();
        let queued = if slot_free {
            self.slot_waiting.first().copied()
        } else {
            None
        };
        match (fresh, queued) {
            (Some(f), Some(q)) if q < f => self.slot_waiting.pop_first(),
            (Some(_), _) => self.undecided.pop_first(),
            (None, Some(_)) => self.slot_waiting.pop_first(),
            (None, None) => None,
        }
    }

    /// The step at `at` has work and waits for a slot.
    pub(super) fn wait_for_slot(&mut self, at: usize) {
        self.slot_waiting.insert(at);
    }

    /// The step at `at` started its work.
    pub(super) fn running(&mut self, at: usize) {
        self.phase[at] = Phase::Running;
    }

    /// The step at `at` finished as wanted: the steps waiting only for it become ready.
    pub(super) fn done(&mut self, at: usize) {
        self.phase[at] = Phase::Done;
        for i in 0..self.waiters[at].len() {
            let w = self.waiters[at][i];
            self.blocking[w] -= 1;
            if self.blocking[w] == 0 && self.phase[w] == Phase::Waiting {
                self.undecided.insert(w);
            }
        }
    }

    /// The step at `at` failed: nothing waiting for it becomes ready.
    pub(super) fn failed(&mut self, at: usize) {
        self.phase[at] = Phase::Failed;
    }

    /// The steps never started or settled, in the walk's order.
    pub(super) fn never_started(&self) -> impl Iterator<Item = &'a String> + '_ {
        self.order
            .iter()
            .zip(&self.phase)
            .filter(|(_, p)| **p == Phase::Waiting)
            .map(|(id, _)| *id)
    }

    /// Whether every step finished as wanted.
    pub(super) fn all_done(&self) -> bool {
        self.phase.iter().all(|p| *p == Phase::Done)
    }
}
