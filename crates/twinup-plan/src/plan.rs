//! `Plan`: a parsed, checked plan document and its accessors.

use std::path::Path;

use indexmap::IndexMap;
use sha2::{Digest, Sha256};

use crate::catalog::KindCatalog;
use crate::errors::{Location, PlanError};
use crate::graph::StepGraph;
use crate::input::InputSpec;
use crate::path::{self, PathSeg};
use crate::reference::Reference;
use crate::step::Step;
use crate::template::Template;
use crate::yaml::Node;

/// A plan document that passed every check that needs no kind catalog.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The plan language version (always 1 for now).
    pub version: u32,
    /// Short name of the plan.
    pub name: String,
    /// What the plan sets up.
    pub description: Option<String>,
    /// Declared inputs, in file order.
    pub inputs: IndexMap<String, InputSpec>,
    /// Steps, in file order.
    pub steps: Vec<Step>,
    /// Values reported when the plan has run, in file order.
    pub outputs: IndexMap<String, Template>,
    /// Outputs declared `secret: true`: shown as `********`, never saved in the checkpoint.
    pub secret_outputs: Vec<String>,
    /// The inputs that identify a deployment (`identity:`), in file order.
    pub identity: Vec<String>,
    pub(crate) file_name: String,
    pub(crate) text: String,
    pub(crate) root: Node,
    pub(crate) graph: StepGraph,
    /// Every reference in step parameters and plan outputs, with the path of
    /// the string that holds it.
    pub(crate) sites: Vec<(Vec<PathSeg>, Reference)>,
    /// For an expanded plan (see [`Plan::expand`]): the index in the plan text of each step.
    pub(crate) origin: Option<Vec<usize>>,
}

impl Plan {
    /// Parses and checks a plan. `file_name` is only used in diagnostics.
    /// Every problem found is reported, each with a location and a fix.
    pub fn parse(file_name: &str, text: &str) -> Result<Plan, PlanError> {
        crate::parse::parse_plan(file_name, text)
    }

    /// Reads and parses the plan at `path`.
    pub fn load(path: &Path) -> Result<Plan, PlanError> {
        let text = crate::limits::read_bounded(path).map_err(|e| PlanError::from_read(path, e))?;
        Plan::parse(&path.display().to_string(), &text)
    }

    /// Checks the plan against the step kinds this build knows: unknown kinds
    /// and references to outputs a kind does not declare.
    pub fn validate(&self, catalog: &dyn KindCatalog) -> Result<(), PlanError> {
        crate::validate::validate(self, catalog)
    }

    /// The file name given to `parse` (or the path given to `load`).
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// The plan's text as read.
    pub fn source_text(&self) -> &str {
        &self.text
    }

    /// Hex SHA-256 of the plan's text (to notice a plan changed between runs).
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.text.as_bytes()))
    }

    /// The step with this id.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.step_index(id).map(|i| &self.steps[i])
    }

    /// The position of the step with this id in `steps`: the graph's index (a lookup, so a
    /// walk over a large plan does not search it once per step), checked against the steps.
    pub fn step_index(&self, id: &str) -> Option<usize> {
        match self.graph.position(id) {
            Some(i) if self.steps.get(i).is_some_and(|s| s.id == id) => Some(i),
            _ => self.steps.iter().position(|s| s.id == id),
        }
    }

    /// Where the node at `path` starts, e.g.
    /// `[Key("steps"), Index(2), Key("with"), Key("name")]`.
    pub fn locate(&self, path: &[PathSeg]) -> Option<Location> {
        path::position(&self.root, &self.source_path(path)).map(|pos| self.location(pos))
    }

    /// Where the key that ends `path` is written (for "remove this key"
    /// messages); for a path ending in an index, where that item starts.
    pub fn locate_key(&self, path: &[PathSeg]) -> Option<Location> {
        path::key_position(&self.root, &self.source_path(path)).map(|pos| self.location(pos))
    }

    /// Where the `with` parameter `param` of step `id` is written, falling
    /// back to the step itself.
    pub fn locate_step_param(&self, id: &str, param: &str) -> Option<Location> {
        let i = self.step_index(id)?;
        let with = [
            PathSeg::Key("steps".into()),
            PathSeg::Index(i),
            PathSeg::Key("with".into()),
            PathSeg::Key(param.into()),
        ];
        self.locate(&with).or_else(|| self.locate(&with[..2]))
    }

    /// The step dependency graph.
    pub fn graph(&self) -> &StepGraph {
        &self.graph
    }

    /// Inputs that have no default and so must be given.
    pub fn required_inputs(&self) -> impl Iterator<Item = &InputSpec> {
        self.inputs.values().filter(|i| i.is_required())
    }

    pub(crate) fn location(&self, pos: crate::yaml::Pos) -> Location {
        Location {
            file: self.file_name.clone(),
            line: pos.line,
            column: pos.column,
        }
    }
}
