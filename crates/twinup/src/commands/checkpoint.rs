//! `twinup checkpoint push|pull|restore`: moves a checkpoint between a local file and a blob
//! (both locked while copying; a valid checkpoint only; an existing destination is replaced
//! only with `--force`, and kept), or makes a kept blob version current again.

use std::path::Path;
use std::sync::Arc;

use serde_json::json;
use twinup_engine::checkpoint::{CheckpointStore, FileStore, journal_path};

use crate::checkpoint_store::blob_store_for;
use crate::cli::{CheckpointCommand, OutputFormat, RestoreArgs, TransferArgs};
use crate::failure::Failure;

/// Runs a `twinup checkpoint` subcommand.
pub async fn run(command: CheckpointCommand, format: OutputFormat) -> Result<(), Failure> {
    match command {
        CheckpointCommand::Push(args) => {
            let blob: Arc<dyn CheckpointStore> = Arc::new(blob_store_for(&args.url)?);
            let local: Arc<dyn CheckpointStore> = Arc::new(FileStore::new(&args.local));
            copy(local, blob, &args, format).await
        }
        CheckpointCommand::Pull(args) => {
            let blob: Arc<dyn CheckpointStore> = Arc::new(blob_store_for(&args.url)?);
            let local: Arc<dyn CheckpointStore> = Arc::new(FileStore::new(&args.local));
            if args.force && args.local.is_file() {
                back_up(&args.local)?;
            }
            copy(blob, local, &args, format).await
        }
        CheckpointCommand::Restore(args) => restore(args, format).await,
    }
}

async fn copy(
    from: Arc<dyn CheckpointStore>,
    to: Arc<dyn CheckpointStore>,
    args: &TransferArgs,
    format: OutputFormat,
) -> Result<(), Failure> {
    let _from_lock = from.lock().await?;
    let _to_lock = to.lock().await?;
    let Some(checkpoint) = from.load().await? else {
        return Err(Failure::bad_input(format!(
            "there is no checkpoint at {} to copy",
            from.location()
        )));
    };
    if to.load().await?.is_some() && !args.force {
        return Err(Failure::bad_input(format!(
            "{} already holds a checkpoint; nothing was copied. Pass --force to replace it (the replaced one is kept)",
            to.location()
        )));
    }
    to.save(&checkpoint).await?;
    let steps = checkpoint.steps.len();
    match format {
        OutputFormat::Json => crate::output::print_json(
            json!({"from": from.location(), "to": to.location(), "plan": checkpoint.plan.name, "steps": steps}),
        ),
        OutputFormat::Text => crate::outln!(
            "Copied the checkpoint of plan `{}` ({steps} steps) from {} to {}.\nUse it with: --checkpoint {}",
            checkpoint.plan.name,
            from.location(),
            to.location(),
            to.location()
        ),
    }
    Ok(())
}

/// Keeps a local checkpoint about to be replaced as `PATH.bak` (with its journal, when a
/// run left one, as `PATH.bak.journal`: the copy loads as the original did).
fn back_up(path: &Path) -> Result<(), Failure> {
    let real = FileStore::new(path).canonical_path();
    let mut backup = path.as_os_str().to_owned();
    backup.push(".bak");
    let failed = |e: std::io::Error| {
        Failure::bad_input(format!(
            "cannot keep a copy of {} before replacing it: {e}; nothing was changed",
            path.display()
        ))
    };
    std::fs::copy(&real, &backup).map_err(failed)?;
    let journal = journal_path(&real);
    let backup_journal = journal_path(&FileStore::new(&backup).canonical_path());
    if journal.exists() {
        std::fs::copy(&journal, &backup_journal).map_err(failed)?;
    } else if backup_journal.exists() {
        // A journal left by an older backup would not match this copy; loading would ignore
        // it, but it must not sit there pretending.
        std::fs::remove_file(&backup_journal).map_err(failed)?;
    }
    Ok(())
}

async fn restore(args: RestoreArgs, format: OutputFormat) -> Result<(), Failure> {
    let store = blob_store_for(&args.checkpoint)?;
    let _lock = store.lock().await?;
    // Loading first makes the write conditional on the version being replaced.
    store.load().await?;
    let checkpoint = store.load_snapshot(&args.snapshot).await?;
    store.save(&checkpoint).await?;
    let location = store.location();
    match format {
        OutputFormat::Json => {
            crate::output::print_json(json!({"checkpoint": location, "restored": args.snapshot}))
        }
        OutputFormat::Text => crate::outln!(
            "Restored snapshot {} as the current checkpoint of {location}; the version it replaced is kept (see `twinup status --history`).",
            args.snapshot
        ),
    }
    Ok(())
}
