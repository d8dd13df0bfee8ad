//! `twinup unlock`: releases the lock of a blob checkpoint left by a run that is gone. A
//! lease expires by itself within a minute of its run dying; `--force` breaks it at once, and
//! a run that still holds it stops at its next checkpoint write (nothing is overwritten).

use serde_json::json;

use crate::checkpoint_store::{blob_store_for, blob_url};
use crate::cli::{OutputFormat, UnlockArgs};
use crate::failure::Failure;

/// Runs `twinup unlock`.
pub async fn unlock(args: UnlockArgs, format: OutputFormat) -> Result<(), Failure> {
    let Some(url) = blob_url(&args.plan.checkpoint) else {
        let message = format!(
            "{} is a local checkpoint: its lock is held by the operating system and ends with the process holding it, so there is nothing to unlock",
            args.plan.checkpoint.display()
        );
        return report(format, false, None, &message);
    };
    let store = blob_store_for(url)?;
    let location = store.address().display();
    let info = store.lease_info().await?;
    if !info.leased {
        return report(
            format,
            false,
            None,
            &format!("checkpoint {location} is not locked"),
        );
    }
    let holder = info
        .holder
        .unwrap_or_else(|| "an unnamed holder".to_string());
    if !args.force {
        return Err(Failure::bad_input(format!(
            "checkpoint {location} is locked by {holder}. If that run is still going, let it finish; if it is gone, its lease expires within a minute, or break it now with `twinup unlock --force --checkpoint {location}`"
        )));
    }
    eprintln!(
        "warning: breaking the lease of {holder} on {location}. If that run is still going, it stops at its next checkpoint write without overwriting anything; rerun it afterwards."
    );
    let broken = store.break_lease().await?;
    let message = match &broken {
        Some(_) => format!("checkpoint {location} is unlocked"),
        None => format!("checkpoint {location} was released meanwhile; it is not locked"),
    };
    report(format, broken.is_some(), Some(holder), &message)
}

fn report(
    format: OutputFormat,
    broken: bool,
    holder: Option<String>,
    message: &str,
) -> Result<(), Failure> {
    match format {
        OutputFormat::Json => crate::output::print_json(
            json!({"broken": broken, "holder": holder, "message": message}),
        ),
        OutputFormat::Text => crate::outln!("{message}"),
    }
    Ok(())
}
