//! `twinup completions SHELL` (a completion script from the clap definition) and `twinup man`
//! (the manual page as roff, see `man_page`).

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::failure::Failure;

/// Prints the completion script for the shell.
pub fn completions(args: CompletionsArgs) -> Result<(), Failure> {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "twinup", &mut out);
    write_stdout(&out)
}

/// Prints the man page: twinup(1), one page with a subsection per command.
pub fn man() -> Result<(), Failure> {
    let mut out = Vec::new();
    crate::commands::man_page::render(&Cli::command(), &mut out)
        .map_err(|e| Failure::step_failed(format!("cannot render the man page: {e}")))?;
    write_stdout(&out)
}

fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    crate::output::stdout::write_all(bytes)
        .map_err(|e| Failure::step_failed(format!("cannot write to standard output: {e}")))
}
