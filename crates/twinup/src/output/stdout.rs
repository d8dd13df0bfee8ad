//! Standard output, which a reader may close early (`twinup plan | head -1`, `twinup man |
//! less` quit at once). A closed pipe is the reader saying it has seen enough, so writes to it
//! are dropped and the command ends as it would have (ripgrep's rule), instead of the panic
//! `println!` gives. Any other write error is said once on stderr.
//!
//! Contact points: [`outln!`](crate::outln) and [`out!`](crate::out) for text, [`write_all`]
//! for bytes.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a write error other than a closed pipe has been reported.
static REPORTED: AtomicBool = AtomicBool::new(false);

/// Writes `bytes` to stdout and flushes; a closed pipe counts as written.
pub fn write_all(bytes: &[u8]) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    closed_pipe_is_fine(stdout.write_all(bytes).and_then(|()| stdout.flush()))
}

/// Writes formatted text to stdout (the `out!`/`outln!` macros); a closed pipe is ignored and
/// any other error is said once on stderr.
pub fn write_text(args: fmt::Arguments<'_>) {
    let mut stdout = io::stdout().lock();
    if let Err(e) = closed_pipe_is_fine(stdout.write_fmt(args))
        && !REPORTED.swap(true, Ordering::Relaxed)
    {
        eprintln!("twinup: cannot write to standard output: {e}");
    }
}

fn closed_pipe_is_fine(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// `print!` for stdout that a reader may close (see the module doc).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::stdout::write_text(format_args!($($arg)*))
    };
}

/// `println!` for stdout that a reader may close (see the module doc).
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::stdout::write_text(format_args!("{}\n", format_args!($($arg)*)))
    };
}
