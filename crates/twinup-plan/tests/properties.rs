//! Property tests: run orders of random DAGs, robustness of the parsers on
//! random text, and round trips of template rendering and input text.

use std::path::Path;

use proptest::prelude::*;
use serde_json::{Value, json};
use twinup_plan::{InputSpec, InputType, Plan, Reference, StepGraph, Template, parse_answers};

/// A random DAG: step `i` may depend on steps before it in a hidden order,
/// and the steps are then written in a shuffled plan order.
fn dag() -> impl Strategy<Value = Vec<(String, Vec<String>)>> {
    (1usize..16)
        .prop_flat_map(|n| {
            let edges = proptest::collection::vec(proptest::collection::vec(any::<bool>(), n), n);
            (
                Just(n),
                edges,
                Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
            )
        })
        .prop_map(|(n, edges, order)| {
            order
                .iter()
                .map(|&i| {
                    let deps = (0..i)
                        .filter(|&j| edges[i][j])
                        .map(|j| format!("s{j}"))
                        .collect();
                    (format!("s{i}"), deps)
                })
                .take(n)
                .collect()
        })
}

fn plan_text(steps: &[(String, Vec<String>)]) -> String {
    let mut text = String::from("version: 1\nname: random\nsteps:\n");
    for (id, deps) in steps {
        text.push_str(&format!("  - id: {id}\n    kind: k\n"));
        if let Some((first, rest)) = deps.split_first() {
            // Half the dependencies through `needs`, the first through a reference.
            text.push_str(&format!(
                "    needs: [{}]\n    with:\n      v: x-${{steps.{first}.outputs.o}}\n",
                rest.join(", ")
            ));
        }
    }
    text
}

fn sample() -> Plan {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/adt-setup.yaml");
    Plan::load(&path).unwrap()
}

/// JSON values whose strings are full of `$`, `{` and `}`.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-z${} .]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z$]{1,5}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn resolve_all(r: &Reference) -> Option<Value> {
    match r {
        Reference::Input(name) => Some(json!(format!("in:{name}"))),
        Reference::StepOutput { step, output } => Some(json!({"s": step, "o": output})),
        Reference::Each(_) => None,
    }
}

proptest! {
    #[test]
    fn topological_order_respects_dependencies(steps in dag()) {
        let graph = StepGraph::new(steps.clone()).unwrap();
        let order = graph.topological_order();
        prop_assert_eq!(order.len(), steps.len());
        let position = |id: &str| order.iter().position(|o| o == id).unwrap();
        for (id, deps) in &steps {
            for d in deps {
                prop_assert!(position(d) < position(id), "{} must come after {}", id, d);
            }
        }
        // Deterministic: each step is the earliest-written one that was ready.
        let plan_pos = |id: &str| steps.iter().position(|(s, _)| s == id).unwrap();
        for (k, id) in order.iter().enumerate() {
            let done = &order[..k];
            let earliest_ready = steps
                .iter()
                .filter(|(s, _)| !done.contains(s))
                .find(|(_, deps)| deps.iter().all(|d| done.contains(d)))
                .map(|(s, _)| s.clone());
            prop_assert_eq!(Some(id.clone()), earliest_ready);
            prop_assert!(plan_pos(id) < steps.len());
        }
    }

    #[test]
    fn plans_build_the_same_graph(steps in dag()) {
        let plan = Plan::parse("random.yaml", &plan_text(&steps)).unwrap();
        let direct = StepGraph::new(steps.clone()).unwrap();
        prop_assert_eq!(plan.graph().topological_order(), direct.topological_order());
        for (id, deps) in &steps {
            let mut got = plan.graph().dependencies(id).to_vec();
            got.sort();
            let mut want = deps.clone();
            want.sort();
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn a_back_edge_is_reported_as_a_cycle(steps in dag()) {
        // Add an edge from the first step to any step that depends on it.
        let mut steps = steps;
        let first = steps.iter().position(|(s, _)| s == "s0").unwrap();
        let dependent = steps.iter().find(|(_, deps)| deps.contains(&"s0".to_string())).map(|(s, _)| s.clone());
        if let Some(dependent) = dependent {
            steps[first].1.push(dependent);
            let err = StepGraph::new(steps.clone()).unwrap_err();
            prop_assert!(err.cycle.len() >= 2);
            prop_assert!(Plan::parse("random.yaml", &plan_text(&steps)).is_err());
        }
    }

    #[test]
    fn parse_never_panics_on_random_text(text in "\\PC{0,200}") {
        let _ = Plan::parse("fuzz.yaml", &text);
    }

    #[test]
    fn parse_never_panics_on_yaml_like_text(text in "[a-z0-9_:\\-\\[\\]{}, \n'\"$&*!|>#.~]{0,160}") {
        let _ = Plan::parse("fuzz.yaml", &format!("version: 1\nname: f\nsteps:\n{text}"));
        let _ = Plan::parse("fuzz.yaml", &text);
    }

    #[test]
    fn parse_answers_never_panics(text in "[a-z_:\\-\\[\\]{}, \n'\"$&*!0-9#]{0,160}") {
        let plan = sample();
        let _ = parse_answers("fuzz.yaml", &text, &plan);
    }

    #[test]
    fn literal_templates_render_to_themselves(value in json_value()) {
        let template = Template::literal(&value);
        prop_assert!(template.references().is_empty());
        prop_assert_eq!(template.render(&|_| None).unwrap(), value.clone());
        prop_assert_eq!(Template(template.render_partial(&|_| None)), template);
    }

    #[test]
    fn partial_then_full_render_equals_full_render(
        prefix in "[a-z ${}]{0,8}",
        suffix in "[a-z ${}]{0,8}",
        whole in any::<bool>(),
    ) {
        let text = if whole {
            "${steps.a.outputs.b}".to_string()
        } else {
            format!("{}${{inputs.x}}-${{steps.a.outputs.b}}{}", prefix.replace("${", "$${"), suffix.replace("${", "$${"))
        };
        let template = Template(json!({"k": text, "l": ["${inputs.x}"]}));
        let full = template.render(&resolve_all).unwrap();
        let inputs_only = |r: &Reference| match r {
            Reference::Input(_) => resolve_all(r),
            Reference::StepOutput { .. } | Reference::Each(_) => None,
        };
        let partial = Template(template.render_partial(&inputs_only));
        prop_assert_eq!(partial.references().iter().filter(|r| r.step().is_none()).count(), 0);
        prop_assert_eq!(partial.render(&resolve_all).unwrap(), full);
    }

    #[test]
    fn text_inputs_round_trip(n in any::<i64>(), s in "\\PC{0,30}", b in any::<bool>()) {
        let spec = |ty| InputSpec { ty, ..InputSpec::new("x") };
        prop_assert_eq!(spec(InputType::Int).parse_text(&n.to_string()), Ok(json!(n)));
        prop_assert_eq!(spec(InputType::String).parse_text(&s), Ok(json!(s)));
        prop_assert_eq!(spec(InputType::Bool).parse_text(&b.to_string()), Ok(json!(b)));
        let list = json!([n, b, "word"]);
        prop_assert_eq!(spec(InputType::List).parse_text(&list.to_string()), Ok(list));
    }
}
