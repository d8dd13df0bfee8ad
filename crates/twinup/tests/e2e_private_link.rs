//! The built-in plan with `private_endpoint_subnet_id`, end to end against the emulator: `up`
//! creates the private endpoint (group `API`, to the instance), the private DNS zone
//! `privatelink.digitaltwins.azure.net`, its link to the subnet's virtual network and the
//! endpoint's zone group; `down` deletes them, and keeps a zone that existed before.

mod common;

use common::azure::EmulatorProcess;
use common::{Outcome, Scratch, run};
use serde_json::{Value, json};

const ZONE: &str = "privatelink.digitaltwins.azure.net";

/// A virtual network with one subnet in `net-rg`; returns the subnet id.
fn network(emu: &EmulatorProcess) -> String {
    let sub = emu.field("subscription_id");
    let group = format!("/subscriptions/{sub}/resourceGroups/net-rg");
    let (status, _) = emu.arm_as_admin(
        reqwest::Method::PUT,
        &format!("{group}?api-version=2021-04-01"),
        Some(json!({"location": "westus2"})),
    );
    assert!(status < 300, "resource group: {status}");
    let vnet = format!("{group}/providers/Microsoft.Network/virtualNetworks/vnet1");
    let (status, _) = emu.arm_as_admin(
        reqwest::Method::PUT,
        &format!("{vnet}?api-version=2023-09-01"),
        Some(json!({"location": "westus2", "properties": {
            "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
            "subnets": [{"name": "default", "properties": {"addressPrefix": "10.0.0.0/24"}}]}})),
    );
    assert!(status < 300, "vnet: {status}");
    format!("{vnet}/subnets/default")
}

fn answers(s: &Scratch, subnet: &str) {
    s.write(
        "answers.yaml",
        &format!(
            "location: westus2\nresource_group: rg-pl\ninstance_name: twins-pl\napp_display_name: pl-client\nprivate_endpoint_subnet_id: {subnet}\n"
        ),
    );
}

/// The emulator's generic resource at `id` (path compared case-insensitively), if any.
fn resource(emu: &EmulatorProcess, id: &str) -> Option<Value> {
    emu.state()["generic"]
        .as_object()?
        .values()
        .find(|r| {
            r["body"]["id"]
                .as_str()
                .is_some_and(|i| i.eq_ignore_ascii_case(id))
        })
        .map(|r| r["body"].clone())
}

fn ids(emu: &EmulatorProcess) -> (String, String, String, String) {
    ids_for(emu, "twins-pl")
}

/// The ids of the private link's parts for the instance `instance`: endpoint, zone, the
/// zone's link and the endpoint's zone group.
fn ids_for(emu: &EmulatorProcess, instance: &str) -> (String, String, String, String) {
    let sub = emu.field("subscription_id");
    let rg = format!("/subscriptions/{sub}/resourceGroups/rg-pl/providers/Microsoft.Network");
    let endpoint = format!("{rg}/privateEndpoints/{instance}-pe");
    let zone = format!("{rg}/privateDnsZones/{ZONE}");
    (
        endpoint.clone(),
        zone.clone(),
        format!("{zone}/virtualNetworkLinks/{instance}-link"),
        format!("{endpoint}/privateDnsZoneGroups/default"),
    )
}

