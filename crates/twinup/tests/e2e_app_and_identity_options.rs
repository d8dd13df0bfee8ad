//! The built-in plan's app-registration and managed-identity options (issue 18), end to end
//! against the emulator: each option reaches the resource (read back from the emulator's
//! state), bad values stop the run before anything is written, a user-assigned identity is
//! added to and removed from an existing instance, and disabling an identity that an endpoint
//! or a data history connection uses asks first.

mod common;

use common::azure::EmulatorProcess;
use common::{Outcome, Scratch, run};
use serde_json::{Value, json};

const RG: &str = "rg-options";
const INSTANCE: &str = "twins-options";
const ADMIN_UPN: &str = "admin@twinup.local";

fn answers(s: &Scratch, extra: &str) {
    s.write(
        "answers.yaml",
        &format!(
            "location: westus2\nresource_group: {RG}\ninstance_name: {INSTANCE}\napp_display_name: options-client\n{extra}"
        ),
    );
}

fn up(emu: &EmulatorProcess, s: &Scratch, more: &[&str]) -> Outcome {
    run(emu
        .up(s)
        .args(["--answers", "answers.yaml", "--parallelism", "1"])
        .args(more))
}

/// `twinup verify` against the emulator: what was deployed is still as deployed.
fn verify(emu: &EmulatorProcess, s: &Scratch) -> Outcome {
    let mut cmd = s.twinup();
    cmd.arg("verify")
        .args(emu.cloud_args())
        .envs(emu.cloud_env());
    run(&mut cmd)
}

fn app(emu: &EmulatorProcess) -> Value {
    emu.state()["applications"]
        .as_object()
        .expect("applications")
        .values()
        .find(|a| a["body"]["displayName"] == "options-client")
        .cloned()
        .expect("the app registration")
}

/// How many app registrations named as the answers name it the emulator holds.
fn apps_made(emu: &EmulatorProcess) -> usize {
    emu.state()["applications"].as_object().map_or(0, |a| {
        a.values()
            .filter(|a| a["body"]["displayName"] == "options-client")
            .count()
    })
}

/// `twinup preview` with the answers file, unattended, plus `more`.
fn preview(emu: &EmulatorProcess, s: &Scratch, more: &[&str]) -> Outcome {
    let mut cmd = s.twinup();
    cmd.args(["preview", "--answers", "answers.yaml", "--non-interactive"])
        .args(more)
        .args(emu.cloud_args())
        .envs(emu.cloud_env());
    run(&mut cmd)
}

fn instance(emu: &EmulatorProcess) -> Value {
    emu.state()["digital_twins"]
        .as_object()
        .expect("instances")
        .values()
        .find(|d| d["name"] == INSTANCE)
        .cloned()
        .expect("the instance")
}

fn user_id(emu: &EmulatorProcess, upn: &str) -> String {
    emu.state()["users"]
        .as_object()
        .expect("users")
        .iter()
        .find(|(_, u)| u["body"]["userPrincipalName"] == upn)
        .map(|(id, _)| id.clone())
        .expect("the user")
}

/// Creates a user-assigned identity in the plan's resource group (as someone else would) and
/// returns its id.
fn identity(emu: &EmulatorProcess, name: &str) -> String {
    let sub = emu.field("subscription_id");
    let id = format!(
        "/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    );
    let (status, body) = emu.arm_as_admin(
        reqwest::Method::PUT,
        &format!("{id}?api-version=2023-01-31"),
        Some(json!({"location": "westus2"})),
    );
    assert!(status == 201 || status == 200, "{status} {body}");
    assert!(body["properties"]["principalId"].is_string(), "{body}");
    id
}

fn instance_path(emu: &EmulatorProcess) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{RG}/providers/Microsoft.DigitalTwins/digitalTwinsInstances/{INSTANCE}",
        emu.field("subscription_id")
    )
}

