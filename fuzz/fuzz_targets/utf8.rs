//! The `utf8` target; the input format and the invariants are in `wslane_fuzz::targets::utf8`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wslane_fuzz::targets::utf8::run(data));
