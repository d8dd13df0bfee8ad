//! The sample plan in `tests/data/adt-setup.yaml`: parsing, inputs, steps,
//! the graph, locations, catalog validation and rendering.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use twinup_plan::{InputType, PathSeg, Plan, PlanError, Reference, SimpleCatalog, parse_answers};

fn sample() -> Plan {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/adt-setup.yaml");
    match Plan::load(&path) {
        Ok(plan) => plan,
        Err(e) => panic!("{e}"),
    }
}

fn catalog() -> SimpleCatalog {
    SimpleCatalog::new()
        .with_kind("azure.resource_group", Some(&["name", "id"]))
        .with_kind("azure.digital_twins_instance", Some(&["id", "host_name"]))
        .with_kind("azure.app_registration", Some(&["client_id", "object_id"]))
        .with_kind("azure.role_assignment", Some(&["id"]))
        .with_kind("file", None)
}

#[test]
fn sample_plan_parses_with_everything_in_place() {
    let plan = sample();
    assert_eq!(plan.version, 1);
    assert_eq!(plan.name, "adt-setup");
    assert!(plan.file_name().ends_with("tests/data/adt-setup.yaml"));
    assert_eq!(
        plan.inputs.keys().collect::<Vec<_>>(),
        [
            "instance_name",
            "location",
            "tags",
            "grant_operator",
            "client_secret_days",
            "redirect_uris"
        ]
    );
    let name = &plan.inputs["instance_name"];
    assert!(name.is_required());
    assert_eq!(name.ty, InputType::String);
    assert_eq!(
        plan.inputs["tags"].default,
        Some(json!({"owner": "platform-team"}))
    );
    assert_eq!(plan.inputs["client_secret_days"].ty, InputType::Int);
    assert_eq!(
        plan.required_inputs()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>(),
        ["instance_name"]
    );
    let instance = plan.step("instance").unwrap();
    assert_eq!(instance.kind, "azure.digital_twins_instance");
    assert_eq!(instance.timeout, Some(Duration::from_secs(1800)));
    assert_eq!(
        plan.step("app").unwrap().timeout,
        Some(Duration::from_secs(90))
    );
    assert_eq!(plan.step_index("data_owner"), Some(3));
    assert_eq!(plan.step_index("nope"), None);
    assert_eq!(
        plan.outputs.keys().collect::<Vec<_>>(),
        ["host_name", "client_id"]
    );
    assert!(plan.validate(&catalog()).is_ok());
}

#[test]
fn graph_combines_needs_and_references() {
    let plan = sample();
    let g = plan.graph();
    assert_eq!(
        g.ids(),
        [
            "resource_group",
            "instance",
            "app",
            "data_owner",
            "write_env"
        ]
    );
    assert_eq!(g.dependencies("instance"), ["resource_group"]);
    assert_eq!(g.dependencies("data_owner"), ["app", "instance"]);
    assert_eq!(
        g.dependencies("write_env"),
        ["data_owner", "instance", "app"]
    );
    assert_eq!(g.dependents("instance"), ["data_owner", "write_env"]);
    assert_eq!(
        g.topological_order(),
        [
            "resource_group",
            "instance",
            "app",
            "data_owner",
            "write_env"
        ]
    );
}

