//! `twinup emulator`: runs the local Azure emulator alone until Ctrl-C, printing its endpoints
//! and credentials as one JSON line.

use crate::cli::EmulatorArgs;
use crate::failure::Failure;

/// Runs `twinup emulator`.
pub async fn emulator(args: EmulatorArgs) -> Result<(), Failure> {
    if !(args.time_scale > 0.0 && args.time_scale.is_finite()) {
        return Err(Failure::bad_input(
            "--time-scale must be a positive number, e.g. 1 (realistic) or 0.01",
        ));
    }
    // Wired to twinup_emulator::run_until_ctrl_c once the emulator's API lands.
    let _ = (args.port, args.state, args.tls);
    Err(Failure::bad_input(
        "the emulator is not available in this build yet",
    ))
}
