//! `${...}` references: the `Reference` type and the scanner that splits a
//! string into literal text and references (`$${` is a literal `${`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a `${...}` in a plan points at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reference {
    /// `${inputs.NAME}`: the value of a plan input.
    Input(String),
    /// `${steps.ID.outputs.NAME}`: an output of an earlier step.
    StepOutput {
        /// The step id.
        step: String,
        /// The output name.
        output: String,
    },
}

impl Reference {
    /// The step this reference reads from, if any.
    pub fn step(&self) -> Option<&str> {
        match self {
            Reference::Input(_) => None,
            Reference::StepOutput { step, .. } => Some(step),
        }
    }

    /// Parses the text between `${` and `}` (e.g. `inputs.name`).
    pub fn parse(text: &str) -> Result<Reference, String> {
        let inner = text.trim();
        let parts: Vec<&str> = inner.split('.').collect();
        match parts.as_slice() {
            ["inputs", name] => {
                check_name(name, "input name")?;
                Ok(Reference::Input((*name).to_string()))
            }
            ["steps", step, "outputs", output] => {
                check_name(step, "step id")?;
                check_name(output, "output name")?;
                Ok(Reference::StepOutput {
                    step: (*step).to_string(),
                    output: (*output).to_string(),
                })
            }
            ["input" | "inputs", ..] if parts.len() != 2 || parts[0] == "input" => Err(format!(
                "`${{{inner}}}` is not a valid input reference; write `${{inputs.NAME}}`"
            )),
            ["step" | "steps", ..] => Err(format!(
                "`${{{inner}}}` is not a valid step reference; write `${{steps.ID.outputs.NAME}}`"
            )),
            _ => Err(format!(
                "`${{{inner}}}` is not a reference; write `${{inputs.NAME}}` or `${{steps.ID.outputs.NAME}}`"
            )),
        }
    }
}

fn check_name(name: &str, what: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid {what}; use letters, digits, `_` and `-`"
        ))
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Input(name) => write!(f, "inputs.{name}"),
            Reference::StepOutput { step, output } => write!(f, "steps.{step}.outputs.{output}"),
        }
    }
}

/// A piece of a template string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// Literal text, with `$${` already turned into `${`.
    Text(String),
    /// A `${...}` reference.
    Ref(Reference),
}

/// Splits `s` into literal text and references.
pub(crate) fn scan(s: &str) -> Result<Vec<Segment>, String> {
    let mut segments = Vec::new();
    let mut text = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        text.push_str(&rest[..i]);
        let after = &rest[i..];
        if let Some(tail) = after.strip_prefix("$${") {
            text.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            let Some(end) = tail.find('}') else {
                return Err(
                    "a `${` is not closed by `}`; close it, or write `$${` for a literal `${`"
                        .to_string(),
                );
            };
            let reference = Reference::parse(&tail[..end])?;
            if !text.is_empty() {
                segments.push(Segment::Text(std::mem::take(&mut text)));
            }
            segments.push(Segment::Ref(reference));
            rest = &tail[end + 1..];
        } else {
            text.push('$');
            rest = &after[1..];
        }
    }
    text.push_str(rest);
    if !text.is_empty() {
        segments.push(Segment::Text(text));
    }
    Ok(segments)
}

/// Escapes literal text so that `scan` gives it back unchanged.
pub(crate) fn escape(text: &str) -> String {
    text.replace("${", "$${")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_text_and_references() {
        let segs = scan("https://${steps.instance.outputs.host_name}/x").unwrap();
        assert_eq!(
            segs,
            vec![
                Segment::Text("https://".into()),
                Segment::Ref(Reference::StepOutput {
                    step: "instance".into(),
                    output: "host_name".into()
                }),
                Segment::Text("/x".into()),
            ]
        );
    }

    #[test]
    fn double_dollar_is_a_literal() {
        assert_eq!(
            scan("a $${inputs.x} $5 $").unwrap(),
            vec![Segment::Text("a ${inputs.x} $5 $".into())]
        );
    }

    #[test]
    fn bad_references_say_what_to_write() {
        assert_eq!(
            scan("${input.x}").unwrap_err(),
            "`${input.x}` is not a valid input reference; write `${inputs.NAME}`"
        );
        assert_eq!(
            scan("${steps.a.output.b}").unwrap_err(),
            "`${steps.a.output.b}` is not a valid step reference; write `${steps.ID.outputs.NAME}`"
        );
        assert_eq!(
            scan("x ${inputs.a").unwrap_err(),
            "a `${` is not closed by `}`; close it, or write `$${` for a literal `${`"
        );
        assert!(scan("${}").is_err());
    }

    #[test]
    fn display_round_trips() {
        for text in ["inputs.a", "steps.s.outputs.y"] {
            assert_eq!(Reference::parse(text).unwrap().to_string(), text);
        }
    }
}
