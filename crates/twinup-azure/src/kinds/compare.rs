//! How Azure compares the values of a step's `with` with what it reads back: names, enums
//! and ids are case-insensitive (ARM: "resource names are case-insensitive"), and a location
//! is the same whether written as a display name or a name (`West US 2` = `westus2`). Every
//! `azure.*` kind hands these rules to the engine through `StepKind::normalize`.

use serde_json::Value;

/// `value` of field `field` (a dotted path inside `with`) in the form it compares in.
pub fn normalize(field: &str, value: &Value) -> Value {
    match value {
        Value::String(s) if field.ends_with("location") => {
            Value::String(crate::regions::normalize(s))
        }
        Value::String(s) => Value::String(s.to_ascii_lowercase()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_compare_without_case_and_locations_without_spaces() {
        assert_eq!(normalize("name", &json!("MyGroup")), json!("mygroup"));
        assert_eq!(
            normalize("location", &json!("West US 2")),
            normalize("location", &json!("westus2"))
        );
        assert_ne!(
            normalize("name", &json!("West US 2")),
            normalize("name", &json!("westus2"))
        );
        assert_eq!(normalize("enabled", &json!(true)), json!(true));
    }
}
