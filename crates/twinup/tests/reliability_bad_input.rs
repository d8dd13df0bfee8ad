//! Bad input table for the built-in plan against the emulator (issue 6, suite 3): malformed
//! answers, wrong types, unknown keys, bad names, unknown location and role, broken URLs, bad
//! files, conflicting flags, bad clouds and damaged checkpoints. Every case must exit 2 with one
//! clear message naming the field (or file:line:column) and the fix, send no request to the
//! emulator, and leave the checkpoint byte-for-byte as it was.

#[path = "common/emulator.rs"]
mod emulator;

use std::path::Path;

use emulator::{ANSWERS, Emu, finish, scratch};

/// What the checkpoint looks like before the case runs.
#[derive(Clone, Copy)]
enum Before {
    /// No checkpoint at all (and none may be created).
    Nothing,
    /// The checkpoint of a finished deployment.
    Finished,
    /// These bytes.
    Bytes(&'static [u8]),
    /// Derived from the finished one.
    Edited(fn(&str) -> String),
}

struct Case {
    name: &'static str,
    /// Extra answers lines appended to the base answers (or replacing them with `replace`).
    answers: &'static str,
    replace: bool,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    before: Before,
    /// Each must appear in stderr.
    expect: &'static [&'static str],
    /// Instead of the emulator's endpoints, these cloud flags.
    own_cloud: bool,
}

