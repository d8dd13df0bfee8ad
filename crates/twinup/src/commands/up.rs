//! `twinup up`: validate everything, sign in, preflight, then run the plan to completion,
//! resuming whatever an earlier run left unfinished. Nothing is written, and no write request is
//! sent, until every input and every step has been checked.

use std::sync::Arc;

use twinup_engine::checkpoint::RunStatus;
use twinup_engine::{
    EventSink, ExpandedPlan, KindRegistry, ResolvedInputs, RunConfig, Session, Steps, expand_plan,
    preflight, validate_steps,
};

use crate::cli::{OutputFormat, UpArgs};
use crate::cloud_memory;
use crate::commands::confirm_deploy::confirm_deploy;
use crate::commands::connect::{cancel_on_ctrl_c, kinds_for, resume_command, subscription_input};
use crate::commands::prepare::{Opened, Resolved};
use crate::commands::unconfirmed::{blamed_inputs, keep_answers};
use crate::failure::{Failure, describe_step_failures, step_failures_json};
use crate::output::{print_success, progress_sink};

/// Runs `twinup up`.
pub async fn up(args: UpArgs, format: OutputFormat) -> Result<(), Failure> {
    let mut opened = Opened::locking(&args.plan, &args.cloud, args.inputs.reconfigure).await?;
    crate::commands::drift::refuse_unfinished_down(&opened.held, &args.plan.checkpoint)?;
    let Resolved {
        inputs,
        mut connection,
        prompted,
        interactive,
    } = opened.resolve(&args.inputs, format).await?;
    if let Some(connection) = &mut connection {
        connection.wait_ready = !args.no_wait_ready;
    }
    let Opened {
        plan,
        schemas,
        held: mut session,
        cloud,
        ..
    } = opened;
    // `for_each` steps become one step per item from here on (refresh, preflight and the run
    // all see the items).
    let plan = expand_plan(&plan, &inputs)?;
    let rerun = resume_command("up", &args.plan);
    if prompted && let Err(problems) = validate_steps(&plan, &schemas, &inputs) {
        cloud_memory::remember(&mut session, &cloud);
        let kept = (&plan, &inputs, interactive, rerun.as_str());
        return Err(keep_answers(&mut session, kept, problems.into()).await);
    }

    let registry = kinds_for(connection.as_ref(), subscription_input(&inputs), true).await?;
    // Ctrl-C from here on (prompts are over): during the read-only checks it stops at once,
    // during the run it lets running steps reach a safe point.
    let cancel = cancel_on_ctrl_c(
        format,
        "Interrupted: letting running steps reach a safe point, then saving the checkpoint...",
    );
    session.fix_deployment_id(&plan, &inputs);
    let events: Arc<dyn EventSink> = progress_sink(format);
    let checks = async {
        if !args.no_refresh {
            let steps = Steps::new(&plan, &registry, &inputs);
            let drift = twinup_engine::refresh(&mut session, steps).await;
            crate::commands::drift::report_refresh(format, &drift);
        }
        let asked = run_preflight(&plan, &registry, &inputs, &session, events.clone()).await?;
        let confirmed = confirm_changes(
            &plan,
            &registry,
            &inputs,
            &session,
            &asked,
            &args,
            format,
            interactive,
        )?;
        // Show, then do: in a terminal, the values and the preview, then "Deploy? [Y/n]".
        if interactive && format == OutputFormat::Text && !args.yes && !confirmed {
            confirm_deploy(&plan, &registry, &inputs, &session).await?;
        }
        Ok::<(), Failure>(())
    };
    let checked = tokio::select! {
        checked = checks => checked,
        () = cancel.cancelled() => {
            return Err(Failure::interrupted(
                "interrupted before any change was made; rerun `twinup up` to start again",
            ));
        }
    };
    if let Err(failure) = checked {
        // A preflight problem names its steps: say which inputs to change, keep the answers.
        if failure.details.contains_key("failed_steps") {
            cloud_memory::remember(&mut session, &cloud);
            let kept = (&plan, &inputs, interactive, rerun.as_str());
            return Err(keep_answers(&mut session, kept, failure).await);
        }
        return Err(failure);
    }
    cloud_memory::remember(&mut session, &cloud);
    let config = RunConfig {
        parallelism: usize::from(args.parallelism),
        cancel,
        events,
        ..RunConfig::default()
    };
    let steps = Steps::new(&plan, &registry, &inputs);
    let report = twinup_engine::run(&mut session, steps, &config).await?;
    let resume_hint = format!(
        "rerun `{}` to resume (the cloud and the inputs are remembered in the checkpoint)",
        resume_command("up", &args.plan)
    );
    match report.status {
        RunStatus::Succeeded => {
            if let Some(path) = &args.outputs_file {
                write_outputs_file(path, &report.outputs)?;
            }
            let shown = twinup_engine::mask_outputs(&report.outputs, &report.secret_outputs);
            print_success(format, report.nothing_to_do, &shown);
            Ok(())
        }
        RunStatus::Interrupted => Err(Failure::interrupted(format!(
            "interrupted; the checkpoint is saved; {resume_hint}"
        ))),
        RunStatus::Failed | RunStatus::Running => {
            let mut message = describe_step_failures(" failed", &report.failures, "");
            let rejected: Vec<_> = report
                .failures
                .iter()
                .filter(|(_, e)| e.kind == twinup_engine::StepErrorKind::Rejected)
                .cloned()
                .collect();
            let failed_steps = step_failures_json(&report.failures);
            let blamed = blamed_inputs(&plan, &inputs, &failed_steps_of(&rejected));
            if blamed.is_empty() && !rejected.is_empty() {
                // Refused for what no input holds (a path made from outputs, something in the
                // way): a plain rerun is refused again until that is fixed.
                let names: Vec<String> = rejected.iter().map(|(s, _)| format!("`{s}`")).collect();
                message.push_str(&format!(
                    "rerunning as it is would be refused again: fix what the refusal of {} names, then {resume_hint}",
                    names.join(", ")
                ));
            } else if blamed.is_empty() {
                message.push_str(&resume_hint);
            } else {
                // A rerun as it is fails the same way: say which input to change first.
                message.push_str("a rerun alone cannot fix this; change the input first:");
            }
            let failure = Failure::step_failed(message)
                .with_detail("failed_steps", failed_steps)
                .with_detail("resume_command", resume_command("up", &args.plan).into());
            if blamed.is_empty() {
                return Err(failure);
            }
            let failure =
                keep_answers(&mut session, (&plan, &inputs, false, &rerun), failure).await;
            Err(Failure {
                message: format!("{}\nthen {resume_hint}", failure.message),
                ..failure
            })
        }
    }
}

