//! The `decoder` target; the input format and the invariants are in `wslane_fuzz::targets::decoder`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wslane_fuzz::targets::decoder::run(data));
