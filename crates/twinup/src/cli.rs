//! The command line: commands, flags and their help text (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// twinup sets up Azure Digital Twins from a declarative, resumable plan.
#[derive(Debug, Parser)]
#[command(name = "twinup", version, about, long_about = None)]
pub struct Cli {
    /// How to print results: human-readable text, or JSON for scripts.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text, global = true)]
    pub output: OutputFormat,

    /// Print only results and errors: no progress lines, no sign-in line.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,

    /// More log detail on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses the command line, noting whether `--cloud` was given on it. A usage error is
    /// returned for the caller to report (as JSON when [`json_requested`] says so).
    pub fn parse_args() -> Result<Cli, clap::Error> {
        use clap::{CommandFactory, FromArgMatches, parser::ValueSource};
        let matches = Cli::command().try_get_matches()?;
        let mut cli = Cli::from_arg_matches(&matches)?;
        let explicit = matches.subcommand().is_some_and(|(_, sub)| {
            sub.ids().any(|id| id == "cloud")
                && sub.value_source("cloud") == Some(ValueSource::CommandLine)
        });
        if let Some(cloud) = cli.command.cloud_args_mut() {
            cloud.explicit = explicit;
        }
        Ok(cli)
    }
}

/// Whether the raw command line asks for JSON output (`-o json`, `-ojson`, `-o=json`, `-qo
/// json`, `--output json`, `--output=json`), to report a usage error clap found before it
/// could parse the flags. Arguments after `--` are values, never flags.
pub fn json_requested(args: &[String]) -> bool {
    let flags = args.iter().take_while(|a| *a != "--");
    let flags: Vec<&String> = flags.collect();
    flags.iter().enumerate().any(|(i, arg)| {
        let next_is_json = || flags.get(i + 1).is_some_and(|v| *v == "json");
        if let Some(long) = arg.strip_prefix("--") {
            return match long.strip_prefix("output") {
                Some("") => next_is_json(),
                Some(rest) => rest == "=json",
                None => false,
            };
        }
        // Short flags, clustered: boolean ones (-q, -v, -y) may come before `o`.
        let Some(cluster) = arg.strip_prefix('-') else {
            return false;
        };
        let Some(at) = cluster.find('o') else {
            return false;
        };
        let (before, value) = (&cluster[..at], &cluster[at + 1..]);
        if !before.chars().all(|c| matches!(c, 'q' | 'v' | 'y')) {
            return false;
        }
        match value.strip_prefix('=').unwrap_or(value) {
            "" => next_is_json(),
            value => value == "json",
        }
    })
}

impl Command {
    /// The cloud flags of the commands that have them.
    fn cloud_args_mut(&mut self) -> Option<&mut CloudArgs> {
        match self {
            Command::Up(a) => Some(&mut a.cloud),
            Command::Preview(a) => Some(&mut a.cloud),
            Command::Verify(a) => Some(&mut a.cloud),
            Command::Down(a) => Some(&mut a.target.cloud),
            _ => None,
        }
    }
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Text for people; progress on stderr, results on stdout.
    Text,
    /// One JSON object on stdout at the end; JSON event lines on stderr while running.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the plan: create or update everything it describes, resuming an earlier run.
    Up(UpArgs),
    /// Validate the plan and show its steps, their order and their state in the checkpoint.
    Plan(PlanCommandArgs),
    /// Show the checkpoint: steps, states, timings, outputs and the last error.
    Status(StatusArgs),
    /// Release a blob checkpoint's lease left by a run that is gone (with --force).
    Unlock(UnlockArgs),
    /// Move a checkpoint between a local file and a blob, or restore a kept version.
    #[command(subcommand)]
    Checkpoint(CheckpointCommand),
    /// Show what `up` would change, step by step, from the live state (reads only).
    Preview(PreviewArgs),
    /// Compare the live resources with the checkpoint (exit 0 clean, 1 drift found).
    Verify(ConnectArgs),
    /// Delete what `up` created, dependents first (asks first unless --yes; resumable).
    Down(DownArgs),
    /// Write an answers file listing every input of the plan, with descriptions and defaults.
    Init(InitArgs),
    /// Turn the config.json that deploy.ps1 leaves into an answers file for the built-in plan.
    ImportDeployConfig(ImportArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(CompletionsArgs),
    /// Print the manual page (roff) of twinup, e.g. `twinup man > twinup.1`.
    Man,
    /// Run the local Azure emulator alone (prints its endpoints and credentials as JSON).
    Emulator(EmulatorArgs),
}

/// Flags of `twinup preview`.
#[derive(Debug, Args)]
pub struct PreviewArgs {
    #[command(flatten)]
    pub plan: PlanArgs,

    #[command(flatten)]
    pub inputs: InputArgs,

