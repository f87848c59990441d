//! Interop over loopback with independent implementations (see the `wslane-interop` crate): Python
//! `websockets` and Node `ws` clients against the `axum_echo` example over HTTP/1.1, without compression
//! (the base checks) and with it (Python `websockets`, which offers permessage-deflate by default).
//!
//! The peers come from `scripts/setup-interop.sh`; the example must be built as a binary first, which
//! `cargo test` with the default targets does (`scripts/test.sh`). A missing peer fails these tests.

use wslane_interop::Peer;

const PACKAGE: &str = "wslane-hyper";
const EXAMPLE: &str = "axum_echo";

#[test]
fn python_client_against_axum_echo() {
    let (_server, url) = wslane_interop::spawn_echo_server(PACKAGE, EXAMPLE);
    wslane_interop::run_client(Peer::Python, &url);
}

#[test]
fn node_client_against_axum_echo() {
    let (_server, url) = wslane_interop::spawn_echo_server(PACKAGE, EXAMPLE);
    wslane_interop::run_client(Peer::Node, &url);
}

#[test]
fn python_deflate_client_against_axum_echo() {
    let (_server, url) = wslane_interop::spawn_echo_server(PACKAGE, EXAMPLE);
    let output = wslane_interop::check_deflate_client_against(&url);
    assert!(output.contains("permessage-deflate"), "{output}");
}
