//! Step kinds built into the engine, usable in any plan.

mod file;

pub use file::{FileKind, remove_file};
