//! Input resolution: each input's value comes from the first source that has one, in this
//! order: `--set` > `TWINUP_<NAME>` environment variable > answers file > the checkpoint of an
//! earlier run > an interactive prompt > the plan's default.

use indexmap::IndexMap;
use serde_json::Value;
use twinup_plan::{InputSpec, InputType, Plan, did_you_mean};

use crate::errors::{InputError, MissingInput};
use crate::input_rules::InputRules;

/// Where an input's value came from, for messages and `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputSource {
    /// `--set name=value`.
    Flag,
    /// `TWINUP_<NAME>`.
    Environment,
    /// `--answers FILE`.
    AnswersFile,
    /// Saved by an earlier run.
    Checkpoint,
    /// Asked interactively.
    Prompt,
    /// Computed by the caller (e.g. the only subscription the credential sees).
    Discovered,
    /// The plan's default.
    Default,
}

/// Everything that can provide input values, except the prompt.
#[derive(Debug, Clone, Default)]
pub struct InputSources {
    /// `--set` flags as given (`name=value`).
    pub set: Vec<String>,
    /// Flags of their own that set an input (`--subscription`), as `(flag, "name=value")`;
    /// taken like `--set` (which wins) and named in errors as themselves.
    pub named_flags: Vec<(String, String)>,
    /// The process environment (only `TWINUP_*` entries matter).
    pub env: Vec<(String, String)>,
    /// Values from an answers file, already checked against the plan.
    pub answers: IndexMap<String, Value>,
    /// The answers file's path, for messages.
    pub answers_file: Option<String>,
    /// Values saved in the checkpoint by an earlier run.
    pub saved: IndexMap<String, Value>,
    /// Defaults discovered at run time, which take the place of the plan's default.
    pub discovered: IndexMap<String, Value>,
    /// Ask again for inputs saved in the checkpoint (offering the saved value); without a
    /// prompt, saved values are ignored.
    pub reconfigure: bool,
    /// The step kinds' rules for the fields each input fills, checked wherever a value is
    /// given (empty: only the inputs' own rules).
    pub rules: InputRules,
    /// Inputs whose saved value is not used but offered at the prompt (the answers a failed
    /// preflight blamed); without a prompt they fall back to a discovered value or the plan's
    /// default, else they are missing.
    pub ask_again: Vec<String>,
}

/// Asks a person for an input's value.
pub trait Prompter {
    /// Asks for `spec`, offering `suggested`; re-asks itself, showing the reason, until the
    /// answer passes `check` (the input's rules and those of the fields it fills). Returns the
    /// value, or an error when the prompt fails or is interrupted.
    fn ask(
        &mut self,
        spec: &InputSpec,
        suggested: Option<&Value>,
        check: &dyn Fn(&Value) -> Result<(), String>,
    ) -> Result<Value, InputError>;
}

/// The resolved inputs of a run.
#[derive(Debug, Clone, Default)]
pub struct ResolvedInputs {
    /// Every input's value.
    pub values: IndexMap<String, Value>,
    /// Where each came from.
    pub sources: IndexMap<String, InputSource>,
    /// Names of secret inputs (never saved or shown).
    pub secrets: Vec<String>,
}

