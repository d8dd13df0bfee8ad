//! Stand-alone emulator process: `twinup-emulator [--bind ADDR] [--state FILE] [--time-scale X]
//! [--tls] [--replication-delay-secs N] [--rbac-propagation-delay-secs N]`. Prints one JSON line with the connection info, then
//! serves until Ctrl-C. Used by crash tests and handy for manual poking.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use twinup_emulator::{EmulatorConfig, run_until_ctrl_c};

#[derive(Parser)]
#[command(about = "A local Azure (token endpoint, ARM, Microsoft Graph) for twinup")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    bind: std::net::SocketAddr,
    /// State file (kept across restarts); in memory when omitted.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Emulator seconds per real Azure second.
    #[arg(long, default_value_t = 0.01)]
    time_scale: f64,
    /// Serve HTTPS with a generated CA.
    #[arg(long)]
    tls: bool,
    /// Real-world directory replication delay in seconds (scaled by --time-scale).
    #[arg(long, default_value_t = 10.0)]
    replication_delay_secs: f64,
    /// Real-world seconds a new role assignment takes to reach an instance's data plane
    /// (scaled by --time-scale).
    #[arg(long, default_value_t = 5.0)]
    rbac_propagation_delay_secs: f64,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let config = EmulatorConfig {
        bind: args.bind,
        state_path: args.state,
        time_scale: args.time_scale,
        tls: args.tls,
        replication_delay: Duration::from_secs_f64(args.replication_delay_secs.max(0.0)),
        rbac_propagation_delay: Duration::from_secs_f64(
            args.rbac_propagation_delay_secs.clamp(0.0, 1.0e9),
        ),
    };
    if let Err(e) = run_until_ctrl_c(config).await {
        eprintln!("twinup-emulator: {e}");
        std::process::exit(1);
    }
}
