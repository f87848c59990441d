//! Interop over loopback with independent implementations (see the `wslane-interop` crate): Python
//! `websockets` and Node `ws` clients against the `axum_echo` example over HTTP/1.1, without compression
//! (the base checks) and with permessage-deflate.
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
    let output = wslane_interop::run_deflate_client(Peer::Python, &url);
    assert!(
        output.contains("ok negotiated permessage-deflate"),
        "{output}"
    );
}

/// Node `ws` compressing every message, both ways: the script also fails unless the bytes on the
/// connection are far fewer than the messages hold.
#[test]
fn node_deflate_client_against_axum_echo() {
    let (_server, url) = wslane_interop::spawn_echo_server(PACKAGE, EXAMPLE);
    let output = wslane_interop::run_deflate_client(Peer::Node, &url);
    assert!(
        output.contains("ok negotiated permessage-deflate"),
        "{output}"
    );
    assert!(output.contains("ok compressed both ways"), "{output}");
}
