//! Issue 14 against the emulator: only what this deployment made is changed or deleted. Two
//! deployments with one app display name get two apps and `down` in one leaves the other's; a
//! role assignment someone else made, met as 409 `RoleAssignmentExists` on a rerun, is used and
//! kept; a renamed app is a replacement (`preview` says so, `up` needs `--yes`, no orphan is
//! left); a run through a symlink to a checkpoint another run holds is refused. `verify` checks
//! the targets the checkpoint records, never the ones an edited plan names; a renamed or moved
//! resource group and instance are replacements (create before destroy for a new name, delete
//! first for a new location), and a group that existed is kept.

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

/// Lower-cased ids and locations of the emulator's `table` (`resource_groups`, `digital_twins`).
fn located(emu: &Emu, table: &str) -> Vec<(String, String)> {
    emu.state()[table]
        .as_object()
        .into_iter()
        .flat_map(|m| m.iter())
        .map(|(k, v)| {
            let location = v["location"].as_str().unwrap_or_default().to_string();
            (k.clone(), location)
        })
        .collect()
}

/// The location of the emulator's `table` entry named `name`, if it exists.
fn location_of(emu: &Emu, table: &str, name: &str) -> Option<String> {
    let suffix = format!("/{}", name.to_lowercase());
    located(emu, table)
        .into_iter()
        .find(|(id, _)| id.ends_with(&suffix))
        .map(|(_, location)| location)
}

/// Where in the request log the first `method` request whose path ends with `suffix` is.
fn position(emu: &Emu, method: &str, suffix: &str) -> Option<usize> {
    emu.entries()
        .iter()
        .position(|e| e.method == method && e.path.to_lowercase().ends_with(&suffix.to_lowercase()))
}

fn preview(emu: &Emu, dir: &Path, extra: &[&str]) -> Finished {
    let mut args = vec!["preview", "--answers", "answers.yaml", "--non-interactive"];
    args.extend(extra);
    run(emu, dir, &args, "preview")
}

#[test]
fn verify_checks_the_recorded_targets_when_the_plan_names_others() {
    let root = tempfile::tempdir().expect("tempdir");
    let emu = Emu::start(root.path());
    let dir = deployment_dir(root.path(), "d", "own-rg-v", "own-twins-v", "verify-client");
    let builtin = include_str!("../../../plans/adt-setup.yaml");
    std::fs::write(dir.join("plan.yaml"), builtin).expect("plan");
    let out = up(&emu, &dir, &["--plan", "plan.yaml"], "up");
    assert_eq!(out.code, Some(0), "{}", out.all());

    let edited = builtin
        .replace("name: ${inputs.instance_name}", "name: other-twins-v")
        .replace("path: manifest.json", "path: other-manifest.json");
    assert_ne!(edited, builtin);
    std::fs::write(dir.join("plan.yaml"), edited).expect("plan");
    emu.clear_requests();
    let verify = run(&emu, &dir, &["verify", "--plan", "plan.yaml"], "verify");
    assert_eq!(verify.code, Some(0), "{}", verify.all());
    assert!(
        verify.stdout.contains("plan now names another target")
            && verify.stdout.contains("other-twins-v"),
        "{}",
        verify.stdout
    );
    let paths: Vec<String> = emu.entries().into_iter().map(|e| e.path).collect();
    assert!(
        !paths.iter().any(|p| p.contains("other-twins-v")),
        "verify read the instance the edited plan names: {paths:?}"
    );
    assert!(
        paths
            .iter()
            .any(|p| p.ends_with("digitalTwinsInstances/own-twins-v")),
        "verify did not read the recorded instance: {paths:?}"
    );

    // What it checks is the recorded manifest: gone, it is drift.
    std::fs::remove_file(dir.join("manifest.json")).expect("manifest");
    let verify = run(&emu, &dir, &["verify", "--plan", "plan.yaml"], "verify-2");
    assert_eq!(verify.code, Some(1), "{}", verify.all());
    assert!(
        verify.stdout.contains("manifest: deleted outside twinup"),
        "{}",
        verify.stdout
    );
    assert!(!dir.join("other-manifest.json").exists());
}

