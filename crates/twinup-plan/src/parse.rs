//! Turns plan text into a `Plan`: shape checks, names, inputs, steps,
//! references and the dependency graph, collecting every problem found.

use std::collections::HashMap;
use std::sync::OnceLock;

use indexmap::IndexMap;
use regex::Regex;
use serde_json::Value;

use crate::diag::Collector;
use crate::errors::{PlanError, cycle_text};
use crate::graph::StepGraph;
use crate::input::{InputSpec, InputType, full_match_regex};
use crate::path::{PathSeg, display_path};
use crate::plan::Plan;
use crate::reference::Reference;
use crate::step::{Step, parse_duration};
use crate::suggest::{help_or, list};
use crate::template::Template;
use crate::yaml::{self, Entry, Node, NodeKind, Pos};

/// The plan versions this build understands.
pub const SUPPORTED_VERSIONS: &[u32] = &[1];

const TOP_KEYS: &[&str] = &[
    "version",
    "name",
    "description",
    "inputs",
    "steps",
    "outputs",
    "identity",
];
const OUTPUT_KEYS: &[&str] = &["value", "secret", "description"];
const INPUT_KEYS: &[&str] = &[
    "description",
    "type",
    "pattern",
    "default",
    "choices",
    "secret",
    "advanced",
];
const STEP_KEYS: &[&str] = &[
    "id",
    "kind",
    "description",
    "needs",
    "timeout",
    "for_each",
    "with",
];

const NAME_RULE: &str = "lowercase letters, digits and `_`, starting with a letter";

/// True when `name` is a valid input name or step id (`^[a-z][a-z0-9_]*$`).
pub fn is_valid_name(name: &str) -> bool {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| Regex::new("^[a-z][a-z0-9_]*$").ok())
        .as_ref()
        .is_some_and(|re| re.is_match(name))
}

/// A valid name close to `name`, for the help text.
fn suggest_name(name: &str) -> Option<String> {
    let mut out: String = name
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() { c } else { '_' }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out.insert(0, 'x');
    }
    is_valid_name(&out).then_some(out)
}

fn name_help(name: &str) -> String {
    match suggest_name(name) {
        Some(s) => format!("use {NAME_RULE} (`^[a-z][a-z0-9_]*$`), e.g. `{s}`"),
        None => format!("use {NAME_RULE} (`^[a-z][a-z0-9_]*$`)"),
    }
}

