//! Secrets (issue 6, suite 5): the client secret and every token stay out of the checkpoint,
//! the logs at any verbosity, `--output json`, the outputs file and error messages; the
//! checkpoint and emulator state files are 0600; plain http is refused for non-loopback hosts.

#[path = "common/emulator.rs"]
mod emulator;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use emulator::{Emu, Finished, finish, scratch};
use serde_json::json;

/// Fails if `text` holds the secret or anything shaped like a JWT (`eyJ...` header).
fn assert_clean(what: &str, text: &str, secret: &str) {
    assert!(!secret.is_empty());
    assert!(!text.contains(secret), "{what} contains the client secret");
    assert!(!text.contains("eyJ"), "{what} contains a token:\n{text}");
}

fn scan_run(case: &str, dir: &Path, out: &Finished, secret: &str) {
    assert_clean(&format!("{case}: stdout"), &out.stdout, secret);
    assert_clean(&format!("{case}: stderr"), &out.stderr, secret);
    for file in [".twinup/checkpoint.json", "manifest.json", "outputs.json"] {
        if let Ok(text) = std::fs::read_to_string(dir.join(file)) {
            assert_clean(&format!("{case}: {file}"), &text, secret);
        }
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn no_secret_or_token_in_any_output_at_any_verbosity() {
    let variants: &[(&str, &[&str], Option<&str>)] = &[
        ("-v", &["-v"], None),
        ("-vv", &["-vv"], None),
        ("-vvv", &["-vvv"], None),
        ("RUST_LOG=trace", &[], Some("trace")),
        ("--output json -vvv", &["--output", "json", "-vvv"], None),
    ];
    for (case, flags, rust_log) in variants {
        let dir = scratch();
        let emu = Emu::start(dir.path());
        let secret = emu.field("client_secret");
        let mut cmd = emu.up(dir.path());
        cmd.args([
            "--answers",
            "answers.yaml",
            "--outputs-file",
            "outputs.json",
        ])
        .args(["--set", "grant_admin_consent=true"])
        .args(*flags);
        if let Some(level) = rust_log {
            cmd.env("RUST_LOG", level);
        }
        let out = finish(cmd, dir.path(), "run");
        assert_eq!(out.code, Some(0), "{case}: {}", out.all());
        if flags.contains(&"json") {
            let last = out.stdout.lines().last().unwrap_or_default();
            let v: serde_json::Value = serde_json::from_str(last).expect("json result");
            assert_eq!(v["status"], "succeeded");
        } else {
            assert!(
                out.stderr.len() > 500,
                "{case}: the logs are too thin to prove anything"
            );
        }
        scan_run(case, dir.path(), &out, &secret);
        assert_eq!(
            mode(&dir.path().join(".twinup/checkpoint.json")),
            0o600,
            "{case}"
        );
        assert_eq!(mode(&emu.state_path), 0o600, "{case}: emulator state");
    }
}

#[test]
fn no_secret_or_token_in_error_messages() {
    // A step that fails, at full verbosity.
    let dir = scratch();
    let emu = Emu::start(dir.path());
    let secret = emu.field("client_secret");
    emu.fault(
        json!({"method": "PUT", "path_contains": "digitalTwinsInstances", "count": 0,
                     "kind": {"status": 400, "code": "BadRequest", "message": "no"}}),
    );
    let mut cmd = emu.up(dir.path());
    cmd.args(["--answers", "answers.yaml", "-vvv"]);
    let out = finish(cmd, dir.path(), "failed");
    assert_eq!(out.code, Some(1), "{}", out.all());
    scan_run("failed step", dir.path(), &out, &secret);

    // A sign-in that fails: the wrong secret must not be echoed either.
    let dir = scratch();
    let wrong = "Wr0ng~Secret.Value-1234567890abcdef";
    let mut cmd = emu.up(dir.path());
    cmd.args(["--answers", "answers.yaml", "-vvv"])
        .env("AZURE_CLIENT_SECRET", wrong);
    let out = finish(cmd, dir.path(), "signin");
    assert_eq!(out.code, Some(2), "{}", out.all());
    assert!(out.stderr.contains("sign in"), "{}", out.stderr);
    scan_run("failed sign-in", dir.path(), &out, wrong);
    scan_run("failed sign-in", dir.path(), &out, &secret);
}

#[test]
fn the_local_cloud_keeps_its_state_private() {
    let dir = scratch();
    let mut cmd = emulator::clean_command(dir.path());
    cmd.args([
        "up",
        "--cloud",
        "local",
        "--answers",
        "answers.yaml",
        "--non-interactive",
        "-vvv",
    ]);
    let out = finish(cmd, dir.path(), "local");
    assert_eq!(out.code, Some(0), "{}", out.all());
    let state = std::fs::read_to_string(dir.path().join(".twinup/emulator.json")).expect("state");
    let v: serde_json::Value = serde_json::from_str(&state).expect("json");
    // The emulator's own principal secret lives in its state; it must not leak into output.
    let secrets: Vec<String> = v["applications"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
        .flat_map(|a| a["secrets"].as_array().cloned().unwrap_or_default())
        .filter_map(|s| s["secret"].as_str().map(str::to_string))
        .collect();
    assert!(
        !secrets.is_empty(),
        "no secret found in the local state to scan for"
    );
    for secret in &secrets {
        scan_run("--cloud local", dir.path(), &out, secret);
    }
    assert_eq!(mode(&dir.path().join(".twinup/emulator.json")), 0o600);
    assert_eq!(mode(&dir.path().join(".twinup/checkpoint.json")), 0o600);
}

#[test]
fn plain_http_is_refused_for_every_non_loopback_endpoint() {
    for (flag, url) in [
        ("--authority-host", "http://login.example.com"),
        ("--arm-endpoint", "http://management.example.com"),
        ("--graph-endpoint", "http://graph.example.com"),
    ] {
        let dir = scratch();
        let mut args = vec![
            ("--authority-host", "https://login.example.com"),
            ("--arm-endpoint", "https://management.example.com"),
            ("--graph-endpoint", "https://graph.example.com"),
        ];
        for a in &mut args {
            if a.0 == flag {
                a.1 = url;
            }
        }
        let mut cmd = emulator::clean_command(dir.path());
        cmd.args([
            "up",
            "--cloud",
            "custom",
            "--answers",
            "answers.yaml",
            "--non-interactive",
        ]);
        for (f, u) in args {
            cmd.args([f, u]);
        }
        let out = finish(cmd, dir.path(), "http");
        assert_eq!(out.code, Some(2), "{flag}: {}", out.all());
        assert!(out.stderr.contains("https"), "{flag}: {}", out.stderr);
        assert!(!dir.path().join(".twinup/checkpoint.json").exists());
    }
}