#[test]
fn a_renamed_group_is_created_before_the_old_one_it_created_is_deleted() {
    let root = tempfile::tempdir().expect("tempdir");
    let emu = Emu::start(root.path());
    let dir = deployment_dir(root.path(), "d", "own-rg-old", "own-twins-o", "rg-client");
    let out = up(&emu, &dir, &[], "first");
    assert_eq!(out.code, Some(0), "{}", out.all());
    let rename = ["--set", "resource_group=own-rg-new"];

    let shown = preview(&emu, &dir, &rename);
    assert_eq!(shown.code, Some(0), "{}", shown.all());
    assert!(
        shown
            .stdout
            .contains("resource group own-rg-old in westus2 -> resource group own-rg-new")
            && shown
                .stdout
                .contains("replace (azure.digital_twins_instance)"),
        "{}",
        shown.stdout
    );

    let refused = up(&emu, &dir, &rename, "refused");
    assert_eq!(refused.code, Some(2), "{}", refused.all());
    assert!(
        refused
            .stderr
            .contains("resource_group: resource group own-rg-old")
            && refused.stderr.contains("--yes"),
        "{}",
        refused.stderr
    );
    assert!(location_of(&emu, "resource_groups", "own-rg-new").is_none());

    emu.clear_requests();
    let mut confirmed = rename.to_vec();
    confirmed.push("--yes");
    let out = up(&emu, &dir, &confirmed, "replace");
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(location_of(&emu, "resource_groups", "own-rg-new").is_some());
    assert!(
        location_of(&emu, "resource_groups", "own-rg-old").is_none(),
        "the old group is an orphan"
    );
    let instances = located(&emu, "digital_twins");
    assert_eq!(instances.len(), 1, "{instances:?}");
    assert!(instances[0].0.contains("/resourcegroups/own-rg-new/"));
    // Create before destroy: the new group and instance exist before the old ones go.
    let new_instance = position(
        &emu,
        "PUT",
        "resourceGroups/own-rg-new/providers/Microsoft.DigitalTwins/digitalTwinsInstances/own-twins-o",
    );
    let old_group_deleted = position(&emu, "DELETE", "resourceGroups/own-rg-old");
    assert!(
        new_instance.is_some() && old_group_deleted.is_some() && new_instance < old_group_deleted,
        "{new_instance:?} {old_group_deleted:?}"
    );
    let record = &checkpoint(&dir)["steps"]["resource_group"]["outputs"];
    assert!(record.get("replaced").is_none(), "{record}");

    let down = run(&emu, &dir, &["down", "--yes"], "down");
    assert_eq!(down.code, Some(0), "{}", down.all());
    assert_eq!(emu.inventory().resource_groups, 0);
}

#[test]
fn a_group_that_existed_is_kept_when_the_plan_names_another() {
    let root = tempfile::tempdir().expect("tempdir");
    let emu = Emu::start(root.path());
    let sub = emu.info["subscription_id"]
        .as_str()
        .expect("subscription")
        .to_string();
    let (status, body) = emu.arm_as_admin(
        reqwest::Method::PUT,
        &format!("/subscriptions/{sub}/resourceGroups/own-rg-found?api-version=2025-04-01"),
        Some(json!({"location": "westus2"})),
    );
    assert!(status == 201 || status == 200, "{body}");
    let dir = deployment_dir(
        root.path(),
        "d",
        "own-rg-found",
        "own-twins-f",
        "found-client",
    );
    let out = up(&emu, &dir, &[], "first");
    assert_eq!(out.code, Some(0), "{}", out.all());

    let out = up(
        &emu,
        &dir,
        &["--set", "resource_group=own-rg-other", "--yes"],
        "replace",
    );
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(
        location_of(&emu, "resource_groups", "own-rg-found").is_some(),
        "a group this deployment did not create was deleted"
    );
    assert!(location_of(&emu, "resource_groups", "own-rg-other").is_some());
    let instances = located(&emu, "digital_twins");
    assert_eq!(
        instances.len(),
        1,
        "the old instance is an orphan: {instances:?}"
    );
    assert!(instances[0].0.contains("/resourcegroups/own-rg-other/"));
}

#[test]
fn a_location_change_is_a_replacement_never_a_failing_update() {
    let root = tempfile::tempdir().expect("tempdir");
    let emu = Emu::start(root.path());
    let dir = deployment_dir(
        root.path(),
        "d",
        "own-rg-loc",
        "own-twins-loc",
        "loc-client",
    );
    let out = up(&emu, &dir, &[], "first");
    assert_eq!(out.code, Some(0), "{}", out.all());
    let moved = ["--set", "location=eastus"];

    let shown = preview(&emu, &dir, &moved);
    assert_eq!(shown.code, Some(0), "{}", shown.all());
    assert!(
        shown.stdout.contains("replace (azure.resource_group)")
            && shown
                .stdout
                .contains("-> resource group own-rg-loc in eastus")
            && shown.stdout.contains("deletes the old one first")
            && !shown.stdout.contains("update (azure.resource_group)"),
        "{}",
        shown.stdout
    );
    let refused = up(&emu, &dir, &moved, "refused");
    assert_eq!(refused.code, Some(2), "{}", refused.all());
    assert_eq!(
        location_of(&emu, "resource_groups", "own-rg-loc").as_deref(),
        Some("westus2")
    );

    let mut confirmed = moved.to_vec();
    confirmed.push("--yes");
    let out = up(&emu, &dir, &confirmed, "replace");
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert_eq!(
        location_of(&emu, "resource_groups", "own-rg-loc").as_deref(),
        Some("eastus")
    );
    assert_eq!(
        location_of(&emu, "digital_twins", "own-twins-loc").as_deref(),
        Some("eastus")
    );
    let verify = run(&emu, &dir, &["verify"], "verify");
    assert_eq!(verify.code, Some(0), "{}", verify.all());
}

