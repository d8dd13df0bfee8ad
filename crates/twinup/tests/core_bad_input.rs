//! Bad plans, answers, flags and checkpoints: each exits 2 with one clear message that names
//! the place (`file:line:column` or the field) and the fix, and leaves the checkpoint
//! byte-for-byte unchanged.

mod common;

use common::{Scratch, run};

const GOOD_PLAN: &str = "version: 1
name: files
inputs:
  audience:
    description: Who
    type: string
    pattern: '^[a-z]+$'
steps:
  - id: first
    kind: file
    with:
      path: out/first.txt
      content: hi ${inputs.audience}
outputs:
  path: ${steps.first.outputs.path}
";

/// Runs `up` with `plan` (and optional answers / extra args) in a directory that already has a
/// good checkpoint, and checks the failure contract.
fn rejects(plan: &str, answers: Option<&str>, extra: &[&str], expected: &[&str]) {
    let s = Scratch::new();
    s.write("good.yaml", GOOD_PLAN);
    let out = run(s.twinup().args([
        "up",
        "--plan",
        "good.yaml",
        "--non-interactive",
        "--set",
        "audience=world",
    ]));
    assert_eq!(out.code, Some(0), "setup run failed: {}", out.stderr);
    let before = s.checkpoint_bytes().expect("checkpoint");

    s.write("bad.yaml", plan);
    let mut cmd = s.twinup();
    cmd.args(["up", "--plan", "bad.yaml", "--non-interactive"]);
    if let Some(answers) = answers {
        s.write("answers.yaml", answers);
        cmd.args(["--answers", "answers.yaml"]);
    }
    cmd.args(extra);
    let out = run(&mut cmd);
    assert_eq!(
        out.code,
        Some(2),
        "expected exit 2 for {expected:?}; stderr:\n{}",
        out.stderr
    );
    for e in expected {
        assert!(out.stderr.contains(e), "expected {e:?} in:\n{}", out.stderr);
    }
    assert_eq!(
        s.checkpoint_bytes().expect("checkpoint"),
        before,
        "checkpoint changed"
    );
}

fn with(old: &str, new: &str) -> String {
    assert!(GOOD_PLAN.contains(old), "fixture lacks {old:?}");
    GOOD_PLAN.replacen(old, new, 1)
}

#[test]
fn malformed_yaml_points_at_the_line() {
    rejects(
        &with("kind: file", "kind: [file"),
        None,
        &[],
        &["bad.yaml:11:9", "YAML syntax error"],
    );
}

#[test]
fn a_literal_dollar_brace_is_checked_like_any_other_text() {
    // `$${x}` is the literal text `${x}`. Kinds once took any `${` for a value not known yet
    // and skipped their checks, so this path went unchecked until the write.
    rejects(
        &with("path: out/first.txt", "path: ../$${x}/first.txt"),
        None,
        &["--set", "audience=world"],
        &["`../${x}/first.txt` is outside the working directory"],
    );
}

#[test]
fn unknown_top_level_key_is_named_with_a_suggestion() {
    rejects(
        &with("inputs:", "input:"),
        None,
        &[],
        &["bad.yaml:3:1", "input", "did you mean `inputs`?"],
    );
}

#[test]
fn unknown_step_key_is_named_with_a_suggestion() {
    rejects(
        &with("    with:", "    wiht:"),
        None,
        &[],
        &["bad.yaml:11:5", "did you mean `with`?"],
    );
}

#[test]
fn unknown_step_kind_gets_a_suggestion() {
    rejects(
        &with("kind: file", "kind: fil"),
        None,
        &[],
        &["bad.yaml:10:11", "did you mean `file`?"],
    );
}

#[test]
fn duplicate_step_ids_are_rejected() {
    let plan = GOOD_PLAN.replace(
        "outputs:",
        "  - id: first\n    kind: file\n    with: {path: x, content: y}\noutputs:",
    );
    rejects(
        &plan,
        None,
        &[],
        &["bad.yaml:14:9", "duplicate step id `first`", "line 9"],
    );
}

