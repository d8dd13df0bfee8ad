//! `twinup import-deploy-config`: turns the `config.json` deploy.ps1 leaves behind
//! (`subscription`, `tenant_id`, `location`, `resource_group`, `name`, `display_name`,
//! `reply_url`) into an answers file for the built-in plan, checking every value against the
//! plan's inputs.

use std::path::Path;

use indexmap::IndexMap;
use serde_json::Value;

use crate::cli::{ImportArgs, OutputFormat};
use crate::commands::answers_file::{render, write_out};
use crate::failure::Failure;
use crate::plan_source::load_plan;

/// deploy.ps1's config keys and the built-in plan's inputs they become.
pub const KEY_MAP: &[(&str, &str)] = &[
    ("subscription", "subscription"),
    ("location", "location"),
    ("resource_group", "resource_group"),
    ("name", "instance_name"),
    ("display_name", "app_display_name"),
    ("reply_url", "reply_url"),
];

/// Reads `path` and maps it to input values; also returns notes for the file's header.
pub fn convert(
    path: &Path,
    plan: &twinup_plan::Plan,
) -> Result<(IndexMap<String, Value>, Vec<String>), Failure> {
    let text = twinup_plan::read_bounded(path).map_err(|e| {
        Failure::bad_input(format!(
            "{}: cannot read it ({e}); give the config.json deploy.ps1 wrote",
            path.display()
        ))
    })?;
    let doc: Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|e| {
        Failure::bad_input(format!(
            "{}: not valid JSON ({e}); give the config.json deploy.ps1 wrote",
            path.display()
        ))
    })?;
    let Some(map) = doc.as_object() else {
        return Err(Failure::bad_input(format!(
            "{}: expected a JSON object like {{\"subscription\": \"...\", \"name\": \"...\"}}",
            path.display()
        )));
    };
    let mut values = IndexMap::new();
    let mut notes = vec![format!("Imported from deploy.ps1's {}", path.display())];
    let mut problems = Vec::new();
    for (key, value) in map {
        let lookup = KEY_MAP
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, input)| *input);
        match (key.to_ascii_lowercase().as_str(), lookup) {
            ("tenant_id", _) => notes.push(format!(
                "deploy.ps1 used tenant {}: sign in to it (az login --tenant {}, or AZURE_TENANT_ID)",
                value.as_str().unwrap_or_default(),
                value.as_str().unwrap_or_default()
            )),
            (_, Some(input)) => {
                let Some(spec) = plan.inputs.get(input) else {
                    continue;
                };
                let value = match value {
                    Value::String(s) => Value::String(s.trim().to_string()),
                    other => other.clone(),
                };
                if value.as_str().is_some_and(str::is_empty) || value.is_null() {
                    continue;
                }
                match spec.check(&value) {
                    Ok(()) => {
                        values.insert(input.to_string(), value);
                    }
                    Err(why) => problems.push(format!("`{key}` (input `{input}`): {why}")),
                }
            }
            (_, None) => notes.push(format!("`{key}` has no twinup equivalent; ignored")),
        }
    }
    if !problems.is_empty() {
        return Err(Failure::bad_input(format!(
            "{} has values the plan does not accept:\n  {}\nfix them in the file (or in the answers file after import)",
            path.display(),
            problems.join("\n  ")
        )));
    }
    Ok((values, notes))
}

/// Runs `twinup import-deploy-config`.
pub fn import(args: ImportArgs, format: OutputFormat) -> Result<(), Failure> {
    let plan = load_plan(None)?;
    let (values, notes) = convert(&args.config, &plan)?;
    let text = render(&plan, &values, &notes);
    write_out(&args.out, &text, args.force, format)
}