pub(crate) fn parse_plan(file_name: &str, text: &str) -> Result<Plan, PlanError> {
    let mut c = Collector::new(file_name);
    let root = match yaml::load(text) {
        Ok(Some(root)) => root,
        Ok(None) => {
            c.error(
                Pos { line: 1, column: 1 },
                "the plan is empty",
                "start with `version: 1`, a `name` and a list of `steps`",
            );
            return Err(finish_err(c));
        }
        Err(problems) => {
            c.yaml(problems);
            return Err(finish_err(c));
        }
    };
    let Some(entries) = root.entries() else {
        c.error(
            root.pos,
            format!("a plan must be a mapping, got {}", root.type_name()),
            "start with `version: 1`, a `name` and a list of `steps`",
        );
        return Err(finish_err(c));
    };
    unknown_keys(&mut c, entries, TOP_KEYS, "the plan");

    let version = parse_version(&mut c, &root);
    let name = required_string(
        &mut c,
        &root,
        "name",
        "the plan",
        "add `name: <short plan name>`",
    );
    let description = optional_string(&mut c, &root, "description");
    let inputs = parse_inputs(&mut c, &root);
    let steps = parse_steps(&mut c, &root);
    let parsed_outputs = parse_outputs(&mut c, &root);
    let identity = parse_identity(&mut c, &root, &inputs);

    let mut sites = Vec::new();
    let mut step_refs: Vec<Vec<String>> = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let prefix = vec![
            PathSeg::Key("steps".into()),
            PathSeg::Index(i),
            PathSeg::Key("with".into()),
        ];
        let refs = check_references(
            &mut c,
            &root,
            &prefix,
            &step.with,
            &inputs,
            &steps,
            Some(step),
            &mut sites,
        );
        step_refs.push(refs);
        if step.for_each.is_some() {
            let pos = step_field_pos(&root, i, "for_each").unwrap_or(root.pos);
            crate::foreach::check_input_for_each(&mut c, pos, step, &inputs);
        }
    }
    for (name, output) in &parsed_outputs {
        let mut prefix = vec![PathSeg::Key("outputs".into()), PathSeg::Key(name.clone())];
        if output.long_form {
            prefix.push(PathSeg::Key("value".into()));
        }
        check_references(
            &mut c,
            &root,
            &prefix,
            &output.template,
            &inputs,
            &steps,
            None,
            &mut sites,
        );
    }
    crate::taint::check_secret_outputs(&mut c, &inputs, &parsed_outputs);
    let secret_outputs: Vec<String> = parsed_outputs
        .iter()
        .filter(|(_, o)| o.secret)
        .map(|(name, _)| name.clone())
        .collect();
    let outputs: IndexMap<String, Template> = parsed_outputs
        .into_iter()
        .map(|(name, o)| (name, o.template))
        .collect();

    let unique = check_step_ids(&mut c, &root, &steps);
    check_needs(&mut c, &root, &steps);
    let graph = StepGraph::build(
        steps
            .iter()
            .zip(step_refs)
            .map(|(s, refs)| {
                let mut deps = s.needs.clone();
                deps.extend(refs);
                (s.id.clone(), deps)
            })
            .collect(),
    );
    if unique {
        for cycle in graph.cycles() {
            let pos = steps
                .iter()
                .position(|s| Some(&s.id) == cycle.first())
                .and_then(|i| step_field_pos(&root, i, "id"))
                .unwrap_or(root.pos);
            c.error(
                pos,
                format!("steps depend on each other in a cycle: {}", cycle_text(&cycle)),
                "each step waits for the next one (through `needs` or a `${steps...}` reference); remove one of these dependencies",
            );
        }
    }

    c.finish()?;
    Ok(Plan {
        version: version.unwrap_or(1),
        name: name.unwrap_or_default(),
        description,
        inputs,
        steps,
        outputs,
        secret_outputs,
        identity,
        file_name: file_name.to_string(),
        text: text.to_string(),
        root,
        graph,
        sites,
        origin: None,
    })
}

fn finish_err(c: Collector<'_>) -> PlanError {
    match c.finish() {
        Err(e) => e,
        Ok(()) => PlanError::Invalid(crate::errors::Diagnostics::default()),
    }
}

pub(crate) fn unknown_keys(
    c: &mut Collector<'_>,
    entries: &[Entry],
    allowed: &[&str],
    place: &str,
) {
    for e in entries {
        if !allowed.contains(&e.key.as_str()) {
            let help = help_or(&e.key, allowed.iter().copied(), || {
                format!("allowed keys here are {}", list(allowed.iter().copied()))
            });
            c.error(
                e.key_pos,
                format!("unknown key `{}` in {place}", e.key),
                help,
            );
        }
    }
}

fn parse_version(c: &mut Collector<'_>, root: &Node) -> Option<u32> {
    let supported = SUPPORTED_VERSIONS
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let Some(node) = root.get("version") else {
        c.error(
            root.pos,
            "missing `version`",
            "add `version: 1` at the top of the plan",
        );
        return None;
    };
    match &node.kind {
        NodeKind::Scalar(Value::Number(n)) if n.as_u64().is_some() => {
            let v = n.as_u64().unwrap_or_default();
            match u32::try_from(v)
                .ok()
                .filter(|v| SUPPORTED_VERSIONS.contains(v))
            {
                Some(v) => Some(v),
                None => {
                    c.error(
                        node.pos,
                        format!("unsupported plan version {v}"),
                        format!("this twinup supports plan version {supported}; write `version: 1` or use a newer twinup"),
                    );
                    None
                }
            }
        }
        _ => {
            c.error(
                node.pos,
                format!("`version` must be a whole number, got {}", node.type_name()),
                format!("write `version: 1` (this twinup supports plan version {supported})"),
            );
            None
        }
    }
}

