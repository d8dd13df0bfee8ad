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
    /// `${steps.ID.outputs.NAME}`: an output of an earlier step. `step` is the step's
    /// *address*: its id, or for one item of a `for_each` step `ID["KEY"]` (before
    /// [`Plan::expand`](crate::Plan::expand) also `ID[each.key]`). A reference without an
    /// index to a `for_each` step stands for the map of every item's output.
    StepOutput {
        /// The step address (see [`Reference::step_id`] and [`Reference::step_index`]).
        step: String,
        /// The output name.
        output: String,
    },
    /// `${each.key}` or `${each.value...}`: the current item of a `for_each` step.
    Each(EachRef),
}

/// Which part of the current `for_each` item a `${each...}` reference reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EachRef {
    /// `${each.key}`: the item's key (for a list, the item itself).
    Key,
    /// `${each.value}` or `${each.value.FIELD.FIELD}`: the item's value, or a field of it.
    Value(Vec<String>),
}

/// The index part of a step address: which item of a `for_each` step.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StepIndex {
    /// `ID["KEY"]`: the item with this key.
    Key(String),
    /// `ID[each.key]`: the item with the same key as the current item.
    EachKey,
}

/// The address of item `key` of step `id`: `id["key"]`, the id its state has in a checkpoint.
pub fn item_address(id: &str, key: &str) -> String {
    format!("{id}[\"{key}\"]")
}

/// Splits a step address into the step id and its index, if any.
pub fn split_address(address: &str) -> (&str, Option<StepIndex>) {
    let Some(open) = address.find('[') else {
        return (address, None);
    };
    let id = &address[..open];
    let inner = address[open + 1..].trim_end_matches(']');
    if inner == "each.key" {
        return (id, Some(StepIndex::EachKey));
    }
    let key = inner.trim_matches('"');
    (id, Some(StepIndex::Key(key.to_string())))
}

/// True when `key` can name a `for_each` item: 1 to 80 letters, digits, `_`, `-` and `.`.
pub fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 80
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

impl Reference {
    /// The step address this reference reads from, if any (`ID` or `ID["KEY"]`).
    pub fn step(&self) -> Option<&str> {
        match self {
            Reference::Input(_) | Reference::Each(_) => None,
            Reference::StepOutput { step, .. } => Some(step),
        }
    }

    /// The id of the step this reference reads from, without any item index.
    pub fn step_id(&self) -> Option<&str> {
        self.step().map(|s| split_address(s).0)
    }

    /// The item index of the step address, if it has one.
    pub fn step_index(&self) -> Option<StepIndex> {
        self.step().and_then(|s| split_address(s).1)
    }

    /// Parses the text between `${` and `}` (e.g. `inputs.name`).
    pub fn parse(text: &str) -> Result<Reference, String> {
        let inner = text.trim();
        if let Some(rest) = inner.strip_prefix("steps.") {
            return parse_step_output(inner, rest);
        }
        if inner == "each" || inner.starts_with("each.") {
            return parse_each(inner);
        }
        let parts: Vec<&str> = inner.split('.').collect();
        match parts.as_slice() {
            ["inputs", name] => {
                check_name(name, "input name")?;
                Ok(Reference::Input((*name).to_string()))
            }
            ["input" | "inputs", ..] if parts.len() != 2 || parts[0] == "input" => Err(format!(
                "`${{{inner}}}` is not a valid input reference; write `${{inputs.NAME}}`"
            )),
            ["step" | "steps", ..] => Err(step_syntax(inner)),
            _ => Err(format!(
                "`${{{inner}}}` is not a reference; write `${{inputs.NAME}}`, `${{steps.ID.outputs.NAME}}` or, in a `for_each` step, `${{each.key}}` / `${{each.value}}`"
            )),
        }
    }
}

fn step_syntax(inner: &str) -> String {
    format!(
        "`${{{inner}}}` is not a valid step reference; write `${{steps.ID.outputs.NAME}}` (or `${{steps.ID[each.key].outputs.NAME}}` / `${{steps.ID[\"KEY\"].outputs.NAME}}` for an item of a `for_each` step)"
    )
}

