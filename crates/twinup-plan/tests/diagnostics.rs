//! One test per kind of diagnostic: the exact `file:line:column`, message and
//! help a user sees, plus snapshots of a few complete error reports.

use twinup_plan::{Diagnostic, Plan, PlanError, SimpleCatalog, parse_answers};

/// Every diagnostic for `text`, each rendered as the user sees it.
fn errors(text: &str) -> Vec<String> {
    match Plan::parse("plan.yaml", text) {
        Ok(_) => panic!("expected the plan to be rejected:\n{text}"),
        Err(PlanError::Invalid(d)) => d.iter().map(Diagnostic::to_string).collect(),
        Err(e) => panic!("unexpected error {e}"),
    }
}

fn report(text: &str) -> String {
    match Plan::parse("plan.yaml", text) {
        Ok(_) => panic!("expected the plan to be rejected:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn parse(text: &str) -> Plan {
    match Plan::parse("plan.yaml", text) {
        Ok(plan) => plan,
        Err(e) => panic!("{e}"),
    }
}

const HEAD: &str = "version: 1\nname: demo\n";

#[test]
fn unknown_top_level_key_suggests_the_right_one() {
    assert_eq!(
        errors("version: 1\nname: x\nstep:\n  - id: a\n    kind: k\n"),
        [
            "plan.yaml:1:1: error: missing `steps`\n  help: add `steps:` with a list of steps, each with an `id` and a `kind`",
            "plan.yaml:3:1: error: unknown key `step` in the plan\n  help: did you mean `steps`?",
        ]
    );
}

#[test]
fn unknown_key_without_a_close_match_lists_the_allowed_keys() {
    assert_eq!(
        errors(&format!("{HEAD}steps: []\nbanana: 1\n")),
        [
            "plan.yaml:4:1: error: unknown key `banana` in the plan\n  help: allowed keys here are `version`, `name`, `description`, `inputs`, `steps`, `outputs`, `identity`"
        ]
    );
}

#[test]
fn unsupported_version_says_which_are_supported() {
    assert_eq!(
        errors("version: 2\nname: x\nsteps: []\n"),
        [
            "plan.yaml:1:10: error: unsupported plan version 2\n  help: this twinup supports plan version 1; write `version: 1` or use a newer twinup"
        ]
    );
    assert_eq!(
        errors("version: '1'\nname: x\nsteps: []\n"),
        [
            "plan.yaml:1:10: error: `version` must be a whole number, got a string\n  help: write `version: 1` (this twinup supports plan version 1)"
        ]
    );
    assert_eq!(
        errors("name: x\nsteps: []\n"),
        [
            "plan.yaml:1:1: error: missing `version`\n  help: add `version: 1` at the top of the plan"
        ]
    );
}

#[test]
fn empty_or_non_mapping_plans_are_rejected() {
    assert_eq!(
        errors(""),
        [
            "plan.yaml:1:1: error: the plan is empty\n  help: start with `version: 1`, a `name` and a list of `steps`"
        ]
    );
    assert_eq!(
        errors("- a\n- b\n"),
        [
            "plan.yaml:1:1: error: a plan must be a mapping, got a list\n  help: start with `version: 1`, a `name` and a list of `steps`"
        ]
    );
}

#[test]
fn missing_or_empty_name() {
    assert_eq!(
        errors("version: 1\nsteps: []\n"),
        ["plan.yaml:1:1: error: missing `name` in the plan\n  help: add `name: <short plan name>`"]
    );
    assert_eq!(
        errors("version: 1\nname: ''\nsteps: []\n"),
        ["plan.yaml:2:7: error: `name` is empty\n  help: add `name: <short plan name>`"]
    );
}

#[test]
fn yaml_syntax_errors_have_positions() {
    assert_eq!(
        errors(&format!("{HEAD}steps:\n  - id: a\n   kind: k\n")),
        [
            "plan.yaml:5:4: error: YAML syntax error: while parsing a block collection, did not find expected '-' indicator\n  help: check the indentation, quoting and brackets at this position"
        ]
    );
    assert_eq!(
        errors("version: 1\nname: [x\n"),
        [
            "plan.yaml:3:1: error: YAML syntax error: while parsing a flow sequence, expected ',' or ']'\n  help: check the indentation, quoting and brackets at this position"
        ]
    );
}

#[test]
fn duplicate_mapping_keys_are_rejected() {
    assert_eq!(
        errors("version: 1\nname: x\nname: y\nsteps: []\n"),
        [
            "plan.yaml:3:1: error: duplicate key `name`\n  help: `name` is already set on line 2; remove one of them"
        ]
    );
    assert_eq!(
        errors(&format!(
            "{HEAD}steps:\n  - id: a\n    kind: k\n    with:\n      x: 1\n      x: 2\n"
        )),
        [
            "plan.yaml:8:7: error: duplicate key `x`\n  help: `x` is already set on line 7; remove one of them"
        ]
    );
}

#[test]
fn duplicate_step_ids_point_at_the_second() {
    assert_eq!(
        errors(&format!(
            "{HEAD}steps:\n  - id: a\n    kind: k\n  - id: a\n    kind: k\n"
        )),
        [
            "plan.yaml:6:9: error: duplicate step id `a`\n  help: step ids must be unique; `a` is first used on line 4, so rename one of them"
        ]
    );
}

#[test]
fn missing_needs_targets_point_at_the_entry() {
    assert_eq!(
        errors(&format!(
            "{HEAD}steps:\n  - id: a\n    kind: k\n    needs: [b, c]\n  - id: bb\n    kind: k\n"
        )),
        [
            "plan.yaml:6:13: error: step `a` needs `b`, which is not a step in this plan\n  help: did you mean `bb`?",
            "plan.yaml:6:16: error: step `a` needs `c`, which is not a step in this plan\n  help: the steps are `a`, `bb`",
        ]
    );
}

#[test]
fn references_to_missing_inputs_and_steps() {
    let text = format!(
        "{HEAD}inputs:\n  name: {{}}\nsteps:\n  - id: a\n    kind: k\n    with:\n      x: ${{inputs.nmae}}\n      y: pre-${{steps.b.outputs.z}}\n"
    );
    assert_eq!(
        errors(&text),
        [
            "plan.yaml:9:10: error: `${inputs.nmae}` refers to input `nmae`, which is not declared\n  help: did you mean `name`?",
            "plan.yaml:10:10: error: `${steps.b.outputs.z}` refers to step `b`, which does not exist\n  help: the steps are `a`",
        ]
    );
    assert_eq!(
        errors(&format!(
            "{HEAD}steps: []\noutputs:\n  o: ${{steps.zz.outputs.a}}\n  p: ${{inputs.q}}\n"
        )),
        [
            "plan.yaml:5:6: error: `${steps.zz.outputs.a}` refers to step `zz`, which does not exist\n  help: this plan has no steps yet; add the step or remove the reference",
            "plan.yaml:6:6: error: `${inputs.q}` refers to input `q`, which is not declared\n  help: declare `q` under `inputs:`",
        ]
    );
}

#[test]
fn malformed_references_are_syntax_errors() {
    let text = format!(
        "{HEAD}inputs:\n  name: {{}}\nsteps:\n  - id: a\n    kind: k\n    with:\n      z: ${{input.name}}\n      w: [ok, '${{inputs.name']\n"
    );
    assert_eq!(
        errors(&text),
        [
            "plan.yaml:9:10: error: invalid reference in `steps[0].with.z`: `${input.name}` is not a valid input reference; write `${inputs.NAME}`\n  help: references look like `${inputs.NAME}` or `${steps.ID.outputs.NAME}`; write `$${` for a literal `${`",
            "plan.yaml:10:15: error: invalid reference in `steps[0].with.w[1]`: a `${` is not closed by `}`; close it, or write `$${` for a literal `${`\n  help: references look like `${inputs.NAME}` or `${steps.ID.outputs.NAME}`; write `$${` for a literal `${`",
        ]
    );
}

#[test]
fn cycles_are_named() {
    let text = format!(
        "{HEAD}steps:\n  - id: a\n    kind: k\n    needs: [c]\n  - id: b\n    kind: k\n    with:\n      v: ${{steps.a.outputs.o}}\n  - id: c\n    kind: k\n    needs: b\n"
    );
    assert_eq!(
        errors(&text),
        [
            "plan.yaml:4:9: error: steps depend on each other in a cycle: `a` -> `c` -> `b` -> `a`\n  help: each step waits for the next one (through `needs` or a `${steps...}` reference); remove one of these dependencies"
        ]
    );
    assert_eq!(
        errors(&format!(
            "{HEAD}steps:\n  - id: solo\n    kind: k\n    with:\n      me: ${{steps.solo.outputs.x}}\n"
        )),
        [
            "plan.yaml:4:9: error: steps depend on each other in a cycle: `solo` -> `solo`\n  help: each step waits for the next one (through `needs` or a `${steps...}` reference); remove one of these dependencies"
        ]
    );
}

#[test]
fn input_names_and_step_ids_follow_the_naming_rule() {
    assert_eq!(
        errors(&format!(
            "{HEAD}inputs:\n  Bad-Name: {{}}\nsteps:\n  - id: A1\n    kind: k\n"
        )),
        [
            "plan.yaml:4:3: error: invalid input name `Bad-Name`\n  help: use lowercase letters, digits and `_`, starting with a letter (`^[a-z][a-z0-9_]*$`), e.g. `bad_name`",
            "plan.yaml:6:9: error: invalid step id `A1`\n  help: use lowercase letters, digits and `_`, starting with a letter (`^[a-z][a-z0-9_]*$`), e.g. `a1`",
        ]
    );
}

#[test]
fn input_settings_are_checked() {
    let text = format!(
        "{HEAD}inputs:\n  n:\n    type: integer\n  p:\n    pattern: '[a-'\n  q:\n    type: int\n    default: abc\n  r:\n    choices: [a, b]\n    default: c\n  s:\n    typo: 1\n  t:\n    type: int\n    pattern: 'a'\n    secret: maybe\n  u:\n    type: bool\n    choices: [true, 3]\nsteps: []\n"
    );
    assert_eq!(
        errors(&text),
        [
            "plan.yaml:5:11: error: unknown type `integer` for input `n`\n  help: did you mean `int`?",
            "plan.yaml:7:14: error: invalid pattern for input `p`: invalid character class range, the start must be <= the end\n  help: write a regular expression in single quotes; it must match the whole value",
            "plan.yaml:10:14: error: default of input `q` is invalid: expected a whole number, got `abc`\n  help: change the default, or remove it to make the input required",
            "plan.yaml:13:14: error: default of input `r` is invalid: expected one of `a`, `b`, got `c`\n  help: change the default, or remove it to make the input required",
            "plan.yaml:15:5: error: unknown key `typo` in input `s`\n  help: did you mean `type`?",
            "plan.yaml:18:14: error: `pattern` only applies to string and list inputs, but input `t` is of type `int`\n  help: remove `pattern` or use `type: string` (or `type: list`, whose items must match)",
            "plan.yaml:19:13: error: `secret` of input `t` must be true or false, got a string\n  help: write `secret: true` or `secret: false`",
            "plan.yaml:22:21: error: choice of input `u` is invalid: expected true or false, got `3`\n  help: make every choice fit the input's type and pattern",
        ]
    );
}

#[test]
fn default_must_match_the_pattern() {
    assert_eq!(
        errors(&format!(
            "{HEAD}inputs:\n  n:\n    pattern: '[a-z]+'\n    default: ABC\nsteps: []\n"
        )),
        [
            "plan.yaml:6:14: error: default of input `n` is invalid: expected a string matching `[a-z]+`, got `ABC`\n  help: change the default, or remove it to make the input required"
        ]
    );
}

#[test]
fn step_shape_errors() {
    assert_eq!(
        errors(&format!(
            "{HEAD}steps:\n  - id: a\n    kind: k\n    with: [1]\n  - 3\n  - kind: k\n  - id: d\n    kind: k\n    needs: {{x: 1}}\n"
        )),
        [
            "plan.yaml:6:11: error: `with` of step `a` must be a mapping, got a list\n  help: write the step's parameters as `name: value` lines under `with:`",
            "plan.yaml:7:5: error: step 2 must be a mapping, got an integer\n  help: write the step as `- id: ...` with `kind:` and `with:` below it",
            "plan.yaml:8:5: error: missing `id` in step 3\n  help: give the step a unique `id`, e.g. `id: instance`",
            "plan.yaml:11:12: error: `needs` of step `d` must be a list of step ids, got a mapping\n  help: write `needs: [other_step, ...]` with step ids",
        ]
    );
}

#[test]
fn bad_timeouts_say_what_to_write() {
    assert_eq!(
        errors(&format!(
            "{HEAD}steps:\n  - id: a\n    kind: k\n    timeout: 5 minutes\n    tmeout: 3\n  - id: b\n    kind: k\n    timeout: 0\n"
        )),
        [
            "plan.yaml:6:14: error: invalid timeout `5 minutes` for step `a`\n  help: write a positive duration such as `90s`, `30m` or `2h`, or a whole number of seconds",
            "plan.yaml:7:5: error: unknown key `tmeout` in step `a`\n  help: did you mean `timeout`?",
            "plan.yaml:10:14: error: invalid timeout `0` for step `b`\n  help: write a positive duration such as `90s`, `30m` or `2h`, or a whole number of seconds",
        ]
    );
    let plan = parse(&format!(
        "{HEAD}steps:\n  - id: a\n    kind: k\n    timeout: 120\n"
    ));
    assert_eq!(
        plan.steps[0].timeout,
        Some(std::time::Duration::from_secs(120))
    );
}

#[test]
fn single_string_needs_is_accepted() {
    let plan = parse(&format!(
        "{HEAD}steps:\n  - id: a\n    kind: k\n  - id: b\n    kind: k\n    needs: a\n"
    ));
    assert_eq!(plan.steps[1].needs, ["a"]);
    assert_eq!(plan.graph().dependencies("b"), ["a"]);
}

fn catalog() -> SimpleCatalog {
    SimpleCatalog::new()
        .with_kind("azure.resource_group", Some(&["name", "id"]))
        .with_kind("azure.digital_twins_instance", Some(&["id", "host_name"]))
        .with_kind("file", None)
}

fn validate_errors(text: &str) -> Vec<String> {
    match parse(text).validate(&catalog()) {
        Ok(()) => panic!("expected validation to fail"),
        Err(PlanError::Invalid(d)) => d.iter().map(Diagnostic::to_string).collect(),
        Err(e) => panic!("unexpected error {e}"),
    }
}

#[test]
fn unknown_kinds_suggest_a_known_one() {
    assert_eq!(
        validate_errors(&format!(
            "{HEAD}steps:\n  - id: a\n    kind: azure.digitl_twins\n  - id: b\n    kind: bogus\n"
        )),
        [
            "plan.yaml:5:11: error: unknown step kind `azure.digitl_twins`\n  help: did you mean `azure.digital_twins_instance`?",
            "plan.yaml:7:11: error: unknown step kind `bogus`\n  help: known kinds are `azure.resource_group`, `azure.digital_twins_instance`, `file`",
        ]
    );
}

#[test]
fn references_to_undeclared_outputs() {
    let text = format!(
        "{HEAD}steps:\n  - id: rg\n    kind: azure.resource_group\n  - id: f\n    kind: file\n  - id: i\n    kind: azure.digital_twins_instance\n    with:\n      group: ${{steps.rg.outputs.nme}}\n      any: ${{steps.f.outputs.whatever}}\noutputs:\n  host: https://${{steps.i.outputs.endpoint}}\n"
    );
    assert_eq!(
        validate_errors(&text),
        [
            "plan.yaml:11:14: error: `${steps.rg.outputs.nme}`: step `rg` (kind `azure.resource_group`) has no output `nme`\n  help: did you mean `name`?",
            "plan.yaml:14:9: error: `${steps.i.outputs.endpoint}`: step `i` (kind `azure.digital_twins_instance`) has no output `endpoint`\n  help: `azure.digital_twins_instance` has these outputs: `id`, `host_name`",
        ]
    );
}

#[test]
fn answers_files_are_checked_against_the_inputs() {
    let plan = parse(&format!(
        "{HEAD}inputs:\n  instance_name:\n    description: Name of the instance\n    pattern: '[a-z-]+'\n  count:\n    type: int\n    default: 1\n  password:\n    secret: true\n    pattern: '.{{12,}}'\nsteps: []\n"
    ));
    let answers = |text: &str| match parse_answers("answers.yaml", text, &plan) {
        Ok(map) => Ok(map),
        Err(PlanError::Invalid(d)) => Err(d.iter().map(Diagnostic::to_string).collect::<Vec<_>>()),
        Err(e) => panic!("unexpected error {e}"),
    };
    assert_eq!(
        answers("instance_nme: adt\ncount: many\npassword: short\n").unwrap_err(),
        [
            "answers.yaml:1:1: error: `instance_nme` is not an input of plan `demo`\n  help: did you mean `instance_name`?",
            "answers.yaml:2:8: error: invalid value for input `count`: expected a whole number, got `many`\n  help: give `count` a valid value",
            "answers.yaml:3:11: error: invalid value for input `password`: expected a string matching `.{12,}`, got a value that is not shown because the input is secret\n  help: give `password` a valid value",
        ]
    );
    assert_eq!(
        answers("instance_name: ADT\nzzz: 1\n").unwrap_err(),
        [
            "answers.yaml:1:16: error: invalid value for input `instance_name`: expected a string matching `[a-z-]+`, got `ADT`\n  help: give `instance_name` a valid value (Name of the instance)",
            "answers.yaml:2:1: error: `zzz` is not an input of plan `demo`\n  help: the plan's inputs are `instance_name`, `count`, `password`",
        ]
    );
    assert_eq!(
        answers("[1, 2]\n").unwrap_err(),
        [
            "answers.yaml:1:1: error: an answers file must be a mapping of input names to values, got a list\n  help: write one `input_name: value` line per input"
        ]
    );
    assert_eq!(
        answers("a: [\n").unwrap_err(),
        [
            "answers.yaml:2:1: error: YAML syntax error: while parsing a node, did not find expected node content\n  help: check the indentation, quoting and brackets at this position"
        ]
    );
    assert!(answers("").unwrap().is_empty());
    assert!(answers("# nothing yet\n").unwrap().is_empty());
    let ok = answers("count: 3\ninstance_name: adt-one\n").unwrap();
    assert_eq!(ok.keys().collect::<Vec<_>>(), ["count", "instance_name"]);
    assert_eq!(ok["count"], serde_json::json!(3));
}

#[test]
fn snapshot_of_a_plan_with_many_problems() {
    let text = "version: 1
name: broken
inputs:
  instance-name:
    description: Name of the instance
    typ: string
  region:
    default: 42
steps:
  - id: instance
    kind: azure.digital_twins_instance
    needs: [resource_grp]
    timeout: soon
    with:
      name: ${inputs.instance_name}
      region: ${inputs.region
  - id: instance
    kind: azure.role_assignment
outputs:
  host: ${steps.instanse.outputs.host_name}
";
    insta::assert_snapshot!(report(text));
}

#[test]
fn snapshot_of_a_yaml_syntax_error() {
    insta::assert_snapshot!(report(
        "version: 1\nname: x\nsteps:\n  - id: a\n    kind: \"unterminated\n"
    ));
}
