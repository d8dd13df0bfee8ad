//! Reading and checking a step's `with` block: unknown fields, required strings, optional
//! values, and tolerance for values not known before the run (the engine's explicit unknown
//! marker, [`twinup_engine::is_unknown`], in place of what an earlier step will output).

use serde_json::{Map, Value};
use twinup_engine::{FieldError, StepError};

/// True for a list item a string check can take: a string, or a value not known yet.
pub fn string_or_unknown(value: &Value) -> bool {
    value.is_string() || twinup_engine::is_unknown(value)
}

/// Most tags on one resource or resource group.
pub const MAX_TAGS: usize = 50;
/// Longest tag name, in characters.
pub const MAX_TAG_NAME_CHARS: usize = 512;
/// Longest tag value, in characters.
pub const MAX_TAG_VALUE_CHARS: usize = 256;

/// Collects field errors for `with` of kind `kind` that accepts `known` fields.
pub struct Checker<'a> {
    kind: &'static str,
    map: Option<&'a Map<String, Value>>,
    /// Errors found so far.
    pub errors: Vec<FieldError>,
}

impl<'a> Checker<'a> {
    /// Starts checking; reports a non-mapping `with` and unknown fields.
    pub fn new(kind: &'static str, with: &'a Value, known: &[&str]) -> Self {
        let mut errors = Vec::new();
        let map = with.as_object();
        match map {
            None => errors.push(FieldError::new(
                "",
                "`with` must be a mapping",
                format!("give the {kind} fields: {}", known.join(", ")),
            )),
            Some(map) => {
                for key in map.keys() {
                    if !known.contains(&key.as_str()) {
                        let help = twinup_plan::did_you_mean(key, known.iter().copied())
                            .map(|s| format!("did you mean `{s}`?"))
                            .unwrap_or_else(|| format!("{kind} takes: {}", known.join(", ")));
                        errors.push(FieldError::new(
                            key.clone(),
                            format!("unknown field `{key}`"),
                            help,
                        ));
                    }
                }
            }
        }
        Checker { kind, map, errors }
    }

