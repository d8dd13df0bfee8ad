//! Lifecycle commands that need no cloud: `init` and `import-deploy-config` (answers files
//! that `up` accepts), `completions` and `man`, and `verify`/`down` on a plan of `file` steps
//! (a file that existed before is kept; `down` then `up` on the same checkpoint).

mod common;

use common::{Scratch, run};
use serde_json::Value;

fn files_up(s: &Scratch, extra: &[&str]) -> common::Outcome {
    let mut cmd = s.files_up();
    cmd.args(extra).env("TWINUP_API_KEY", "s3cret");
    run(&mut cmd)
}

#[test]
fn init_lists_every_input_and_the_file_is_accepted_by_up() {
    let s = Scratch::new();
    let out = run(s.twinup().args(["init", "--plan", "files-plan.yaml"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let text = std::fs::read_to_string(s.path("answers.yaml")).unwrap();
    for expected in [
        "# What the first file says",
        "# (type: string; default: hello)",
        "# greeting: hello",
        "# Who the greeting is for",
        "REQUIRED; pattern: ^[a-z]+$",
        "# audience: \"\"",
        "secret: better given as TWINUP_API_KEY",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    // It is a valid answers file as written (everything commented), and once filled in.
    let filled = text.replace("# audience: \"\"", "audience: planet");
    s.write("answers.yaml", &filled);
    let up = files_up(&s, &["--answers", "answers.yaml"]);
    assert_eq!(up.code, Some(0), "{}", up.stderr);

    // An existing file is not overwritten without --force.
    let again = run(s.twinup().args(["init", "--plan", "files-plan.yaml"]));
    assert_eq!(again.code, Some(2));
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
}

#[test]
fn init_for_the_built_in_plan_shows_choices() {
    let s = Scratch::new();
    let out = run(s.twinup().args(["init", "--out", "-"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains(
            "choices: \"Azure Digital Twins Data Owner\" | \"Azure Digital Twins Data Reader\""
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("# instance_name: \"\""),
        "{}",
        out.stdout
    );
}

#[test]
fn import_deploy_config_maps_deploy_ps1_settings_to_inputs() {
    let s = Scratch::new();
    s.write(
        "config.json",
        r#"{
  "subscription": "0b1f6471-1bf0-4dda-aec3-111122223333",
  "tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47",
  "location": "westus2",
  "resource_group": "adt-rg",
  "name": "adt-instance",
  "display_name": "adt-client-app",
  "reply_url": "http://localhost:5000",
  "flavor": "extra"
}"#,
    );
    let out = run(s.twinup().args(["import-deploy-config", "config.json"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let text = std::fs::read_to_string(s.path("answers.yaml")).unwrap();
    for expected in [
        "subscription: \"0b1f6471-1bf0-4dda-aec3-111122223333\"",
        "location: westus2",
        "resource_group: adt-rg",
        "instance_name: adt-instance",
        "app_display_name: adt-client-app",
        "reply_url: \"http://localhost:5000\"",
        "az login --tenant 72f988bf-86f1-41af-91ab-2d7cd011db47",
        "`flavor` has no twinup equivalent",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    // The values are plain `key: value` lines with the plan's input names.
    let parsed: serde_yaml_check::Doc = serde_yaml_check::parse(&text);
    assert_eq!(parsed.get("instance_name"), Some("adt-instance"));

    // A value the plan rejects is reported with the config key and the input it maps to.
    s.write("bad.json", r#"{"name": "-bad-", "location": "westus2"}"#);
    let bad = run(s
        .twinup()
        .args(["import-deploy-config", "bad.json", "--out", "bad.yaml"]));
    assert_eq!(bad.code, Some(2));
    assert!(
        bad.stderr.contains("`name` (input `instance_name`)"),
        "{}",
        bad.stderr
    );
    assert!(!s.path("bad.yaml").exists());
}

/// Reads the simple `key: value` lines of a generated answers file.
mod serde_yaml_check {
    pub struct Doc(Vec<(String, String)>);

    pub fn parse(text: &str) -> Doc {
        Doc(text
            .lines()
            .filter(|l| !l.starts_with('#') && l.contains(": "))
            .filter_map(|l| {
                let (k, v) = l.split_once(": ")?;
                Some((k.to_string(), v.trim_matches('"').to_string()))
            })
            .collect())
    }

    impl Doc {
        pub fn get(&self, key: &str) -> Option<&str> {
            self.0
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        }
    }
}

#[test]
fn completions_and_man_page_cover_every_command() {
    let s = Scratch::new();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = run(s.twinup().args(["completions", shell]));
        assert_eq!(out.code, Some(0), "{shell}: {}", out.stderr);
        for command in ["preview", "verify", "down", "import-deploy-config"] {
            assert!(out.stdout.contains(command), "{shell} lacks {command}");
        }
    }
    let bad = run(s.twinup().args(["completions", "tcsh"]));
    assert_eq!(bad.code, Some(2));

    let man = run(s.twinup().arg("man"));
    assert_eq!(man.code, Some(0), "{}", man.stderr);
    assert!(man.stdout.starts_with(".ie") || man.stdout.contains(".TH twinup"));
    // One page with the sections a man page has, a subsection per command, and no reference
    // to pages that do not exist.
    for section in [
        ".SS \"twinup down\"",
        ".SH \"EXIT STATUS\"",
        ".SH ENVIRONMENT",
        ".SH EXAMPLES",
    ] {
        assert!(man.stdout.contains(section), "no {section}");
    }
    // A command's option groups stay inside its subsection: the page's sections are these.
    let sections: Vec<&str> = man
        .stdout
        .lines()
        .filter(|l| l.starts_with(".SH "))
        .collect();
    assert_eq!(
        sections,
        [
            ".SH NAME",
            ".SH SYNOPSIS",
            ".SH DESCRIPTION",
            ".SH OPTIONS",
            ".SH COMMANDS",
            ".SH \"EXIT STATUS\"",
            ".SH ENVIRONMENT",
            ".SH FILES",
            ".SH EXAMPLES",
            ".SH VERSION",
        ]
    );
    assert!(!man.stdout.contains("(1)\n"), "refers to other pages");
    assert_eq!(man.stdout.matches(".TH ").count(), 1, "one page");
    assert!(
        man.stdout.contains("\\-\\-no\\-refresh"),
        "up's flags missing"
    );
}

#[test]
fn verify_and_down_of_file_steps_keep_a_file_that_existed() {
    let s = Scratch::new();
    std::fs::create_dir_all(s.path("out")).unwrap();
    s.write("out/second.txt", "mine, from before twinup");
    // A file the deployment did not create is not overwritten without `overwrite: true`.
    let refused = files_up(&s, &[]);
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("out/second.txt already exists")
            && refused.stderr.contains("overwrite: true"),
        "{}",
        refused.stderr
    );
    assert!(s.checkpoint_bytes().is_none(), "nothing may be written");
    let plan = std::fs::read_to_string(s.path("files-plan.yaml")).unwrap();
    s.write(
        "files-plan.yaml",
        &plan.replace(
            "      path: out/second.txt\n",
            "      path: out/second.txt\n      overwrite: true\n",
        ),
    );
    let up = files_up(&s, &[]);
    assert_eq!(up.code, Some(0), "{}", up.stderr);
    let checkpoint = s.checkpoint();
    assert_eq!(
        checkpoint["steps"]["second"]["outputs"]["created"],
        Value::Bool(false)
    );
    assert_eq!(
        checkpoint["steps"]["first"]["outputs"]["created"],
        Value::Bool(true)
    );

    // The secret input is not saved: without it the step that uses it cannot be checked.
    let verify = run(s.twinup().args(["verify", "--plan", "files-plan.yaml"]));
    assert_eq!(verify.code, Some(1), "{}", verify.stdout);
    assert!(verify.stdout.contains("api_key"), "{}", verify.stdout);
    let verify_cmd = || {
        let mut cmd = s.twinup();
        cmd.args(["verify", "--plan", "files-plan.yaml"])
            .env("TWINUP_API_KEY", "s3cret");
        cmd
    };
    let verify = run(&mut verify_cmd());
    assert_eq!(verify.code, Some(0), "{}", verify.stdout);
    std::fs::remove_file(s.path("out/first.txt")).unwrap();
    let verify = run(&mut verify_cmd());
    assert_eq!(verify.code, Some(1), "{}", verify.stdout);
    assert!(
        verify.stdout.contains("first: deleted outside twinup"),
        "{}",
        verify.stdout
    );

    let down = run(s
        .twinup()
        .args(["down", "--plan", "files-plan.yaml", "--yes"])
        .env("TWINUP_API_KEY", "s3cret"));
    assert_eq!(down.code, Some(0), "{}", down.stderr);
    assert!(!s.path("out/settings.json").exists());
    assert!(
        s.path("out/second.txt").exists(),
        "a file twinup did not create was deleted"
    );

    // Down again: nothing left to delete.
    let down = run(s
        .twinup()
        .args(["down", "--plan", "files-plan.yaml", "--yes"]));
    assert_eq!(down.code, Some(0), "{}", down.stderr);
    assert!(down.stderr.contains("Nothing to delete"), "{}", down.stderr);

    // And up brings everything back with the saved inputs.
    let mut cmd = s.twinup();
    cmd.args(["up", "--plan", "files-plan.yaml", "--non-interactive"])
        .env("TWINUP_API_KEY", "s3cret");
    let again = run(&mut cmd);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(s.path("out/first.txt").exists());
}

#[test]
fn verify_and_down_without_a_checkpoint_are_usage_errors() {
    let s = Scratch::new();
    for args in [
        vec!["verify", "--plan", "files-plan.yaml"],
        vec!["down", "--plan", "files-plan.yaml", "--yes"],
    ] {
        let command = args[0];
        let out = run(s.twinup().args(&args));
        assert_eq!(out.code, Some(2), "{command}: {}", out.stderr);
        assert!(out.stderr.contains("no checkpoint"), "{}", out.stderr);
        assert!(s.checkpoint_bytes().is_none());
    }
}
