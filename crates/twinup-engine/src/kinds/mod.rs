//! Step kinds built into the engine, usable in any plan, and the path rules local file kinds share.

mod file;
pub mod local_path;

pub use file::{FileKind, remove_file};
