//! Command-line conventions az and azd users expect (issue 19): `-o json` is `--output json`,
//! `-q` leaves only results and errors, `-v` logs written to a file carry no colour codes, and
//! one flag set (`--answers`, `--set`, `--non-interactive`, `--cloud`, `--checkpoint`) serves a
//! script's `up`, `verify` and `down`.

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
    let loud = files(&s, &["up", "--plan", "files-plan.yaml", "--set", "audience=world"]);
    assert!(!loud.stderr.trim().is_empty());
}

#[test]
fn one_flag_set_serves_up_verify_and_down() {
    let s = Scratch::new();
    s.write("answers.yaml", "greeting: hi\n");
    for command in ["up", "verify", "down"] {
        let mut args = vec![command];
        args.extend_from_slice(COMMON);
        if command == "down" {
            args.push("--yes");
        }
        let out = files(&s, &args);
        assert_eq!(out.code, Some(0), "{command}: {}", out.stderr);
    }
    assert!(!s.path("out/settings.json").exists(), "down left the file");
}

#[test]
fn verbose_logs_written_to_a_file_have_no_colour_codes() {
    let s = Scratch::new();
    s.write("answers.yaml", "greeting: hi\n");
    let mut args = vec!["up", "-vv"];
    args.extend_from_slice(COMMON);
    let out = files(&s, &args);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stderr.contains("DEBUG") || out.stderr.contains("INFO"), "{}", out.stderr);
    assert!(!out.stderr.contains('\u{1b}'), "ANSI codes in a log file: {:?}", out.stderr);
}
