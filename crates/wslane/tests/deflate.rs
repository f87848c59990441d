//! permessage-deflate (RFC 7692): the section 7.2.3 examples, negotiation, and round trips.
#![cfg(feature = "deflate")]

use std::sync::Arc;

use wslane::deflate::{DeflateConfig, PerMessageDeflate};
use wslane::extension::{ExtensionFactory, ExtensionOffer};
use wslane::{Config, Connection, Event};

fn server_with(offer: &str, config: DeflateConfig) -> (Option<String>, Connection) {
    let factory = PerMessageDeflate::new(config);
    let mut offers = Vec::new();
    wslane::extension::parse_extensions(offer, &mut offers).unwrap();
    let accepted = factory.accept(&offers).unwrap();
    let mut conn = Connection::server(Config::default());
    let response = accepted.map(|(element, codec)| {
        conn = Connection::server(Config::default()).with_extension(codec);
        element.to_string()
    });
    (response, conn)
}

fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
    let key = [1, 2, 3, 4];
    let mut frame = vec![first, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&key);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    frame
}

#[test]
fn rfc_7692_hello_examples() {
    let (response, mut server) = server_with("permessage-deflate", DeflateConfig::default());
    assert_eq!(response.as_deref(), Some("permessage-deflate"));
    // 7.2.3.1: "Hello" compressed, in one frame.
    let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    server.handle_input(&masked(0xc1, &hello));
    assert_eq!(server.poll_event(), Ok(Some(Event::Text("Hello"))));
    // 7.2.3.2: the same, with context takeover: the second "Hello" refers back to the first.
    server.handle_input(&masked(0xc1, &[0xf2, 0x00, 0x11, 0x00, 0x00]));
    assert_eq!(server.poll_event(), Ok(Some(Event::Text("Hello"))));
    // 7.2.3.1 fragmented: the compressed bytes split over two frames, RSV1 on the first only.
    server.handle_input(&masked(0x41, &hello[..3]));
    server.handle_input(&masked(0x80, &hello[3..]));
    assert_eq!(server.poll_event(), Ok(Some(Event::Text("Hello"))));
    // 7.2.3.6: an empty message is a single 0x00.
    server.handle_input(&masked(0xc1, &[0x00]));
    assert_eq!(server.poll_event(), Ok(Some(Event::Text(""))));
}

#[test]
fn sending_hello_matches_the_rfc_bytes() {
    let mut config = DeflateConfig::default();
    config.threshold = 0;
    let (_, mut server) = server_with("permessage-deflate; server_no_context_takeover", config);
    server.send_text("Hello").unwrap();
    assert_eq!(
        server.poll_transmit(),
        &[0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
    );
}

#[test]
fn round_trips_every_window_size_through_negotiation() {
    for bits in 9..=15u8 {
        for no_takeover in [false, true] {
            let mut config = DeflateConfig::default();
            config.server_max_window_bits = bits;
            config.client_max_window_bits = bits;
            config.server_no_context_takeover = no_takeover;
            config.client_no_context_takeover = no_takeover;
            let client_factory = PerMessageDeflate::new(config);
            let server_factory = PerMessageDeflate::new(DeflateConfig::default());
            let (element, server_codec) = server_factory
                .accept(&client_factory.offers())
                .unwrap()
                .expect("accepted");
            let client_codec = client_factory.confirm(&element).unwrap();
            let mut client =
                Connection::client(Config::default(), || [9, 8, 7, 6]).with_extension(client_codec);
            let mut server = Connection::server(Config::default()).with_extension(server_codec);
            let text: String = (0..2000)
                .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
                .collect();
            for _ in 0..3 {
                client.send_text(&text).unwrap();
                let wire = client.poll_transmit().to_vec();
                client.advance_transmit(wire.len());
                assert!(wire.len() < text.len() / 2, "compressed ({bits} bits)");
                server.handle_input(&wire);
                assert_eq!(server.poll_event(), Ok(Some(Event::Text(text.as_str()))));
                server.send_binary(text.as_bytes()).unwrap();
                let wire = server.poll_transmit().to_vec();
                server.advance_transmit(wire.len());
                client.handle_input(&wire);
                assert_eq!(
                    client.poll_event(),
                    Ok(Some(Event::Binary(text.as_bytes())))
                );
            }
        }
    }
}

#[test]
fn a_decompression_bomb_stops_at_the_message_limit() {
    let factory = Arc::new(PerMessageDeflate::default());
    let (element, codec) = factory
        .accept(&[ExtensionOffer::new("permessage-deflate")])
        .unwrap()
        .unwrap();
    assert_eq!(element.to_string(), "permessage-deflate");
    let mut config = Config::default();
    config.max_message_size = 1 << 20;
    let mut server = Connection::server(config).with_extension(codec);
    // 10 MiB of zeros compresses to about 10 KiB; send it as a client would.
    let client_codec = PerMessageDeflate::default()
        .confirm(&ExtensionOffer::new("permessage-deflate"))
        .unwrap();
    let mut client =
        Connection::client(Config::default(), || [1, 2, 3, 4]).with_extension(client_codec);
    client.send_binary(&vec![0u8; 10 << 20]).unwrap();
    let wire = client.poll_transmit().to_vec();
    assert!(wire.len() < 64 << 10);
    server.handle_input(&wire);
    let err = server.poll_event().unwrap_err();
    assert_eq!(err.close_code().get(), 1009);
}