#[test]
fn the_manifest_step_keeps_the_file_rules() {
    let root = tempfile::tempdir().expect("tempdir");
    let emu = Emu::start(root.path());
    let dir = root.path().join("m");
    std::fs::create_dir_all(&dir).expect("dir");
    let plan = |path: &str, extra: &str| {
        format!(
            "version: 1\nname: manifest-only\nsteps:\n  - id: manifest\n    kind: azure.api_permissions_manifest\n    with:\n      path: {path}\n{extra}"
        )
    };
    let up = |tag: &str| {
        run(
            &emu,
            &dir,
            &["up", "--plan", "plan.yaml", "--non-interactive"],
            tag,
        )
    };

    std::fs::write(dir.join("plan.yaml"), plan("../up-manifest.json", "")).expect("plan");
    let out = up("outside");
    assert_eq!(out.code, Some(2), "{}", out.all());
    assert!(
        out.stderr.contains("outside the working directory"),
        "{}",
        out.stderr
    );
    assert!(!root.path().join("up-manifest.json").exists());

    // A file someone else wrote there is not overwritten, unless the plan says so (then it is
    // kept by `down`).
    std::fs::write(dir.join("manifest.json"), "theirs").expect("theirs");
    std::fs::write(dir.join("plan.yaml"), plan("manifest.json", "")).expect("plan");
    let out = up("foreign");
    assert_ne!(out.code, Some(0), "{}", out.all());
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.join("manifest.json")).expect("kept"),
        "theirs"
    );
    std::fs::write(
        dir.join("plan.yaml"),
        plan("manifest.json", "      overwrite: true\n"),
    )
    .expect("plan");
    let out = up("overwrite");
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert_eq!(
        checkpoint(&dir)["steps"]["manifest"]["outputs"]["created"],
        false
    );
    let down = run(
        &emu,
        &dir,
        &["down", "--plan", "plan.yaml", "--yes"],
        "down",
    );
    assert_eq!(down.code, Some(0), "{}", down.all());
    assert!(
        dir.join("manifest.json").exists(),
        "down removed a file it did not create"
    );

    // A symlink is never written through.
    std::fs::remove_file(dir.join("manifest.json")).expect("rm");
    std::os::unix::fs::symlink(
        root.path().join("elsewhere.json"),
        dir.join("manifest.json"),
    )
    .expect("link");
    let out = up("symlink");
    assert_ne!(out.code, Some(0), "{}", out.all());
    assert!(out.stderr.contains("symlink"), "{}", out.stderr);
    assert!(!root.path().join("elsewhere.json").exists());
}

#[test]
fn a_rerun_after_the_checkpoint_was_lost_finds_its_own_and_creates_nothing_twice() {
    let root = tempfile::tempdir().expect("tempdir");
    let emu = Emu::start(root.path());
    let dir = deployment_dir(
        root.path(),
        "d",
        "own-rg-lost",
        "own-twins-lost",
        "lost-client",
    );
    let out = up(&emu, &dir, &["--set", "grant_admin_consent=true"], "first");
    assert_eq!(out.code, Some(0), "{}", out.all());
    let before = emu.inventory();
    let first = checkpoint(&dir);
    std::fs::remove_file(dir.join(".twinup/checkpoint.json")).expect("lose the checkpoint");

    let out = up(&emu, &dir, &["--set", "grant_admin_consent=true"], "rerun");
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert_eq!(emu.inventory(), before, "the rerun created something twice");
    let again = checkpoint(&dir);
    assert_eq!(again["deployment_id"], first["deployment_id"]);
    for (step, field) in [
        ("app_registration", "client_id"),
        ("data_role", "id"),
        ("instance", "id"),
    ] {
        assert_eq!(
            again["steps"][step]["outputs"][field], first["steps"][step]["outputs"][field],
            "{step} found another target"
        );
    }
    // The app and the role assignment are found by the names this deployment derives, so they
    // are still its own: `down` deletes them.
    assert_eq!(
        again["steps"]["app_registration"]["outputs"]["created"],
        true
    );
    let down = run(&emu, &dir, &["down", "--yes"], "down");
    assert_eq!(down.code, Some(0), "{}", down.all());
    assert_eq!(
        emu.inventory().apps,
        0,
        "down kept the deployment's own app"
    );
}

