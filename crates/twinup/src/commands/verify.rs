//! `twinup verify`: compares what the checkpoint says was deployed with what exists now.
//! Exit 0 when everything is as deployed, 1 when something drifted (deleted, changed, or gone
//! with a dependency); `twinup up` repairs drift. Reads only.

use serde_json::json;
use twinup_engine::{Drift, StepCheck, Steps, display_value};

use crate::cli::{ConnectArgs, OutputFormat};
use crate::commands::deployed::Deployed;
use crate::failure::{EXIT_STEP_FAILED, Failure};

/// Runs `twinup verify`; returns the exit code (0 clean, 1 drift).
pub async fn verify(args: ConnectArgs, format: OutputFormat) -> Result<u8, Failure> {
    let deployed = Deployed::reading(&args, "; run `twinup up` first").await?;
    let (registry, _connection) = deployed.connect(format).await?;
    let steps = Steps::new(&deployed.plan, &registry, &deployed.inputs);
    let checks = twinup_engine::verify(steps, deployed.checkpoint()).await;
    let drifted = checks.iter().filter(|c| c.drift.is_some()).count();
    print_checks(format, &checks, drifted);
    Ok(if drifted > 0 { EXIT_STEP_FAILED } else { 0 })
}

/// One line (plus details) per drifted step, as text.
pub fn describe(check: &StepCheck) -> Vec<String> {
    let Some(drift) = &check.drift else {
        return Vec::new();
    };
    match drift {
        Drift::Deleted => vec![format!("{}: deleted outside twinup", check.step)],
        Drift::Changed { changes } => {
            let mut lines = vec![format!("{}: changed outside twinup", check.step)];
            for c in changes {
                lines.push(format!(
                    "    {}: now {}, deployed {}",
                    c.field,
                    display_value(&c.live),
                    display_value(&c.wanted)
                ));
            }
            lines
        }
        Drift::DependencyDrifted { dependencies } => vec![format!(
            "{}: depends on {}, which drifted",
            check.step,
            dependencies.join(", ")
        )],
        Drift::Unreadable { error } => {
            vec![format!(
                "{}: its live state cannot be read: {error}",
                check.step
            )]
        }
    }
}

fn print_checks(format: OutputFormat, checks: &[StepCheck], drifted: usize) {
    if format == OutputFormat::Json {
        crate::output::print_json(json!({
            "status": if drifted > 0 { "drifted" } else { "clean" },
            "drifted": drifted,
            "steps": checks,
        }));
        return;
    }
    let width = checks.iter().map(|c| c.step.len()).max().unwrap_or(0);
    for check in checks {
        match (&check.drift, &check.skipped) {
            (None, Some(why)) => crate::outln!("  - {:<width$}  {why}", check.step),
            (None, None) => crate::outln!("  ✓ {:<width$}  as deployed", check.step),
            (Some(_), _) => {
                for (i, line) in describe(check).iter().enumerate() {
                    if i == 0 {
                        crate::outln!("  ✗ {line}");
                    } else {
                        crate::outln!("  {line}");
                    }
                }
            }
        }
        if let Some(other) = &check.plan_names {
            crate::outln!(
                "      the plan now names another target, {other}; this checked the one the checkpoint records (`twinup up` would replace it)"
            );
        }
    }
    if checks.iter().all(|c| c.skipped.is_some()) {
        crate::outln!("Nothing is deployed from this checkpoint; `twinup up` deploys it.");
    } else if drifted > 0 {
        crate::outln!(
            "Drift found in {drifted} step(s). `twinup up` repairs it (it re-reads every step and runs the drifted ones again)."
        );
    } else {
        crate::outln!("No drift: everything the checkpoint records is as deployed.");
    }
}