    #[command(flatten)]
    pub cloud: CloudArgs,
}

/// A deployment (plan and checkpoint) and the cloud it lives in. The input flags are accepted
/// so one set of flags serves a script's `up`, `verify` and `down`; these commands take the
/// inputs the checkpoint recorded, and use only `--reconfigure` (to move to another `--cloud`).
#[derive(Debug, Args)]
pub struct ConnectArgs {
    #[command(flatten)]
    pub plan: PlanArgs,

    #[command(flatten)]
    pub inputs: InputArgs,

    #[command(flatten)]
    pub cloud: CloudArgs,
}

/// Flags of `twinup down`.
#[derive(Debug, Args)]
pub struct DownArgs {
    #[command(flatten)]
    pub target: ConnectArgs,

    /// Delete without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// At most this many deletes run at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallelism: u16,
}

/// Flags of `twinup init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The plan file (default: the built-in Azure Digital Twins setup plan).
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,

    /// Where to write the answers file (`-` for standard output). (`-o` is `--output`.)
    #[arg(long, value_name = "FILE", default_value = "answers.yaml")]
    pub out: PathBuf,

    /// Overwrite the file if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Flags of `twinup import-deploy-config`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// deploy.ps1's config.json.
    #[arg(value_name = "CONFIG_JSON")]
    pub config: PathBuf,

    /// Where to write the answers file (`-` for standard output). (`-o` is `--output`.)
    #[arg(long, value_name = "FILE", default_value = "answers.yaml")]
    pub out: PathBuf,

    /// Overwrite the file if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Flags of `twinup completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Flags of `twinup status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub plan: PlanArgs,

    #[command(flatten, next_help_heading = SHARED_HEADING)]
    pub shared: SharedFlags,

    /// List the kept versions of a blob checkpoint (one snapshot before each run's first
    /// write); restore one with `twinup checkpoint restore SNAPSHOT`.
    #[arg(long)]
    pub history: bool,
}

/// Flags of `twinup unlock`.
#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// The checkpoint whose lock to release (`--checkpoint`); `--plan` is accepted and unused.
    #[command(flatten)]
    pub plan: PlanArgs,

    #[command(flatten, next_help_heading = SHARED_HEADING)]
    pub shared: SharedFlags,

    /// Break the lease even though a run may still hold it (that run then stops at its next
    /// checkpoint write).
    #[arg(long)]
    pub force: bool,
}

/// `twinup checkpoint` subcommands.
#[derive(Debug, Subcommand)]
pub enum CheckpointCommand {
    /// Copy the local checkpoint to a blob, e.g. to share a deployment with a team or CI.
    Push(TransferArgs),
    /// Copy a blob checkpoint to a local file.
    Pull(TransferArgs),
    /// Make a kept version (from `twinup status --history`) the current blob checkpoint; the
    /// version it replaces is kept too.
    Restore(RestoreArgs),
}

/// Flags of `twinup checkpoint push|pull`.
#[derive(Debug, Args)]
pub struct TransferArgs {
    /// The blob: https://{account}.blob.core.windows.net/{container}/{name}.json
    #[arg(value_name = "URL")]
    pub url: String,

    /// The local checkpoint file.
    #[arg(long, value_name = "PATH", default_value = ".twinup/checkpoint.json")]
    pub local: PathBuf,

    /// Replace a checkpoint that already exists at the destination (a replaced blob is kept
    /// as a snapshot, a replaced file as PATH.bak).
    #[arg(long)]
    pub force: bool,
}

/// Flags of `twinup checkpoint restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The snapshot id, as `twinup status --history` lists it.
    #[arg(value_name = "SNAPSHOT")]
    pub snapshot: String,

    /// The blob checkpoint.
    #[arg(long, value_name = "URL")]
    pub checkpoint: String,
}

/// Flags of `twinup plan`.
#[derive(Debug, Args)]
pub struct PlanCommandArgs {
    #[command(flatten)]
    pub plan: PlanArgs,

    #[command(flatten, next_help_heading = SHARED_HEADING)]
    pub shared: SharedFlags,
}

/// The help heading of [`SharedFlags`].
const SHARED_HEADING: &str = "Accepted and not used here (one flag set serves every command)";

/// The input and cloud flags, accepted by the commands that read a checkpoint without running
/// the plan (`plan`, `status`, `unlock`) and not used by them, so a script passes one flag set
/// to every command.
#[derive(Debug, Args)]
pub struct SharedFlags {
    #[command(flatten)]
    pub inputs: InputArgs,

    #[command(flatten)]
    pub cloud: CloudArgs,
}

/// Which plan and which checkpoint.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The plan file (default: the built-in Azure Digital Twins setup plan).
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,

    /// The checkpoint that records this deployment: a file, or a blob shared by a team or CI
    /// (https://{account}.blob.core.windows.net/{container}/{name}.json).
    #[arg(
        long,
        value_name = "PATH|URL",
        default_value = ".twinup/checkpoint.json"
    )]
    pub checkpoint: PathBuf,
}

