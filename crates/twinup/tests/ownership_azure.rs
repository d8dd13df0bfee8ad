//! Issue 14 against the emulator: only what this deployment made is changed or deleted. Two
//! deployments with one app display name get two apps and `down` in one leaves the other's; a
//! role assignment someone else made, met as 409 `RoleAssignmentExists` on a rerun, is used and
//! kept; a renamed app is a replacement (`preview` says so, `up` needs `--yes`, no orphan is
//! left); a run through a symlink to a checkpoint another run holds is refused.

#[path = "common/emulator.rs"]
mod emulator;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use emulator::{Emu, Finished, Running, checkpoint_json, clean_command, finish, wait_for};
use serde_json::{Value, json};

/// `twinup <args>` in `dir` against the emulator as a custom cloud, signed in as its admin.
fn twinup(emu: &Emu, dir: &Path, args: &[&str]) -> Command {
    let url = emu.url();
    let mut cmd = clean_command(dir);
    cmd.args(args)
        .args(["--cloud", "custom"])
        .args(["--authority-host", &url, "--arm-endpoint", &url])
        .args(["--graph-endpoint", &url])
        .env("TWINUP_DATA_PLANE_ENDPOINT", emu.url())
        .env("AZURE_TENANT_ID", emu.field("tenant_id"))
        .env("AZURE_CLIENT_ID", emu.field("client_id"))
        .env("AZURE_CLIENT_SECRET", emu.field("client_secret"));
    cmd
}

fn run(emu: &Emu, dir: &Path, args: &[&str], tag: &str) -> Finished {
    finish(twinup(emu, dir, args), dir, tag)
}

fn deployment_dir(
    root: &Path,
    name: &str,
    group: &str,
    instance: &str,
    app: &str,
) -> std::path::PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("answers.yaml"),
        format!(
            "location: westus2\nresource_group: {group}\ninstance_name: {instance}\napp_display_name: {app}\n"
        ),
    )
    .expect("answers");
    dir
}

fn up(emu: &Emu, dir: &Path, extra: &[&str], tag: &str) -> Finished {
    let mut args = vec!["up", "--non-interactive", "--answers", "answers.yaml"];
    args.extend(extra);
    run(emu, dir, &args, tag)
}

fn checkpoint(dir: &Path) -> Value {
    checkpoint_json(&dir.join(".twinup/checkpoint.json"))
}

