#![no_main]
//! `cargo fuzz run scan`: see `sen12lite::properties::check_scan`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    sen12lite::properties::check_scan(data);
});
