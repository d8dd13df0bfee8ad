//! Issue 14, secrets are tainted values: a plan output that references a secret input is
//! refused unless declared `secret: true`; a declared one is shown as `********`, left out of the
//! checkpoint, the logs and the JSON events, and written only to `--outputs-file` (mode 0600);
//! a secret rendered into a step's `with` is printed as `(secret)` in validation and step errors.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{Outcome, Scratch, run};

const SECRET: &str = "Zq7-very-secret-9xK";

const DECLARED: &str = r#"version: 1
name: secret-outputs
inputs:
  api_key: {type: string, secret: true}
  region: {type: string, secret: true, default: westus2}
steps:
  - id: note
    kind: file
    with:
      path: out/note.txt
      content: "no secret here"
outputs:
  note: ${steps.note.outputs.path}
  key:
    value: ${inputs.api_key}
    secret: true
"#;

/// Every file under `dir` (recursively) except `skip`, with its bytes.
fn files(dir: &Path, skip: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                todo.push(path);
            } else if path != skip {
                out.push((
                    path.display().to_string(),
                    std::fs::read(&path).expect("read"),
                ));
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn assert_no_secret(what: &str, out: &Outcome) {
    assert!(
        !out.stdout.contains(SECRET),
        "{what}: stdout has the secret:\n{}",
        out.stdout
    );
    assert!(
        !out.stderr.contains(SECRET),
        "{what}: stderr has the secret:\n{}",
        out.stderr
    );
}

#[test]
fn an_output_that_references_a_secret_input_is_refused_unless_declared_secret() {
    let s = Scratch::new();
    s.write(
        "leaky.yaml",
        &DECLARED.replace(
            "  key:\n    value: ${inputs.api_key}\n    secret: true\n",
            "  key: ${inputs.api_key}\n",
        ),
    );
    for args in [
        vec!["plan", "--plan", "leaky.yaml"],
        vec!["up", "--plan", "leaky.yaml", "--non-interactive"],
    ] {
        let out = run(s.twinup().args(&args).env("TWINUP_API_KEY", SECRET));
        assert_eq!(out.code, Some(2), "{args:?}: {}{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains("leaky.yaml:")
                && out.stderr.contains("output `key`")
                && out.stderr.contains("secret input `api_key`")
                && out.stderr.contains("secret: true"),
            "{args:?}: {}",
            out.stderr
        );
        assert_no_secret("refused plan", &out);
    }
    assert!(s.checkpoint_bytes().is_none(), "nothing may be written");
}

#[test]
fn a_secret_output_is_masked_everywhere_and_only_in_the_outputs_file() {
    let s = Scratch::new();
    s.write("plan.yaml", DECLARED);
    let outputs_file = s.path("outputs.json");
    let mut outcomes = Vec::new();
    for (tag, extra) in [
        ("json", vec!["--output", "json", "-vvv"]),
        ("text", vec!["-vvv"]),
    ] {
        let out = run(s
            .twinup()
            .args(["up", "--plan", "plan.yaml", "--non-interactive"])
            .args(["--outputs-file", "outputs.json"])
            .args(&extra)
            .env("TWINUP_API_KEY", SECRET)
            .env("RUST_LOG", "trace"));
        assert_eq!(out.code, Some(0), "{tag}: {}{}", out.stdout, out.stderr);
        outcomes.push((tag, out));
    }
    let (_, text) = &outcomes[1];
    assert!(
        text.stdout.contains("key   ********") || text.stdout.contains("key  ********"),
        "{}",
        text.stdout
    );
    let (_, json) = &outcomes[0];
    let last: serde_json::Value =
        serde_json::from_str(json.stdout.lines().last().expect("result line")).expect("json");
    assert_eq!(last["outputs"]["key"], "********", "{}", json.stdout);
    assert!(
        json.stderr.contains("\"step_succeeded\"") && json.stderr.contains("\"run_finished\""),
        "events are printed: {}",
        json.stderr
    );

    for cmd in [
        vec!["status"],
        vec!["status", "--output", "json"],
        vec!["down", "--yes"],
    ] {
        let mut args = cmd.clone();
        args.extend(["--plan", "plan.yaml"]);
        let out = run(s.twinup().args(&args).env("TWINUP_API_KEY", SECRET));
        assert_eq!(out.code, Some(0), "{cmd:?}: {}{}", out.stdout, out.stderr);
        outcomes.push(("later command", out));
    }
    for (tag, out) in &outcomes {
        assert_no_secret(tag, out);
    }
    for (path, bytes) in files(s.dir.path(), &outputs_file) {
        assert!(!contains(&bytes, SECRET), "{path} holds the secret");
    }
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&outputs_file).expect("outputs file")).expect("json");
    assert_eq!(
        written["key"], SECRET,
        "the outputs file has the real value"
    );
    let mode = std::fs::metadata(&outputs_file)
        .expect("meta")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "the outputs file must be private");
}

#[test]
fn a_secret_in_a_with_field_is_printed_as_secret_in_validation_and_step_errors() {
    let s = Scratch::new();
    // Validation: a secret used as a location that is not a region.
    s.write(
        "region.yaml",
        r#"version: 1
name: secret-region
inputs:
  region: {type: string, secret: true}
steps:
  - id: group
    kind: azure.resource_group
    with: {name: rg-x, location: "${inputs.region}", subscription_id: 00000000-0000-0000-0000-000000000000}
"#,
    );
    let out = run(s
        .twinup()
        .args([
            "up",
            "--plan",
            "region.yaml",
            "--non-interactive",
            "--cloud",
            "local",
        ])
        .env("TWINUP_REGION", SECRET));
    assert_eq!(out.code, Some(2), "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("(secret)"), "{}", out.stderr);
    assert_no_secret("validation error", &out);

    // A step error: the secret is part of a path that cannot be written.
    s.write("blocker", "a file, not a directory");
    s.write(
        "fails.yaml",
        r#"version: 1
name: secret-path
inputs:
  api_key: {type: string, secret: true}
steps:
  - id: write
    kind: file
    with: {path: "blocker/${inputs.api_key}.txt", content: x}
"#,
    );
    for extra in [vec![], vec!["--output", "json"]] {
        let out = run(s
            .twinup()
            .args(["up", "--plan", "fails.yaml", "--non-interactive"])
            .args(&extra)
            .env("TWINUP_API_KEY", SECRET));
        assert_eq!(out.code, Some(1), "{}{}", out.stdout, out.stderr);
        assert!(
            out.all_text().contains("blocker/(secret).txt"),
            "{}{}",
            out.stdout,
            out.stderr
        );
        assert_no_secret("step error", &out);
    }
    for (path, bytes) in files(s.dir.path(), Path::new("")) {
        assert!(!contains(&bytes, SECRET), "{path} holds the secret");
    }
}
