//! The twinup executor. (crate doc written below once the modules land)
pub mod context;
pub mod events;
pub mod kind;