/// `steps.` has been stripped from `rest`: `ID[INDEX]?.outputs.NAME`.
fn parse_step_output(inner: &str, rest: &str) -> Result<Reference, String> {
    let id_end = rest.find(['.', '[']).unwrap_or(rest.len());
    let id = &rest[..id_end];
    check_name(id, "step id")?;
    let mut tail = &rest[id_end..];
    let mut address = id.to_string();
    if let Some(after) = tail.strip_prefix('[') {
        let Some(close) = after.find(']') else {
            return Err(step_syntax(inner));
        };
        let index = after[..close].trim();
        if index == "each.key" {
            address.push_str("[each.key]");
        } else if let Some(key) = index.strip_prefix('"').and_then(|k| k.strip_suffix('"')) {
            if !is_valid_key(key) {
                return Err(format!(
                    "`{key}` is not a valid item key; keys are 1 to 80 letters, digits, `_`, `-` and `.`"
                ));
            }
            address = item_address(id, key);
        } else {
            return Err(format!(
                "`[{index}]` in `${{{inner}}}` is not an item index; write `[each.key]` or a quoted key such as `[\"contoso\"]`"
            ));
        }
        tail = &after[close + 1..];
    }
    let parts: Vec<&str> = tail.split('.').collect();
    match parts.as_slice() {
        ["", "outputs", output] => {
            check_name(output, "output name")?;
            Ok(Reference::StepOutput {
                step: address,
                output: (*output).to_string(),
            })
        }
        _ => Err(step_syntax(inner)),
    }
}

fn parse_each(inner: &str) -> Result<Reference, String> {
    let parts: Vec<&str> = inner.split('.').collect();
    match parts.as_slice() {
        ["each", "key"] => Ok(Reference::Each(EachRef::Key)),
        ["each", "value", fields @ ..] => {
            for f in fields {
                check_name(f, "field name")?;
            }
            Ok(Reference::Each(EachRef::Value(
                fields.iter().map(|f| (*f).to_string()).collect(),
            )))
        }
        _ => Err(format!(
            "`${{{inner}}}` is not a valid item reference; write `${{each.key}}`, `${{each.value}}` or `${{each.value.FIELD}}`"
        )),
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
            Reference::Each(EachRef::Key) => write!(f, "each.key"),
            Reference::Each(EachRef::Value(fields)) => {
                write!(f, "each.value")?;
                for field in fields {
                    write!(f, ".{field}")?;
                }
                Ok(())
            }
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
    fn item_addresses_split_into_id_and_index() {
        let r = Reference::parse("steps.instance[\"contoso\"].outputs.id").unwrap();
        assert_eq!(r.step(), Some("instance[\"contoso\"]"));
        assert_eq!(r.step_id(), Some("instance"));
        assert_eq!(r.step_index(), Some(StepIndex::Key("contoso".into())));
        let r = Reference::parse("steps.instance[each.key].outputs.id").unwrap();
        assert_eq!(r.step_index(), Some(StepIndex::EachKey));
        assert_eq!(
            Reference::parse("steps.a.outputs.b").unwrap().step_index(),
            None
        );
        assert!(Reference::parse("steps.a[0].outputs.b").is_err());
        assert!(Reference::parse("steps.a[\"x y\"].outputs.b").is_err());
        assert!(Reference::parse("each.item").is_err());
        assert_eq!(
            Reference::parse("each.value.region").unwrap(),
            Reference::Each(EachRef::Value(vec!["region".into()]))
        );
    }

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
            "`${steps.a.output.b}` is not a valid step reference; write `${steps.ID.outputs.NAME}` (or `${steps.ID[each.key].outputs.NAME}` / `${steps.ID[\"KEY\"].outputs.NAME}` for an item of a `for_each` step)"
        );
        assert_eq!(
            scan("x ${inputs.a").unwrap_err(),
            "a `${` is not closed by `}`; close it, or write `$${` for a literal `${`"
        );
        assert!(scan("${}").is_err());
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "inputs.a",
            "steps.s.outputs.y",
            "steps.s[each.key].outputs.y",
            "steps.s[\"k-1\"].outputs.y",
            "each.key",
            "each.value",
            "each.value.a.b",
        ] {
            assert_eq!(Reference::parse(text).unwrap().to_string(), text);
        }
    }
}
