//! The answers file: a YAML mapping of input names to values, checked
//! against the plan's inputs.

use indexmap::IndexMap;
use serde_json::Value;

use crate::diag::Collector;
use crate::errors::PlanError;
use crate::plan::Plan;
use crate::suggest::{help_or, list};
use crate::yaml::{self, NodeKind};

/// Parses an answers file (`input_name: value` lines) for `plan`. Unknown
/// names and values that do not fit their input are reported with their
/// location; an empty file gives an empty map.
pub fn parse_answers(
    file_name: &str,
    text: &str,
    plan: &Plan,
) -> Result<IndexMap<String, Value>, PlanError> {
    let mut c = Collector::new(file_name);
    let root = match yaml::load(text) {
        Ok(Some(root)) => root,
        Ok(None) => return Ok(IndexMap::new()),
        Err(problems) => {
            c.yaml(problems);
            c.finish()?;
            return Ok(IndexMap::new());
        }
    };
    let entries = match &root.kind {
        NodeKind::Map(entries) => entries,
        NodeKind::Scalar(Value::Null) => return Ok(IndexMap::new()),
        _ => {
            c.error(
                root.pos,
                format!(
                    "an answers file must be a mapping of input names to values, got {}",
                    root.type_name()
                ),
                "write one `input_name: value` line per input",
            );
            c.finish()?;
            return Ok(IndexMap::new());
        }
    };
    let names = || plan.inputs.keys().map(String::as_str);
    let mut answers = IndexMap::new();
    for e in entries {
        let Some(spec) = plan.inputs.get(&e.key) else {
            let help = help_or(&e.key, names(), || {
                format!("the plan's inputs are {}", list(names()))
            });
            c.error(
                e.key_pos,
                format!("`{}` is not an input of plan `{}`", e.key, plan.name),
                help,
            );
            continue;
        };
        let value = e.value.to_value();
        match spec.check(&value) {
            Ok(()) => {
                answers.insert(e.key.clone(), value);
            }
            Err(why) => {
                let help = match &spec.description {
                    Some(d) => format!("give `{}` a valid value ({d})", e.key),
                    None => format!("give `{}` a valid value", e.key),
                };
                c.error(
                    e.value.pos,
                    format!("invalid value for input `{}`: {why}", e.key),
                    help,
                );
            }
        }
    }
    c.finish()?;
    Ok(answers)
}
