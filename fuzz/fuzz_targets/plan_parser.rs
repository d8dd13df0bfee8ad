//! libFuzzer entry point for `twinup_fuzz::plan_parser`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| twinup_fuzz::plan_parser(data));