/// Adds an identity-based Service Bus endpoint to the instance (as someone else would).
fn endpoint(emu: &EmulatorProcess, name: &str, identity: Value) {
    child(
        emu,
        &format!("endpoints/{name}"),
        json!({"properties": {
            "endpointType": "ServiceBus", "authenticationType": "IdentityBased",
            "endpointUri": "sb://bus.servicebus.windows.net/", "entityPath": "twins",
            "identity": identity}}),
    );
}

/// PUTs `body` at `rest` under the instance (as someone else would).
fn child(emu: &EmulatorProcess, rest: &str, body: Value) {
    let (status, body) = emu.arm_as_admin(
        reqwest::Method::PUT,
        &format!("{}/{rest}?api-version=2023-01-31", instance_path(emu)),
        Some(body),
    );
    assert!(status == 201 || status == 200, "{status} {body}");
}

#[test]
fn app_options_reach_the_registration_and_a_rerun_adds_no_owner_twice() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    answers(
        &s,
        &format!(
            "app_owners: [{ADMIN_UPN}]\nsign_in_audience: AzureADMultipleOrgs\nweb_redirect_uris: [https://app.example.com/auth]\nspa_redirect_uris: ['http://localhost:3000']\nimplicit_grant: both\n"
        ),
    );
    let out = up(&emu, &s, &[]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let app = app(&emu);
    let body = &app["body"];
    assert_eq!(body["signInAudience"], "AzureADMultipleOrgs");
    assert_eq!(
        body["web"]["redirectUris"],
        json!(["https://app.example.com/auth"])
    );
    assert_eq!(
        body["spa"]["redirectUris"],
        json!(["http://localhost:3000"])
    );
    assert_eq!(
        body["web"]["implicitGrantSettings"],
        json!({"enableIdTokenIssuance": true, "enableAccessTokenIssuance": true})
    );
    // The public client's reply URL stays.
    assert_eq!(
        body["publicClient"]["redirectUris"],
        json!(["http://localhost"])
    );
    let admin = user_id(&emu, ADMIN_UPN);
    assert!(
        app["owners"]
            .as_array()
            .expect("owners")
            .iter()
            .any(|o| o == admin.as_str()),
        "{app}"
    );

    let verified = verify(&emu, &s);
    assert_eq!(verified.code, Some(0), "no drift: {}", verified.stdout);
    emu.clear_requests();
    let again = up(&emu, &s, &[]);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert_eq!(emu.writes(), Vec::<String>::new(), "a rerun must not write");

    // Taking the options away (inputs left out keep the checkpoint's values, so they are set
    // back explicitly) is an update of the same app: web, SPA and implicit grant reset.
    answers(
        &s,
        "sign_in_audience: AzureADMyOrg\nweb_redirect_uris: []\nspa_redirect_uris: []\nimplicit_grant: none\n",
    );
    let reset = up(&emu, &s, &[]);
    assert_eq!(reset.code, Some(0), "{}", reset.stderr);
    let body = self::app(&emu)["body"].clone();
    assert_eq!(body["signInAudience"], "AzureADMyOrg");
    assert_eq!(body["web"]["redirectUris"], json!([]));
    assert_eq!(body["spa"]["redirectUris"], json!([]));
    assert_eq!(
        body["web"]["implicitGrantSettings"]["enableAccessTokenIssuance"],
        false
    );
}

#[test]
fn an_app_for_personal_accounts_gets_the_v2_access_tokens_entra_requires() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    answers(&s, "sign_in_audience: AzureADandPersonalMicrosoftAccount\n");
    let out = up(&emu, &s, &[]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let body = app(&emu)["body"].clone();
    assert_eq!(body["signInAudience"], "AzureADandPersonalMicrosoftAccount");
    assert_eq!(body["api"]["requestedAccessTokenVersion"], 2);
}

