//! libFuzzer entry point for `twinup_fuzz::checkpoint_loader`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| twinup_fuzz::checkpoint_loader(data));
