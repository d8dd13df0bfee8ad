//! `twinup preview`: what `up` would do, step by step, judged from the live state of every
//! step's resource (`create`, `update` with the fields that differ, `no change`), like
//! `terraform plan` or `az deployment what-if`. Reads only: nothing is written, not even the
//! checkpoint.

use serde_json::json;
use twinup_engine::{
    Change, PreviewItem, Steps, display_value, preview as engine_preview, validate_steps,
};

use crate::cli::{OutputFormat, PreviewArgs};
use crate::commands::connect::{kinds_for, subscription_input};
use crate::commands::prepare::{Opened, Resolved};
use crate::failure::Failure;

/// Runs `twinup preview`.
pub async fn preview(args: PreviewArgs, format: OutputFormat) -> Result<(), Failure> {
    let mut opened = Opened::reading(&args.plan, &args.cloud, args.inputs.reconfigure).await?;
    let Resolved {
        inputs,
        connection,
        prompted,
        ..
    } = opened.resolve(&args.inputs, format).await?;
    // `for_each` steps become one step per item, as in `up`.
    let plan = twinup_engine::expand_plan(&opened.plan, &inputs)?;
    // Without discovery or prompts `resolve` checked the steps with these very inputs.
    if prompted {
        validate_steps(&plan, &opened.schemas, &inputs)?;
    }

    let registry = kinds_for(connection.as_ref(), subscription_input(&inputs), false).await?;
    let items = engine_preview(Steps::new(&plan, &registry, &inputs), opened.checkpoint()).await;
    print_preview(format, &items);
    Ok(())
}

fn print_preview(format: OutputFormat, items: &[PreviewItem]) {
    let [creates, updates, same, unknown, replaces, off, resumes] = counts(items);
    if format == OutputFormat::Json {
        crate::output::print_json(json!({
            "status": "previewed",
            "steps": items,
            "summary": {"create": creates, "update": updates, "replace": replaces, "no_change": same, "unknown": unknown, "turned_off": off, "resume": resumes},
        }));
        return;
    }
    crate::out!("{}", describe_preview(items));
}

/// How many steps would be created, updated, left unchanged, could not be read, replaced,
/// make nothing (turned off), resume an operation in flight.
fn counts(items: &[PreviewItem]) -> [usize; 7] {
    let count = |f: &dyn Fn(&Change) -> bool| items.iter().filter(|i| f(&i.change)).count();
    [
        count(&|c| matches!(c, Change::Create | Change::AfterDependencies { .. })),
        count(&|c| matches!(c, Change::Update { .. })),
        count(&|c| matches!(c, Change::NoChange)),
        count(&|c| matches!(c, Change::Unknown { .. })),
        count(&|c| matches!(c, Change::Replace { .. })),
        count(&|c| matches!(c, Change::TurnedOff { .. })),
        count(&|c| matches!(c, Change::Resume)),
    ]
}

/// Appends one formatted line to a `String`.
macro_rules! line {
    ($out:ident, $($arg:tt)*) => {{
        $out.push_str(&format!($($arg)*));
        $out.push('\n');
    }};
}

/// "a exists", "a and b exist", "a, b and c exist": the steps a step waits for, in words.
fn exist(steps: &[String]) -> String {
    match steps {
        [one] => format!("{one} exists"),
        [rest @ .., last] => format!("{} and {last} exist", rest.join(", ")),
        [] => String::new(),
    }
}

/// What `up` would do, one line per step (`+` create, `~` update with the fields, `±` replace,
/// `=` no change, `-` turned off, `~` resume) and a summary line: `preview`'s report, and what `up` shows before asking.
pub fn describe_preview(items: &[PreviewItem]) -> String {
    let [creates, updates, same, unknown, replaces, off, resumes] = counts(items);
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
                "  + {step:<width$}  create or update once {} ({})",
                exist(waiting_on),
                item.kind
            ),
            Change::NoChange => line!(out, "  = {step:<width$}  no change"),
            Change::TurnedOff { reason } => {
                line!(out, "  - {step:<width$}  makes nothing: {reason}")
            }
            Change::Resume => line!(
                out,
                "  ~ {step:<width$}  resume: an earlier run's operation is in flight; up waits for it ({})",
                item.kind
            ),
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
    let resumed = if resumes > 0 {
        format!(" {resumes} to resume,")
    } else {
        String::new()
    };
    let turned_off = if off > 0 {
        format!(", {off} turned off")
    } else {
        String::new()
    };
    line!(
        out,
        "Summary:{resumed} {creates} to create, {updates} to update,{replaced} {same} unchanged{turned_off}."
    );
    if unknown > 0 {
        line!(out, "{unknown} step(s) could not be read; see above.");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::exist;

    #[test]
    fn the_steps_waited_for_read_as_words() {
        let steps = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(exist(&steps(&["instance"])), "instance exists");
        assert_eq!(
            exist(&steps(&["instance", "data_role"])),
            "instance and data_role exist"
        );
        assert_eq!(exist(&steps(&["a", "b", "c"])), "a, b and c exist");
    }
}