#[test]
fn a_step_output_that_holds_a_secret_is_never_saved_and_still_reaches_the_steps_after_it() {
    const SECRET: &str = "Pw-9f3-very-secret-Zq";
    let root = tempfile::tempdir().expect("tempdir");
    let emu = Emu::start(root.path());
    let sub = emu.info["subscription_id"]
        .as_str()
        .expect("subscription")
        .to_string();
    let dir = root.path().join("s");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("plan.yaml"),
        format!(
            r#"version: 1
name: secret-step-output
inputs:
  db_password: {{type: string, secret: true}}
steps:
  - id: rg
    kind: azure.resource_group
    with: {{name: own-rg-secret, location: westus2, subscription_id: {sub}}}
  - id: store
    kind: azure.arm_resource
    needs: [rg]
    with:
      id: /subscriptions/{sub}/resourceGroups/own-rg-secret/providers/Microsoft.Storage/storageAccounts/ownsecretstore
      api_version: 2023-01-01
      body:
        location: westus2
        kind: StorageV2
        sku: {{name: Standard_LRS}}
        properties: {{note: "${{inputs.db_password}}"}}
  - id: settings
    kind: file
    with:
      path: settings.json
      content: ${{steps.store.outputs.properties}}
"#
        ),
    )
    .expect("plan");
    let up = |tag: &str| {
        let mut cmd = twinup(
            &emu,
            &dir,
            &["up", "--plan", "plan.yaml", "--non-interactive"],
        );
        cmd.env("TWINUP_DB_PASSWORD", SECRET);
        finish(cmd, &dir, tag)
    };
    for tag in ["first", "rerun"] {
        let out = up(tag);
        assert_eq!(out.code, Some(0), "{tag}: {}", out.all());
        assert!(!out.all().contains(SECRET), "{tag}: {}", out.all());
        let bytes = std::fs::read(dir.join(".twinup/checkpoint.json")).expect("checkpoint");
        assert!(
            !String::from_utf8_lossy(&bytes).contains(SECRET),
            "{tag}: the checkpoint holds the secret"
        );
        let store = &checkpoint(&dir)["steps"]["store"]["outputs"];
        assert_eq!(store["properties"]["note"], "(secret)", "{tag}: {store}");
        // The step after it got the value (the plan writes it there on purpose).
        let settings = std::fs::read_to_string(dir.join("settings.json")).expect("settings");
        assert!(settings.contains(SECRET), "{tag}: {settings}");
    }
    let mut status = clean_command(&dir);
    status.args(["status", "--plan", "plan.yaml"]);
    let status = finish(status, &dir, "status");
    assert!(!status.all().contains(SECRET), "{}", status.all());
}

#[test]
fn a_replaced_app_whose_delete_failed_is_deleted_by_the_next_up_or_down() {
    let root = tempfile::tempdir().expect("tempdir");
    let emu = Emu::start(root.path());
    let dir = deployment_dir(root.path(), "d", "own-rg-x", "own-twins-x", "old-client");
    let out = up(&emu, &dir, &[], "first");
    assert_eq!(out.code, Some(0), "{}", out.all());
    emu.fault(
        json!({"method": "DELETE", "path_contains": "applications", "count": 1,
        "kind": {"status": 400, "code": "InjectedBadRequest", "message": "injected"}}),
    );
    let renamed = ["--set", "app_display_name=new-client", "--yes"];
    let out = up(&emu, &dir, &renamed, "replace");
    assert_eq!(out.code, Some(1), "{}", out.all());
    assert!(
        out.stderr.contains("deleting the one it replaced failed"),
        "{}",
        out.stderr
    );
    let mut names = app_names(&emu);
    names.sort();
    assert_eq!(
        names,
        vec!["new-client".to_string(), "old-client".to_string()]
    );
    let record = &checkpoint(&dir)["steps"]["app_registration"]["outputs"];
    assert_eq!(record["replaced"]["display_name"], "old-client", "{record}");
    let mut status = clean_command(&dir);
    status.arg("status");
    let status = finish(status, &dir, "status");
    assert!(
        status
            .stdout
            .contains("the target it replaced is still to be deleted"),
        "{}",
        status.all()
    );

    // The next `up` deletes it (nothing else to confirm: the step holds the new app).
    let out = up(&emu, &dir, &renamed[..2], "rerun");
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert_eq!(app_names(&emu), vec!["new-client".to_string()]);

    // Again, and `down` deletes the leftover as well as what the step holds now.
    emu.fault(
        json!({"method": "DELETE", "path_contains": "applications", "count": 1,
        "kind": {"status": 400, "code": "InjectedBadRequest", "message": "injected"}}),
    );
    let out = up(
        &emu,
        &dir,
        &["--set", "app_display_name=third-client", "--yes"],
        "replace-2",
    );
    assert_eq!(out.code, Some(1), "{}", out.all());
    assert_eq!(app_names(&emu).len(), 2);
    emu.clear_faults();
    let down = run(&emu, &dir, &["down", "--yes"], "down");
    assert_eq!(down.code, Some(0), "{}", down.all());
    assert!(app_names(&emu).is_empty(), "{:?}", app_names(&emu));
}

