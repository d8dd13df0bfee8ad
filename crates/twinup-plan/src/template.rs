//! `Template`: a JSON value whose strings may hold `${...}` references, and
//! its rendering once the referenced values are known.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::errors::RenderError;
use crate::path::PathSeg;
use crate::reference::{Reference, Segment, escape, scan};

/// A string inside a template that holds references (or a malformed `${`):
/// its path and the references found, or what is wrong.
pub(crate) type ReferenceSite = (Vec<PathSeg>, Result<Vec<Reference>, String>);

/// A value from the plan (a step's `with`, a plan output) that may contain
/// references. Mapping keys are taken literally; only string values are scanned.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Template(pub Value);

impl Template {
    /// A template that renders to `value` exactly: `${` in its strings is escaped.
    pub fn literal(value: &Value) -> Template {
        Template(escape_value(value))
    }

    /// Every well-formed reference, in document order, each once.
    pub fn references(&self) -> Vec<Reference> {
        let mut out = Vec::new();
        walk_strings(&self.0, &mut Vec::new(), &mut |_, s| {
            if let Ok(segments) = scan(s) {
                for seg in segments {
                    if let Segment::Ref(r) = seg
                        && !out.contains(&r)
                    {
                        out.push(r);
                    }
                }
            }
        });
        out
    }

    /// Every string holding references or a `${` error, with its path inside
    /// the template and the scan result (for diagnostics).
    pub(crate) fn reference_sites(&self) -> Vec<ReferenceSite> {
        let mut out = Vec::new();
        walk_strings(&self.0, &mut Vec::new(), &mut |path, s| match scan(s) {
            Ok(segments) => {
                let refs: Vec<Reference> = segments
                    .into_iter()
                    .filter_map(|seg| match seg {
                        Segment::Ref(r) => Some(r),
                        Segment::Text(_) => None,
                    })
                    .collect();
                if !refs.is_empty() {
                    out.push((path.to_vec(), Ok(refs)));
                }
            }
            Err(e) => out.push((path.to_vec(), Err(e))),
        });
        out
    }

    /// Renders the template. A string that is exactly one reference becomes the
    /// referenced value with its own type; other references are written into
    /// the string (strings as they are, other values as compact JSON).
    pub fn render(
        &self,
        resolve: &dyn Fn(&Reference) -> Option<Value>,
    ) -> Result<Value, RenderError> {
        render_value(&self.0, &|r| {
            resolve(r).ok_or_else(|| RenderError::Unresolved(r.clone()))
        })
    }

    /// Renders what can be resolved and leaves the other references in place
    /// as `${...}` text (e.g. inputs known, step outputs not yet). Never fails:
    /// a malformed string is left as it is. The result is itself template
    /// text (a literal `${` stays written as `$${`), so `Template(result)`
    /// renders the rest later.
    pub fn render_partial(&self, resolve: &dyn Fn(&Reference) -> Option<Value>) -> Value {
        partial_value(&self.0, resolve)
    }

    /// True when the template holds no reference.
    pub fn is_literal(&self) -> bool {
        self.references().is_empty()
    }
}

/// What [`Template::map_references`] puts in place of one reference.
pub(crate) enum Replace {
    /// Leave the reference as it is.
    Keep,
    /// A known value, written literally (its `${` escaped).
    Literal(Value),
    /// A template value (may hold references); only used when the reference is the whole string.
    Template(Value),
    /// Another reference.
    Ref(Reference),
}

impl Template {
    /// A copy of the template with references replaced as `f` says. Malformed strings are kept.
    pub(crate) fn map_references(&self, f: &mut dyn FnMut(&Reference) -> Replace) -> Template {
        Template(map_value(&self.0, f))
    }
}