#[test]
fn reference_to_a_missing_input_gets_a_suggestion() {
    rejects(
        &with("${inputs.audience}", "${inputs.audiense}"),
        None,
        &[],
        &["bad.yaml:13:", "did you mean `audience`?"],
    );
}

#[test]
fn reference_to_a_missing_step_gets_a_suggestion() {
    rejects(
        &with("${steps.first.outputs.path}", "${steps.frist.outputs.path}"),
        None,
        &[],
        &["bad.yaml:15:", "did you mean `first`?"],
    );
}

#[test]
fn reference_to_an_output_the_kind_does_not_have() {
    rejects(
        &with("${steps.first.outputs.path}", "${steps.first.outputs.paht}"),
        None,
        &[],
        &["bad.yaml:15:", "did you mean `path`?"],
    );
}

#[test]
fn cycles_are_named() {
    let plan = GOOD_PLAN.replace(
        "outputs:",
        "  - id: second\n    kind: file\n    needs: [first]\n    with: {path: x, content: y}\noutputs:",
    ).replace("    kind: file\n    with:\n      path: out", "    kind: file\n    needs: [second]\n    with:\n      path: out");
    rejects(&plan, None, &[], &["bad.yaml:", "cycle", "first", "second"]);
}

#[test]
fn default_that_breaks_the_pattern() {
    rejects(
        &with(
            "pattern: '^[a-z]+$'",
            "pattern: '^[a-z]+$'\n    default: World1",
        ),
        None,
        &[],
        &["bad.yaml:8:", "default"],
    );
}

#[test]
fn wrong_type_of_default() {
    rejects(
        &with("    type: string\n", "    type: int\n    default: many\n"),
        None,
        &[],
        &["bad.yaml:7:14", "expected a whole number"],
    );
}

#[test]
fn unsupported_version() {
    rejects(
        &with("version: 1", "version: 7"),
        None,
        &[],
        &["bad.yaml:1:", "version"],
    );
}

#[test]
fn kind_field_errors_point_into_with() {
    rejects(
        &with("      path: out/first.txt\n", "      pth: out/first.txt\n"),
        None,
        &[],
        &["bad.yaml:12:7", "did you mean `path`?"],
    );
}

#[test]
fn answers_with_an_unknown_key() {
    rejects(
        GOOD_PLAN,
        Some("audiense: world\n"),
        &[],
        &["answers.yaml:1:1", "did you mean `audience`?"],
    );
}

#[test]
fn answers_with_a_value_that_breaks_the_pattern() {
    rejects(
        GOOD_PLAN,
        Some("audience: World 1\n"),
        &[],
        &["answers.yaml:1:", "audience"],
    );
}

#[test]
fn answers_that_are_not_a_mapping() {
    rejects(GOOD_PLAN, Some("- audience\n"), &[], &["answers.yaml:1:1"]);
}

#[test]
fn answers_file_missing() {
    rejects(
        GOOD_PLAN,
        None,
        &["--answers", "nope.yaml"],
        &["--answers nope.yaml", "no such file"],
    );
}

#[test]
fn answers_file_is_a_directory() {
    rejects(
        GOOD_PLAN,
        None,
        &["--answers", "out"],
        &["--answers out", "is a directory"],
    );
}

#[test]
fn set_for_an_unknown_input() {
    rejects(
        GOOD_PLAN,
        None,
        &["--set", "audiense=x"],
        &["audiense", "did you mean `audience`?"],
    );
}

#[test]
fn set_without_equals() {
    rejects(
        GOOD_PLAN,
        None,
        &["--set", "audience"],
        &["--set audience", "NAME=VALUE"],
    );
}

#[test]
fn set_with_an_invalid_value() {
    rejects(
        GOOD_PLAN,
        None,
        &["--set", "audience=UPPER"],
        &["--set", "audience"],
    );
}

