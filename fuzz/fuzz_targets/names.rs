#![no_main]
//! `cargo fuzz run names`: see `sen12lite::properties::check_names`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| sen12lite::properties::check_names(data));