#[test]
fn adding_owners_without_the_permission_fails_naming_it() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    // A deployer that may register apps it owns and read users, but not add other owners.
    let out = emu.admin(
        reqwest::Method::POST,
        "/_emulator/principals",
        Some(
            json!({"kind": "service_principal", "roles": [{"role": "Owner"}],
            "graph_permissions": ["Application.ReadWrite.OwnedBy", "User.Read.All"]}),
        ),
    );
    let id = out["app_id"].as_str().expect("app_id").to_string();
    let secret = out["client_secret"].as_str().expect("secret").to_string();
    answers(&s, &format!("app_owners: [{ADMIN_UPN}]\n"));
    let failed = run(emu
        .up(&s)
        .args(["--answers", "answers.yaml", "--parallelism", "1"])
        .env("AZURE_CLIENT_ID", &id)
        .env("AZURE_CLIENT_SECRET", &secret));
    assert_eq!(failed.code, Some(1), "{}", failed.stderr);
    assert!(
        failed.stderr.contains("Application.ReadWrite.All"),
        "{}",
        failed.stderr
    );
    assert!(failed.stderr.contains("rerun"), "{}", failed.stderr);
    let admin = user_id(&emu, ADMIN_UPN);
    assert!(
        !app(&emu)["owners"].to_string().contains(&admin),
        "no owner was added"
    );
}

#[test]
fn bad_app_and_identity_options_exit_2_naming_the_input_before_anything_is_written() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    for (extra, named) in [
        ("sign_in_audience: Everyone\n", "sign_in_audience"),
        ("implicit_grant: token\n", "implicit_grant"),
        ("app_owners: [not-a-user]\n", "app_owners"),
        (
            "web_redirect_uris: ['http://app.example.com/auth']\n",
            "web_redirect_uris",
        ),
        (
            "sign_in_audience: PersonalMicrosoftAccount\nspa_redirect_uris: ['https://*.example.com']\n",
            "spa_redirect_uris",
        ),
        (
            "user_assigned_identities: [/subscriptions/x/resourceGroups/y]\n",
            "user_assigned_identities",
        ),
    ] {
        answers(&s, extra);
        emu.clear_requests();
        let out = up(&emu, &s, &[]);
        assert_eq!(out.code, Some(2), "{extra}: {}", out.stderr);
        assert!(out.stderr.contains(named), "{extra}: {}", out.stderr);
        assert_eq!(emu.writes(), Vec::<String>::new(), "{extra}");
    }
    // An owner who is not in the directory is found by preflight, before the first write.
    answers(&s, "app_owners: [nobody@twinup.local]\n");
    emu.clear_requests();
    let out = up(&emu, &s, &[]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("nobody@twinup.local is not a user"),
        "{}",
        out.stderr
    );
    assert_eq!(emu.writes(), Vec::<String>::new());
    // An identity that does not exist is found by preflight, before the first write.
    let missing = format!(
        "/subscriptions/{}/resourceGroups/{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/nowhere",
        emu.field("subscription_id")
    );
    answers(&s, &format!("user_assigned_identities: ['{missing}']\n"));
    emu.clear_requests();
    let out = up(&emu, &s, &[]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("nowhere") && out.stderr.contains("does not exist"),
        "{}",
        out.stderr
    );
    assert_eq!(emu.writes(), Vec::<String>::new());
}