impl ResolvedInputs {
    /// The values that may be saved and shown: everything but secrets.
    pub fn non_secret(&self) -> IndexMap<String, Value> {
        self.values
            .iter()
            .filter(|(k, _)| !self.secrets.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// The environment variable that sets input `name`.
pub fn env_var_for(name: &str) -> String {
    format!("TWINUP_{}", name.to_ascii_uppercase())
}

/// Resolves every input of `plan`. `prompter` is `None` when prompting is off; then all
/// inputs without a value are reported together.
pub fn resolve_inputs(
    plan: &Plan,
    sources: &InputSources,
    mut prompter: Option<&mut dyn Prompter>,
) -> Result<ResolvedInputs, InputError> {
    let flags = parse_set_flags(plan, sources, &sources.rules)?;
    let mut resolved = ResolvedInputs::default();
    let mut missing = Vec::new();

    for (name, spec) in &plan.inputs {
        if spec.secret {
            resolved.secrets.push(name.clone());
        }
        let env_name = env_var_for(name);
        let from_env = sources
            .env
            .iter()
            .find(|(k, _)| *k == env_name)
            .map(|(_, v)| v.as_str());

        let found = if let Some(value) = flags.get(name) {
            Some((value.clone(), InputSource::Flag))
        } else if let Some(text) = from_env {
            let value = spec
                .parse_text(text)
                .and_then(|v| sources.rules.check(spec, &v).map(|_| v));
            let value = value.map_err(|message| InputError::Invalid {
                name: name.clone(),
                source_name: format!("environment variable {env_name}"),
                message: with_rule(spec, message),
            })?;
            Some((value, InputSource::Environment))
        } else if let Some(value) = sources.answers.get(name) {
            sources
                .rules
                .check(spec, value)
                .map_err(|message| InputError::Invalid {
                    name: name.clone(),
                    source_name: match &sources.answers_file {
                        Some(path) => format!("the answers file {path}"),
                        None => "the answers file".to_string(),
                    },
                    message: with_rule(spec, message),
                })?;
            Some((value.clone(), InputSource::AnswersFile))
        } else {
            None
        };
        if let Some((value, source)) = found {
            resolved.values.insert(name.clone(), value);
            resolved.sources.insert(name.clone(), source);
            continue;
        }

        let saved = sources
            .saved
            .get(name)
            .filter(|v| !spec.secret && sources.rules.check(spec, v).is_ok());
        let ask_again = sources.reconfigure || sources.ask_again.contains(name);
        if let (Some(value), false) = (saved, ask_again) {
            resolved.values.insert(name.clone(), value.clone());
            resolved
                .sources
                .insert(name.clone(), InputSource::Checkpoint);
            continue;
        }

        let fallback = sources
            .discovered
            .get(name)
            .map(|v| (v.clone(), InputSource::Discovered))
            .or_else(|| spec.default.clone().map(|v| (v, InputSource::Default)));
        let suggested = saved
            .cloned()
            .or_else(|| fallback.as_ref().map(|(v, _)| v.clone()));

        // An advanced option with a value to fall back on is not asked about.
        let ask = !(spec.advanced && suggested.is_some());
        if let Some(prompter) = prompter.as_deref_mut().filter(|_| ask) {
            let check = |v: &Value| sources.rules.check(spec, v);
            let value = prompter.ask(spec, suggested.as_ref(), &check)?;
            resolved.values.insert(name.clone(), value);
            resolved.sources.insert(name.clone(), InputSource::Prompt);
        } else if let Some((value, source)) = saved
            .filter(|_| !ask_again)
            .map(|v| (v.clone(), InputSource::Checkpoint))
            .or(fallback)
        {
            resolved.values.insert(name.clone(), value);
            resolved.sources.insert(name.clone(), source);
        } else {
            missing.push(MissingInput {
                name: name.clone(),
                description: spec.description.clone(),
                hint: value_hint(spec),
            });
        }
    }
    if missing.is_empty() {
        Ok(resolved)
    } else {
        Err(InputError::Missing(missing))
    }
}

/// Parses and checks `--set` flags against the plan.
fn parse_set_flags(
    plan: &Plan,
    sources: &InputSources,
    rules: &InputRules,
) -> Result<IndexMap<String, Value>, InputError> {
    let mut values = IndexMap::new();
    let given = sources
        .named_flags
        .iter()
        .map(|(flag, text)| (flag.as_str(), text))
        .chain(sources.set.iter().map(|text| ("--set", text)));
    for (flag, text) in given {
        let Some((name, raw)) = text.split_once('=') else {
            return Err(InputError::MalformedSet { text: text.clone() });
        };
        let name = name.trim();
        let Some(spec) = plan.inputs.get(name) else {
            return Err(InputError::UnknownInput {
                name: name.to_string(),
                suggestion: did_you_mean(name, plan.inputs.keys().map(|k| k.as_str())),
            });
        };
        let value = spec
            .parse_text(raw)
            .and_then(|v| rules.check(spec, &v).map(|_| v))
            .map_err(|message| InputError::Invalid {
                name: name.to_string(),
                source_name: flag.to_string(),
                message: with_rule(spec, message),
            })?;
        values.insert(name.to_string(), value);
    }
    Ok(values)
}

/// States a pattern failure in the words of the input's description ("3-63 letters, digits,
/// hyphens"), or adds the description to a message that still only shows what is expected.
fn with_rule(spec: &InputSpec, message: String) -> String {
    let message = crate::input_rules::rule_in_words(spec, message);
    match &spec.description {
        Some(d) if message.starts_with("expected") => format!("{message}\n  help: {d}"),
        _ => message,
    }
}

/// A short description of the values an input accepts, for answers-file snippets.
pub fn value_hint(spec: &InputSpec) -> String {
    if let Some(choices) = &spec.choices {
        let list: Vec<String> = choices.iter().map(display_value).collect();
        return format!("one of: {}", list.join(", "));
    }
    let ty = match spec.ty {
        InputType::String => "text",
        InputType::Bool => "true or false",
        InputType::Int => "a whole number",
        InputType::List => "a list, e.g. [a, b]",
        InputType::Map => "a map, e.g. {key: value}",
    };
    match &spec.pattern {
        Some(p) => format!("{ty} matching {p}"),
        None => ty.to_string(),
    }
}

/// A value as a person would type it.
pub fn display_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The inputs a checkpoint was deployed with, for commands that act on an existing deployment
/// (`verify`, `down`): saved values, then plan defaults. Secret inputs are not saved, so steps
/// whose `with` needs one cannot be rendered from a checkpoint alone.
pub fn saved_inputs(plan: &Plan, checkpoint: &crate::checkpoint::Checkpoint) -> ResolvedInputs {
    let mut resolved = ResolvedInputs::default();
    for (name, spec) in &plan.inputs {
        if spec.secret {
            resolved.secrets.push(name.clone());
        }
        if let Some(v) = checkpoint.inputs.get(name) {
            resolved.values.insert(name.clone(), v.clone());
            resolved
                .sources
                .insert(name.clone(), InputSource::Checkpoint);
        } else if let Some(d) = &spec.default {
            resolved.values.insert(name.clone(), d.clone());
            resolved.sources.insert(name.clone(), InputSource::Default);
        }
    }
    resolved
}
