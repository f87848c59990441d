//! The `proxy` target; the input format and the invariants are in `wslane_fuzz::targets::proxy`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wslane_fuzz::targets::proxy::run(data));
