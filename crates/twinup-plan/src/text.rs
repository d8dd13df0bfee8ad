//! Characters that must never reach a terminal or Azure from an input: C0 and C1 control
//! characters (tab and newline excepted) and the Unicode text-direction controls that can make
//! a name read differently from what it is. [`first_control_in`] finds them in a value.

use serde_json::Value;

/// A forbidden character found in a value: which one, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlFound {
    /// The character.
    pub ch: char,
    /// Its 1-based position, in characters, within the string that holds it.
    pub position: usize,
}

impl std::fmt::Display for ControlFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "U+{:04X} at character {}",
            u32::from(self.ch),
            self.position
        )
    }
}

/// True for characters no input may hold: C0 controls other than tab and newline, DEL, C1
/// controls, and the bidirectional formatting characters (ALM, LRM, RLM, LRE..RLO, LRI..PDI).
pub fn is_forbidden_control(ch: char) -> bool {
    match ch {
        '\t' | '\n' => false,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        '\u{061c}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}' => true,
        _ => false,
    }
}

/// The first forbidden character in any string of `value` (lists and mappings included, keys
/// too).
pub fn first_control_in(value: &Value) -> Option<ControlFound> {
    match value {
        Value::String(s) => first_control(s),
        Value::Array(items) => items.iter().find_map(first_control_in),
        Value::Object(map) => map
            .iter()
            .find_map(|(k, v)| first_control(k).or_else(|| first_control_in(v))),
        _ => None,
    }
}

fn first_control(s: &str) -> Option<ControlFound> {
    s.chars()
        .enumerate()
        .find(|(_, ch)| is_forbidden_control(*ch))
        .map(|(i, ch)| ControlFound {
            ch,
            position: i + 1,
        })
}

/// `text` with every forbidden character written as `\u{..}`, so it is safe to print.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_forbidden_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for ch in text.chars() {
        if is_forbidden_control(ch) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(ch)));
        } else {
            out.push(ch);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_escape_sequences_and_direction_overrides() {
        assert_eq!(
            first_control_in(&json!("ok\u{1b}]0;pwned\u{7}")),
            Some(ControlFound {
                ch: '\u{1b}',
                position: 3
            })
        );
        assert!(first_control_in(&json!({"tag": ["a", "x\u{202e}y"]})).is_some());
        assert!(first_control_in(&json!({"k\u{0}": "v"})).is_some());
        assert_eq!(first_control_in(&json!("tab\tand\nnewline, ünïcode")), None);
    }

    #[test]
    fn escaping_makes_controls_visible() {
        assert_eq!(escape_controls("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(escape_controls("plain"), "plain");
    }
}
