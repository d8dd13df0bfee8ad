//! One module per command.

pub mod emulator;
pub mod plan;
pub mod status;
pub mod up;