#[test]
fn a_private_endpoint_its_zone_and_link_are_created_and_down_removes_them() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    let subnet = network(&emu);
    answers(&s, &subnet);
    let out = run(emu.up(&s).args(["--answers", "answers.yaml"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);

    let (endpoint, zone, link, group) = ids(&emu);
    let pe = resource(&emu, &endpoint).expect("the private endpoint");
    assert_eq!(pe["properties"]["subnet"]["id"], subnet.as_str());
    let connection = &pe["properties"]["privateLinkServiceConnections"][0]["properties"];
    assert_eq!(connection["groupIds"], json!(["API"]));
    assert!(
        connection["privateLinkServiceId"]
            .as_str()
            .unwrap()
            .ends_with("/digitalTwinsInstances/twins-pl")
    );
    assert_eq!(
        resource(&emu, &zone).expect("the zone")["location"],
        "global"
    );
    let vnet = subnet.rsplit_once("/subnets/").unwrap().0;
    assert_eq!(
        resource(&emu, &link).expect("the link")["properties"]["virtualNetwork"]["id"],
        vnet
    );
    let group_zone = resource(&emu, &group).expect("the zone group")["properties"]
        ["privateDnsZoneConfigs"][0]["properties"]["privateDnsZoneId"]
        .clone();
    assert!(
        group_zone.as_str().unwrap().eq_ignore_ascii_case(&zone),
        "{group_zone}"
    );

    // A rerun writes nothing.
    emu.clear_requests();
    let again = run(emu.up(&s).args(["--answers", "answers.yaml"]));
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert_eq!(emu.writes(), Vec::<String>::new());

    emu.clear_requests();
    let gone = run(&mut emu.down(&s));
    assert_eq!(gone.code, Some(0), "{}", gone.stderr);
    // Deleted one by one (not only with the resource group).
    let writes = emu.writes();
    for route in [
        "privateDnsZoneGroups/{}",
        "privateEndpoints/{}",
        "virtualNetworkLinks/{}",
        "privateDnsZones/{}",
    ] {
        assert!(
            writes
                .iter()
                .any(|w| w.starts_with("DELETE") && w.ends_with(route)),
            "no DELETE of {route}: {writes:?}"
        );
    }
    for id in [&endpoint, &zone, &link, &group] {
        assert!(resource(&emu, id).is_none(), "{id} is still there");
    }
    assert!(
        resource(&emu, vnet).is_some(),
        "the network is not twinup's"
    );
}

#[test]
fn a_zone_that_existed_is_used_and_kept_by_down() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    let subnet = network(&emu);
    let sub = emu.field("subscription_id");
    let (status, _) = emu.arm_as_admin(
        reqwest::Method::PUT,
        &format!("/subscriptions/{sub}/resourceGroups/rg-pl?api-version=2021-04-01"),
        Some(json!({"location": "westus2"})),
    );
    assert!(status < 300);
    let (endpoint, zone, link, _) = ids(&emu);
    let (status, _) = emu.arm_as_admin(
        reqwest::Method::PUT,
        &format!("{zone}?api-version=2020-06-01"),
        Some(json!({"location": "global", "tags": {"owner": "network-team"}})),
    );
    assert!(status < 300);
    answers(&s, &subnet);
    emu.clear_requests();
    let out = run(emu.up(&s).args(["--answers", "answers.yaml"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        emu.writes()
            .iter()
            .all(|w| !w.ends_with("privateDnsZones/{}")),
        "the existing zone was written: {:?}",
        emu.writes()
    );
    assert!(
        out.stderr.contains("exists already; it is used and kept"),
        "{}",
        out.stderr
    );

    let gone = run(&mut emu.down(&s));
    assert_eq!(gone.code, Some(0), "{}", gone.stderr);
    let kept = resource(&emu, &zone).expect("the zone that existed is kept");
    assert_eq!(kept["tags"]["owner"], "network-team");
    assert!(resource(&emu, &endpoint).is_none() && resource(&emu, &link).is_none());
}

#[test]
fn the_private_identity_example_deploys_a_private_instance_with_its_endpoint() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../plans/examples/private-answers.yaml");
    let out = run(emu.up(&s).arg("--answers").arg(&example));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let instance = &emu.state()["digital_twins"];
    let twins = instance
        .as_object()
        .and_then(|m| m.values().next())
        .expect("the instance");
    assert_eq!(twins["public_network_access"], "Disabled");
    assert!(
        twins["identity"]["kind"]
            .as_str()
            .unwrap_or_default()
            .contains("SystemAssigned"),
        "{twins}"
    );
    let sub = emu.field("subscription_id");
    let endpoint = format!(
        "/subscriptions/{sub}/resourceGroups/twinup-private-rg/providers/Microsoft.Network/privateEndpoints/twinup-private-twins-pe"
    );
    assert!(resource(&emu, &endpoint).is_some(), "no private endpoint");
    // Public access is off: the data plane cannot be checked from here, and up says so.
    assert!(
        out.stderr.contains("public network access is disabled"),
        "{}",
        out.stderr
    );
    assert!(
        emu.entries()
            .iter()
            .all(|e| !e.route.contains("(data plane)"))
    );
}

#[test]
fn a_kill_while_the_private_link_is_made_resumes_and_down_still_removes_every_part() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    killed_while_making_the_link(&emu, &s);
    let out = run(emu.up(&s).args(["--answers", "answers.yaml"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        emu.count("PUT", "privateEndpoints/{}") <= 1,
        "the private endpoint was written twice"
    );
    let (endpoint, zone, link, group) = ids(&emu);
    emu.clear_requests();
    let gone = run(&mut emu.down(&s));
    assert_eq!(gone.code, Some(0), "{}", gone.stderr);
    // The rerun still knew every part as its own: each is deleted by name.
    let writes = emu.writes();
    for route in ["privateEndpoints/{}", "privateDnsZones/{}"] {
        assert!(
            writes
                .iter()
                .any(|w| w.starts_with("DELETE") && w.ends_with(route)),
            "no DELETE of {route}: {writes:?}"
        );
    }
    for id in [&endpoint, &zone, &link, &group] {
        assert!(resource(&emu, id).is_none(), "{id} is still there");
    }
}

/// A network, answers naming its subnet, and an `up` killed right after the step recorded
/// that it is creating the private endpoint; returns the subnet id.
fn killed_while_making_the_link(emu: &EmulatorProcess, s: &Scratch) -> String {
    let subnet = network(emu);
    answers(s, &subnet);
    let crashed = run(emu
        .up(s)
        .args(["--answers", "answers.yaml"])
        .env("TWINUP_TEST_CRASH_AFTER_TOKEN", "private_link"));
    assert_ne!(crashed.code, Some(0), "the run should have been killed");
    subnet
}

/// `twinup up` with the answers file, plus `more`.
fn up(emu: &EmulatorProcess, s: &Scratch, more: &[&str]) -> Outcome {
    run(emu.up(s).args(["--answers", "answers.yaml"]).args(more))
}

/// A network, answers naming its subnet, and a first `up` that made the private link;
/// returns the subnet id.
fn deployed(emu: &EmulatorProcess, s: &Scratch) -> String {
    let subnet = network(emu);
    answers(s, &subnet);
    let out = up(emu, s, &[]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    subnet
}

/// Asserts every part of the private link is there (`present`) or gone; `log` explains.
fn assert_parts(emu: &EmulatorProcess, present: bool, log: &str) {
    let (endpoint, zone, link, group) = ids(emu);
    for id in [&endpoint, &zone, &link, &group] {
        assert_eq!(resource(emu, id).is_some(), present, "{id}: {log}");
    }
}

/// Clearing the subnet after the private link was made does not forget the parts twinup
/// made (nothing would ever delete them): `preview` shows the endpoint replaced by none, `up`
/// asks for `--yes`, and once confirmed every part it made is deleted, the network kept.
#[test]
fn clearing_the_subnet_deletes_the_private_link_parts_once_confirmed() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    let subnet = deployed(&emu, &s);

    answers(&s, "''");
    let mut preview = s.twinup();
    preview
        .args(["preview", "--answers", "answers.yaml", "-o", "json"])
        .args(emu.cloud_args())
        .envs(emu.cloud_env());
    let preview = run(&mut preview);
    let doc: Value = serde_json::from_str(preview.stdout.trim()).expect("JSON");
    let item = doc["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|i| i["step"] == "private_link"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(item["action"], "replace", "{doc}");
    assert_eq!(item["to"], "no private endpoint (turned off)", "{doc}");

    let unconfirmed = up(&emu, &s, &[]);
    assert_eq!(unconfirmed.code, Some(2), "{}", unconfirmed.stderr);
    assert_parts(&emu, true, "kept until confirmed");

    let confirmed = up(&emu, &s, &["--yes"]);
    assert_eq!(confirmed.code, Some(0), "{}", confirmed.stderr);
    assert_parts(&emu, false, &confirmed.stderr);
    let vnet = subnet.rsplit_once("/subnets/").expect("subnet id").0;
    assert!(
        resource(&emu, vnet).is_some(),
        "the network is not twinup's"
    );
    let down = run(&mut emu.down(&s));
    assert_eq!(down.code, Some(0), "{}", down.stderr);
}

/// Clearing the subnet after a run was killed while making the private link would leave
/// what that run made unrecorded: the step refuses, saying how to finish first, and the
/// endpoint is kept (and still deleted by `down` once finished).
#[test]
fn clearing_the_subnet_after_a_kill_mid_create_is_refused_until_the_link_is_finished() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    let subnet = killed_while_making_the_link(&emu, &s);

    answers(&s, "''");
    let refused = up(&emu, &s, &["--yes"]);
    assert_eq!(refused.code, Some(1), "{}", refused.stderr);
    for said in [
        "the private link was still being made when an earlier run stopped",
        "with the inputs as they were",
    ] {
        assert!(refused.stderr.contains(said), "{}", refused.stderr);
    }

    answers(&s, &subnet);
    let finished = up(&emu, &s, &[]);
    assert_eq!(finished.code, Some(0), "{}", finished.stderr);
    let gone = run(&mut emu.down(&s));
    assert_eq!(gone.code, Some(0), "{}", gone.stderr);
    assert_parts(&emu, false, &gone.stderr);
}

/// The subnet set again before the parts a clearing left were deleted: they are the
/// step's parts again, kept by the run, and deleted by `down`.
#[test]
fn a_subnet_set_again_before_the_parts_were_deleted_keeps_them_as_the_deployments() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    let subnet = deployed(&emu, &s);

    answers(&s, "''");
    emu.fault(json!({
        "method": "DELETE",
        "path_contains": "/privateDnsZoneGroups/",
        "count": 0,
        "kind": {"status": 409, "code": "Conflict", "message": "busy"}
    }));
    let failed = up(&emu, &s, &["--yes"]);
    assert_eq!(failed.code, Some(1), "{}", failed.stderr);
    emu.clear_faults();

    answers(&s, &subnet);
    let again = up(&emu, &s, &["--yes"]);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert_parts(&emu, true, &again.stderr);
    let gone = run(&mut emu.down(&s));
    assert_eq!(gone.code, Some(0), "{}", gone.stderr);
    assert_parts(&emu, false, &gone.stderr);
}

/// A renamed instance gets a new endpoint; the old endpoint, its zone group and its zone
/// link go after the run, and the zone both use stays (still the deployment's, for `down`).
#[test]
fn renaming_the_instance_replaces_its_endpoint_and_keeps_the_zone_in_use() {
    let s = Scratch::new();
    let emu = EmulatorProcess::start(s.dir.path(), false);
    let subnet = deployed(&emu, &s);
    s.write(
        "answers.yaml",
        &format!(
            "location: westus2\nresource_group: rg-pl\ninstance_name: twins-pl2\napp_display_name: pl-client\nprivate_endpoint_subnet_id: {subnet}\n"
        ),
    );
    let renamed = up(&emu, &s, &["--yes"]);
    assert_eq!(renamed.code, Some(0), "{}", renamed.stderr);
    let (old_endpoint, zone, old_link, old_group) = ids(&emu);
    for id in [&old_endpoint, &old_link, &old_group] {
        assert!(resource(&emu, id).is_none(), "{id}: {}", renamed.stderr);
    }
    let (endpoint, _, link, group) = ids_for(&emu, "twins-pl2");
    for id in [&endpoint, &zone, &link, &group] {
        assert!(resource(&emu, id).is_some(), "{id}: {}", renamed.stderr);
    }
    let gone = run(&mut emu.down(&s));
    assert_eq!(gone.code, Some(0), "{}", gone.stderr);
    for id in [&endpoint, &zone, &link, &group] {
        assert!(
            resource(&emu, id).is_none(),
            "{id} is still there: {}",
            gone.stderr
        );
    }
}