#[test]
fn a_user_assigned_identity_is_added_to_and_removed_from_an_existing_instance() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    answers(&s, "create_app_registration: false\n");
    let first = up(&emu, &s, &[]);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert_eq!(instance(&emu)["identity"], Value::Null);
    let id = identity(&emu, "twins-id");

    answers(
        &s,
        &format!(
            "create_app_registration: false\nmanaged_identity: SystemAssigned\nuser_assigned_identities: ['{id}']\n"
        ),
    );
    let added = up(&emu, &s, &[]);
    assert_eq!(added.code, Some(0), "{}", added.stderr);
    let identity = instance(&emu)["identity"].clone();
    assert_eq!(
        identity["kind"], "SystemAssigned,UserAssigned",
        "{identity}"
    );
    assert!(identity["principal_id"].is_string(), "{identity}");
    assert!(identity["user_assigned"].get(&id).is_some(), "{identity}");
    assert_eq!(emu.count("PUT", "digitalTwinsInstances/{}"), 2);
    let verified = verify(&emu, &s);
    assert_eq!(verified.code, Some(0), "no drift: {}", verified.stdout);

    answers(
        &s,
        "create_app_registration: false\nmanaged_identity: SystemAssigned\nuser_assigned_identities: []\n",
    );
    let removed = up(&emu, &s, &[]);
    assert_eq!(removed.code, Some(0), "{}", removed.stderr);
    let identity = instance(&emu)["identity"].clone();
    assert_eq!(identity["kind"], "SystemAssigned", "{identity}");
    assert_eq!(identity["user_assigned"], json!({}), "{identity}");
}

#[test]
fn disabling_an_identity_that_endpoints_and_data_history_use_asks_first() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    answers(&s, "create_app_registration: false\n");
    let first = up(&emu, &s, &[]);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let id = identity(&emu, "twins-id");
    let both = format!(
        "create_app_registration: false\nmanaged_identity: SystemAssigned\nuser_assigned_identities: ['{id}']\n"
    );
    answers(&s, &both);
    let enabled = up(&emu, &s, &[]);
    assert_eq!(enabled.code, Some(0), "{}", enabled.stderr);
    endpoint(&emu, "to-bus", json!({"type": "SystemAssigned"}));
    endpoint(
        &emu,
        "to-bus-as-user",
        json!({"type": "UserAssigned", "userAssignedIdentity": id}),
    );
    // A data history connection, which always authenticates with an identity.
    child(
        &emu,
        "timeSeriesDatabaseConnections/history",
        json!({"properties": {"connectionType": "AzureDataExplorer",
            "adxEndpointUri": "https://adx.westus2.kusto.windows.net", "adxDatabaseName": "twins",
            "eventHubEndpointUri": "sb://hub.servicebus.windows.net/", "eventHubEntityPath": "history",
            "identity": {"type": "SystemAssigned"}}}),
    );

    // Unattended without --yes: exit 2 naming both endpoints, and nothing changes.
    answers(
        &s,
        "create_app_registration: false\nmanaged_identity: None\nuser_assigned_identities: []\n",
    );
    emu.clear_requests();
    let refused = up(&emu, &s, &[]);
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    for name in [
        "endpoint to-bus (system-assigned",
        "endpoint to-bus-as-user (user-assigned",
        "data history connection history (system-assigned",
    ] {
        assert!(refused.stderr.contains(name), "{}", refused.stderr);
    }
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert_eq!(emu.writes(), Vec::<String>::new());
    assert_eq!(
        instance(&emu)["identity"]["kind"],
        "SystemAssigned,UserAssigned"
    );

    // At a terminal it asks; no keeps everything.
    let mut cmd = s.pty_twinup();
    cmd.args(["up", "--answers", "answers.yaml", "--parallelism", "1"])
        .args(emu.cloud_args())
        .envs(emu.cloud_env());
    let mut p = rexpect::session::spawn_command(cmd, Some(60_000)).expect("spawn in a pty");
    p.exp_string("to-bus-as-user").expect("names the endpoint");
    p.exp_string("Go on with these changes?").expect("asks");
    p.send("n").expect("answer");
    p.flush().expect("flush");
    let rest = p.exp_eof().expect("ends");
    let status = p.process().wait().expect("exit status");
    assert!(rest.contains("not confirmed"), "{rest}");
    assert!(
        matches!(status, rexpect::process::WaitStatus::Exited(_, 2)),
        "{status:?}"
    );
    assert_eq!(emu.writes(), Vec::<String>::new());

    // With --yes the identities go.
    let confirmed = up(&emu, &s, &["--yes"]);
    assert_eq!(confirmed.code, Some(0), "{}", confirmed.stderr);
    assert!(
        confirmed.stderr.contains("to-bus-as-user"),
        "the warning is shown even when confirmed: {}",
        confirmed.stderr
    );
    assert_eq!(instance(&emu)["identity"], Value::Null);
}

