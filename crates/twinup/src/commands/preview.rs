//! `twinup preview`: what `up` would do, step by step, judged from the live state of every
//! step's resource (`create`, `update` with the fields that differ, `no change`), like
//! `terraform plan` or `az deployment what-if`. Reads only: nothing is written, not even the
//! checkpoint.

use std::io::IsTerminal;

use serde_json::json;
use twinup_engine::checkpoint::Checkpoint;
use twinup_engine::{
    Change, PreviewItem, Steps, display_value, load_for_plan, preview as engine_preview,
    resolve_inputs, validate_steps,
};

use crate::answers::read_answers;
use crate::azure_session::check_cloud_args;
use crate::checkpoint_store::checkpoint_store_for;
use crate::cli::{OutputFormat, PreviewArgs};
use crate::cloud_memory;
use crate::commands::connect::{
    input_sources, kinds_for, load_valid_plan, resolve_with_prompts, sign_in,
};
use crate::failure::Failure;
use crate::registry::validation_registry;

/// Runs `twinup preview`.
pub async fn preview(args: PreviewArgs, format: OutputFormat) -> Result<(), Failure> {
    let mut plan = load_valid_plan(&args.plan)?;
    check_cloud_args(&args.cloud)?;
    let answers = match &args.inputs.answers {
        Some(path) => read_answers(path, &plan)?,
        None => Default::default(),
    };
    let store = checkpoint_store_for(&args.plan.checkpoint)?;
    let checkpoint = load_for_plan(store.as_ref(), &plan)
        .await?
        .unwrap_or_else(|| Checkpoint::new(&plan.name, &plan.hash()));
    let cloud = cloud_memory::effective(&args.cloud, Some(&checkpoint), args.inputs.reconfigure)?;
    check_cloud_args(&cloud)?;

    let validation = validation_registry();
    let mut sources = input_sources(
        &plan,
        &validation,
        &args.inputs,
        &cloud,
        answers,
        &checkpoint,
    );
    // Bad values stop here, before signing in.
    if let Err(e) = resolve_inputs(&plan, &sources, None)
        && !matches!(e, twinup_engine::InputError::Missing(_))
    {
        return Err(e.into());
    }

    let connection = sign_in(&plan, &cloud, &args.plan.checkpoint, format).await?;
    if let Some(connection) = &connection {
        connection.discover(&mut plan, &mut sources).await?;
    }
    let interactive = !args.inputs.non_interactive && std::io::stdin().is_terminal();
    let inputs = resolve_with_prompts(&plan, &sources, interactive)?;
    // `for_each` steps become one step per item, as in `up`.
    let plan = twinup_engine::expand_plan(&plan, &inputs)?;
    validate_steps(&plan, &validation, &inputs)?;

    let registry = kinds_for(connection.as_ref(), &inputs, false).await?;
    let items = engine_preview(Steps::new(&plan, &registry, &inputs), &checkpoint).await;
    print_preview(format, &items);
    Ok(())
}

fn print_preview(format: OutputFormat, items: &[PreviewItem]) {
    let [creates, updates, same, unknown, replaces] = counts(items);
    if format == OutputFormat::Json {
        crate::output::print_json(json!({
            "status": "previewed",
            "steps": items,
            "summary": {"create": creates, "update": updates, "replace": replaces, "no_change": same, "unknown": unknown},
        }));
        return;
    }
    print!("{}", describe_preview(items));
}

/// How many steps would be created, updated, left unchanged, could not be read, replaced.
fn counts(items: &[PreviewItem]) -> [usize; 5] {
    let count = |f: &dyn Fn(&Change) -> bool| items.iter().filter(|i| f(&i.change)).count();
    [
        count(&|c| matches!(c, Change::Create | Change::AfterDependencies { .. })),
        count(&|c| matches!(c, Change::Update { .. })),
        count(&|c| matches!(c, Change::NoChange)),
        count(&|c| matches!(c, Change::Unknown { .. })),
        count(&|c| matches!(c, Change::Replace { .. })),
    ]
}

/// Appends one formatted line to a `String`.
macro_rules! line {
    ($out:ident, $($arg:tt)*) => {{
        $out.push_str(&format!($($arg)*));
        $out.push('\n');
    }};
}

/// What `up` would do, one line per step (`+` create, `~` update with the fields, `±` replace,
/// `=` no change) and a summary line: `preview`'s report, and what `up` shows before asking.
pub fn describe_preview(items: &[PreviewItem]) -> String {
    let [creates, updates, same, unknown, replaces] = counts(items);
    let mut out = String::new();
    let width = items.iter().map(|i| i.step.len()).max().unwrap_or(0);
    line!(out, "twinup up would:");
    for item in items {
        let step = &item.step;
        match &item.change {
            Change::Create => line!(out, "  + {step:<width$}  create ({})", item.kind),
            Change::AfterDependencies { waiting_on } if waiting_on.is_empty() => {
                line!(out, "  + {step:<width$}  create ({})", item.kind)
            }
            Change::AfterDependencies { waiting_on } => line!(
                out,
                "  + {step:<width$}  create or update, once {} exist(s) ({})",
                waiting_on.join(", "),
                item.kind
            ),
            Change::NoChange => line!(out, "  = {step:<width$}  no change"),
            Change::Update { changes } => {
                line!(out, "  ~ {step:<width$}  update ({})", item.kind);
                for c in changes {
                    line!(
                        out,
                        "        {}: {} -> {}",
                        c.field,
                        display_value(&c.live),
                        display_value(&c.wanted)
                    );
                }
            }
            Change::Unknown { error } => {
                line!(
                    out,
                    "  ? {step:<width$}  cannot read its live state: {error}"
                )
            }
            Change::Replace {
                from,
                to,
                deletes_old,
                deletes_first,
            } => {
                line!(out, "  ± {step:<width$}  replace ({})", item.kind);
                let order = crate::commands::up::replacement_order(&twinup_engine::Replacement {
                    from: from.clone(),
                    to: to.clone(),
                    deletes_old: *deletes_old,
                    deletes_first: *deletes_first,
                });
                line!(out, "        {from} -> {to} ({order})");
            }
        }
    }
    let replaced = if replaces > 0 {
        format!(" {replaces} to replace,")
    } else {
        String::new()
    };
    line!(
        out,
        "Summary: {creates} to create, {updates} to update,{replaced} {same} unchanged."
    );
    if unknown > 0 {
        line!(out, "{unknown} step(s) could not be read; see above.");
    }
    out
}
