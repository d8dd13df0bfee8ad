//! The binary runs a plan of `file` steps end to end: outputs, reruns, changed inputs, input
//! sources and their order, secrets kept out of the checkpoint and the output.

mod common;

use common::{Scratch, run};

use common::FILES_UP as BASE;

#[test]
fn a_plan_runs_and_ends_with_the_success_line_and_outputs() {
    let s = Scratch::new();
    let out = run(s
        .twinup()
        .args(BASE)
        .env("TWINUP_API_KEY", "sup3r-s3cret-value"));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout
            .starts_with("Deployment completed successfully\n"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("settings"), "{}", out.stdout);
    assert_eq!(
        std::fs::read_to_string(s.path("out/first.txt")).unwrap(),
        "hello, world"
    );
    let settings: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.path("out/settings.json")).unwrap())
            .unwrap();
    assert_eq!(settings["key_length"], "sup3r-s3cret-value");

    let checkpoint = std::fs::read_to_string(s.path(".twinup/checkpoint.json")).unwrap();
    assert!(
        !checkpoint.contains("sup3r-s3cret-value"),
        "secret leaked into the checkpoint"
    );
    assert!(
        !out.stdout.contains("sup3r-s3cret-value") && !out.stderr.contains("sup3r-s3cret-value")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(s.path(".twinup/checkpoint.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn a_rerun_of_a_finished_deployment_says_nothing_to_do_and_changes_nothing() {
    let s = Scratch::new();
    assert_eq!(
        run(s.twinup().args(BASE).env("TWINUP_API_KEY", "k")).code,
        Some(0)
    );
    let before = s.checkpoint();
    let out = run(s.twinup().args(BASE).env("TWINUP_API_KEY", "k"));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stderr.contains("Nothing to do"), "{}", out.stderr);
    let after = s.checkpoint();
    for step in ["first", "second", "settings"] {
        assert_eq!(
            before["steps"][step]["attempts"],
            after["steps"][step]["attempts"]
        );
        assert_eq!(
            before["steps"][step]["finished_at"],
            after["steps"][step]["finished_at"]
        );
    }
}

#[test]
fn changed_inputs_rerun_only_the_steps_they_reach_and_the_run_says_so() {
    let s = Scratch::new();
    assert_eq!(
        run(s.twinup().args(BASE).env("TWINUP_API_KEY", "k")).code,
        Some(0)
    );
    let out = run(s
        .twinup()
        .args(BASE)
        .args(["--set", "greeting=bonjour"])
        .env("TWINUP_API_KEY", "k"));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("first (file): inputs changed, updating"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("second: unchanged, skipped"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("settings (file): inputs changed, updating"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(s.path("out/first.txt")).unwrap(),
        "bonjour, world"
    );
}

#[test]
fn inputs_come_from_flags_then_environment_then_answers_then_the_checkpoint() {
    let s = Scratch::new();
    s.write(
        "answers.yaml",
        "audience: answers\ngreeting: from-answers\n",
    );
    let out = run(s
        .twinup()
        .args([
            "up",
            "--plan",
            "files-plan.yaml",
            "--non-interactive",
            "--answers",
            "answers.yaml",
        ])
        .args(["--set", "greeting=from-flag"])
        .env("TWINUP_AUDIENCE", "environment")
        .env("TWINUP_API_KEY", "k"));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(s.path("out/first.txt")).unwrap(),
        "from-flag, environment"
    );

    // The next run without any source reuses the values saved in the checkpoint.
    let out = run(s
        .twinup()
        .args(["up", "--plan", "files-plan.yaml", "--non-interactive"])
        .env("TWINUP_API_KEY", "k"));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stderr.contains("Nothing to do"), "{}", out.stderr);
}

#[test]
fn missing_inputs_are_all_listed_with_an_answers_snippet_and_exit_2() {
    let s = Scratch::new();
    let out = run(s
        .twinup()
        .args(["up", "--plan", "files-plan.yaml", "--non-interactive"]));
    assert_eq!(out.code, Some(2));
    for expected in [
        "2 required inputs have no value",
        "audience: Who the greeting is for",
        "api_key: A secret that must never reach the checkpoint",
        "--answers FILE",
        "  audience:    # text matching ^[a-z]+$",
    ] {
        assert!(
            out.stderr.contains(expected),
            "missing {expected:?} in:\n{}",
            out.stderr
        );
    }
    assert!(s.checkpoint_bytes().is_none(), "nothing may be written");
}

#[test]
fn json_output_is_one_object_on_stdout() {
    let s = Scratch::new();
    let out = run(s
        .twinup()
        .args(BASE)
        .args(["--output", "json"])
        .env("TWINUP_API_KEY", "k"));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(out.stdout.trim()).expect("one JSON object");
    assert_eq!(doc["status"], "succeeded");
    assert_eq!(doc["outputs"]["settings"], "out/settings.json");
    for line in out.stderr.lines() {
        let event: serde_json::Value = serde_json::from_str(line).expect("JSON event line");
        assert!(event.get("event").is_some());
    }
}

#[test]
fn status_and_plan_show_the_steps_and_their_states() {
    let s = Scratch::new();
    assert_eq!(
        run(s.twinup().args(BASE).env("TWINUP_API_KEY", "k")).code,
        Some(0)
    );
    let out = run(s.twinup().args(["status", "--plan", "files-plan.yaml"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("settings  succeeded"), "{}", out.stdout);
    assert!(out.stdout.contains("Outputs:"), "{}", out.stdout);
    let out = run(s.twinup().args(["plan", "--plan", "files-plan.yaml"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("after first, second"), "{}", out.stdout);
}

#[test]
fn reconfigure_ignores_values_saved_in_the_checkpoint() {
    let s = Scratch::new();
    assert_eq!(
        run(s.twinup().args(BASE).env("TWINUP_API_KEY", "k")).code,
        Some(0)
    );
    let out = run(s
        .twinup()
        .args([
            "up",
            "--plan",
            "files-plan.yaml",
            "--non-interactive",
            "--reconfigure",
        ])
        .env("TWINUP_API_KEY", "k"));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("audience: Who the greeting is for"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_path_made_from_an_earlier_steps_output_is_checked_when_it_is_known() {
    // Before the run the second path is not known: validation and preflight let it through,
    // and the write checks it once the first step has produced it.
    let plan = "version: 1
name: chained
steps:
  - id: first
    kind: file
    with:
      path: out/first.txt
      content: one
  - id: second
    kind: file
    with:
      path: ${steps.first.outputs.path}.copy
      content: two
  - id: third
    kind: file
    with:
      path: ../${steps.first.outputs.path}
      content: three
";
    let s = Scratch::new();
    s.write("chained.yaml", plan);
    let out = run(s
        .twinup()
        .args(["up", "--plan", "chained.yaml", "--non-interactive"]));
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(s.path("out/first.txt.copy")).unwrap(),
        "two"
    );
    assert!(
        out.stderr
            .contains("`../out/first.txt` is outside the working directory"),
        "{}",
        out.stderr
    );
}

/// Validating a plan needs no connection: the kinds' schemas are apart from their clients, so
/// `twinup plan` works where no HTTPS client could be made (a CA bundle that is not there),
/// and `up`, which connects, says what is wrong with it.
#[test]
fn a_plan_is_checked_without_a_connection_and_only_up_needs_the_ca_bundle() {
    let s = Scratch::new();
    let mut cmd = s.twinup();
    cmd.arg("plan")
        .env("SSL_CERT_FILE", s.path("missing-ca.pem"));
    let out = run(&mut cmd);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("is valid"), "{}", out.stdout);

    let mut cmd = s.twinup();
    let answers = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../plans/examples/answers.yaml"
    );
    cmd.args([
        "up",
        "--cloud",
        "local",
        "--non-interactive",
        "--answers",
        answers,
    ])
    .env("SSL_CERT_FILE", s.path("missing-ca.pem"));
    let out = run(&mut cmd);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("missing-ca.pem"), "{}", out.stderr);
}

/// A step refused mid-run because of an input's value (a path made from the input and an
/// earlier step's output names a file someone else has): the error says which input to
/// change and how, not only "rerun"; the other person's file is untouched; and the command
/// the hint describes completes.
#[test]
fn a_step_refused_mid_run_names_the_input_to_change_and_the_hinted_rerun_completes() {
    let s = Scratch::new();
    s.write(
        "named.yaml",
        "version: 1
name: named-files
inputs:
  name:
    type: string
steps:
  - id: first
    kind: file
    with:
      path: first.txt
      content: one
  - id: second
    kind: file
    with:
      path: ${inputs.name}-${steps.first.outputs.path}
      content: two
",
    );
    s.write("taken-first.txt", "someone else's");
    let up = |name: &str| {
        let set = format!("name={name}");
        run(s.twinup().args([
            "up",
            "--plan",
            "named.yaml",
            "--non-interactive",
            "--set",
            &set,
        ]))
    };
    let refused = up("taken");
    assert_ne!(refused.code, Some(0), "{}", refused.stderr);
    for said in [
        "step `second`",
        "a rerun alone cannot fix this",
        "input `name`: change `--set name=...`",
    ] {
        assert!(
            refused.stderr.contains(said),
            "no {said:?} in {}",
            refused.stderr
        );
    }
    assert_eq!(read(&s, "taken-first.txt"), "someone else's");

    let hinted = up("free");
    assert_eq!(hinted.code, Some(0), "{}", hinted.stderr);
    assert_eq!(read(&s, "free-first.txt"), "two");
    assert_eq!(read(&s, "taken-first.txt"), "someone else's");
}

/// A step refused mid-run for what no input holds (a path made from an earlier step's output
/// that leaves the working directory) does not advise a plain rerun, which is refused again:
/// it says the rerun comes after fixing what the refusal names.
#[test]
fn a_step_refused_mid_run_for_no_input_says_a_plain_rerun_is_refused_again() {
    let s = Scratch::new();
    s.write(
        "outside.yaml",
        "version: 1
name: outside-files
steps:
  - id: first
    kind: file
    with:
      path: first.txt
      content: one
  - id: second
    kind: file
    with:
      path: ../${steps.first.outputs.path}
      content: two
",
    );
    let out = run(s
        .twinup()
        .args(["up", "--plan", "outside.yaml", "--non-interactive"]));
    assert_ne!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "rerunning as it is would be refused again: fix what the refusal of `second` names, then rerun"
        ),
        "{}",
        out.stderr
    );
}

fn read(s: &Scratch, name: &str) -> String {
    std::fs::read_to_string(s.path(name)).expect("read")
}

/// `plan -o json` tells a script which inputs sign-in finds (the built-in plan's
/// `subscription` and `role_assignee`) apart from those it must supply, as `init` does.
#[test]
fn plan_json_says_which_inputs_are_found_at_sign_in() {
    let s = Scratch::new();
    let out = run(s.twinup().args(["plan", "-o", "json"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(out.stdout.trim()).expect("JSON");
    let input = |name: &str| {
        doc["inputs"]
            .as_array()
            .and_then(|all| all.iter().find(|i| i["name"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("{name}: {doc}"))
    };
    assert_eq!(input("subscription")["found_at_sign_in"], true);
    assert_eq!(input("role_assignee")["found_at_sign_in"], true);
    assert_eq!(input("location")["found_at_sign_in"], false);
    assert_eq!(input("location")["required"], true);
    // A plan of files only signs in nowhere: nothing is found.
    let out = run(s
        .twinup()
        .args(["plan", "-o", "json", "--plan", "files-plan.yaml"]));
    assert!(
        !out.stdout.contains("\"found_at_sign_in\":true"),
        "{}",
        out.stdout
    );
}
