//! Checks that need the kind catalog: unknown step kinds and references to
//! outputs a kind does not declare.

use crate::catalog::KindCatalog;
use crate::diag::Collector;
use crate::errors::PlanError;
use crate::path::PathSeg;
use crate::plan::Plan;
use crate::reference::Reference;
use crate::suggest::{help_or, list};
use crate::yaml::Pos;

pub(crate) fn validate(plan: &Plan, catalog: &dyn KindCatalog) -> Result<(), PlanError> {
    let mut c = Collector::new(&plan.file_name);
    let names = catalog.kind_names();
    for (i, step) in plan.steps.iter().enumerate() {
        if catalog.has_kind(&step.kind) {
            continue;
        }
        let path = [
            PathSeg::Key("steps".into()),
            PathSeg::Index(i),
            PathSeg::Key("kind".into()),
        ];
        let help = help_or(&step.kind, names.iter().map(String::as_str), || {
            format!("known kinds are {}", list(names.iter().map(String::as_str)))
        });
        c.error(
            pos(plan, &path),
            format!("unknown step kind `{}`", step.kind),
            help,
        );
    }
    for (path, reference) in &plan.sites {
        let Reference::StepOutput { step, output } = reference else {
            continue;
        };
        let Some(target) = reference.step_id().and_then(|id| {
            plan.step(step)
                .or_else(|| plan.steps.iter().find(|s| s.id == id))
        }) else {
            continue;
        };
        if !catalog.has_kind(&target.kind) {
            continue;
        }
        let Some(outputs) = catalog.outputs_of(&target.kind) else {
            continue;
        };
        if outputs.contains(output) {
            continue;
        }
        let help = help_or(output, outputs.iter().map(String::as_str), || {
            format!(
                "`{}` has these outputs: {}",
                target.kind,
                list(outputs.iter().map(String::as_str))
            )
        });
        c.error(
            pos(plan, path),
            format!(
                "`${{{reference}}}`: step `{step}` (kind `{}`) has no output `{output}`",
                target.kind
            ),
            help,
        );
    }
    c.finish()
}

fn pos(plan: &Plan, path: &[PathSeg]) -> Pos {
    plan.pos(path)
}
