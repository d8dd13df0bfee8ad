//! # twinup
//!
//! The `twinup` binary: sets up Azure Digital Twins (instance, data-plane role, API-permission
//! manifest, app registration) from a declarative plan, resumably. See `twinup --help`.
//!
//! This file parses the command line, sets up logging to stderr, runs the command and turns
//! its result into the exit code (0 success, 1 a step failed, 2 bad input, 130 interrupted).

mod answers;
mod azure_session;
mod checkpoint_store;
mod cli;
mod cloud_memory;
mod commands;
mod failure;
mod output;
mod plan_source;
mod prompt;
mod registry;

use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

use cli::{Cli, Command};
use failure::Failure;

/// Logs go to stderr, coloured only on a terminal (and never with `NO_COLOR`).
fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(output::colour_allowed())
        .with_target(false)
        .try_init();
}

/// Runs the command. `Ok(code)` means the command reported its own result and exits with
/// `code` (e.g. `verify` exits 1 when it finds drift).
async fn dispatch(cli: Cli) -> Result<u8, Failure> {
    let format = cli.output;
    match cli.command {
        Command::Up(args) => commands::up::up(args, format).await.map(|_| 0),
        Command::Plan(args) => commands::plan::plan(args, format).await.map(|_| 0),
        Command::Status(args) => commands::status::status(args, format).await.map(|_| 0),
        Command::Unlock(args) => commands::unlock::unlock(args, format).await.map(|_| 0),
        Command::Checkpoint(command) => commands::checkpoint::run(command, format).await.map(|_| 0),
        Command::Preview(args) => commands::preview::preview(args, format).await.map(|_| 0),
        Command::Verify(args) => commands::verify::verify(args, format).await,
        Command::Down(args) => commands::down::down(args, format).await.map(|_| 0),
        Command::Init(args) => commands::init::init(args, format).map(|_| 0),
        Command::ImportDeployConfig(args) => commands::import::import(args, format).map(|_| 0),
        Command::Completions(args) => commands::completions::completions(args).map(|_| 0),
        Command::Man => commands::completions::man().map(|_| 0),
        Command::Emulator(args) => commands::emulator::emulator(args).await.map(|_| 0),
    }
}

/// Reports a usage error clap found: as clap prints it, or as the JSON failure object when the
/// command line asked for JSON. `--help` and `--version` print as usual.
fn usage_error(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let informational = matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if informational || !cli::json_requested(&args) {
        error.exit();
    }
    let text = error.render().to_string();
    let mut lines = text.trim().lines();
    let first = lines.next().unwrap_or("usage error");
    let message = first.strip_prefix("error: ").unwrap_or(first);
    let usage: Vec<&str> = lines.map(str::trim).filter(|l| !l.is_empty()).collect();
    let failure = Failure::bad_input(message).with_detail("usage", usage.join("\n").into());
    output::print_failure(cli::OutputFormat::Json, &failure);
    ExitCode::from(failure.code)
}

fn main() -> ExitCode {
    let cli = match Cli::parse_args() {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    init_logging(cli.verbose);
    output::set_quiet(cli.quiet);
    let format = cli.output;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            output::print_failure(format, &failure);
            ExitCode::from(failure.code)
        }
    }
}
