//! Checks every step's `with` block against its kind, once inputs are known and before anything
//! runs, reporting each problem at its `file:line:column` in the plan.

use twinup_plan::{Diagnostic, Diagnostics, PathSeg};

use crate::checkpoint::Checkpoint;
use crate::expand::ExpandedPlan;
use crate::inputs::ResolvedInputs;
use crate::registry::KindSchemas;
use crate::render::lookup;

/// Validates all steps of `plan` with `inputs`; returns every problem found.
pub fn validate_steps(
    plan: &ExpandedPlan,
    registry: &KindSchemas,
    inputs: &ResolvedInputs,
) -> Result<(), Diagnostics> {
    let empty = Checkpoint::new(&plan.name, "");
    let redactor = crate::redact::Redactor::new(inputs);
    let mut diagnostics = Vec::new();
    for (index, step) in plan.steps.iter().enumerate() {
        let Some(kind) = registry.schema(&step.kind) else {
            continue; // reported by Plan::validate
        };
        let with = crate::unknown::draft(&step.with, &|r| lookup(r, inputs, &empty, true));
        for error in kind.validate(&with) {
            let mut path = vec![
                PathSeg::Key("steps".to_string()),
                PathSeg::Index(index),
                PathSeg::Key("with".to_string()),
            ];
            path.extend(field_path(&error.field));
            // Point at the deepest node that exists in the file (a missing field points at `with`).
            let location = (3..=path.len())
                .rev()
                .find_map(|n| plan.locate(&path[..n]))
                .or_else(|| plan.locate(&path[..2]));
            let field = if error.field.is_empty() {
                "with".to_string()
            } else {
                format!("with.{}", error.field)
            };
            diagnostics.push(Diagnostic {
                location,
                message: redactor.text(&format!("step `{}`: {field}: {}", step.id, error.message)),
                help: error.help.map(|h| redactor.text(&h)),
            });
        }
    }
    if diagnostics.is_empty() {
        Ok(())
    } else {
        Err(Diagnostics(diagnostics))
    }
}

/// Splits `tags.env` / `reply_urls[0]` into path segments.
pub(crate) fn field_path(field: &str) -> Vec<PathSeg> {
    let mut segs = Vec::new();
    for part in field.split('.').filter(|p| !p.is_empty()) {
        let mut rest = part;
        if let Some(open) = rest.find('[') {
            let (key, indexes) = rest.split_at(open);
            if !key.is_empty() {
                segs.push(PathSeg::Key(key.to_string()));
            }
            rest = indexes;
            for piece in rest.split('[').filter(|p| !p.is_empty()) {
                match piece.trim_end_matches(']').parse::<usize>() {
                    Ok(i) => segs.push(PathSeg::Index(i)),
                    Err(_) => segs.push(PathSeg::Key(piece.to_string())),
                }
            }
        } else {
            segs.push(PathSeg::Key(rest.to_string()));
        }
    }
    segs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_split_keys_and_indexes() {
        assert_eq!(
            field_path("reply_urls[1].host"),
            vec![
                PathSeg::Key("reply_urls".into()),
                PathSeg::Index(1),
                PathSeg::Key("host".into())
            ]
        );
        assert!(field_path("").is_empty());
    }
}
