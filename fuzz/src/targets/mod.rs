//! One module per fuzz target. Each `run` panics when an invariant breaks.

pub mod client_handshake;
pub mod connection;
pub mod decoder;
pub mod extension_header;
pub mod frame_header;
pub mod h2_handshake;
pub mod proxy;
pub mod server_handshake;
pub mod utf8;

/// A target's entry point.
pub type Run = fn(&[u8]);

/// Every target: its name (the binary in `fuzz_targets/`, the directory in `corpus/`) and its `run`.
pub const ALL: &[(&str, Run)] = &[
    ("frame_header", frame_header::run),
    ("decoder", decoder::run),
    ("connection", connection::run),
    ("utf8", utf8::run),
    ("extension_header", extension_header::run),
    ("server_handshake", server_handshake::run),
    ("client_handshake", client_handshake::run),
    ("h2_handshake", h2_handshake::run),
    ("proxy", proxy::run),
];

/// The `run` function of the target called `name`.
pub fn by_name(name: &str) -> Option<Run> {
    ALL.iter().find(|(n, _)| *n == name).map(|(_, run)| *run)
}
