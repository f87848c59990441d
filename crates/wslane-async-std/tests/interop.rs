//! Interop over loopback with independent implementations (see the `wslane-interop` crate): the Python
//! `websockets` and Node `ws` clients against this adapter's echo server, our client against their
//! echo servers, and Chromium through the client page the echo server serves. A missing peer fails these
//! tests; `scripts/test.sh` installs them.

use futures_util::StreamExt;
use wslane_async_std::{CloseCode, Message};
use wslane_interop::Peer;

#[test]
fn peer_clients_against_echo_server() {
    let (_server, url) =
        wslane_interop::spawn_echo_server("wslane-async-std", "async_std_echo_server");
    wslane_interop::check_client_against(&url);
}

#[test]
fn client_against_peer_servers() {
    for peer in Peer::ALL {
        let (mut server, url) = wslane_interop::spawn_peer_server(peer);
        smol::block_on(async {
            let (mut ws, _) = wslane_async_std::connect(&url).await.unwrap();
            let messages = [
                Message::text("héllo"),
                Message::binary(vec![0, 1, 2, 255]),
                Message::text(""),
                Message::binary(vec![9; 1 << 20]),
            ];
            for message in messages {
                ws.send(message.clone()).await.unwrap();
                assert_eq!(
                    ws.next().await.transpose().unwrap(),
                    Some(message),
                    "{}",
                    peer.name()
                );
            }
            ws.close(CloseCode::new(4000).unwrap(), "interop done")
                .await
                .unwrap();
            assert_eq!(ws.connection().state(), wslane::State::Closed);
        });
        wslane_interop::expect_peer_saw_close(&mut server, 4000, Some("interop done"));
    }
}

/// permessage-deflate with Python `websockets` (compression on, its default) as the client.
#[test]
fn python_deflate_client_against_echo_server() {
    let (_server, url) =
        wslane_interop::spawn_echo_server("wslane-async-std", "async_std_echo_server");
    wslane_interop::check_deflate_client_against(&url);
}

/// The client page the echo server serves on `/`, driven in Chromium.
#[test]
fn browser_client_page_of_echo_server() {
    let (_server, url) =
        wslane_interop::spawn_echo_server("wslane-async-std", "async_std_echo_server");
    wslane_interop::check_browser_client(&wslane_interop::page_url(&url), "client-async-std");
}