#[test]
fn a_changed_role_replaces_the_assignment_this_deployment_made() {
    let root = tempfile::tempdir().expect("tempdir");
    let emu = Emu::start(root.path());
    let dir = deployment_dir(
        root.path(),
        "d",
        "own-rg-role",
        "own-twins-role",
        "role-client-2",
    );
    let out = up(&emu, &dir, &[], "first");
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert_eq!(emu.inventory().role_assignments, 1);
    let old = checkpoint(&dir)["steps"]["data_role"]["outputs"]["id"].clone();
    let reader = ["--set", "role=Azure Digital Twins Data Reader"];

    let refused = up(&emu, &dir, &reader, "refused");
    assert_eq!(refused.code, Some(2), "{}", refused.all());
    assert!(
        refused
            .stderr
            .contains("data_role: role Azure Digital Twins Data Owner"),
        "{}",
        refused.stderr
    );
    let mut confirmed = reader.to_vec();
    confirmed.push("--yes");
    let out = up(&emu, &dir, &confirmed, "replace");
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert_eq!(
        emu.inventory().role_assignments,
        1,
        "the old assignment is an orphan"
    );
    let new = checkpoint(&dir)["steps"]["data_role"]["outputs"]["id"].clone();
    assert_ne!(new, old);
    let verify = run(&emu, &dir, &["verify"], "verify");
    assert_eq!(verify.code, Some(0), "{}", verify.all());
}

#[test]
fn down_keeps_a_group_it_created_once_someone_else_put_a_resource_in_it() {
    let root = tempfile::tempdir().expect("tempdir");
    let emu = Emu::start(root.path());
    let dir = deployment_dir(
        root.path(),
        "d",
        "own-rg-shared",
        "own-twins-s",
        "shared-client",
    );
    let first = up(&emu, &dir, &[], "up");
    assert_eq!(first.code, Some(0), "{}", first.all());
    // A colleague puts a storage account into the group this deployment created.
    let sub = emu.field("subscription_id");
    let theirs = format!(
        "/subscriptions/{sub}/resourceGroups/own-rg-shared/providers/Microsoft.Storage/storageAccounts/theirs"
    );
    let (status, _) = emu.arm_as_admin(
        reqwest::Method::PUT,
        &format!("{theirs}?api-version=2023-05-01"),
        Some(json!({"location": "westus2", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}})),
    );
    assert!(status < 300, "storage account: {status}");

    let down = run(&emu, &dir, &["down", "--yes"], "down");
    assert_ne!(down.code, Some(0), "{}", down.all());
    assert!(
        down.all().contains("theirs") && down.all().contains("it was kept"),
        "{}",
        down.all()
    );
    let inv = emu.inventory();
    assert_eq!(inv.resource_groups, 1, "the group went with their resource");
    assert_eq!(
        inv.instances, 0,
        "what the deployment made inside is deleted"
    );
    let (status, _) = emu.arm_as_admin(
        reqwest::Method::GET,
        &format!("{theirs}?api-version=2023-05-01"),
        None,
    );
    assert_eq!(status, 200, "their storage account was deleted");

    // Once it is moved out, `down` finishes.
    let (status, _) = emu.arm_as_admin(
        reqwest::Method::DELETE,
        &format!("{theirs}?api-version=2023-05-01"),
        None,
    );
    assert!(status < 300, "delete theirs: {status}");
    let again = run(&emu, &dir, &["down", "--yes"], "down again");
    assert_eq!(again.code, Some(0), "{}", again.all());
    assert_eq!(emu.inventory().resource_groups, 0);
}
