//! `twinup status`: what the checkpoint says: every step's state and timing, the outputs,
//! the last error, and the command that resumes; with `--history`, the kept versions of a
//! blob checkpoint.

use serde_json::json;
use twinup_engine::checkpoint::{RunStatus, StepState};
use twinup_engine::{display_value, load_for_plan};

use crate::checkpoint_store::{blob_store_for, blob_url, checkpoint_store_for};
use crate::cli::{OutputFormat, StatusArgs};
use crate::cloud_memory;
use crate::commands::connect::resume_command;
use crate::failure::Failure;
use crate::plan_source::load_plan;

/// Runs `twinup status`.
pub async fn status(args: StatusArgs, format: OutputFormat) -> Result<(), Failure> {
    if args.history {
        return history(&args, format).await;
    }
    let args = args.plan;
    let plan = load_plan(args.plan.as_deref())?;
    let store = checkpoint_store_for(&args.checkpoint)?;
    let location = store.location();
    let Some(checkpoint) = load_for_plan(store.as_ref(), &plan).await? else {
        return Err(Failure::bad_input(format!(
            "no checkpoint at {location}: nothing has run yet; start with `twinup up`"
        )));
    };
    // A run in progress holds the checkpoint's lock (local files; a blob's lease is not probed).
    let live = if blob_url(&args.checkpoint).is_none() {
        twinup_engine::checkpoint::LockHolder::current_holder(&args.checkpoint)
    } else {
        None
    };
    if format == OutputFormat::Json {
        crate::output::print_json(json!({
            "plan": checkpoint.plan.name,
            "deployment_id": checkpoint.deployment_id,
            "legacy_names": twinup_engine::deployment::is_legacy(&checkpoint),
            "last_run": checkpoint.last_run,
            "running_now": live.is_some(),
            "holder": live,
            "cloud": cloud_memory::recorded(&checkpoint).map(|c| cloud_memory::record(&c)),
            "steps": checkpoint.steps.iter().map(|(id, r)| json!({
                "id": id, "kind": r.kind, "state": r.state, "attempts": r.attempts,
                "started_at": r.started_at, "finished_at": r.finished_at,
                "in_flight": r.resume_token.is_some(), "error": r.error,
                "deleting": twinup_engine::delete_in_progress(r),
                "created": r.outputs.as_ref().and_then(twinup_engine::created_by_step),
                "found": r.outputs.as_ref().and_then(twinup_engine::found_reason),
                "turned_off": r.outputs.as_ref().and_then(twinup_engine::turned_off_reason),
            })).collect::<Vec<_>>(),
            "outputs": checkpoint.outputs,
            "secret_outputs": plan.secret_outputs,
            "unconfirmed_inputs": checkpoint.unconfirmed_inputs,
        }));
        return Ok(());
    }
    crate::outln!("Checkpoint {location} (plan `{}`)", checkpoint.plan.name);
    match &checkpoint.deployment_id {
        Some(id) => crate::outln!("Deployment: {id}"),
        None if twinup_engine::deployment::is_legacy(&checkpoint) => crate::outln!(
            "Deployment: no id (written by an older twinup; names are derived as before, without one)"
        ),
        None => {}
    }
    if let Some(cloud) = cloud_memory::recorded(&checkpoint) {
        crate::outln!("Cloud: {}", cloud_memory::describe(&cloud));
    }
    if let Some(run) = &checkpoint.last_run {
        let status = match (run.status, run.finished_at, &live) {
            (RunStatus::Running, None, Some(holder)) => {
                let done = checkpoint
                    .steps
                    .values()
                    .filter(|r| r.state == StepState::Succeeded)
                    .count();
                format!(
                    "running now ({holder}); {done} of {} steps done",
                    checkpoint.steps.len()
                )
            }
            (RunStatus::Running, None, None) => {
                "stopped unexpectedly (the process ended mid-run)".to_string()
            }
            (s, _, _) => s.to_string(),
        };
        crate::outln!(
            "Last run: started {}, {status}",
            run.started_at.format("%Y-%m-%d %H:%M:%S UTC")
        );
    }
    let kept = &checkpoint.unconfirmed_inputs;
    if !kept.is_empty() {
        let names: Vec<&str> = kept.values.keys().map(String::as_str).collect();
        crate::outln!(
            "Answers kept from a run that stopped before changing anything (unconfirmed): {}",
            names.join(", ")
        );
        if !kept.ask_again.is_empty() {
            crate::outln!(
                "  the next `twinup up` asks again for: {}",
                kept.ask_again.join(", ")
            );
        }
    }
    let width = checkpoint.steps.keys().map(|k| k.len()).max().unwrap_or(0);
    let mut last_error = None;
    let mut unfinished = false;
    for (id, record) in &checkpoint.steps {
        let timing = match (record.started_at, record.finished_at) {
            (Some(s), Some(f)) => format!("{:.1}s", (f - s).num_milliseconds() as f64 / 1000.0),
            (Some(_), None) => "in flight".to_string(),
            _ => String::new(),
        };
        let deleting = twinup_engine::delete_in_progress(record);
        let extra = if deleting {
            "  (a `twinup down` was deleting it; run `twinup down` to finish)"
        } else if record.resume_token.is_some() {
            "  (operation in flight; resumes on rerun)"
        } else {
            ""
        };
        let turned_off = record
            .outputs
            .as_ref()
            .and_then(twinup_engine::turned_off_reason);
        let kept = match (record.outputs.as_ref(), turned_off) {
            (_, Some(why)) => format!("  (made nothing: {why})"),
            (Some(o), None) if twinup_engine::created_by_step(o) == Some(false) => format!(
                "  (kept by `twinup down`: {})",
                twinup_engine::found_reason(o).unwrap_or("it existed before twinup")
            ),
            _ => String::new(),
        };
        crate::outln!(
            "  {id:<width$}  {:<10} {timing}{extra}{kept}",
            record.state.to_string()
        );
        if record
            .outputs
            .as_ref()
            .is_some_and(|o| o.contains_key(twinup_engine::REPLACED_OUTPUT))
        {
            crate::outln!(
                "  {:<width$}  the target it replaced is still to be deleted; the next `twinup up` or `twinup down` deletes it",
                ""
            );
        }
        if record.state != StepState::Succeeded {
            unfinished = true;
        }
        if let Some(e) = &record.error {
            last_error = Some((id.clone(), e.clone()));
        }
    }
    if !checkpoint.outputs.is_empty() {
        crate::outln!("Outputs:");
        for (name, value) in &checkpoint.outputs {
            crate::outln!("  {name}: {}", display_value(value));
        }
        for name in &plan.secret_outputs {
            crate::outln!(
                "  {name}: {} (secret: not saved; `twinup up --outputs-file FILE` writes it)",
                twinup_engine::SECRET_MASK
            );
        }
    }
    if let Some((step, error)) = last_error {
        crate::outln!("Last error (step `{step}`): {}", error.message);
        if let Some(help) = &error.help {
            crate::outln!("  help: {help}");
        }
    }
    if live.is_some() {
        // Nothing to resume: the run is still going.
    } else if !twinup_engine::unfinished_deletes(&checkpoint).is_empty() {
        crate::outln!(
            "Finish the teardown with: {}",
            resume_command("down", &args)
        );
    } else if unfinished {
        crate::outln!("Resume with: {}", resume_command("up", &args));
    }
    Ok(())
}