/// Flags of `twinup up`.
#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub plan: PlanArgs,

    #[command(flatten)]
    pub inputs: InputArgs,

    #[command(flatten)]
    pub cloud: CloudArgs,

    /// At most this many steps run at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallelism: u16,

    /// Also write the deployment's outputs as JSON to this file (for client apps).
    #[arg(long, value_name = "FILE")]
    pub outputs_file: Option<PathBuf>,

    /// Skip reading the live state of finished steps before the run. By default `up` reads
    /// them (like `terraform apply`) and runs again the ones whose resources were deleted or
    /// changed outside twinup.
    #[arg(long)]
    pub no_refresh: bool,

    /// Confirm replacements without asking: when a field that identifies a resource changed
    /// (a name, a location, a path), `up` creates the new one, then deletes the old one it
    /// created. Without it `up` asks on a terminal and exits 2 otherwise.
    #[arg(long)]
    pub yes: bool,

    /// Do not wait for the instance's data plane to accept your data role (by default `up`
    /// ends only when it answers, up to the `ready_timeout` input).
    #[arg(long)]
    pub no_wait_ready: bool,
}

/// Where input values come from.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// A YAML file mapping input names to values.
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,

    /// Set an input (repeatable): --set instance_name=my-twins
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,

    /// Never prompt; fail listing every input that has no value.
    #[arg(long)]
    pub non_interactive: bool,

    /// Ask again for inputs saved in the checkpoint by an earlier run.
    #[arg(long)]
    pub reconfigure: bool,
}

/// Which Azure cloud, and how to reach it.
#[derive(Debug, Clone, Args)]
pub struct CloudArgs {
    /// The Azure cloud: public, china, usgov, custom (with the endpoint flags), or local (the
    /// built-in emulator, state in .twinup/emulator.json).
    #[arg(long, value_enum, default_value_t = CloudName::Public)]
    pub cloud: CloudName,

    /// Subscription to deploy into (sets the `subscription` input).
    #[arg(long, env = "AZURE_SUBSCRIPTION_ID", value_name = "ID")]
    pub subscription: Option<String>,

    /// Entra ID authority host for --cloud custom, e.g. https://login.example.net
    #[arg(long, value_name = "URL")]
    pub authority_host: Option<String>,

    /// Azure Resource Manager endpoint for --cloud custom.
    #[arg(long, value_name = "URL")]
    pub arm_endpoint: Option<String>,

    /// Microsoft Graph endpoint for --cloud custom.
    #[arg(long, value_name = "URL")]
    pub graph_endpoint: Option<String>,

    /// ARM token audience for --cloud custom (default: from {arm}/metadata/endpoints when
    /// --authority-host or --graph-endpoint is not given, else the public one).
    #[arg(long, value_name = "URL")]
    pub arm_audience: Option<String>,

    /// Microsoft Graph token audience for --cloud custom (default: as --arm-audience).
    #[arg(long, value_name = "URL")]
    pub graph_audience: Option<String>,
    /// Whether `--cloud` was on the command line (set after parsing, from clap's matches); a
    /// checkpoint's recorded cloud is used only when it was not.
    #[arg(skip)]
    pub explicit: bool,
}

/// Known clouds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CloudName {
    /// Azure public cloud.
    Public,
    /// Azure operated by 21Vianet.
    China,
    /// Azure US Government.
    Usgov,
    /// Endpoints given by --authority-host, --arm-endpoint, --graph-endpoint.
    Custom,
    /// The built-in emulator, in process.
    Local,
}

/// Flags of `twinup emulator`.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// TCP port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,

    /// State file, so a restarted emulator keeps what was created.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// Multiplies Azure's real durations (1 = realistic, 0.01 = a hundred times faster).
    #[arg(long, default_value_t = 0.01)]
    pub time_scale: f64,

    /// Serve HTTPS with a generated CA (its path is printed as `ca_cert`).
    #[arg(long)]
    pub tls: bool,
}

#[cfg(test)]
mod tests {
    use super::json_requested;

    fn asks(line: &str) -> bool {
        let args: Vec<String> = line.split(' ').map(str::to_string).collect();
        json_requested(&args)
    }

    #[test]
    fn every_spelling_of_the_json_output_flag_is_recognised() {
        for line in [
            "twinup up -o json",
            "twinup up -ojson",
            "twinup up -o=json",
            "twinup up -qo json",
            "twinup up -vqojson",
            "twinup up --output json",
            "twinup up --output=json",
        ] {
            assert!(asks(line), "{line}");
        }
    }

    #[test]
    fn values_and_other_flags_are_not_taken_for_it() {
        for line in [
            "twinup up -o text",
            "twinup up --set name=-ojson",
            "twinup up --outputs json",
            "twinup up -- -o json",
            "twinup up json",
        ] {
            assert!(!asks(line), "{line}");
        }
    }
}
