//! `twinup completions SHELL` (a completion script from the clap definition) and `twinup man`
//! (the manual page as roff, with a section per command).

use std::io::Write;

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

/// Prints the man page: twinup(1), followed by the pages of every command.
pub fn man() -> Result<(), Failure> {
    let command = Cli::command();
    let mut out = Vec::new();
    render_page(&command, &mut out)?;
    write_stdout(&out)
}

fn render_page(command: &clap::Command, out: &mut Vec<u8>) -> Result<(), Failure> {
    clap_mangen::Man::new(command.clone())
        .render(out)
        .map_err(|e| Failure::step_failed(format!("cannot render the man page: {e}")))?;
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("{}-{}", command.get_name(), sub.get_name());
        // clap names are `'static` without its `string` feature; a few bytes per page, once.
        let page = sub.clone().name(&*Box::leak(name.into_boxed_str()));
        clap_mangen::Man::new(page)
            .render(out)
            .map_err(|e| Failure::step_failed(format!("cannot render the man page: {e}")))?;
    }
    Ok(())
}

fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|_| stdout.flush())
        .map_err(|e| Failure::step_failed(format!("cannot write to standard output: {e}")))
}