/// `twinup status --history`: the current blob checkpoint and its snapshots, newest first.
async fn history(args: &StatusArgs, format: OutputFormat) -> Result<(), Failure> {
    let Some(url) = blob_url(&args.plan.checkpoint) else {
        return Err(Failure::bad_input(format!(
            "--history lists the kept versions of a blob checkpoint; {} is a local file (keep copies of it yourself, or move it to a blob with `twinup checkpoint push URL`)",
            args.plan.checkpoint.display()
        )));
    };
    let store = blob_store_for(url)?;
    let location = store.address().display();
    let versions = store.history().await?;
    if format == OutputFormat::Json {
        crate::output::print_json(json!({
            "checkpoint": location,
            "versions": versions.iter().map(|v| json!({
                "snapshot": v.snapshot, "modified": v.modified, "size": v.size, "note": v.note,
            })).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    if versions.is_empty() {
        crate::outln!("No checkpoint at {location} yet: nothing has run.");
        return Ok(());
    }
    crate::outln!("Versions of {location}, newest first:");
    for v in &versions {
        let when = v
            .modified
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default();
        let size = v.size.map(|s| format!("{s} bytes")).unwrap_or_default();
        match &v.snapshot {
            None => crate::outln!("  current                       {when}  {size}"),
            Some(id) => {
                crate::outln!("  {id:<28}  {when}  {size}");
                if let Some(note) = &v.note {
                    crate::outln!("      {note}");
                }
            }
        }
    }
    if versions.iter().any(|v| v.snapshot.is_some()) {
        crate::outln!(
            "Restore one with: twinup checkpoint restore SNAPSHOT --checkpoint {location}"
        );
    }
    Ok(())
}