/// An app registration turned off (`create_app_registration: false`) makes nothing, and every
/// command says so: `preview` does not count it as a create, `status` says it made nothing
/// (not that something found was kept), and `down` keeps nothing for it.
#[test]
fn an_app_registration_turned_off_is_shown_as_making_nothing() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    answers(&s, "create_app_registration: false\n");
    let preview = preview(&emu, &s, &[]);
    assert_eq!(preview.code, Some(0), "{}", preview.stderr);
    assert!(
        preview
            .stdout
            .contains("- app_registration  makes nothing: turned off (enabled: false)"),
        "{}",
        preview.stdout
    );
    assert!(
        preview.stdout.contains("5 to create") && preview.stdout.contains("2 turned off"),
        "{}",
        preview.stdout
    );

    let first = up(&emu, &s, &[]);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert_eq!(apps_made(&emu), 0, "no app registration was made");

    let mut status = s.twinup();
    status.arg("status");
    let status = run(&mut status);
    let line = status
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("app_registration"))
        .unwrap_or_else(|| panic!("{}", status.stdout));
    assert!(
        line.contains("(made nothing: turned off (enabled: false))") && !line.contains("kept"),
        "{line}"
    );

    let down = run(&mut emu.down(&s));
    assert_eq!(down.code, Some(0), "{}", down.stderr);
    assert!(
        !down
            .stderr
            .contains("app_registration: it existed before twinup"),
        "{}",
        down.stderr
    );
    assert!(down.stdout.contains(", 0 kept"), "{}", down.all_text());
}

/// Turning the app registration off after this deployment made it does not forget the app
/// (which `down` would then never delete): `preview` shows it replaced by no app, `up` asks
/// for `--yes` as for any replacement, and once confirmed the app this deployment made is
/// deleted.
#[test]
fn turning_the_app_registration_off_deletes_the_app_it_made_once_confirmed() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    answers(&s, "");
    let first = up(&emu, &s, &[]);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let made = app(&emu);

    answers(&s, "create_app_registration: false\n");
    let preview = preview(&emu, &s, &["-o", "json"]);
    let doc: Value = serde_json::from_str(preview.stdout.trim()).expect("JSON");
    let item = doc["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|i| i["step"] == "app_registration"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(item["action"], "replace", "{doc}");
    assert_eq!(item["to"], "no app (turned off)", "{doc}");

    let unconfirmed = up(&emu, &s, &[]);
    assert_eq!(unconfirmed.code, Some(2), "{}", unconfirmed.stderr);
    assert!(
        unconfirmed.stderr.contains("--yes"),
        "{}",
        unconfirmed.stderr
    );
    assert_eq!(
        app(&emu)["body"]["appId"],
        made["body"]["appId"],
        "kept until confirmed"
    );

    let confirmed = up(&emu, &s, &["--yes"]);
    assert_eq!(confirmed.code, Some(0), "{}", confirmed.stderr);
    assert_eq!(
        apps_made(&emu),
        0,
        "the app this deployment made is deleted"
    );
    let down = run(&mut emu.down(&s));
    assert_eq!(down.code, Some(0), "{}", down.stderr);
}

