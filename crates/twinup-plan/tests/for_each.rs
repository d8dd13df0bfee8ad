//! `for_each`: parsing, validation errors with positions, and expansion into per-item steps.

use indexmap::IndexMap;
use serde_json::{Value, json};
use twinup_plan::Plan;

const FLEET: &str = r#"version: 1
name: fleet
inputs:
  customers: {type: map}
  rg: {default: group}
steps:
  - id: group
    kind: azure.resource_group
    with: {name: "${inputs.rg}"}
  - id: instance
    kind: azure.digital_twins_instance
    for_each: ${inputs.customers}
    needs: [group]
    with:
      name: twins-${each.key}
      location: ${each.value.location}
  - id: role
    kind: azure.role_assignment
    for_each: ${inputs.customers}
    with:
      scope: ${steps.instance[each.key].outputs.id}
outputs:
  hosts: ${steps.instance.outputs.host_name}
  first: ${steps.instance["contoso"].outputs.id}
"#;

fn errors(text: &str) -> Vec<String> {
    match Plan::parse("plan.yaml", text) {
        Ok(_) => Vec::new(),
        Err(e) => e
            .diagnostics()
            .map(|d| d.iter().map(|x| x.to_string()).collect())
            .unwrap_or_default(),
    }
}

fn inputs(customers: Value) -> IndexMap<String, Value> {
    let mut m = IndexMap::new();
    m.insert("customers".to_string(), customers);
    m.insert("rg".to_string(), json!("group"));
    m
}

#[test]
fn items_become_steps_with_their_own_ids_and_per_item_dependencies() {
    let plan = Plan::parse("plan.yaml", FLEET).unwrap();
    assert!(plan.has_for_each());
    let expanded = plan
        .expand(&inputs(json!({
            "contoso": {"location": "westus2"},
            "fabrikam": {"location": "westeurope"}
        })))
        .unwrap();
    let ids: Vec<&str> = expanded.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "group",
            "instance[\"contoso\"]",
            "instance[\"fabrikam\"]",
            "role[\"contoso\"]",
            "role[\"fabrikam\"]"
        ]
    );
    let fabrikam = expanded.step("instance[\"fabrikam\"]").unwrap();
    assert_eq!(
        fabrikam.with.0,
        json!({"name": "twins-fabrikam", "location": "westeurope"})
    );
    // Each role waits for its own instance only.
    assert_eq!(
        expanded.graph().dependencies("role[\"contoso\"]"),
        ["instance[\"contoso\"]"]
    );
    assert_eq!(
        expanded.graph().dependencies("instance[\"contoso\"]"),
        ["group"]
    );
    // A reference to every item is a map of per-item references.
    assert_eq!(
        expanded.outputs["hosts"].0,
        json!({
            "contoso": "${steps.instance[\"contoso\"].outputs.host_name}",
            "fabrikam": "${steps.instance[\"fabrikam\"].outputs.host_name}"
        })
    );
    // Diagnostics on an item point at the step in the plan text.
    let loc = expanded
        .locate(&["steps".into(), 4.into(), "with".into(), "scope".into()])
        .unwrap();
    assert_eq!((loc.line, loc.column), (21, 14));
}

#[test]
fn lists_of_strings_are_items_keyed_by_themselves_and_empty_lists_remove_the_step() {
    let text = FLEET
        .replace("customers: {type: map}", "customers: {type: list}")
        .replace("  first: ${steps.instance[\"contoso\"].outputs.id}\n", "")
        .replace(
            "location: ${each.value.location}",
            "location: ${each.value}",
        );
    let plan = Plan::parse("plan.yaml", &text).unwrap();
    let expanded = plan.expand(&inputs(json!(["a", "b"]))).unwrap();
    assert_eq!(
        expanded.step("instance[\"b\"]").unwrap().with.0,
        json!({"name": "twins-b", "location": "b"})
    );
    let plan = Plan::parse("plan.yaml", &text).unwrap();
    let none = plan.expand(&inputs(json!([]))).unwrap();
    assert_eq!(none.steps.len(), 1);
    assert_eq!(none.outputs["hosts"].0, json!({}));
}

#[test]
fn bad_item_values_are_reported_at_the_plan() {
    let plan = Plan::parse("plan.yaml", FLEET).unwrap();
    let err = plan
        .expand(&inputs(json!({"contoso": {"region": "x"}})))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("plan.yaml:15:") && err.contains("has no field `location`"),
        "{err}"
    );
    let err = plan
        .expand(&inputs(json!({"bad key": {}})))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("plan.yaml:12:15") && err.contains("cannot be an item key"),
        "{err}"
    );
    let err = plan
        .expand(&inputs(json!({"fabrikam": {"location": "w"}})))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("step `instance` has no item `contoso`"),
        "{err}"
    );
}

#[test]
fn misuse_of_for_each_is_a_located_error() {
    let e = errors(&FLEET.replace("customers: {type: map}", "customers: {}"));
    assert!(
        e.iter().any(|x| x.starts_with("plan.yaml:12:15:")
            && x.contains("input `customers` is of type `string`")),
        "{e:?}"
    );
    let e = errors(&FLEET.replace(
        "for_each: ${inputs.customers}\n    needs",
        "for_each: ${inputs.customer}\n    needs",
    ));
    assert!(
        e.iter().any(|x| x.contains("did you mean `customers`?")),
        "{e:?}"
    );
    let e = errors(&FLEET.replace(
        "    for_each: ${inputs.customers}\n    with:\n      scope",
        "    with:\n      scope",
    ));
    assert!(
        e.iter().any(|x| x.starts_with("plan.yaml:20:14:")
            && x.contains("uses `each.key` outside a step with `for_each`")),
        "{e:?}"
    );
    let e = errors(&FLEET.replace(
        "name: twins-${each.key}",
        "name: ${steps.group[each.key].outputs.name}",
    ));
    assert!(
        e.iter().any(|x| x.contains("which has no `for_each`")),
        "{e:?}"
    );
    let e = errors(&FLEET.replace(
        "hosts: ${steps.instance.outputs.host_name}",
        "hosts: x${steps.instance.outputs.host_name}",
    ));
    assert!(
        e.iter().any(|x| x.contains("cannot be written into text")),
        "{e:?}"
    );
    let e = errors(&FLEET.replace(
        "  first: ${steps.instance[\"contoso\"].outputs.id}",
        "  first: ${each.key}",
    ));
    assert!(
        e.iter()
            .any(|x| x.contains("only defined in a step with `for_each`")),
        "{e:?}"
    );
    let e = errors(&FLEET.replace(
        "for_each: ${inputs.customers}\n    needs",
        "for_each: [a, a]\n    needs",
    ));
    assert!(e.iter().any(|x| x.contains("lists `a` twice")), "{e:?}");
}

#[test]
fn a_plan_without_for_each_expands_to_itself() {
    let text = "version: 1\nname: p\nsteps:\n  - id: a\n    kind: file\n    with: {path: x}\n";
    let plan = Plan::parse("plan.yaml", text).unwrap();
    assert!(!plan.has_for_each());
    let same = plan.expand(&IndexMap::new()).unwrap();
    assert_eq!(same.steps, plan.steps);
}
