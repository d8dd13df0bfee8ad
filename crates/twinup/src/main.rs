//! The `twinup` binary.
fn main() {}
