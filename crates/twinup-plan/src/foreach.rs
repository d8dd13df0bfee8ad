//! `for_each`: a step repeated once per item of a list or map, and [`Plan::expand`], which
//! turns a plan with `for_each` steps into one whose steps are the items (`instance["contoso"]`),
//! each with its own state in the checkpoint.

use std::collections::HashMap;

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::diag::Collector;
use crate::errors::PlanError;
use crate::graph::StepGraph;
use crate::input::{InputSpec, InputType};
use crate::path::PathSeg;
use crate::plan::Plan;
use crate::reference::{EachRef, Reference, StepIndex, is_valid_key, item_address};
use crate::step::Step;
use crate::suggest::help_or;
use crate::template::Replace;
use crate::yaml::{Node, NodeKind, Pos};

/// What a `for_each` step is repeated over.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ForEach {
    /// `for_each: ${inputs.NAME}`: a `list` (of strings) or `map` input.
    Input(String),
    /// A list of strings or a mapping written in the plan.
    Literal(Value),
}

const KEY_RULE: &str = "1 to 80 letters, digits, `_`, `-` and `.`";

/// The items of `for_each` given the input values: `(key, value)` in order. A list of strings
/// gives each string as both key and value.
pub fn items(
    for_each: &ForEach,
    inputs: &IndexMap<String, Value>,
) -> Result<Vec<(String, Value)>, String> {
    let value = match for_each {
        ForEach::Input(name) => inputs
            .get(name)
            .ok_or_else(|| format!("input `{name}` has no value"))?,
        ForEach::Literal(v) => v,
    };
    let what = match for_each {
        ForEach::Input(name) => format!("input `{name}`"),
        ForEach::Literal(_) => "the `for_each` list".to_string(),
    };
    let mut out: Vec<(String, Value)> = Vec::new();
    match value {
        Value::Array(list) => {
            for item in list {
                let Some(key) = item.as_str() else {
                    return Err(format!(
                        "{what} holds {item}, but a `for_each` list may only hold strings (they become the item keys); use a map to give items other values"
                    ));
                };
                if out.iter().any(|(k, _)| k == key) {
                    return Err(format!(
                        "{what} lists `{key}` twice; every `for_each` item needs its own key"
                    ));
                }
                out.push((key.to_string(), item.clone()));
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                out.push((k.clone(), v.clone()));
            }
        }
        other => {
            return Err(format!(
                "{what} is {}, but `for_each` needs a list of strings or a map",
                type_name(other)
            ));
        }
    }
    if let Some((bad, _)) = out.iter().find(|(k, _)| !is_valid_key(k)) {
        return Err(format!(
            "`{bad}` in {what} cannot be an item key; keys are {KEY_RULE}"
        ));
    }
    Ok(out)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// Reads a step's `for_each` node.
pub(crate) fn parse_for_each(c: &mut Collector<'_>, node: &Node, place: &str) -> Option<ForEach> {
    let help =
        "write `for_each: ${inputs.NAME}` (a list or map input) or a list / mapping in the plan";
    match &node.kind {
        NodeKind::Scalar(Value::String(s)) => match Reference::parse(
            s.trim()
                .strip_prefix("${")
                .and_then(|r| r.strip_suffix('}'))
                .unwrap_or(""),
        ) {
            Ok(Reference::Input(name)) => Some(ForEach::Input(name)),
            _ => {
                c.error(
                    node.pos,
                    format!("`for_each` of {place} must be one input reference, got `{s}`"),
                    help,
                );
                None
            }
        },
        NodeKind::Seq(_) | NodeKind::Map(_) => {
            let literal = ForEach::Literal(node.to_value());
            if let Err(why) = items(&literal, &IndexMap::new()) {
                c.error(node.pos, format!("`for_each` of {place}: {why}"), help);
                return None;
            }
            Some(literal)
        }
        _ => {
            c.error(
                node.pos,
                format!(
                    "`for_each` of {place} must be a list, a mapping or `${{inputs.NAME}}`, got {}",
                    node.type_name()
                ),
                help,
            );
            None
        }
    }
}

/// Checks that `for_each: ${inputs.NAME}` names a declared, non-secret list or map input whose
/// default (if any) has valid keys.
pub(crate) fn check_input_for_each(
    c: &mut Collector<'_>,
    pos: Pos,
    step: &Step,
    inputs: &IndexMap<String, InputSpec>,
) {
    let Some(ForEach::Input(name)) = &step.for_each else {
        return;
    };
    let Some(spec) = inputs.get(name) else {
        let help = help_or(name, inputs.keys().map(String::as_str), || {
            format!("declare `{name}` under `inputs:` with `type: map` or `type: list`")
        });
        c.error(
            pos,
            format!(
                "`for_each` of step `{}` refers to input `{name}`, which is not declared",
                step.id
            ),
            help,
        );
        return;
    };
    if !matches!(spec.ty, InputType::List | InputType::Map) {
        c.error(
            pos,
            format!(
                "`for_each` of step `{}` needs a list or map, but input `{name}` is of type `{}`",
                step.id, spec.ty
            ),
            format!("declare `{name}` with `type: map` (one entry per item) or `type: list` (of strings)"),
        );
    } else if spec.secret {
        c.error(
            pos,
            format!(
                "`for_each` of step `{}` uses secret input `{name}`",
                step.id
            ),
            "item keys are shown and saved in the checkpoint; iterate over a non-secret input",
        );
    } else if let Some(default) = &spec.default {
        let mut values = IndexMap::new();
        values.insert(name.clone(), default.clone());
        if let Err(why) = items(&ForEach::Input(name.clone()), &values) {
            c.error(
                pos,
                format!("the default of input `{name}`: {why}"),
                "fix the default",
            );
        }
    }
}

/// Checks the `for_each` parts of one reference found in step `current` (None: plan outputs):
/// `${each...}` only inside a `for_each` step, item indexes only on `for_each` steps, and a
/// reference to all items of a step only as a whole string.
pub(crate) fn check_reference(
    reference: &Reference,
    current: Option<&Step>,
    steps: &[Step],
    whole: bool,
) -> Result<(), (String, String)> {
    let in_for_each = current.is_some_and(|s| s.for_each.is_some());
    match reference {
        Reference::Each(_) if !in_for_each => Err((
            format!("`${{{reference}}}` is only defined in a step with `for_each`"),
            "add `for_each:` to this step, or refer to an input or a step output instead".into(),
        )),
        Reference::StepOutput { .. } => {
            let Some(target) = reference
                .step_id()
                .and_then(|id| steps.iter().find(|s| s.id == id))
            else {
                return Ok(()); // missing steps are reported elsewhere
            };
            let id = &target.id;
            match reference.step_index() {
                Some(_) if target.for_each.is_none() => Err((
                    format!(
                        "`${{{reference}}}` picks an item of step `{id}`, which has no `for_each`"
                    ),
                    format!("write `${{steps.{id}.outputs.NAME}}`"),
                )),
                Some(StepIndex::EachKey) if !in_for_each => Err((
                    format!("`${{{reference}}}` uses `each.key` outside a step with `for_each`"),
                    format!(
                        "pick an item with a key, e.g. `${{steps.{id}[\"KEY\"].outputs.NAME}}`"
                    ),
                )),
                Some(StepIndex::Key(key)) => match &target.for_each {
                    Some(f @ ForEach::Literal(_)) => {
                        let keys: Vec<String> = items(f, &IndexMap::new())
                            .unwrap_or_default()
                            .into_iter()
                            .map(|(k, _)| k)
                            .collect();
                        if keys.contains(&key) {
                            Ok(())
                        } else {
                            Err((
                                format!("`${{{reference}}}`: step `{id}` has no item `{key}`"),
                                help_or(&key, keys.iter().map(String::as_str), || {
                                    format!(
                                        "its items are {}",
                                        crate::suggest::list(keys.iter().map(String::as_str))
                                    )
                                }),
                            ))
                        }
                    }
                    _ => Ok(()),
                },
                None if target.for_each.is_some() && !whole => Err((
                    format!(
                        "`${{{reference}}}` stands for the outputs of every item of `{id}` (a map), which cannot be written into text"
                    ),
                    format!(
                        "use it as the whole value, or pick one item: `${{steps.{id}[each.key].outputs.NAME}}` or `${{steps.{id}[\"KEY\"].outputs.NAME}}`"
                    ),
                )),
                _ => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

impl Plan {
    /// True when some step has `for_each`, so the plan must be [expanded](Plan::expand) with
    /// the input values before it runs.
    pub fn has_for_each(&self) -> bool {
        self.steps.iter().any(|s| s.for_each.is_some())
    }

    /// The plan with every `for_each` step replaced by one step per item, given the resolved
    /// input values. An item's id is its address, `ID["KEY"]`; in it `${each.key}`,
    /// `${each.value...}` and `[each.key]` indexes are filled in. A step (or output) that refers
    /// to all items of a `for_each` step gets a map from key to the item's output, and waits for
    /// every item; `needs: [ID]` waits for every item too. A plan without `for_each` comes back
    /// unchanged. Errors (a value that is not a list or map, a missing `each.value` field, an
    /// index naming no item) point at the plan text.
    pub fn expand(&self, inputs: &IndexMap<String, Value>) -> Result<Plan, PlanError> {
        if !self.has_for_each() {
            return Ok(self.clone());
        }
        let mut c = Collector::new(&self.file_name);
        let mut item_keys: HashMap<String, Vec<(String, Value)>> = HashMap::new();
        for (i, step) in self.steps.iter().enumerate() {
            let Some(for_each) = &step.for_each else {
                continue;
            };
            match items(for_each, inputs) {
                Ok(list) => {
                    item_keys.insert(step.id.clone(), list);
                }
                Err(why) => {
                    c.error(
                        self.pos(&[
                            PathSeg::Key("steps".into()),
                            PathSeg::Index(i),
                            PathSeg::Key("for_each".into()),
                        ]),
                        format!("`for_each` of step `{}`: {why}", step.id),
                        "give a list of strings or a map, one entry per item",
                    );
                    item_keys.insert(step.id.clone(), Vec::new());
                }
            }
        }
        let mut steps: Vec<Step> = Vec::new();
        let mut origin: Vec<usize> = Vec::new();
        for (i, step) in self.steps.iter().enumerate() {
            let with_path = [
                PathSeg::Key("steps".into()),
                PathSeg::Index(i),
                PathSeg::Key("with".into()),
            ];
            let needs: Vec<String> = step
                .needs
                .iter()
                .flat_map(|n| match item_keys.get(n) {
                    Some(list) => list.iter().map(|(k, _)| item_address(n, k)).collect(),
                    None => vec![n.clone()],
                })
                .collect();
            let instances: Vec<(String, Option<(&str, &Value)>)> = match item_keys.get(&step.id) {
                Some(list) => list
                    .iter()
                    .map(|(k, v)| (item_address(&step.id, k), Some((k.as_str(), v))))
                    .collect(),
                None => vec![(step.id.clone(), None)],
            };
            for (id, item) in instances {
                let mut problems: Vec<String> = Vec::new();
                let with = step
                    .with
                    .map_references(&mut |r| replace(r, item, &item_keys, &mut problems));
                for why in problems {
                    c.error(
                        self.pos(&with_path),
                        format!("step `{id}`: {why}"),
                        "check the item's value and the keys of the steps it refers to",
                    );
                }
                steps.push(Step {
                    id,
                    needs: needs.clone(),
                    with,
                    for_each: None,
                    ..step.clone()
                });
                origin.push(i);
            }
        }
        let mut outputs = IndexMap::new();
        for (name, template) in &self.outputs {
            let mut problems = Vec::new();
            let rendered =
                template.map_references(&mut |r| replace(r, None, &item_keys, &mut problems));
            for why in problems {
                c.error(
                    self.pos(&[PathSeg::Key("outputs".into()), PathSeg::Key(name.clone())]),
                    format!("output `{name}`: {why}"),
                    "pick an item that exists",
                );
            }
            outputs.insert(name.clone(), rendered);
        }
        c.finish()?;
        let mut sites = Vec::new();
        let graph = StepGraph::build(
            steps
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let mut deps = s.needs.clone();
                    for (rel, found) in s.with.reference_sites() {
                        let mut path = vec![
                            PathSeg::Key("steps".into()),
                            PathSeg::Index(i),
                            PathSeg::Key("with".into()),
                        ];
                        path.extend(rel);
                        for r in found.unwrap_or_default() {
                            if let Some(address) = r.step() {
                                deps.push(address.to_string());
                            }
                            sites.push((path.clone(), r));
                        }
                    }
                    (s.id.clone(), deps)
                })
                .collect(),
        );
        for (name, template) in &outputs {
            for (rel, found) in template.reference_sites() {
                let mut path = vec![PathSeg::Key("outputs".into()), PathSeg::Key(name.clone())];
                path.extend(rel);
                for r in found.unwrap_or_default() {
                    sites.push((path.clone(), r));
                }
            }
        }
        Ok(Plan {
            steps,
            outputs,
            graph,
            sites,
            origin: Some(origin),
            ..self.clone()
        })
    }

    /// Where `path` (which may name a step of the expanded plan) starts in the plan text.
    pub(crate) fn pos(&self, path: &[PathSeg]) -> Pos {
        crate::path::position(&self.root, &self.source_path(path)).unwrap_or(self.root.pos)
    }

    /// `path` with a step index of the expanded plan turned into the index in the plan text.
    pub(crate) fn source_path(&self, path: &[PathSeg]) -> Vec<PathSeg> {
        let mut out = path.to_vec();
        if let (Some(origin), [PathSeg::Key(k), PathSeg::Index(i), ..]) = (&self.origin, path)
            && k == "steps"
            && let Some(source) = origin.get(*i)
        {
            out[1] = PathSeg::Index(*source);
        }
        out
    }
}

/// What one reference becomes in item `item` (None: not in a `for_each` step).
fn replace(
    reference: &Reference,
    item: Option<(&str, &Value)>,
    item_keys: &HashMap<String, Vec<(String, Value)>>,
    problems: &mut Vec<String>,
) -> Replace {
    match reference {
        Reference::Input(_) => Replace::Keep,
        Reference::Each(each) => {
            let Some((key, value)) = item else {
                return Replace::Keep;
            };
            match each {
                EachRef::Key => Replace::Literal(Value::String(key.to_string())),
                EachRef::Value(fields) => {
                    let mut at = value;
                    for field in fields {
                        match at.get(field) {
                            Some(next) => at = next,
                            None => {
                                problems.push(format!(
                                    "`${{{reference}}}`: the value of item `{key}` has no field `{field}`"
                                ));
                                return Replace::Keep;
                            }
                        }
                    }
                    Replace::Literal(at.clone())
                }
            }
        }
        Reference::StepOutput { output, .. } => {
            let Some(id) = reference.step_id() else {
                return Replace::Keep;
            };
            let Some(list) = item_keys.get(id) else {
                return Replace::Keep;
            };
            let pick = |key: &str, problems: &mut Vec<String>| {
                if list.iter().any(|(k, _)| k == key) {
                    Replace::Ref(Reference::StepOutput {
                        step: item_address(id, key),
                        output: output.clone(),
                    })
                } else {
                    problems.push(format!(
                        "`${{{reference}}}`: step `{id}` has no item `{key}`"
                    ));
                    Replace::Keep
                }
            };
            match reference.step_index() {
                Some(StepIndex::Key(key)) => pick(&key, problems),
                Some(StepIndex::EachKey) => match item {
                    Some((key, _)) => pick(key, problems),
                    None => Replace::Keep,
                },
                None => {
                    let mut map = Map::new();
                    for (key, _) in list {
                        let r = Reference::StepOutput {
                            step: item_address(id, key),
                            output: output.clone(),
                        };
                        map.insert(key.clone(), Value::String(format!("${{{r}}}")));
                    }
                    Replace::Template(Value::Object(map))
                }
            }
        }
    }
}
