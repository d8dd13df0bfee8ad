//! `twinup up`: resolve inputs, validate, then run the plan to completion, resuming whatever an
//! earlier run left unfinished.

use std::io::IsTerminal;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use twinup_engine::checkpoint::{FileStore, RunStatus};
use twinup_engine::{
    EventSink, InputSources, Prompter, RunConfig, Session, resolve_inputs, validate_steps,
};

use crate::answers::read_answers;
use crate::cli::{OutputFormat, UpArgs};
use crate::failure::Failure;
use crate::output::{JsonEvents, TextProgress, print_success};
use crate::plan_source::load_plan;
use crate::prompt::TerminalPrompter;
use crate::registry::build_registry;

/// Runs `twinup up`.
pub async fn up(args: UpArgs, format: OutputFormat) -> Result<(), Failure> {
    let plan = load_plan(args.plan.plan.as_deref())?;
    let registry = build_registry(&args.cloud)?;
    plan.validate(&registry)?;

    let answers = match &args.inputs.answers {
        Some(path) => read_answers(path, &plan)?,
        None => Default::default(),
    };
    let store = Arc::new(FileStore::new(&args.plan.checkpoint));
    let mut session = Session::open(store, &plan).await?;

    let sources = InputSources {
        set: args.inputs.set.clone(),
        env: std::env::vars()
            .filter(|(k, _)| k.starts_with("TWINUP_"))
            .collect(),
        answers,
        saved: session.saved_inputs(),
        discovered: Default::default(),
        reconfigure: args.inputs.reconfigure,
    };
    let interactive = !args.inputs.non_interactive && std::io::stdin().is_terminal();
    let mut prompter = TerminalPrompter::new();
    let prompter: Option<&mut dyn Prompter> = if interactive {
        Some(&mut prompter)
    } else {
        None
    };
    let inputs = resolve_inputs(&plan, &sources, prompter)?;
    validate_steps(&plan, &registry, &inputs)?;

    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!(
                "Interrupted: letting running steps reach a safe point, then saving the checkpoint..."
            );
            on_signal.cancel();
        }
    });
    let config = RunConfig {
        parallelism: usize::from(args.parallelism),
        cancel,
        ..RunConfig::default()
    };
    let events: Arc<dyn EventSink> = match format {
        OutputFormat::Text => Arc::new(TextProgress),
        OutputFormat::Json => Arc::new(JsonEvents),
    };
    let report =
        twinup_engine::run(&mut session, &plan, &registry, &inputs, events, &config).await?;
    let resume_hint = format!(
        "rerun `twinup up` with the same --checkpoint ({}) to resume",
        session.location()
    );
    match report.status {
        RunStatus::Succeeded => {
            if let Some(path) = &args.outputs_file {
                write_outputs_file(path, &report.outputs)?;
            }
            print_success(format, report.nothing_to_do, &report.outputs);
            Ok(())
        }
        RunStatus::Interrupted => Err(Failure::interrupted(format!(
            "interrupted; the checkpoint is saved; {resume_hint}"
        ))),
        RunStatus::Failed | RunStatus::Running => {
            let mut message = String::new();
            for (step, error) in &report.failures {
                message.push_str(&format!("step `{step}` failed: "));
                if let Some(code) = &error.code {
                    message.push_str(&format!("{code}: "));
                }
                message.push_str(&error.message);
                if let Some(help) = &error.help {
                    message.push_str(&format!("\n  help: {help}"));
                }
                message.push('\n');
            }
            message.push_str(&resume_hint);
            Err(Failure::step_failed(message))
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
    std::fs::write(path, text).map_err(|e| {
        Failure::step_failed(format!(
            "the deployment succeeded but --outputs-file {} could not be written: {e}",
            path.display()
        ))
    })
}
