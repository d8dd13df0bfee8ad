//! The twinup plan document (placeholder until the plan crate lands).
