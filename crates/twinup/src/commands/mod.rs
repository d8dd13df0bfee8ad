//! One module per command, plus what several of them share (`connect`, `deployed`,
//! `answers_file`).

pub mod answers_file;
pub mod checkpoint;
pub mod completions;
pub mod confirm_deploy;
pub mod connect;
pub mod deployed;
pub mod down;
pub mod drift;
pub mod emulator;
pub mod import;
pub mod init;
pub mod man_page;
pub mod plan;
pub mod prepare;
pub mod preview;
pub mod status;
pub mod unconfirmed;
pub mod unlock;
pub mod up;
pub mod verify;
