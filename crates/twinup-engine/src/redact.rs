//! Secret taint at run time: every text the engine shows or saves (validation messages, step
//! errors, progress lines, step outputs in events) has the values of secret inputs replaced by
//! `(secret)`, and plan outputs declared `secret: true` are shown as `********`.

use std::sync::Arc;

use serde_json::Value;

use crate::events::{Event, EventSink};
use crate::inputs::ResolvedInputs;
use crate::kind::StepError;

/// What a secret value is replaced with in messages.
pub const SECRET_PLACEHOLDER: &str = "(secret)";
/// The shortest secret value [`Redactor::for_saved_values`] looks for.
pub const MIN_SAVED_SECRET_CHARS: usize = 8;
/// What a secret plan output is shown as.
pub const SECRET_MASK: &str = "********";

/// Replaces the values of a run's secret inputs in texts.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// The secret values as text, longest first (so a secret containing another is replaced
    /// whole).
    values: Vec<String>,
}

impl Redactor {
    /// A redactor for the secret inputs of `inputs`.
    pub fn new(inputs: &ResolvedInputs) -> Self {
        let mut values: Vec<String> = inputs
            .secrets
            .iter()
            .filter_map(|name| inputs.values.get(name))
            .flat_map(secret_texts)
            .filter(|s| !s.is_empty())
            .collect();
        values.sort_by_key(|s| std::cmp::Reverse(s.len()));
        values.dedup();
        Redactor { values }
    }

    /// The redactor of values that are saved (step outputs in the checkpoint): only secrets of
    /// at least [`MIN_SAVED_SECRET_CHARS`] characters, since a shorter one cannot be told from
    /// ordinary text in the ids and paths a record must keep intact (a one-letter secret is in
    /// most paths).
    pub fn for_saved_values(&self) -> Redactor {
        Redactor {
            values: self
                .values
                .iter()
                .filter(|v| v.chars().count() >= MIN_SAVED_SECRET_CHARS)
                .cloned()
                .collect(),
        }
    }

    /// True when there is nothing to redact.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `text` with every secret value replaced by `(secret)`.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.values {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), SECRET_PLACEHOLDER);
            }
        }
        out
    }

    /// True when `value` holds a secret value anywhere in it.
    pub fn taints(&self, value: &Value) -> bool {
        self.value(value) != *value
    }

    /// An error with secret values redacted from its message and help.
    pub fn error(&self, mut error: StepError) -> StepError {
        error.message = self.text(&error.message);
        error.help = error.help.map(|h| self.text(&h));
        error
    }

    /// A JSON value with secret values redacted from every string in it.
    pub fn value(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.text(s)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.value(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.value(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// The texts a secret value may appear as: the string itself, or the JSON of any other value.
fn secret_texts(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Null | Value::Bool(_) => Vec::new(),
        other => vec![other.to_string()],
    }
}

/// `outputs` with the ones named in `secret` replaced by `********`.
pub fn mask_outputs(
    outputs: &serde_json::Map<String, Value>,
    secret: &[String],
) -> serde_json::Map<String, Value> {
    outputs
        .iter()
        .map(|(k, v)| {
            let shown = if secret.contains(k) {
                Value::String(SECRET_MASK.to_string())
            } else {
                v.clone()
            };
            (k.clone(), shown)
        })
        .collect()
}

/// An event sink that redacts secret values from every event before passing it on.
struct RedactingSink {
    inner: Arc<dyn EventSink>,
    redactor: Redactor,
}

impl EventSink for RedactingSink {
    fn emit(&self, event: Event) {
        let r = &self.redactor;
        let event = match event {
            Event::StepProgress { step, message } => Event::StepProgress {
                step,
                message: r.text(&message),
            },
            Event::StepFailed {
                step,
                error,
                elapsed_ms,
            } => Event::StepFailed {
                step,
                error: r.error(error),
                elapsed_ms,
            },
            Event::StepSucceeded {
                step,
                outputs,
                elapsed_ms,
            } => Event::StepSucceeded {
                step,
                outputs: outputs
                    .iter()
                    .map(|(k, v)| (k.clone(), r.value(v)))
                    .collect(),
                elapsed_ms,
            },
            Event::StepRetry {
                step,
                attempt,
                max_attempts,
                cause,
                wait_ms,
            } => Event::StepRetry {
                step,
                attempt,
                max_attempts,
                cause: r.text(&cause),
                wait_ms,
            },
            Event::RunFinished { status, outputs } => Event::RunFinished {
                status,
                outputs: outputs
                    .iter()
                    .map(|(k, v)| (k.clone(), r.value(v)))
                    .collect(),
            },
            other => other,
        };
        self.inner.emit(event);
    }
}

/// `events` behind a redactor for the secret inputs of `inputs`.
pub fn redacting(events: Arc<dyn EventSink>, inputs: &ResolvedInputs) -> Arc<dyn EventSink> {
    let redactor = Redactor::new(inputs);
    if redactor.is_empty() {
        return events;
    }
    Arc::new(RedactingSink {
        inner: events,
        redactor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn replaces_secret_values_longest_first() {
        let mut inputs = ResolvedInputs::default();
        inputs.values.insert("a".into(), json!("hunter2"));
        inputs.values.insert("b".into(), json!("hunter2-long"));
        inputs.values.insert("plain".into(), json!("visible"));
        inputs.secrets = vec!["a".into(), "b".into()];
        let r = Redactor::new(&inputs);
        assert_eq!(
            r.text("x hunter2-long y hunter2 visible"),
            "x (secret) y (secret) visible"
        );
        let e = r.error(StepError::failed("'hunter2' is bad").with_help("not hunter2"));
        assert_eq!(e.message, "'(secret)' is bad");
        assert_eq!(e.help.as_deref(), Some("not (secret)"));
    }

    #[test]
    fn masks_secret_outputs() {
        let mut outputs = serde_json::Map::new();
        outputs.insert("key".into(), json!("s"));
        outputs.insert("host".into(), json!("h"));
        let shown = mask_outputs(&outputs, &["key".to_string()]);
        assert_eq!(shown["key"], json!(SECRET_MASK));
        assert_eq!(shown["host"], json!("h"));
    }
}
