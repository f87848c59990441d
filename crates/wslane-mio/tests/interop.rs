//! Interop over loopback with independent implementations (see the `wslane-interop` crate): the Python
//! `websockets` and Node `ws` clients against the event-loop echo server, the blocking client against
//! their echo servers, and Chromium through the client page the echo server serves. A missing peer fails
//! these tests; `scripts/test.sh` installs them.

use wslane_interop::Peer;
use wslane_mio::{CloseCode, Message};

#[test]
fn peer_clients_against_event_loop_echo_server() {
    let (_server, url) = wslane_interop::spawn_echo_server("wslane-mio", "mio_echo_server");
    wslane_interop::check_client_against(&url);
}

#[test]
fn blocking_client_against_peer_servers() {
    for peer in Peer::ALL {
        let (mut server, url) = wslane_interop::spawn_peer_server(peer);
        let (mut ws, _) = wslane_mio::connect(&url).unwrap();
        let messages = [
            Message::text("héllo"),
            Message::binary(vec![0, 1, 2, 255]),
            Message::text(""),
            Message::binary(vec![9; 1 << 20]),
        ];
        for message in messages {
            ws.send(message.clone()).unwrap();
            assert_eq!(ws.recv().unwrap().unwrap(), message, "{}", peer.name());
        }
        ws.close(CloseCode::new(4000).unwrap(), "interop done")
            .unwrap();
        wslane_interop::expect_peer_saw_close(&mut server, 4000, Some("interop done"));
    }
}

/// permessage-deflate with Python `websockets` (compression on, its default) as the client.
#[test]
fn python_deflate_client_against_echo_server() {
    let (_server, url) = wslane_interop::spawn_echo_server("wslane-mio", "mio_echo_server");
    wslane_interop::check_deflate_client_against(&url);
}

/// The client page the event-loop echo server serves on `/` (through `Handler::on_http_get`), driven in
/// Chromium.
#[test]
fn browser_client_page_of_event_loop_echo_server() {
    let (_server, url) = wslane_interop::spawn_echo_server("wslane-mio", "mio_echo_server");
    wslane_interop::check_browser_client(&wslane_interop::page_url(&url), "client-mio");
}
