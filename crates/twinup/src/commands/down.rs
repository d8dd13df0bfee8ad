//! `twinup down`: deletes what the checkpoint's steps created, dependents first, waiting on
//! long-running deletes, asking first unless `--yes`. Resumable like `up`: an interrupted
//! `down` continues the deletes in flight when run again. Whatever existed before twinup (a
//! resource group it found, say) is kept.

use std::io::IsTerminal;

use serde_json::json;
use twinup_engine::{Disposal, RunConfig, Steps, disposals, leftovers};

use crate::cli::{DownArgs, OutputFormat};
use crate::commands::connect::{cancel_on_ctrl_c, resume_command};
use crate::commands::deployed::Deployed;
use crate::failure::{Failure, describe_step_failures, step_failures_json};
use crate::output::progress_sink;

/// Runs `twinup down`.
pub async fn down(args: DownArgs, format: OutputFormat) -> Result<(), Failure> {
    let target = &args.target;
    let mut deployed = Deployed::locking(target, ", so there is nothing to delete").await?;
    let (plan, checkpoint) = (&deployed.plan, deployed.checkpoint());
    let planned = disposals(plan, checkpoint, &deployed.schemas);
    let to_delete: Vec<&String> = planned
        .iter()
        .filter(|(_, d)| *d == Disposal::Delete)
        .map(|(id, _)| id)
        .collect();
    let kept: Vec<(&String, &String)> = planned
        .iter()
        .filter_map(|(id, d)| match d {
            Disposal::Keep { reason } => Some((id, reason)),
            _ => None,
        })
        .collect();

    // Targets replacements left behind (a turned-off app registration not yet deleted, say)
    // go first; they are this deployment's too.
    let replaced = leftovers(plan, checkpoint);

    // The list is shown whenever the user is asked to confirm it, even with --quiet.
    if crate::output::chatty(format) || (format == OutputFormat::Text && !args.yes) {
        if to_delete.is_empty() && replaced.is_empty() {
            eprintln!("Nothing to delete: the checkpoint records nothing twinup created.");
        } else {
            eprintln!("twinup down will delete, in this order:");
            for (id, old) in &replaced {
                let what = describe_target(checkpoint, id, Some(old));
                eprintln!("  - {id}: the target it replaced ({what})");
            }
            for id in &to_delete {
                eprintln!("  - {id} ({})", describe_target(checkpoint, id, None));
            }
        }
        for (id, reason) in &kept {
            eprintln!("  = {id}: {reason}");
        }
    }
    let deletes_something = !to_delete.is_empty() || !replaced.is_empty();
    if deletes_something && !args.yes {
        confirm(format)?;
    }

    let (registry, _connection) = deployed.connect(format).await?;
    let cancel = cancel_on_ctrl_c(
        format,
        "Interrupted: saving the checkpoint; run `twinup down` again to finish...",
    );
    let config = RunConfig {
        parallelism: usize::from(args.parallelism),
        cancel,
        events: progress_sink(format),
        ..RunConfig::default()
    };
    let steps = Steps::new(&deployed.plan, &registry, &deployed.inputs);
    let report = twinup_engine::destroy(&mut deployed.held, steps, &config).await?;
    let hint = format!(
        "run `{}` again to finish",
        resume_command("down", &target.plan)
    );
    if report.interrupted {
        return Err(Failure::interrupted(format!(
            "interrupted; the checkpoint is saved; {hint}"
        )));
    }
    if !report.failures.is_empty() {
        let mut message = describe_step_failures(" was not deleted", &report.failures, "");
        message.push_str(&hint);
        return Err(Failure::step_failed(message)
            .with_detail("failed_steps", step_failures_json(&report.failures)));
    }
    match format {
        OutputFormat::Json => crate::output::print_json(json!({
            "status": "deleted",
            "deleted": report.deleted,
            "retired": report.retired,
            "kept": report.kept.iter().map(|(s, why)| json!({"step": s, "reason": why})).collect::<Vec<_>>(),
        })),
        OutputFormat::Text => {
            let retired = match report.retired.len() {
                0 => String::new(),
                1 => ", 1 replaced target deleted".to_string(),
                n => format!(", {n} replaced targets deleted"),
            };
            crate::outln!(
                "Teardown completed: {} deleted, {} kept{retired}.",
                report.deleted.len(),
                report.kept.len()
            );
            crate::outln!("`twinup up` with the same checkpoint deploys everything again.");
        }
    }
    Ok(())
}

/// A short description of what a step made, from its outputs (an id or path when it has
/// one): its record's, or `replaced`, the record of a target it replaced.
fn describe_target(
    checkpoint: &twinup_engine::checkpoint::Checkpoint,
    id: &str,
    replaced: Option<&twinup_engine::Outputs>,
) -> String {
    let Some(record) = checkpoint.steps.get(id) else {
        return String::new();
    };
    let outputs = replaced.or(record.outputs.as_ref());
    let pick = |key: &str| {
        outputs
            .and_then(|o| o.get(key))
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let what = pick("id")
        .or_else(|| pick("path"))
        .or_else(|| pick("client_id").map(|c| format!("app {c}")))
        .unwrap_or_default();
    if what.is_empty() {
        record.kind.clone()
    } else {
        format!("{}: {what}", record.kind)
    }
}

/// Asks before deleting; without a terminal, refuses unless `--yes` was given.
fn confirm(format: OutputFormat) -> Result<(), Failure> {
    if format == OutputFormat::Json || !std::io::stdin().is_terminal() {
        return Err(Failure::bad_input(
            "`twinup down` deletes resources and cannot ask for confirmation here; pass --yes to confirm",
        ));
    }
    let answer = crate::prompt::confirm(
        "Delete these resources?",
        false,
        "interrupted; nothing was deleted",
    )?;
    if answer {
        Ok(())
    } else {
        Err(Failure::bad_input("not confirmed; nothing was deleted"))
    }
}
