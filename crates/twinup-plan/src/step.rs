//! `Step`: one unit of work in a plan, and the parser for its `timeout`.

use std::time::Duration;

use serde::Serialize;

use crate::foreach::ForEach;
use crate::template::Template;

/// One step of a plan: a kind of resource to set up and its parameters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// Unique id (`^[a-z][a-z0-9_]*$`), used in `needs` and `${steps.ID...}`.
    pub id: String,
    /// The step kind, e.g. `azure.digital_twins_instance`.
    pub kind: String,
    /// Optional text shown in progress output.
    pub description: Option<String>,
    /// Steps that must finish first, as written in `needs` (references add
    /// more; see `StepGraph::dependencies`).
    pub needs: Vec<String>,
    /// The kind's parameters, possibly with references.
    pub with: Template,
    /// How long the step may run.
    pub timeout: Option<Duration>,
    /// Repeat the step once per item of a list or map (see [`ForEach`]).
    pub for_each: Option<ForEach>,
}

/// Parses a timeout written as `90s`, `30m`, `2h`, `1h30m` or whole seconds (`120`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let bad = || {
        format!(
            "`{text}` is not a duration; write e.g. `90s`, `30m`, `2h` or a whole number of seconds"
        )
    };
    if text.is_empty() {
        return Err(bad());
    }
    if let Ok(secs) = text.parse::<u64>() {
        return positive(Duration::from_secs(secs), text);
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        let n: u64 = number.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        number.clear();
    }
    if !number.is_empty() {
        return Err(bad());
    }
    positive(Duration::from_secs(total), text)
}

fn positive(d: Duration, text: &str) -> Result<Duration, String> {
    if d.is_zero() {
        Err(format!(
            "timeout `{text}` is zero; give a positive duration such as `30m`"
        ))
    } else {
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_seconds() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("120"), Ok(Duration::from_secs(120)));
    }

    #[test]
    fn rejects_nonsense_and_zero() {
        assert!(parse_duration("30 minutes").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("10x").is_err());
        assert!(parse_duration("").is_err());
        assert_eq!(
            parse_duration("0s"),
            Err("timeout `0s` is zero; give a positive duration such as `30m`".into())
        );
    }
}
