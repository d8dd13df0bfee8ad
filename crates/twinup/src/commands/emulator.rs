//! `twinup emulator`: runs the local Azure emulator alone until Ctrl-C, printing its endpoints
//! and credentials as one JSON line.

use twinup_emulator::{EmulatorConfig, run_until_ctrl_c};

use crate::cli::EmulatorArgs;
use crate::failure::Failure;

/// Runs `twinup emulator`.
pub async fn emulator(args: EmulatorArgs) -> Result<(), Failure> {
    if !(args.time_scale > 0.0 && args.time_scale.is_finite()) {
        return Err(Failure::bad_input(
            "--time-scale must be a positive number, e.g. 1 (realistic) or 0.01",
        ));
    }
    let config = EmulatorConfig {
        bind: std::net::SocketAddr::from(([127, 0, 0, 1], args.port)),
        state_path: args.state,
        time_scale: args.time_scale,
        tls: args.tls,
        ..EmulatorConfig::default()
    };
    run_until_ctrl_c(config)
        .await
        .map_err(|e| Failure::bad_input(format!("the emulator could not start: {e}")))
}
