#![no_main]
//! `cargo fuzz run geometry`: see `sen12lite::properties::check_geometry`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| sen12lite::properties::check_geometry(data));
