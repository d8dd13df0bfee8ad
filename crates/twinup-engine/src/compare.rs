//! Field-level comparison of a step's rendered `with` with its live state. The engine knows
//! no service's rules: a kind normalises the values it compares ([`crate::KindSchema::normalize`]:
//! Azure's names are case-insensitive, its locations ignore spaces), and the engine compares
//! the normalised values exactly.

use serde::Serialize;
use serde_json::Value;

use crate::kind::KindSchema;

/// One field that differs between the plan and the live resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// Dotted path inside `with`, e.g. `tags.env` or `redirect_uris`.
    pub field: String,
    /// What exists now.
    pub live: Value,
    /// What the plan asks for.
    pub wanted: Value,
}

/// Compares the fields of `wanted` (a rendered `with`) that the live properties also have,
/// after `kind` normalised both sides. Fields the kind does not report, and live values that
/// are `null` (not reported), are not compared.
pub fn diff_fields(kind: &dyn KindSchema, wanted: &Value, live: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    if let (Some(w), Some(l)) = (wanted.as_object(), live.as_object()) {
        for (key, want) in w {
            match l.get(key) {
                None | Some(Value::Null) => {}
                Some(have) => diff_value(kind, key, want, have, &mut out),
            }
        }
    }
    out
}

fn diff_value(
    kind: &dyn KindSchema,
    path: &str,
    want: &Value,
    have: &Value,
    out: &mut Vec<FieldChange>,
) {
    if want.is_null() {
        return;
    }
    if let (Some(w), Some(h)) = (want.as_object(), have.as_object()) {
        let mut keys: Vec<&String> = w.keys().collect();
        keys.extend(h.keys().filter(|k| !w.contains_key(*k)));
        for key in keys {
            let sub = format!("{path}.{key}");
            match (w.get(key), h.get(key)) {
                (Some(a), Some(b)) => diff_value(kind, &sub, a, b, out),
                (a, b) => out.push(FieldChange {
                    field: sub,
                    live: b.cloned().unwrap_or(Value::Null),
                    wanted: a.cloned().unwrap_or(Value::Null),
                }),
            }
        }
        return;
    }
    if !same(kind, path, want, have) {
        out.push(FieldChange {
            field: path.to_string(),
            live: have.clone(),
            wanted: want.clone(),
        });
    }
}

fn same(kind: &dyn KindSchema, path: &str, want: &Value, have: &Value) -> bool {
    match (want, have) {
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(kind, path, x, y))
        }
        (Value::Object(_), Value::Object(_)) => {
            let mut changes = Vec::new();
            diff_value(kind, path, want, have, &mut changes);
            changes.is_empty()
        }
        _ => kind.normalize(path, want) == kind.normalize(path, have),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn file() -> crate::kinds::FileKind {
        crate::kinds::FileKind
    }

    #[test]
    fn compares_only_reported_fields() {
        let with = json!({"name": "x", "location": "westus2", "tags": {"a": "1"}});
        let live = json!({"location": "westus2", "tags": {"a": "1"}, "host_name": "h"});
        assert!(diff_fields(&file(), &with, &live).is_empty());
    }

    #[test]
    fn reports_nested_and_list_changes() {
        let with = json!({"tags": {"a": "1"}, "redirect_uris": ["http://localhost"]});
        let live = json!({"tags": {"a": "2", "b": "3"}, "redirect_uris": ["https://other"]});
        let fields: Vec<String> = diff_fields(&file(), &with, &live)
            .into_iter()
            .map(|c| c.field)
            .collect();
        assert_eq!(fields, vec!["tags.a", "tags.b", "redirect_uris"]);
    }

    #[test]
    fn null_live_values_are_not_compared() {
        let with = json!({"identity": "None"});
        assert!(diff_fields(&file(), &with, &json!({"identity": null})).is_empty());
        assert_eq!(
            diff_fields(&file(), &with, &json!({"identity": "SystemAssigned"})).len(),
            1
        );
    }
}
