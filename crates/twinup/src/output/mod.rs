//! What the binary prints: progress while a run goes (text or JSON lines on stderr) and the
//! final result (text or one JSON object on stdout).

mod progress;
mod result;

pub use progress::{JsonEvents, TextProgress};
pub use result::{print_failure, print_success};