fn required_string(
    c: &mut Collector<'_>,
    map: &Node,
    key: &str,
    place: &str,
    help: &str,
) -> Option<String> {
    let Some(node) = map.get(key) else {
        c.error(map.pos, format!("missing `{key}` in {place}"), help);
        return None;
    };
    match &node.kind {
        NodeKind::Scalar(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        NodeKind::Scalar(Value::String(_)) => {
            c.error(node.pos, format!("`{key}` is empty"), help);
            None
        }
        _ => {
            c.error(
                node.pos,
                format!("`{key}` must be a string, got {}", node.type_name()),
                help,
            );
            None
        }
    }
}

fn optional_string(c: &mut Collector<'_>, map: &Node, key: &str) -> Option<String> {
    let node = map.get(key)?;
    match &node.kind {
        NodeKind::Scalar(Value::Null) => None,
        NodeKind::Scalar(Value::String(s)) => Some(s.clone()),
        _ => {
            c.error(
                node.pos,
                format!("`{key}` must be text, got {}", node.type_name()),
                "quote the text, e.g. `description: \"...\"`",
            );
            None
        }
    }
}

/// The entries of an optional mapping section (null or absent = none).
fn section<'n>(c: &mut Collector<'_>, root: &'n Node, key: &str, help: &str) -> &'n [Entry] {
    let Some(node) = root.get(key) else {
        return &[];
    };
    match &node.kind {
        NodeKind::Map(entries) => entries,
        NodeKind::Scalar(Value::Null) => &[],
        _ => {
            c.error(
                node.pos,
                format!("`{key}` must be a mapping, got {}", node.type_name()),
                help,
            );
            &[]
        }
    }
}

fn parse_inputs(c: &mut Collector<'_>, root: &Node) -> IndexMap<String, InputSpec> {
    let entries = section(
        c,
        root,
        "inputs",
        "write each input as `name:` followed by its settings",
    );
    let mut inputs = IndexMap::new();
    for e in entries {
        if !is_valid_name(&e.key) {
            c.error(
                e.key_pos,
                format!("invalid input name `{}`", e.key),
                name_help(&e.key),
            );
        }
        let spec = parse_input(c, e);
        inputs.insert(e.key.clone(), spec);
    }
    inputs
}

fn parse_input(c: &mut Collector<'_>, e: &Entry) -> InputSpec {
    let mut spec = InputSpec::new(e.key.clone());
    let node = &e.value;
    let place = format!("input `{}`", e.key);
    match &node.kind {
        NodeKind::Scalar(Value::Null) => return spec,
        NodeKind::Map(entries) => unknown_keys(c, entries, INPUT_KEYS, &place),
        _ => {
            c.error(
                node.pos,
                format!(
                    "{place} must be a mapping of settings, got {}",
                    node.type_name()
                ),
                format!(
                    "write settings such as {}",
                    list(INPUT_KEYS.iter().copied())
                ),
            );
            return spec;
        }
    }
    spec.description = optional_string(c, node, "description");
    if let Some(t) = node.get("type") {
        match &t.kind {
            NodeKind::Scalar(Value::String(name)) if InputType::from_name(name).is_some() => {
                spec.ty = InputType::from_name(name).unwrap_or_default();
            }
            _ => {
                let word = scalar_text(t);
                let names = InputType::ALL.map(InputType::name);
                let help = help_or(&word, names, || format!("use one of {}", list(names)));
                c.error(t.pos, format!("unknown type `{word}` for {place}"), help);
            }
        }
    }
    let mut pattern_ok = true;
    if let Some(p) = node.get("pattern") {
        match &p.kind {
            NodeKind::Scalar(Value::String(pattern)) => {
                if let Err(err) = full_match_regex(pattern) {
                    pattern_ok = false;
                    let text = err.to_string();
                    let last = text.lines().last().unwrap_or_default().trim();
                    let first_line = last.strip_prefix("error: ").unwrap_or(last);
                    c.error(
                        p.pos,
                        format!("invalid pattern for {place}: {first_line}"),
                        "write a regular expression in single quotes; it must match the whole value",
                    );
                } else if !matches!(spec.ty, InputType::String | InputType::List) {
                    pattern_ok = false;
                    c.error(
                        p.pos,
                        format!(
                            "`pattern` only applies to string and list inputs, but {place} is of type `{}`",
                            spec.ty
                        ),
                        "remove `pattern` or use `type: string` (or `type: list`, whose items must match)",
                    );
                }
                spec.pattern = Some(pattern.clone());
            }
            _ => {
                pattern_ok = false;
                c.error(
                    p.pos,
                    format!(
                        "`pattern` of {place} must be a string, got {}",
                        p.type_name()
                    ),
                    "write the regular expression in single quotes",
                );
            }
        }
    }
    if !pattern_ok {
        spec.pattern = None;
    }
    if let Some(s) = node.get("secret") {
        match &s.kind {
            NodeKind::Scalar(Value::Bool(b)) => spec.secret = *b,
            _ => c.error(
                s.pos,
                format!(
                    "`secret` of {place} must be true or false, got {}",
                    s.type_name()
                ),
                "write `secret: true` or `secret: false`",
            ),
        }
    }
    if let Some(a) = node.get("advanced") {
        match &a.kind {
            NodeKind::Scalar(Value::Bool(b)) => spec.advanced = *b,
            _ => c.error(
                a.pos,
                format!(
                    "`advanced` of {place} must be true or false, got {}",
                    a.type_name()
                ),
                "write `advanced: true` or `advanced: false`",
            ),
        }
    }
    if let Some(ch) = node.get("choices") {
        match &ch.kind {
            NodeKind::Seq(items) if !items.is_empty() => {
                let mut good = true;
                for item in items {
                    if let Err(why) = spec.check(&item.to_value()) {
                        good = false;
                        c.error(
                            item.pos,
                            format!("choice of {place} is invalid: {why}"),
                            "make every choice fit the input's type and pattern",
                        );
                    }
                }
                if good {
                    spec.choices = Some(items.iter().map(Node::to_value).collect());
                }
            }
            _ => c.error(
                ch.pos,
                format!(
                    "`choices` of {place} must be a non-empty list, got {}",
                    ch.type_name()
                ),
                "write the allowed values as a list, e.g. `choices: [dev, prod]`",
            ),
        }
    }
    if let Some(d) = node.get("default") {
        let value = d.to_value();
        match spec.check(&value) {
            Ok(()) => spec.default = Some(value),
            Err(why) => c.error(
                d.pos,
                format!("default of {place} is invalid: {why}"),
                "change the default, or remove it to make the input required",
            ),
        }
    }
    spec
}

fn scalar_text(node: &Node) -> String {
    match &node.kind {
        NodeKind::Scalar(Value::String(s)) => s.clone(),
        NodeKind::Scalar(v) => v.to_string(),
        _ => node.type_name().to_string(),
    }
}

fn parse_steps(c: &mut Collector<'_>, root: &Node) -> Vec<Step> {
    let Some(node) = root.get("steps") else {
        c.error(
            root.pos,
            "missing `steps`",
            "add `steps:` with a list of steps, each with an `id` and a `kind`",
        );
        return Vec::new();
    };
    let items = match &node.kind {
        NodeKind::Seq(items) => items.as_slice(),
        NodeKind::Scalar(Value::Null) => &[],
        _ => {
            c.error(
                node.pos,
                format!("`steps` must be a list, got {}", node.type_name()),
                "write each step as a list item starting with `- id: ...`",
            );
            return Vec::new();
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| parse_step(c, i, item))
        .collect()
}

fn parse_step(c: &mut Collector<'_>, i: usize, node: &Node) -> Step {
    let mut step = Step {
        id: String::new(),
        kind: String::new(),
        description: None,
        needs: Vec::new(),
        with: Template(Value::Object(Default::default())),
        timeout: None,
        for_each: None,
    };
    let Some(entries) = node.entries() else {
        c.error(
            node.pos,
            format!("step {} must be a mapping, got {}", i + 1, node.type_name()),
            "write the step as `- id: ...` with `kind:` and `with:` below it",
        );
        return step;
    };
    let place = format!("step {}", i + 1);
    let id = required_string(
        c,
        node,
        "id",
        &place,
        "give the step a unique `id`, e.g. `id: instance`",
    );
    if let Some(id) = &id {
        if !is_valid_name(id) {
            let pos = node.get("id").map_or(node.pos, |n| n.pos);
            c.error(pos, format!("invalid step id `{id}`"), name_help(id));
        }
        step.id = id.clone();
    }
    let place = id.as_ref().map_or(place, |id| format!("step `{id}`"));
    unknown_keys(c, entries, STEP_KEYS, &place);
    if let Some(kind) = required_string(
        c,
        node,
        "kind",
        &place,
        "name the step kind, e.g. `kind: azure.resource_group`",
    ) {
        step.kind = kind;
    }
    step.description = optional_string(c, node, "description");
    if let Some(needs) = node.get("needs") {
        step.needs = parse_needs(c, needs, &place);
    }
    if let Some(t) = node.get("timeout") {
        let text = scalar_text(t);
        let parsed = match &t.kind {
            NodeKind::Scalar(Value::String(s)) => parse_duration(s).ok(),
            NodeKind::Scalar(Value::Number(n)) if n.is_u64() => parse_duration(&text).ok(),
            _ => None,
        };
        match parsed {
            Some(d) => step.timeout = Some(d),
            None => c.error(
                t.pos,
                format!("invalid timeout `{text}` for {place}"),
                "write a positive duration such as `90s`, `30m` or `2h`, or a whole number of seconds",
            ),
        }
    }
    if let Some(f) = node.get("for_each") {
        step.for_each = crate::foreach::parse_for_each(c, f, &place);
    }
    if let Some(w) = node.get("with") {
        match &w.kind {
            NodeKind::Map(_) => step.with = Template(w.to_value()),
            NodeKind::Scalar(Value::Null) => {}
            _ => c.error(
                w.pos,
                format!("`with` of {place} must be a mapping, got {}", w.type_name()),
                "write the step's parameters as `name: value` lines under `with:`",
            ),
        }
    }
    step
}

fn parse_needs(c: &mut Collector<'_>, node: &Node, place: &str) -> Vec<String> {
    let help = "write `needs: [other_step, ...]` with step ids";
    let items: Vec<&Node> = match &node.kind {
        NodeKind::Seq(items) => items.iter().collect(),
        NodeKind::Scalar(Value::String(_)) => vec![node],
        NodeKind::Scalar(Value::Null) => Vec::new(),
        _ => {
            c.error(
                node.pos,
                format!(
                    "`needs` of {place} must be a list of step ids, got {}",
                    node.type_name()
                ),
                help,
            );
            return Vec::new();
        }
    };
    let mut needs = Vec::new();
    for item in items {
        match &item.kind {
            NodeKind::Scalar(Value::String(s)) => {
                if !needs.contains(s) {
                    needs.push(s.clone());
                }
            }
            _ => c.error(
                item.pos,
                format!(
                    "`needs` of {place} must list step ids, got {}",
                    item.type_name()
                ),
                help,
            ),
        }
    }
    needs
}

/// One entry of `outputs`: `name: VALUE`, or the long form `name: {value: VALUE, secret: true}`.
pub(crate) struct ParsedOutput {
    pub(crate) template: Template,
    pub(crate) secret: bool,
    pub(crate) long_form: bool,
    pub(crate) pos: Pos,
}

fn parse_outputs(c: &mut Collector<'_>, root: &Node) -> IndexMap<String, ParsedOutput> {
    let mut out = IndexMap::new();
    let entries = section(
        c,
        root,
        "outputs",
        "write each output as `name: ${steps.ID.outputs.NAME}`",
    );
    for e in entries {
        // The long form is a mapping with `value` and nothing but output settings.
        let long = e.value.entries().filter(|fields| {
            fields.iter().any(|f| f.key == "value")
                && fields.iter().all(|f| OUTPUT_KEYS.contains(&f.key.as_str()))
        });
        let parsed = match long {
            None => ParsedOutput {
                template: Template(e.value.to_value()),
                secret: false,
                long_form: false,
                pos: e.value.pos,
            },
            Some(_) => {
                let mut secret = false;
                if let Some(s) = e.value.get("secret") {
                    match &s.kind {
                        NodeKind::Scalar(Value::Bool(b)) => secret = *b,
                        _ => c.error(
                            s.pos,
                            format!(
                                "`secret` of output `{}` must be true or false, got {}",
                                e.key,
                                s.type_name()
                            ),
                            "write `secret: true` or `secret: false`",
                        ),
                    }
                }
                let value = e.value.get("value");
                ParsedOutput {
                    template: Template(value.map(Node::to_value).unwrap_or(Value::Null)),
                    secret,
                    long_form: true,
                    pos: value.map_or(e.value.pos, |v| v.pos),
                }
            }
        };
        out.insert(e.key.clone(), parsed);
    }
    out
}

/// `identity:`, the inputs that identify a deployment (a list of input names, not secret).
fn parse_identity(
    c: &mut Collector<'_>,
    root: &Node,
    inputs: &IndexMap<String, InputSpec>,
) -> Vec<String> {
    let Some(node) = root.get("identity") else {
        return Vec::new();
    };
    let help = "list the inputs that identify a deployment, e.g. `identity: [subscription, resource_group, instance_name]`";
    let NodeKind::Seq(items) = &node.kind else {
        c.error(
            node.pos,
            format!(
                "`identity` must be a list of input names, got {}",
                node.type_name()
            ),
            help,
        );
        return Vec::new();
    };
    let mut names = Vec::new();
    for item in items {
        let NodeKind::Scalar(Value::String(name)) = &item.kind else {
            c.error(item.pos, "`identity` items must be input names", help);
            continue;
        };
        let name = name.as_str();
        match inputs.get(name) {
            None => {
                let help = help_or(name, inputs.keys().map(String::as_str), || {
                    format!("declare `{name}` under `inputs:` or remove it from `identity`")
                });
                c.error(
                    item.pos,
                    format!("`identity` names `{name}`, which is not an input"),
                    help,
                );
            }
            Some(spec) if spec.secret => c.error(
                item.pos,
                format!("`identity` names the secret input `{name}`"),
                "a deployment's identity is saved in its checkpoint; name only inputs that are not secret",
            ),
            Some(_) => names.push(name.to_string()),
        }
    }
    names
}

fn steps_help(steps: &[Step]) -> String {
    let mut ids: Vec<&str> = Vec::new();
    for s in steps {
        if !s.id.is_empty() && !ids.contains(&s.id.as_str()) {
            ids.push(&s.id);
        }
    }
    if ids.is_empty() {
        "this plan has no steps yet; add the step or remove the reference".to_string()
    } else {
        format!("the steps are {}", list(ids))
    }
}

fn step_field_pos(root: &Node, i: usize, field: &str) -> Option<Pos> {
    let step = match &root.get("steps")?.kind {
        NodeKind::Seq(items) => items.get(i)?,
        _ => return None,
    };
    Some(step.get(field).map_or(step.pos, |n| n.pos))
}

/// Reports bad `${...}` and references to missing inputs or steps; records
/// every good reference site and returns the steps referenced.
#[allow(clippy::too_many_arguments)]
fn check_references(
    c: &mut Collector<'_>,
    root: &Node,
    prefix: &[PathSeg],
    template: &Template,
    inputs: &IndexMap<String, InputSpec>,
    steps: &[Step],
    current: Option<&Step>,
    sites: &mut Vec<(Vec<PathSeg>, Reference)>,
) -> Vec<String> {
    let mut referenced = Vec::new();
    for (rel, result) in template.reference_sites() {
        let whole = crate::path::value_at(&template.0, &rel)
            .and_then(Value::as_str)
            .is_some_and(crate::template::is_whole_reference);
        let mut path = prefix.to_vec();
        path.extend(rel);
        let pos = crate::path::position(root, &path).unwrap_or(root.pos);
        let refs = match result {
            Ok(refs) => refs,
            Err(why) => {
                c.error(
                    pos,
                    format!("invalid reference in `{}`: {why}", display_path(&path)),
                    "references look like `${inputs.NAME}` or `${steps.ID.outputs.NAME}`; write `$${` for a literal `${`",
                );
                continue;
            }
        };
        for r in refs {
            if let Err((message, help)) = crate::foreach::check_reference(&r, current, steps, whole)
            {
                c.error(pos, message, help);
                continue;
            }
            match &r {
                Reference::Input(name) if !inputs.contains_key(name) => {
                    let help = help_or(name, inputs.keys().map(String::as_str), || {
                        format!("declare `{name}` under `inputs:`")
                    });
                    c.error(
                        pos,
                        format!("`${{{r}}}` refers to input `{name}`, which is not declared"),
                        help,
                    );
                }
                Reference::StepOutput { .. }
                    if !steps.iter().any(|s| Some(s.id.as_str()) == r.step_id()) =>
                {
                    let step = r.step_id().unwrap_or_default();
                    let help = help_or(step, steps.iter().map(|s| s.id.as_str()), || {
                        steps_help(steps)
                    });
                    c.error(
                        pos,
                        format!("`${{{r}}}` refers to step `{step}`, which does not exist"),
                        help,
                    );
                }
                Reference::StepOutput { .. } => {
                    let step = r.step_id().unwrap_or_default().to_string();
                    if !referenced.contains(&step) {
                        referenced.push(step);
                    }
                    sites.push((path.clone(), r.clone()));
                }
                Reference::Input(_) | Reference::Each(_) => sites.push((path.clone(), r.clone())),
            }
        }
    }
    referenced
}

/// Reports duplicate step ids; true when every id is unique.
fn check_step_ids(c: &mut Collector<'_>, root: &Node, steps: &[Step]) -> bool {
    let mut first: HashMap<&str, usize> = HashMap::new();
    let mut unique = true;
    for (i, s) in steps.iter().enumerate() {
        if s.id.is_empty() {
            continue;
        }
        if let Some(&j) = first.get(s.id.as_str()) {
            unique = false;
            let line = step_field_pos(root, j, "id").map_or(0, |p| p.line);
            c.error(
                step_field_pos(root, i, "id").unwrap_or(root.pos),
                format!("duplicate step id `{}`", s.id),
                format!("step ids must be unique; `{}` is first used on line {line}, so rename one of them", s.id),
            );
        } else {
            first.insert(&s.id, i);
        }
    }
    unique
}

fn check_needs(c: &mut Collector<'_>, root: &Node, steps: &[Step]) {
    for (i, s) in steps.iter().enumerate() {
        for (n, need) in s.needs.iter().enumerate() {
            if steps.iter().any(|other| &other.id == need) {
                continue;
            }
            let pos = needs_item_pos(root, i, n, need).unwrap_or(root.pos);
            let help = help_or(need, steps.iter().map(|s| s.id.as_str()), || {
                steps_help(steps)
            });
            c.error(
                pos,
                format!(
                    "step `{}` needs `{need}`, which is not a step in this plan",
                    s.id
                ),
                help,
            );
        }
    }
}

fn needs_item_pos(root: &Node, i: usize, _n: usize, need: &str) -> Option<Pos> {
    let steps = root.get("steps")?;
    let NodeKind::Seq(items) = &steps.kind else {
        return None;
    };
    let needs = items.get(i)?.get("needs")?;
    match &needs.kind {
        NodeKind::Seq(list) => list
            .iter()
            .find(|n| matches!(&n.kind, NodeKind::Scalar(Value::String(s)) if s == need))
            .map(|n| n.pos),
        _ => Some(needs.pos),
    }
}