    /// The field's value, if present.
    pub fn get(&self, field: &str) -> Option<&'a Value> {
        self.map.and_then(|m| m.get(field))
    }

    /// A required Azure region: a known region name (see [`crate::regions`]).
    pub fn required_location(&mut self, field: &str) {
        let Some(location) =
            self.required_str(field, "give an Azure region, e.g. `location: westeurope`")
        else {
            return;
        };
        if !crate::regions::is_known(location) {
            let help = match crate::regions::suggest(location) {
                Some(s) => format!("did you mean `{s}`? (`az account list-locations -o table` lists them)"),
                None => "give an Azure region such as westeurope or westus2 (`az account list-locations -o table` lists them)".to_string(),
            };
            self.errors.push(FieldError::new(
                field,
                format!("'{location}' is not an Azure region"),
                help,
            ));
        }
    }

    /// A required non-empty string; returns it when it is known.
    pub fn required_str(&mut self, field: &str, help: &str) -> Option<&'a str> {
        match self.get(field) {
            Some(v) if twinup_engine::is_unknown(v) => None,
            None | Some(Value::Null) => {
                self.errors.push(FieldError::new(
                    field,
                    format!("missing field `{field}`"),
                    help,
                ));
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                self.errors
                    .push(FieldError::new(field, format!("`{field}` is empty"), help));
                None
            }
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                self.errors.push(FieldError::new(
                    field,
                    format!("`{field}` must be a string"),
                    help,
                ));
                None
            }
        }
    }

    /// An optional string; returns it when present and known.
    pub fn optional_str(&mut self, field: &str, help: &str) -> Option<&'a str> {
        match self.get(field) {
            None | Some(Value::Null) => None,
            Some(v) if twinup_engine::is_unknown(v) => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                self.errors.push(FieldError::new(
                    field,
                    format!("`{field}` must be a string"),
                    help,
                ));
                None
            }
        }
    }

    /// An optional string that must be one of `allowed` (case-insensitive).
    pub fn optional_enum(&mut self, field: &str, allowed: &[&str]) {
        if let Some(v) = self.optional_str(field, &format!("one of {}", allowed.join(", ")))
            && !allowed.iter().any(|a| a.eq_ignore_ascii_case(v))
        {
            self.errors.push(FieldError::new(
                field,
                format!("`{field}` is '{v}'"),
                format!("use one of: {}", allowed.join(", ")),
            ));
        }
    }

    /// An optional mapping of string values (tags), within ARM's tag limits: at most
    /// [`MAX_TAGS`] pairs, names up to [`MAX_TAG_NAME_CHARS`] characters without `<>%&\?/`,
    /// values up to [`MAX_TAG_VALUE_CHARS`] (Learn: "Use tags to organize your Azure
    /// resources", Limitations).
    pub fn optional_tags(&mut self, field: &str) {
        match self.get(field) {
            None | Some(Value::Null) => {}
            Some(v) if twinup_engine::is_unknown(v) => {}
            Some(Value::Object(map)) => {
                if map.len() > MAX_TAGS {
                    self.errors.push(FieldError::new(
                        field,
                        format!("{} tags given; Azure allows at most {MAX_TAGS}", map.len()),
                        "remove tags, or combine several values into one tag",
                    ));
                }
                for (k, v) in map {
                    if k.chars().count() > MAX_TAG_NAME_CHARS
                        || k.contains(['<', '>', '%', '&', '\\', '?', '/'])
                    {
                        self.errors.push(FieldError::new(
                            field,
                            format!(
                                "a tag name of {} characters is not allowed",
                                k.chars().count()
                            ),
                            format!(
                                "tag names have at most {MAX_TAG_NAME_CHARS} characters and none of < > % & \\ ? /"
                            ),
                        ));
                    }
                    match v.as_str() {
                        None if twinup_engine::is_unknown(v) => {}
                        None => self.errors.push(FieldError::new(
                            format!("{field}.{k}"),
                            "tag values must be strings",
                            "quote the value, e.g. `env: \"1\"`",
                        )),
                        Some(text) if text.chars().count() > MAX_TAG_VALUE_CHARS => {
                            self.errors.push(FieldError::new(
                                format!("{field}.{k}"),
                                format!(
                                    "the tag value has {} characters; Azure allows at most {MAX_TAG_VALUE_CHARS}",
                                    text.chars().count()
                                ),
                                "shorten the value",
                            ))
                        }
                        Some(_) => {}
                    }
                }
            }
            Some(_) => self.errors.push(FieldError::new(
                field,
                format!("`{field}` must be a mapping of names to strings"),
                format!("e.g. `{field}: {{owner: me}}`"),
            )),
        }
    }

    /// A string field (when present and known) of at most `limit` characters; the error
    /// gives the length, never the value.
    pub fn max_chars(&mut self, field: &str, limit: usize) {
        if let Some(Value::String(s)) = self.get(field)
            && s.chars().count() > limit
        {
            self.errors.push(FieldError::new(
                field,
                format!(
                    "`{field}` has {} characters; Azure allows at most {limit}",
                    s.chars().count()
                ),
                format!("shorten `{field}`"),
            ));
        }
    }

    /// An optional boolean.
    pub fn optional_bool(&mut self, field: &str) {
        match self.get(field) {
            None | Some(Value::Null) | Some(Value::Bool(_)) => {}
            Some(v) if twinup_engine::contains_unknown(v) => {}
            Some(_) => self.errors.push(FieldError::new(
                field,
                format!("`{field}` must be true or false"),
                format!("write `{field}: true` or `{field}: false`"),
            )),
        }
    }

    /// The kind name (for messages).
    pub fn kind(&self) -> &'static str {
        self.kind
    }
}

/// A required string at apply time (references are rendered by then).
pub fn string(with: &Value, field: &str) -> Result<String, StepError> {
    match with.get(field).and_then(Value::as_str) {
        Some(s) if !s.trim().is_empty() => Ok(s.to_string()),
        _ => Err(
            StepError::rejected(format!("`{field}` must be a non-empty string"))
                .with_help(format!("set `{field}` in the step's `with` block")),
        ),
    }
}

/// An optional string at apply time.
pub fn opt_string(with: &Value, field: &str) -> Option<String> {
    with.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
}

/// The strings of the JSON list `value` (other items and a missing or non-list value give
/// none), collected into a `Vec`, a set, ...
pub fn strings_of<C: FromIterator<String>>(value: Option<&Value>) -> C {
    value
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string))
        .into_iter()
        .flatten()
        .collect()
}

/// An optional boolean at apply time.
pub fn opt_bool(with: &Value, field: &str, default: bool) -> bool {
    with.get(field).and_then(Value::as_bool).unwrap_or(default)
}

/// Turns a JSON object into step outputs.
pub fn outputs(value: Value) -> twinup_engine::Outputs {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