/// Display names of the apps in the emulator beyond the seeded ones.
fn app_names(emu: &Emu) -> Vec<String> {
    let known = emu.inventory().app_ids;
    emu.state()["applications"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
        .filter(|a| {
            a["body"]["appId"]
                .as_str()
                .is_some_and(|id| known.iter().any(|k| k == id))
        })
        .filter_map(|a| a["body"]["displayName"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn two_deployments_with_one_app_name_get_two_apps_and_down_leaves_the_other() {
    let root = tempfile::tempdir().expect("tempdir");
    let emu = Emu::start(root.path());
    let a = deployment_dir(root.path(), "a", "own-rg-a", "own-twins-a", "shared-client");
    let b = deployment_dir(root.path(), "b", "own-rg-b", "own-twins-b", "shared-client");
    let out = up(&emu, &a, &[], "up-a");
    assert_eq!(out.code, Some(0), "{}", out.all());
    let app_a = checkpoint(&a)["outputs"]["client_id"]
        .as_str()
        .expect("a")
        .to_string();
    let out = up(&emu, &b, &[], "up-b");
    assert_eq!(out.code, Some(0), "{}", out.all());
    let app_b = checkpoint(&b)["outputs"]["client_id"]
        .as_str()
        .expect("b")
        .to_string();
    assert_ne!(app_a, app_b, "two deployments share one app registration");
    assert_eq!(emu.inventory().apps, 2);
    assert!(
        out.stderr.contains(&app_a) && out.stderr.contains("did not make"),
        "preflight names the other deployment's app: {}",
        out.stderr
    );

    let down = run(&emu, &a, &["down", "--yes"], "down-a");
    assert_eq!(down.code, Some(0), "{}", down.all());
    assert_eq!(
        emu.inventory().app_ids,
        vec![app_b.clone()],
        "down in a deleted b's app"
    );
    let verify = run(&emu, &b, &["verify"], "verify-b");
    assert_eq!(verify.code, Some(0), "{}", verify.all());
}

#[test]
fn a_foreign_role_assignment_met_on_a_rerun_is_kept_by_down() {
    let root = tempfile::tempdir().expect("tempdir");
    let emu = Emu::start(root.path());
    let dir = deployment_dir(root.path(), "d", "own-rg-r", "own-twins-r", "role-client");
    // The first run's role-assignment PUT fails, after the step recorded it was creating it.
    emu.fault(
        json!({"method": "PUT", "path_contains": "roleAssignments", "count": 1,
                     "kind": {"status": 400, "code": "InjectedBadRequest", "message": "injected"}}),
    );
    let out = up(&emu, &dir, &[], "first");
    assert_eq!(out.code, Some(1), "{}", out.all());
    let cp = checkpoint(&dir);
    let instance = cp["steps"]["instance"]["outputs"]["id"]
        .as_str()
        .expect("instance id")
        .to_string();
    let principal = cp["inputs"]["role_assignee"]
        .as_str()
        .expect("assignee")
        .to_string();
    let sub = cp["inputs"]["subscription"]
        .as_str()
        .expect("subscription")
        .to_string();

    // Meanwhile someone else assigns the same role to the same principal, under their own name.
    let theirs = format!(
        "{instance}/providers/Microsoft.Authorization/roleAssignments/{}",
        "0f0f0f0f-1111-4222-8333-444455556666"
    );
    let (status, body) = emu.arm_as_admin(
        reqwest::Method::PUT,
        &format!("{theirs}?api-version=2022-04-01"),
        Some(json!({"properties": {
            "roleDefinitionId": format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/bcd981a7-7f74-457b-83e1-cceb9e632ffe"),
            "principalId": principal,
            "principalType": "ServicePrincipal",
        }})),
    );
    assert_eq!(status, 201, "{body}");

    emu.clear_faults();
    let out = up(&emu, &dir, &[], "rerun");
    assert_eq!(out.code, Some(0), "{}", out.all());
    let role = &checkpoint(&dir)["steps"]["data_role"]["outputs"];
    assert_eq!(role["created"], false, "{role}");
    assert!(
        role["id"]
            .as_str()
            .unwrap_or_default()
            .eq_ignore_ascii_case(&theirs),
        "{role}"
    );

    let mut status = clean_command(&dir);
    status.arg("status");
    let status = finish(status, &dir, "status");
    assert!(
        status.stdout.contains("kept by `twinup down`") && status.stdout.contains("Deployment: "),
        "{}",
        status.all()
    );
    emu.clear_requests();
    let down = run(&emu, &dir, &["down", "--yes"], "down");
    assert_eq!(down.code, Some(0), "{}", down.all());
    assert!(
        down.stderr.contains("data_role") && down.stderr.contains("not by this deployment"),
        "{}",
        down.stderr
    );
    // (The instance this deployment made is deleted, and Azure drops assignments at its scope
    // with it; what matters is that twinup never asks to delete someone else's assignment.)
    let deleted: Vec<String> = emu
        .entries()
        .into_iter()
        .filter(|e| e.method == "DELETE")
        .map(|e| e.path)
        .collect();
    assert!(
        !deleted
            .iter()
            .any(|p| p.to_lowercase().contains("roleassignments")),
        "down deleted someone else's role assignment: {deleted:?}"
    );
}

#[test]
fn a_renamed_app_is_replaced_with_yes_and_leaves_no_orphan() {
    let root = tempfile::tempdir().expect("tempdir");
    let emu = Emu::start(root.path());
    let dir = deployment_dir(root.path(), "d", "own-rg-n", "own-twins-n", "first-name");
    let out = up(&emu, &dir, &[], "first");
    assert_eq!(out.code, Some(0), "{}", out.all());
    let rename = ["--set", "app_display_name=second-name"];

    let mut args = vec!["preview", "--answers", "answers.yaml", "--non-interactive"];
    args.extend(rename);
    let preview = run(&emu, &dir, &args, "preview");
    assert_eq!(preview.code, Some(0), "{}", preview.all());
    assert!(
        preview.stdout.contains("replace")
            && preview.stdout.contains("first-name")
            && preview.stdout.contains("-> app second-name"),
        "{}",
        preview.stdout
    );

    let refused = up(&emu, &dir, &rename, "refused");
    assert_eq!(refused.code, Some(2), "{}", refused.all());
    assert!(
        refused.stderr.contains("app_registration") && refused.stderr.contains("--yes"),
        "{}",
        refused.stderr
    );
    assert_eq!(app_names(&emu), vec!["first-name".to_string()]);

    let mut confirmed = rename.to_vec();
    confirmed.push("--yes");
    let out = up(&emu, &dir, &confirmed, "replace");
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert_eq!(
        app_names(&emu),
        vec!["second-name".to_string()],
        "the old app is an orphan"
    );

    let down = run(&emu, &dir, &["down", "--yes"], "down");
    assert_eq!(down.code, Some(0), "{}", down.all());
    assert!(
        app_names(&emu).is_empty(),
        "after down an app is left: {:?}",
        app_names(&emu)
    );
}

#[test]
fn a_run_through_a_symlink_to_a_held_checkpoint_is_refused() {
    let root = tempfile::tempdir().expect("tempdir");
    let emu = Emu::start(root.path());
    let dir = deployment_dir(root.path(), "d", "own-rg-l", "own-twins-l", "lock-client");
    emu.fault(json!({"method": "PUT", "path_contains": "digitalTwinsInstances", "kind": "hang"}));
    let first = Running::spawn(
        twinup(
            &emu,
            &dir,
            // One step at a time: while the instance PUT hangs the first run sends nothing
            // else, so every request counted below would be the second run's.
            &[
                "up",
                "--non-interactive",
                "--answers",
                "answers.yaml",
                "--parallelism",
                "1",
            ],
        ),
        &dir,
        "first",
    );
    wait_for(
        "the first run to hold the checkpoint",
        Duration::from_secs(30),
        || emu.entries().iter().any(|e| e.outcome == "hang"),
    );
    std::os::unix::fs::symlink(dir.join(".twinup/checkpoint.json"), dir.join("link.json"))
        .expect("symlink");
    let before = emu.total();
    let second = run(
        &emu,
        &dir,
        &[
            "up",
            "--non-interactive",
            "--answers",
            "answers.yaml",
            "--checkpoint",
            "link.json",
        ],
        "second",
    );
    assert_eq!(second.code, Some(2), "{}", second.all());
    assert!(
        second.stderr.contains("in use by another twinup run"),
        "{}",
        second.stderr
    );
    assert_eq!(emu.total(), before, "the second run sent requests");
    assert!(
        std::fs::symlink_metadata(dir.join("link.json"))
            .expect("link")
            .file_type()
            .is_symlink(),
        "the symlink was replaced"
    );
    first.kill();
}
