//! The rules an input's value must keep, checked where the value is given (a prompt, `--set`,
//! the environment, an answers file): the input's own (`InputSpec::check`: type, pattern,
//! choices) and every step kind's rule for a `with` field the input fills (a field whose value
//! is `${inputs.x}`, or a list item or map holding it). So `location: westus9` is refused at
//! its prompt with the region rule, not after the last prompt at a plan position.
//!
//! Contact points: [`InputRules::new`] (from the plan and a registry of kinds),
//! [`InputRules::check`] (used by `resolve_inputs` and handed to the `Prompter`), and
//! [`rule_in_words`], which turns a pattern failure into the rule the description states.

use std::fmt;

use indexmap::IndexMap;
use serde_json::Value;
use twinup_plan::{InputSpec, Plan, Reference, Template};

use crate::kind::KindSchema;
use crate::registry::KindSchemas;

/// A step `with` block that references an input, and the kind that judges it.
#[derive(Clone)]
struct Site {
    step: String,
    kind: &'static dyn KindSchema,
    with: Template,
}

/// For each input, the step fields it fills and their kinds' rules. Empty (no kind rules, only
/// the inputs' own) by default.
#[derive(Clone, Default)]
pub struct InputRules {
    sites: IndexMap<String, Vec<Site>>,
}

impl fmt::Debug for InputRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.sites
                    .iter()
                    .map(|(k, v)| (k, v.iter().map(|s| s.step.as_str()).collect::<Vec<_>>())),
            )
            .finish()
    }
}

impl InputRules {
    /// The rules of every step of `plan` whose kind `registry` knows.
    pub fn new(plan: &Plan, registry: &KindSchemas) -> InputRules {
        let mut sites: IndexMap<String, Vec<Site>> = IndexMap::new();
        for step in &plan.steps {
            let Some(kind) = registry.schema(&step.kind) else {
                continue;
            };
            for reference in step.with.references() {
                if let Reference::Input(name) = reference {
                    sites.entry(name).or_default().push(Site {
                        step: step.id.clone(),
                        kind,
                        with: step.with.clone(),
                    });
                }
            }
        }
        InputRules { sites }
    }

    /// Checks `value` for input `spec`: its own rule, then each kind's rule for the fields it
    /// fills (other inputs and step outputs left unknown). The error states the rule in words
    /// and how to fix it.
    pub fn check(&self, spec: &InputSpec, value: &Value) -> Result<(), String> {
        spec.check(value).map_err(|m| rule_in_words(spec, m))?;
        let Some(sites) = self.sites.get(&spec.name) else {
            return Ok(());
        };
        let me = Reference::Input(spec.name.clone());
        for site in sites {
            let with = crate::unknown::draft(&site.with, &|r| (*r == me).then(|| value.clone()));
            for error in site.kind.validate(&with) {
                if !fills(&site.with.0, &error.field, &me) {
                    continue;
                }
                let (mut message, mut help) = (error.message, error.help);
                if spec.secret {
                    // As everywhere else, a secret's value is said as `(secret)`.
                    message = hide(message, value);
                    help = help.map(|h| hide(h, value));
                }
                let at = format!("step `{}` with.{}", site.step, error.field);
                return Err(match help {
                    Some(help) => format!("{message} ({at}); {help}"),
                    None => format!("{message} ({at})"),
                });
            }
        }
        Ok(())
    }
}

/// `text` with the (secret) string `value` said as `(secret)`.
fn hide(text: String, value: &Value) -> String {
    match value.as_str().filter(|v| !v.is_empty()) {
        Some(v) => text.replace(v, crate::redact::SECRET_PLACEHOLDER),
        None => text,
    }
}

