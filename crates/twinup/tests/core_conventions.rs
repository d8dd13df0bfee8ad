//! Command-line conventions az and azd users expect (issue 19): `-o json` is `--output json`,
//! `-q` leaves only results and errors, `-v` logs written to a file carry no colour codes, and
//! one flag set (`--answers`, `--set`, `--non-interactive`, `--cloud`, `--checkpoint`) serves
//! every command of a script that takes a checkpoint, a usage error in JSON mode is a JSON
//! failure, and a reader closing stdout early is not an error.

mod common;

use common::{Scratch, run};

/// `twinup ARGS` on the fixture plan of `file` steps, with its one required and secret input.
fn files(s: &Scratch, args: &[&str]) -> common::Outcome {
    let mut cmd = s.twinup();
    cmd.args(args).env("TWINUP_API_KEY", "s3cret");
    run(&mut cmd)
}

const COMMON: &[&str] = &[
    "--plan",
    "files-plan.yaml",
    "--answers",
    "answers.yaml",
    "--set",
    "audience=world",
    "--non-interactive",
    "--cloud",
    "local",
    "--checkpoint",
    ".twinup/checkpoint.json",
];

#[test]
fn short_output_flag_gives_json_on_stdout_and_json_lines_on_stderr() {
    let s = Scratch::new();
    s.write("answers.yaml", "greeting: hi\n");
    let mut args = vec!["up", "-o", "json"];
    args.extend_from_slice(COMMON);
    let out = files(&s, &args);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(out.stdout.trim()).expect("one JSON object");
    assert_eq!(doc["status"], "succeeded");
    for line in out.stderr.lines().filter(|l| !l.trim().is_empty()) {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("stderr line is not JSON ({e}): {line}"));
    }
}

#[test]
fn quiet_leaves_only_the_result() {
    let s = Scratch::new();
    s.write("answers.yaml", "greeting: hi\n");
    let mut args = vec!["up", "-q"];
    args.extend_from_slice(COMMON);
    let out = files(&s, &args);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("Deployment completed successfully"));
    assert_eq!(out.stderr.trim(), "", "quiet printed progress");
    // The same run without -q prints its progress.
    let loud = files(
        &s,
        &["up", "--plan", "files-plan.yaml", "--set", "audience=world"],
    );
    assert!(!loud.stderr.trim().is_empty());
}

#[test]
fn one_flag_set_serves_every_command_that_takes_a_checkpoint() {
    let s = Scratch::new();
    s.write("answers.yaml", "greeting: hi\n");
    for command in ["up", "plan", "status", "preview", "verify", "down"] {
        let mut args = vec![command];
        args.extend_from_slice(COMMON);
        if command == "down" {
            args.push("--yes");
        }
        let out = files(&s, &args);
        assert_eq!(out.code, Some(0), "{command}: {}", out.stderr);
    }
    assert!(!s.path("out/settings.json").exists(), "down left the file");
    // `unlock` takes the same flags; a local checkpoint has no lease to break, and it says so.
    let mut args = vec!["unlock"];
    args.extend_from_slice(COMMON);
    let out = files(&s, &args);
    assert!(
        out.all_text().contains("nothing to unlock"),
        "{}",
        out.all_text()
    );
}

#[test]
fn verbose_logs_written_to_a_file_have_no_colour_codes() {
    let s = Scratch::new();
    s.write("answers.yaml", "greeting: hi\n");
    let mut args = vec!["up", "-vv"];
    args.extend_from_slice(COMMON);
    let out = files(&s, &args);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains("DEBUG") || out.stderr.contains("INFO"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains('\u{1b}'),
        "ANSI codes in a log file: {:?}",
        out.stderr
    );
}

/// Runs `args` with `-o json` and checks the JSON contract: stdout is one JSON object with the
/// schema version, and every stderr line is a JSON event with a timestamp. Returns stdout's object.
fn json_contract(s: &Scratch, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["-o", "json"];
    all.extend_from_slice(args);
    let out = files(s, &all);
    let doc: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "{args:?}: stdout is not one JSON object ({e}): {}",
            out.stdout
        )
    });
    assert_eq!(doc["schema_version"], 1, "{args:?}: {doc}");
    for line in out.stderr.lines().filter(|l| !l.trim().is_empty()) {
        let event: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{args:?}: stderr line is not JSON ({e}): {line}"));
        assert_eq!(event["schema_version"], 1, "{line}");
        assert!(event["timestamp"].is_string(), "{line}");
    }
    doc
}