/// The app's `with` names the manifest's outputs; when the manifest is to be written again
/// (its file is gone, as on a fresh CI runner), turning the app off must still be the
/// replacement `up` asks `--yes` for, not "makes nothing" that deletes the app unasked.
#[test]
fn turning_the_app_off_while_the_manifest_is_rewritten_still_asks_before_deleting_the_app() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    answers(&s, "");
    let first = up(&emu, &s, &[]);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    std::fs::remove_file(s.path("manifest.json")).expect("the manifest up wrote");

    answers(&s, "create_app_registration: false\n");
    let preview = preview(&emu, &s, &[]);
    assert!(
        preview.stdout.contains("no app (turned off)"),
        "{}",
        preview.stdout
    );
    let unconfirmed = up(&emu, &s, &[]);
    assert_eq!(unconfirmed.code, Some(2), "{}", unconfirmed.stderr);
    assert_eq!(apps_made(&emu), 1, "kept until confirmed");
}

/// Turns the app off with its delete failing (the app stays, recorded as this deployment's
/// leftover); returns the app's appId.
fn turn_off_with_the_delete_failing(emu: &EmulatorProcess, s: &Scratch) -> Value {
    answers(s, "");
    let first = up(emu, s, &[]);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let made = app(emu)["body"]["appId"].clone();
    answers(s, "create_app_registration: false\n");
    emu.fault(json!({
        "method": "DELETE",
        "path_contains": "/applications",
        "count": 0,
        "kind": {"status": 409, "code": "Conflict", "message": "busy"}
    }));
    let failed = up(emu, s, &["--yes"]);
    assert_eq!(failed.code, Some(1), "{}", failed.stderr);
    assert_eq!(apps_made(emu), 1, "the delete failed");
    emu.clear_faults();
    made
}

/// When the app could not be deleted right after it was turned off, it stays this
/// deployment's: `down` lists it among what it deletes, asks, deletes it and says so.
#[test]
fn an_app_turned_off_but_not_yet_deleted_is_listed_and_deleted_by_down() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    let made = turn_off_with_the_delete_failing(&emu, &s);

    let mut unconfirmed = s.twinup();
    unconfirmed
        .args(["down", "--non-interactive"])
        .args(emu.cloud_args())
        .envs(emu.cloud_env());
    let unconfirmed = run(&mut unconfirmed);
    assert_eq!(unconfirmed.code, Some(2), "{}", unconfirmed.stderr);
    let listed = format!(
        "app_registration: the target it replaced (azure.ad_application: app {})",
        made.as_str().unwrap_or_default()
    );
    assert!(
        unconfirmed.stderr.contains(&listed),
        "{}",
        unconfirmed.stderr
    );
    assert_eq!(apps_made(&emu), 1, "nothing deleted unconfirmed");

    let down = run(emu
        .down(&s)
        .args(["--answers", "answers.yaml", "-o", "json"]));
    assert_eq!(down.code, Some(0), "{}", down.stderr);
    let doc: Value = serde_json::from_str(down.stdout.trim()).expect("JSON");
    assert_eq!(doc["retired"], json!(["app_registration"]), "{doc}");
    assert_eq!(
        apps_made(&emu),
        0,
        "down deleted the app this deployment made"
    );
}

/// Turned back on before the turned-off app was deleted: the app is what the step uses
/// again, so the run keeps it (and does not register another), and it is still this
/// deployment's for `down` to delete.
#[test]
fn an_app_turned_back_on_before_it_was_deleted_is_kept_and_still_owned() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    let made = turn_off_with_the_delete_failing(&emu, &s);

    answers(&s, "create_app_registration: true\n");
    let again = up(&emu, &s, &["--yes"]);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert_eq!(
        apps_made(&emu),
        1,
        "kept, and no second app: {}",
        again.stderr
    );
    assert_eq!(app(&emu)["body"]["appId"], made, "the same app");

    let down = run(emu.down(&s).args(["-o", "json"]));
    assert_eq!(down.code, Some(0), "{}", down.stderr);
    let doc: Value = serde_json::from_str(down.stdout.trim()).expect("JSON");
    assert!(
        doc["deleted"]
            .as_array()
            .is_some_and(|d| d.iter().any(|s| s == "app_registration")),
        "{doc}"
    );
    assert_eq!(
        apps_made(&emu),
        0,
        "still the deployment's: down deleted it"
    );
}