/// True when the field `field` (dotted, with `[n]`) of the template `with` is filled by
/// `input`: the deepest node of the path that exists in the template (not `with` itself)
/// references it.
fn fills(with: &Value, field: &str, input: &Reference) -> bool {
    let mut node = with;
    let mut depth = 0;
    for seg in crate::validate::field_path(field) {
        let next = match (&seg, node) {
            (twinup_plan::PathSeg::Key(k), Value::Object(map)) => map.get(k),
            (twinup_plan::PathSeg::Index(i), Value::Array(items)) => items.get(*i),
            _ => None,
        };
        match next {
            Some(n) => {
                node = n;
                depth += 1;
            }
            None => break,
        }
    }
    depth > 0 && Template(node.clone()).references().contains(input)
}

/// A pattern failure said as the rule the input's description states in brackets ("Name of
/// the instance (3-63 letters, digits, hyphens)"); other messages, and inputs whose description
/// states no rule, are kept as they are.
pub fn rule_in_words(spec: &InputSpec, message: String) -> String {
    if !message.starts_with("expected a string matching") {
        return message;
    }
    let words = spec.description.as_deref().and_then(bracketed_rule);
    match words {
        Some(words) => {
            let got = message
                .rsplit_once(", got ")
                .map(|(_, g)| g.to_string())
                .unwrap_or_default();
            format!("{got} is not a valid {}: use {words}", spec.name)
        }
        None => message,
    }
}

/// The first bracketed group of a description (brackets may nest) that is a rule rather
/// than a default: "Subnet id (a resource id ...) (default - none)" gives "a resource id ...".
fn bracketed_rule(description: &str) -> Option<&str> {
    let mut depth = 0usize;
    let mut open = 0usize;
    for (at, c) in description.char_indices() {
        match c {
            '(' => {
                if depth == 0 {
                    open = at + 1;
                }
                depth += 1;
            }
            ')' if depth > 0 => {
                depth -= 1;
                if depth > 0 {
                    continue;
                }
                let inner = description.get(open..at)?.trim();
                if !inner.is_empty() && !inner.starts_with("default") {
                    return Some(inner);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(description: &str) -> InputSpec {
        let mut spec = InputSpec::new("instance_name");
        spec.description = Some(description.to_string());
        spec.pattern = Some("^[a-z]+$".to_string());
        spec
    }

    #[test]
    fn a_pattern_failure_is_said_in_the_descriptions_words() {
        let spec = named("Name of the instance (3-63 letters, digits, hyphens)");
        let err = spec.check(&Value::from("-x-")).unwrap_err();
        assert_eq!(
            rule_in_words(&spec, err),
            "`-x-` is not a valid instance_name: use 3-63 letters, digits, hyphens"
        );
    }

    #[test]
    fn the_rule_is_the_first_group_that_is_not_a_default_and_may_hold_brackets() {
        for (description, words) in [
            (
                "Group (1-90 letters, digits, - _ . ( ))",
                "1-90 letters, digits, - _ . ( )",
            ),
            ("Id (a GUID) (default - the only one)", "a GUID"),
            ("Id (default - the only one) (a GUID)", "a GUID"),
        ] {
            assert_eq!(bracketed_rule(description), Some(words), "{description}");
        }
    }

    #[test]
    fn without_words_the_pattern_is_kept() {
        for d in ["Who it is for", "The id (default - the only one)"] {
            let spec = named(d);
            let err = spec.check(&Value::from("-x-")).unwrap_err();
            assert!(rule_in_words(&spec, err).contains("^[a-z]+$"));
        }
    }

    #[test]
    fn a_field_is_filled_by_the_input_its_value_references() {
        let with = serde_json::json!({
            "location": "${inputs.location}",
            "uris": ["${inputs.url}"],
            "tags": "${inputs.tags}",
            "name": "fixed",
        });
        let input = |n: &str| Reference::Input(n.to_string());
        assert!(fills(&with, "location", &input("location")));
        assert!(fills(&with, "uris[0]", &input("url")));
        assert!(fills(&with, "tags.env", &input("tags")));
        assert!(!fills(&with, "name", &input("location")));
        assert!(!fills(&with, "", &input("location")));
    }
}