#[test]
fn locate_points_at_any_node() {
    let plan = sample();
    let at = |path: &[PathSeg]| plan.locate(path).map(|l| l.to_string());
    let file = plan.file_name().to_string();
    let steps = PathSeg::Key("steps".into());
    let with = PathSeg::Key("with".into());
    assert_eq!(
        at(&[
            steps.clone(),
            PathSeg::Index(1),
            with.clone(),
            "name".into()
        ]),
        Some(format!("{file}:40:13"))
    );
    assert_eq!(
        at(&[steps.clone(), PathSeg::Index(0)]),
        Some(format!("{file}:29:5"))
    );
    assert_eq!(
        at(&[
            "inputs".into(),
            "location".into(),
            "choices".into(),
            1.into()
        ]),
        Some(format!("{file}:13:27"))
    );
    assert_eq!(at(&[steps.clone(), PathSeg::Index(9)]), None);
    assert_eq!(at(&["nope".into()]), None);
    assert_eq!(
        plan.locate_key(&[steps.clone(), PathSeg::Index(1), "timeout".into()])
            .map(|l| l.to_string()),
        Some(format!("{file}:38:5"))
    );
    assert_eq!(
        plan.locate_step_param("app", "display_name")
            .map(|l| l.to_string()),
        Some(format!("{file}:48:21"))
    );
    assert_eq!(
        plan.locate_step_param("app", "missing")
            .map(|l| l.to_string()),
        Some(format!("{file}:44:5"))
    );
}

#[test]
fn hash_is_sha256_of_the_text() {
    let plan = sample();
    assert_eq!(plan.hash().len(), 64);
    let again = Plan::parse("other.yaml", plan.source_text()).unwrap();
    assert_eq!(again.hash(), plan.hash());
    let changed = Plan::parse("p.yaml", &format!("{}\n# edited\n", plan.source_text())).unwrap();
    assert_ne!(changed.hash(), plan.hash());
    assert_eq!(
        Plan::parse("p.yaml", "version: 1\nname: x\nsteps: []\n")
            .unwrap()
            .hash(),
        hex_sha256("version: 1\nname: x\nsteps: []\n")
    );
}

fn hex_sha256(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[test]
fn steps_render_with_inputs_and_outputs() {
    let plan = sample();
    let answers = parse_answers("answers.yaml", "instance_name: adt-demo\n", &plan).unwrap();
    let input = |name: &str| {
        answers
            .get(name)
            .cloned()
            .or_else(|| plan.inputs[name].default.clone())
    };
    let resolve = |r: &Reference| -> Option<Value> {
        match r {
            Reference::Input(name) => input(name),
            Reference::StepOutput { step, output } => match (step.as_str(), output.as_str()) {
                ("instance", "host_name") => Some(json!("adt-demo.api.weu.digitaltwins.azure.net")),
                ("instance", "id") => Some(json!("/subscriptions/s/rg/x")),
                ("app", "client_id") => Some(json!("0000-1111")),
                _ => None,
            },
            Reference::Each(_) => None,
        }
    };
    let rg = plan
        .step("resource_group")
        .unwrap()
        .with
        .render(&resolve)
        .unwrap();
    assert_eq!(
        rg,
        json!({"name": "rg-adt-demo", "location": "westeurope", "tags": {"owner": "platform-team"}})
    );
    let app = plan.step("app").unwrap().with.render(&resolve).unwrap();
    assert_eq!(
        app,
        json!({"display_name": "adt-demo-client", "redirect_uris": [], "secret_lifetime_days": 180})
    );
    let env = plan
        .step("write_env")
        .unwrap()
        .with
        .render(&resolve)
        .unwrap();
    assert_eq!(
        env["content"],
        json!(
            "ADT_URL=https://adt-demo.api.weu.digitaltwins.azure.net\nAZURE_CLIENT_ID=0000-1111\nLITERAL=${not_a_reference}\n"
        )
    );
    // With inputs known but no step outputs yet, the references stay as text.
    let partial = plan
        .step("instance")
        .unwrap()
        .with
        .render_partial(&|r| match r {
            Reference::Input(name) => input(name),
            Reference::StepOutput { .. } | Reference::Each(_) => None,
        });
    assert_eq!(
        partial["resource_group"],
        json!("${steps.resource_group.outputs.name}")
    );
    assert_eq!(partial["name"], json!("adt-demo"));
}

#[test]
fn load_reports_missing_files() {
    let err = Plan::load(Path::new("/definitely/not/here.yaml")).unwrap_err();
    assert!(matches!(err, PlanError::Io { .. }));
    assert!(
        err.to_string()
            .starts_with("cannot read `/definitely/not/here.yaml`: "),
        "{err}"
    );
}
