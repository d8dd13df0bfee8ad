//! Writing answers files (`init`, `import-deploy-config`): YAML with every input of a plan, its
//! description, type, default and choices as comments, and values that are JSON-compatible
//! YAML so they read back exactly.

use std::path::Path;

use indexmap::IndexMap;
use serde_json::{Value, json};
use twinup_plan::Plan;

use crate::cli::OutputFormat;
use crate::commands::connect::DISCOVERED;
use crate::failure::Failure;
use crate::output::JSON_SCHEMA_VERSION;

/// A value as YAML: simple words plain, everything else in JSON syntax (valid YAML).
pub fn yaml_value(value: &Value) -> String {
    if let Value::String(s) = value {
        let plain = !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && !matches!(
                s.to_ascii_lowercase().as_str(),
                "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
            );
        if plain {
            return s.clone();
        }
    }
    value.to_string()
}

/// The answers file for `plan`: for every input, comments saying what it is, then either
/// `name: value` (when `values` has it) or the line commented out (so the plan's default, or a
/// prompt, applies). `extra` lines are added as comments at the top.
pub fn render(plan: &Plan, values: &IndexMap<String, Value>, header: &[String]) -> String {
    let mut out = String::new();
    for line in header {
        out.push_str(&format!("# {line}\n"));
    }
    out.push_str(&format!(
        "# Answers for plan `{}`. Use with: twinup up --answers <this file>\n",
        plan.name
    ));
    out.push_str("# Uncomment a line to set that input; inputs left commented take their default, or are asked for.\n");
    for (name, spec) in &plan.inputs {
        out.push('\n');
        if let Some(d) = &spec.description {
            out.push_str(&format!("# {d}\n"));
        }
        let mut facts = vec![format!("type: {}", spec.ty)];
        match &spec.default {
            Some(d) => facts.push(format!("default: {}", yaml_value(d))),
            None if DISCOVERED.contains(&name.as_str()) => {
                facts.push("default: found when you sign in".to_string())
            }
            None => facts.push("REQUIRED".to_string()),
        }
        if let Some(choices) = &spec.choices {
            let list: Vec<String> = choices.iter().map(yaml_value).collect();
            facts.push(format!("choices: {}", list.join(" | ")));
        }
        if let Some(p) = &spec.pattern {
            facts.push(format!("pattern: {p}"));
        }
        if spec.secret {
            facts.push("secret: better given as TWINUP_".to_string() + &name.to_ascii_uppercase());
        }
        out.push_str(&format!("# ({})\n", facts.join("; ")));
        match values.get(name) {
            Some(v) => out.push_str(&format!("{name}: {}\n", yaml_value(v))),
            None => {
                let example = spec
                    .default
                    .as_ref()
                    .map(yaml_value)
                    .unwrap_or_else(|| "\"\"".to_string());
                out.push_str(&format!("# {name}: {example}\n"));
            }
        }
    }
    out
}

/// Writes `text` to `out` (`-` is standard output); refuses to overwrite unless `force`. With
/// `--output json` the result is one JSON object on stdout (holding the text itself when `out`
/// is `-`).
pub fn write_out(out: &Path, text: &str, force: bool, format: OutputFormat) -> Result<(), Failure> {
    if out == Path::new("-") {
        let doc = match format {
            OutputFormat::Json => format!(
                "{}\n",
                json!({"schema_version": JSON_SCHEMA_VERSION, "status": "written", "path": "-", "answers": text})
            ),
            OutputFormat::Text => text.to_string(),
        };
        return crate::output::stdout::write_all(doc.as_bytes())
            .map_err(|e| Failure::step_failed(format!("cannot write to standard output: {e}")));
    }
    if out.exists() && !force {
        return Err(Failure::bad_input(format!(
            "{} already exists; pass --force to overwrite it, or choose another file with --out",
            out.display()
        )));
    }
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::bad_input(format!("cannot create {}: {e}", dir.display())))?;
    }
    std::fs::write(out, text)
        .map_err(|e| Failure::bad_input(format!("cannot write {}: {e}", out.display())))?;
    match format {
        OutputFormat::Json => crate::output::print_json(
            json!({"status": "written", "path": out.display().to_string()}),
        ),
        OutputFormat::Text => eprintln!("Wrote {}", out.display()),
    }
    Ok(())
}
