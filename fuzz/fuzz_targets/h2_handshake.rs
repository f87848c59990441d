//! The `h2_handshake` target; the input format and the invariants are in `wslane_fuzz::targets::h2_handshake`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wslane_fuzz::targets::h2_handshake::run(data));
