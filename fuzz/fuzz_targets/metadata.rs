#![no_main]
//! `cargo fuzz run metadata`: see `sen12lite::properties::check_metadata`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| sen12lite::properties::check_metadata(data));
