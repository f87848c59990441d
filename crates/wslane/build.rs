//! Enables `cfg(wslane_avx512)` when the compiler has stable AVX-512 intrinsics (Rust 1.89 and later).
//!
//! The crate builds from Rust 1.81; the AVX-512 kernel (UTF-8 validation fused with unmasking) is
//! compiled only where the compiler accepts it, and chosen at run time only on CPUs that have AVX-512.

use std::env;
use std::process::Command;

/// The first Rust minor version whose AVX-512 intrinsics are stable.
const AVX512_SINCE: u32 = 89;

fn main() {
    println!("cargo:rustc-check-cfg=cfg(wslane_avx512)");
    println!("cargo:rerun-if-env-changed=RUSTC");
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let minor = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|version| minor_version(&version));
    if minor.is_some_and(|minor| minor >= AVX512_SINCE) {
        println!("cargo:rustc-cfg=wslane_avx512");
    }
}

/// The minor version from `rustc 1.89.0 (...)`; `None` if the text is not of that form.
fn minor_version(version: &str) -> Option<u32> {
    let number = version.split_whitespace().nth(1)?;
    let mut parts = number.split('.');
    if parts.next()? != "1" {
        return None;
    }
    parts.next()?.parse().ok()
}
