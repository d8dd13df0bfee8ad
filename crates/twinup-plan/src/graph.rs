//! `StepGraph`: which steps depend on which, a deterministic run order, and
//! cycle detection.

use std::collections::{BTreeSet, HashMap};

use crate::errors::CycleError;

/// The dependency graph of a plan's steps.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StepGraph {
    ids: Vec<String>,
    index: HashMap<String, usize>,
    dependencies: Vec<Vec<String>>,
    dependents: Vec<Vec<String>>,
    order: Vec<String>,
}

impl StepGraph {
    /// Builds the graph from `(step id, dependencies)` pairs in plan order.
    /// Dependencies on ids that are not in the list are dropped, and repeated
    /// ones are kept once. Fails with the first cycle found.
    pub fn new(steps: Vec<(String, Vec<String>)>) -> Result<StepGraph, CycleError> {
        let graph = StepGraph::build(steps);
        match graph.cycles().into_iter().next() {
            Some(cycle) => Err(CycleError { cycle }),
            None => Ok(graph),
        }
    }

    /// Builds the graph without rejecting cycles; steps in or after a cycle
    /// are left out of the order.
    pub(crate) fn build(steps: Vec<(String, Vec<String>)>) -> StepGraph {
        let ids: Vec<String> = steps.iter().map(|(id, _)| id.clone()).collect();
        let mut index = HashMap::new();
        for (i, id) in ids.iter().enumerate() {
            index.entry(id.clone()).or_insert(i);
        }
        let mut dependencies: Vec<Vec<String>> = Vec::with_capacity(ids.len());
        for (_, deps) in &steps {
            let mut kept: Vec<String> = Vec::new();
            for d in deps {
                if index.contains_key(d) && !kept.contains(d) {
                    kept.push(d.clone());
                }
            }
            dependencies.push(kept);
        }
        let mut dependents: Vec<Vec<String>> = vec![Vec::new(); ids.len()];
        for (i, deps) in dependencies.iter().enumerate() {
            for d in deps {
                dependents[index[d]].push(ids[i].clone());
            }
        }
        let mut graph = StepGraph {
            ids,
            index,
            dependencies,
            dependents,
            order: Vec::new(),
        };
        graph.order = graph.kahn();
        graph
    }

    /// Kahn's algorithm, always taking the ready step that comes first in the plan.
    fn kahn(&self) -> Vec<String> {
        let mut waiting: Vec<usize> = self.dependencies.iter().map(Vec::len).collect();
        let mut ready: BTreeSet<usize> = (0..self.ids.len()).filter(|&i| waiting[i] == 0).collect();
        let mut order = Vec::with_capacity(self.ids.len());
        while let Some(i) = ready.pop_first() {
            order.push(self.ids[i].clone());
            for dependent in &self.dependents[i] {
                let j = self.index[dependent];
                waiting[j] -= 1;
                if waiting[j] == 0 {
                    ready.insert(j);
                }
            }
        }
        order
    }

    /// Every distinct cycle among steps that could not be ordered, each
    /// starting at its earliest step in plan order.
    pub(crate) fn cycles(&self) -> Vec<Vec<String>> {
        let ordered: BTreeSet<&str> = self.order.iter().map(String::as_str).collect();
        let stuck: Vec<usize> = (0..self.ids.len())
            .filter(|&i| !ordered.contains(self.ids[i].as_str()))
            .collect();
        let mut seen = vec![false; self.ids.len()];
        let mut cycles = Vec::new();
        for &start in &stuck {
            if seen[start] {
                continue;
            }
            let mut walk: Vec<usize> = Vec::new();
            let mut at = start;
            loop {
                if let Some(pos) = walk.iter().position(|&w| w == at) {
                    let mut cycle: Vec<usize> = walk[pos..].to_vec();
                    let first = cycle
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, i)| **i)
                        .map_or(0, |(p, _)| p);
                    cycle.rotate_left(first);
                    cycles.push(cycle.iter().map(|&i| self.ids[i].clone()).collect());
                    break;
                }
                if seen[at] {
                    break;
                }
                seen[at] = true;
                walk.push(at);
                // A stuck step always waits on at least one other stuck step.
                let next = self.dependencies[at]
                    .iter()
                    .map(|d| self.index[d])
                    .find(|j| !ordered.contains(self.ids[*j].as_str()));
                match next {
                    Some(j) => at = j,
                    None => break,
                }
            }
        }
        cycles
    }

    /// The steps `id` waits for: its `needs` and every step it references,
    /// in that order. Empty for an unknown id.
    pub fn dependencies(&self, id: &str) -> &[String] {
        self.index
            .get(id)
            .map_or(&[], |&i| self.dependencies[i].as_slice())
    }

    /// The position of step `id` in plan order (its first occurrence).
    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// The steps that wait for `id`, in plan order. Empty for an unknown id.
    pub fn dependents(&self, id: &str) -> &[String] {
        self.index
            .get(id)
            .map_or(&[], |&i| self.dependents[i].as_slice())
    }

    /// Every step, dependencies first; among steps that are ready at the same
    /// time, the one written first in the plan comes first.
    pub fn topological_order(&self) -> &[String] {
        &self.order
    }

    /// The step ids in plan order.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// Every step `id` depends on directly or indirectly, in topological order.
    pub fn transitive_dependencies(&self, id: &str) -> Vec<String> {
        let mut wanted: BTreeSet<&str> = BTreeSet::new();
        let mut stack: Vec<&str> = vec![id];
        while let Some(at) = stack.pop() {
            for d in self.dependencies(at) {
                if wanted.insert(d) {
                    stack.push(d);
                }
            }
        }
        self.order
            .iter()
            .filter(|s| wanted.contains(s.as_str()))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> Result<StepGraph, CycleError> {
        StepGraph::new(
            edges
                .iter()
                .map(|(id, deps)| (id.to_string(), deps.iter().map(|d| d.to_string()).collect()))
                .collect(),
        )
    }

    #[test]
    fn order_prefers_plan_order_among_ready_steps() {
        let g = graph(&[("c", &["a"]), ("b", &[]), ("a", &[]), ("d", &["c", "b"])]).unwrap();
        assert_eq!(g.topological_order(), ["b", "a", "c", "d"]);
        assert_eq!(g.dependencies("d"), ["c", "b"]);
        assert_eq!(g.dependents("a"), ["c"]);
        assert_eq!(g.dependents("b"), ["d"]);
        assert_eq!(g.transitive_dependencies("d"), ["b", "a", "c"]);
        assert!(g.dependencies("zzz").is_empty());
    }

    #[test]
    fn cycles_are_named_from_their_first_step() {
        let err = graph(&[("x", &[]), ("a", &["c"]), ("b", &["a"]), ("c", &["b"])]).unwrap_err();
        assert_eq!(err.cycle, ["a", "c", "b"]);
        assert_eq!(
            err.to_string(),
            "steps depend on each other in a cycle: `a` -> `c` -> `b` -> `a`"
        );
        assert_eq!(graph(&[("a", &["a"])]).unwrap_err().cycle, ["a"]);
    }

    #[test]
    fn finds_separate_cycles() {
        let g = StepGraph::build(
            [("a", "b"), ("b", "a"), ("c", "d"), ("d", "c")]
                .iter()
                .map(|(x, y)| (x.to_string(), vec![y.to_string()]))
                .collect(),
        );
        assert_eq!(g.cycles(), vec![vec!["a", "b"], vec!["c", "d"]]);
    }
}
