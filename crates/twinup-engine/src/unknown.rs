//! Values not known yet. Before a run, `validate` and `preflight` see a step's `with` with its
//! inputs (and, in preflight, finished steps' outputs) filled in, while a value that depends on
//! an output a step has not produced yet is *unknown*. Such a value is passed to the kind as an
//! explicit marker ([`unknown`]) instead of its `${...}` text, so a kind asks [`is_unknown`]
//! and a literal `${` (written `$${` in a plan) is checked like any other text.
//!
//! Contact points: [`draft`] (the engine's one way to render a `with` before a run) and the
//! predicates kinds use ([`is_unknown`], [`contains_unknown`]).

use serde_json::{Map, Value};
use twinup_plan::{Reference, RenderError, Template};

/// The key of the one-entry object that stands for an unknown value; its value is the
/// template text the value comes from (for messages only).
pub const UNKNOWN_KEY: &str = "$twinup_unknown";

/// The marker for a value known only once the run produces it; `source` is its template text.
pub fn unknown(source: &str) -> Value {
    let mut map = Map::new();
    map.insert(UNKNOWN_KEY.to_string(), Value::String(source.to_string()));
    Value::Object(map)
}

/// True when `value` is the marker of an unknown value.
pub fn is_unknown(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.len() == 1 && map.contains_key(UNKNOWN_KEY),
        _ => false,
    }
}

/// The template text an unknown value comes from (e.g. `${steps.adt.outputs.id}`), for a
/// kind that learns from it which step will produce the value; `None` for a known value.
pub fn unknown_source(value: &Value) -> Option<&str> {
    match value {
        Value::Object(map) if is_unknown(value) => map.get(UNKNOWN_KEY).and_then(Value::as_str),
        _ => None,
    }
}

/// True when `value` is, or holds anywhere inside it, an unknown value.
pub fn contains_unknown(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.iter().any(contains_unknown),
        Value::Object(map) => is_unknown(value) || map.values().any(contains_unknown),
        _ => false,
    }
}

/// `with` rendered as far as `resolve` knows: every string whose references all resolve is
/// its final value (escapes undone, a whole-string reference keeps the referenced value's
/// type); a string with a reference `resolve` does not know becomes [`unknown`]. A malformed
/// string (reported by plan validation) is kept as written.
pub fn draft(with: &Template, resolve: &dyn Fn(&Reference) -> Option<Value>) -> Value {
    draft_value(&with.0, resolve)
}

fn draft_value(value: &Value, resolve: &dyn Fn(&Reference) -> Option<Value>) -> Value {
    match value {
        Value::String(text) => match Template(value.clone()).render(resolve) {
            Ok(rendered) => rendered,
            Err(RenderError::Unresolved(_)) => unknown(text),
            Err(_) => value.clone(),
        },
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| draft_value(v, resolve)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), draft_value(v, resolve)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn known_input(r: &Reference) -> Option<Value> {
        match r {
            Reference::Input(name) if name == "name" => Some(json!("adt-1")),
            _ => None,
        }
    }

    #[test]
    fn known_text_is_final_and_unknown_text_is_a_marker() {
        let with = Template(json!({
            "a": "${inputs.name}",
            "b": "$${x}",
            "c": "${inputs.name}/${steps.s.outputs.o}",
            "d": ["${steps.s.outputs.o}", 3],
        }));
        let drafted = draft(&with, &known_input);
        assert_eq!(drafted["a"], json!("adt-1"));
        assert_eq!(
            drafted["b"],
            json!("${x}"),
            "a literal `${{` is text, not unknown"
        );
        assert!(!is_unknown(&drafted["b"]));
        assert!(is_unknown(&drafted["c"]));
        assert_eq!(
            drafted["c"][UNKNOWN_KEY],
            json!("${inputs.name}/${steps.s.outputs.o}")
        );
        assert!(is_unknown(&drafted["d"][0]));
        assert_eq!(
            unknown_source(&drafted["d"][0]),
            Some("${steps.s.outputs.o}")
        );
        assert_eq!(unknown_source(&drafted["a"]), None);
        assert!(contains_unknown(&drafted));
        assert!(!contains_unknown(&drafted["a"]));
    }
}
