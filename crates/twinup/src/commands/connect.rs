//! The pieces of preparing a command (`commands/prepare.rs` and `commands/deployed.rs` put
//! them in order): loading and validating the plan, gathering input sources, prompting,
//! finding the directory the checkpoint lives in, signing in (only when the plan has
//! `azure.*` steps), the connected step kinds, the resume command and the Ctrl-C handler.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use twinup_engine::{InputSources, KindRegistry, KindSchemas, ResolvedInputs};
use twinup_plan::Plan;

use crate::azure_session::{AzureSession, uses_azure};
use crate::cli::{CloudArgs, InputArgs, OutputFormat, PlanArgs};
use crate::failure::Failure;
use crate::plan_source::load_plan;
use crate::registry::validation_registry;

/// Inputs whose default is discovered by signing in (the only subscription the credential
/// sees, the signed-in principal).
pub use twinup_azure::discovery::DISCOVERED_INPUTS as DISCOVERED;

/// A plan and the kinds' schemas it was validated with.
pub type ValidPlan = (Plan, KindSchemas);

/// Loads the plan named by `args` and checks it against every known kind's schema; the
/// schemas come back for the checks that follow (steps, input rules, `down`'s list).
pub fn load_valid_plan(args: &PlanArgs) -> Result<ValidPlan, Failure> {
    let plan = load_plan(args.plan.as_deref())?;
    let schemas = validation_registry();
    plan.validate(&schemas)?;
    Ok((plan, schemas))
}

/// Where a command's input values come from: `--subscription` (as the `subscription` input)
/// and `--set` flags, the `TWINUP_*` environment, the answers file and the values saved in the
/// checkpoint (with the unconfirmed answers of a stopped run, and what it blamed); each value
/// is checked against the rules of `registry`'s kinds for the fields it fills.
pub fn input_sources(
    plan: &Plan,
    registry: &KindSchemas,
    inputs: &InputArgs,
    cloud: &CloudArgs,
    answers: IndexMap<String, Value>,
    checkpoint: &twinup_engine::checkpoint::Checkpoint,
) -> InputSources {
    let mut named_flags = Vec::new();
    if let (Some(sub), true) = (
        &cloud.subscription,
        plan.inputs.contains_key("subscription"),
    ) {
        named_flags.push(("--subscription".to_string(), format!("subscription={sub}")));
    }
    InputSources {
        set: inputs.set.clone(),
        named_flags,
        env: std::env::vars()
            .filter(|(k, _)| k.starts_with("TWINUP_"))
            .collect(),
        answers,
        answers_file: inputs.answers.as_ref().map(|p| p.display().to_string()),
        saved: checkpoint.saved_inputs(),
        discovered: Default::default(),
        reconfigure: inputs.reconfigure,
        rules: twinup_engine::InputRules::new(plan, registry),
        ask_again: checkpoint.unconfirmed_inputs.ask_again.clone(),
    }
}

/// The command that continues `verb` (`up` or `down`) on the deployment `plan` names, as a
/// user can type it: the cloud and inputs come from the checkpoint, so only a plan and a
/// checkpoint other than the defaults are spelled out.
pub fn resume_command(verb: &str, plan: &PlanArgs) -> String {
    let mut command = format!("twinup {verb}");
    if let Some(path) = &plan.plan {
        command.push_str(&format!(
            " --plan {}",
            shell_word(&path.display().to_string())
        ));
    }
    if plan.checkpoint != Path::new(DEFAULT_CHECKPOINT) {
        let checkpoint = plan.checkpoint.display().to_string();
        command.push_str(&format!(" --checkpoint {}", shell_word(&checkpoint)));
    }
    command
}

/// `--checkpoint`'s default.
pub const DEFAULT_CHECKPOINT: &str = ".twinup/checkpoint.json";

/// `text` quoted for a POSIX shell when it holds anything but safe characters.
fn shell_word(text: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// A token cancelled at the first Ctrl-C, which is announced with `text` (an
/// `interrupt_requested` event with `--output json`): running steps then reach a safe point.
pub fn cancel_on_ctrl_c(format: OutputFormat, text: &'static str) -> CancellationToken {
    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            crate::output::notice(format, "interrupt_requested", text);
            on_signal.cancel();
        }
    });
    cancel
}

