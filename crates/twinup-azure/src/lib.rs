//! Azure step kinds for twinup (placeholder until issue "end to end" lands).
