//! Plan inputs: `InputType`, `InputSpec`, checking a value against a spec and
//! turning text (`--set`, environment variables, prompts) into a value.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::yaml;

/// The type of an input's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputType {
    /// Text (the default).
    #[default]
    String,
    /// `true` or `false`.
    Bool,
    /// A whole number.
    Int,
    /// A list of values.
    List,
    /// A mapping of names to values.
    Map,
}

impl InputType {
    /// All types, in the order they are documented.
    pub const ALL: [InputType; 5] = [
        InputType::String,
        InputType::Bool,
        InputType::Int,
        InputType::List,
        InputType::Map,
    ];

    /// The name used in plans (`string`, `bool`, ...).
    pub fn name(self) -> &'static str {
        match self {
            InputType::String => "string",
            InputType::Bool => "bool",
            InputType::Int => "int",
            InputType::List => "list",
            InputType::Map => "map",
        }
    }

    /// The type with this plan name.
    pub fn from_name(name: &str) -> Option<InputType> {
        InputType::ALL.into_iter().find(|t| t.name() == name)
    }

    fn expectation(self) -> &'static str {
        match self {
            InputType::String => "a string",
            InputType::Bool => "true or false",
            InputType::Int => "a whole number",
            InputType::List => "a list, e.g. [a, b]",
            InputType::Map => "a mapping, e.g. {key: value}",
        }
    }

    fn matches(self, value: &Value) -> bool {
        match self {
            InputType::String => value.is_string(),
            InputType::Bool => value.is_boolean(),
            InputType::Int => value.is_i64() || value.is_u64(),
            InputType::List => value.is_array(),
            InputType::Map => value.is_object(),
        }
    }
}

impl std::fmt::Display for InputType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One declared input of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    /// The input's name (`^[a-z][a-z0-9_]*$`).
    pub name: String,
    /// What the input is for, shown in prompts and errors.
    pub description: Option<String>,
    /// The type of value expected.
    #[serde(rename = "type")]
    pub ty: InputType,
    /// A regular expression the whole string value (or each item of a list) must match.
    pub pattern: Option<String>,
    /// The value used when none is given; without one the input is required.
    pub default: Option<Value>,
    /// The only values allowed.
    pub choices: Option<Vec<Value>>,
    /// True when the value must not be shown or logged.
    pub secret: bool,
    /// True for an option the guided run does not ask about while it has a default (it is
    /// still taken from `--set`, the environment and answers files).
    #[serde(default)]
    pub advanced: bool,
}

impl InputSpec {
    /// A required string input with no constraints.
    pub fn new(name: impl Into<String>) -> InputSpec {
        InputSpec {
            name: name.into(),
            description: None,
            ty: InputType::String,
            pattern: None,
            default: None,
            choices: None,
            secret: false,
            advanced: false,
        }
    }

    /// True when the input has no default and so must be given.
    pub fn is_required(&self) -> bool {
        self.default.is_none()
    }

