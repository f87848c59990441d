//! The `connection` target; the input format and the invariants are in `wslane_fuzz::targets::connection`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wslane_fuzz::targets::connection::run(data));