const fn case(name: &'static str, expect: &'static [&'static str]) -> Case {
    Case {
        name,
        answers: "",
        replace: false,
        args: &[],
        env: &[],
        before: Before::Finished,
        expect,
        own_cloud: false,
    }
}

fn cases() -> Vec<Case> {
    vec![
        // --- the answers file's YAML ---
        Case {
            answers: "location: [westus2\n",
            replace: true,
            ..case("malformed YAML", &["answers.yaml:2:1", "YAML"])
        },
        Case {
            answers: "- westus2\n- rel-rg\n",
            replace: true,
            ..case("answers not a mapping", &["answers.yaml:1:1", "mapping"])
        },
        Case {
            answers: "location: westus2\nlocation: eastus\n",
            replace: true,
            ..case("duplicate key", &["answers.yaml:2:1", "location"])
        },
        Case {
            answers: "location: 'westus2\n",
            replace: true,
            ..case("unterminated quote", &["answers.yaml:", "YAML"])
        },
        Case {
            answers: "locaton: westus2\n",
            ..case("unknown key", &["answers.yaml:7:1", "locaton", "location"])
        },
        Case {
            answers: "instance_nmae: x\n",
            ..case(
                "unknown key, did you mean",
                &["instance_nmae", "did you mean `instance_name`"],
            )
        },
        // --- wrong types ---
        Case {
            answers: "create_app_registration: maybe\n",
            ..case(
                "bool as text",
                &[
                    "answers.yaml:7:",
                    "create_app_registration",
                    "true or false",
                ],
            )
        },
        Case {
            answers: "grant_admin_consent: 3\n",
            ..case(
                "bool as number",
                &["answers.yaml:7:", "grant_admin_consent"],
            )
        },
        Case {
            answers: "location: westus2\ntags: [a, b]\n",
            replace: true,
            ..case("tags as a list", &["answers.yaml:2:", "tags"])
        },
        Case {
            answers: "instance_name: [a, b]\n",
            replace: true,
            ..case(
                "name as a list",
                &["answers.yaml:1:", "instance_name", "string"],
            )
        },
        Case {
            answers: "app_display_name: {a: 1}\n",
            replace: true,
            ..case(
                "display name as a map",
                &["answers.yaml:1:", "app_display_name"],
            )
        },
        // --- instance names ---
        Case {
            args: &["--set", "instance_name=ab"],
            ..case("instance name too short", &["instance_name", "`ab`"])
        },
        Case {
            before: Before::Finished,
            args: &[
                "--set",
                "instance_name=tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt",
            ],
            ..case(
                "instance name too long",
                &[
                    "instance_name",
                    "tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt",
                ],
            )
        },
        Case {
            args: &["--set", "instance_name=-twins"],
            ..case("instance name leading hyphen", &["instance_name", "-twins"])
        },
        Case {
            args: &["--set", "instance_name=twins-"],
            ..case(
                "instance name trailing hyphen",
                &["instance_name", "twins-"],
            )
        },
        Case {
            args: &["--set", "instance_name=my_twins"],
            ..case("instance name underscore", &["instance_name", "my_twins"])
        },
        Case {
            args: &["--set", "instance_name=twins.prod"],
            ..case("instance name dot", &["instance_name"])
        },
        Case {
            env: &[("TWINUP_REPLY_URL", "localhost:3000")],
            ..case(
                "reply URL from env not a URL",
                &["environment variable TWINUP_REPLY_URL sets input `reply_url`"],
            )
        },
        Case {
            answers: "location: westus9\nresource_group: rel-rg\ninstance_name: rel-twins\n",
            replace: true,
            ..case(
                "unknown location in the answers file",
                &["answers file answers.yaml sets input `location`", "westus9"],
            )
        },
        Case {
            env: &[("TWINUP_INSTANCE_NAME", "a b")],
            ..case(
                "instance name from env with a space",
                &["instance_name", "TWINUP_INSTANCE_NAME"],
            )
        },
        // --- other fields ---
        Case {
            args: &["--set", "location=westus9"],
            ..case(
                "unknown location",
                &["--set sets input `location`", "westus9", "did you mean"],
            )
        },
        Case {
            args: &["--set", "location=west-us"],
            ..case("location with a hyphen", &["location"])
        },
        Case {
            args: &["--set", "role=Azure Digital Twins Data Writer"],
            ..case("unknown role", &["role", "Azure Digital Twins Data Reader"])
        },
        Case {
            args: &["--set", "reply_url=not a url"],
            ..case(
                "reply URL not a URL",
                &["--set sets input `reply_url`", "redirect", "not a url"],
            )
        },
        Case {
            args: &["--set", "reply_url=localhost:3000"],
            ..case("reply URL without scheme", &["redirect", "localhost:3000"])
        },
        Case {
            args: &["--set", "resource_group=rg/with/slash"],
            ..case("resource group with slashes", &["resource_group"])
        },
        Case {
            args: &["--set", "resource_group=rg."],
            ..case("resource group ending in a dot", &["resource_group"])
        },
        Case {
            args: &["--set", "subscription=not-a-guid"],
            ..case(
                "subscription not a GUID",
                &[
                    "--set sets input `subscription`",
                    "not a valid subscription: use a GUID, 8-4-4-4-12 hex digits",
                ],
            )
        },
        Case {
            args: &["--set", "ready_timeout=soon"],
            ..case(
                "readiness timeout not a duration",
                &["use seconds, or a duration such as 10m, 90s or 1h30m"],
            )
        },
        Case {
            args: &["--set", "role_assignee_type=Robot"],
            ..case(
                "role assignee type not a type",
                &["use User, Group, ServicePrincipal, or empty"],
            )
        },
        Case {
            args: &["--subscription", "1234"],
            ..case(
                "--subscription not a GUID",
                &["--subscription sets input `subscription`"],
            )
        },
        Case {
            args: &["--set", "managed_identity=UserAssigned"],
            ..case(
                "identity not a choice",
                &["managed_identity", "SystemAssigned"],
            )
        },
        Case {
            args: &["--set", "public_network_access=Maybe"],
            ..case(
                "network access not a choice",
                &["public_network_access", "Disabled"],
            )
        },
        Case {
            answers: "instance_name: rel-twins\n",
            replace: true,
            before: Before::Nothing,
            ..case("required inputs missing", &["location", "resource_group"])
        },
        // --- files ---
        Case {
            args: &["--answers", "missing.yaml"],
            ..case("answers file missing", &["missing.yaml"])
        },
        Case {
            args: &["--answers", "adir"],
            ..case("answers file is a directory", &["adir", "directory"])
        },
        Case {
            args: &["--answers", "binary.yaml"],
            ..case("answers file not UTF-8", &["binary.yaml"])
        },
        Case {
            args: &["--plan", "missing-plan.yaml"],
            ..case("plan file missing", &["missing-plan.yaml"])
        },
        Case {
            args: &["--plan", "bad-plan.yaml"],
            ..case("plan with an unknown key", &["bad-plan.yaml:", "stpes"])
        },
        // --- flags ---
        Case {
            args: &["--set", "location"],
            ..case("--set without =", &["--set", "location"])
        },
        Case {
            args: &["--set", "nope=1"],
            ..case("--set of an unknown input", &["nope"])
        },
        Case {
            args: &["--parallelism", "0"],
            ..case("parallelism zero", &["parallelism"])
        },
        Case {
            args: &["--output", "yaml"],
            ..case("unknown output format", &["yaml"])
        },
        Case {
            args: &["--cloud", "mars"],
            own_cloud: true,
            ..case("unknown cloud", &["mars", "public"])
        },
        Case {
            args: &["--cloud", "public", "--arm-endpoint", "https://arm.example"],
            own_cloud: true,
            ..case("endpoint flags without --cloud custom", &["--cloud custom"])
        },
        Case {
            args: &[
                "--cloud",
                "custom",
                "--authority-host",
                "https://login.example",
            ],
            own_cloud: true,
            ..case(
                "custom cloud missing endpoints",
                &["--arm-endpoint", "--graph-endpoint"],
            )
        },
        Case {
            args: &[
                "--cloud",
                "custom",
                "--authority-host",
                "http://login.example.com",
                "--arm-endpoint",
                "http://arm.example.com",
                "--graph-endpoint",
                "http://graph.example.com",
            ],
            own_cloud: true,
            ..case("plain http to a non-loopback host", &["https"])
        },
        Case {
            args: &[
                "--cloud",
                "custom",
                "--authority-host",
                "not a url",
                "--arm-endpoint",
                "https://a.example",
                "--graph-endpoint",
                "https://g.example",
            ],
            own_cloud: true,
            ..case("custom endpoint not a URL", &["not a url"])
        },
        // --- checkpoints ---
        Case {
            before: Before::Edited(|t| t[..t.len() / 2].to_string()),
            ..case(
                "truncated checkpoint",
                &["checkpoint.json", "not valid JSON"],
            )
        },
        Case {
            before: Before::Bytes(b"\x00\x01garbage{"),
            ..case("corrupted checkpoint", &["checkpoint.json"])
        },
        Case {
            before: Before::Bytes(b""),
            ..case("empty checkpoint", &["checkpoint.json", "empty"])
        },
        Case {
            before: Before::Edited(|t| {
                t.replacen("\"schema_version\": 1", "\"schema_version\": 99", 1)
            }),
            ..case("future-version checkpoint", &["checkpoint.json", "99"])
        },
        Case {
            before: Before::Edited(|t| t.replacen("\"adt-setup\"", "\"other-plan\"", 1)),
            ..case(
                "foreign-plan checkpoint",
                &["checkpoint.json", "other-plan"],
            )
        },
        Case {
            before: Before::Edited(|t| t.replacen("\"steps\": {", "\"steps\": 5, \"x\": {", 1)),
            ..case("checkpoint with wrong types", &["checkpoint.json"])
        },
        Case {
            before: Before::Edited(|t| {
                let mut doc: serde_json::Value = serde_json::from_str(t).expect("checkpoint");
                doc["steps"]["instance"]
                    .as_object_mut()
                    .expect("instance record")
                    .remove("outputs");
                serde_json::to_string_pretty(&doc).expect("json")
            }),
            ..case(
                "succeeded step without outputs",
                &[
                    "checkpoint.json is damaged",
                    "step `instance` is recorded succeeded but has no outputs",
                ],
            )
        },
        Case {
            before: Before::Edited(|t| {
                t.replacen("\"schema_version\": 1", "\"schema_version\": \"1\"", 1)
            }),
            ..case(
                "string schema_version",
                &["checkpoint.json", "schema_version is a string"],
            )
        },
        Case {
            before: Before::Nothing,
            args: &["--checkpoint", "afile/checkpoint.json"],
            ..case("checkpoint path under a file", &["afile"])
        },
        Case {
            before: Before::Nothing,
            args: &["--checkpoint", "adir"],
            ..case("checkpoint path is a directory", &["adir", "directory"])
        },
    ]
}

fn seed_checkpoint(emu: &Emu) -> String {
    let dir = scratch();
    let mut cmd = emu.up(dir.path());
    cmd.args(["--answers", "answers.yaml"]);
    let out = finish(cmd, dir.path(), "seed");
    assert_eq!(out.code, Some(0), "{}", out.all());
    std::fs::read_to_string(dir.path().join(".twinup/checkpoint.json")).expect("checkpoint")
}

fn prepare(dir: &Path, c: &Case, finished: &str) {
    let answers = if c.replace {
        c.answers.to_string()
    } else {
        format!("{ANSWERS}{}", c.answers)
    };
    std::fs::write(dir.join("answers.yaml"), answers).expect("answers");
    std::fs::create_dir(dir.join("adir")).expect("dir");
    std::fs::write(dir.join("afile"), "not a directory").expect("file");
    std::fs::write(dir.join("binary.yaml"), b"location: \xff\xfe\n").expect("binary");
    std::fs::write(
        dir.join("bad-plan.yaml"),
        "version: 1\nname: adt-setup\nstpes: []\n",
    )
    .expect("plan");
    let bytes: Option<Vec<u8>> = match c.before {
        Before::Nothing => None,
        Before::Finished => Some(finished.as_bytes().to_vec()),
        Before::Bytes(b) => Some(b.to_vec()),
        Before::Edited(f) => {
            let edited = f(finished);
            assert_ne!(edited, finished, "{}: the edit changed nothing", c.name);
            Some(edited.into_bytes())
        }
    };
    if let Some(bytes) = bytes {
        std::fs::create_dir_all(dir.join(".twinup")).expect("dir");
        std::fs::write(dir.join(".twinup/checkpoint.json"), bytes).expect("checkpoint");
    }
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for sub in [".twinup", "afile", "adir"] {
        let path = dir.join(sub);
        if path.is_dir() {
            // The lock file is created (empty) by every run; it holds no state.
            for entry in std::fs::read_dir(&path)
                .expect("read_dir")
                .flatten()
                .filter(|e| !e.file_name().to_string_lossy().ends_with(".lock"))
            {
                let bytes = std::fs::read(entry.path()).unwrap_or_default();
                files.push((entry.path().display().to_string(), bytes));
            }
        } else if let Ok(bytes) = std::fs::read(&path) {
            files.push((path.display().to_string(), bytes));
        }
    }
    files.sort();
    files
}

#[test]
fn every_bad_input_exits_2_with_a_clear_message_before_any_request_or_write() {
    let home = scratch();
    let emu = Emu::start(home.path());
    let finished = seed_checkpoint(&emu);
    let table = cases();
    assert!(table.len() >= 40, "only {} cases", table.len());
    let mut problems = Vec::new();
    for c in &table {
        let dir = scratch();
        prepare(dir.path(), c, &finished);
        let before = snapshot(dir.path());
        emu.clear_requests();
        let mut cmd = if c.own_cloud {
            let mut cmd = emulator::clean_command(dir.path());
            cmd.args(["up", "--non-interactive"])
                .env("TWINUP_DATA_PLANE_ENDPOINT", emu.url())
                .env("AZURE_TENANT_ID", emu.field("tenant_id"))
                .env("AZURE_CLIENT_ID", emu.field("client_id"))
                .env("AZURE_CLIENT_SECRET", emu.field("client_secret"));
            cmd
        } else {
            emu.up(dir.path())
        };
        if !c.args.contains(&"--answers") {
            cmd.args(["--answers", "answers.yaml"]);
        }
        cmd.args(c.args);
        for (k, v) in c.env {
            cmd.env(k, v);
        }
        let out = finish(cmd, dir.path(), "bad");
        let mut wrong = Vec::new();
        if out.code != Some(2) {
            wrong.push(format!("exit {:?}", out.code));
        }
        for needle in c.expect {
            if !out.stderr.contains(needle) {
                wrong.push(format!("no {needle:?} in the message"));
            }
        }
        if out.stderr.trim().is_empty() {
            wrong.push("no message".to_string());
        }
        if out.stdout.contains("Deployment completed") {
            wrong.push("claimed success".to_string());
        }
        let sent = emu.total();
        if sent != 0 {
            wrong.push(format!("{sent} request(s) sent to Azure"));
        }
        if snapshot(dir.path()) != before {
            wrong.push("the checkpoint (or a file next to it) changed".to_string());
        }
        if !wrong.is_empty() {
            problems.push(format!(
                "{}: {}\n    stderr: {}",
                c.name,
                wrong.join("; "),
                out.stderr.trim().replace('\n', "\n            ")
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} bad-input cases misbehaved:\n{}",
        problems.len(),
        table.len(),
        problems.join("\n")
    );
    eprintln!("bad input table: {} cases", table.len());
}