    /// Checks type, control characters, pattern (which must match the whole string) and
    /// choices. The error says what is expected, e.g. "expected a string matching `^a+$`".
    pub fn check(&self, value: &Value) -> Result<(), String> {
        if !self.ty.matches(value) {
            return Err(format!(
                "expected {}, got {}",
                self.ty.expectation(),
                self.shown(value)
            ));
        }
        if let Some(found) = crate::text::first_control_in(value) {
            return Err(format!(
                "the value contains the control character {found}, which no name, tag or \
                 setting may hold; remove it (it may have come from a copy and paste)"
            ));
        }
        if let Some(pattern) = &self.pattern {
            let re = full_match_regex(pattern).map_err(|e| {
                format!("the input's pattern `{pattern}` is not a valid regular expression: {e}")
            })?;
            match value {
                Value::String(s) if !re.is_match(s) => {
                    return Err(format!(
                        "expected a string matching `{pattern}`, got {}",
                        self.shown(value)
                    ));
                }
                // A list's pattern is the one each of its items must match.
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if !item.as_str().is_some_and(|s| re.is_match(s)) {
                            return Err(format!(
                                "expected every item to be a string matching `{pattern}`, but item {} is {}",
                                i + 1,
                                self.shown(item)
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some(choices) = &self.choices
            && !choices.contains(value)
        {
            let list: Vec<String> = choices.iter().map(|c| format!("`{}`", plain(c))).collect();
            return Err(format!(
                "expected one of {}, got {}",
                list.join(", "),
                self.shown(value)
            ));
        }
        Ok(())
    }

    /// Describes `value` for an error message, hiding it for secret inputs.
    fn shown(&self, value: &Value) -> String {
        if self.secret && value.is_string() {
            "a value that is not shown because the input is secret".to_string()
        } else {
            describe(value)
        }
    }

    /// Turns text from `--set name=value`, an environment variable or a prompt
    /// into a value of this input's type, then checks it. Strings are taken as
    /// they are; bools accept true/false/yes/no; lists and maps use YAML or
    /// JSON flow syntax (`[a, b]`, `{k: v}`).
    pub fn parse_text(&self, text: &str) -> Result<Value, String> {
        let value = self.convert_text(text).map_err(|why| {
            if self.secret {
                format!(
                    "expected {} (the value is not shown because the input is secret)",
                    self.ty.expectation()
                )
            } else {
                why
            }
        })?;
        self.check(&value)?;
        Ok(value)
    }

    fn convert_text(&self, text: &str) -> Result<Value, String> {
        Ok(match self.ty {
            InputType::String => Value::String(text.to_string()),
            InputType::Bool => match text.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" => Value::Bool(true),
                "false" | "no" => Value::Bool(false),
                _ => return Err(format!("expected true, false, yes or no, got `{text}`")),
            },
            InputType::Int => match text.trim().parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(_) => return Err(format!("expected a whole number, got `{text}`")),
            },
            InputType::List | InputType::Map => parse_flow(text, self.ty)?,
        })
    }
}

fn parse_flow(text: &str, ty: InputType) -> Result<Value, String> {
    let value = match yaml::load(text) {
        Ok(Some(node)) => node.to_value(),
        Ok(None) => Value::Null,
        Err(problems) => {
            let detail = problems
                .first()
                .map(|p| p.message.clone())
                .unwrap_or_default();
            return Err(format!("expected {} ({detail})", ty.expectation()));
        }
    };
    if ty.matches(&value) {
        Ok(value)
    } else {
        Err(format!("expected {}, got `{text}`", ty.expectation()))
    }
}

/// Compiles `pattern` so that it must match the whole string.
pub(crate) fn full_match_regex(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::Regex::new(&format!("^(?:{pattern})$"))
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Describes a value for an error message, e.g. "the string `abc`".
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("`{s}`"),
        Value::Null => "nothing".to_string(),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "a mapping".to_string(),
        other => format!("`{other}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(ty: InputType) -> InputSpec {
        InputSpec {
            ty,
            ..InputSpec::new("x")
        }
    }

    #[test]
    fn check_reports_type_pattern_and_choices() {
        let mut s = spec(InputType::String);
        s.pattern = Some("[a-z]+".into());
        assert_eq!(s.check(&json!("abc")), Ok(()));
        assert_eq!(
            s.check(&json!("abc1")),
            Err("expected a string matching `[a-z]+`, got `abc1`".into())
        );
        assert_eq!(s.check(&json!(3)), Err("expected a string, got `3`".into()));
        s.pattern = None;
        s.choices = Some(vec![json!("dev"), json!("prod")]);
        assert_eq!(
            s.check(&json!("test")),
            Err("expected one of `dev`, `prod`, got `test`".into())
        );
        assert_eq!(
            spec(InputType::Map).check(&json!([1])),
            Err("expected a mapping, e.g. {key: value}, got a list".into())
        );
    }

    #[test]
    fn pattern_must_match_the_whole_string() {
        let mut s = spec(InputType::String);
        s.pattern = Some("a|b".into());
        assert!(s.check(&json!("a")).is_ok());
        assert!(s.check(&json!("ab")).is_err());
    }

    #[test]
    fn parse_text_converts_per_type() {
        assert_eq!(
            spec(InputType::String).parse_text(" 42 "),
            Ok(json!(" 42 "))
        );
        assert_eq!(spec(InputType::Bool).parse_text("Yes"), Ok(json!(true)));
        assert_eq!(spec(InputType::Bool).parse_text("no"), Ok(json!(false)));
        assert_eq!(
            spec(InputType::Bool).parse_text("maybe"),
            Err("expected true, false, yes or no, got `maybe`".into())
        );
        assert_eq!(spec(InputType::Int).parse_text("-7"), Ok(json!(-7)));
        assert_eq!(
            spec(InputType::Int).parse_text("7.5"),
            Err("expected a whole number, got `7.5`".into())
        );
        assert_eq!(
            spec(InputType::List).parse_text("[a, 2]"),
            Ok(json!(["a", 2]))
        );
        assert_eq!(
            spec(InputType::Map).parse_text(r#"{"env": "dev", n: 1}"#),
            Ok(json!({"env": "dev", "n": 1}))
        );
        assert_eq!(
            spec(InputType::List).parse_text("a, b"),
            Err("expected a list, e.g. [a, b], got `a, b`".into())
        );
    }

    #[test]
    fn secret_values_are_not_echoed() {
        let mut s = spec(InputType::String);
        s.secret = true;
        s.pattern = Some("[a-z]+".into());
        let err = s.parse_text("Hunter2").unwrap_err();
        assert!(!err.contains("Hunter2"), "{err}");
        assert_eq!(
            err,
            "expected a string matching `[a-z]+`, got a value that is not shown because the input is secret"
        );
        s.ty = InputType::List;
        s.pattern = None;
        assert!(!s.parse_text("sekrit").unwrap_err().contains("sekrit"));
    }

    #[test]
    fn required_means_no_default() {
        let mut s = spec(InputType::Int);
        assert!(s.is_required());
        s.default = Some(json!(1));
        assert!(!s.is_required());
    }
}