/// The directory holding the checkpoint (where `--cloud local` keeps its emulator state);
/// `.twinup` (created if missing) when the checkpoint is a blob URL.
pub fn state_dir(checkpoint: &Path) -> PathBuf {
    if crate::checkpoint_store::blob_url(checkpoint).is_some() {
        let dir = PathBuf::from(".twinup");
        let _ = std::fs::create_dir_all(&dir);
        return dir;
    }
    let dir = checkpoint
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    // `--cloud local` keeps its emulator state here, even for commands that write no
    // checkpoint (`preview` in a fresh directory); errors surface when the state is written.
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    let _ = builder.create(&dir);
    dir
}

/// The inputs a deployment was made with: the checkpoint's saved values and plan defaults,
/// plus secret inputs (never saved) from their `TWINUP_<NAME>` environment variables.
pub fn deployed_inputs(
    plan: &Plan,
    checkpoint: &twinup_engine::checkpoint::Checkpoint,
) -> Result<ResolvedInputs, Failure> {
    let mut inputs = twinup_engine::saved_inputs(plan, checkpoint);
    for name in inputs.secrets.clone() {
        let Some(spec) = plan.inputs.get(&name) else {
            continue;
        };
        let var = twinup_engine::env_var_for(&name);
        if let Ok(text) = std::env::var(&var) {
            let value = spec
                .parse_text(&text)
                .and_then(|v| spec.check(&v).map(|_| v))
                .map_err(|why| Failure::bad_input(format!("{var}: {why}")))?;
            inputs.values.insert(name, value);
        }
    }
    Ok(inputs)
}

/// The registry a command's steps use: the built-in kinds and, with a connection, the
/// `azure.*` kinds deploying into `subscription` (checked to exist first when `check`).
pub async fn kinds_for(
    connection: Option<&AzureSession>,
    subscription: Option<String>,
    check: bool,
) -> Result<KindRegistry, Failure> {
    let mut registry = KindRegistry::with_builtins();
    if let Some(connection) = connection {
        if let (true, Some(subscription)) = (check, &subscription) {
            connection.check_subscription(subscription).await?;
        }
        connection.register(&mut registry, subscription);
    }
    Ok(registry)
}

/// The `subscription` input's value, when it has one.
pub fn subscription_input(inputs: &ResolvedInputs) -> Option<String> {
    inputs
        .values
        .get(twinup_azure::discovery::SUBSCRIPTION_INPUT)
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Resolves the inputs, asking at the terminal for the missing ones when `interactive`
/// (`up` and `preview`): Ctrl-C at a prompt restores the cursor and exits 130 at once, since
/// nothing has been written yet.
pub fn resolve_with_prompts(
    plan: &Plan,
    sources: &InputSources,
    interactive: bool,
) -> Result<ResolvedInputs, twinup_engine::InputError> {
    let mut prompter = crate::prompt::TerminalPrompter::new();
    let prompter: Option<&mut dyn twinup_engine::Prompter> = if interactive {
        Some(&mut prompter)
    } else {
        None
    };
    let at_prompt = interactive.then(|| tokio::spawn(exit_on_ctrl_c_at_prompt()));
    let resolved = twinup_engine::resolve_inputs(plan, sources, prompter);
    if let Some(handler) = at_prompt {
        handler.abort();
    }
    resolved
}

/// While prompts are shown: on Ctrl-C restore the cursor and exit 130 (nothing was written).
async fn exit_on_ctrl_c_at_prompt() {
    if tokio::signal::ctrl_c().await.is_ok() {
        let _ = console::Term::stderr().show_cursor();
        eprintln!("\nInterrupted at a prompt; nothing was changed.");
        std::process::exit(i32::from(crate::failure::EXIT_INTERRUPTED));
    }
}

/// Signs in to `cloud` when the plan has `azure.*` steps (`None` otherwise) and says who
/// signed in: every command's one way to connect (`--cloud local` keeps its emulator state
/// beside `checkpoint`).
pub async fn sign_in(
    plan: &Plan,
    cloud: &CloudArgs,
    checkpoint: &Path,
    format: OutputFormat,
) -> Result<Option<AzureSession>, Failure> {
    if !uses_azure(plan) {
        return Ok(None);
    }
    let connection = AzureSession::connect(cloud, &state_dir(checkpoint)).await?;
    crate::output::signed_in(
        format,
        &connection.who,
        &connection.credential,
        &connection.tenant_id,
    );
    Ok(Some(connection))
}
