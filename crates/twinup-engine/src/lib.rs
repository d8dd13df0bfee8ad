//! The twinup executor (placeholder until the engine lands).
