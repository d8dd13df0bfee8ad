//! libFuzzer entry point for `twinup_fuzz::answers_parser`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| twinup_fuzz::answers_parser(data));