#[test]
fn every_command_keeps_the_json_contract() {
    let s = Scratch::new();
    s.write("answers.yaml", "greeting: hi\n");
    s.write(
        "config.json",
        r#"{"subscription": "00000000-0000-0000-0000-000000000000", "location": "westus2"}"#,
    );
    let plan = ["--plan", "files-plan.yaml"];
    let up = json_contract(&s, &[&["up"], COMMON].concat());
    assert_eq!(up["status"], "succeeded");
    json_contract(&s, &[&["plan"][..], &plan].concat());
    json_contract(&s, &[&["status"][..], &plan].concat());
    json_contract(&s, &[&["preview"], COMMON].concat());
    json_contract(&s, &[&["verify"], COMMON].concat());
    json_contract(&s, &[&["down", "--yes"], COMMON].concat());
    let init = json_contract(
        &s,
        &["init", "--plan", "files-plan.yaml", "--out", "a.yaml"],
    );
    assert_eq!(init["status"], "written");
    assert!(s.path("a.yaml").exists());
    let import = json_contract(
        &s,
        &["import-deploy-config", "config.json", "--out", "b.yaml"],
    );
    assert_eq!(import["path"], "b.yaml");
    // A failure is an object too, with the missing inputs as a list.
    let missing = json_contract(
        &s,
        &[
            "up",
            "--plan",
            "files-plan.yaml",
            "--non-interactive",
            "--checkpoint",
            "fresh.json",
        ],
    );
    assert_eq!(missing["status"], "invalid");
    assert_eq!(missing["failure"]["code"], "missing_inputs");
    assert_eq!(missing["failure"]["missing_inputs"][0]["name"], "audience");
    assert!(
        missing["error"].is_string(),
        "the message string scripts read stays"
    );
}

/// A reader that stops early (`twinup plan | head -1`) closes the pipe; the command still ends
/// as it would have, with no panic (exit 101) and no error about the pipe.
#[test]
fn a_reader_that_closes_stdout_early_is_not_an_error() {
    let s = Scratch::new();
    s.write("answers.yaml", "greeting: hi\n");
    let preview = [&["preview"], COMMON].concat();
    let commands: &[&[&str]] = &[
        &["plan", "--plan", "files-plan.yaml"],
        &preview,
        &["man"],
        &["completions", "bash"],
        &["init", "--plan", "files-plan.yaml", "--out", "-"],
    ];
    for args in commands {
        // The read end is closed before the command starts, so its first write meets a closed
        // pipe whatever the timing.
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = std::process::Command::new(common::emulator::twinup_bin())
            .args(*args)
            .current_dir(s.path("."))
            .env("TWINUP_API_KEY", "s3cret")
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .expect("run twinup");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("pipe"),
            "{args:?}: {stderr}"
        );
    }
}

/// A usage error (an unknown flag) with `-o json` is the JSON failure object on stdout, like
/// every other error, and nothing but JSON on stderr.
#[test]
fn a_usage_error_in_json_mode_is_a_json_failure() {
    let s = Scratch::new();
    for args in [
        &["-o", "json", "status", "--bogus"][..],
        &["status", "--output=json", "--bogus"],
        &["up", "-ojson", "--parallelism", "0"],
    ] {
        let out = files(&s, args);
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
        let doc: serde_json::Value = serde_json::from_str(out.stdout.trim())
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", out.stdout));
        assert_eq!(doc["status"], "invalid", "{doc}");
        assert_eq!(doc["failure"]["code"], "invalid_input", "{doc}");
        assert!(
            doc["error"].as_str().is_some_and(|m| !m.is_empty()),
            "{doc}"
        );
        assert!(out.stderr.trim().is_empty(), "{args:?}: {}", out.stderr);
    }
    // Without JSON, clap's own message and usage, as before.
    let out = files(&s, &["status", "--bogus"]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("unexpected argument '--bogus'"),
        "{}",
        out.stderr
    );
}
