//! A local Azure emulator (placeholder until the emulator lands).