async fn run_preflight(
    plan: &ExpandedPlan,
    registry: &KindRegistry,
    inputs: &ResolvedInputs,
    session: &Session,
    events: Arc<dyn EventSink>,
) -> Result<Vec<(String, String)>, Failure> {
    match preflight(plan, registry, inputs, session.checkpoint(), events).await {
        Ok(asked) => Ok(asked),
        Err(failures) => {
            let message = format!(
                "preflight found problems; nothing was created:\n{}",
                describe_step_failures("", &failures, "  ")
            );
            Err(Failure::bad_input(message.trim_end())
                .with_detail("failed_steps", step_failures_json(&failures)))
        }
    }
}

/// Lists the replacements the run would make (an identifying field of a created resource
/// changed) and the changes preflight asked to confirm (`asked`: step id, what), and asks for
/// confirmation: `--yes`, or a yes at a terminal; otherwise exit 2. True when a person was
/// asked (and said yes).
#[allow(clippy::too_many_arguments)]
fn confirm_changes(
    plan: &twinup_engine::ExpandedPlan,
    registry: &KindRegistry,
    inputs: &ResolvedInputs,
    session: &Session,
    asked: &[(String, String)],
    args: &UpArgs,
    format: OutputFormat,
    interactive: bool,
) -> Result<bool, Failure> {
    let steps = Steps::new(plan, registry, inputs);
    let replacements = twinup_engine::replacements(steps, session.checkpoint());
    if replacements.is_empty() && asked.is_empty() {
        return Ok(false);
    }
    let mut problems = Vec::new();
    let mut warnings = String::new();
    for (step, what) in asked {
        warnings.push_str(&format!("\n  ! {step}: {what}"));
    }
    if !warnings.is_empty() {
        if format == OutputFormat::Text {
            eprintln!("Preflight: these changes need confirmation:{warnings}");
        }
        problems.push(format!(
            "this run needs confirmation:{warnings}\nnothing was changed; pass --yes to confirm, or change the inputs back"
        ));
    }
    if !replacements.is_empty() {
        problems.push(replacement_list(&replacements, format));
    }
    if args.yes {
        return Ok(false);
    }
    if !interactive || format == OutputFormat::Json {
        return Err(Failure::bad_input(problems.join("\n")));
    }
    let question = if replacements.is_empty() {
        "Go on with these changes?"
    } else {
        "Replace these?"
    };
    let answer = crate::prompt::confirm(question, false, "interrupted; nothing was changed")?;
    if answer {
        Ok(true)
    } else {
        Err(Failure::bad_input("not confirmed; nothing was changed"))
    }
}

/// Shows the replacements (text output) and returns the error a run that may not ask gives.
fn replacement_list(
    replacements: &[(String, twinup_engine::Replacement)],
    format: OutputFormat,
) -> String {
    let mut list = String::new();
    for (step, r) in replacements {
        list.push_str(&format!(
            "\n  ± {step}: {} -> {} ({})",
            r.from,
            r.to,
            replacement_order(r)
        ));
    }
    if format == OutputFormat::Text {
        eprintln!("Preflight: identifying fields changed, so these are replacements:{list}");
    }
    format!(
        "this run replaces what the checkpoint records:{list}\nnothing was changed; pass --yes to confirm the replacement, or put the old values back"
    )
}

/// What a replacement does, in order, for a person.
pub fn replacement_order(r: &twinup_engine::Replacement) -> &'static str {
    match (r.deletes_first, r.deletes_old) {
        (true, _) => {
            "deletes the old one first, everything in it included, since the name cannot exist twice; then creates the new one"
        }
        (false, true) => {
            "creates the new one, then deletes the old one, which this deployment created"
        }
        (false, false) => {
            "creates the new one; the old one is kept: this deployment did not create it"
        }
    }
}

fn write_outputs_file(
    path: &std::path::Path,
    outputs: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), Failure> {
    let mut text = serde_json::to_string_pretty(outputs).unwrap_or_default();
    text.push('\n');
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(dir);
    }
    write_private(path, text.as_bytes()).map_err(|e| {
        Failure::step_failed(format!(
            "the deployment succeeded but --outputs-file {} could not be written: {e}",
            path.display()
        ))
    })
}

/// Writes `bytes` to `path` readable by its owner only (0600): the outputs file is the one
/// place secret outputs are written.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        // An existing file keeps its mode on open: narrow it first.
        if path.exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// A failure holding only `failures` as its failed steps (what `blamed_inputs` reads).
fn failed_steps_of(failures: &[(String, twinup_engine::StepError)]) -> Failure {
    Failure::step_failed("").with_detail("failed_steps", step_failures_json(failures))
}
