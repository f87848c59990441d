//! The `extension_header` target; the input format and the invariants are in `wslane_fuzz::targets::extension_header`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wslane_fuzz::targets::extension_header::run(data));