#[test]
fn plan_file_missing() {
    let s = Scratch::new();
    let out = run(s
        .twinup()
        .args(["up", "--plan", "nope.yaml", "--non-interactive"]));
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("nope.yaml"), "{}", out.stderr);
}

fn checkpoint_rejected(content: &[u8], expected: &[&str]) {
    let s = Scratch::new();
    s.write("good.yaml", GOOD_PLAN);
    std::fs::create_dir_all(s.path(".twinup")).unwrap();
    std::fs::write(s.path(".twinup/checkpoint.json"), content).unwrap();
    let out = run(s.twinup().args([
        "up",
        "--plan",
        "good.yaml",
        "--non-interactive",
        "--set",
        "audience=world",
    ]));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    for e in expected {
        assert!(out.stderr.contains(e), "expected {e:?} in:\n{}", out.stderr);
    }
    assert_eq!(
        s.checkpoint_bytes().unwrap(),
        content,
        "checkpoint was overwritten"
    );
    assert!(!s.path("out/first.txt").exists(), "a step ran");
}

#[test]
fn truncated_checkpoint() {
    checkpoint_rejected(
        b"{\"schema_version\": 1, \"plan\": {\"na",
        &["damaged", "left untouched"],
    );
}

#[test]
fn empty_checkpoint() {
    checkpoint_rejected(b"", &["damaged", "empty"]);
}

#[test]
fn garbage_checkpoint() {
    checkpoint_rejected(b"\x00\x01binary", &["damaged"]);
}

#[test]
fn future_version_checkpoint() {
    checkpoint_rejected(
        br#"{"schema_version": 99, "plan": {"name": "files"}}"#,
        &["schema version 99", "newer twinup"],
    );
}

#[test]
fn foreign_plan_checkpoint() {
    let foreign = br#"{"schema_version":1,"plan":{"name":"other","hash":"x"},"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","inputs":{},"steps":{},"outputs":{}}"#;
    checkpoint_rejected(foreign, &["belongs to plan `other`", "--plan"]);
}

#[test]
fn checkpoint_in_a_directory_that_cannot_be_created() {
    let s = Scratch::new();
    s.write("good.yaml", GOOD_PLAN);
    s.write("afile", "not a directory");
    let out = run(s.twinup().args([
        "up",
        "--plan",
        "good.yaml",
        "--non-interactive",
        "--set",
        "audience=world",
        "--checkpoint",
        "afile/cp.json",
    ]));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("afile/cp.json"), "{}", out.stderr);
    assert!(
        out.stderr.contains("writable --checkpoint"),
        "{}",
        out.stderr
    );
    assert!(!s.path("out/first.txt").exists(), "a step ran");
}

#[test]
fn parallelism_out_of_range_is_a_usage_error() {
    let s = Scratch::new();
    let out = run(s.twinup().args(["up", "--parallelism", "0"]));
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("--parallelism"), "{}", out.stderr);
}

/// `up` and `preview` prepare a run the same way: with inputs missing that neither signing in
/// nor a prompt can supply (`--non-interactive`), both stop before signing in, with the same
/// list of what is missing and exit 2.
#[test]
fn up_and_preview_stop_at_the_same_missing_inputs_before_signing_in() {
    let s = Scratch::new();
    let said: Vec<String> = ["up", "preview"]
        .into_iter()
        .map(|command| {
            let out = run(s
                .twinup()
                .args([command, "--cloud", "local", "--non-interactive"]));
            assert_eq!(out.code, Some(2), "{command}: {}", out.stderr);
            assert!(
                !out.stderr.contains("Signed in"),
                "{command}: {}",
                out.stderr
            );
            assert!(
                out.stderr.contains("instance_name"),
                "{command}: {}",
                out.stderr
            );
            out.stderr
        })
        .collect();
    assert_eq!(said[0], said[1]);
}
