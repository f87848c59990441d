//! The `frame_header` target; the input format and the invariants are in `wslane_fuzz::targets::frame_header`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wslane_fuzz::targets::frame_header::run(data));