fn map_value(value: &Value, f: &mut dyn FnMut(&Reference) -> Replace) -> Value {
    match value {
        Value::String(s) => {
            let Ok(segments) = scan(s) else {
                return value.clone();
            };
            if !segments.iter().any(|seg| matches!(seg, Segment::Ref(_))) {
                return value.clone();
            }
            if let [Segment::Ref(r)] = segments.as_slice() {
                return match f(r) {
                    Replace::Keep => value.clone(),
                    Replace::Literal(v) => escape_value(&v),
                    Replace::Template(v) => v,
                    Replace::Ref(other) => Value::String(format!("${{{other}}}")),
                };
            }
            let mut out = String::new();
            for seg in segments {
                match seg {
                    Segment::Text(t) => out.push_str(&escape(&t)),
                    Segment::Ref(r) => match f(&r) {
                        Replace::Keep => out.push_str(&format!("${{{r}}}")),
                        Replace::Literal(v) => {
                            let mut rendered = String::new();
                            push_rendered(&mut rendered, &v);
                            out.push_str(&escape(&rendered));
                        }
                        Replace::Template(v) => push_rendered(&mut out, &v),
                        Replace::Ref(other) => out.push_str(&format!("${{{other}}}")),
                    },
                }
            }
            Value::String(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| map_value(v, f)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), map_value(v, f)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// True when `s` is exactly one reference (so it takes the referenced value's type).
pub(crate) fn is_whole_reference(s: &str) -> bool {
    matches!(scan(s).as_deref(), Ok([Segment::Ref(_)]))
}

impl From<Value> for Template {
    fn from(v: Value) -> Self {
        Template(v)
    }
}

fn walk_strings(value: &Value, path: &mut Vec<PathSeg>, f: &mut dyn FnMut(&[PathSeg], &str)) {
    match value {
        Value::String(s) if s.contains('$') => f(path, s),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(PathSeg::Index(i));
                walk_strings(item, path, f);
                path.pop();
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                path.push(PathSeg::Key(k.clone()));
                walk_strings(v, path, f);
                path.pop();
            }
        }
        _ => {}
    }
}

fn syntax(text: &str, message: String) -> RenderError {
    RenderError::Syntax {
        text: text.to_string(),
        message,
    }
}

fn render_value(
    value: &Value,
    resolve: &dyn Fn(&Reference) -> Result<Value, RenderError>,
) -> Result<Value, RenderError> {
    match value {
        Value::String(s) => {
            let segments = scan(s).map_err(|m| syntax(s, m))?;
            if let [Segment::Ref(r)] = segments.as_slice() {
                return resolve(r);
            }
            let mut out = String::new();
            for seg in segments {
                match seg {
                    Segment::Text(t) => out.push_str(&t),
                    Segment::Ref(r) => push_rendered(&mut out, &resolve(&r)?),
                }
            }
            Ok(Value::String(out))
        }
        Value::Array(items) => items
            .iter()
            .map(|v| render_value(v, resolve))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                out.insert(k.clone(), render_value(v, resolve)?);
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

fn push_rendered(out: &mut String, value: &Value) {
    match value {
        Value::String(s) => out.push_str(s),
        other => out.push_str(&other.to_string()),
    }
}

fn partial_value(value: &Value, resolve: &dyn Fn(&Reference) -> Option<Value>) -> Value {
    match value {
        Value::String(s) => {
            let Ok(segments) = scan(s) else {
                return value.clone();
            };
            if let [Segment::Ref(r)] = segments.as_slice() {
                return match resolve(r) {
                    Some(v) => escape_value(&v),
                    None => Value::String(format!("${{{r}}}")),
                };
            }
            let mut out = String::new();
            for seg in segments {
                match seg {
                    Segment::Text(t) => out.push_str(&escape(&t)),
                    Segment::Ref(r) => match resolve(&r) {
                        Some(v) => {
                            let mut rendered = String::new();
                            push_rendered(&mut rendered, &v);
                            out.push_str(&escape(&rendered));
                        }
                        None => out.push_str(&format!("${{{r}}}")),
                    },
                }
            }
            Value::String(out)
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| partial_value(v, resolve)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), partial_value(v, resolve)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Escapes every string inside `value` so it renders back to itself.
fn escape_value(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(escape(s)),
        Value::Array(items) => Value::Array(items.iter().map(escape_value).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), escape_value(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resolver(r: &Reference) -> Option<Value> {
        match r.to_string().as_str() {
            "inputs.name" => Some(json!("adt-1")),
            "inputs.tags" => Some(json!({"env": "dev"})),
            "inputs.count" => Some(json!(3)),
            _ => None,
        }
    }

    #[test]
    fn whole_reference_keeps_its_type() {
        let t = Template(json!({"tags": "${inputs.tags}", "n": "${inputs.count}"}));
        assert_eq!(
            t.render(&resolver).unwrap(),
            json!({"tags": {"env": "dev"}, "n": 3})
        );
    }

    #[test]
    fn mixed_strings_interpolate() {
        let t = Template(json!([
            "${inputs.name}-x",
            "n=${inputs.count} ${inputs.tags}",
            "$${inputs.name}"
        ]));
        assert_eq!(
            t.render(&resolver).unwrap(),
            json!(["adt-1-x", "n=3 {\"env\":\"dev\"}", "${inputs.name}"])
        );
    }

    #[test]
    fn unresolved_reference_is_an_error() {
        let t = Template(json!("${steps.a.outputs.b}"));
        assert_eq!(
            t.render(&resolver).unwrap_err(),
            RenderError::Unresolved(Reference::StepOutput {
                step: "a".into(),
                output: "b".into()
            })
        );
    }

    #[test]
    fn partial_render_keeps_unknown_references() {
        let t = Template(
            json!({"a": "${inputs.name}/${steps.s.outputs.o}", "b": "$${x}", "c": "${inputs.count}"}),
        );
        let partial = t.render_partial(&resolver);
        assert_eq!(
            partial,
            json!({"a": "adt-1/${steps.s.outputs.o}", "b": "$${x}", "c": 3})
        );
        let full = Template(partial)
            .render(&|r| resolver(r).or(Some(json!("out"))))
            .unwrap();
        assert_eq!(full, json!({"a": "adt-1/out", "b": "${x}", "c": 3}));
    }

    #[test]
    fn references_are_listed_once_in_order() {
        let t = Template(json!({"a": "${inputs.b} ${inputs.a}", "c": ["${inputs.b}"]}));
        assert_eq!(
            t.references(),
            vec![Reference::Input("b".into()), Reference::Input("a".into())]
        );
    }
}
